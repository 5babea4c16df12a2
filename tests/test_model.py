"""The model's contract: shapes, h_0 = 0, params semantics, and agreement with an independent naive loop."""

import numpy as np
import pytest

from rnn_core import ElmanRNN


def naive_forward(p, x, cell="tanh"):
    """Written from the equations, one example and one step at a time (an independent reference)."""
    act = np.tanh if cell == "tanh" else (lambda u: 1 / (1 + np.exp(-u)))
    B, T, _ = x.shape
    H = p["W_rec"].shape[0]
    ys = np.zeros((B, T, 1))
    hs = np.zeros((B, T + 1, H))
    for b in range(B):
        h = np.zeros(H)
        for t in range(T):
            h = act(x[b, t] @ p["W_in"] + h @ p["W_rec"] + p["b_rec"])
            hs[b, t + 1] = h
            ys[b, t] = 1 / (1 + np.exp(-(h @ p["W_out"] + p["b_out"])))
    return ys, hs


@pytest.mark.parametrize("cell", ["tanh", "sigmoid"])
def test_forward_matches_naive_reference(cell):
    rng = np.random.default_rng(0)
    model = ElmanRNN(2, 32, 1, rng=rng, activation=cell)
    model.params["b_rec"] = rng.normal(size=32)
    model.params["b_out"] = rng.normal(size=1)
    x = rng.integers(0, 2, (3, 8, 2)).astype(float)
    y, states = model.forward(x)
    h = states["h"]
    y_ref, h_ref = naive_forward(model.params, x, cell)
    assert y.shape == (3, 8, 1) and h.shape == (3, 9, 32)
    assert np.all(h[:, 0] == 0)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h, h_ref, rtol=1e-12, atol=1e-14)


def test_param_shapes_and_init_scale():
    model = ElmanRNN(n_in=2, n_hidden=32, n_out=1, rng=np.random.default_rng(0))
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes == {"W_in": (2, 32), "W_rec": (32, 32), "b_rec": (32,), "W_out": (32, 1), "b_out": (1,)}
    assert np.all(model.params["b_rec"] == 0) and np.all(model.params["b_out"] == 0)
    # N(0, 1)/sqrt(fan_in): W_rec entries have std ~ 1/sqrt(32)
    assert 0.12 < model.params["W_rec"].std() < 0.23


def test_uniform_init_in_range():
    model = ElmanRNN(2, 16, 1, rng=np.random.default_rng(0), init="uniform")
    for k in ("W_in", "W_rec", "W_out"):
        assert model.params[k].min() >= -1 and model.params[k].max() < 1


def test_assigning_params_takes_effect_in_next_forward():
    model = ElmanRNN(2, 4, 1, rng=np.random.default_rng(0))
    x = np.ones((1, 3, 2))
    model.params["W_out"] = np.zeros((4, 1))
    model.params["b_out"] = np.array([2.0])
    y, _ = model.forward(x)
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-2.0)))
    model.params["W_in"] = np.zeros((2, 4))
    model.params["W_rec"] = np.zeros((4, 4))
    model.params["b_rec"] = np.full(4, 0.5)
    _, states = model.forward(x)
    np.testing.assert_allclose(states["h"][0, 1:], np.tanh(0.5))


def test_same_seed_same_weights_and_rng_is_not_global():
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    a = ElmanRNN(2, 8, 1, rng=np.random.default_rng(7))
    b = ElmanRNN(2, 8, 1, rng=np.random.default_rng(7))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert np.array_equal(np.random.get_state()[1], state)  # the global generator was not touched


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_in": 0, "n_hidden": 4}, "n_in"),
        ({"n_in": 2, "n_hidden": -1}, "n_hidden"),
        ({"n_in": 2, "n_hidden": 2.5}, "n_hidden"),
        ({"n_in": 2, "n_hidden": 4, "activation": "relu"}, "activation"),
        ({"n_in": 2, "n_hidden": 4, "init": "zeros"}, "init"),
        ({"n_in": 2, "n_hidden": 4, "dtype": np.int32}, "dtype"),
    ],
)
def test_bad_constructor_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ElmanRNN(**kwargs, rng=np.random.default_rng(0))


def test_bad_shapes_raise_clear_errors():
    model = ElmanRNN(2, 4, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"x must have shape"):
        model.forward(np.zeros((1, 8, 3)))
    with pytest.raises(ValueError, match=r"target must have shape"):
        model.loss_and_grads(np.zeros((1, 8, 2)), np.zeros((1, 7, 1)))
    with pytest.raises(ValueError, match=r"W_rec must have shape"):
        model.params["W_rec"] = np.zeros((3, 3))
    with pytest.raises(KeyError, match="unknown parameter"):
        model.params["W_hidden"] = np.zeros((4, 4))
    with pytest.raises(ValueError, match="loss"):
        model.loss_and_grads(np.zeros((1, 8, 2)), np.zeros((1, 8, 1)), loss="hinge")


def test_grad_h_norms_shape_and_values():
    rng = np.random.default_rng(1)
    model = ElmanRNN(2, 6, 1, rng=rng)
    x = rng.integers(0, 2, (2, 5, 2)).astype(float)
    t = rng.integers(0, 2, (2, 5, 1)).astype(float)
    model.forward_backward(x, t)
    norms = model.grad_h_norms()
    assert norms.shape == (5,)
    # the last step's dL/dh_T only has the output-layer part: |(y - t) y (1 - y)| * ||W_out||, averaged over batch
    y = model.last_output()
    d = np.abs((y[:, -1, 0] - t[:, -1, 0]) * y[:, -1, 0] * (1 - y[:, -1, 0]))
    np.testing.assert_allclose(norms[-1], np.mean(d * np.linalg.norm(model.params["W_out"])), rtol=1e-10)
