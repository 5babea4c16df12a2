"""The Elman cell's own gradient checks: both activations against finite differences (every cell's are in
test_cells.py), the output gradient summed over all steps (the post's bug), Trask's zero biases, float32."""

import numpy as np
import pytest
from test_cells import numerical_grad, rel_error

from rnn_core import ElmanRNN

PARAM_NAMES = ("W_in", "W_rec", "b_rec", "W_out", "b_out")


@pytest.mark.parametrize("cell", ["tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("T,B", [(1, 1), (8, 1), (1, 4), (8, 4)])
def test_bptt_matches_finite_differences(cell, loss, T, B):
    rng = np.random.default_rng(T * 10 + B)
    model = ElmanRNN(2, 5, 1, rng=rng, activation=cell)
    for name in PARAM_NAMES:  # non-zero biases too, so their gradients are exercised
        model.params[name] = rng.normal(0, 0.8, model.params[name].shape)
    x = rng.integers(0, 2, (B, T, 2)).astype(float)
    t = rng.integers(0, 2, (B, T, 1)).astype(float)
    _, analytic = model.loss_and_grads(x, t, loss)
    numeric = numerical_grad(model, x, t, loss)
    for name in PARAM_NAMES:
        assert analytic[name].shape == model.params[name].shape
        assert rel_error(analytic[name], numeric[name]) < 1e-6, name


def test_output_gradient_sums_over_all_time_steps():
    """The seed post keeps only the first step's W_out gradient; the true gradient is the sum over steps."""
    rng = np.random.default_rng(3)
    model = ElmanRNN(2, 4, 1, rng=rng)
    x = rng.integers(0, 2, (1, 8, 2)).astype(float)
    t = rng.integers(0, 2, (1, 8, 1)).astype(float)
    _, grads = model.loss_and_grads(x, t)
    y, states = model.forward(x)
    h = states["h"]
    delta = (y - t) * y * (1 - y)  # (1, T, 1)
    per_step = [h[0, s + 1][:, None] * delta[0, s] for s in range(8)]
    np.testing.assert_allclose(grads["W_out"], np.sum(per_step, axis=0), rtol=1e-12, atol=1e-15)
    assert not np.allclose(grads["W_out"], per_step[0])  # what the post's overwrite would leave


def test_trask_variant_keeps_biases_at_zero():
    rng = np.random.default_rng(0)
    model = ElmanRNN(2, 4, 1, rng=rng, activation="sigmoid", use_bias=False, init="uniform")
    x = rng.integers(0, 2, (2, 8, 2)).astype(float)
    _, grads = model.loss_and_grads(x, np.ones((2, 8, 1)))
    assert np.all(grads["b_rec"] == 0) and np.all(grads["b_out"] == 0)
    assert np.abs(grads["W_rec"]).sum() > 0


def test_float32_gradients_close_to_float64():
    rng = np.random.default_rng(5)
    m64 = ElmanRNN(2, 8, 1, rng=np.random.default_rng(1))
    m32 = ElmanRNN(2, 8, 1, rng=np.random.default_rng(1), dtype=np.float32)
    x = rng.integers(0, 2, (4, 8, 2)).astype(float)
    t = rng.integers(0, 2, (4, 8, 1)).astype(float)
    l64, g64 = m64.loss_and_grads(x, t)
    l32, g32 = m32.loss_and_grads(x, t)
    assert abs(l64 - l32) < 1e-4 * max(1.0, l64)
    for name in PARAM_NAMES:
        assert g32[name].dtype == np.float32
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-3, atol=1e-5)
