"""Bounded training history: memory stays flat over a million steps.

- ``StepLog``: the error of every step until ``capacity`` points are held, then pairs of neighbouring points are
  merged (their mean error, the first step) and the stride doubles. The curve keeps its shape at any run length and
  a chart never gets more than ``capacity`` points.
- ``EvalLog``: one record per evaluation (accuracy, per-bit accuracy, gradient norms per time step, ...); thinned by
  keeping every other record when full.
- ``SnapshotStore``: copies of the flat parameter vector every ``every`` steps within a byte budget; when full, every
  other snapshot is dropped and the interval doubles, so the filmstrip always spans the whole run.

The default sizes below are the trainer's limits: a checkpoint (``rnn_core.checkpoint``) holding more than a trainer
ever keeps is refused, so an uploaded file cannot make a session hold more than a session that trained it.
"""

from __future__ import annotations

import numpy as np

STEP_LOG_CAPACITY = 20_000  # step-log points held before neighbouring pairs are merged
EVAL_LOG_CAPACITY = 4096  # evaluation records held before every other one is dropped
SNAPSHOT_BUDGET_BYTES = 8 << 20  # bytes of parameter snapshots (float64 copies) ...
SNAPSHOT_MAX_COUNT = 64  # ... and at most this many of them ...
SNAPSHOT_MIN_COUNT = 4  # ... but at least this many, however large the model


def snapshot_limit(
    n_params: int, budget_bytes: int = SNAPSHOT_BUDGET_BYTES, max_count: int = SNAPSHOT_MAX_COUNT
) -> int:
    """How many snapshots of an n_params-parameter model a SnapshotStore holds: as many float64 copies as fit the
    byte budget, from SNAPSHOT_MIN_COUNT to max_count."""
    return int(max(SNAPSHOT_MIN_COUNT, min(max_count, budget_bytes // max(1, n_params * 8))))


class StepLog:
    """Per-step training error, downsampled by merging pairs when full."""

    def __init__(self, capacity: int = STEP_LOG_CAPACITY):
        if capacity < 2 or capacity % 2:
            raise ValueError("capacity must be an even number >= 2")
        self.capacity = capacity
        self.steps = np.zeros(capacity, dtype=np.int64)  # first training step of each point
        self.error = np.zeros(capacity, dtype=np.float64)  # mean error over the point's steps
        self.n = 0  # points held
        self.stride = 1  # steps per point
        self._acc_sum = 0.0  # the partial point being filled
        self._acc_n = 0
        self._acc_first = 0

    def extend(self, first_step: int, errors: np.ndarray) -> None:
        """Append the errors of steps first_step, first_step + 1, ... (errors: (n,))."""
        errors = np.asarray(errors, dtype=np.float64)
        i = 0
        step = first_step
        while i < len(errors):
            if self._acc_n == 0:
                self._acc_first = step
            take = min(self.stride - self._acc_n, len(errors) - i)
            if take == self.stride and self.n < self.capacity and len(errors) - i >= self.stride:
                # fast path: whole points at once
                k = min((len(errors) - i) // self.stride, self.capacity - self.n)
                block = errors[i : i + k * self.stride].reshape(k, self.stride)
                self.error[self.n : self.n + k] = block.mean(axis=1) if self.stride > 1 else block[:, 0]
                self.steps[self.n : self.n + k] = step + self.stride * np.arange(k)
                self.n += k
                i += k * self.stride
                step += k * self.stride
                if self.n == self.capacity:
                    self._compact()
                continue
            self._acc_sum += float(errors[i : i + take].sum())
            self._acc_n += take
            i += take
            step += take
            if self._acc_n == self.stride:
                self._push(self._acc_first, self._acc_sum / self.stride)
                self._acc_sum, self._acc_n = 0.0, 0

    def _push(self, step: int, value: float) -> None:
        self.steps[self.n] = step
        self.error[self.n] = value
        self.n += 1
        if self.n == self.capacity:
            self._compact()

    def _compact(self) -> None:
        half = self.capacity // 2
        self.error[:half] = self.error.reshape(half, 2).mean(axis=1)
        self.steps[:half] = self.steps[0::2]
        self.n = half
        self.stride *= 2

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps (n,), error (n,)) including a partly filled last point."""
        steps, err = self.steps[: self.n], self.error[: self.n]
        if self._acc_n:
            steps = np.append(steps, self._acc_first)
            err = np.append(err, self._acc_sum / self._acc_n)
        return steps.copy(), err.copy()

    def state(self) -> dict[str, np.ndarray]:
        s, e = self.arrays()
        return {"steps": s, "error": e, "stride": np.array([self.stride])}

    @classmethod
    def from_state(
        cls, steps: np.ndarray, error: np.ndarray, stride: int, capacity: int = STEP_LOG_CAPACITY
    ) -> StepLog:
        log = cls(capacity)
        n = min(len(steps), capacity - 1)
        log.steps[:n], log.error[:n], log.n, log.stride = steps[-n:], error[-n:], n, int(stride)
        return log


class EvalLog:
    """Records of periodic evaluations: scalars and fixed-length vectors per record, thinned when full."""

    def __init__(self, capacity: int = EVAL_LOG_CAPACITY):
        self.capacity = capacity
        self.columns: dict[str, list] = {}
        self.n = 0

    def append(self, record: dict) -> None:
        if self.n and set(record) != set(self.columns):
            raise ValueError("every evaluation record must have the same fields")
        for k, v in record.items():
            self.columns.setdefault(k, []).append(v)
        self.n += 1
        if self.n >= self.capacity:
            for k in self.columns:
                col = self.columns[k]
                self.columns[k] = col[0::2][:-1] + [col[-1]] if len(col) > 2 else col
            self.n = len(next(iter(self.columns.values())))

    def array(self, name: str) -> np.ndarray:
        if name not in self.columns:
            return np.zeros(0)
        return np.asarray(self.columns[name])

    def last(self, name: str, default=None):
        col = self.columns.get(name)
        return col[-1] if col else default

    def state(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.columns.items()}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], capacity: int = EVAL_LOG_CAPACITY) -> EvalLog:
        log = cls(capacity)
        lengths = {len(v) for v in state.values()}
        if len(lengths) > 1:
            raise ValueError("evaluation history columns have different lengths")
        log.columns = {k: list(np.asarray(v)) for k, v in state.items()}
        log.n = lengths.pop() if lengths else 0
        return log


class SnapshotStore:
    """Parameter snapshots (flat vectors) every ``every`` steps, at most ``max_count`` held."""

    def __init__(
        self,
        n_params: int,
        every: int = 50,
        budget_bytes: int = SNAPSHOT_BUDGET_BYTES,
        max_count: int = SNAPSHOT_MAX_COUNT,
    ):
        self.every = max(1, int(every))
        self.max_count = snapshot_limit(n_params, budget_bytes, max_count)
        self.steps: list[int] = []
        self.thetas: list[np.ndarray] = []

    def due(self, step: int) -> bool:
        return step % self.every == 0 and (not self.steps or self.steps[-1] != step)

    def add(self, step: int, theta: np.ndarray) -> None:
        self.steps.append(int(step))
        self.thetas.append(np.array(theta, dtype=np.float64))
        if len(self.steps) > self.max_count:
            keep = [i for i in range(len(self.steps)) if (self.steps[i] // self.every) % 2 == 0]
            self.steps = [self.steps[i] for i in keep]
            self.thetas = [self.thetas[i] for i in keep]
            self.every *= 2

    def nearest(self, step: int) -> tuple[int, np.ndarray]:
        """The latest snapshot at or before ``step`` (or the first one)."""
        if not self.steps:
            raise LookupError("no snapshots yet")
        i = int(np.searchsorted(self.steps, step, side="right")) - 1
        i = max(i, 0)
        return self.steps[i], self.thetas[i]
