"""Exhaustive evaluation, fast, by sharing prefixes.

Reading least-significant bit first, the hidden state after step t depends only on the inputs of steps 0..t, and so
does the target bit t (the low t + 1 bits of a result depend only on the low t + 1 bits of the operands). The
16,384 examples of 8-bit addition share their prefixes: there are only 4 distinct first steps, 16 distinct
two-step prefixes, and so on. ``PrefixTrie`` finds the distinct prefixes once per example set; ``evaluate`` then
runs the network once per prefix (38,228 rows instead of 131,072 for 8-bit addition) and checks each bit once per
prefix, weighting by how many examples share it. Results are identical to a plain forward pass (tested).

For example sets whose targets are not prefix-determined (never the case for our tasks) it falls back to a plain
forward pass.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from rnn_core.encoding import from_bits
from rnn_core.model import RecurrentModel
from rnn_core.tasks import Batch, Task


@dataclass
class PrefixTrie:
    """Distinct input prefixes of an example set.

    Level t has M_t nodes: ``parent[t]`` (M_t,) their prefix at level t-1 (0 = the empty prefix at level 0),
    ``code[t]`` (M_t,) index of their step-t input pattern in ``patterns`` (K, n_in), ``target[t]`` (M_t,) the
    target bit, ``count[t]`` (M_t,) how many examples share the prefix; ``node_of`` (T, N) the node of each example.
    ``children[t]``: K when every level t-1 node has one child per pattern (node = parent * K + code), 1 when each
    has exactly one child and all share one pattern (node = parent), else 0. Most levels of our tasks are one of the
    first two, where a forward pass broadcasts instead of gathering rows (which dominates at small H).
    """

    patterns: np.ndarray
    parent: list[np.ndarray]
    code: list[np.ndarray]
    target: list[np.ndarray]
    count: list[np.ndarray]
    node_of: np.ndarray
    n_examples: int
    children: list[int]

    @classmethod
    def build(cls, x: np.ndarray, target: np.ndarray) -> PrefixTrie | None:
        """x: (N, T, n_in) of 0/1, target: (N, T, 1). None if the targets are not determined by the prefixes."""
        N, T, n_in = x.shape
        weights = (1 << np.arange(n_in)).astype(np.int64)
        step_code = (x.astype(np.int64) * weights).sum(axis=2)  # (N, T)
        codes, step_code = np.unique(step_code, return_inverse=True)
        step_code = step_code.reshape(N, T)
        K = len(codes)
        patterns = ((codes[:, None] >> np.arange(n_in)) & 1).astype(np.float64)
        parent, code, tgt, count, children = [], [], [], [], []
        node_of = np.empty((T, N), dtype=np.int64)
        prev = np.zeros(N, dtype=np.int64)
        tbits = np.asarray(target)[:, :, 0]
        for t in range(T):
            keys, inv = np.unique(prev * K + step_code[:, t], return_inverse=True)
            node_of[t] = inv
            parent.append(keys // K)
            code.append(keys % K)
            node_target = np.zeros(len(keys), dtype=tbits.dtype)
            node_target[inv] = tbits[:, t]
            if not np.array_equal(node_target[inv], tbits[:, t]):
                return None
            tgt.append(node_target.astype(np.int8))
            count.append(np.bincount(inv, minlength=len(keys)).astype(np.float64))
            n_parents = len(parent[-2]) if t else 1
            if len(keys) == n_parents * K:  # unique keys below n_parents * K: all of them, in order
                children.append(K)
            elif len(keys) == n_parents and np.all(code[-1] == code[-1][0]):
                children.append(1)
            else:
                children.append(0)
            prev = inv
        return cls(patterns, parent, code, tgt, count, node_of, N, children)

    @functools.cached_property
    def target_is_one(self) -> list[np.ndarray]:
        """target[t] == 1 as bool arrays, made once per trie."""
        return [t == 1 for t in self.target]

    @property
    def n_rows(self) -> int:
        return int(sum(len(p) for p in self.parent))


@functools.lru_cache(maxsize=16)
def _task_trie(task: Task) -> PrefixTrie | None:
    batch = task.exhaustive()
    return PrefixTrie.build(batch.x, batch.target)


@dataclass
class Evaluation:
    """Result of evaluating a model on an example set.

    accuracy: share of examples whose every bit is right; bit_accuracy: (T,) share right per bit position.
    The per-example arrays are filled on request (``details=True``): correct (N,) bool, wrong_bits (N,) int,
    prob (N, T) P(y=1), hidden (N, T+1, H), predicted (N,) uint64.
    """

    accuracy: float
    bit_accuracy: np.ndarray
    n_examples: int
    correct: np.ndarray | None = None
    wrong_bits: np.ndarray | None = None
    prob: np.ndarray | None = None
    hidden: np.ndarray | None = None
    predicted: np.ndarray | None = None
    saturation: float = float("nan")  # share of hidden activations within 1e-3 of their bounds


def prefix_states(model: RecurrentModel, trie: PrefixTrie, dtype=np.float64):
    """The states of every distinct prefix, level by level: yields (t, state) with state parts (M_t, H).

    Through the model's public step interface, in ``dtype``: the input projection once per distinct input pattern,
    the recurrent product once per distinct parent prefix, and the elementwise update on the children (broadcast
    where every parent has every pattern as a child, gathered otherwise)."""
    model = model.with_dtype(dtype)
    in_proj = model.input_projection(trie.patterns.astype(dtype))  # (K, G)
    state = model.zero_state(1)
    for t in range(len(trie.parent)):
        rec = model.recur(state)  # (M_{t-1}, G): one product per distinct parent prefix
        children = trie.children[t]
        if children > 1:  # node = parent * K + code: broadcast, no gathers
            new = model.combine(in_proj[None], rec[:, None], {k: v[:, None] for k, v in state.items()})
            state = {k: v.reshape(-1, v.shape[-1]) for k, v in new.items()}
        elif children == 1:  # node = parent, one pattern for all
            state = model.combine(in_proj[trie.code[t][0]], rec, state)
        else:
            parent = trie.parent[t]
            state = model.combine(in_proj[trie.code[t]], rec[parent], {k: v[parent] for k, v in state.items()})
        yield t, state


def _trie_forward(model: RecurrentModel, trie: PrefixTrie, dtype, details: bool):
    centre, half_width = (sum(model.state_range) / 2, (model.state_range[1] - model.state_range[0]) / 2)
    model = model.with_dtype(dtype)
    all_ok_prev = np.ones(1, dtype=bool)
    ok_levels, logit_levels, h_levels = [], [], []
    h = np.zeros((1, model.n_hidden), dtype=dtype)
    for t, state in prefix_states(model, trie, dtype):
        h = state["h"]
        logit = model.readout(h)[:, 0]  # (M_t,)
        ok = (logit >= 0) == trie.target_is_one[t]
        children = trie.children[t]
        if children > 1:
            all_ok_prev = (ok.reshape(-1, children) & all_ok_prev[:, None]).reshape(-1)
        elif children == 1:
            all_ok_prev = ok & all_ok_prev
        else:
            all_ok_prev = ok & all_ok_prev[trie.parent[t]]
        ok_levels.append(ok)
        if details:
            logit_levels.append(logit)
            h_levels.append(h)
    # Saturation of the final states, over distinct prefixes (cheap; a health signal, not a statistic).
    saturated = np.count_nonzero(np.abs(h - centre) > half_width - 1e-3)
    total = h.size
    return ok_levels, all_ok_prev, logit_levels, h_levels, (saturated / total if total else float("nan"))


def evaluate(model: RecurrentModel, batch: Batch, *, details: bool = False, dtype=np.float64) -> Evaluation:
    """Accuracy of the model on a batch (every pair of a task: ``task.exhaustive()``)."""
    trie = _task_trie(batch.task) if batch is batch.task.exhaustive() else PrefixTrie.build(batch.x, batch.target)
    if trie is None:
        return _evaluate_plain(model, batch)
    N, T = batch.x.shape[0], batch.x.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):  # extreme weights give inf/NaN, i.e. wrong bits
        ok_levels, all_ok, logits, hs, saturation = _trie_forward(model, trie, dtype, details)
    bit_acc = np.array([float(np.dot(c, ok.astype(c.dtype))) / N for ok, c in zip(ok_levels, trie.count)])
    accuracy = float(np.dot(trie.count[-1], all_ok.astype(np.float64))) / N
    result = Evaluation(accuracy, bit_acc, N, saturation=saturation)
    if details:
        node = trie.node_of
        wrong = np.zeros(N, dtype=np.int64)
        prob = np.empty((N, T))
        hidden = np.zeros((N, T + 1, model.n_hidden))
        for t in range(T):
            wrong += ~ok_levels[t][node[t]]
            prob[:, t] = 0.5 * (1.0 + np.tanh(0.5 * logits[t][node[t]]))
            hidden[:, t + 1] = hs[t][node[t]]
        result.correct = wrong == 0
        result.wrong_bits = wrong
        result.prob = prob
        result.hidden = hidden
        result.predicted = from_bits((prob >= 0.5).astype(np.uint8))
    return result


def _evaluate_plain(model: RecurrentModel, batch: Batch) -> Evaluation:
    y, states = model.forward(batch.x)
    h = states["h"]
    pred_bits = (y[:, :, 0] >= 0.5).astype(np.uint8)
    ok = pred_bits == batch.target[:, :, 0]
    wrong = (~ok).sum(axis=1)
    lo, hi = model.state_range
    sat = float(((h[:, 1:] > hi - 1e-3) | (h[:, 1:] < lo + 1e-3)).mean())
    return Evaluation(
        float((wrong == 0).mean()),
        ok.mean(axis=0),
        len(batch),
        correct=wrong == 0,
        wrong_bits=wrong,
        prob=y[:, :, 0],
        hidden=h,
        predicted=from_bits(pred_bits),
        saturation=sat,
    )


def length_generalisation(
    model: RecurrentModel,
    op: str,
    widths=(1, 2, 4, 8, 12, 16, 24, 32, 48, 64),
    *,
    n_random: int = 1000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Accuracy of the current weights at other bit widths: on random pairs and on the carry-chain cases.

    Works because the weights do not depend on T: the same cell is just run for more steps.
    Returns {"widths": (W,), "random": (W,), "chain": (W,)}; random pairs are fixed by ``seed``.
    """
    rng = np.random.default_rng(seed)
    acc_random, acc_chain = [], []
    widths = np.asarray(widths, dtype=np.int64)
    for w in widths:
        task = Task(op, int(w))
        sample = task.exhaustive() if task.enumerable and task.n_pairs <= n_random else task.sample(rng, n_random)
        acc_random.append(evaluate(model, sample).accuracy)
        acc_chain.append(evaluate(model, task.carry_chain_cases()).accuracy)
    return {"widths": widths, "random": np.array(acc_random), "chain": np.array(acc_chain)}
