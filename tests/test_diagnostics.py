"""Tests of rnn_core.diagnostics and rnn_core.handbuilt.

The hand-built adder is the ground truth: it must add exactly (8-bit exhaustive and 64-bit random), and every
diagnostic must recognise it (carry unit, 100 % probe, the 2-state adder automaton). An untrained network is
the negative control. The remaining tests pin each function on tiny inputs whose answer is known by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core import ElmanRNN
from rnn_core import diagnostics as D
from rnn_core.handbuilt import CARRY_UNIT, carry_adder_params

# ----------------------------------------------------------------------------------------------------------
# helpers: bits, carries and the network's sums, computed independently of the code under test


def lsb_bits(values: np.ndarray, n_bits: int) -> np.ndarray:
    """values (N,) uint64 -> (N, n_bits) uint8, bit t in column t."""
    shifts = np.arange(n_bits, dtype=np.uint64)
    return ((values[:, None] >> shifts) & np.uint64(1)).astype(np.uint8)


def from_lsb_bits(bits: np.ndarray) -> np.ndarray:
    """(N, T) 0/1 -> (N,) uint64."""
    shifts = np.arange(bits.shape[1], dtype=np.uint64)
    return np.bitwise_or.reduce(bits.astype(np.uint64) << shifts, axis=1)


def carry_out(a_bits: np.ndarray, b_bits: np.ndarray) -> np.ndarray:
    """(N, T) carry out of each bit of a + b."""
    N, T = a_bits.shape
    c = np.zeros(N, dtype=np.int64)
    out = np.zeros((N, T), dtype=np.uint8)
    for t in range(T):
        c = (a_bits[:, t].astype(np.int64) + b_bits[:, t] + c >= 2).astype(np.int64)
        out[:, t] = c
    return out


def addition_inputs(a: np.ndarray, b: np.ndarray, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """x (N, T, 2) float and carry_out (N, T) for a + b."""
    A, B = lsb_bits(a, n_bits), lsb_bits(b, n_bits)
    return np.stack([A, B], axis=-1).astype(np.float64), carry_out(A, B)


def run_network(params: dict | None, x: np.ndarray, n_hidden: int):
    """y (N, T, 1), h (N, T+1, H) of an ElmanRNN with the given params (None: random init, seed 0)."""
    model = ElmanRNN(2, n_hidden, 1, np.random.default_rng(0), activation="tanh")
    if params is not None:
        for name, value in params.items():
            model.params[name] = value
    y, states = model.forward(x)
    return y, states["h"]


def run_machine(m: D.Automaton, a_bits: np.ndarray, b_bits: np.ndarray) -> np.ndarray:
    """Outputs (N, T) of an automaton fed (a, b) bit pairs, vectorised over N."""
    state = np.full(a_bits.shape[0], m.start)
    outs = np.zeros(a_bits.shape, dtype=np.int64)
    for t in range(a_bits.shape[1]):
        i = a_bits[:, t].astype(np.int64) + 2 * b_bits[:, t]
        outs[:, t] = m.output[state, i]
        state = m.delta[state, i]
    return outs


@pytest.fixture(scope="module")
def all_8bit():
    """All 128 x 128 operand pairs (< 128, so a + b fits 8 bits)."""
    a, b = np.meshgrid(np.arange(128, dtype=np.uint64), np.arange(128, dtype=np.uint64), indexing="ij")
    a, b = a.ravel(), b.ravel()
    x, carry = addition_inputs(a, b, 8)
    return a, b, x, carry


@pytest.fixture(scope="module")
def handbuilt_run(all_8bit):
    a, b, x, carry = all_8bit
    y, h = run_network(carry_adder_params(3), x, 3)
    return y, h


@pytest.fixture(scope="module")
def untrained_run(all_8bit):
    a, b, x, carry = all_8bit
    y, h = run_network(None, x, 32)
    return y, h


# ----------------------------------------------------------------------------------------------------------
# the hand-built adder


def test_handbuilt_adds_all_8bit_pairs_exactly(all_8bit, handbuilt_run):
    a, b, x, carry = all_8bit
    y, h = handbuilt_run
    assert y.shape == (16384, 8, 1) and h.shape == (16384, 9, 3)
    pred = (y[..., 0] > 0.5).astype(np.uint8)
    np.testing.assert_array_equal(from_lsb_bits(pred), a + b)
    assert np.min(np.abs(y - 0.5)) > 0.49  # saturated: every output is within 0.01 of its bit


def test_handbuilt_adds_random_64bit_pairs_exactly():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2**63, size=2000, dtype=np.uint64)
    b = rng.integers(0, 2**63, size=2000, dtype=np.uint64)
    assert a.max() > 2**62 and b.max() > 2**62  # really uses the top bits
    x, carry = addition_inputs(a, b, 64)
    assert carry.sum(axis=1).max() > 10  # long carry chains are present
    y, _ = run_network(carry_adder_params(3), x, 3)
    pred = (y[..., 0] > 0.5).astype(np.uint8)
    np.testing.assert_array_equal(from_lsb_bits(pred), a + b)  # a + b < 2**64: no wrap


def test_handbuilt_gain_10_is_still_exact_and_gain_3_is_not():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2**63, size=500, dtype=np.uint64)
    b = rng.integers(0, 2**63, size=500, dtype=np.uint64)
    x, _ = addition_inputs(a, b, 64)
    sums = {}
    for gain in (10.0, 3.0):
        y, _ = run_network(carry_adder_params(3, gain=gain), x, 3)
        sums[gain] = from_lsb_bits((y[..., 0] > 0.5).astype(np.uint8))
    np.testing.assert_array_equal(sums[10.0], a + b)
    assert np.mean(sums[3.0] == a + b) < 0.5


def test_handbuilt_extra_units_are_silent_and_change_nothing(all_8bit, handbuilt_run):
    a, b, x, carry = all_8bit
    params = carry_adder_params(6)
    assert params["W_in"].shape == (2, 6) and params["W_rec"].shape == (6, 6)
    assert params["W_out"].shape == (6, 1) and params["b_rec"].shape == (6,) and params["b_out"].shape == (1,)
    assert not params["W_in"][:, 3:].any() and not params["W_rec"][3:].any() and not params["W_out"][3:].any()
    y, h = run_network(params, x, 6)
    np.testing.assert_array_equal(h[..., 3:], 0.0)
    np.testing.assert_allclose(y, handbuilt_run[0], rtol=0, atol=1e-12)


def test_handbuilt_carry_unit_holds_the_carry(all_8bit, handbuilt_run):
    _, _, _, carry = all_8bit
    h = handbuilt_run[1]
    unit = h[:, 1:, CARRY_UNIT]
    np.testing.assert_array_equal(unit > 0, carry == 1)
    assert np.min(np.abs(unit)) > 0.999


@pytest.mark.parametrize(("n_hidden", "gain"), [(2, 20.0), (0, 20.0), (3, 0.0), (3, -1.0), (3, np.inf)])
def test_handbuilt_rejects_bad_arguments(n_hidden, gain):
    with pytest.raises(ValueError):
        carry_adder_params(n_hidden, gain)


def test_handbuilt_dtype():
    params = carry_adder_params(4, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in params.values())


def test_diagnostics_recognise_the_handbuilt_adder(all_8bit, handbuilt_run):
    _, _, x, carry = all_8bit
    y, h = handbuilt_run
    states = h[:, 1:]
    corr = D.carry_correlation(states, carry)
    assert corr.shape == (3,)
    assert corr[CARRY_UNIT] > 0.99
    assert D.best_carry_units(corr)[0] == CARRY_UNIT
    probe = D.fit_linear_probe(states, carry)
    assert probe.accuracy == 1.0
    assert D.probe_accuracy(probe, states, carry) == 1.0

    pred = (y[..., 0] > 0.5).astype(np.uint8)
    m = D.extract_automaton(h, x, pred, rng=np.random.default_rng(0))
    assert m.n_states == 2
    assert D.equivalent(m, D.adder_automaton())
    assert not D.equivalent(m, D.subtractor_automaton())
    assert m.consistency == 1.0
    report = D.automaton_report(m)
    assert report == {
        "n_states": 2,
        "n_clusters": m.n_clusters,
        "consistency": 1.0,
        "equivalent_to_reference": True,
        "equivalent_to_adder": True,
    }
    # The clusters map every hidden state to its machine state: state 1 (reached by 1 + 1 from the start) is
    # the carry.
    labels = D.assign_to_centres(states.reshape(-1, 3), m.centres)
    np.testing.assert_array_equal(m.cluster_state[labels].reshape(carry.shape), carry)
    assert m.start == 0 and m.cluster_state[D.assign_to_centres(h[:1, 0], m.centres)[0]] == m.start


def test_diagnostics_on_untrained_network(all_8bit, untrained_run):
    a, b, x, carry = all_8bit
    y, h = untrained_run
    pred = (y[..., 0] > 0.5).astype(np.uint8)
    assert np.mean(from_lsb_bits(pred) == a + b) < 0.05  # it cannot add
    states = h[:, 1:]
    corr = D.carry_correlation(states, carry)
    assert np.max(np.abs(corr)) < 0.9  # no unit is the carry
    # Random features decode the carry surprisingly often (a and b decide it whenever they agree), but not
    # always: the probe stays clearly below 100 %.
    probe = D.fit_linear_probe(states, carry)
    assert 0.6 < probe.accuracy < 0.98
    m = D.extract_automaton(h, x, pred, rng=np.random.default_rng(0))
    assert not D.equivalent(m, D.adder_automaton())
    assert m.consistency < 0.99
    assert D.automaton_report(m)["equivalent_to_adder"] is False


# ----------------------------------------------------------------------------------------------------------
# 1. carry correlation


def test_carry_correlation_by_hand():
    rng = np.random.default_rng(0)
    carry = rng.integers(0, 2, size=(50, 6))
    noise = rng.standard_normal((50, 6))
    states = np.stack(
        [
            2.0 * carry - 1.0,  # perfectly correlated
            0.3 - 5.0 * carry,  # perfectly anti-correlated
            np.full((50, 6), 0.7),  # constant: 0, not NaN
            np.zeros((50, 6)),  # all zero
            noise,
        ],
        axis=-1,
    )
    corr = D.carry_correlation(states, carry)
    assert corr.shape == (5,) and np.all(np.isfinite(corr))
    np.testing.assert_allclose(corr[:4], [1.0, -1.0, 0.0, 0.0], atol=1e-12)
    expected = np.corrcoef(noise.ravel(), carry.ravel())[0, 1]
    np.testing.assert_allclose(corr[4], expected, rtol=1e-10)
    np.testing.assert_array_equal(D.best_carry_units(corr, 2), [0, 1])


def test_carry_correlation_of_a_nearly_constant_unit_is_exact():
    # A saturated unit: 0.9999 plus variations 1e-7 that track the carry. Raw moments would cancel badly.
    rng = np.random.default_rng(1)
    carry = rng.integers(0, 2, size=(400, 5))
    wiggle = rng.standard_normal((400, 5))
    unit = 0.9999 + 1e-7 * (carry + 0.5 * wiggle)
    corr = D.carry_correlation(unit[..., None], carry)
    expected = np.corrcoef((carry + 0.5 * wiggle).ravel(), carry.ravel())[0, 1]
    np.testing.assert_allclose(corr[0], expected, rtol=1e-6)


def test_carry_correlation_constant_carry_gives_zeros():
    states = np.random.default_rng(0).standard_normal((10, 4, 3))
    np.testing.assert_array_equal(D.carry_correlation(states, np.ones((10, 4))), 0.0)


def test_carry_correlation_views_and_weights():
    rng = np.random.default_rng(2)
    h = rng.standard_normal((40, 6, 4))
    carry = rng.integers(0, 2, size=(40, 5))
    view = h[:, 1:]  # not contiguous: handled step by step
    np.testing.assert_allclose(
        D.carry_correlation(view, carry), D.carry_correlation(np.ascontiguousarray(view), carry), atol=1e-12
    )
    # Integer weights act like repeating examples.
    w = rng.integers(0, 4, size=40)
    repeated = np.repeat(np.arange(40), w)
    np.testing.assert_allclose(
        D.carry_correlation(view, carry, weights=w.astype(float)),
        D.carry_correlation(view[repeated], carry[repeated]),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    ("states_shape", "carry_shape", "weights"),
    [
        ((5, 3, 2), (5, 4), None),
        ((5, 3), (5, 3), None),
        ((5, 3, 2), (5, 3), np.ones(4)),
        ((5, 3, 2), (5, 3), -np.ones(5)),
    ],
)
def test_carry_correlation_rejects_bad_shapes(states_shape, carry_shape, weights):
    with pytest.raises(ValueError):
        D.carry_correlation(np.zeros(states_shape), np.zeros(carry_shape), weights=weights)


def test_best_carry_units_orders_by_absolute_value():
    corr = np.array([0.1, -0.9, 0.5, 0.9, 0.0])
    np.testing.assert_array_equal(D.best_carry_units(corr, 3), [1, 3, 2])  # tie: lower index first
    assert len(D.best_carry_units(corr, 10)) == 5
    with pytest.raises(ValueError):
        D.best_carry_units(corr, 0)


# ----------------------------------------------------------------------------------------------------------
# 2. linear probe


def test_probe_separable_data_is_perfect():
    rng = np.random.default_rng(3)
    carry = rng.integers(0, 2, size=(100, 4))
    states = rng.standard_normal((100, 4, 3))
    states[..., 2] += 3.0 * (2 * carry - 1)  # unit 2 separates the classes by a wide margin
    probe = D.fit_linear_probe(states, carry)
    assert probe.weights.shape == (3,)
    assert probe.accuracy == 1.0
    assert abs(probe.weights[2]) > 5 * max(abs(probe.weights[0]), abs(probe.weights[1]))


def test_probe_matches_least_squares():
    rng = np.random.default_rng(4)
    states = rng.standard_normal((60, 5, 3))
    carry = rng.integers(0, 2, size=(60, 5))
    probe = D.fit_linear_probe(states, carry, l2=0.0)
    X = np.column_stack([states.reshape(-1, 3), np.ones(300)])
    coef = np.linalg.lstsq(X, 2.0 * carry.ravel() - 1.0, rcond=None)[0]
    np.testing.assert_allclose(probe.weights, coef[:3], atol=1e-10)
    np.testing.assert_allclose(probe.bias, coef[3], atol=1e-10)
    hits = ((X @ coef) > 0) == (carry.ravel() == 1)
    assert probe.accuracy == pytest.approx(hits.mean())


def test_probe_ridge_shrinks_weights():
    rng = np.random.default_rng(5)
    states = rng.standard_normal((80, 5, 4))
    carry = (states[..., 0] > 0).astype(int)
    small = D.fit_linear_probe(states, carry, l2=1e-6)
    big = D.fit_linear_probe(states, carry, l2=10.0)
    assert np.linalg.norm(big.weights) < 0.2 * np.linalg.norm(small.weights)
    with pytest.raises(ValueError):
        D.fit_linear_probe(states, carry, l2=-1.0)


def test_probe_accuracy_on_new_data_and_weights():
    rng = np.random.default_rng(6)
    states = rng.standard_normal((50, 4, 2))
    states[..., 0] += np.sign(states[..., 0])  # a margin of 1 around the boundary
    carry = (states[..., 0] > 0).astype(int)
    probe = D.fit_linear_probe(states, carry)
    assert probe.accuracy == 1.0
    np.testing.assert_allclose(D.probe_accuracy(probe, states, 1 - carry), 0.0)
    with pytest.raises(ValueError):
        D.probe_accuracy(probe, np.zeros((5, 4, 3)), np.zeros((5, 4)))
    # Integer weights act like repeating examples.
    noisy = rng.integers(0, 2, size=(50, 4))
    w = rng.integers(0, 3, size=50)
    repeated = np.repeat(np.arange(50), w)
    weighted = D.fit_linear_probe(states, noisy, weights=w.astype(float))
    direct = D.fit_linear_probe(states[repeated], noisy[repeated])
    np.testing.assert_allclose(weighted.weights, direct.weights, atol=1e-10)
    assert weighted.accuracy == pytest.approx(direct.accuracy)


# ----------------------------------------------------------------------------------------------------------
# 3. PCA


def test_pca_points_on_a_line():
    direction = np.array([1.0, -2.0, 2.0]) / 3.0
    t = np.linspace(-1, 2, 30)
    X = np.array([0.5, 0.1, -0.3]) + t[:, None] * direction
    pca = D.pca_2d(X)
    np.testing.assert_allclose(pca.explained_variance_ratio, [1.0, 0.0], atol=1e-12)
    # Sign convention: largest-|.| entry positive, so the direction comes out as -direction.
    np.testing.assert_allclose(pca.components[0], -direction, atol=1e-10)
    np.testing.assert_array_equal(pca.components[1], 0.0)
    np.testing.assert_allclose(pca.points[:, 0], -(t - t.mean()), atol=1e-10)
    np.testing.assert_allclose(pca.mean, X.mean(axis=0), atol=1e-12)


def test_pca_matches_svd():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 4)) * np.array([3.0, 1.0, 0.5, 0.1]) + 5.0
    pca = D.pca_2d(X)
    Xc = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    np.testing.assert_allclose(pca.explained_variance_ratio, (s**2 / (s**2).sum())[:2], rtol=1e-10)
    np.testing.assert_allclose(np.abs(pca.components), np.abs(vt[:2]), atol=1e-10)
    np.testing.assert_allclose(pca.points, Xc @ pca.components.T, atol=1e-10)
    idx = np.argmax(np.abs(pca.components), axis=1)
    assert np.all(pca.components[[0, 1], idx] > 0)
    assert pca.points.shape == (200, 2)


def test_pca_one_unit_and_bad_input():
    pca = D.pca_2d(np.arange(5.0)[:, None])
    assert pca.components.shape == (2, 1)
    np.testing.assert_allclose(pca.explained_variance_ratio, [1.0, 0.0])
    np.testing.assert_allclose(pca.points[:, 0], np.arange(5.0) - 2.0)
    with pytest.raises(ValueError):
        D.pca_2d(np.zeros((0, 3)))
    with pytest.raises(ValueError):
        D.pca_2d(np.zeros(4))


def test_carry_summary_agrees_with_the_single_functions():
    rng = np.random.default_rng(8)
    h = np.tanh(rng.standard_normal((30, 7, 5)))
    carry = rng.integers(0, 2, size=(30, 6))
    states = h[:, 1:]
    summary = D.carry_summary(states, carry)
    np.testing.assert_allclose(summary.corr, D.carry_correlation(states, carry), atol=1e-12)
    probe = D.fit_linear_probe(states, carry)
    np.testing.assert_allclose(summary.probe.weights, probe.weights, atol=1e-12)
    assert summary.probe.accuracy == probe.accuracy
    pca = D.pca_2d(states.reshape(-1, 5))
    np.testing.assert_allclose(summary.pca.points, pca.points, atol=1e-12)
    assert summary.best_unit == D.best_carry_units(summary.corr)[0]


# ----------------------------------------------------------------------------------------------------------
# 4. k-means


def test_kmeans_finds_separated_blobs():
    rng = np.random.default_rng(9)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    truth = np.repeat([0, 1, 2], 40)
    points = centres[truth] + 0.3 * rng.standard_normal((120, 2))
    labels, found = D.kmeans(points, 3, np.random.default_rng(0))
    assert labels.shape == (120,) and found.shape == (3, 2)
    # Same partition up to renaming.
    assert len(set(zip(truth.tolist(), labels.tolist(), strict=True))) == 3
    matched = found[labels[[0, 40, 80]]]
    np.testing.assert_allclose(matched, centres, atol=0.2)
    for j in range(3):  # converged: every centre is the mean of its points
        np.testing.assert_allclose(found[j], points[labels == j].mean(axis=0), atol=1e-12)
    np.testing.assert_array_equal(D.assign_to_centres(points, found), labels)
    # Reproducible with the same seed.
    labels2, found2 = D.kmeans(points, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(labels, labels2)
    np.testing.assert_array_equal(found, found2)


def test_kmeans_with_fewer_distinct_points_than_k():
    points = np.array([[0.0], [0.0], [1.0], [1.0]])
    labels, centres = D.kmeans(points, 3, np.random.default_rng(0))
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]
    assert np.all(np.isfinite(centres))


def test_kmeans_rejects_bad_k():
    with pytest.raises(ValueError):
        D.kmeans(np.zeros((3, 2)), 4, np.random.default_rng(0))
    with pytest.raises(ValueError):
        D.kmeans(np.zeros((3, 2)), 0, np.random.default_rng(0))


# ----------------------------------------------------------------------------------------------------------
# 5. automata


def test_reference_automata_do_arithmetic():
    rng = np.random.default_rng(10)
    a = rng.integers(0, 2**16, size=300, dtype=np.uint64)
    b = rng.integers(0, 2**16, size=300, dtype=np.uint64)
    A, B = lsb_bits(a, 17), lsb_bits(b, 17)
    adder = D.adder_automaton()
    assert adder.n_states == 2 and adder.start == 0
    np.testing.assert_array_equal(from_lsb_bits(run_machine(adder, A, B)), a + b)
    sub = D.subtractor_automaton()
    np.testing.assert_array_equal(from_lsb_bits(run_machine(sub, A, B)), (a - b) % np.uint64(2**17))
    assert len(adder.transitions) == 8
    assert (1, (1, 1), 1, 1) in adder.transitions  # carry, 1 + 1 -> carry, out 1
    assert (0, (1, 0), 0, 1) in adder.transitions


def permuted(m: D.Automaton, perm: list[int]) -> D.Automaton:
    """The same machine with state s renamed perm[s]."""
    perm = np.asarray(perm)
    delta = np.empty_like(m.delta)
    output = np.empty_like(m.output)
    delta[perm] = np.where(m.delta >= 0, perm[m.delta], -1)
    output[perm] = m.output
    return D.Automaton(n_states=m.n_states, start=int(perm[m.start]), delta=delta, output=output)


def test_equivalent():
    adder = D.adder_automaton()
    assert D.equivalent(adder, adder)
    assert D.equivalent(adder, permuted(adder, [1, 0]))
    flipped = D.Automaton(n_states=2, start=0, delta=adder.delta, output=adder.output.copy())
    flipped.output[1, 3] ^= 1
    assert not D.equivalent(adder, flipped)
    assert not D.equivalent(adder, D.subtractor_automaton())
    # A different unreachable state does not matter.
    extra = D.Automaton(
        n_states=3,
        start=0,
        delta=np.vstack([adder.delta, [2, 2, 2, 2]]),
        output=np.vstack([adder.output, [1, 1, 1, 1]]),
    )
    assert D.equivalent(adder, extra)
    # A hole only matches a hole.
    holey = D.Automaton(n_states=2, start=0, delta=adder.delta.copy(), output=adder.output.copy())
    holey.delta[1, 0] = holey.output[1, 0] = -1
    assert not D.equivalent(adder, holey)
    assert D.equivalent(holey, permuted(holey, [1, 0]))
    # A missing transition is a difference even where the output is known.
    partial = D.Automaton(n_states=2, start=0, delta=adder.delta.copy(), output=adder.output)
    partial.delta[1, 0] = -1
    assert not D.equivalent(adder, partial) and not D.equivalent(partial, adder)
    with pytest.raises(ValueError):
        D.equivalent(adder, D.Automaton(n_states=1, start=0, delta=np.zeros((1, 3)), output=np.zeros((1, 3))))


def test_minimize_merges_duplicates_and_drops_unreachable():
    adder = D.adder_automaton()
    # 0: no carry, 1 and 2: two copies of "carry" (1 goes to 2 on carry, 2 to 1), 3: unreachable.
    delta = np.array([[0, 0, 0, 1], [0, 2, 2, 2], [0, 1, 1, 1], [3, 3, 3, 3]])
    output = np.array([[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 0, 0, 0]])
    m = D.Automaton(n_states=4, start=0, delta=delta, output=output, cluster_state=np.arange(4))
    assert D.equivalent(m, adder)
    small = D.minimize(m)
    assert small.n_states == 2 and small.start == 0
    np.testing.assert_array_equal(small.delta, adder.delta)  # canonical numbering = the reference's
    np.testing.assert_array_equal(small.output, adder.output)
    np.testing.assert_array_equal(small.cluster_state, [0, 1, 1, -1])
    assert D.equivalent(small, m)


def test_minimize_keeps_states_that_only_differ_later():
    # 0 --(a=1)--> 1 --> 2 --> 0; only state 2 outputs 1. States 0 and 1 emit the same outputs but have
    # different futures, so refinement (not just the output rows) must keep them apart: 3 states.
    delta = np.array([[0, 1, 0, 1], [2, 2, 2, 2], [0, 0, 0, 0]])
    output = np.array([[0] * 4, [0] * 4, [1] * 4])
    m = D.Automaton(n_states=3, start=0, delta=delta, output=output)
    small = D.minimize(m)
    assert small.n_states == 3
    assert D.equivalent(small, m)


def test_minimize_is_canonical():
    adder = D.adder_automaton()
    for perm in ([0, 1], [1, 0]):
        small = D.minimize(permuted(adder, perm))
        np.testing.assert_array_equal(small.delta, adder.delta)
        np.testing.assert_array_equal(small.output, adder.output)
    # A machine that needs both its states keeps them: "output the previous a".
    delay = D.Automaton(
        n_states=2, start=0, delta=np.array([[0, 1, 0, 1], [0, 1, 0, 1]]), output=np.array([[0] * 4, [1] * 4])
    )
    assert D.minimize(delay).n_states == 2


def test_extract_automaton_from_synthetic_states():
    # States that are a noisy one-hot code of the carry, emitted by a perfect adder.
    rng = np.random.default_rng(11)
    a = rng.integers(0, 2**10, size=500, dtype=np.uint64)
    b = rng.integers(0, 2**10, size=500, dtype=np.uint64)
    x, carry = addition_inputs(a, b, 10)
    c = np.concatenate([np.zeros((500, 1)), carry], axis=1)  # carry held by h_0 .. h_T
    h = np.stack([c, 1 - c], axis=-1) + 0.05 * rng.standard_normal((500, 11, 2))
    h[:, 0] = 0.0  # the start state, its own point, behaving like "no carry"
    pred = lsb_bits(a + b, 10)
    m = D.extract_automaton(h, x, pred, rng=np.random.default_rng(0))
    assert m.n_states == 2 and D.equivalent(m, D.adder_automaton())
    assert m.consistency == 1.0
    assert m.centres.shape == (m.n_clusters, 2) and m.cluster_state.shape == (m.n_clusters,)
    assert m.cluster_state[D.assign_to_centres(h[:1, 0], m.centres)[0]] == m.start
    # Wrong outputs make it a different machine.
    m_bad = D.extract_automaton(h, x, 1 - pred, rng=np.random.default_rng(0))
    assert not D.equivalent(m_bad, D.adder_automaton())


def test_extract_automaton_rejects_bad_shapes():
    h = np.zeros((4, 6, 3))
    with pytest.raises(ValueError):
        D.extract_automaton(h, np.zeros((4, 6, 2)), np.zeros((4, 5)), rng=np.random.default_rng(0))
    with pytest.raises(ValueError):
        D.extract_automaton(h, np.zeros((4, 5, 2)), np.zeros((4, 6)), rng=np.random.default_rng(0))
    with pytest.raises(ValueError):
        D.extract_automaton(h, np.zeros((4, 5, 2)), np.zeros((4, 5)), max_states=1, rng=np.random.default_rng(0))


def test_automaton_report_with_a_reference():
    sub = D.subtractor_automaton()
    report = D.automaton_report(sub, reference=sub)
    assert report["equivalent_to_reference"] is True and report["equivalent_to_adder"] is False
    assert report["n_states"] == 2 and report["consistency"] == 1.0


# ----------------------------------------------------------------------------------------------------------
# 6.-8. carry chains, groups, hardest examples, spectral radius


def test_longest_carry_chain():
    carry = np.array([[1, 1, 0, 1, 1, 1, 0], [0] * 7, [1] * 7, [0, 0, 0, 0, 0, 0, 1]])
    np.testing.assert_array_equal(D.longest_carry_chain(carry), [3, 0, 7, 1])
    assert D.longest_carry_chain(carry).dtype.kind == "i"
    with pytest.raises(ValueError):
        D.longest_carry_chain(np.zeros(5))


def test_longest_carry_chain_of_real_additions():
    # 0b0111 + 0b0001: carries out of bits 0, 1, 2 -> 3; 0b0101 + 0b0010: none.
    a = np.array([7, 5], dtype=np.uint64)
    b = np.array([1, 2], dtype=np.uint64)
    _, carry = addition_inputs(a, b, 4)
    np.testing.assert_array_equal(D.longest_carry_chain(carry), [3, 0])


def test_accuracy_by_group():
    groups = np.array([2, 0, 2, 1, 0, 2])
    correct = np.array([True, True, False, False, True, True])
    values, acc, counts = D.accuracy_by_group(groups, correct)
    np.testing.assert_array_equal(values, [0, 1, 2])
    np.testing.assert_allclose(acc, [1.0, 0.0, 2 / 3])
    np.testing.assert_array_equal(counts, [2, 1, 3])
    _, wacc, _ = D.accuracy_by_group(groups, correct, weights=np.array([1.0, 1, 3, 1, 1, 0]))
    np.testing.assert_allclose(wacc, [1.0, 0.0, 0.25])
    with pytest.raises(ValueError):
        D.accuracy_by_group(groups, correct[:3])


def test_hardest_examples():
    loss = np.array([0.1, 0.5, 0.5, 0.2, np.nan])
    np.testing.assert_array_equal(D.hardest_examples(loss, k=4), [4, 1, 2, 3])  # NaN first, stable ties
    np.testing.assert_array_equal(D.hardest_examples(loss[:4], k=10), [1, 2, 3, 0])
    with pytest.raises(ValueError):
        D.hardest_examples(np.zeros((2, 2)))


def test_spectral_radius():
    assert D.spectral_radius(np.diag([0.5, -2.0])) == pytest.approx(2.0)
    angle = 0.7
    rotation = 0.9 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    assert D.spectral_radius(rotation) == pytest.approx(0.9)  # complex eigenvalues
    params = carry_adder_params(3)
    assert D.spectral_radius(params["W_rec"]) == pytest.approx(10.0)  # 0.5 k on the carry unit's own row
    with pytest.raises(ValueError):
        D.spectral_radius(np.zeros((2, 3)))


def test_correlation_and_probe_agree_with_the_separate_functions():
    rng = np.random.default_rng(3)
    carry = rng.integers(0, 2, (64, 8)).astype(float)
    states = np.tanh(rng.normal(size=(64, 8, 5)) + carry[:, :, None] * np.array([2.0, -1.0, 0.0, 0.3, 0.0]))
    states[:, :, 4] = 0.25  # a unit that never changes
    corr, probe = D.correlation_and_probe(states, carry)
    np.testing.assert_allclose(corr, D.carry_correlation(states, carry), atol=1e-12)
    separate = D.fit_linear_probe(states, carry)
    np.testing.assert_allclose(probe.weights, separate.weights, atol=1e-10)
    assert probe.accuracy == separate.accuracy > 0.8 and corr[4] == 0.0 and corr[0] > 0.5 > -0.2 > corr[1]
