"""Sweeps: every point of a grid of settings, trained from several seeds. Which settings learn the carry?

Why: whether a small RNN finds the carry depends on its size, learning rate, cell and seed; one run proves little.
The honest picture is, per grid point, the share of seeds that solve the task within a step budget and how many
steps they need. Each run is independent and deterministic, so runs go to worker processes (``rnn_core.engine``)
and land in a results file as they finish (``rnn_core.results``).

This module is the plain part: parsing a grid (``FIELD=v1,v2,...`` of any ``TrainConfig`` field, each value parsed
by the field's type and checked by ``TrainConfig.validate``), the runs a sweep is made of, training one group of
seeds of one configuration (``run_group``: the lock-step engine where it applies, else one ``Trainer`` per seed) and
the per-point summary. A run's row reproduces with ``python -m rnn_core train --until-solved`` and that row's
settings: "solved at" is the trainer's own ``solved_at_step``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from rnn_core.train import TrainConfig, Trainer, TrainingDiverged

MAX_BUDGET = 1_000_000  # steps per run, at most (the command line's limit; the page has its own, smaller ones)
MAX_RUNS = 100_000  # grid points x seeds in one sweep
MAX_GRID_VALUES = 64  # values of one grid field
STOP_CHUNK = 1000  # run_alone asks whether to stop every this many steps
ERROR_WINDOW = 100  # a row's "error": the mean training error per example over the run's last steps
RESULT_COLUMNS = ("solved_at_step", "accuracy", "error", "steps", "diverged", "seconds")
_FIELD_TYPES = {f.name: type(f.default) for f in fields(TrainConfig)}


@dataclass(frozen=True)
class Run:
    """One run of a sweep: its grid point (values in the order of the grid's fields) and its seed."""

    point: tuple
    seed: int


def parse_value(field: str, text: str):
    """A grid value parsed by the TrainConfig field's type (whole number, number or text). ValueError if bad."""
    kind = _FIELD_TYPES[field]
    text = text.strip()
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"grid {field}: expected a whole number, got {text[:40]!r}") from None
    if kind is float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"grid {field}: expected a number, got {text[:40]!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"grid {field}: expected a finite number, got {text[:40]!r}")
        return value
    if kind is bool:
        raise ValueError(f"grid {field}: this field cannot be swept")
    return text


def parse_grid(specs: Iterable[str], base: TrainConfig, n_seeds: int = 1) -> dict[str, tuple]:
    """``["n_hidden=2,4,8", "eta=0.1,1"]`` -> {"n_hidden": (2, 4, 8), "eta": (0.1, 1.0)}, every grid point checked.

    A field is a TrainConfig field name (not ``seed``: the seeds are 0..n_seeds-1); each value is parsed by the
    field's type and every combination with ``base`` must pass ``TrainConfig.validate`` (bounds, choices, the size
    budget). ValueError naming the field and value otherwise, or when the grid times n_seeds is over MAX_RUNS.
    """
    grid: dict[str, tuple] = {}
    for spec in specs:
        field, sep, values = str(spec).partition("=")
        field = field.strip()
        if not sep or not field:
            raise ValueError(f"grid {str(spec)[:60]!r}: expected FIELD=v1,v2,...")
        if field not in _FIELD_TYPES:
            raise ValueError(
                f"grid: unknown field {field[:40]!r}; use a training setting: {', '.join(sorted(_FIELD_TYPES))}"
            )
        if field == "seed":
            raise ValueError("grid: the seeds are set by --seeds (seeds 0..N-1), not by the grid")
        if field in grid:
            raise ValueError(f"grid: {field} is given twice")
        texts = [t for t in values.split(",")]
        if any(not t.strip() for t in texts):
            raise ValueError(f"grid {field}: an empty value in {values[:60]!r}")
        if len(texts) > MAX_GRID_VALUES:
            raise ValueError(f"grid {field}: {len(texts)} values, at most {MAX_GRID_VALUES}")
        parsed = tuple(parse_value(field, t) for t in texts)
        if len(set(parsed)) != len(parsed):
            raise ValueError(f"grid {field}: a value is listed twice in {values[:60]!r}")
        grid[field] = parsed
    n_points = math.prod(len(v) for v in grid.values())
    if n_points * n_seeds > MAX_RUNS:
        raise ValueError(
            f"the sweep has {n_points:,} grid points x {n_seeds:,} seeds = {n_points * n_seeds:,} runs, "
            f"over the limit of {MAX_RUNS:,}: split it into several sweeps"
        )
    for point in grid_points(grid):
        point_config(base, grid, point)  # raises for a bad value or combination
    return grid


def grid_points(grid: Mapping[str, Sequence]) -> list[tuple]:
    """Every combination of the grid's values (the first field varies slowest); [()] for an empty grid."""
    return list(itertools.product(*grid.values()))


def point_config(base: TrainConfig, grid: Mapping[str, Sequence], point: tuple) -> TrainConfig:
    """The base configuration with one grid point's values. ValueError (from TrainConfig.validate) if invalid."""
    values = dict(zip(grid, point))
    try:
        return TrainConfig.from_dict({**base.to_dict(), **values})
    except (TypeError, ValueError) as e:
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        raise ValueError(f"grid point {shown}: {e}") from None


def check_budget(budget: int, limit: int = MAX_BUDGET) -> int:
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or not 1 <= budget <= limit:
        raise ValueError(f"budget must be a whole number of steps from 1 to {limit:,}, got {budget!r}")
    return int(budget)


def plan(grid: Mapping[str, Sequence], n_seeds: int) -> list[Run]:
    """Every run of the sweep: each grid point with seeds 0..n_seeds-1."""
    return [Run(point, seed) for point in grid_points(grid) for seed in range(n_seeds)]


def run_alone(config: TrainConfig, budget: int, should_stop: Callable[[], bool] | None = None) -> dict | None:
    """Train ``config`` (its own seed) until every pair is right or ``budget`` steps are done: the reference path.

    Returns the result columns: solved_at_step (int or None), accuracy (exhaustive, at the end), error (mean
    training error per example over the last ERROR_WINDOW steps), steps, diverged, seconds; or None when
    should_stop() said to stop before the run ended (it is asked every STOP_CHUNK steps). The chunks are one
    run: a trainer's history does not depend on how its steps are split into calls, and "solved at" is found at
    the scheduled evaluations, so the result is that of a single ``train(budget, until_solved=True)`` call."""
    t0 = time.perf_counter()
    trainer = Trainer(config)
    diverged = False
    try:
        while trainer.step < budget:
            report = trainer.train(min(STOP_CHUNK, budget - trainer.step), until_solved=True)
            if report.stopped_early:
                break
            if should_stop is not None and trainer.step < budget and should_stop():
                return None
    except TrainingDiverged:
        diverged = True
    log = trainer.steps_log
    steps, errors = log.steps[: log.n], log.error[: log.n]
    recent = errors[steps >= trainer.step - ERROR_WINDOW]
    return {
        "solved_at_step": trainer.solved_at_step,
        "accuracy": float(trainer.evaluate().accuracy),
        "error": float(recent.mean()) if recent.size else float("nan"),
        "steps": int(trainer.step),
        "diverged": diverged,
        "seconds": time.perf_counter() - t0,
    }


def run_group(
    config_dict: dict, seeds: Sequence[int], budget: int, should_stop: Callable[[], bool] | None = None
) -> list[dict]:
    """Train one configuration (``config_dict``: TrainConfig fields; its seed is replaced) from each of ``seeds``.

    The unit of work a worker runs. Uses the lock-step engine (many seeds in one batched pass, ``rnn_core.lockstep``)
    when it handles the configuration, else one trainer per seed; the results are the same. should_stop() is asked
    between chunks of work: when it says so, the group ends and returns the rows finished so far. Returns one dict
    per finished run: "seed" and RESULT_COLUMNS ("seconds": a lock-step group's wall time shared among its runs).
    """
    from rnn_core import lockstep

    budget = check_budget(budget)
    configs = [TrainConfig.from_dict({**config_dict, "seed": int(s)}) for s in seeds]
    if len(configs) > 1 and lockstep.handles(configs[0]):
        results = lockstep.train_many(configs, budget, should_stop=should_stop)
    else:
        results = []
        for config in configs:
            result = None if should_stop is not None and should_stop() else run_alone(config, budget, should_stop)
            if result is None:
                break
            results.append(result)
    return [{"seed": int(c.seed), **r} for c, r in zip(configs, results) if r is not None]


def summarise(rows: Sequence[Mapping], grid_fields: Sequence[str], budget: int) -> list[dict]:
    """Per grid point (in order of first appearance): runs, solved, share solved, and the quartiles of steps to
    solve with unsolved runs counted as not solved within the budget (a quartile past the solved runs is None)."""
    groups: dict[tuple, list] = {}
    for row in rows:
        key = tuple(row[f] for f in grid_fields)
        groups.setdefault(key, []).append(row["solved_at_step"])
    out = []
    for key, solved in groups.items():
        steps = np.array([math.inf if s is None or s != s else float(s) for s in solved])  # None/NaN: unsolved
        n, n_solved = len(steps), int(np.isfinite(steps).sum())
        quartiles = [_quantile(steps, q) for q in (0.25, 0.5, 0.75)]
        out.append(
            {
                **dict(zip(grid_fields, key)),
                "runs": n,
                "solved": n_solved,
                "share_solved": n_solved / n,
                "q1": quartiles[0],
                "median": quartiles[1],
                "q3": quartiles[2],
                "budget": budget,
            }
        )
    return out


def _quantile(steps: np.ndarray, q: float) -> float | None:
    """The q-quantile of steps (inf = unsolved), linear between neighbours as numpy's default; None when it
    depends on an unsolved run."""
    ordered = np.sort(steps)
    if not ordered.size:
        return None
    pos = q * (ordered.size - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    if not math.isfinite(ordered[hi]):
        return None
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))
