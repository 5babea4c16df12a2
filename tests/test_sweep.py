"""rnn_core.sweep (grid, runs, summary) and rnn_core.results (the resumable results file)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnn_core.results import ResultsError, ResultsFile, SweepSpec, make_row, read_results
from rnn_core.sweep import MAX_RUNS, parse_grid, plan, point_config, run_alone, run_group, summarise
from rnn_core.train import TrainConfig, Trainer

FAST = TrainConfig(optimizer="adam", eta=0.01, batch_size=16, n_hidden=16, seed=0)
STABLE = ("seed", "solved_at_step", "accuracy", "steps", "diverged")  # everything but the wall time


# -- the grid ------------------------------------------------------------------------------------------------------
def test_grid_values_are_parsed_by_the_fields_type():
    grid = parse_grid(["n_hidden=2, 8,32", "eta=0.03,1e-1,3", "optimizer=sgd,adam"], TrainConfig(), 4)
    assert grid == {"n_hidden": (2, 8, 32), "eta": (0.03, 0.1, 3.0), "optimizer": ("sgd", "adam")}
    assert all(type(v) is int for v in grid["n_hidden"]) and all(type(v) is float for v in grid["eta"])
    runs = plan(grid, 4)
    assert len(runs) == 3 * 3 * 2 * 4
    assert runs[0].point == (2, 0.03, "sgd") and runs[0].seed == 0 and runs[-1].point == (32, 3.0, "adam")
    assert point_config(TrainConfig(), grid, (8, 3.0, "adam")).to_dict() == {
        **TrainConfig().to_dict(),
        "n_hidden": 8,
        "eta": 3.0,
        "optimizer": "adam",
    }


def test_no_grid_is_the_one_configuration_over_its_seeds():
    assert parse_grid([], TrainConfig(), 5) == {}
    assert [(r.point, r.seed) for r in plan({}, 3)] == [((), 0), ((), 1), ((), 2)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("width=8", "unknown field 'width'"),
        ("n_hidden", "expected FIELD=v1,v2"),
        ("seed=1,2", "--seeds"),
        ("n_hidden=4,x", "expected a whole number, got 'x'"),
        ("n_hidden=4.5", "expected a whole number"),
        ("eta=fast", "expected a number, got 'fast'"),
        ("eta=nan", "finite"),
        ("n_hidden=4,,8", "empty value"),
        ("n_hidden=4,4", "listed twice"),
        ("n_hidden=300", "n_hidden must be from 1 to 256, got 300"),
        ("optimizer=sgd,rmsprop", "optimizer must be one of"),
        ("n_hidden=" + ",".join(str(i) for i in range(1, 70)), "at most 64"),
    ],
)
def test_bad_grids_are_refused_with_a_message_naming_the_problem(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_grid([spec], TrainConfig(), 2)


def test_grid_points_are_checked_together_and_the_size_is_bounded():
    with pytest.raises(ValueError, match="n_bits=64"):  # each value is in bounds, together over the size budget
        parse_grid(["n_bits=8,64", "n_hidden=128"], TrainConfig(), 1)
    with pytest.raises(ValueError, match="given twice"):
        parse_grid(["eta=1", "eta=2"], TrainConfig(), 1)
    with pytest.raises(ValueError, match="over the limit"):
        parse_grid(["n_hidden=1,2,3,4"], TrainConfig(), MAX_RUNS // 4 + 1)


# -- runs ----------------------------------------------------------------------------------------------------------
def test_run_alone_is_a_trainer_run_until_solved():
    result = run_alone(TrainConfig(**{**FAST.to_dict(), "seed": 3}), 2000)
    trainer = Trainer(TrainConfig(**{**FAST.to_dict(), "seed": 3}))
    trainer.train(2000, until_solved=True)
    assert result["solved_at_step"] == trainer.solved_at_step is not None
    assert result["steps"] == result["solved_at_step"] and result["accuracy"] == 1.0
    assert result["diverged"] is False and result["seconds"] > 0
    log = trainer.steps_log  # the row's error: the mean error per example of the last 100 steps, taken by hand
    assert result["error"] == pytest.approx(np.mean(log.error[: log.n][-100:]))


def test_run_group_reports_each_seed_and_an_unsolved_run():
    rows = run_group(FAST.to_dict(), [0, 1], 5)
    assert [r["seed"] for r in rows] == [0, 1]
    assert all(r["solved_at_step"] is None and r["steps"] == 5 and r["accuracy"] < 1 for r in rows)


def test_run_group_stops_when_asked_and_keeps_the_finished_runs():
    asked = []

    def stop_after_one() -> bool:
        asked.append(1)
        return len(asked) > 1

    rows = run_group({**FAST.to_dict(), "eta": 1e-6}, [0, 1, 2], 50, should_stop=stop_after_one)  # one at a time
    assert [r["seed"] for r in rows] == [0]
    lockstep_rows = run_group(TrainConfig(eta=1e-6).to_dict(), [0, 1, 2], 5000, should_stop=lambda: True)
    assert lockstep_rows == []  # trained together: none had finished


def test_summary_quartiles_count_unsolved_runs_as_beyond_the_budget():
    rows = [{"n_hidden": 4, "seed": i, "solved_at_step": s} for i, s in enumerate([400, None, 100, 200])]
    rows += [{"n_hidden": 8, "seed": i, "solved_at_step": s} for i, s in enumerate([None, None, 50])]
    four, eight = summarise(rows, ["n_hidden"], 500)
    # sorted 100, 200, 400, unsolved: positions 0.75, 1.5 and 2.25 (numpy's linear rule), the last on unsolved
    assert (four["runs"], four["solved"], four["share_solved"]) == (4, 3, 0.75)
    assert four["q1"] == 175.0 and four["median"] == 300.0 and four["q3"] is None
    assert (eight["solved"], eight["q1"], eight["median"]) == (1, None, None)
    assert float(np.quantile([100, 200, 400, 10**9], 0.25)) == 175.0  # the same rule, computed another way


# -- the results file ----------------------------------------------------------------------------------------------
SPEC = SweepSpec.of(TrainConfig(), ["n_hidden"], 500)


def _row(n_hidden: int, seed: int, solved=None) -> dict:
    result = {"seed": seed, "solved_at_step": solved, "accuracy": 0.5, "error": 0.25, "steps": 500}
    return make_row(SPEC, {"n_hidden": n_hidden}, {**result, "diverged": False, "seconds": 0.1 * (seed + 1)})


def test_rows_survive_a_reopen_and_are_never_recorded_twice(tmp_path):
    path = tmp_path / "s.parquet"
    store = ResultsFile(path, SPEC)
    store.add([_row(4, 0, 120), _row(4, 1)])
    store.add([_row(4, 1), _row(8, 0, 90)])  # (4, seed 1) again: kept once
    assert (tmp_path / "s.parquet.journal").exists() and not path.exists()  # durable before the fold
    reopened = ResultsFile(path, SPEC)  # an interrupted sweep: the journal is folded in on open
    assert reopened.done == {(4, 0), (4, 1), (8, 0)}
    assert path.exists() and not (tmp_path / "s.parquet.journal").exists()
    spec, rows = read_results(path)
    assert spec == SPEC
    assert sorted((r["n_hidden"], r["seed"], r["solved_at_step"]) for r in rows) == [
        (4, 0, 120),
        (4, 1, None),
        (8, 0, 90),
    ]
    assert all(r["eta"] == 0.1 and r["budget"] == 500 and r["op"] == "add" for r in rows)


def test_a_journal_line_cut_short_by_a_kill_is_dropped_and_its_run_counts_as_missing(tmp_path):
    path = tmp_path / "s.parquet"
    store = ResultsFile(path, SPEC)
    store.add([_row(4, 0, 120), _row(4, 1)])
    journal = tmp_path / "s.parquet.journal"
    data = journal.read_bytes()
    journal.write_bytes(data[: -len(data.split(b"\n")[-2]) // 2 - 1])  # the last row half written, no newline
    reopened = ResultsFile(path, SPEC)
    assert reopened.done == {(4, 0)}


def test_a_damaged_line_in_the_middle_of_the_journal_is_an_error_and_nothing_is_changed(tmp_path):
    path = tmp_path / "s.parquet"
    ResultsFile(path, SPEC).add([_row(4, 0), _row(4, 1), _row(4, 2)])
    journal = tmp_path / "s.parquet.journal"
    lines = journal.read_bytes().split(b"\n")
    lines[2] = b"{not json"
    journal.write_bytes(b"\n".join(lines))
    before = journal.read_bytes()
    with pytest.raises(ResultsError, match="line 3 is damaged"):
        ResultsFile(path, SPEC)
    assert journal.read_bytes() == before and not path.exists()


def test_a_file_of_another_sweep_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "s.parquet"
    store = ResultsFile(path, SPEC)
    store.add([_row(4, 0)])
    store.close()
    before = path.read_bytes()
    other_eta = SweepSpec.of(TrainConfig(eta=0.3), ["n_hidden"], 500)
    with pytest.raises(ResultsError, match="eta 0.1 there, 0.3 here"):
        ResultsFile(path, other_eta)
    with pytest.raises(ResultsError, match="budget 500 there, 900 here"):
        ResultsFile(path, SweepSpec.of(TrainConfig(), ["n_hidden"], 900))
    with pytest.raises(ResultsError, match="it varies n_hidden, this sweep varies eta"):
        ResultsFile(path, SweepSpec.of(TrainConfig(), ["eta"], 500))
    assert path.read_bytes() == before


def test_foreign_and_corrupt_files_are_refused_and_left_as_they_were(tmp_path):
    import pandas as pd

    foreign = tmp_path / "foreign.parquet"
    pd.DataFrame({"n_hidden": [4], "seed": [0]}).to_parquet(foreign)
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1" + b"\x00" * 40)
    for path, message in ((foreign, "not a sweep results file"), (corrupt, "not a readable Parquet file")):
        before = path.read_bytes()
        with pytest.raises(ResultsError, match=message):
            ResultsFile(path, SPEC)
        assert path.read_bytes() == before and not path.with_name(path.name + ".journal").exists()
    with pytest.raises(ResultsError, match="folder"):
        ResultsFile(tmp_path, SPEC)


def test_the_file_metadata_says_which_sweep_it_is(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "s.parquet"
    store = ResultsFile(path, SPEC)
    store.add([_row(4, 0)])
    store.close()
    meta = json.loads(pq.read_schema(path).metadata[b"rnn_core.sweep"])
    assert meta["grid"] == ["n_hidden"] and meta["budget"] == 500 and meta["fixed"]["eta"] == 0.1
    assert "seed" not in meta["fixed"] and "n_hidden" not in meta["fixed"]
    assert math.isclose(pq.read_table(path).column("seconds").to_pylist()[0], 0.1)


def test_a_run_split_into_chunks_to_check_for_cancelling_is_the_same_as_one_call():
    """run_alone trains in STOP_CHUNK pieces (asking between them whether to stop); the streak of right examples
    that triggers the every-pair check goes on across them, so "solved at" is that of one train() call."""
    solved_late = 0
    for seed in range(8):
        config = TrainConfig(n_hidden=8, seed=seed)  # often solves after 1,000 steps, across a chunk boundary
        trainer = Trainer(config)
        trainer.train(4000, until_solved=True)
        result = run_alone(config, 4000, should_stop=lambda: False)
        assert result["solved_at_step"] == trainer.solved_at_step
        assert result["steps"] == trainer.step
        solved_late += (trainer.solved_at_step or 0) > 1000
    assert solved_late >= 2


def test_run_alone_stops_between_chunks_when_asked():
    assert run_alone(TrainConfig(eta=1e-6), 5000, should_stop=lambda: True) is None
