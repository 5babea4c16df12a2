"""Everything the carry views show about the network at its current step, computed once per step.

Why one pass: eight dashboard sections look at the same weights from different angles (carry correlation, probe,
errors by bit and by carry chain, every operand pair, the learned state machine, ...). ``analyse(trainer)`` runs
the network once over the exhaustive example set and once over a fixed sample of it and returns a plain
``CarryAnalysis`` record, which the dashboard caches by ``trainer.step`` and hands to every view. Pure numpy and
``rnn_core``: no Streamlit, no Plotly, so it is tested (and timed) like the engine.

Two passes, chosen for speed (budget: well under 100 ms for 8-bit addition with 32 units; measured in
benchmarks/bench_views.py):

* Every example (N = 16,384 for 8-bit addition) gets its answer, wrong bits and loss, because the pair grid, the
  hardest examples and the chain accuracy are about individual examples. This pass runs the network over the
  distinct input prefixes of the set (``metrics.PrefixTrie``: 38,228 rows instead of 131,072) and keeps only the
  output logits, never the (N, T+1, H) hidden states. Wide widths, whose exhaustive set is itself a random
  sample, are cut to ``OUTPUT_ROWS`` (example, step) rows, keeping every carry-chain case.
* Statistics of the hidden states (carry correlation, linear probe, PCA) use a fixed random sample of examples
  (all T steps of each; 2,048 examples at 8 bits, ``STATE_ROWS`` rows), which pins a correlation or an accuracy
  down to about a percent; the automaton is read from a smaller subsample still (``AUTOMATON_ROWS``). The views
  say so in their captions.

``length_curve`` (accuracy at other bit widths) is separate because it is slower (about 0.1-0.3 s); the view
computes it on request. ``probe_trace`` runs one example through any model (the current one or a snapshot's).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

from carrylab.formatting import percent
from rnn_core import diagnostics as diag
from rnn_core.encoding import from_bits
from rnn_core.metrics import PrefixTrie, length_generalisation, prefix_states
from rnn_core.model import RecurrentModel, sigmoid
from rnn_core.tasks import OPERATORS, SYMBOLS, Batch, Task, operand_limit
from rnn_core.train import TrainConfig, Trainer, build_model

OUTPUT_ROWS = 1 << 18  # a sampled (wide) example set is cut to this many (example, step) rows; complete sets never
STATE_ROWS = 16_384  # at most this many (example, step) rows feed the hidden-state statistics
MIN_EXAMPLES = 256  # ...but at least this many examples (all their steps), whatever the width
AUTOMATON_ROWS = 2048  # (example, step) rows the automaton is read from: 256 examples at 8 bits
MIN_AUTOMATON_EXAMPLES = 32
AUTOMATON_FIT_POINTS = 512  # hidden states k-means is fitted on
AUTOMATON_N_INIT = 2  # k-means restarts per cluster count
AUTOMATON_MAX_STATES = 12  # clusters tried; a solved 32-unit net typically needs 6-10 before minimisation
# (these settings recovered the 2-state adder/subtractor in 36 of 36 extractions of 9 solved nets x 4 seeds,
# where max_states=8 missed about one in six, hence extract_automaton's default of 12; see benchmarks/bench_views.py)
STRONG_CARRY = 0.8  # |correlation| above which a unit counts as a carry unit (highlighted in the views)
N_HARDEST = 10
LENGTH_WIDTHS = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64)
_SEED = 20_240  # fixed seed of every sample drawn here: the same step always gives the same picture

REFERENCE_MACHINES = {
    "add": ("2-state adder", diag.adder_automaton),
    "sub": ("2-state subtractor", diag.subtractor_automaton),
}


# ------------------------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True, eq=False)
class PairGrid:
    """Every operand pair of a single-operator task as a grid: row = a, column = b.

    a_values (A,), b_values (B,) int64; wrong_bits, answer, net_answer (A, B) int64.
    """

    a_values: np.ndarray
    b_values: np.ndarray
    wrong_bits: np.ndarray
    answer: np.ndarray
    net_answer: np.ndarray


@dataclass(frozen=True, eq=False)
class HardExamples:
    """The k worst examples, worst first: most wrong bits, then largest loss. All arrays (k,).

    a, b, answer, net_answer: uint64 (exact at 64 bits); op: str operator names; wrong_bits, longest_chain: int64;
    loss: float64 (the trainer's loss on that example, summed over bits).
    """

    a: np.ndarray
    b: np.ndarray
    op: np.ndarray
    answer: np.ndarray
    net_answer: np.ndarray
    wrong_bits: np.ndarray
    loss: np.ndarray
    longest_chain: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    def rows(self) -> list[dict]:
        """One dict per example (operands as Python ints), for a table."""
        return [
            {
                "a": int(self.a[i]),
                "op": SYMBOLS[str(self.op[i])],
                "b": int(self.b[i]),
                "true answer": int(self.answer[i]),
                "net's answer": int(self.net_answer[i]),
                "wrong bits": int(self.wrong_bits[i]),
                "loss": float(self.loss[i]),
                "longest carry chain": int(self.longest_chain[i]),
            }
            for i in range(len(self))
        ]


@dataclass(frozen=True, eq=False)
class CarryAnalysis:
    """The network at one training step, as the carry views need it.

    Shapes: N examples of the exhaustive set, T = n_bits, H hidden units, S examples in the state sample,
    G distinct longest-carry-chain lengths.
    """

    step: int
    op: str
    n_bits: int
    n_hidden: int
    activation: str  # the range of the hidden states: tanh (-1..1) or sigmoid (0..1)
    # -- every example (exhaustive set; for wide widths a fixed sample plus the carry-chain cases) -------------
    n_examples: int
    n_examples_total: int  # examples in task.exhaustive(); more than n_examples only for wide widths
    complete: bool  # True when the set is every operand pair of the task
    accuracy: float  # share of examples with every bit right
    bit_accuracy: np.ndarray  # (T,) share right per bit position
    wrong_bits: np.ndarray  # (N,) int64
    predicted: np.ndarray  # (N,) uint64 the net's answers
    example_loss: np.ndarray  # (N,) float64
    chain_lengths: np.ndarray  # (G,) longest run of carries per example, distinct values
    chain_accuracy: np.ndarray  # (G,)
    chain_counts: np.ndarray  # (G,) examples per group; sums to N
    hardest: HardExamples
    pair_grid: PairGrid | None  # None unless single operator with a complete set; see pair_grid_note
    pair_grid_note: str
    # -- hidden states (a fixed sample of S examples, all T steps) --------------------------------------------
    has_carry: bool  # False for the carry-free operators (xor/and/or): the carry is always 0
    n_state_examples: int  # S
    carry_corr: np.ndarray  # (H,) Pearson r of each unit of h with carry_out
    best_units: np.ndarray  # (<= 3,) units of h by |r|, largest first
    probe_accuracy: float  # linear probe of the carry from the whole state (every part; on the sample); nan without
    part_corr: dict  # state part ("h", the LSTM's "c") -> (H,) Pearson r of each of its units with carry_out
    part_probe: dict  # state part -> linear probe accuracy from that part alone (nan without a carry)
    carry_baseline: float  # best carry accuracy from the current input bits alone (what the probe must beat)
    pca_points: np.ndarray  # (S T, 2) example-major
    pca_carry: np.ndarray  # (S T,) 0/1 carry_out of each point
    pca_cluster: np.ndarray | None  # (S T,) k-means cluster of each point (from the automaton), or None
    explained_variance: np.ndarray  # (2,)
    # -- the learned machine (add / sub only) ----------------------------------------------------------------
    automaton: diag.Automaton | None
    reference: diag.Automaton | None
    reference_name: str | None
    equivalent: bool | None
    state_carry: np.ndarray | None  # (n_states,) share of carry = 1 among the sample's states in each machine
    #                                 state (nan for a state none of them falls in, e.g. a separate start state)
    spectral_radius: float
    seconds: float = 0.0  # time analyse() took
    timings: dict = field(default_factory=dict)  # seconds per part, for the benchmark

    @property
    def state_parts(self) -> tuple[str, ...]:
        return tuple(self.part_corr)

    @property
    def best_carry(self) -> tuple[str, int, float]:
        """(part, unit, r): the unit of any state part most correlated with the carry (the LSTM's may be in c)."""
        part, unit = max(
            ((p, int(np.nanargmax(np.abs(np.nan_to_num(c, nan=-1.0))))) for p, c in self.part_corr.items()),
            key=lambda pu: abs(np.nan_to_num(self.part_corr[pu[0]][pu[1]])),
        )
        return part, unit, float(self.part_corr[part][unit])

    @property
    def unit_strength(self) -> np.ndarray:
        """(H,) each unit's largest |r| with the carry over the state parts (a unit indexes h and c alike)."""
        return np.max(np.abs(np.nan_to_num(np.vstack(list(self.part_corr.values())))), axis=0)

    @property
    def carry_units(self) -> list[int]:
        """Units to highlight: the best one, plus any other with |r| >= STRONG_CARRY (at most 3)."""
        if not self.has_carry or len(self.best_units) == 0:
            return []
        best = [int(u) for u in self.best_units if abs(self.carry_corr[u]) >= STRONG_CARRY]
        return best or [int(self.best_units[0])]

    def state_labels(self) -> list[str]:
        """Names of the learned machine's states for a drawing: "s0<br>c=0", "s1<br>c=1", "s2<br>c?" (mixed carry)."""
        if self.automaton is None:
            return []
        labels = []
        for s, share in enumerate(self.state_carry if self.state_carry is not None else []):
            if not np.isfinite(share):
                tag = ""
            elif share <= 0.05:
                tag = "<br>c=0"
            elif share >= 0.95:
                tag = "<br>c=1"
            else:
                tag = "<br>c?"
            labels.append(f"s{s}{tag}")
        return labels

    @property
    def n_wrong(self) -> int:
        return int(np.count_nonzero(self.wrong_bits))

    @property
    def automaton_verdict(self) -> str | None:
        """One line: is the learned machine the true one? None for tasks without a reference machine."""
        if self.automaton is None or self.reference_name is None:
            return None
        m = self.automaton
        if self.equivalent:
            return f"Equivalent to the {self.reference_name} (read from {m.n_clusters} clusters of hidden states)."
        states = "state" if m.n_states == 1 else "states"
        return (
            f"Not (yet) equivalent to the {self.reference_name}: {m.n_states} {states}, "
            f"consistency {percent(m.consistency, space=False)}."
        )


@dataclass(frozen=True, eq=False)
class LengthCurve:
    """Accuracy of fixed weights at other bit widths. widths, random, chain: (W,)."""

    step: int
    train_width: int
    widths: np.ndarray
    random: np.ndarray  # accuracy on random pairs (every pair for small widths)
    chain: np.ndarray  # accuracy on the long-carry-chain cases

    @property
    def perfect_up_to(self) -> int:
        """Largest width such that every width up to it is 100 % right on both sets (0 if even width 1 fails)."""
        ok = (self.random == 1.0) & (self.chain == 1.0)
        bad = np.flatnonzero(~ok)
        if bad.size == 0:
            return int(self.widths[-1]) if self.widths.size else 0
        return int(self.widths[bad[0] - 1]) if bad[0] > 0 else 0

    def summary(self) -> str:
        """One sentence: does this net keep 100 % beyond its training width?"""
        T, top = self.train_width, self.perfect_up_to
        longest = int(self.widths.max()) if self.widths.size else T
        if top < T:
            return f"This net is not 100 % right even up to its training width ({T} bits), so longer numbers fail too."
        if longest <= T:
            return f"This net is 100 % right at its training width ({T} bits); no longer width was tested."
        if top >= longest:
            return (
                f"This net keeps 100 % at every width tested, up to {longest} bits "
                f"({longest / T:g} times its training width of {T}): it learned the rule, not the length."
            )
        if top > T:
            return f"This net keeps 100 % up to {top} bits (trained on {T}), then starts to fail."
        return f"This net is 100 % right up to its training width ({T} bits) but fails on longer numbers."


@dataclass(frozen=True, eq=False)
class ProbeTrace:
    """One example run through a model, step by step through the cell interface.

    Per-step arrays are (T,), least significant bit first: a_bits, b_bits, carry_in (the carry into bit t),
    carry_out, target (0/1), prob (P(y=1)), pred (0/1). states: part name -> (T, H), the state after reading bit t
    (``h``, and the LSTM's cell state ``c``); gates: gate name -> (T, H) in 0..1 at step t (none for an Elman cell).
    """

    a: int
    b: int
    op: str
    answer: int
    net_answer: int
    a_bits: np.ndarray
    b_bits: np.ndarray
    carry_in: np.ndarray
    carry_out: np.ndarray
    target: np.ndarray
    prob: np.ndarray
    pred: np.ndarray
    states: dict
    gates: dict
    longest_chain: int
    inputs: np.ndarray  # (T, n_in) the inputs of each step: a, b, then the mixed task's operator channels

    @property
    def hidden(self) -> np.ndarray:
        """h: (T, H), the part the read-out sees."""
        return self.states["h"]

    @property
    def tracks(self) -> dict:
        """The bit tracks drawn above a heatmap: name -> (T,) in 0..1."""
        return {
            "a": self.a_bits,
            "b": self.b_bits,
            "carry out": self.carry_out,
            "target": self.target,
            "P(y=1)": self.prob,
            "prediction": self.pred,
        }

    @property
    def correct(self) -> bool:
        return self.answer == self.net_answer

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.op]

    def line(self) -> str:
        """``13 + 33 = 46; the net says 46 (right)``."""
        verdict = "right" if self.correct else "wrong"
        return f"{self.a} {self.symbol} {self.b} = {self.answer}; the net says {self.net_answer} ({verdict})"


# ------------------------------------------------------------------------------------------------------------
# per-example outputs over the exhaustive set, without the hidden states


def _subset(batch: Batch, idx: np.ndarray) -> Batch:
    """The examples idx (sorted (n,) int) of a batch, as a batch of their own."""
    chains_kept = int(np.count_nonzero(idx >= len(batch) - batch.n_chain_cases))
    return Batch(
        batch.task,
        *(getattr(batch, name)[idx] for name in ("a", "b", "op_index", "result", "x", "target")),
        carry_in=batch.carry_in[idx],
        carry_out=batch.carry_out[idx],
        complete=False,
        n_chain_cases=chains_kept,
    )


@functools.lru_cache(maxsize=8)
def example_set(task: Task) -> tuple[Batch, PrefixTrie | None]:
    """The examples analysed for a task and their prefix trie (built once per task).

    task.exhaustive() itself when it is complete (every pair, needed for the pair grid) or small; for wide widths,
    whose exhaustive set is already a sample, a fixed subset of at most OUTPUT_ROWS (example, step) rows that keeps
    every carry-chain case (at 64 bits: 4,096 of 16,446 examples).
    """
    batch = task.exhaustive()
    N, T = len(batch), task.n_bits
    limit = max(MIN_EXAMPLES, OUTPUT_ROWS // T)
    if not batch.complete and N > limit:
        n_random = N - batch.n_chain_cases
        keep = max(0, limit - batch.n_chain_cases)
        rng = np.random.default_rng(_SEED)
        idx = np.concatenate([np.sort(rng.choice(n_random, size=keep, replace=False)), np.arange(n_random, N)])
        batch = _subset(batch, idx)
    return batch, PrefixTrie.build(batch.x, batch.target)


def sample_states(model: RecurrentModel, x: np.ndarray) -> dict[str, np.ndarray]:
    """x: (S, T, n_in) -> every state part ("h", the LSTM's "c"): (S, T+1, H) float64 with [:, 0] = 0.

    The model's plain path in float64, so the analysis never touches the trainer's work buffers."""
    return model.with_dtype(np.float64).reference_forward(x)[1]


def hidden_states(model: RecurrentModel, x: np.ndarray) -> np.ndarray:
    """x: (S, T, n_in) -> h: (S, T+1, H) float64 with h[:, 0] = 0, like model.forward's h."""
    return sample_states(model, x)["h"]


def _output_logits(model: RecurrentModel, batch: Batch, trie: PrefixTrie | None) -> np.ndarray:
    """Output logit of every example at every step: (N, T) float64, the read-out before the sigmoid.

    With a prefix trie each distinct prefix is run once (the hidden state after step t depends only on steps
    0..t); the per-level states are dropped as soon as the next level is computed.
    """
    model = model.with_dtype(np.float64)
    if trie is None:  # targets not determined by prefixes (never for our tasks): plain forward
        return model.readout(hidden_states(model, batch.x)[:, 1:])[:, :, 0]
    logits = np.empty(batch.x.shape[:2])
    for t, state in prefix_states(model, trie):
        logits[:, t] = model.readout(state["h"])[trie.node_of[t], 0]
    return logits


def _spectral_radius(model: RecurrentModel) -> float:
    """The spectral radius of the recurrence's matrix, NaN for a cell without one (a gated cell)."""
    W = model.recurrent_matrix()
    return diag.spectral_radius(W) if W is not None else float("nan")


def _example_loss(logits: np.ndarray, target: np.ndarray, loss: str) -> np.ndarray:
    """Per-example loss (N,), summed over the T bits, as the trainer defines it (mse: 0.5 (y - t)^2; bce)."""
    if loss == "bce":
        return (np.logaddexp(0.0, logits) - target * logits).sum(axis=1)
    prob = 0.5 * (1.0 + np.tanh(0.5 * logits))
    return 0.5 * ((prob - target) ** 2).sum(axis=1)


# ------------------------------------------------------------------------------------------------------------
# pieces of the analysis


@functools.lru_cache(maxsize=8)
def state_sample(task: Task) -> np.ndarray:
    """Fixed indices (S,) into example_set(task)'s batch whose hidden states feed the state statistics (sorted)."""
    N = len(example_set(task)[0])
    S = min(N, max(MIN_EXAMPLES, STATE_ROWS // task.n_bits))
    idx = np.arange(N) if S == N else np.sort(np.random.default_rng(_SEED).choice(N, size=S, replace=False))
    idx.flags.writeable = False
    return idx


def pair_grid(batch: Batch, wrong_bits: np.ndarray, predicted: np.ndarray) -> tuple[PairGrid | None, str]:
    """(grid, note): the (A, B) grid of a complete single-operator set, or None and a sentence saying why not.

    batch: task.exhaustive(); wrong_bits (N,), predicted (N,) in the batch's order (a-major, as enumerated).
    """
    task = batch.task
    if task.op == "mixed":
        return None, (
            "The mixed task has five operators, so its pairs do not fit one a x b grid. Train a single "
            "operator to see every pair at once."
        )
    lim = operand_limit(task.op, task.n_bits)
    if not batch.complete or len(batch) != lim * lim:
        return None, (
            f"At {task.n_bits} bits there are {task.n_pairs:,} operand pairs, too many to evaluate and draw "
            f"all of them; the grid is drawn for widths whose pairs can all be listed (up to {lim_hint(task.op)} "
            "bits for this operator)."
        )
    a = batch.a.reshape(lim, lim).astype(np.int64)
    b = batch.b.reshape(lim, lim).astype(np.int64)
    if not (np.array_equal(a[:, 0], np.arange(lim)) and np.array_equal(b[0], np.arange(lim))):
        return None, "The example set is not in a-major order, so it cannot be drawn as a grid."
    grid = PairGrid(
        a_values=a[:, 0].copy(),
        b_values=b[0].copy(),
        wrong_bits=wrong_bits.reshape(lim, lim).astype(np.int64),
        answer=batch.result.reshape(lim, lim).astype(np.int64),
        net_answer=predicted.reshape(lim, lim).astype(np.int64),
    )
    return grid, ""


def lim_hint(op: str) -> int:
    """Largest width at which every pair of op is enumerated (tasks.ENUMERATE_LIMIT)."""
    return max(w for w in range(1, 65) if Task(op, w).enumerable)


def carry_baseline(x_bits: np.ndarray, carry: np.ndarray) -> float:
    """Best accuracy at predicting carry_out from the current input bits (a_t, b_t) alone.

    x_bits: (S, T, 2) 0/1; carry: (S, T) 0/1. For addition, a = b = 1 and a = b = 0 settle the carry; the
    mixed cases need memory. A probe on the hidden state is only interesting above this number.
    """
    code = (x_bits[..., 0] > 0.5).astype(np.int64) + 2 * (x_bits[..., 1] > 0.5) + 4 * (carry > 0.5)
    counts = np.bincount(code.ravel(), minlength=8).reshape(2, 4)  # [carry, input pattern]
    total = counts.sum()
    return float(counts.max(axis=0).sum() / total) if total else float("nan")


def _hardest(batch: Batch, wrong: np.ndarray, pred: np.ndarray, loss: np.ndarray, chain: np.ndarray):
    # Rank by wrong bits, ties broken by loss: loss / (1 + max loss) < 1 never outranks a whole wrong bit.
    finite = np.where(np.isfinite(loss), loss, 0.0)
    scale = 1.0 + float(finite.max()) if finite.size else 1.0
    idx = diag.hardest_examples(wrong + loss / scale, N_HARDEST)
    return HardExamples(
        a=batch.a[idx].copy(),
        b=batch.b[idx].copy(),
        op=np.array([OPERATORS[int(k)] for k in batch.op_index[idx]], dtype=str),
        answer=batch.result[idx].copy(),
        net_answer=pred[idx].copy(),
        wrong_bits=wrong[idx].astype(np.int64),
        loss=loss[idx].astype(np.float64),
        longest_chain=chain[idx].astype(np.int64),
    )


# ------------------------------------------------------------------------------------------------------------
# public entry points


def analyse(trainer: Trainer) -> CarryAnalysis:
    """Everything the carry views need about ``trainer.model`` at ``trainer.step`` (see the module docstring).

    Deterministic: the same weights give the same record (fixed samples, fixed k-means seed).
    """
    t_start = time.perf_counter()
    timings = {}

    def tick(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = now - since
        return now

    model, task = trainer.model, trainer.task
    T, H = task.n_bits, model.n_hidden
    batch, trie = example_set(task)

    # 1. every example: answers, wrong bits, loss
    t0 = time.perf_counter()
    logits = _output_logits(model, batch, trie)  # (N, T)
    pred_bits = logits >= 0.0
    target_bits = batch.target[:, :, 0] > 0.5
    ok = pred_bits == target_bits  # (N, T)
    wrong = (~ok).sum(axis=1).astype(np.int64)
    predicted = from_bits(pred_bits.astype(np.uint8))
    loss = _example_loss(logits, batch.target[:, :, 0], trainer.config.loss)
    t0 = tick("outputs", t0)

    chain = diag.longest_carry_chain(batch.carry_out)
    chain_values, chain_acc, chain_counts = diag.accuracy_by_group(chain, wrong == 0)
    hardest = _hardest(batch, wrong, predicted, loss, chain)
    grid, grid_note = pair_grid(batch, wrong, predicted)
    t0 = tick("errors", t0)

    # 2. hidden states of a fixed sample
    idx = state_sample(task)
    x_sample = batch.x[idx]
    carry_sample = batch.carry_out[idx]  # (S, T)
    parts = sample_states(model, x_sample)  # part -> (S, T+1, H)
    h = np.concatenate(list(parts.values()), axis=2) if len(parts) > 1 else parts["h"]  # the whole state
    t0 = tick("state_forward", t0)
    has_carry = bool(carry_sample.any())
    summary = diag.carry_summary(h[:, 1:], carry_sample)
    part_corr = {name: summary.corr[i * H : (i + 1) * H] for i, name in enumerate(parts)}
    part_probe = {"h": float(summary.probe.accuracy) if has_carry else float("nan")}
    if len(parts) > 1:
        part_probe = {
            name: float(diag.fit_linear_probe(value[:, 1:], carry_sample).accuracy) if has_carry else float("nan")
            for name, value in parts.items()
        }
    corr = part_corr["h"]
    best = diag.best_carry_units(corr, min(3, H))
    t0 = tick("carry_summary", t0)

    # 3. the learned machine
    automaton = reference = ref_name = equivalent = cluster = state_carry = None
    if task.op in REFERENCE_MACHINES:
        ref_name, make_ref = REFERENCE_MACHINES[task.op]
        reference = make_ref()
        logits = model.with_dtype(np.float64).readout(parts["h"][:, 1:])[:, :, 0]
        sample_pred = (logits >= 0.0).astype(np.uint8)  # (S, T) the net's own answers
        automaton = diag.extract_automaton(
            h,
            x_sample[:, :, :2],
            sample_pred,
            max_states=AUTOMATON_MAX_STATES,
            rng=np.random.default_rng(_SEED),
            max_examples=max(MIN_AUTOMATON_EXAMPLES, AUTOMATON_ROWS // T),
            max_fit_points=AUTOMATON_FIT_POINTS,
            n_init=AUTOMATON_N_INIT,
        )
        equivalent = diag.equivalent(automaton, reference)
        cluster = diag.assign_to_centres(h[:, 1:].reshape(-1, h.shape[2]), automaton.centres)  # (S T,)
        state = automaton.cluster_state[cluster]  # (S T,) machine state, -1 if unreachable
        hit = state >= 0
        n = automaton.n_states
        counts = np.bincount(state[hit], minlength=n).astype(np.float64)
        carried = np.bincount(state[hit], weights=carry_sample.reshape(-1)[hit].astype(np.float64), minlength=n)
        state_carry = np.divide(carried, counts, out=np.full(n, np.nan), where=counts > 0)
        t0 = tick("automaton", t0)

    result = CarryAnalysis(
        step=int(trainer.step),
        op=task.op,
        n_bits=T,
        n_hidden=H,
        activation=model.activation,
        n_examples=len(batch),
        n_examples_total=len(task.exhaustive()),
        complete=bool(batch.complete),
        accuracy=float(np.mean(wrong == 0)),
        bit_accuracy=ok.mean(axis=0),
        wrong_bits=wrong,
        predicted=predicted,
        example_loss=loss,
        chain_lengths=chain_values,
        chain_accuracy=chain_acc,
        chain_counts=chain_counts,
        hardest=hardest,
        pair_grid=grid,
        pair_grid_note=grid_note,
        has_carry=has_carry,
        n_state_examples=len(idx),
        carry_corr=corr,
        best_units=best,
        probe_accuracy=float(summary.probe.accuracy) if has_carry else float("nan"),
        part_corr=part_corr,
        part_probe=part_probe,
        carry_baseline=carry_baseline(x_sample[:, :, :2], carry_sample) if has_carry else float("nan"),
        pca_points=summary.pca.points,
        pca_carry=carry_sample.reshape(-1).astype(np.int64),
        pca_cluster=cluster,
        explained_variance=summary.pca.explained_variance_ratio,
        automaton=automaton,
        reference=reference,
        reference_name=ref_name,
        equivalent=equivalent,
        state_carry=state_carry,
        spectral_radius=_spectral_radius(model),
        seconds=time.perf_counter() - t_start,
        timings=timings,
    )
    return result


def length_curve(trainer: Trainer, widths=LENGTH_WIDTHS, *, n_random: int = 1000) -> LengthCurve:
    """Accuracy of the current weights at each width (random pairs and carry-chain cases), training width added.

    widths: bit widths 1..64. Slower than ``analyse`` (tens to hundreds of ms): compute on request and cache.
    """
    T = trainer.task.n_bits
    w = np.unique(np.asarray([*widths, T], dtype=np.int64))
    if w.size == 0 or w.min() < 1 or w.max() > 64:
        raise ValueError(f"widths must be from 1 to 64, got {list(widths)}")
    res = length_generalisation(trainer.model, trainer.task.op, tuple(int(v) for v in w), n_random=n_random)
    return LengthCurve(
        step=int(trainer.step), train_width=T, widths=res["widths"], random=res["random"], chain=res["chain"]
    )


def probe_trace(model: RecurrentModel, task: Task, a: int, b: int, op: str | int | None = None) -> ProbeTrace:
    """Run one example a `op` b through ``model`` (any model of the task's shape, e.g. a snapshot's), in float64
    by the plain step interface (input_projection, recur, gates, combine), so it never touches the trainer's buffers.

    op: operator name or index into OPERATORS (only needed for the mixed task; default: the task's operator).
    Raises ValueError if the operands do not fit the task (tasks.Task.encode checks them).
    """
    if op is None:
        op = task.ops[0]
    op_name = OPERATORS[op] if isinstance(op, (int, np.integer)) else str(op)
    if op_name not in task.ops:
        raise ValueError(f"operator {op_name!r} is not part of task {task.op!r}")
    one = task.encode(
        np.array([int(a)], dtype=np.uint64), np.array([int(b)], dtype=np.uint64), OPERATORS.index(op_name)
    )
    model = model.with_dtype(np.float64)
    proj = model.input_projection(one.x.astype(np.float64))  # (1, T, G)
    state = model.zero_state(1)
    states: dict[str, list] = {name: [] for name in model.state_names}
    gates: dict[str, list] = {name: [] for name in model.gate_names}
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(task.n_bits):
            rec = model.recur(state)
            for name, value in model.gates(proj[:, t], rec).items():
                gates[name].append(value[0])
            state = model.combine(proj[:, t], rec, state)
            for name in model.state_names:
                states[name].append(state[name][0])
        prob = np.clip(sigmoid(model.readout(np.array(states["h"]))[:, 0]), 0.0, 1.0)  # (T,)
    pred = (prob >= 0.5).astype(np.float64)
    return ProbeTrace(
        a=int(a),
        b=int(b),
        op=op_name,
        answer=int(one.result[0]),
        net_answer=int(from_bits(pred[None, :].astype(np.uint8))[0]),
        a_bits=one.x[0, :, 0].astype(np.float64),
        b_bits=one.x[0, :, 1].astype(np.float64),
        carry_in=one.carry_in[0].astype(np.float64),
        carry_out=one.carry_out[0].astype(np.float64),
        target=one.target[0, :, 0].astype(np.float64),
        prob=prob,
        pred=pred,
        states={name: np.array(v) for name, v in states.items()},
        gates={name: np.array(v) for name, v in gates.items()},
        longest_chain=int(diag.longest_carry_chain(one.carry_out)[0]),
        inputs=one.x[0].astype(np.float64),
    )


def snapshot_model(config: TrainConfig, theta: np.ndarray) -> RecurrentModel:
    """A model of the trainer's shape holding a snapshot's flat parameters theta (n_params,)."""
    model = build_model(config, np.random.default_rng(0))
    theta = np.asarray(theta)
    if theta.shape != model.theta.shape:
        raise ValueError(f"snapshot has {theta.size} parameters, the model {model.theta.size}")
    model.theta[...] = theta
    return model


def default_probe(task: Task) -> tuple[int, int, str]:
    """A probe example with the longest carry chain the width allows, e.g. 127 + 1 at 8 bits."""
    cases = task.carry_chain_cases()
    i = int(np.argmax(diag.longest_carry_chain(cases.carry_out)))
    return int(cases.a[i]), int(cases.b[i]), OPERATORS[int(cases.op_index[i])]


def resolve_probe(task: Task, probe) -> tuple[int, int, str, str]:
    """(a, b, op, note) for a probe given as None, (a, b) or (a, b, op) (op: name or index into OPERATORS).

    Operands that do not fit the task (or an operator outside it) fall back to ``default_probe`` with a note
    saying why; note is "" when the probe was used as given.
    """
    if probe is None:
        return (*default_probe(task), "")
    try:
        a, b, *rest = probe
        op = rest[0] if rest else task.ops[0]
        op = OPERATORS[int(op)] if isinstance(op, (int, np.integer)) else str(op)
        if op not in task.ops:
            raise ValueError(f"operator {op!r} is not part of the {task.op} task")
        a, b = int(a), int(b)
        limit = operand_limit(op, task.n_bits)
        if not (0 <= a < limit and 0 <= b < limit):
            raise ValueError(f"operands must be from 0 to {limit - 1} for {op} at {task.n_bits} bits")
    except (TypeError, ValueError) as exc:
        da, db, dop = default_probe(task)
        return da, db, dop, f"Probe example not usable ({exc}); showing {da} {SYMBOLS[dop]} {db} instead."
    return a, b, op, ""
