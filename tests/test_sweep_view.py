"""The Sweep view in the dashboard under AppTest: launch a small sweep on the server's Dask workers, read the
phase diagram back, load a grid point into the current run; the page's bound on what it runs."""

from __future__ import annotations

import numpy as np
import pytest

from carrylab.session import STATE_KEY
from rnn_core.train import TrainConfig, Trainer
from tests.plotly_spec import plotly_spec

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def solved_share(n_hidden: int, eta: float, seeds: int, budget: int) -> float:
    """The share of seeds that solve, from plain Trainer runs (the reference the sweep engine must agree with)."""
    solved = 0
    for seed in range(seeds):
        trainer = Trainer(TrainConfig(n_hidden=n_hidden, eta=eta, seed=seed))
        trainer.train(budget, until_solved=True)
        solved += trainer.solved_at_step is not None
    return solved / seeds


def _setup(at, x_values: str, y_values: str, seeds: int, budget: int):
    at.session_state["view"] = "Sweep"  # the open tab (only its views run)
    at.run()
    at.selectbox(key="sweep_x_field").set_value("n_hidden")
    at.text_input(key="sweep_x_values").set_value(x_values)
    at.selectbox(key="sweep_y_field").set_value("eta")
    at.text_input(key="sweep_y_values").set_value(y_values)
    at.slider(key="sweep_seeds").set_value(seeds)
    at.select_slider(key="sweep_budget").set_value(budget)
    return at.run()


def test_a_small_sweep_draws_one_cell_per_grid_point_with_the_share_that_solved(dashboard_app):
    at = _setup(dashboard_app, "3,16", "0.1,1", 3, 1000)
    assert not at.exception
    at.button(key="sweep_run").click().run(timeout=180)
    assert not at.exception
    state = at.session_state["sweep_view"]
    assert state["complete"] and len(state["rows"]) == 2 * 2 * 3
    spec = plotly_spec(at, "sweep_share_chart")
    heat = spec["data"][0]
    assert list(heat["x"]) == ["3", "16"] and list(heat["y"]) == ["0.1", "1"]
    z = np.array(heat["z"], dtype=float)
    assert z.shape == (2, 2)  # one cell per grid point
    expected = np.array([[solved_share(h, eta, 3, 1000) for h in (3, 16)] for eta in (0.1, 1.0)])
    np.testing.assert_array_equal(z, expected)
    assert expected[0, 1] == 1.0  # the post's size and rate solves with every seed: the check can tell cells apart
    median = plotly_spec(at, "sweep_median_chart")["data"][0]
    assert np.array(median["z"], dtype=float).shape == (2, 2) and median["zmax"] == 1000


def test_loading_a_grid_point_sets_the_current_runs_settings(dashboard_app):
    at = _setup(dashboard_app, "4,16", "0.1,0.3", 1, 500)
    at.button(key="sweep_run").click().run(timeout=180)
    assert not at.exception
    at.selectbox(key="sweep_point").set_value("n_hidden = 16, eta = 0.3").run()
    at.button(key="sweep_load").click().run()
    assert not at.exception
    session = at.session_state[STATE_KEY]
    config = session.trainer.config
    assert (config.n_hidden, config.eta, config.seed) == (16, 0.3, 0)
    assert session.trainer.step == 0  # a new model for the new size
    assert session.settings["n_hidden"] == 16 and session.settings["eta"] == 0.3


def test_a_sweep_over_the_page_bound_is_refused_with_the_bound_named(dashboard_app):
    at = _setup(dashboard_app, "1,2,3,4,5,6,7,8", "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8", 16, 500)
    assert any("over this page's limit of 256" in e.value for e in at.error)
    assert at.button(key="sweep_run").disabled
    assert any("at most 256 runs" in c.value for c in at.caption)


def test_bad_values_are_named_and_nothing_runs(dashboard_app):
    at = _setup(dashboard_app, "4,x", "0.1", 1, 500)
    assert any("expected a whole number, got 'x'" in e.value for e in at.error)
    assert at.button(key="sweep_run").disabled
    assert "sweep_view" not in at.session_state


def test_a_results_file_made_by_the_command_line_opens_as_its_phase_diagram(dashboard_app, tmp_path):
    from carrylab.views.sweep import results_state
    from rnn_core.results import ResultsFile, SweepSpec, make_row

    spec = SweepSpec.of(TrainConfig(), ["n_hidden", "eta"], 800)
    store = ResultsFile(tmp_path / "s.parquet", spec)
    solved = {(8, 0.3): [100, None, 300, 400], (8, 1.0): [None] * 4, (32, 0.3): [50, 60, 70, 80], (32, 1.0): [90] * 4}
    for (h, eta), steps in solved.items():
        result = {"accuracy": 1.0, "error": 0.0, "steps": 800, "diverged": False, "seconds": 0.1}
        store.add([make_row(spec, {"n_hidden": h, "eta": eta}, {**result, "seed": i, "solved_at_step": s})
                   for i, s in enumerate(steps)])  # fmt: skip
    store.close()
    state = results_state((tmp_path / "s.parquet").read_bytes(), "s.parquet")
    assert state["grid"] == {"n_hidden": (8, 32), "eta": (0.3, 1.0)} and len(state["rows"]) == 16
    dashboard_app.session_state["view"] = "Sweep"
    dashboard_app.session_state["sweep_view"] = state
    at = dashboard_app.run()
    assert not at.exception
    heat = plotly_spec(at, "sweep_share_chart")["data"][0]
    np.testing.assert_array_equal(np.array(heat["z"], dtype=float), [[0.75, 1.0], [0.0, 1.0]])  # rows: eta
    median = plotly_spec(at, "sweep_median_chart")["data"][0]
    np.testing.assert_array_equal(np.array(median["z"], dtype=float)[0], [350.0, 65.0])  # (300+400)/2, (60+70)/2
    assert any("16 runs" in m.value and "parquet" in m.value for m in at.markdown)  # the name is escaped


def test_a_file_that_is_not_a_results_file_is_refused_with_the_reason():
    from carrylab.views.sweep import results_state
    from rnn_core.results import ResultsError

    with pytest.raises(ResultsError, match="not a readable Parquet file"):
        results_state(b"hello", "notes.parquet")
