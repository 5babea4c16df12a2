"""rnn_core.fastnp: numpy's C functions without the __array_function__ dispatcher give numpy's results, bit for bit."""

import numpy as np
import pytest

from rnn_core import fastnp


@pytest.mark.parametrize("shape_a, shape_b", [((1, 35), (35, 32)), ((8, 33), (33, 1)), ((35, 8), (8, 32))])
def test_dot_into_out_matches_numpy_bit_for_bit(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
    out = np.empty((shape_a[0], shape_b[1]))
    fastnp.dot(a, b, out)
    assert np.array_equal(out, np.dot(a, b))


def test_dot_reads_strided_and_transposed_views_like_numpy():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(9, 1, 35))
    rows = z[1:].reshape(8, 35)[:, :33]  # the output layer's strided [h_t, 1] view
    w = rng.normal(size=(33, 1))
    assert np.array_equal(fastnp.dot(rows, w), np.dot(rows, w))
    assert np.array_equal(fastnp.dot(rows.T, rows), np.dot(rows.T, rows))


def test_vdot_and_copyto_match_numpy():
    rng = np.random.default_rng(2)
    d = rng.normal(size=(8, 1, 1))
    assert fastnp.vdot(d, d) == np.vdot(d, d)
    dst = np.zeros((8, 1, 2))
    src = rng.integers(0, 2, size=(8, 1, 2)).astype(float)
    fastnp.copyto(dst, src)
    assert np.array_equal(dst, src)


def test_the_functions_skip_the_dispatcher():
    for name in ("dot", "vdot", "copyto"):  # dispatched in numpy 2.x: if that ever changes, fastnp is moot
        assert getattr(fastnp, name) is not getattr(np, name)
        assert getattr(fastnp, name) is getattr(np, name)._implementation


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_constant_operand_gives_the_python_float_result_in_the_arrays_dtype(dtype):
    rng = np.random.default_rng(3)
    y = rng.normal(size=(8, 1, 1)).astype(dtype)
    for value in (0.5, 1.0, 0.1, 1e-3):
        c = fastnp.constant(value, dtype)
        assert c.shape == () and c.dtype == dtype and not c.flags.writeable
        for ufunc in (np.multiply, np.add, np.subtract):
            expected, got = ufunc(y, value), ufunc(y, c)
            assert got.dtype == expected.dtype == dtype
            assert np.array_equal(got, expected)
        assert np.array_equal(np.subtract(c, y), np.subtract(value, y))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_applies_each_new_learning_rate_exactly(dtype):
    from rnn_core.optim import SGD

    rng = np.random.default_rng(4)
    theta = rng.normal(size=50).astype(dtype)
    opt = SGD(theta.size, dtype=dtype)
    for lr in (0.1, 0.1, 0.25, 1e-4, 0.1):  # the same value again, a new one, and back
        grad = rng.normal(size=50).astype(dtype)
        expected = theta - grad * lr  # a Python float: numpy's weak-scalar arithmetic in dtype
        opt.update(theta, grad, lr)
        assert theta.dtype == dtype and np.array_equal(theta, expected)


def test_sgd_computes_in_the_gradients_dtype_whatever_its_buffer():
    from rnn_core.optim import SGD

    rng = np.random.default_rng(5)
    theta = rng.normal(size=1000).astype(np.float32)
    grad = rng.normal(size=1000).astype(np.float32)
    expected = theta - grad * 0.1
    SGD(theta.size).update(theta, grad, 0.1)  # a float64 optimizer given float32 arrays
    assert np.array_equal(theta, expected)
