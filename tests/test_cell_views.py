"""The dashboard for every cell: the probe record's states and gates, the state and gate heatmaps, the network
picture, and the page with a GRU or an LSTM (AppTest).

The independent answer throughout is PyTorch's documented equations written out here one step at a time
(``equations``), never the model's own step functions.
"""

from __future__ import annotations

import numpy as np
import pytest

from carrylab.analysis import probe_trace
from carrylab.charts import gate_heatmap_figure, hidden_heatmap_figure, network_figure
from carrylab.charts.hidden import CELL_STATE_RANGE
from carrylab.session import STATE_KEY
from carrylab.views.registry import VIEWS
from rnn_core.tasks import Task
from rnn_core.train import TrainConfig, Trainer
from tests.plotly_spec import chart_keys, plotly_spec
from tests.test_dashboard import messages, run

GATES = {"elman": (), "gru": ("reset", "update"), "lstm": ("input", "forget", "output")}


def sig(u):
    return 1.0 / (1.0 + np.exp(-u))


def equations(cell: str, p: dict, x: np.ndarray) -> tuple[dict, dict, np.ndarray]:
    """One example x (T, n_in) by PyTorch's equations: (states name -> (T, H), gates name -> (T, H), prob (T,))."""
    H = p["W_out"].shape[0]
    blk = lambda w, k: w[..., k * H : (k + 1) * H]  # noqa: E731
    h, c = np.zeros(H), np.zeros(H)
    states, gates, prob = {"h": [], "c": []}, {name: [] for name in GATES[cell]}, []
    for xt in x:
        if cell == "elman":
            h = np.tanh(xt @ p["W_in"] + h @ p["W_rec"] + p["b_rec"])
        elif cell == "gru":
            gi = [xt @ blk(p["W_in"], k) + blk(p["b_in"], k) for k in range(3)]
            gh = [h @ blk(p["W_rec"], k) + blk(p["b_rec"], k) for k in range(3)]
            r, z = sig(gi[0] + gh[0]), sig(gi[1] + gh[1])
            h = (1 - z) * np.tanh(gi[2] + r * gh[2]) + z * h
            gates["reset"].append(r)
            gates["update"].append(z)
        else:
            a = [xt @ blk(p["W_in"], k) + h @ blk(p["W_rec"], k) + blk(p["b_rec"], k) for k in range(4)]
            i, f, g, o = sig(a[0]), sig(a[1]), np.tanh(a[2]), sig(a[3])
            c = f * c + i * g
            h = o * np.tanh(c)
            gates["input"].append(i)
            gates["forget"].append(f)
            gates["output"].append(o)
        states["h"].append(h)
        states["c"].append(c)
        prob.append(sig(h @ p["W_out"] + p["b_out"])[0])
    names = ("h", "c") if cell == "lstm" else ("h",)
    return {n: np.array(states[n]) for n in names}, {n: np.array(v) for n, v in gates.items()}, np.array(prob)


@pytest.fixture(scope="module", params=["elman", "gru", "lstm"])
def trained(request):
    trainer = Trainer(TrainConfig(cell=request.param, n_hidden=6, eval_every=100, seed=1))
    trainer.train(200)
    return trainer


def test_the_probe_record_holds_every_state_part_and_gate_of_the_equations(trained):
    cell = trained.config.cell
    trace = probe_trace(trained.model, trained.task, 13, 33)
    x = Task("add", 8).encode(np.array([13], dtype=np.uint64), np.array([33], dtype=np.uint64)).x[0]
    states, gates, prob = equations(cell, trained.model.params, x)
    assert set(trace.states) == set(states) and tuple(trace.gates) == GATES[cell]
    for name, value in states.items():
        np.testing.assert_allclose(trace.states[name], value, atol=1e-12)
    for name, value in gates.items():
        np.testing.assert_allclose(trace.gates[name], value, atol=1e-12)
    np.testing.assert_allclose(trace.prob, prob, atol=1e-12)
    assert trace.net_answer == int(sum(int(p >= 0.5) << t for t, p in enumerate(prob)))
    np.testing.assert_array_equal(trace.carry_out, [1, 0, 0, 0, 0, 0, 0, 0])  # 13 + 33: one carry, out of bit 0


def test_the_gate_heatmap_shows_the_models_gates_for_the_probe_in_the_given_unit_order(trained):
    cell = trained.config.cell
    if cell == "elman":
        with pytest.raises(ValueError, match="at least one gate"):
            gate_heatmap_figure({}, tracks=None)
        return
    trace = probe_trace(trained.model, trained.task, 13, 33)
    _, gates, _ = equations(cell, trained.model.params, trace.inputs)
    order = np.array([3, 0, 5, 1, 2, 4])
    fig = gate_heatmap_figure(trace.gates, tracks=trace.tracks, unit_order=order)
    panels = [t for t in fig.data if t.type == "heatmap"][1:]  # the first is the tracks
    assert [fig.layout[f"yaxis{i + 2}"].title.text for i in range(len(panels))] == [f"{g}: unit" for g in GATES[cell]]
    for panel, name in zip(panels, GATES[cell], strict=True):
        np.testing.assert_allclose(panel.z, gates[name].T[order], atol=1e-12)  # row i = unit order[i]
        assert (panel.zmin, panel.zmax) == (0.0, 1.0)
        assert list(panel.y)[0] == "unit 3"
    tracks = [t for t in fig.data if t.type == "heatmap"][0]
    np.testing.assert_array_equal(tracks.z[list(tracks.y).index("carry out")], [1, 0, 0, 0, 0, 0, 0, 0])


def test_the_lstm_state_heatmap_draws_h_and_c_each_on_its_own_fixed_scale():
    rng = np.random.default_rng(0)
    h, c = np.tanh(rng.standard_normal((8, 4))), 3.0 * rng.standard_normal((8, 4))
    fig = hidden_heatmap_figure(h, tracks={"a": np.ones(8)}, cell_state=c)
    parts = [t for t in fig.data if t.type == "heatmap"][1:]
    np.testing.assert_array_equal(parts[0].z, h.T)
    np.testing.assert_array_equal(parts[1].z, c.T)
    assert (parts[0].zmin, parts[0].zmax) == (-1.0, 1.0)
    assert (parts[1].zmin, parts[1].zmax) == (-CELL_STATE_RANGE, CELL_STATE_RANGE)
    assert [fig.layout.yaxis2.title.text, fig.layout.yaxis3.title.text] == ["h: unit", "c: unit"]
    assert parts[1].colorbar.title.text.startswith("c (cell state")
    domain_h, domain_c = fig.layout.yaxis2.domain, fig.layout.yaxis3.domain
    assert domain_c[1] < domain_h[0]  # c below h, not overlapping
    with pytest.raises(ValueError, match="shape of h"):
        hidden_heatmap_figure(h, tracks=None, cell_state=c[:, :3])


@pytest.mark.parametrize("step", [0, 3, 7])
def test_the_network_pictures_node_colours_are_the_states_at_the_chosen_step(trained, step):
    cell = trained.config.cell
    trace = probe_trace(trained.model, trained.task, 13, 33)
    states, gates, prob = equations(cell, trained.model.params, trace.inputs)
    h = states["h"]
    H = h.shape[1]
    p = trained.model.params
    order = np.array([5, 4, 3, 2, 1, 0])
    fig = network_figure(
        trace.inputs, trace.hidden, trace.prob, p["W_in"][:, -H:] if cell == "elman" else p["W_in"][:, :H],
        p["W_rec"][:, :H], p["W_out"][:, 0], input_names=["a", "b"], gates=trace.gates, unit_order=order, step=step,
        max_edges=10,
    )  # fmt: skip
    nodes = [t for t in fig.data if t.mode != "lines"]
    inputs, before, after, *rest = nodes
    np.testing.assert_array_equal(inputs.marker.color, trace.inputs[step])
    np.testing.assert_allclose(after.marker.color, h[step, order], atol=1e-12)
    np.testing.assert_allclose(before.marker.color, h[step - 1, order] if step else np.zeros(H), atol=1e-12)
    np.testing.assert_allclose(rest[-1].marker.color, [prob[step]], atol=1e-12)
    if GATES[cell]:
        expected = np.concatenate([gates[g][step, order] for g in GATES[cell]])
        np.testing.assert_allclose(rest[0].marker.color, expected, atol=1e-12)
    # one animation frame per bit, each holding that bit's states; the slider starts at the chosen step
    assert [f.name for f in fig.frames] == [str(t) for t in range(8)]
    for t, frame in enumerate(fig.frames):
        np.testing.assert_allclose(frame.data[2].marker.color, h[t, order], atol=1e-12)
    assert fig.layout.sliders[0].active == step
    edges = [t for t in fig.data if t.mode == "lines"]
    assert sum(np.count_nonzero(np.isnan(np.asarray(t.x, dtype=float))) for t in edges) == 10  # the 10 strongest


def test_the_network_picture_draws_at_most_max_units_and_says_so():
    T, H = 4, 20
    rng = np.random.default_rng(0)
    fig = network_figure(
        rng.integers(0, 2, (T, 2)).astype(float), np.tanh(rng.standard_normal((T, H))), rng.random(T),
        rng.standard_normal((2, H)), rng.standard_normal((H, H)), rng.standard_normal(H), input_names=["a", "b"],
        unit_order=np.arange(H)[::-1], max_units=16,
    )  # fmt: skip
    after = [t for t in fig.data if t.mode != "lines"][2]
    assert list(after.text) == [str(u) for u in range(19, 3, -1)]  # the first 16 of the order
    assert any("16 of 20 units drawn" in a.text for a in fig.layout.annotations)


# -- the page ---------------------------------------------------------------------------------------------------
def open_page(dashboard_app, **query):
    dashboard_app.query_params.update({"steps_per_click": "200", "n_hidden": "6", **query})
    return run(dashboard_app)


def test_a_link_with_cell_lstm_opens_an_lstm_with_its_h_c_and_gate_heatmaps(dashboard_app):
    at = open_page(dashboard_app, cell="lstm")
    at = run(at.button(key="train").click())
    session = at.session_state[STATE_KEY]
    assert session.trainer.config.cell == "lstm" and at.selectbox(key="cell").value == "lstm"
    x = Task("add", 8).encode(np.array([13], dtype=np.uint64), np.array([33], dtype=np.uint64)).x[0]
    states, gates, _ = equations("lstm", session.trainer.model.params, x)
    hidden = [t for t in plotly_spec(at, "hidden_heatmap")["data"] if t["type"] == "heatmap"]
    assert len(hidden) == 3  # tracks, h, c
    np.testing.assert_allclose(np.asarray(hidden[1]["z"], dtype=float), states["h"].T, atol=1e-12)
    np.testing.assert_allclose(np.asarray(hidden[2]["z"], dtype=float), states["c"].T, atol=1e-12)
    gate = [t for t in plotly_spec(at, "gate_heatmap")["data"] if t["type"] == "heatmap"]
    assert len(gate) == 4  # tracks, input, forget, output
    for trace, name in zip(gate[1:], GATES["lstm"], strict=True):
        assert np.asarray(trace["z"]).shape == (6, 8)
        np.testing.assert_allclose(np.asarray(trace["z"], dtype=float), gates[name].T, atol=1e-12)


def test_an_elman_page_has_no_gate_heatmap_and_one_state_block(dashboard_app):
    at = open_page(dashboard_app)
    assert "gate_heatmap" not in chart_keys(at)
    assert len([t for t in plotly_spec(at, "hidden_heatmap")["data"] if t["type"] == "heatmap"]) == 2


def test_a_bad_cell_in_the_url_falls_back_to_elman_with_a_note(dashboard_app):
    at = open_page(dashboard_app, cell="transformer")
    assert at.session_state[STATE_KEY].trainer.config.cell == "elman"
    assert any("'cell'" in m and "transformer" in m and "elman" in m for m in messages(at, "warning"))


def test_a_gated_cell_with_the_trask_variant_in_the_url_gets_the_plain_variant_with_a_note(dashboard_app):
    at = open_page(dashboard_app, cell="gru", variant="trask")
    config = at.session_state[STATE_KEY].trainer.config
    assert (config.cell, config.variant) == ("gru", "elman")
    assert any("trask variant is an Elman cell's" in m for m in messages(at, "warning"))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_switching_the_cell_resets_says_so_trains_and_renders_every_tab(dashboard_app, cell):
    at = open_page(dashboard_app, variant="trask")
    at = run(at.button(key="train").click())
    at = run(at.selectbox(key="cell").set_value(cell))
    session = at.session_state[STATE_KEY]
    assert session.trainer.config.cell == cell and session.trainer.step == 0
    assert session.settings["variant"] == "elman" and at.selectbox(key="variant").value == "elman"
    assert any("Settings changed (cell" in m and "model reset to step 0" in m for m in messages(at, "info"))
    at = run(at.button(key="train").click())
    assert session.trainer.step == 200
    for label, _ in VIEWS:
        at.session_state["view"] = label
        at = run(at)
        assert chart_keys(at) or label in ("Seeds", "Sweep", "Runs", "Race"), label  # charts come after a click
        assert not at.exception, label
    at.session_state["view"] = "Gradients & weights"
    keys = chart_keys(run(at))
    assert {f"weights_chart_{b}" for b in session.trainer.model.blocks} <= keys and "spectral_chart" not in keys
    assert any("no single recurrent matrix" in m.value for m in at.markdown)
