"""carrylab.analysis: the per-step record behind the carry views.

Ground truth is the hand-built adder (rnn_core.handbuilt), whose carry unit, automaton and length behaviour are
known exactly; an untrained net must fail the same checks; and the fast per-example pass must agree with the
engine's own exhaustive evaluation.
"""

from __future__ import annotations

import numpy as np
import pytest

from carrylab import analysis
from carrylab.analysis import (
    LengthCurve,
    analyse,
    default_probe,
    hidden_states,
    length_curve,
    probe_trace,
    resolve_probe,
    snapshot_model,
)
from rnn_core import diagnostics as diag
from rnn_core.handbuilt import CARRY_UNIT, carry_adder_params
from rnn_core.metrics import evaluate
from rnn_core.tasks import Task
from rnn_core.train import TrainConfig, Trainer

FAST = {"optimizer": "adam", "eta": 0.01, "batch_size": 16, "n_hidden": 16}


def handbuilt_trainer(n_hidden: int = 32) -> Trainer:
    trainer = Trainer(TrainConfig(seed=0, n_hidden=n_hidden))
    for name, value in carry_adder_params(n_hidden).items():
        trainer.model.params[name] = value
    return trainer


@pytest.fixture(scope="module")
def hand():
    trainer = handbuilt_trainer()
    return trainer, analyse(trainer)


@pytest.fixture(scope="module")
def partly_trained():
    """8-bit addition about half learned: some pairs wrong, some right."""
    trainer = Trainer(TrainConfig(seed=0, eval_every=50, **FAST))
    trainer.train(120)
    return trainer, analyse(trainer)


# -- the hand-built adder --------------------------------------------------------------------------------------
def test_handbuilt_adder_is_recognised_as_a_perfect_carry_machine(hand):
    _, an = hand
    assert an.accuracy == 1.0
    assert an.n_wrong == 0
    assert int(an.best_units[0]) == CARRY_UNIT
    assert abs(an.carry_corr[CARRY_UNIT]) > 0.99
    assert an.carry_units == [CARRY_UNIT]
    assert an.probe_accuracy == 1.0
    assert an.equivalent is True
    assert an.automaton.n_states == 2
    assert an.reference_name == "2-state adder"
    assert an.automaton_verdict.startswith("Equivalent to the 2-state adder")
    np.testing.assert_array_equal(np.sort(an.state_carry), [0.0, 1.0])  # one state per carry value


def test_handbuilt_adder_pair_grid_is_every_pair_with_no_wrong_bit(hand):
    _, an = hand
    grid = an.pair_grid
    assert grid is not None and an.pair_grid_note == ""
    assert grid.wrong_bits.shape == (128, 128)
    assert not grid.wrong_bits.any()
    a, b = np.meshgrid(grid.a_values, grid.b_values, indexing="ij")
    np.testing.assert_array_equal(grid.answer, a + b)
    np.testing.assert_array_equal(grid.net_answer, a + b)


def test_handbuilt_adder_length_curve_is_perfect_up_to_64_bits(hand):
    trainer, _ = hand
    curve = length_curve(trainer)
    assert curve.widths.max() == 64 and 8 in curve.widths
    np.testing.assert_array_equal(curve.random, 1.0)
    np.testing.assert_array_equal(curve.chain, 1.0)
    assert curve.perfect_up_to == 64
    assert "every width tested, up to 64 bits" in curve.summary()


def test_handbuilt_adder_with_three_units_gives_the_same_verdict():
    an = analyse(handbuilt_trainer(3))
    assert an.accuracy == 1.0 and an.equivalent
    assert int(an.best_units[0]) == CARRY_UNIT and an.probe_accuracy == 1.0


# -- an untrained net ------------------------------------------------------------------------------------------
def test_untrained_net_fails_and_is_not_the_adder():
    an = analyse(Trainer(TrainConfig(seed=0)))
    assert an.accuracy < 0.1
    assert an.equivalent is False
    assert an.automaton_verdict.startswith("Not (yet) equivalent")
    assert an.n_wrong == an.n_examples - round(an.accuracy * an.n_examples)


# -- agreement with the engine ---------------------------------------------------------------------------------
def test_per_example_outputs_match_the_engines_exhaustive_evaluation(partly_trained):
    trainer, an = partly_trained
    ev = trainer.evaluate(details=True)
    assert 0.0 < an.accuracy < 1.0  # the comparison is only meaningful with both right and wrong pairs
    assert an.accuracy == ev.accuracy
    np.testing.assert_array_equal(an.wrong_bits, ev.wrong_bits)
    np.testing.assert_array_equal(an.predicted, ev.predicted)
    np.testing.assert_allclose(an.bit_accuracy, ev.bit_accuracy)
    mse = 0.5 * ((ev.prob - trainer.task.exhaustive().target[:, :, 0]) ** 2).sum(axis=1)
    np.testing.assert_allclose(an.example_loss, mse, rtol=1e-9, atol=1e-12)


def test_sigmoid_cell_outputs_match_the_engine():
    trainer = Trainer(TrainConfig(variant="trask", rng="legacy", seed=1, eta=0.5, eval_every=100))
    trainer.train(300)
    an = analyse(trainer)
    ev = trainer.evaluate(details=True)
    assert an.activation == "sigmoid"
    np.testing.assert_array_equal(an.wrong_bits, ev.wrong_bits)


def test_hidden_states_match_the_models_forward_pass(partly_trained):
    trainer, _ = partly_trained
    x = trainer.task.exhaustive().x[:50]
    _, states = trainer.model.forward(x)
    np.testing.assert_allclose(hidden_states(trainer.model, x), states["h"], atol=1e-12)


def test_carry_correlation_matches_diagnostics_on_the_state_sample(partly_trained):
    trainer, an = partly_trained
    batch = trainer.task.exhaustive()
    idx = analysis.state_sample(trainer.task)
    assert an.n_state_examples == len(idx) == 2048
    h = hidden_states(trainer.model, batch.x[idx])
    np.testing.assert_allclose(an.carry_corr, diag.carry_correlation(h[:, 1:], batch.carry_out[idx]), atol=1e-9)
    assert an.pca_points.shape == (2048 * 8, 2)
    np.testing.assert_array_equal(an.pca_carry, batch.carry_out[idx].reshape(-1))


def test_analysis_is_deterministic(partly_trained):
    trainer, an = partly_trained
    again = analyse(trainer)
    np.testing.assert_array_equal(again.carry_corr, an.carry_corr)
    np.testing.assert_array_equal(again.pca_cluster, an.pca_cluster)
    assert again.automaton_verdict == an.automaton_verdict


# -- errors: chains, hardest examples --------------------------------------------------------------------------
def test_chain_groups_cover_every_example_once_with_their_own_accuracy(partly_trained):
    trainer, an = partly_trained
    assert an.chain_counts.sum() == an.n_examples
    chains = diag.longest_carry_chain(trainer.task.exhaustive().carry_out)
    for length, acc, count in zip(an.chain_lengths, an.chain_accuracy, an.chain_counts):
        members = chains == length
        assert members.sum() == count
        assert acc == pytest.approx(np.mean(an.wrong_bits[members] == 0))


def test_hardest_examples_are_the_worst_first_with_true_and_net_answers(partly_trained):
    _, an = partly_trained
    hard = an.hardest
    assert len(hard) == analysis.N_HARDEST
    assert hard.wrong_bits[0] == an.wrong_bits.max()
    assert np.all(np.diff(hard.wrong_bits) <= 0)
    np.testing.assert_array_equal(hard.answer, hard.a + hard.b)
    rows = hard.rows()
    assert rows[0]["true answer"] == rows[0]["a"] + rows[0]["b"]
    assert (rows[0]["net's answer"] != rows[0]["true answer"]) == (rows[0]["wrong bits"] > 0)
    # ties in wrong bits are broken by the larger loss
    same = hard.wrong_bits[:-1] == hard.wrong_bits[1:]
    assert np.all(hard.loss[:-1][same] >= hard.loss[1:][same])


def test_pair_grid_matches_the_per_example_arrays(partly_trained):
    _, an = partly_trained
    grid = an.pair_grid
    np.testing.assert_array_equal(grid.wrong_bits.reshape(-1), an.wrong_bits)
    np.testing.assert_array_equal(grid.net_answer.reshape(-1), an.predicted.astype(np.int64))
    assert grid.wrong_bits.any() and not grid.wrong_bits.all()


# -- other tasks -----------------------------------------------------------------------------------------------
def test_solved_subtraction_is_equivalent_to_the_subtractor():
    trainer = Trainer(TrainConfig(op="sub", seed=0, **FAST))
    trainer.train(4000, until_solved=True)
    an = analyse(trainer)
    assert an.accuracy == 1.0
    assert an.reference_name == "2-state subtractor"
    assert an.equivalent is True and an.automaton.n_states == 2
    assert an.pair_grid.wrong_bits.shape == (256, 256)


def test_carry_free_task_has_no_carry_statistics_and_no_machine():
    an = analyse(Trainer(TrainConfig(op="xor", seed=0, n_hidden=8)))
    assert an.has_carry is False
    assert np.isnan(an.probe_accuracy) and np.isnan(an.carry_baseline)
    assert an.automaton is None and an.equivalent is None and an.automaton_verdict is None
    assert an.carry_units == []
    assert not an.pca_carry.any()


def test_mixed_task_has_no_pair_grid_and_says_why():
    an = analyse(Trainer(TrainConfig(op="mixed", seed=0, n_hidden=8)))
    assert an.pair_grid is None and "mixed" in an.pair_grid_note
    assert an.automaton is None
    assert set(an.hardest.op) <= {"add", "sub", "xor", "and", "or"}


def test_wide_task_is_cut_to_a_sample_that_keeps_every_carry_chain_case():
    task = Task("add", 64)
    an = analyse(Trainer(TrainConfig(n_bits=64, seed=0, n_hidden=8)))
    full = task.exhaustive()
    batch, _ = analysis.example_set(task)
    assert an.pair_grid is None and "too many" in an.pair_grid_note
    assert an.n_examples == len(batch) <= analysis.OUTPUT_ROWS // 64
    assert an.n_examples_total == len(full) > an.n_examples
    chains = task.carry_chain_cases()
    tail = slice(len(batch) - len(chains), None)
    np.testing.assert_array_equal(batch.a[tail], chains.a)
    np.testing.assert_array_equal(batch.b[tail], chains.b)
    assert an.wrong_bits.shape == (an.n_examples,)


# -- probe example, snapshots, length summary ------------------------------------------------------------------
def test_probe_trace_of_the_handbuilt_adder(hand):
    trainer, _ = hand
    rng = np.random.default_rng(0)
    for a, b in rng.integers(0, 128, size=(5, 2)):
        trace = probe_trace(trainer.model, trainer.task, int(a), int(b))
        assert trace.answer == trace.net_answer == a + b and trace.correct
        assert trace.hidden.shape == (8, 32)
        assert list(trace.tracks) == ["a", "b", "carry out", "target", "P(y=1)", "prediction"]
        np.testing.assert_array_equal(trace.tracks["prediction"], trace.tracks["target"])
        carry_sign = np.sign(trace.hidden[:, CARRY_UNIT]) > 0
        np.testing.assert_array_equal(carry_sign, trace.tracks["carry out"] == 1)
    assert probe_trace(trainer.model, trainer.task, 127, 1).line() == "127 + 1 = 128; the net says 128 (right)"


def test_snapshot_model_reproduces_the_snapshot_weights(partly_trained):
    trainer, _ = partly_trained
    step, theta = trainer.snapshots.nearest(0)
    model = snapshot_model(trainer.config, theta)
    np.testing.assert_array_equal(model.theta, theta)
    assert evaluate(model, trainer.task.exhaustive()).accuracy < 0.1  # step 0: untrained
    with pytest.raises(ValueError):
        snapshot_model(trainer.config, theta[:-1])


def test_resolve_probe_uses_valid_operands_and_falls_back_with_a_note():
    task = Task("add", 8)
    assert resolve_probe(task, (13, 33)) == (13, 33, "add", "")
    assert resolve_probe(task, (13, 33, "add")) == (13, 33, "add", "")
    assert default_probe(task) == (127, 1, "add")  # the longest carry chain at 8 bits
    a, b, op, note = resolve_probe(task, (200, 1))
    assert (a, b, op) == (127, 1, "add") and "0 to 127" in note
    assert resolve_probe(task, None) == (127, 1, "add", "")
    assert "not part" in resolve_probe(task, (1, 2, "sub"))[3]
    assert resolve_probe(Task("mixed", 8), (3, 5, 1))[:3] == (3, 5, "sub")


def test_length_curve_summary_names_where_the_net_stops_being_perfect():
    widths = np.array([1, 4, 8, 16, 32])

    def curve(random):
        return LengthCurve(step=0, train_width=8, widths=widths, random=np.array(random), chain=np.ones(5))

    assert curve([1, 1, 1, 1, 1]).perfect_up_to == 32
    assert curve([1, 1, 1, 1, 0.5]).perfect_up_to == 16
    assert "up to 16 bits" in curve([1, 1, 1, 1, 0.5]).summary()
    assert "fails on longer numbers" in curve([1, 1, 1, 0.9, 0.5]).summary()
    assert "not 100 % right" in curve([1, 1, 0.7, 0.5, 0.2]).summary()
    assert curve([0.5, 1, 1, 1, 1]).perfect_up_to == 0
