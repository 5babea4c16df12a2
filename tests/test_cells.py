"""Every cell behind the one model interface: gradients against finite differences, the compiled (fast) path
against the plain reference path, the equations against a naive loop written from PyTorch's documentation, the
forward contract, and clear errors for a bad cell or option."""

import numpy as np
import pytest

from rnn_core import CELLS, make_model
from rnn_core.interop import from_torch, to_torch
from rnn_core.metrics import _evaluate_plain, evaluate
from rnn_core.tasks import Task


def random_model(cell: str, seed: int, n_in: int = 2, H: int = 4, n_out: int = 1, dtype=np.float64):
    """A model with every parameter (biases too) drawn N(0, 0.7^2), so every gradient entry is exercised."""
    rng = np.random.default_rng(seed)
    model = make_model(cell, n_in, H, n_out, rng, dtype)
    for name in model.params:
        model.params[name] = rng.normal(0, 0.7, model.params[name].shape)
    return model, rng


def numerical_grad(model, x, t, loss: str, eps: float = 1e-6) -> dict[str, np.ndarray]:
    """Central finite differences of the loss, one parameter entry at a time."""
    out = {}
    for name, p in model.params.items():
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            plus = model.loss_and_grads(x, t, loss)[0]
            p[idx] = old - eps
            minus = model.loss_and_grads(x, t, loss)[0]
            p[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
        out[name] = g
    return out


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||) over a whole parameter (entries near 0 are only good to ~1e-10 absolute)."""
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))


QUICK_SHAPES = [(1, 1), (8, 16)]
SLOW_SHAPES = [(8, 1), (1, 16), (64, 1), (64, 16)]
SHAPES = [*QUICK_SHAPES, *(pytest.param(*s, marks=pytest.mark.slow) for s in SLOW_SHAPES)]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("T,B", SHAPES)
def test_gradients_equal_finite_differences(cell, loss, T, B):
    model, rng = random_model(cell, 10 * T + B, H=3)
    x = rng.integers(0, 2, (B, T, 2)).astype(float)
    t = rng.integers(0, 2, (B, T, 1)).astype(float)
    _, analytic = model.loss_and_grads(x, t, loss)
    numeric = numerical_grad(model, x, t, loss)
    assert set(analytic) == set(model.params)
    for name in model.params:
        assert analytic[name].shape == model.params[name].shape
        assert rel_error(analytic[name], numeric[name]) < 1e-6, name


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("T,B", [(1, 1), (8, 1), (8, 16), (64, 3)])
def test_fast_path_equals_reference_path(cell, loss, T, B):
    model, rng = random_model(cell, T + 100 * B, n_in=3, H=6, n_out=2)
    x = rng.integers(0, 2, (B, T, 3)).astype(float)
    t = rng.integers(0, 2, (B, T, 2)).astype(float)
    y, states = model.forward(x)
    y_ref, states_ref = model.reference_forward(x)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    assert set(states) == set(states_ref) == set(model.state_names)
    for name in states:
        np.testing.assert_allclose(states[name], states_ref[name], rtol=1e-12, atol=1e-12)
    value, grads = model.loss_and_grads(x, t, loss)
    value_ref, grads_ref = model.reference_loss_and_grads(x, t, loss)
    assert value == pytest.approx(value_ref, rel=1e-12)
    for name in model.params:
        np.testing.assert_allclose(grads[name], grads_ref[name], rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_float32_fast_path_close_to_float64_reference(cell):
    m64, rng = random_model(cell, 5, H=8)
    m32 = m64.with_dtype(np.float32)
    x = rng.integers(0, 2, (4, 8, 2)).astype(float)
    t = rng.integers(0, 2, (4, 8, 1)).astype(float)
    l64, g64 = m64.reference_loss_and_grads(x, t)
    l32, g32 = m32.loss_and_grads(x, t)
    assert l32 == pytest.approx(l64, rel=1e-5)
    for name in m64.params:
        assert g32[name].dtype == np.float32
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-3, atol=1e-4)


def sig(u):
    return 1.0 / (1.0 + np.exp(-u))


def naive_forward(cell: str, p: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's documented equations, one example and one step at a time, gate blocks split out by hand
    (W_in's and W_rec's columns are the gates side by side in PyTorch's order)."""
    B, T, _ = x.shape
    H = p["W_out"].shape[0]
    ys, hs = np.zeros((B, T, 1)), np.zeros((B, T + 1, H))
    blk = lambda w, k: w[..., k * H : (k + 1) * H]  # noqa: E731
    for b in range(B):
        h, c = np.zeros(H), np.zeros(H)
        for t in range(T):
            xt = x[b, t]
            if cell == "elman":
                h = np.tanh(xt @ p["W_in"] + h @ p["W_rec"] + p["b_rec"])
            elif cell == "gru":
                gi = [xt @ blk(p["W_in"], k) + blk(p["b_in"], k) for k in range(3)]
                gh = [h @ blk(p["W_rec"], k) + blk(p["b_rec"], k) for k in range(3)]
                r, z = sig(gi[0] + gh[0]), sig(gi[1] + gh[1])
                n = np.tanh(gi[2] + r * gh[2])
                h = (1 - z) * n + z * h
            else:
                a = [xt @ blk(p["W_in"], k) + h @ blk(p["W_rec"], k) + blk(p["b_rec"], k) for k in range(4)]
                i, f, g, o = sig(a[0]), sig(a[1]), np.tanh(a[2]), sig(a[3])
                c = f * c + i * g
                h = o * np.tanh(c)
            hs[b, t + 1] = h
            ys[b, t] = sig(h @ p["W_out"] + p["b_out"])
    return ys, hs


@pytest.mark.parametrize("cell", CELLS)
def test_equations_are_pytorchs(cell):
    model, rng = random_model(cell, 7, H=5)
    x = rng.integers(0, 2, (3, 6, 2)).astype(float)
    y, states = model.forward(x)
    y_ref, h_ref = naive_forward(cell, model.params, x)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(states["h"], h_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_forward_contract(cell):
    model = make_model(cell, 2, 7, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).integers(0, 2, (5, 9, 2)).astype(float)
    y, states = model.forward(x)
    assert y.shape == (5, 9, 1) and ((y > 0) & (y < 1)).all()
    assert set(states) == ({"h", "c"} if cell == "lstm" else {"h"})
    for value in states.values():
        assert value.shape == (5, 10, 7)
        assert np.all(value[:, 0] == 0)
    assert model.cell == cell
    assert set(model.params) == set(type(model).param_shapes(2, 7))


@pytest.mark.parametrize("cell", CELLS)
def test_parameter_shapes_follow_the_gates(cell):
    model = make_model(cell, 3, 4, 2, np.random.default_rng(0))
    G = {"elman": 4, "gru": 12, "lstm": 16}[cell]
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes["W_in"] == (3, G) and shapes["W_rec"] == (4, G) and shapes["b_rec"] == (G,)
    assert shapes["W_out"] == (4, 2) and shapes["b_out"] == (2,)
    assert model.theta.size == sum(np.prod(s) for s in shapes.values())


def test_lstm_forget_gate_bias_starts_at_forget_bias():
    model = make_model("lstm", 2, 3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(model.params["b_rec"], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    other = make_model("lstm", 2, 3, rng=np.random.default_rng(0), forget_bias=0.0)
    assert not other.params["b_rec"].any()


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("op,n_bits", [("add", 6), ("mixed", 3)])
def test_prefix_evaluation_matches_plain_forward(cell, op, n_bits):
    task = Task(op, n_bits)
    model, _ = random_model(cell, 2, n_in=task.n_in, H=6)
    batch = task.exhaustive()
    fast = evaluate(model, batch, details=True)
    plain = _evaluate_plain(model, batch)
    assert fast.accuracy == plain.accuracy
    assert np.array_equal(fast.wrong_bits, plain.wrong_bits)
    np.testing.assert_allclose(fast.prob, plain.prob, atol=1e-12)
    np.testing.assert_allclose(fast.hidden, plain.hidden, atol=1e-12)


def test_unknown_cell_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown cell 'rnn'; choose one of elman, gru, lstm"):
        make_model("rnn", 2, 4)


@pytest.mark.parametrize(
    "cell, options, message",
    [
        ("gru", {"activation": "sigmoid"}, "the gru cell has no option activation"),
        ("elman", {"forget_bias": 1.0}, "the elman cell has no option forget_bias"),
        ("lstm", {"init": "zeros"}, "init must be one of"),
        ("elman", {"activation": "relu"}, "activation must be one of"),
    ],
)
def test_bad_options_are_refused_by_name(cell, options, message):
    with pytest.raises(ValueError, match=message):
        make_model(cell, 2, 4, **options)


@pytest.mark.parametrize("cell", CELLS)
def test_training_pass_is_the_forward_and_backward(cell):
    """The trainer's fast step (inputs written time-major, run(target)) gives loss_and_grads' numbers."""
    model, rng = random_model(cell, 3)
    x = rng.integers(0, 2, (2, 5, 2)).astype(float)
    t = rng.integers(0, 2, (2, 5, 1)).astype(float)
    value, grads = model.loss_and_grads(x, t)
    inputs, outputs, run = model.training_pass(5, 2, "mse")
    model.grad[...] = 0.0
    inputs[...] = x.transpose(1, 0, 2)
    assert run(np.ascontiguousarray(t.transpose(1, 0, 2))) == value
    for name in model.params:
        np.testing.assert_array_equal(model.grads[name], grads[name])
    np.testing.assert_array_equal(outputs.transpose(1, 0, 2), model.forward(x)[0])


# -- rnn_core.interop: numpy arrays in PyTorch's state_dict layout (the comparison with torch itself is in
# tests/test_torch_interop.py; these need no torch) ---------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_to_torch_and_from_torch_round_trip_every_number(cell):
    model, _ = random_model(cell, 4, n_in=3, H=5, n_out=2)
    sd = to_torch(model)
    assert set(sd) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "out.weight", "out.bias"}
    G = model.n_gates * 5
    assert sd["weight_ih_l0"].shape == (G, 3) and sd["weight_hh_l0"].shape == (G, 5)
    assert sd["bias_ih_l0"].shape == sd["bias_hh_l0"].shape == (G,)
    assert sd["out.weight"].shape == (2, 5) and sd["out.bias"].shape == (2,)
    back = from_torch(cell, sd)
    assert back.cell == cell
    for name in model.params:
        np.testing.assert_array_equal(back.params[name], model.params[name])


@pytest.mark.parametrize("cell", ["elman", "lstm"])
def test_a_bias_kept_once_is_exported_as_bias_and_zeros_and_imported_as_their_sum(cell):
    model, rng = random_model(cell, 6)
    sd = to_torch(model)
    np.testing.assert_array_equal(sd["bias_ih_l0"], model.params["b_rec"])
    assert not sd["bias_hh_l0"].any()
    split = rng.normal(size=sd["bias_ih_l0"].shape)
    moved = from_torch(cell, {**sd, "bias_ih_l0": sd["bias_ih_l0"] - split, "bias_hh_l0": split})
    np.testing.assert_allclose(moved.params["b_rec"], model.params["b_rec"], rtol=0, atol=1e-15)
    x = rng.integers(0, 2, (2, 4, 2)).astype(float)
    _, grads = model.loss_and_grads(x, np.ones((2, 4, 1)))
    g = to_torch(model, grads)  # PyTorch reports the same gradient for both of its biases
    np.testing.assert_array_equal(g["bias_ih_l0"], grads["b_rec"])
    np.testing.assert_array_equal(g["bias_hh_l0"], grads["b_rec"])
    np.testing.assert_array_equal(g["weight_hh_l0"], grads["W_rec"].T)


def test_gate_order_is_pytorchs():
    """GRU rows r, z, n and LSTM rows i, f, g, o: the LSTM's forget bias (1) lands in PyTorch's second block."""
    lstm = make_model("lstm", 2, 3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(to_torch(lstm)["bias_ih_l0"], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    gru, _ = random_model("gru", 1, H=3)
    np.testing.assert_array_equal(to_torch(gru)["weight_hh_l0"][6:9], gru.params["W_rec"][:, 6:9].T)  # n's rows


@pytest.mark.parametrize(
    "cell, change, message",
    [
        ("gru", {"weight_ih": None}, r"not a gru state_dict \(unknown weight_ih\)"),
        ("gru", {"bias_hh_l0": "drop"}, r"not a gru state_dict \(missing bias_hh_l0\)"),
        ("lstm", {"weight_hh_l0": np.zeros((12, 4))}, r"weight_hh_l0 has shape \(12, 4\), expected \(12, 3\)"),
        ("elman", {"bias_ih_l0": np.zeros(4)}, r"bias_ih_l0 has shape \(4,\), expected \(3,\)"),
        ("gru", {"weight_ih_l0": np.array([["a", "b"]] * 9)}, r"weight_ih_l0 must hold numbers"),
    ],
)
def test_from_torch_refuses_wrong_names_and_shapes_by_name(cell, change, message):
    model, _ = random_model(cell, 2, H=3)
    sd = to_torch(model)
    for key, value in change.items():
        if value is None:
            sd[key] = np.zeros(1)
        elif isinstance(value, str):
            del sd[key]
        else:
            sd[key] = value
    with pytest.raises(ValueError, match=message):
        from_torch(cell, sd)


def test_from_torch_refuses_another_cells_state_dict():
    sd = to_torch(random_model("lstm", 2, H=3)[0])
    with pytest.raises(ValueError, match=r"weight_ih_l0 has shape \(12, 2\), expected \(9, 2\) for a gru cell"):
        from_torch("gru", sd)
    with pytest.raises(ValueError, match=r"unknown cell 'rnn'"):
        from_torch("rnn", sd)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_trainer_runs_a_gated_cell_the_same_however_the_steps_are_split(cell):
    from rnn_core.train import TrainConfig, Trainer

    config = TrainConfig(cell=cell, n_hidden=6, batch_size=3, eval_every=25)
    whole, split = Trainer(config), Trainer(config)
    whole.train(70)
    for n in (1, 30, 39):
        split.train(n)
    np.testing.assert_array_equal(whole.model.theta, split.model.theta)
    np.testing.assert_array_equal(whole.evals.array("accuracy"), split.evals.array("accuracy"))
    assert np.isnan(whole.evals.array("spectral_radius")).all()  # a gated cell has no single recurrence matrix
