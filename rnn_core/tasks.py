"""The arithmetic tasks: operands, targets and the true carry, bit by bit.

A ``Task`` is an operator and a bit width. Encoding (see ``encoding.py``): least-significant bit first, so input
step t is ``[bit t of a, bit t of b]`` (plus constant one-hot operator channels for the ``mixed`` task, whose
operator is drawn per example) and the target at step t is bit t of the result.

Operators:
- ``add``: a + b with a, b in [0, 2**(n_bits-1)) so the sum fits in n_bits, as in the seed post (a, b < 128 at
  8 bits); the carry is the ordinary carry.
- ``sub``: a - b modulo 2**n_bits with a, b in [0, 2**n_bits); the borrow plays the carry's role.
- ``xor``, ``and``, ``or``: bitwise controls with nothing to carry (carry is 0 at every step).

The true carry is exposed for every example and step: ``carry_in[:, t]`` is the carry (borrow) into bit t and
``carry_out[:, t]`` the carry out of bit t, i.e. what the hidden state after step t has to remember.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from rnn_core.encoding import as_uint64, check_n_bits, from_bits, to_bits

OPERATORS = ("add", "sub", "xor", "and", "or")  # operator channels of the mixed task, in this order
TASK_OPS = (*OPERATORS, "mixed")
SYMBOLS = {"add": "+", "sub": "-", "xor": "^", "and": "&", "or": "|"}
ENUMERATE_LIMIT = 1 << 16  # enumerate every operand pair when there are at most this many examples
_INT64_MAX = np.iinfo(np.int64).max  # the largest high of RandomState.randint at its default dtype
SAMPLE_SIZE = 16_384  # otherwise: a fixed, seeded sample of this many random pairs plus the carry-chain cases


def _mask(n_bits: int) -> np.uint64:
    return np.uint64((1 << n_bits) - 1)


def operand_limit(op: str, n_bits: int) -> int:
    """Operands are drawn from [0, limit): half range for add (the sum must fit), full range otherwise."""
    return 1 << (n_bits - 1) if op == "add" else 1 << n_bits


def apply_op(op: str, a: np.ndarray, b: np.ndarray, n_bits: int) -> np.ndarray:
    """Exact result of ``a op b`` in n_bits (uint64 arithmetic; subtraction wraps modulo 2**n_bits)."""
    with np.errstate(over="ignore"):
        if op == "add":
            r = a + b
        elif op == "sub":
            r = a - b
        elif op == "xor":
            r = a ^ b
        elif op == "and":
            r = a & b
        elif op == "or":
            r = a | b
        else:
            raise ValueError(f"unknown operator {op!r}; expected one of {OPERATORS}")
    return r & _mask(n_bits)


def carries(op: str, a_bits: np.ndarray, b_bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True carry (add) or borrow (sub) into and out of every bit; zero for the carry-free operators.

    a_bits, b_bits: (N, T) uint8 -> carry_in, carry_out: (N, T) uint8
    """
    N, T = a_bits.shape
    c_in = np.zeros((N, T), dtype=np.uint8)
    c_out = np.zeros((N, T), dtype=np.uint8)
    if op not in ("add", "sub"):
        return c_in, c_out
    c = np.zeros(N, dtype=np.uint8)
    for t in range(T):  # T <= 64 vectorised steps; exact and clear
        a, b = a_bits[:, t], b_bits[:, t]
        c_in[:, t] = c
        if op == "add":
            c = (a & b) | (c & (a ^ b))
        else:  # borrow out of a - b - c
            c = ((1 - a) & b) | ((1 - (a ^ b)) & c)
        c_out[:, t] = c
    return c_in, c_out


@dataclass
class Batch:
    """A set of examples of one task, with everything the views need.

    a, b, result: (N,) uint64; op_index: (N,) int index into OPERATORS;
    x: (N, T, n_in) float inputs; target: (N, T, 1) float 0/1; carry_in, carry_out: (N, T) uint8.
    """

    task: Task
    a: np.ndarray
    b: np.ndarray
    op_index: np.ndarray
    result: np.ndarray
    x: np.ndarray
    target: np.ndarray
    carry_in: np.ndarray
    carry_out: np.ndarray
    complete: bool = False  # True when this is every operand pair of the task
    n_chain_cases: int = 0  # how many examples at the end are the hand-picked carry-chain cases

    def __len__(self) -> int:
        return len(self.a)

    def describe(self, i: int, predicted: int | None = None) -> str:
        """``13 + 33 = 46`` for example i (with the network's answer instead of the true one if given)."""
        op = OPERATORS[int(self.op_index[i])]
        value = int(self.result[i]) if predicted is None else int(predicted)
        return f"{int(self.a[i])} {SYMBOLS[op]} {int(self.b[i])} = {value}"


@dataclass(frozen=True)
class Task:
    """An operator (or "mixed") and a bit width (1..64)."""

    op: str = "add"  # one of TASK_OPS
    n_bits: int = 8  # sequence length T: the width of operands and result
    ops: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.op not in TASK_OPS:
            raise ValueError(f"unknown operator {self.op!r}; expected one of {', '.join(TASK_OPS)}")
        object.__setattr__(self, "n_bits", check_n_bits(self.n_bits))
        object.__setattr__(self, "ops", OPERATORS if self.op == "mixed" else (self.op,))

    @property
    def n_in(self) -> int:
        """Input channels: the two operand bits, plus one-hot operator channels for the mixed task."""
        return 2 + (len(OPERATORS) if self.op == "mixed" else 0)

    n_out = 1

    def with_bits(self, n_bits: int) -> Task:
        return Task(self.op, n_bits)

    # -- building batches ------------------------------------------------------------------------------------
    def encode(self, a, b, op_index=None) -> Batch:
        """Examples for operands a, b (ints or arrays); op_index selects the operator per example (mixed only)."""
        a, b = _operands(a), _operands(b)
        if a.shape != b.shape or a.ndim != 1:
            raise ValueError("a and b must be equally long 1-D sequences of operands")
        if op_index is None:
            op_index = np.full(a.shape, OPERATORS.index(self.ops[0]), dtype=np.int64)
        op_index = np.broadcast_to(np.asarray(op_index, dtype=np.int64), a.shape)
        T = self.n_bits
        result = np.empty_like(a)
        for k in np.unique(op_index):
            op = OPERATORS[k]
            if op not in self.ops:
                raise ValueError(f"operator {op!r} is not part of task {self.op!r}")
            sel = op_index == k
            limit = operand_limit(op, T)
            if (a[sel] > np.uint64(limit - 1)).any():
                raise ValueError(f"operand a must be below {limit} for {op} at {T} bits")
            if (b[sel] > np.uint64(limit - 1)).any():
                raise ValueError(f"operand b must be below {limit} for {op} at {T} bits")
            result[sel] = apply_op(op, a[sel], b[sel], T)
        a_bits, b_bits = to_bits(a, T), to_bits(b, T)
        x = np.zeros((len(a), T, self.n_in))
        x[:, :, 0] = a_bits
        x[:, :, 1] = b_bits
        if self.op == "mixed":
            x[np.arange(len(a)), :, 2 + op_index] = 1.0
        target = to_bits(result, T)[:, :, None].astype(np.float64)
        c_in = np.zeros((len(a), T), dtype=np.uint8)
        c_out = np.zeros_like(c_in)
        for k in np.unique(op_index):
            sel = op_index == k
            c_in[sel], c_out[sel] = carries(OPERATORS[k], a_bits[sel], b_bits[sel])
        return Batch(self, a, b, op_index.copy(), result, x, target, c_in, c_out)

    def random_operands(self, rng, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n random (a, b, op_index), uniform over each operator's operand range and over the task's operators.

        rng: a ``np.random.Generator``, or a legacy ``RandomState`` (the Trask preset), which draws in Trask's order.
        """
        if isinstance(rng, np.random.RandomState):
            return self._legacy_operands(rng, n)
        op_index = rng.integers(0, len(self.ops), size=n)
        op_index = np.array([OPERATORS.index(o) for o in self.ops])[op_index]
        a = np.empty(n, dtype=np.uint64)
        b = np.empty(n, dtype=np.uint64)
        for k in np.unique(op_index):
            sel = op_index == k
            limit = operand_limit(OPERATORS[k], self.n_bits)
            a[sel] = rng.integers(0, limit, size=int(sel.sum()), dtype=np.uint64, endpoint=False)
            b[sel] = rng.integers(0, limit, size=int(sel.sum()), dtype=np.uint64, endpoint=False)
        return a, b, op_index

    def _legacy_operands(self, rng: np.random.RandomState, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Trask's order of draws, one example at a time: the operator (mixed tasks only), then a, then b, each
        ``randint(limit)``. For one operator this is exactly the post's sequence, so the Trask preset replays it;
        the rest of the tasks get the same kind of draws rather than an error."""
        ops = [OPERATORS.index(o) for o in self.ops]
        a = np.empty(n, dtype=np.uint64)
        b = np.empty(n, dtype=np.uint64)
        op_index = np.empty(n, dtype=np.int64)
        for i in range(n):
            k = ops[rng.randint(len(ops))] if len(ops) > 1 else ops[0]
            limit = operand_limit(OPERATORS[k], self.n_bits)
            if limit <= _INT64_MAX:
                a[i], b[i] = rng.randint(limit), rng.randint(limit)
            else:  # 64-bit operands: past randint's default int64
                a[i], b[i] = rng.randint(0, limit, dtype=np.uint64), rng.randint(0, limit, dtype=np.uint64)
            op_index[i] = k
        return a, b, op_index

    def table_index(self, a: np.ndarray, b: np.ndarray, op_index: np.ndarray) -> np.ndarray:
        """Where each (a, b, op_index) sits in the enumerated ``exhaustive()`` table: (n,) int64. Enumerable tasks only.

        The table holds each operator's block in ``self.ops`` order, every pair in row-major (a, b) order."""
        if not self.enumerable:
            raise ValueError(f"{self.op} at {self.n_bits} bits is not enumerated: no table to index")
        offset, index = 0, np.empty(len(a), dtype=np.int64)
        for op in self.ops:
            limit = operand_limit(op, self.n_bits)
            sel = op_index == OPERATORS.index(op)
            index[sel] = offset + a[sel].astype(np.int64) * limit + b[sel].astype(np.int64)
            offset += limit * limit
        return index

    def sample(self, rng: np.random.Generator | np.random.RandomState, n: int) -> Batch:
        return self.encode(*self.random_operands(rng, n))

    @property
    def n_pairs(self) -> int:
        """How many distinct examples the task has (every operator's every operand pair)."""
        return sum(operand_limit(op, self.n_bits) ** 2 for op in self.ops)

    @property
    def enumerable(self) -> bool:
        return self.n_pairs <= ENUMERATE_LIMIT

    def exhaustive(self) -> Batch:
        """Every operand pair when there are at most 65,536; else a fixed seeded sample plus carry-chain cases."""
        return _exhaustive(self)

    def carry_chain_cases(self) -> Batch:
        """Hand-picked hard cases: the longest carry (borrow) chains the width allows."""
        T = self.n_bits
        rows = []  # (a, b, op)
        for op in self.ops:
            half = 1 << (T - 1)
            top = operand_limit(op, T) - 1
            if op == "sub":
                rows += [(1 << k, 1, op) for k in range(1, T)]  # 2**k - 1: borrow runs k bits
                rows += [(0, 1, op), (0, top, op), (half, half - 1, op) if T > 1 else (0, 0, op)]
            else:
                rows += [((1 << k) - 1, 1, op) for k in range(1, T)]  # (2**k - 1) + 1 = 2**k
                if T > 1:
                    rows += [(a, half - a, op) for a in sorted({1, half // 3 or 1, half // 2, half - 1})]
                rows += [(top, top, op), (top, 1 if top >= 1 else 0, op)]
        seen, a, b, k = set(), [], [], []
        for ra, rb, op in rows:
            if (ra, rb, op) not in seen and ra < operand_limit(op, T) and rb < operand_limit(op, T):
                seen.add((ra, rb, op))
                a.append(ra)
                b.append(rb)
                k.append(OPERATORS.index(op))
        return self.encode(np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64), np.array(k))


def _operands(values) -> np.ndarray:
    """Operands as a 1-D uint64 array; anything but whole numbers in [0, 2**64) is a ValueError."""
    bad = ValueError("operands must be whole numbers from 0 to 2**64 - 1")
    arr = np.atleast_1d(np.asarray(values))
    if arr.dtype.kind == "f":  # 13.0 is accepted, 13.5 and nan are not
        if not (np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)) and np.all(np.abs(arr) < 2**53)):
            raise bad
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iuO":
        raise bad
    try:
        return as_uint64(arr)
    except (ValueError, TypeError, OverflowError):
        raise bad from None


@functools.lru_cache(maxsize=16)
def _exhaustive(task: Task) -> Batch:
    T = task.n_bits
    if task.enumerable:
        parts = []
        for op in task.ops:
            lim = operand_limit(op, T)
            a, b = np.meshgrid(np.arange(lim, dtype=np.uint64), np.arange(lim, dtype=np.uint64), indexing="ij")
            parts.append((a.ravel(), b.ravel(), np.full(lim * lim, OPERATORS.index(op))))
        batch = task.encode(*(np.concatenate(p) for p in zip(*parts)))
        batch.complete = True
    else:
        rng = np.random.default_rng(10_000 + 97 * T + TASK_OPS.index(task.op))  # fixed per task: reproducible
        random_part = task.sample(rng, SAMPLE_SIZE)
        chains = task.carry_chain_cases()
        batch = concat_batches([random_part, chains])
        batch.n_chain_cases = len(chains)
    for arr in (batch.a, batch.b, batch.x, batch.target, batch.carry_in, batch.carry_out, batch.result):
        arr.flags.writeable = False  # shared by every caller of the cache
    return batch


def concat_batches(batches: list[Batch]) -> Batch:
    task = batches[0].task
    cat = lambda name: np.concatenate([getattr(b, name) for b in batches])  # noqa: E731
    return Batch(
        task,
        cat("a"),
        cat("b"),
        cat("op_index"),
        cat("result"),
        cat("x"),
        cat("target"),
        cat("carry_in"),
        cat("carry_out"),
    )


def decode_outputs(y: np.ndarray) -> np.ndarray:
    """Network outputs y: (N, T, 1) probabilities -> (N,) uint64 numbers (each bit rounded at 0.5)."""
    return from_bits((np.asarray(y)[:, :, 0] >= 0.5).astype(np.uint8))
