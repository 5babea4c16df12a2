"""Train one configuration from several random seeds, in parallel processes: how reliably does it learn?

Why: whether a small RNN finds the carry depends on its initial weights. One run proves little; the share of
seeds that solve the task within a step budget, and how long they take, is the honest measure of a
configuration. Each seed is an independent, deterministic run, so they parallelise perfectly over processes.

Processes, not threads: training is numpy calls on tiny matrices, dominated by Python overhead that holds the GIL.
The pool uses the "forkserver" start method (or "spawn"), never "fork": forking a multi-threaded process such as
a Streamlit server can deadlock the child. Each worker runs at a lower priority (nice + 5) with one BLAS thread,
so the web server stays responsive while a sweep runs.

Lifecycle: a sweep owns its pool for exactly the duration of the ``sweep`` call. While it waits for results it asks
``should_stop`` every POLL_SECONDS; when that says stop (SweepCancelled), or it or ``on_result`` raises (a page
that reran or closed), or anything else ends the call early, the queued seeds are dropped and the running workers
are terminated (``Pool.terminate``: SIGTERM, then joined), not abandoned. Pool workers are daemon processes, which
multiprocessing also terminates when the server exits normally; and each worker ends itself within a second
when its parent process is gone (a server killed outright), so no worker outlives the server.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable

from rnn_core.train import TrainConfig, Trainer, TrainingDiverged

MAX_BUDGET = 20_000  # steps per seed, at most
MAX_SEEDS = 64
POLL_SECONDS = 0.25  # while waiting for results, should_stop is asked this often
PARENT_CHECK_SECONDS = 0.5  # a worker checks this often that the process that started it is still there


class SweepCancelled(Exception):
    """should_stop ended the sweep before every seed had finished; its workers were terminated."""


def train_seed(config_dict: dict, seed: int, budget: int, should_stop: Callable[[], bool] | None = None) -> dict:
    """Train ``config_dict`` (TrainConfig fields) from ``seed`` for at most ``budget`` steps, stopping when solved
    (or raising SweepCancelled when should_stop(), asked after every step, says so).

    returns {"seed", "solved_at_step" (int, or None if not solved within the budget), "accuracy" (exhaustive,
    0..1, at the end), "steps" (steps trained), "diverged" (bool), "seconds" (wall time)}.
    """
    budget = _check_budget(budget)
    config = TrainConfig.from_dict({**config_dict, "seed": int(seed)})
    t0 = time.perf_counter()
    trainer = Trainer(config)
    diverged = False
    try:
        if trainer.train(budget, until_solved=True, should_stop=should_stop).interrupted:
            raise SweepCancelled(f"seed {seed} stopped at step {trainer.step}")
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
    should_stop: Callable[[], bool] | None = None,
) -> list[dict]:
    """``train_seed`` for every seed, ``max_workers`` processes at a time (1: in this process, no pool).

    config: the configuration (its own seed is ignored); on_result(result) is called in the calling thread as each
    seed finishes (in completion order), e.g. to move a progress bar. should_stop() is asked in the calling thread
    every POLL_SECONDS while waiting (between steps when in this process): True ends the sweep with
    SweepCancelled, workers terminated. Returns the results in the order of ``seeds``. Results do not depend on
    max_workers (each seed is its own deterministic run).
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
        check = _at_most_every(POLL_SECONDS, should_stop) if should_stop is not None else None
        for i, seed in enumerate(seeds):
            results[i] = train_seed(config_dict, seed, budget, should_stop=check)
            if on_result is not None:
                on_result(results[i])
        return results
    finished = threading.Event()  # set by the pool's result thread whenever a seed finishes
    with _main_script_hidden():  # the worker processes start here
        pool = multiprocessing.get_context(_start_method()).Pool(
            min(max_workers, len(seeds)), initializer=_init_worker, initargs=(os.getpid(),)
        )
    try:
        pending = {
            i: pool.apply_async(
                train_seed, (config_dict, seed, budget), callback=_set(finished), error_callback=_set(finished)
            )
            for i, seed in enumerate(seeds)
        }
        while pending:
            finished.wait(POLL_SECONDS)
            finished.clear()
            for i in [i for i, result in pending.items() if result.ready()]:
                results[i] = pending.pop(i).get()  # a worker's exception is raised here
                if on_result is not None:
                    on_result(results[i])
            if pending and should_stop is not None and should_stop():
                raise SweepCancelled(f"sweep stopped with {len(pending)} of {len(seeds)} seeds unfinished")
    finally:  # the workers end here, idle or not: stopped or failed sweeps drop their queued and running seeds
        pool.terminate()
        pool.join()
    return results


def _set(event: threading.Event) -> Callable[[object], None]:
    return lambda _: event.set()


def _at_most_every(seconds: float, check: Callable[[], bool]) -> Callable[[], bool]:
    """check(), asked at most once every `seconds` (False in between): the trainer asks after every step."""
    due = time.monotonic()

    def throttled() -> bool:
        nonlocal due
        if time.monotonic() < due:
            return False
        due = time.monotonic() + seconds
        return check()

    return throttled


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


def _init_worker(parent: int) -> None:
    """In each worker process: lower priority, one BLAS thread (tiny matrices; see rnn_core/threads.py), and a
    watcher that ends the worker when ``parent`` (the process that started the sweep) is gone."""
    threading.Thread(target=_exit_without, args=(parent,), name="sweep-parent-watch", daemon=True).start()
    try:
        os.nice(5)
    except (AttributeError, OSError):  # not available on this platform
        pass
    from rnn_core.threads import limit_blas_threads

    limit_blas_threads(1)


def _exit_without(parent: int) -> None:
    """End this worker once ``parent`` has exited: a killed server cannot terminate its workers itself. With the
    "forkserver" start method the worker is the fork server's child, and the fork server exits with the server, so
    the worker's parent changes; with "spawn" the parent is the server itself."""
    first = os.getppid()
    while os.getppid() == first and _alive(parent):
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
