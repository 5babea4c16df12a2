"""Prefix-sharing evaluation gives exactly what a plain forward pass gives; length generalisation."""

import numpy as np
import pytest

from rnn_core import ElmanRNN
from rnn_core.metrics import _evaluate_plain, evaluate, length_generalisation
from rnn_core.tasks import Task


@pytest.mark.parametrize("op,n_bits", [("add", 8), ("sub", 6), ("mixed", 4), ("xor", 5), ("add", 20)])
def test_prefix_trie_evaluation_matches_plain_forward(op, n_bits):
    task = Task(op, n_bits)
    model = ElmanRNN(task.n_in, 16, 1, rng=np.random.default_rng(1))
    model.params["W_out"] = model.params["W_out"] * 4  # spread the outputs so some bits come out right
    batch = task.exhaustive()
    fast = evaluate(model, batch, details=True)
    plain = _evaluate_plain(model, batch)
    assert fast.accuracy == plain.accuracy
    np.testing.assert_allclose(fast.bit_accuracy, plain.bit_accuracy)
    assert np.array_equal(fast.wrong_bits, plain.wrong_bits)
    assert np.array_equal(fast.predicted, plain.predicted)
    np.testing.assert_allclose(fast.hidden, plain.hidden, atol=1e-12)
    np.testing.assert_allclose(fast.prob, plain.prob, atol=1e-12)


def test_accuracy_counts_whole_numbers():
    task = Task("add", 3)
    model = ElmanRNN(2, 4, 1, rng=np.random.default_rng(0))
    model.params["W_out"] = np.zeros((4, 1))
    model.params["b_out"] = np.array([-5.0])  # always predicts 0: right only when the sum is 0
    ev = evaluate(model, task.exhaustive(), details=True)
    assert ev.accuracy == pytest.approx(1 / 16)  # only 0 + 0 among a, b < 4
    assert ev.correct.sum() == 1
    ex = task.exhaustive()
    np.testing.assert_allclose(ev.bit_accuracy, 1 - ex.target[:, :, 0].mean(axis=0))


def test_length_generalisation_shapes_and_range():
    model = ElmanRNN(2, 8, 1, rng=np.random.default_rng(0))
    out = length_generalisation(model, "add", widths=(2, 8, 64), n_random=50)
    assert out["widths"].tolist() == [2, 8, 64]
    assert out["random"].shape == (3,) and out["chain"].shape == (3,)
    assert ((0 <= out["random"]) & (out["random"] <= 1)).all()


def test_length_generalisation_measures_each_width_on_its_own_numbers():
    """A hand-built adder with noisy weights: right at 2 bits, worse the longer the numbers. Each width's accuracy
    must be the plain forward pass's on that width's own examples (the carry chains exactly; random pairs within
    sampling error of an independent sample), not one width's numbers repeated."""
    from rnn_core.handbuilt import carry_adder_params

    params = carry_adder_params()
    model = ElmanRNN(2, params["W_rec"].shape[0], 1, rng=np.random.default_rng(0))
    noise = np.random.default_rng(4)
    model.set_params({k: v + noise.normal(scale=1.0, size=np.shape(v)) for k, v in params.items()})
    widths = (2, 4, 8, 16, 32)
    out = length_generalisation(model, "add", widths=widths, n_random=2000)
    for i, w in enumerate(widths):
        task = Task("add", w)
        assert out["chain"][i] == pytest.approx(_evaluate_plain(model, task.carry_chain_cases()).accuracy, abs=1e-12)
        if task.n_pairs <= 2000:  # every pair
            assert out["random"][i] == pytest.approx(_evaluate_plain(model, task.exhaustive()).accuracy, abs=1e-12)
        else:
            p = _evaluate_plain(model, task.sample(np.random.default_rng(99), 4000)).accuracy
            assert abs(out["random"][i] - p) < 4 * np.sqrt(p * (1 - p) * (1 / 2000 + 1 / 4000)) + 1e-9, w
    assert out["random"][0] == 1.0 and np.all(np.diff(out["random"]) < 0)  # longer numbers, more mistakes
    assert len(set(out["chain"].round(6))) == len(widths)


@pytest.mark.parametrize("op,n_bits", [("add", 8), ("add", 16), ("sub", 6), ("mixed", 4)])
def test_trie_shortcuts_give_the_plain_accuracy_of_a_partly_right_adder(op, n_bits):
    """Levels where every prefix has all children (or one shared one) broadcast instead of gathering: the
    accuracy, per bit and of whole numbers, must still be the plain forward pass's, for a net that is partly right."""
    from rnn_core.handbuilt import carry_adder_params
    from rnn_core.metrics import _task_trie

    task = Task(op, n_bits)
    rng = np.random.default_rng(4)
    params = carry_adder_params() if op == "add" else None
    H = params["W_rec"].shape[0] if params else 16
    model = ElmanRNN(task.n_in, H, 1, rng=rng)
    if params:
        model.set_params({k: v + rng.normal(scale=3.0, size=np.shape(v)) for k, v in params.items()})
    batch = task.exhaustive()
    plain = _evaluate_plain(model, batch)
    for dtype in (np.float64, np.float32):
        fast = evaluate(model, batch, dtype=dtype)
        assert fast.accuracy == pytest.approx(plain.accuracy, abs=2e-4 if dtype == np.float32 else 0)
        np.testing.assert_allclose(fast.bit_accuracy, plain.bit_accuracy, atol=2e-4 if dtype == np.float32 else 0)
    children = _task_trie(task).children
    assert children[0] > 1 and (op != "add" or children[-1] == 1)
    if op == "add":
        assert 0.0 < plain.accuracy < 1.0
