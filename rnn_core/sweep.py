"""Train one configuration from several random seeds, in parallel processes: how reliably does it learn?

Why: whether a small RNN finds the carry depends on its initial weights. One run proves little; the share of
seeds that solve the task within a step budget, and how long they take, is the honest measure of a
configuration. Each seed is an independent, deterministic run, so they parallelise perfectly over processes.

Processes, not threads: training is numpy calls on tiny matrices, dominated by Python overhead that holds the GIL.
The pool uses the "forkserver" start method (or "spawn"), never "fork": forking a multi-threaded process such as
a Streamlit server can deadlock the child. Each worker runs at a lower priority (nice + 5) with one BLAS thread,
so the web server stays responsive while a sweep runs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
import types
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed

from rnn_core.train import TrainConfig, Trainer, TrainingDiverged

MAX_BUDGET = 20_000  # steps per seed, at most
MAX_SEEDS = 64


def train_seed(config_dict: dict, seed: int, budget: int) -> dict:
    """Train ``config_dict`` (TrainConfig fields) from ``seed`` for at most ``budget`` steps, stopping when solved.

    returns {"seed", "solved_at_step" (int, or None if not solved within the budget), "accuracy" (exhaustive,
    0..1, at the end), "steps" (steps trained), "diverged" (bool), "seconds" (wall time)}.
    """
    budget = _check_budget(budget)
    config = TrainConfig.from_dict({**config_dict, "seed": int(seed)})
    t0 = time.perf_counter()
    trainer = Trainer(config)
    diverged = False
    try:
        trainer.train(budget, until_solved=True)
    except TrainingDiverged:
        diverged = True
    accuracy = float(trainer.evaluate().accuracy)
    return {
        "seed": int(seed),
        "solved_at_step": trainer.solved_at_step,
        "accuracy": accuracy,
        "steps": int(trainer.step),
        "diverged": diverged,
        "seconds": time.perf_counter() - t0,
    }


def sweep(
    config: TrainConfig | dict,
    seeds: Iterable[int],
    budget: int,
    *,
    max_workers: int,
    on_result: Callable[[dict], None] | None = None,
) -> list[dict]:
    """``train_seed`` for every seed, ``max_workers`` processes at a time (1: in this process, no pool).

    config: the configuration (its own seed is ignored); on_result(result) is called in the calling thread as each
    seed finishes (in completion order), e.g. to move a progress bar. Returns the results in the order of
    ``seeds``. Results do not depend on max_workers (each seed is its own deterministic run).
    """
    config_dict = config.to_dict() if isinstance(config, TrainConfig) else dict(config)
    TrainConfig.from_dict(config_dict)  # fail here, not in a worker
    seeds = [int(s) for s in seeds]
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise ValueError(f"need 1 to {MAX_SEEDS} seeds, got {len(seeds)}")
    budget = _check_budget(budget)
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ValueError(f"max_workers must be a whole number >= 1, got {max_workers!r}")
    results: list[dict | None] = [None] * len(seeds)
    if max_workers == 1:
        for i, seed in enumerate(seeds):
            results[i] = train_seed(config_dict, seed, budget)
            if on_result is not None:
                on_result(results[i])
        return results
    pool = ProcessPoolExecutor(
        max_workers=min(max_workers, len(seeds)),
        mp_context=multiprocessing.get_context(_start_method()),
        initializer=_init_worker,
    )
    try:
        with _main_script_hidden():  # the worker processes start during these submits
            futures = {pool.submit(train_seed, config_dict, seed, budget): i for i, seed in enumerate(seeds)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if on_result is not None:
                on_result(results[i])
    finally:  # also when on_result raises (e.g. the page was rerun): drop queued seeds, don't wait for them
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def _check_budget(budget: int) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= MAX_BUDGET:
        raise ValueError(f"budget must be a whole number of steps from 1 to {MAX_BUDGET}, got {budget!r}")
    return budget


@contextlib.contextmanager
def _main_script_hidden():
    """Start worker processes without making them re-run the parent's ``__main__`` script.

    With "spawn" and "forkserver", multiprocessing executes the file of ``sys.modules["__main__"]`` in every new
    worker (as ``__mp_main__``) before it runs the task. Inside Streamlit that module is the page script itself
    (Streamlit installs it as ``__main__`` for each run), so every worker would run the whole dashboard, training
    and all. While the workers start, ``__main__`` is a bare module without a file, which multiprocessing leaves
    alone; the real one is put back afterwards (unless Streamlit has meanwhile installed a newer one).
    """
    original = sys.modules.get("__main__")
    stub = types.ModuleType("__main__")  # no __file__ and no __spec__: nothing to re-run
    sys.modules["__main__"] = stub
    try:
        yield
    finally:
        if sys.modules.get("__main__") is stub and original is not None:
            sys.modules["__main__"] = original


def _start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _init_worker() -> None:
    """In each worker process: lower priority, one BLAS thread (tiny matrices; see rnn_core/threads.py)."""
    try:
        os.nice(5)
    except (AttributeError, OSError):  # not available on this platform
        pass
    from rnn_core.threads import limit_blas_threads

    limit_blas_threads(1)
