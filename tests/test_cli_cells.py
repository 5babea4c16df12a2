"""The CLI and the config with a cell: --cell, the gru/lstm presets, eval of a gated checkpoint, bad input, and a
size budget that counts a gated cell's gates."""

from __future__ import annotations

import pytest
from test_cli import last_json, run

from rnn_core.train import TrainConfig


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_train_preset_reports_its_cell_and_solves(cell):
    proc = run("train", "--preset", cell, "--until-solved", "--steps", "2000", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    assert result["config"]["cell"] == cell and result["preset"] == cell
    assert result["exhaustive_accuracy"] == 1.0 and result["solved_at_step"] <= 2000


def test_cell_flag_trains_that_cell_and_eval_reads_its_checkpoint(tmp_path):
    path = tmp_path / "lstm.npz"
    proc = run("train", "--cell", "lstm", "--hidden", "6", "--steps", "50", "--save", str(path), "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert last_json(proc.stdout)["config"]["cell"] == "lstm"
    proc = run("eval", str(path), "--bits", "8", "16", "--samples", "50", "--json")
    assert proc.returncode == 0, proc.stderr
    report = last_json(proc.stdout)
    assert report["widths"] == [8, 16] and all(0.0 <= v <= 1.0 for v in report["random"] + report["chain"])


def test_an_unknown_cell_exits_2_with_one_line_naming_the_cells():
    proc = run("train", "--cell", "transformer", "--steps", "1")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "python -m rnn_core: error: argument --cell: cell must be one of elman, gru, lstm, got 'transformer'"
    ]


def test_trask_variant_needs_the_elman_cell():
    with pytest.raises(ValueError, match=r"variant trask is a sigmoid Elman cell .* not 'gru'"):
        TrainConfig(variant="trask", cell="gru").validate()


@pytest.mark.parametrize("cell, gates", [("elman", 1), ("gru", 3), ("lstm", 4)])
def test_size_budget_counts_the_gates(cell, gates):
    """At 8 bits the Elman cell may have 256 units (8 x 256^2 = MAX_EVAL_WORK); a cell with k gates does k times the
    work per unit, so its largest size is 256 / sqrt(k) units, and its largest batch k times smaller."""
    largest = int((TrainConfig.MAX_EVAL_WORK // (8 * gates)) ** 0.5)
    assert TrainConfig(cell=cell, n_hidden=min(largest, 256)).over_budget() is None
    if largest < 256:
        assert TrainConfig(cell=cell, n_hidden=largest + 1).over_budget() == "n_hidden"
        with pytest.raises(ValueError, match=rf"n_hidden {largest + 1} is too .*one {cell} step is {gates} Elman"):
            TrainConfig(cell=cell, n_hidden=largest + 1).validate()
    batch = TrainConfig.MAX_STEP_WORK // (8 * 32 * gates)
    assert TrainConfig(cell=cell, batch_size=batch).over_budget() is None
    assert TrainConfig(cell=cell, batch_size=batch + 1).over_budget() == "batch_size"
