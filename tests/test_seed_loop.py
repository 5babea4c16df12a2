"""benchmarks/seed_loop.py, the benchmarks' baseline: the seed post's loop, quirks included."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import seed_loop  # noqa: E402

# The first log entries of the post's code (its loop with np.random.seed(0) before the weights are drawn), recorded
# from a run of that code: the rewrite must print them digit for digit.
POST_LOG_SEED_0 = [
    "learn count: 0",
    "error rate: 1.1463468071100067",
    "Failure : 30 + 58 = 1",
    "========================",
    "learn count: 500",
    "error rate: 0.4726628200947557",
    "Success : 65 + 93 = 158",
    "========================",
    "learn count: 1000",
    "error rate: 0.18449116456316333",
    "Success : 5 + 86 = 91",
    "========================",
]


def test_the_log_is_the_posts_for_the_same_seed():
    out = io.StringIO()
    seed_loop.run(1001, seed=0, out=out)
    assert out.getvalue().splitlines() == POST_LOG_SEED_0


def _loss(loop: seed_loop.SeedLoop, x: np.ndarray, target: np.ndarray) -> float:
    _, out = loop.forward(x)
    return 0.5 * float(np.sum((out - target) ** 2))


def test_the_recurrent_layer_gets_the_exact_gradient_and_the_output_layer_only_step_0s():
    """Finite differences of the squared error give the true gradient. The recurrent layer's update follows it; the
    output weights' update is the post's: only time step 0's term (its backward pass overwrites the gradient)."""
    loop = seed_loop.SeedLoop(np.random.RandomState(3), n_hidden=5, eta=1.0)
    _, _, x, target = loop.example()
    names = ("w_in", "w_rec", "b_rec", "w_out", "b_out")
    before = {name: getattr(loop, name).copy() for name in names}
    numeric = {}
    for name in names:
        param = getattr(loop, name)
        grad = np.zeros_like(param)
        for i in np.ndindex(param.shape):
            keep = param[i]
            param[i] = keep + 1e-6
            up = _loss(loop, x, target)
            param[i] = keep - 1e-6
            down = _loss(loop, x, target)
            param[i] = keep
            grad[i] = (up - down) / 2e-6
        numeric[name] = grad
    hidden, out = loop.forward(x)
    loop.step(x, target)
    applied = {name: before[name] - getattr(loop, name) for name in names}  # eta = 1: the gradient used
    for name in ("w_in", "w_rec", "b_rec"):
        np.testing.assert_allclose(applied[name], numeric[name], atol=1e-7)
    delta_0 = (out[:, 0, :] - target[:, 0, :]) * (1 - out[:, 0, :]) * out[:, 0, :]
    np.testing.assert_allclose(applied["w_out"], hidden[:, 1, :].T @ delta_0, atol=1e-12)
    np.testing.assert_allclose(applied["b_out"], delta_0.sum(axis=0), atol=1e-12)
    assert not np.allclose(applied["w_out"], numeric["w_out"], atol=1e-4)  # the quirk: not the true gradient
