"""Runs compared: pinned runs, overlays, the runs table and CSV, the runs file, and the race.

Expected values come from elsewhere than the code under test: each run's own trainer logs, a trainer trained on its
own (the race's lanes must match it step for step), hand-written names and interpolations, bytes corrupted by hand.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from carrylab import comparison
from carrylab.charts.training import smooth_ema
from carrylab.pinned import MAX_NAME, MAX_PINNED, PinError, PinnedRuns
from carrylab.race import Race
from carrylab.run import Run, labels
from carrylab.session import STATE_KEY, Session
from rnn_core.checkpoint import RUNS_FORMAT_TAG, load_runs_checkpoint, runs_checkpoint_bytes
from rnn_core.train import TrainConfig, Trainer
from tests.plotly_spec import plotly_spec

SMALL = {"n_bits": 4, "n_hidden": 4, "eval_every": 20}


def trained(steps: int = 40, **config) -> Trainer:
    trainer = Trainer(TrainConfig(**{**SMALL, **config}))
    trainer.train(steps)
    return trainer


def session_of(at) -> Session:
    return at.session_state[STATE_KEY]


def run(target):
    at = target.run()
    assert not at.exception, at.exception
    return at


# -- the run object and the pinned runs ----------------------------------------------------------------------------
def test_runs_are_named_by_what_differs():
    runs = [
        Run(Trainer(TrainConfig(**{**SMALL, "cell": cell, "n_hidden": h}))) for cell, h in [("lstm", 8), ("gru", 8)]
    ]
    assert labels(runs) == ["LSTM", "GRU"]
    runs.append(Run(Trainer(TrainConfig(**{**SMALL, "cell": "lstm", "n_hidden": 2}))))
    assert labels(runs) == ["LSTM, hidden 8", "GRU, hidden 8", "LSTM, hidden 2"]
    runs[1].name = "mine"
    assert labels(runs)[1] == "mine"
    same = [Run(Trainer(TrainConfig(**SMALL))) for _ in range(2)]
    assert labels(same) == ["Elman, hidden 4", "Elman, hidden 4 (2)"]


def test_wall_clock_marks_interpolate_between_trained_chunks(monkeypatch):
    clock = iter([0.0, 2.0, 10.0, 14.0])  # perf_counter before/after each of two calls: 2 s, then 4 s
    monkeypatch.setattr("carrylab.run.time.perf_counter", lambda: next(clock))
    r = Run(Trainer(TrainConfig(**SMALL)))
    r.train(10)
    r.train(30)
    assert r.seconds == pytest.approx(6.0)
    # marks (0, 0), (10, 2), (40, 6): step 5 is 1 s, step 25 is 2 + 15/30 * 4 = 4 s
    assert r.seconds_at(np.array([0, 5, 10, 25, 40])).tolist() == pytest.approx([0.0, 1.0, 2.0, 4.0, 6.0])


def test_a_ninth_pin_is_refused_and_nothing_pinned_is_lost():
    pinned = PinnedRuns()
    runs = [Run(Trainer(TrainConfig(**SMALL, seed=i))) for i in range(MAX_PINNED + 1)]
    ids = [pinned.pin(r) for r in runs[:MAX_PINNED]]
    with pytest.raises(PinError, match="At most 8"):
        pinned.pin(runs[-1])
    assert [r for _, r in pinned.items()] == runs[:MAX_PINNED] and len(set(ids)) == MAX_PINNED
    with pytest.raises(PinError, match="already"):
        pinned.pin(runs[0])


@pytest.mark.parametrize(
    "name, message", [("", "empty"), ("   ", "empty"), ("x" * (MAX_NAME + 1), "at most"), ("a\x00b", "control")]
)
def test_bad_names_are_refused_and_the_old_name_stays(name, message):
    pinned = PinnedRuns()
    run_id = pinned.pin(Run(Trainer(TrainConfig(**SMALL))))
    pinned.rename(run_id, "first")  # accepted
    with pytest.raises(PinError, match=message):
        pinned.rename(run_id, name)
    assert pinned.get(run_id).name == "first"


def test_removing_the_current_pinned_run_only_unpins_it():
    session = Session({"n_hidden": 4, "n_bits": 4})
    assert session.act(lambda: session.pinned.keep(session.current))
    current = session.current
    ((run_id, _),) = session.pinned.items()
    assert session.act(lambda: session.pinned.remove(run_id, session.current))
    assert session.current is current and len(session.pinned) == 0
    assert "current run" in session.notices[-1].text
    assert not session.act(lambda: session.pinned.remove(run_id, session.current))
    assert "no pinned run" in session.notices[-1].text


# -- the runs file -------------------------------------------------------------------------------------------------
def test_a_runs_file_loads_back_every_run_exactly():
    a, b = trained(60), trained(30, cell="gru", n_hidden=3)
    loaded, errors = load_runs_checkpoint(runs_checkpoint_bytes([("a", 1.5, a), ("GRU <b>", 2.0, b)]))
    assert errors == []
    assert [(r.name, r.seconds) for r in loaded] == [("a", 1.5), ("GRU <b>", 2.0)]
    for original, item in zip((a, b), loaded, strict=True):
        again = item.checkpoint.to_trainer()
        assert again.step == original.step and again.config == original.config
        for key, value in original.model.params.items():
            np.testing.assert_array_equal(again.model.params[key], value)
        np.testing.assert_array_equal(again.steps_log.arrays()[1], original.steps_log.arrays()[1])


def test_a_corrupt_run_is_named_and_the_good_ones_load():
    good = trained(20)
    data = io.BytesIO(runs_checkpoint_bytes([("good", 0.0, good)]))
    inner = np.load(data, allow_pickle=False)["run_0"]
    broken = inner.copy()
    broken[len(broken) // 2 :] = 0  # the second half of its zip zeroed
    out = io.BytesIO()
    np.savez(
        out,
        runs_format=np.array(RUNS_FORMAT_TAG),
        run_names=np.array(["good", "bad one"]),
        run_seconds=np.array([1.0, 2.0]),
        run_0=inner,
        run_1=broken,
    )
    session = Session({"n_hidden": 4, "n_bits": 4})
    before = session.trainer
    assert session.load_checkpoint_bytes(out.getvalue(), "two.npz")
    assert [r.name for r in session.pinned.runs()] == ["good"]
    assert session.trainer is before  # the current run stays
    assert any("run 2 'bad one'" in n.text for n in session.notices)


def test_the_session_round_trips_its_runs_through_one_file():
    first = Session({"n_hidden": 4, "n_bits": 4})
    first.train(40)
    first.act(lambda: first.pinned.keep(first.current))
    first.update_settings({"n_hidden": 6})
    first.train(20)
    data = first.runs_checkpoint_bytes()
    second = Session()
    assert second.load_checkpoint_bytes(data, "runs.npz")
    got = second.pinned.runs()
    assert [r.trainer.step for r in got] == [40, 20]
    assert [r.name for r in got] == ["hidden 4", "hidden 6"]
    np.testing.assert_array_equal(got[0].trainer.model.theta, first.pinned.runs()[0].trainer.model.theta)


# -- the race ------------------------------------------------------------------------------------------------------
def test_race_lanes_move_in_lock_step_exactly_as_lone_trainers():
    configs = [TrainConfig(**{**SMALL, "cell": cell}) for cell in ("elman", "gru", "lstm")]
    race = Race.start(configs)
    for _ in range(3):
        race.frame(25, should_stop=lambda: False, seconds=60.0)
    assert [lane.run.trainer.step for lane in race.lanes] == [75, 75, 75]
    for lane, config in zip(race.lanes, configs, strict=True):
        alone = Trainer(config)
        alone.train(75)
        np.testing.assert_array_equal(lane.run.trainer.model.theta, alone.model.theta)


def test_race_ends_with_the_lane_that_solved_first():
    fast = TrainConfig(n_bits=8, n_hidden=32)  # the seed post: solved at step 600
    slow = TrainConfig(n_bits=8, n_hidden=2)  # not solved in 20,000 steps
    alone = Trainer(fast)
    alone.train(5000, until_solved=True)
    race = Race.start([slow, fast])
    while race.lanes[1].status == "racing":
        race.frame(200, should_stop=lambda: False, seconds=60.0)
    assert race.lanes[1].status == "solved" and race.lanes[0].status == "racing"
    assert race.lanes[1].run.trainer.solved_at_step == alone.solved_at_step
    assert race.result().startswith(f"hidden 32 solved first: at step {alone.solved_at_step:,}")


def test_a_diverging_lane_stops_and_the_others_go_on():
    race = Race.start([TrainConfig(**SMALL), TrainConfig(**SMALL, seed=1)])
    race.frame(40, should_stop=lambda: False, seconds=60.0)
    poisoned = race.lanes[1].run.trainer
    poisoned.model.params["W_out"][...] = np.inf  # the next forward pass is not finite
    for _ in range(4):
        race.frame(40, should_stop=lambda: False, seconds=60.0)
    assert [lane.status for lane in race.lanes] == ["racing", "diverged"]
    assert race.lanes[0].run.trainer.step == 200 and poisoned.step == 40  # rolled back to before the bad step
    assert "diverged at step 41" in race.lanes[1].message


def test_a_race_over_the_size_budget_is_refused_with_a_message():
    big = {"n_bits": 8, "n_hidden": 128, "cell": "lstm"}  # one alone fits the budget exactly
    Race.start([TrainConfig(**big)])
    with pytest.raises(ValueError, match="together are over one run's size budget"):
        Race.start([TrainConfig(**big)] * 2)
    session = Session()
    assert not session.start_race([{"cell": "lstm", "n_hidden": 128}] * 3)
    assert session.race is None and "Race not started" in session.notices[-1].text


# -- the page ------------------------------------------------------------------------------------------------------
@pytest.fixture
def at(dashboard_app):
    dashboard_app.query_params.update({"steps_per_click": "300", "n_bits": "6", "n_hidden": "8"})
    return run(dashboard_app)


def _pin_and_train_another(at):
    at = run(at.button(key="train").click())
    at = run(at.button(key="pin_run").click())
    at = run(at.number_input(key="n_hidden").set_value(4))
    return run(at.button(key="train").click())


def _overlay_values(spec: dict, name: str) -> np.ndarray:
    return np.asarray(next(t for t in spec["data"] if t.get("name") == name)["y"], dtype=float)


def test_a_pinned_run_and_the_next_share_the_error_chart_and_the_table(at):
    at = _pin_and_train_another(at)
    session = session_of(at)
    (pinned,) = session.pinned.runs()
    spec = plotly_spec(at, "error_chart")
    names = [t.get("name") for t in spec["data"]]
    assert "hidden 8" in names and "hidden 4" in names  # the pinned run, and the current run by name
    _, pinned_error = pinned.trainer.steps_log.arrays()
    np.testing.assert_allclose(_overlay_values(spec, "hidden 8"), smooth_ema(pinned_error, 0.6))
    _, current_error = session.trainer.steps_log.arrays()
    np.testing.assert_allclose(_overlay_values(spec, "hidden 4"), smooth_ema(current_error, 0.6))
    at.session_state["view"] = "Runs"
    at = run(at)
    (frame,) = at.dataframe  # st.dataframe's key is not kept by AppTest; the browser test finds .st-key-runs_table
    table = frame.value
    assert table["run"].tolist() == ["hidden 8", "hidden 4"]
    assert table["steps"].tolist() == [pinned.trainer.step, session.trainer.step] == [300, 300]
    assert table["n_hidden"].tolist() == [8, 4]


def test_the_csv_holds_every_runs_history_as_one_long_table(at):
    at = _pin_and_train_another(at)
    session = session_of(at)
    import pandas as pd

    table = pd.read_csv(io.BytesIO(comparison.histories_csv(session)))
    for name, r in zip(("hidden 8", "hidden 4"), (session.pinned.runs()[0], session.current), strict=True):
        rows = table[table["run"] == name]
        steps, error = r.trainer.steps_log.arrays()
        np.testing.assert_allclose(rows["error"].dropna().to_numpy(), error)
        np.testing.assert_array_equal(rows.loc[rows["accuracy"].notna(), "step"], r.trainer.evals.array("step"))


def test_removing_a_run_removes_its_traces(at):
    at = _pin_and_train_another(at)
    at.session_state["view"] = "Runs"
    at = run(at)
    at = run(at.button(key="run_remove_1").click())
    at.session_state["view"] = "Training"
    at = run(at)
    names = [t.get("name") for t in plotly_spec(at, "error_chart")["data"]]
    assert not any(n and "hidden 8" in n for n in names)
    assert len(session_of(at).pinned) == 0


def test_a_name_with_markup_is_shown_as_typed(at):
    at = _pin_and_train_another(at)
    at.session_state["view"] = "Runs"
    at = run(at)
    at = run(at.text_input(key="run_name_1").input("<b>x</b> [y](http://e) *z*"))
    assert session_of(at).pinned.get(1).name == "<b>x</b> [y](http://e) *z*"
    success = [s.value for s in at.success]
    assert any("\\<b\\>x\\</b\\>" in s and "\\[y\\]" in s for s in success), success  # escaped markdown
    at.session_state["view"] = "Training"
    at = run(at)
    names = [t.get("name") for t in plotly_spec(at, "error_chart")["data"]]
    assert "&lt;b&gt;x&lt;/b&gt; [y](http://e) *z*" in names  # Plotly shows entities as the characters


def test_an_empty_name_is_refused_and_the_box_shows_the_old_one(at):
    at = _pin_and_train_another(at)
    at.session_state["view"] = "Runs"
    at = run(at)
    at = run(at.text_input(key="run_name_1").input("kept"))
    at = run(at.text_input(key="run_name_1").input("   "))
    assert session_of(at).pinned.get(1).name == "kept"
    assert at.text_input(key="run_name_1").value == "kept"
    assert any("cannot be empty" in e.value for e in at.error)


def test_two_sessions_keep_their_own_pinned_runs(dashboard_app):
    from streamlit.testing.v1 import AppTest

    first = run(dashboard_app)
    second = run(AppTest.from_file(dashboard_app._script_path, default_timeout=30))
    run(first.button(key="pin_run").click())
    assert len(session_of(first).pinned) == 1 and len(session_of(second).pinned) == 0


def test_pinned_runs_survive_a_preset_change_and_a_ninth_is_refused(at):
    at = run(at.button(key="pin_run").click())
    session = session_of(at)
    for seed in range(1, MAX_PINNED):
        at = run(at.number_input(key="seed").set_value(seed))
        at = run(at.button(key="pin_run").click())
    assert len(session.pinned) == MAX_PINNED
    at = run(at.number_input(key="seed").set_value(99))
    at = run(at.button(key="pin_run").click())
    assert len(session.pinned) == MAX_PINNED and any("At most 8" in e.value for e in at.error)
    at = run(at.selectbox(key="preset").set_value("tiny"))
    assert len(session_of(at).pinned) == MAX_PINNED


def _race_started(dashboard_app):
    """The page with a race of the three default lanes (Elman, GRU, LSTM; 4 bits, 4 units) just started."""
    dashboard_app.query_params.update({"n_bits": "4", "n_hidden": "4"})
    at = run(dashboard_app)
    at.session_state["view"] = "Race"
    at = run(at)
    return run(at.button(key="race_start").click())


def test_a_race_plays_in_lock_step_on_the_page(dashboard_app):
    at = _race_started(dashboard_app)
    race = session_of(at).race
    for _ in range(3):  # run_every does not fire in AppTest: each run() is one frame
        at = run(at)
    steps = [lane.run.trainer.step for lane in race.lanes]
    assert len(set(steps)) == 1 and steps[0] > 0
    spec = plotly_spec(at, "race_chart")
    for lane in race.lanes:
        _, error = lane.run.trainer.steps_log.arrays()
        np.testing.assert_allclose(_overlay_values(spec, lane.name), smooth_ema(error, 0.6))


def test_a_started_race_plays_in_presentation_mode(dashboard_app):
    at = _race_started(dashboard_app)
    at = run(at.toggle(key="presentation").set_value(True))
    race = session_of(at).race
    before = race.step()
    at = run(at)  # one more frame, drawn in presentation mode
    assert race.step() > before
    names = {t.get("name") for t in plotly_spec(at, "race_chart")["data"]}
    assert {"Elman", "GRU", "LSTM"} <= names


def test_the_seconds_axis_puts_each_run_at_its_own_training_time(at):
    at = _pin_and_train_another(at)
    session = session_of(at)
    (pinned,) = session.pinned.runs()
    _, others = comparison.overlays(session, seconds=True)
    x = np.asarray(others[0].x)
    # trained in chunks of growing size, so not linear in the step, but from 0 to the run's seconds, never back
    assert x[0] == 0.0 and np.all(np.diff(x) >= 0) and x[-1] <= pinned.seconds + 1e-12
    at = run(at.selectbox(key="x_axis").set_value("seconds"))
    spec = plotly_spec(at, "error_chart")
    assert spec["layout"]["xaxis"]["title"]["text"] == "seconds of training"
    shown = next(t for t in spec["data"] if t.get("name") == "hidden 8")
    np.testing.assert_allclose(shown["x"], x)  # 300 points: drawn without thinning


def test_a_released_session_lets_go_of_every_run():
    import gc
    import weakref

    session = Session({"n_hidden": 4, "n_bits": 4})
    session.act(lambda: session.pinned.keep(session.current))
    session.update_settings({"n_hidden": 3})
    assert session.start_race([{"cell": "gru"}, {"cell": "lstm"}])
    held = [weakref.ref(run.trainer) for run in [*session.pinned.runs(), session.current]]
    held += [weakref.ref(lane.run.trainer) for lane in session.race.lanes]
    session.release()
    gc.collect()
    assert session.trainer is None and [ref() for ref in held] == [None] * 4
