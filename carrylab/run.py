"""One run: a trainer with the wall-clock time it trained, a name and a shown/hidden flag.

The same object is the page's current run, a pinned run and a race lane, so the overlays, the runs table, the CSV
export and the multi-run checkpoint read every run the same way. The histories are the trainer's own bounded logs
(`rnn_core.history`); the clock adds at most TIME_MARKS (step, seconds) pairs, merged pairwise when full.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from rnn_core.train import Trainer, TrainingDiverged, TrainReport

TIME_MARKS = 2048  # (step, seconds) pairs kept for the wall-clock axis
DIFFERING = ("cell", "n_hidden", "op", "n_bits", "optimizer", "eta", "batch_size", "loss", "variant", "seed")
SHORT = {"n_hidden": "hidden", "n_bits": "bits", "batch_size": "batch", "eta": "lr"}


class Run:
    """A trainer, the seconds it has trained (with (step, seconds) marks for the wall-clock axis), its name
    (None: named by what differs from the other runs) and whether the overlays show it."""

    def __init__(self, trainer: Trainer, name: str | None = None, seconds: float = 0.0):
        self.trainer = trainer
        self.name = name
        self.hidden = False
        self.seconds = float(seconds)
        self.diverged = False
        self._marks_step = [trainer.step]
        self._marks_seconds = [self.seconds]

    def train(self, n_steps: int, *, until_solved: bool = False, should_stop: Callable[[], bool] | None = None):
        """trainer.train(...) with its wall-clock time added to `seconds`. Returns the trainer's TrainReport;
        TrainingDiverged propagates (after the time is counted and `diverged` set)."""
        began = time.perf_counter()
        try:
            report: TrainReport = self.trainer.train(n_steps, until_solved=until_solved, should_stop=should_stop)
        except TrainingDiverged:
            self.diverged = True
            raise
        finally:
            self.seconds += time.perf_counter() - began
            self._mark()
        return report

    def _mark(self) -> None:
        self._marks_step.append(self.trainer.step)
        self._marks_seconds.append(self.seconds)
        if len(self._marks_step) > TIME_MARKS:  # keep the first and last, drop every other one between
            self._marks_step = self._marks_step[:1] + self._marks_step[2:-1:2] + self._marks_step[-1:]
            self._marks_seconds = self._marks_seconds[:1] + self._marks_seconds[2:-1:2] + self._marks_seconds[-1:]

    def seconds_at(self, steps: np.ndarray) -> np.ndarray:
        """Wall-clock seconds of training at each of `steps` (N,), interpolated between the marks. (N,) float64."""
        return np.interp(np.asarray(steps, dtype=np.float64), self._marks_step, self._marks_seconds)

    @property
    def config(self):
        return self.trainer.config

    def describe(self, names: tuple[str, ...]) -> str:
        """The run named by the settings in `names` ("LSTM, hidden 8"); the cell's name in capitals."""
        config = self.config.to_dict()
        parts = []
        for name in names:
            value = config[name]
            if name == "cell":
                parts.append(str(value).upper() if value != "elman" else "Elman")
            else:
                shown = f"{value:g}" if isinstance(value, float) else str(value)
                parts.append(f"{SHORT.get(name, name)} {shown}")
        return ", ".join(parts)

    def history(self) -> dict[str, np.ndarray]:
        """Every logged point: step, seconds, error (NaN on rows that are evaluations only) and accuracy (NaN on
        rows that are training steps only), sorted by step. Columns (N,)."""
        steps, error = self.trainer.steps_log.arrays()
        eval_steps = self.trainer.evals.array("step")
        accuracy = self.trainer.evals.array("accuracy")
        all_steps = np.concatenate([np.asarray(steps, np.int64), np.asarray(eval_steps, np.int64)])
        err = np.concatenate([np.asarray(error, np.float64), np.full(len(eval_steps), np.nan)])
        acc = np.concatenate([np.full(len(steps), np.nan), np.asarray(accuracy, np.float64)])
        order = np.argsort(all_steps, kind="stable")
        return {
            "step": all_steps[order],
            "seconds": self.seconds_at(all_steps[order]),
            "error": err[order],
            "accuracy": acc[order],
        }


def differing(runs: list[Run]) -> tuple[str, ...]:
    """The settings (of DIFFERING) whose values are not the same in every run; the cell and hidden size when all
    agree (a run alone is still named by what it is)."""
    configs = [run.config.to_dict() for run in runs]
    names = tuple(name for name in DIFFERING if len({repr(c[name]) for c in configs}) > 1)
    return names or ("cell", "n_hidden")


def labels(runs: list[Run]) -> list[str]:
    """Each run's legend name: its own name when it has one, else what differs; repeats numbered "(2)"."""
    names = differing(runs)
    out, seen = [], {}
    for run in runs:
        label = run.name or run.describe(names)
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def array_bytes(obj, _seen: set[int] | None = None, _depth: int = 0) -> int:
    """Bytes held by the numpy arrays reachable from obj (attributes, dicts, lists, tuples), each counted once:
    what keeping a run costs."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen or _depth > 6:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        base = obj.base if isinstance(obj.base, np.ndarray) else None
        if base is not None:
            return array_bytes(base, seen, _depth + 1)
        return int(obj.nbytes)
    if isinstance(obj, dict):
        return sum(array_bytes(v, seen, _depth + 1) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(array_bytes(v, seen, _depth + 1) for v in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return sum(array_bytes(v, seen, _depth + 1) for v in vars(obj).values())
    return 0
