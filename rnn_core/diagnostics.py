"""Carry diagnostics: does the hidden state hold the carry, and what machine does the network implement?

Binary addition (least-significant bit first) needs exactly one bit of memory, the carry. A network that has
learned the task must therefore (a) carry that bit in its hidden state, which we look for with a per-unit
correlation and a linear probe, and (b) behave like the 2-state carry automaton, which we test by clustering
the hidden states into a finite machine, minimising it and comparing it with the true adder. PCA and k-means
are the plumbing for pictures and clustering; the rest (carry-chain grouping, hardest examples, spectral
radius) explains *where* a network fails.

Conventions (see docs/ARCHITECTURE.md): N examples, T steps, H hidden units.
``states`` (N, T, H) are the hidden states after each step, i.e. ``h[:, 1:]`` of the model's forward pass;
``carry`` (N, T) is ``carry_out``, which ``h[:, t + 1]`` must remember. Everything is vectorised over N, so a
full 8-bit exhaustive set (N = 16384, T = 8, H = 32) takes milliseconds. Pure numpy, no printing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

N_INPUTS = 4
"""Input symbols of the automata: index = a + 2 * b for the operand bits (a, b)."""

_TINY = np.finfo(np.float64).tiny


# ------------------------------------------------------------------------------------------------------------
# input checking and shared statistics


@dataclass(frozen=True, eq=False)
class _Data:
    """(example, step) rows of states as 2-D blocks, so no (N T, H) copy is needed.

    ``states`` is usually ``h[:, 1:]``, which is not contiguous; instead of copying it into one (N T, H) array
    it is handled as T blocks ``states[:, t]`` (N, H), which BLAS reads in place. xs: blocks (n_b, H) float64;
    ys: matching carry blocks (n_b,) 0/1 float64 or None; ws: matching weight blocks (n_b,) or None.
    """

    xs: list
    ys: list | None
    ws: list | None
    H: int
    M: int


def _states_data(states, carry=None, weights=None) -> _Data:
    """Check states (N, T, H), carry (N, T) and weights (N,) and split them into row blocks (see _Data)."""
    states = np.asarray(states)
    if states.ndim != 3:
        raise ValueError(f"states must be (N, T, H), got shape {states.shape}")
    N, T, H = states.shape
    c = None
    if carry is not None:
        carry = np.asarray(carry)
        if carry.shape != (N, T):
            raise ValueError(f"carry must be (N, T) = {(N, T)}, got shape {carry.shape}")
        c = (carry > 0.5).astype(np.float64)  # (N, T) 0/1; anything > 0.5 counts as a carry
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (N,):
            raise ValueError(f"weights must be (N,) = ({N},), got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
    if states.strides[0] == T * states.strides[1]:  # (N T, H) is a view: one block
        xs = [states.reshape(N * T, H).astype(np.float64, copy=False)]
        ys = None if c is None else [c.reshape(-1)]
        ws = None if w is None else [np.repeat(w, T)]
    else:  # e.g. h[:, 1:]: one block per step
        xs = [states[:, t].astype(np.float64, copy=False) for t in range(T)]
        ys = None if c is None else [c[:, t] for t in range(T)]
        ws = None if w is None else [w] * T
    return _Data(xs=xs, ys=ys, ws=ws, H=H, M=N * T)


@dataclass(frozen=True, eq=False)
class _Moments:
    """First and second moments of the rows x (H,) and, if given, of the carry y, weighted if weights are."""

    total: float  # total weight (M unweighted)
    mean: np.ndarray  # (H,)
    var: np.ndarray  # (H,) variances
    second_diag: np.ndarray  # (H,) E[x^2], the scale a variance is judged against
    cov: np.ndarray | None = None  # (H, H) covariance, if asked for (full=True)
    y_mean: float = 0.0
    cov_xy: np.ndarray | None = None  # (H,)
    var_y: float = 0.0


def _moments(data: _Data, full: bool = True) -> _Moments:
    """Weighted mean and (co)variances of the rows, and their covariance with the carry, in a few BLAS calls.

    Raw moments (E[x x^T] - m m^T) avoid building a centred M x H copy, which would be most of the cost at
    M ~ 10^5. They lose digits only for columns whose variance is tiny next to E[x^2] (e.g. a tanh unit stuck
    at 0.9999); those few columns are recomputed exactly from centred data. full=False skips the H x H matrix.
    """
    H = data.H
    total, s1, sy, syy = 0.0, np.zeros(H), 0.0, 0.0
    s2 = np.zeros((H, H)) if full else np.zeros(H)
    sxy = np.zeros(H)
    for b, X in enumerate(data.xs):
        w = None if data.ws is None else data.ws[b]
        wv = np.ones(len(X)) if w is None else w
        total += float(wv.sum())
        s1 += wv @ X
        Xw = X if w is None else X * w[:, None]
        s2 += (Xw.T @ X) if full else np.einsum("mh,mh->h", Xw, X)
        if data.ys is not None:
            wy = data.ys[b] if w is None else data.ys[b] * w
            sy += float(wy.sum())
            syy += float(wy @ data.ys[b])
            sxy += wy @ X
    mean = s1 / total
    second_diag = (np.diag(s2) if full else s2) / total
    cov = s2 / total - np.outer(mean, mean) if full else None
    var = second_diag - mean * mean
    y_mean = sy / total
    cov_xy = sxy / total - mean * y_mean if data.ys is not None else None
    var_y = max(syy / total - y_mean**2, 0.0)

    cols = np.flatnonzero((var < 1e-6 * second_diag) & (second_diag > 0))  # raw formula unreliable here
    if cols.size:
        var[cols] = 0.0
        block = np.zeros((H, cols.size))
        if cov_xy is not None:
            cov_xy[cols] = 0.0
        for b, X in enumerate(data.xs):
            w = None if data.ws is None else data.ws[b]
            Z = X[:, cols] - mean[cols]  # (n_b, q) centred columns
            Zw = Z if w is None else Z * w[:, None]
            var[cols] += np.einsum("mq,mq->q", Zw, Z) / total
            if full:
                block += (X.T @ Zw - np.outer(mean, Zw.sum(axis=0))) / total  # (H, q) part of cov[:, cols]
            if cov_xy is not None:
                cov_xy[cols] += (data.ys[b] - y_mean) @ Zw / total
        if full:
            cov[:, cols] = block
            cov[cols, :] = block.T
    if full:
        cov = 0.5 * (cov + cov.T)
        var = np.diag(cov).copy()
    return _Moments(
        total=total,
        mean=mean,
        var=np.maximum(var, 0.0),
        second_diag=second_diag,
        cov=cov,
        y_mean=y_mean,
        cov_xy=cov_xy,
        var_y=var_y,
    )


def _no_variance(mom: _Moments) -> np.ndarray:
    """(H,) bool: columns constant up to rounding (std below 1e-10 of their RMS value, or all zero)."""
    return mom.var <= 1e-20 * mom.second_diag


# ------------------------------------------------------------------------------------------------------------
# 1. carry correlation


def _correlation_from(mom: _Moments) -> np.ndarray:
    if mom.var_y <= 1e-20 * max(mom.y_mean, _TINY):
        return np.zeros(len(mom.mean))  # the carry never changes: nothing to correlate with
    flat = _no_variance(mom)
    var = np.where(flat, 1.0, mom.var)
    corr = np.where(flat, 0.0, mom.cov_xy / np.sqrt(var * mom.var_y))
    return np.clip(corr, -1.0, 1.0)


def carry_correlation(states, carry, weights=None) -> np.ndarray:
    """Pearson correlation of each hidden unit with the carry over all (example, step) pairs.

    states: (N, T, H); carry: (N, T) 0/1; weights: optional (N,) sample weights (shared by the T steps).
    returns: corr (H,) in [-1, 1]; a unit that never changes (std below 1e-10 of its RMS value), or a carry
    that never changes, gives 0, never NaN.
    """
    data = _states_data(states, carry, weights)
    if data.M == 0:
        return np.zeros(data.H)
    return _correlation_from(_moments(data, full=False))


def best_carry_units(corr, k: int = 1) -> np.ndarray:
    """Indices of the k units with the largest |corr|, largest first (ties: lower index first).

    corr: (H,) -> (min(k, H),) int
    """
    corr = np.asarray(corr, dtype=np.float64)
    if corr.ndim != 1:
        raise ValueError(f"corr must be (H,), got shape {corr.shape}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return np.argsort(-np.abs(corr), kind="stable")[:k]


# ------------------------------------------------------------------------------------------------------------
# 2. linear probe


@dataclass(frozen=True, eq=False)
class LinearProbe:
    """A linear read-out of the carry: carry predicted where states @ weights + bias > 0."""

    weights: np.ndarray  # (H,)
    bias: float
    accuracy: float  # on the data it was fitted on


def _probe_from(mom: _Moments, l2: float) -> tuple[np.ndarray, float]:
    """Ridge solution (weights (H,), bias) from the moments of x and of the carry c; targets y = 2 c - 1."""
    gram = mom.cov + l2 * np.eye(len(mom.mean))  # (H, H)
    rhs = 2.0 * mom.cov_xy  # cov(x, 2c - 1) = 2 cov(x, c)
    try:
        coef = np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:  # only possible with l2 == 0 and degenerate states
        coef = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    bias = (2.0 * mom.y_mean - 1.0) - float(mom.mean @ coef)
    return coef, bias


def _probe_score(weights: np.ndarray, bias: float, data: _Data) -> float:
    """(Weighted) share of rows where the probe's sign matches the carry."""
    hit, total = 0.0, 0.0
    for b, X in enumerate(data.xs):
        hits = ((X @ weights + bias) > 0) == (data.ys[b] > 0.5)  # (n_b,) bool
        if data.ws is None:
            hit, total = hit + float(hits.sum()), total + len(hits)
        else:
            hit, total = hit + float(data.ws[b] @ hits), total + float(data.ws[b].sum())
    return hit / total


def fit_linear_probe(states, carry, l2: float = 1e-3, weights=None) -> LinearProbe:
    """Ridge regression of the carry (as targets +-1) on the hidden state, with an unpenalised bias.

    Minimises mean_m w_m (x_m . weights + bias - y_m)^2 + l2 * |weights|^2 over all (example, step) pairs, so
    l2 does not depend on how many examples there are. A near 100 % accuracy means the carry is linearly
    decodable from the state; note that an untrained network already gets most steps right (a and b alone
    decide the carry whenever they agree), so compare with one before reading much into a high number.

    states: (N, T, H); carry: (N, T) 0/1; weights: optional (N,) sample weights, also used for the accuracy.
    """
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    data = _states_data(states, carry, weights)
    if data.M == 0:
        raise ValueError("cannot fit a probe on no data")
    coef, bias = _probe_from(_moments(data), l2)
    return LinearProbe(weights=coef, bias=bias, accuracy=_probe_score(coef, bias, data))


def correlation_and_probe(states, carry, l2: float = 1e-3) -> tuple[np.ndarray, LinearProbe]:
    """``carry_correlation`` and ``fit_linear_probe`` of the same states from one set of moments: what the trainer
    logs at every evaluation, at half the cost of calling both. states: (N, T, H); carry: (N, T) 0/1."""
    data = _states_data(states, carry)
    if data.M == 0:
        raise ValueError("cannot fit a probe on no data")
    mom = _moments(data)
    coef, bias = _probe_from(mom, l2)
    return _correlation_from(mom), LinearProbe(weights=coef, bias=bias, accuracy=_probe_score(coef, bias, data))


def probe_accuracy(probe: LinearProbe, states, carry) -> float:
    """Share of (example, step) pairs where the probe's sign matches the carry.

    states: (N, T, H); carry: (N, T) 0/1.
    """
    data = _states_data(states, carry)
    if data.H != probe.weights.shape[0]:
        raise ValueError(f"probe has {probe.weights.shape[0]} weights but states have H = {data.H}")
    if data.M == 0:
        raise ValueError("no data to score the probe on")
    return _probe_score(probe.weights, probe.bias, data)


# ------------------------------------------------------------------------------------------------------------
# 3. PCA


@dataclass(frozen=True, eq=False)
class PCAResult:
    points: np.ndarray  # (M, 2) projections of the centred data
    components: np.ndarray  # (2, H) unit rows; a zero row if H < 2 or the data has less than 2 directions
    mean: np.ndarray  # (H,)
    explained_variance_ratio: np.ndarray  # (2,)


def _pca_from(data: _Data, mom: _Moments) -> PCAResult:
    """PCA of the rows of data (unweighted) given their moments; points in row order (example-major)."""
    H = data.H
    eigval, eigvec = np.linalg.eigh(mom.cov)  # ascending
    order = np.argsort(eigval)[::-1][:2]
    var = np.clip(eigval[order], 0.0, None)
    total = float(np.clip(np.trace(mom.cov), 0.0, None))
    components = np.zeros((2, H))
    explained = np.zeros(2)
    components[: len(order)] = eigvec[:, order].T
    if total > 0:
        explained[: len(order)] = var / total
    # Directions with (numerically) no variance are arbitrary: report them as zero rows rather than noise.
    no_var = explained <= 1e-12
    components[no_var] = 0.0
    explained[no_var] = 0.0
    idx = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(2), idx])
    signs[signs == 0] = 1.0
    components *= signs[:, None]
    # Centred after projecting (no M x H copy); two matrix-vector products beat one (M, H) @ (H, 2).
    per_block = [np.stack([X @ components[0], X @ components[1]], axis=-1) for X in data.xs]  # (n_b, 2) each
    points = per_block[0] if len(per_block) == 1 else np.stack(per_block, axis=1).reshape(data.M, 2)
    points -= mom.mean @ components.T  # (M, 2)
    return PCAResult(points=points, components=components, mean=mom.mean, explained_variance_ratio=explained)


def pca_2d(states_flat) -> PCAResult:
    """Project states onto their first two principal components.

    Uses eigh of the H x H covariance (much cheaper than an SVD of the data when M >> H). Sign convention, so
    pictures do not flip between runs: each component's largest-|.| entry is positive. Components with no
    variance (H < 2, or all points on a line) are zero rows with a 0 explained-variance ratio.

    states_flat: (M, H) with M, H >= 1.
    """
    X = np.asarray(states_flat)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"states_flat must be (M, H) with M, H >= 1, got shape {X.shape}")
    X = X.astype(np.float64, copy=False)
    data = _Data(xs=[X], ys=None, ws=None, H=X.shape[1], M=len(X))
    return _pca_from(data, _moments(data))


# ------------------------------------------------------------------------------------------------------------
# 9. all three at once (correlation, probe, PCA)


@dataclass(frozen=True, eq=False)
class CarrySummary:
    corr: np.ndarray  # (H,) carry_correlation
    best_unit: int  # best_carry_units(corr, 1)[0]
    probe: LinearProbe  # fit_linear_probe
    pca: PCAResult  # pca_2d of the flattened states (N T, H)


def carry_summary(states, carry, *, l2: float = 1e-3) -> CarrySummary:
    """carry_correlation, fit_linear_probe and pca_2d of the same states, sharing one pass over the data.

    states: (N, T, H); carry: (N, T) 0/1. Unweighted (use the single functions for weights).
    """
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    data = _states_data(states, carry)
    if data.M == 0:
        raise ValueError("no states to summarise")
    mom = _moments(data)
    corr = _correlation_from(mom)
    coef, bias = _probe_from(mom, l2)
    return CarrySummary(
        corr=corr,
        best_unit=int(best_carry_units(corr, 1)[0]),
        probe=LinearProbe(weights=coef, bias=bias, accuracy=_probe_score(coef, bias, data)),
        pca=_pca_from(data, mom),
    )


# ------------------------------------------------------------------------------------------------------------
# 4. k-means


def _half_sq_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(|c|^2 / 2 - x . c) (M, k): the squared distance up to the per-point |x|^2 / 2, all argmin needs."""
    return 0.5 * (centres * centres).sum(axis=1) - points @ centres.T


def assign_to_centres(points, centres) -> np.ndarray:
    """Label of the nearest centre for each point. points (M, D), centres (k, D) -> (M,) int64."""
    points = np.asarray(points, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    if points.ndim != 2 or centres.ndim != 2 or points.shape[1] != centres.shape[1]:
        raise ValueError(f"points (M, D) and centres (k, D) must agree on D, got {points.shape}, {centres.shape}")
    return np.argmin(_half_sq_distances(points, centres), axis=1).astype(np.int64)


def _kmeans_pp(points: np.ndarray, x_sq: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding: each next centre drawn with probability proportional to D^2 to the nearest so far.

    points: (M, D); x_sq: (M,) squared norms of the points.
    """
    M = len(points)
    centres = np.empty((k, points.shape[1]))
    centres[0] = points[rng.integers(M)]
    d2 = np.maximum(x_sq + 2.0 * _half_sq_distances(points, centres[:1])[:, 0], 0.0)
    for j in range(1, k):
        total = d2.sum()
        i = rng.choice(M, p=d2 / total) if total > 0 else rng.integers(M)  # fewer distinct points than k
        centres[j] = points[i]
        d2 = np.minimum(d2, np.maximum(x_sq + 2.0 * _half_sq_distances(points, centres[j : j + 1])[:, 0], 0.0))
    return centres


def kmeans(points, k: int, rng: np.random.Generator, n_init: int = 4, iters: int = 50, tol: float = 1e-6):
    """Lloyd's k-means with k-means++ seeding; the best (lowest inertia) of n_init runs.

    points: (M, D) with M >= k; rng: the np.random.Generator all randomness comes from.
    A run stops after ``iters`` Lloyd steps, or as soon as a step lowers the inertia (sum of squared distances
    to the nearest centre) by no more than ``tol`` times its value, which includes the labels not changing.
    returns: labels (M,) int64, centres (k, D) float64, labels = nearest centre of each point. A cluster that
    ends up empty (possible when there are fewer distinct points than k) keeps its seed centre, so some labels
    may be unused.
    """
    X = np.asarray(points, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"points must be (M, D), got shape {X.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(X):
        raise ValueError(f"k must be a whole number from 1 to the number of points ({len(X)}), got {k!r}")
    if n_init < 1 or iters < 1:
        raise ValueError("n_init and iters must be >= 1")
    k = int(k)
    M = len(X)
    rows = np.arange(M)
    x_sq = (X * X).sum(axis=1)  # (M,)
    x_sq_total = float(x_sq.sum())
    onehot = np.zeros((M, k))  # (M, k) cluster membership; a matmul is far faster than np.add.at
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(n_init):
        centres = _kmeans_pp(X, x_sq, k, rng)
        prev = np.inf
        for step in range(iters + 1):
            d = _half_sq_distances(X, centres)  # (M, k)
            labels = np.argmin(d, axis=1)
            inertia = max(x_sq_total + 2.0 * float(d[rows, labels].sum()), 0.0)
            if step == iters or prev - inertia <= tol * inertia:
                break
            prev = inertia
            onehot[:] = 0.0
            onehot[rows, labels] = 1.0
            counts = onehot.sum(axis=0)  # (k,)
            sums = onehot.T @ X  # (k, D)
            filled = counts > 0
            centres[filled] = sums[filled] / counts[filled, None]
        if best is None or inertia < best[0]:
            best = (inertia, labels.astype(np.int64), centres)
    return best[1], best[2]


# ------------------------------------------------------------------------------------------------------------
# 5. automata


@dataclass(frozen=True, eq=False)
class Automaton:
    """A (possibly partial) Mealy machine over the inputs (a, b), index a + 2 b.

    delta[s, i] is the next state and output[s, i] the emitted bit; both are -1 where state s never saw
    input i in the data (only extracted machines can have such holes). ``transitions`` lists the defined edges
    as (src, (a, b), dst, out) for drawing. ``consistency`` is the share of observed transitions that agreed
    with the majority rule they were summarised into (1.0 for the reference machines); ``n_clusters`` the
    number of k-means clusters the machine was read from, before minimisation. ``cluster_state`` maps each
    cluster to its state in the minimised machine (-1 for clusters not reachable from the start), ``centres``
    holds the clusters' centres in hidden-state space (None for the reference machines).
    """

    n_states: int
    start: int
    delta: np.ndarray  # (S, 4) int
    output: np.ndarray  # (S, 4) int
    consistency: float = 1.0
    n_clusters: int = 0
    transitions: list = field(default_factory=list)
    cluster_state: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    centres: np.ndarray | None = None  # (n_clusters, H) k-means centres of an extracted machine


def _transitions(delta: np.ndarray, output: np.ndarray) -> list:
    return [
        (s, (i & 1, i >> 1), int(delta[s, i]), int(output[s, i]))
        for s in range(delta.shape[0])
        for i in range(N_INPUTS)
        if delta[s, i] >= 0
    ]


def _machine(delta, output, start=0, consistency=1.0, n_clusters=None, cluster_state=None, centres=None) -> Automaton:
    delta = np.asarray(delta, dtype=np.int64)
    output = np.asarray(output, dtype=np.int64)
    S = delta.shape[0]
    return Automaton(
        n_states=S,
        start=int(start),
        delta=delta,
        output=output,
        consistency=float(consistency),
        n_clusters=S if n_clusters is None else int(n_clusters),
        transitions=_transitions(delta, output),
        cluster_state=np.arange(S, dtype=np.int64) if cluster_state is None else cluster_state,
        centres=centres,
    )


def _check_machine(m: Automaton) -> None:
    if m.delta.ndim != 2 or m.delta.shape[1] != N_INPUTS or m.output.shape != m.delta.shape:
        raise ValueError(f"delta and output must both be (S, {N_INPUTS}), got {m.delta.shape}, {m.output.shape}")
    S = m.delta.shape[0]
    if not 0 <= m.start < S:
        raise ValueError(f"start state {m.start} is not one of the {S} states")
    if np.any(m.delta < -1) or np.any(m.delta >= S):
        raise ValueError("delta holds a state index out of range")


def _bit_table(fn) -> tuple[np.ndarray, np.ndarray]:
    """delta, output (2, 4) of a 1-bit-memory machine: fn(a, b, c) -> (next c, out)."""
    delta = np.zeros((2, N_INPUTS), dtype=np.int64)
    output = np.zeros((2, N_INPUTS), dtype=np.int64)
    for c in (0, 1):
        for i in range(N_INPUTS):
            delta[c, i], output[c, i] = fn(i & 1, i >> 1, c)
    return delta, output


def adder_automaton() -> Automaton:
    """The serial adder: state = carry c (0 or 1), start 0; next c = majority(a, b, c), out = a ^ b ^ c."""
    return _machine(*_bit_table(lambda a, b, c: (int(a + b + c >= 2), a ^ b ^ c)))


def subtractor_automaton() -> Automaton:
    """The serial subtractor a - b: state = borrow (0 or 1), start 0; out = a ^ b ^ borrow,
    next borrow = 1 when a - b - borrow < 0."""
    return _machine(*_bit_table(lambda a, b, c: (int(a - b - c < 0), a ^ b ^ c)))


def _reachable(delta: np.ndarray, start: int) -> list[int]:
    """States reachable from start, in BFS order (inputs visited in index order)."""
    seen = {start}
    order = [start]
    queue = deque([start])
    while queue:
        s = queue.popleft()
        for nxt in delta[s]:
            nxt = int(nxt)
            if nxt >= 0 and nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
                queue.append(nxt)
    return order


def minimize(m: Automaton) -> Automaton:
    """The minimal equivalent machine: drop unreachable states, merge equivalent ones (Moore refinement).

    Two states are merged when they emit the same outputs on every input and move to merged states; an
    undefined transition (-1) counts as its own output/destination, so holes only merge with holes. States are
    renumbered in BFS order from the start (start = 0), which makes the result canonical. ``cluster_state`` is
    composed with the merge, so it still maps each original cluster to its (new) state.
    """
    _check_machine(m)
    order = _reachable(m.delta, m.start)
    old_to_pos = {s: p for p, s in enumerate(order)}
    delta = np.array(
        [[old_to_pos[int(d)] if d >= 0 else -1 for d in m.delta[s]] for s in order], dtype=np.int64
    ).reshape(len(order), N_INPUTS)
    output = m.output[order].reshape(len(order), N_INPUTS)

    # Partition refinement: a state's block id is refined by the block ids of its successors until stable.
    _, block = np.unique(output, axis=0, return_inverse=True)
    block = block.reshape(-1)
    while True:
        succ = np.where(delta >= 0, block[np.maximum(delta, 0)], -1)  # (S, 4)
        sig = np.concatenate([block[:, None], succ], axis=1)
        _, new_block = np.unique(sig, axis=0, return_inverse=True)
        new_block = new_block.reshape(-1)
        if new_block.max() == block.max():
            break
        block = new_block

    n_blocks = int(block.max()) + 1
    rep = np.array([np.flatnonzero(block == b)[0] for b in range(n_blocks)])  # (n_blocks,) a member each
    q_delta = np.where(delta[rep] >= 0, block[np.maximum(delta[rep], 0)], -1)
    q_output = output[rep]
    # Renumber blocks in BFS order from the start block so the result is canonical.
    start_block = int(block[0])
    bfs = _reachable(q_delta, start_block)
    renum = np.full(n_blocks, -1, dtype=np.int64)
    renum[bfs] = np.arange(len(bfs))
    new_delta = np.where(q_delta[bfs] >= 0, renum[np.maximum(q_delta[bfs], 0)], -1)
    new_output = q_output[bfs]

    state_of_old = np.full(m.n_states, -1, dtype=np.int64)
    state_of_old[order] = renum[block]
    cs = np.asarray(m.cluster_state, dtype=np.int64)
    cluster_state = np.where(cs >= 0, state_of_old[np.maximum(cs, 0)], -1) if cs.size else state_of_old
    return _machine(new_delta, new_output, 0, m.consistency, m.n_clusters, cluster_state, m.centres)


def equivalent(m1: Automaton, m2: Automaton) -> bool:
    """Do two machines behave identically on every input sequence from their start states?

    BFS over the product machine from (start1, start2): every reachable pair must emit the same output on
    every input (an undefined transition, -1, only matches another undefined one).
    """
    _check_machine(m1)
    _check_machine(m2)
    seen = {(m1.start, m2.start)}
    queue = deque(seen)
    while queue:
        s1, s2 = queue.popleft()
        if not np.array_equal(m1.output[s1], m2.output[s2]):
            return False
        for i in range(N_INPUTS):
            d1, d2 = int(m1.delta[s1, i]), int(m2.delta[s2, i])
            if (d1 < 0) != (d2 < 0):
                return False
            if d1 >= 0 and (d1, d2) not in seen:
                seen.add((d1, d2))
                queue.append((d1, d2))
    return True


def _majority_machine(
    labels_now: np.ndarray, labels_next: np.ndarray, inputs: np.ndarray, outs: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Summarise observed transitions into a machine over k clusters.

    labels_now, labels_next, inputs, outs: (M,) ints for M observed transitions.
    returns: delta (k, 4), output (k, 4) (-1 where unseen), consistency = share of transitions agreeing with
    both the majority next cluster and the majority output of their (cluster, input).
    """
    key = labels_now * N_INPUTS + inputs  # (M,) in [0, 4k)
    next_counts = np.bincount(key * k + labels_next, minlength=k * N_INPUTS * k).reshape(k * N_INPUTS, k)
    out_counts = np.bincount(key * 2 + outs, minlength=k * N_INPUTS * 2).reshape(k * N_INPUTS, 2)
    seen = next_counts.sum(axis=1) > 0
    maj_next = np.argmax(next_counts, axis=1)  # ties: lower cluster / output 0
    maj_out = np.argmax(out_counts, axis=1)
    agree = (labels_next == maj_next[key]) & (outs == maj_out[key])
    consistency = float(agree.mean()) if len(agree) else 0.0
    delta = np.where(seen, maj_next, -1).reshape(k, N_INPUTS)
    output = np.where(seen, maj_out, -1).reshape(k, N_INPUTS)
    return delta, output, consistency


def extract_automaton(
    h,
    x_bits,
    pred_bits,
    *,
    max_states: int = 12,
    rng: np.random.Generator,
    min_consistency: float = 0.99,
    max_examples: int = 2048,
    max_fit_points: int = 2048,
    n_init: int = 3,
) -> Automaton:
    """Read a finite machine off a network's hidden states, then minimise it.

    h: (N, T+1, H) hidden states including h_0; x_bits: (N, T, 2) operand bits (a, b) read at each step;
    pred_bits: (N, T) the network's rounded outputs (0/1); rng: source of all randomness (sampling, k-means).

    Rule: for k = 2, ..., max_states, cluster the states with k-means and summarise the observed transitions
    (cluster of h_t, input a + 2 b) -> (cluster of h_{t+1}, predicted bit) by majority vote. The first k
    whose consistency (share of transitions agreeing with both majority votes) is >= min_consistency wins; if
    none does, the most consistent k (the smallest on ties). Start = cluster of h_0 (the majority cluster,
    h_0 being the same for every example). The machine is then minimised (see ``minimize``), so a 5-cluster
    reading "start / 0 / 1 / 2 / 3 ones counted" of a perfect adder comes out as the 2-state adder.

    Sampling, to stay fast at any N and T: the machine is read from at most ``max_examples`` random examples
    (all their T steps), and k-means is fitted on at most ``max_fit_points`` of their states, after which
    every state goes to its nearest centre. The result keeps the centres (n_clusters, H) and
    ``cluster_state``, so ``cluster_state[assign_to_centres(states, centres)]`` gives the machine state of any
    hidden state.
    """
    h = np.asarray(h, dtype=np.float64)
    x_bits = np.asarray(x_bits)
    pred_bits = np.asarray(pred_bits)
    if h.ndim != 3 or h.shape[1] < 2 or h.shape[0] == 0:
        raise ValueError(f"h must be (N, T+1, H) with N, T >= 1, got shape {h.shape}")
    N, T1, H = h.shape
    T = T1 - 1
    if x_bits.shape != (N, T, 2):
        raise ValueError(f"x_bits must be (N, T, 2) = {(N, T, 2)}, got shape {x_bits.shape}")
    if pred_bits.shape != (N, T):
        raise ValueError(f"pred_bits must be (N, T) = {(N, T)}, got shape {pred_bits.shape}")
    if isinstance(max_states, bool) or not isinstance(max_states, (int, np.integer)) or max_states < 2:
        raise ValueError(f"max_states must be a whole number >= 2, got {max_states!r}")
    if not 0.0 <= min_consistency <= 1.0:
        raise ValueError(f"min_consistency must be in [0, 1], got {min_consistency}")

    if N > max_examples:
        keep = np.sort(rng.choice(N, size=max_examples, replace=False))
        h, x_bits, pred_bits = h[keep], x_bits[keep], pred_bits[keep]
        N = max_examples
    bits = (x_bits > 0.5).astype(np.int64)
    inputs = (bits[..., 0] + 2 * bits[..., 1]).reshape(-1)  # (N T,)
    outs = (pred_bits > 0.5).astype(np.int64).reshape(-1)  # (N T,)
    flat = h.reshape(-1, H)  # (N (T+1), H)
    fit_points = flat
    if len(flat) > max_fit_points:
        fit_points = flat[rng.choice(len(flat), size=max_fit_points, replace=False)]

    best = None  # (consistency, k, labels (N, T+1), delta, output, centres)
    for k in range(2, min(max_states, len(fit_points)) + 1):
        _, centres = kmeans(fit_points, k, rng, n_init=n_init)
        labels = assign_to_centres(flat, centres).reshape(N, T1)
        delta, output, consistency = _majority_machine(
            labels[:, :-1].reshape(-1), labels[:, 1:].reshape(-1), inputs, outs, k
        )
        if best is None or consistency > best[0]:
            best = (consistency, k, labels, delta, output, centres)
        if consistency >= min_consistency:
            break
    if best is None:
        raise ValueError("need at least 2 states to cluster")
    consistency, k, labels, delta, output, centres = best
    start = int(np.argmax(np.bincount(labels[:, 0], minlength=k)))
    raw = Automaton(
        n_states=k,
        start=start,
        delta=delta,
        output=output,
        consistency=consistency,
        n_clusters=k,
        cluster_state=np.arange(k, dtype=np.int64),
        centres=centres,
    )
    return minimize(raw)


def automaton_report(m: Automaton, reference: Automaton | None = None) -> dict:
    """Small summary of an extracted machine for display; reference defaults to the adder.

    returns: {"n_states", "n_clusters", "consistency", "equivalent_to_reference", "equivalent_to_adder"}
    """
    adder = adder_automaton()
    ref = adder if reference is None else reference
    return {
        "n_states": int(m.n_states),
        "n_clusters": int(m.n_clusters),
        "consistency": float(m.consistency),
        "equivalent_to_reference": equivalent(m, ref),
        "equivalent_to_adder": equivalent(m, adder),
    }


# ------------------------------------------------------------------------------------------------------------
# 6.-8. where the network fails


def longest_carry_chain(carry) -> np.ndarray:
    """Length of the longest run of consecutive steps with carry_out = 1, per example (0 if no carry).

    carry: (N, T) 0/1 -> (N,) int64. Long chains are the hard cases: the carry must survive many steps.
    """
    c = np.asarray(carry)
    if c.ndim != 2:
        raise ValueError(f"carry must be (N, T), got shape {c.shape}")
    c = c > 0
    run = np.zeros(c.shape[0], dtype=np.int64)
    best = np.zeros(c.shape[0], dtype=np.int64)
    for t in range(c.shape[1]):  # loop over T only; vectorised over N
        run = (run + 1) * c[:, t]
        np.maximum(best, run, out=best)
    return best


def accuracy_by_group(groups, correct, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accuracy within each distinct group value (e.g. longest carry chain).

    groups: (N,) any sortable values; correct: (N,) bool; weights: optional (N,) sample weights.
    returns: values (G,) sorted distinct groups, accuracy (G,) float, counts (G,) int (unweighted).
    """
    groups = np.asarray(groups)
    correct = np.asarray(correct)
    if groups.ndim != 1 or correct.shape != groups.shape:
        raise ValueError(f"groups and correct must both be (N,), got {groups.shape}, {correct.shape}")
    values, inverse = np.unique(groups, return_inverse=True)
    inverse = inverse.reshape(-1)
    counts = np.bincount(inverse, minlength=len(values))
    w = np.ones(len(groups)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != groups.shape:
        raise ValueError(f"weights must be (N,) = {groups.shape}, got {w.shape}")
    hit = np.bincount(inverse, weights=w * correct.astype(np.float64), minlength=len(values))
    tot = np.bincount(inverse, weights=w, minlength=len(values))
    accuracy = np.divide(hit, tot, out=np.zeros(len(values)), where=tot > 0)
    return values, accuracy, counts


def hardest_examples(per_example_loss, k: int = 10) -> np.ndarray:
    """Indices of the k largest losses, largest first; ties keep index order; NaN counts as the largest.

    per_example_loss: (N,) -> (min(k, N),) int
    """
    loss = np.asarray(per_example_loss, dtype=np.float64)
    if loss.ndim != 1:
        raise ValueError(f"per_example_loss must be (N,), got shape {loss.shape}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    key = np.where(np.isnan(loss), np.inf, loss)
    return np.argsort(-key, kind="stable")[:k]


def spectral_radius(W_rec) -> float:
    """Largest |eigenvalue| of the recurrent matrix W_rec (H, H): > 1 lets state grow, < 1 makes it fade."""
    W = np.asarray(W_rec, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"W_rec must be square (H, H), got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))
