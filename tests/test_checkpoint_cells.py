"""Checkpoints and cells: files written before the cell interface load and run exactly as they did, the gated cells
round-trip bit for bit, and a checkpoint whose parameters do not fit its cell is refused by name.

``tests/data/*_before_cells.npz`` were written by the code before this change (commit a8fb767) from the fast preset
(6 units, 60 steps) and the Trask preset (4 units, 300 steps); the ``.json`` beside each holds the numbers that code
computed from it (as float.hex): its evaluation, and its parameters after loading and training 40 more steps."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_checkpoint import arrays_of, pack

from rnn_core import CELLS, CheckpointError, checkpoint_bytes, load_checkpoint
from rnn_core.presets import PRESETS
from rnn_core.train import TrainConfig, Trainer

DATA = Path(__file__).parent / "data"


def unhex(values) -> np.ndarray:
    return np.array([float.fromhex(v) for v in values])


@pytest.mark.parametrize("name", ["fast", "trask"])
def test_checkpoint_from_before_the_cells_loads_and_evaluates_exactly_as_before(name):
    checkpoint = load_checkpoint(DATA / f"{name}_before_cells.npz")
    expected = json.loads((DATA / f"{name}_before_cells.json").read_text())
    assert checkpoint.config.cell == "elman"
    trainer = checkpoint.to_trainer()
    ev = trainer.evaluate(details=True)
    assert ev.accuracy == expected["accuracy"]
    np.testing.assert_array_equal(ev.bit_accuracy, unhex(expected["bit_accuracy"]))
    np.testing.assert_array_equal(ev.prob[:5], np.array([unhex(row) for row in expected["prob_first_rows"]]))
    trainer.train(40)
    assert trainer.step == expected["step_after"]
    np.testing.assert_array_equal(trainer.model.theta, unhex(expected["theta_after_40_more"]))


def gated_trainer(cell: str) -> Trainer:
    trainer = Trainer(TrainConfig(cell=cell, n_hidden=5, eta=0.5, eval_every=20, optimizer="momentum"))
    trainer.train(50)
    return trainer


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_gated_cell_checkpoint_continues_bit_for_bit(cell):
    original = gated_trainer(cell)
    loaded = load_checkpoint(checkpoint_bytes(original)).to_trainer()
    assert loaded.config.cell == cell and loaded.model.cell == cell
    for trainer in (original, loaded):
        trainer.train(30)
    assert np.array_equal(original.model.theta, loaded.model.theta)
    for k in original.optimizer.state():
        assert np.array_equal(original.optimizer.state()[k], loaded.optimizer.state()[k])
    for k in original.evals.columns:
        assert np.array_equal(original.evals.array(k), loaded.evals.array(k), equal_nan=True), k


def with_config(arrays: dict, **fields) -> bytes:
    config = json.loads(str(arrays["config_json"]))
    return pack({**arrays, "config_json": np.array(json.dumps({**config, **fields}))})


def test_a_gru_checkpoint_said_to_be_an_lstm_is_refused_naming_both():
    arrays = arrays_of(checkpoint_bytes(gated_trainer("gru")))
    with pytest.raises(CheckpointError, match=r"holds a gru cell's parameters .* configuration says cell 'lstm'"):
        load_checkpoint(with_config(arrays, cell="lstm"))


def test_an_lstm_checkpoint_said_to_be_elman_is_refused_by_the_shapes():
    arrays = arrays_of(checkpoint_bytes(gated_trainer("lstm")))  # the same names as Elman's, four gates wide
    message = r"W_in has shape \(2, 20\), which is a lstm cell's, .* says cell 'elman'"
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(with_config(arrays, cell="elman"))


def test_an_unknown_cell_in_a_checkpoint_is_refused():
    arrays = arrays_of(checkpoint_bytes(gated_trainer("gru")))
    with pytest.raises(CheckpointError, match=r"cell must be one of elman, gru, lstm, got 'transformer'"):
        load_checkpoint(with_config(arrays, cell="transformer"))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_a_missing_gate_matrix_is_refused(cell):
    arrays = arrays_of(checkpoint_bytes(gated_trainer(cell)))
    del arrays["W_rec"]
    with pytest.raises(CheckpointError, match=r"missing entry: W_rec"):
        load_checkpoint(pack(arrays))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_a_misshaped_gate_matrix_is_refused(cell):
    arrays = arrays_of(checkpoint_bytes(gated_trainer(cell)))
    arrays["W_rec"] = arrays["W_rec"][:, :10]
    message = r"checkpoint parameter W_rec has shape \(5, 10\), expected \(5, (15|20)\)"
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(pack(arrays))


@pytest.mark.parametrize("key", ["gru", "lstm"])
def test_cli_style_model_of_a_gated_checkpoint_evaluates_as_the_trainer(key):
    trainer = Trainer(PRESETS[key].make_config(n_hidden=6))
    trainer.train(100)
    model = load_checkpoint(checkpoint_bytes(trainer)).to_model()
    assert model.cell == key
    np.testing.assert_array_equal(model.theta, trainer.model.theta)


def test_every_cell_has_a_checkpoint_layout():
    for cell in CELLS:
        trainer = Trainer(TrainConfig(cell=cell, n_hidden=3, eval_every=10))
        trainer.train(10)
        assert set(load_checkpoint(checkpoint_bytes(trainer)).params) == set(trainer.model.params)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_page_loads_a_gated_checkpoint_as_that_cell(cell):
    """The cell is one of the page's settings: a GRU/LSTM upload becomes a session of that cell with the file's
    weights (not an Elman run of the same shape)."""
    from carrylab.session import Session
    from carrylab.settings import DEFAULTS

    saved = gated_trainer(cell)
    session = Session({**DEFAULTS, "n_hidden": 8})
    assert session.load_checkpoint_bytes(checkpoint_bytes(saved))
    assert session.settings["cell"] == cell and session.trainer.config.cell == cell
    assert session.trainer.step == saved.step
    for name, value in saved.model.params.items():
        np.testing.assert_array_equal(session.trainer.model.params[name], value)
