"""The carry views, run in Streamlit's AppTest on a small page that renders every one of them.

Each page trains a small net for a few steps, calls ``analyse`` and every ``render``; the tests read the drawn
Plotly figures back (chart keys, data) and compare them with the analysis the page stored in session state.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from carrylab.analysis import probe_trace, snapshot_model
from tests.plotly_spec import chart_keys, live_charts, plotly_specs

FAST = {"optimizer": "adam", "eta": 0.01, "batch_size": 16, "n_hidden": 16, "eval_every": 20}

PAGE = """
import streamlit as st

from carrylab.analysis import analyse
from carrylab.views import carry, dynamics, errors, filmstrip, length, machine, pairs, seeds
from rnn_core.handbuilt import carry_adder_params
from rnn_core.train import TrainConfig, Trainer

if "trainer" not in st.session_state:
    trainer = Trainer(TrainConfig(**{config!r}))
    trainer.train({steps})
    if {handbuilt!r}:  # the textbook adder's weights in place of the trained ones
        for name, value in carry_adder_params(trainer.model.n_hidden).items():
            trainer.model.params[name][...] = value
    st.session_state.trainer = trainer
trainer = st.session_state.trainer
an = analyse(trainer)
st.session_state.analysis = an
probe = {probe!r}
carry.render(trainer, an, probe=probe)
errors.render(trainer, an)
pairs.render(trainer, an)
length.render(trainer)
dynamics.render(trainer, an)
machine.render(trainer, an)
filmstrip.render(trainer, probe=probe)
seeds.render(trainer)
"""

CARRY_CHARTS = {
    "carry_corr_chart",
    "probe_acc_chart",
    "carry_hidden_chart",
    "bit_error_chart",
    "chain_acc_chart",
    "pair_grid_chart",
    "length_chart",
    "grad_flow_chart",
    "weights_chart",
    "spectral_chart",
    "state_space_chart",
    "automaton_chart",
    "reference_automaton_chart",
    "filmstrip_chart",
}


# -- reading Plotly figures out of AppTest (numpy arrays arrive as base64 "typed arrays") ----------------------
def _decode(obj):
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]).newbyteorder("<"))
            if obj.get("shape"):
                arr = arr.reshape([int(s) for s in str(obj["shape"]).split(",")])
            return arr
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def charts(at: AppTest) -> dict[str, dict]:
    return {key: _decode(spec) for key, spec in plotly_specs(at).items()}


def page(tmp_path: Path, *, steps: int = 100, probe=(127, 1), handbuilt: bool = False, **config) -> AppTest:
    path = tmp_path / "carry_page.py"
    path.write_text(PAGE.format(config={"seed": 0, **FAST, **config}, steps=steps, probe=probe, handbuilt=handbuilt))
    at = AppTest.from_file(str(path), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def add_page(tmp_path_factory) -> AppTest:
    return page(tmp_path_factory.mktemp("add"))


# -- 8-bit addition, partly trained ----------------------------------------------------------------------------
def test_every_carry_chart_is_drawn_once_under_its_key(add_page):
    keys = [el.key for el in add_page.get("plotly_chart")] + [el.key for el in live_charts(add_page)]
    assert set(keys) == CARRY_CHARTS
    assert len(keys) == len(set(keys))
    assert len(add_page.expander) == 8  # one "What am I looking at?" per section
    assert all(e.label == "What am I looking at?" for e in add_page.expander)


def test_carry_view_draws_the_correlation_and_the_probe_example(add_page):
    an = add_page.session_state["analysis"]
    trainer = add_page.session_state["trainer"]
    specs = charts(add_page)
    np.testing.assert_allclose(specs["carry_corr_chart"]["data"][0]["y"], an.carry_corr)
    hidden = specs["carry_hidden_chart"]["data"][1]
    units = [int(label.split("unit ")[1]) for label in hidden["y"]]
    assert sorted(units) == list(range(trainer.model.n_hidden))  # every unit once
    strength = np.abs(an.carry_corr[units])
    assert np.all(np.diff(strength) <= 1e-12)  # strongest carry correlation on top
    batch = trainer.task.encode(127, 1)
    h = trainer.model.forward(batch.x)[1]["h"]  # the model's own states, straight from the engine
    np.testing.assert_allclose(np.asarray(hidden["z"]), h[0, 1:].T[units])
    assert hidden["y"][0].startswith("★ unit")  # the best carry unit is on top and starred
    steps, probe = trainer.evals.array("step"), trainer.evals.array("probe_accuracy")
    np.testing.assert_allclose(specs["probe_acc_chart"]["data"][0]["y"], 100 * probe)
    np.testing.assert_array_equal(specs["probe_acc_chart"]["data"][0]["x"], steps)
    assert any(f"unit {int(an.best_units[0])}" in m.value for m in add_page.metric)


def test_errors_view_draws_bit_errors_chains_and_the_hardest_examples(add_page):
    an = add_page.session_state["analysis"]
    trainer = add_page.session_state["trainer"]
    specs = charts(add_page)
    bit_error = 1.0 - trainer.evals.array("bit_accuracy")
    np.testing.assert_allclose(np.asarray(specs["bit_error_chart"]["data"][0]["z"]), bit_error.T)
    np.testing.assert_allclose(specs["chain_acc_chart"]["data"][0]["y"], 100 * an.chain_accuracy)
    table = add_page.dataframe[0].value
    assert list(table["wrong bits"]) == list(an.hardest.wrong_bits)
    assert list(table["true answer"]) == [int(v) for v in an.hardest.answer]


def test_pair_grid_shows_the_wrong_bits_of_every_pair(add_page):
    an = add_page.session_state["analysis"]
    z = np.asarray(charts(add_page)["pair_grid_chart"]["data"][0]["z"])
    np.testing.assert_array_equal(z, an.pair_grid.wrong_bits)
    assert z.shape == (128, 128) and z.any()


def test_length_view_computes_the_curve_once_and_caches_it(add_page):
    trainer = add_page.session_state["trainer"]
    cached = add_page.session_state["length_cache"]["curve"]
    assert cached.step == trainer.step
    data = charts(add_page)["length_chart"]["data"]
    np.testing.assert_allclose(data[0]["y"], 100 * cached.random)  # the chart shows the cached curve
    assert any(cached.summary() in m.value for m in add_page.markdown)


@pytest.fixture(scope="module")
def adder_page(tmp_path_factory) -> AppTest:
    """The carry views of the hand-built textbook adder (rnn_core/handbuilt.py): exact at every width, unit 1 holds
    the carry (+1 carry, -1 none), units 3.. are 0. Known answers, not the views' own computations."""
    return page(tmp_path_factory.mktemp("adder"), steps=20, handbuilt=True, n_hidden=6)


def test_the_carry_view_puts_the_handbuilt_adders_carry_unit_on_top(adder_page):
    hidden = charts(adder_page)["carry_hidden_chart"]["data"][1]
    assert hidden["y"][0] == "★ unit 1"
    # 127 + 1: a carry out of bits 0-6, none out of bit 7; unit 1 is saturated at +-1 (|h| >= tanh(5))
    np.testing.assert_allclose(np.asarray(hidden["z"])[0], [1, 1, 1, 1, 1, 1, 1, -1], atol=1e-3)
    zero_rows = [i for i, label in enumerate(hidden["y"]) if int(label.split("unit ")[1]) >= 3]
    assert len(zero_rows) == 3 and not np.asarray(hidden["z"])[zero_rows].any()  # units 3-5 have no weights
    corr = charts(adder_page)["carry_corr_chart"]["data"][0]["y"]
    assert corr[1] > 0.999  # unit 1 is the carry


def test_the_length_view_shows_the_handbuilt_adder_exact_at_every_width(adder_page):
    data = charts(adder_page)["length_chart"]["data"]
    assert list(data[0]["x"])[0] == 1 and list(data[0]["x"])[-1] == 64
    assert [trace["name"] for trace in data] == ["random pairs", "carry-chain cases"]
    assert all(y == 100 for trace in data for y in trace["y"])


def test_dynamics_view_draws_gradients_weights_and_spectral_radius(add_page):
    trainer = add_page.session_state["trainer"]
    specs = charts(add_page)
    rec = next(t for t in specs["weights_chart"]["data"] if t.get("name") == "W_rec")
    np.testing.assert_allclose(np.asarray(rec["z"]), trainer.model.params["W_rec"])
    np.testing.assert_allclose(specs["spectral_chart"]["data"][0]["y"], trainer.evals.array("spectral_radius"))
    flow = specs["grad_flow_chart"]["data"][0]
    grads = trainer.evals.array("grad_norms")  # (evaluations, bits)
    assert np.asarray(flow["customdata"]).shape == (8, trainer.evals.n)
    np.testing.assert_allclose(np.asarray(flow["customdata"], dtype=float), grads.T)  # hover: the raw norms
    np.testing.assert_allclose(np.asarray(flow["z"], dtype=float), np.log10(grads.T))  # colour: their log
    assert np.array_equal(np.asarray(flow["x"]), trainer.evals.array("step"))


def test_machine_view_draws_the_states_and_both_machines_with_a_verdict(add_page):
    an = add_page.session_state["analysis"]
    specs = charts(add_page)
    points = sum(len(t["x"]) for t in specs["state_space_chart"]["data"])
    assert points == min(4000, len(an.pca_points))
    assert specs["reference_automaton_chart"]["layout"]["title"]["text"] == "True: the 2-state adder"
    verdict = [e.value for e in (*add_page.success, *add_page.warning)]
    assert an.automaton_verdict in verdict


def test_filmstrip_replays_the_probe_example_at_a_chosen_snapshot(add_page):
    trainer = add_page.session_state["trainer"]
    slider = add_page.select_slider(key="filmstrip_step")
    assert slider.value == trainer.snapshots.steps[-1]  # follows the newest snapshot by default
    first = trainer.snapshots.steps[0]
    slider.set_value(first).run()
    assert not add_page.exception
    _, theta = trainer.snapshots.nearest(first)
    trace = probe_trace(snapshot_model(trainer.config, theta), trainer.task, 127, 1)
    hidden = charts(add_page)["filmstrip_chart"]["data"][1]
    np.testing.assert_allclose(np.asarray(hidden["z"]), trace.hidden.T)
    assert any(f"Step {first}:" in m.value for m in add_page.markdown)


def test_seed_view_draws_stored_results_and_flags_other_settings(add_page):
    trainer = add_page.session_state["trainer"]
    config = {k: v for k, v in trainer.config.to_dict().items() if k != "seed"}
    results = [
        {"seed": 0, "solved_at_step": 120, "accuracy": 1.0, "steps": 120, "diverged": False, "seconds": 0.1},
        {"seed": 1, "solved_at_step": None, "accuracy": 0.5, "steps": 500, "diverged": False, "seconds": 0.2},
    ]
    add_page.session_state["seed_sweep"] = {"config": config, "seeds": [0, 1], "budget": 500, "results": results}
    add_page.run()
    spec = charts(add_page)["seed_sweep_chart"]
    assert list(spec["data"][0]["y"]) == [120]  # solved seeds
    assert list(spec["data"][1]["x"]) == ["seed 1"]  # unsolved seeds
    assert any("1 of 2" in m.value for m in add_page.markdown)
    assert not any("different settings" in w.value for w in add_page.warning)
    add_page.session_state["seed_sweep"] = {**add_page.session_state["seed_sweep"], "config": {**config, "eta": 9.0}}
    add_page.run()
    assert any("different settings" in w.value for w in add_page.warning)


# -- other tasks and inputs --------------------------------------------------------------------------------------
def test_unusable_probe_falls_back_to_the_long_chain_example_with_a_warning(tmp_path):
    at = page(tmp_path, steps=20, probe=(999, 1))
    assert any("Probe example not usable" in w.value for w in at.warning)
    assert any("127 + 1 = 128" in m.value for m in at.markdown)


def test_carry_free_task_explains_instead_of_drawing_carry_charts(tmp_path):
    at = page(tmp_path, steps=20, op="xor", probe=(5, 9))
    keys = chart_keys(at)
    assert {"carry_corr_chart", "automaton_chart", "reference_automaton_chart"}.isdisjoint(keys)
    assert {"carry_hidden_chart", "pair_grid_chart", "state_space_chart", "filmstrip_chart"} <= keys
    infos = " ".join(i.value for i in at.info)
    assert "has no carry" in infos and "needs no memory" in infos


def test_mixed_task_explains_why_there_is_no_pair_grid(tmp_path):
    at = page(tmp_path, steps=20, op="mixed", probe=(3, 5, "sub"))
    keys = chart_keys(at)
    assert "pair_grid_chart" not in keys and "carry_corr_chart" in keys
    assert any("five operators" in i.value for i in at.info)


@pytest.mark.slow
def test_seed_sweep_button_trains_the_seeds_in_worker_processes(tmp_path):
    at = page(tmp_path, steps=20)
    at.slider(key="seed_sweep_k").set_value(2)
    at.select_slider(key="seed_sweep_budget").set_value(2000)
    at.button(key="seed_sweep_run").click().run()
    assert not at.exception
    stored = at.session_state["seed_sweep"]
    assert stored["seeds"] == [0, 1] and stored["budget"] == 2000
    assert all(r["solved_at_step"] is not None for r in stored["results"])
    assert "seed_sweep_chart" in chart_keys(at)


def test_evaluate_widths_says_the_curve_is_up_to_date_when_nothing_changed(tmp_path):
    """Issue 13.18: the button did nothing visible when the curve was already computed for these weights."""
    at = page(tmp_path, steps=20)
    curve = at.session_state["length_cache"]["curve"]
    assert not at.success
    at.button(key="length_eval").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        f"Already up to date: the curve below is for the current weights (step {curve.step:,}). "
        "Train further and press the button again to see them change."
    ]
    assert at.session_state["length_cache"]["curve"] is curve  # not recomputed
