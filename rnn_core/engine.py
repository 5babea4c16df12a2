"""The sweep engine: Dask (``dask.distributed``), on this machine or on a cluster.

Why Dask and not a pool of our own: the same code runs a sweep on a laptop (a local cluster: one worker process
per core, one thread each, started and stopped here) and on many machines (``scheduler="tcp://host:port"``, a
cluster the user started with ``dask scheduler`` / ``dask worker``). Dask retries the work of a worker that dies,
and its client is safe to share between the threads of a web server.

The unit of work is a job: one configuration and a group of seeds (``rnn_core.sweep.run_group``), so the lock-step
engine can train the group in one batched pass. ``Engine.start`` submits jobs and returns a ``Sweep``: poll it for
finished jobs, ``cancel()`` it to drop the queued jobs and stop the running ones (each job asks a Dask ``Event``
named after its sweep, at most twice a second, whether to stop). Worker processes of a local cluster exit with the
process that started them, even when it is killed (Dask's nanny watches its parent).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
import types
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CONNECT_TIMEOUT = 5.0  # seconds to reach a given scheduler before giving up with a clear message
STOP_CHECK_SECONDS = 0.5  # a running job asks whether its sweep was cancelled at most this often
MAX_GROUP = 64  # seeds per job, at most: large enough for the lock-step engine, small enough to balance load
POLL_SECONDS = 0.02  # how often poll() looks at its futures while it waits
JOB_RETRIES = 2  # a job that raised is tried again this many times (a dead worker's jobs are retried by Dask)


class EngineError(RuntimeError):
    """The engine cannot run the sweep: the scheduler does not answer, or a job failed for good."""


@dataclass(frozen=True)
class Job:
    """One unit of work: a grid point (its values by field), the configuration and a group of seeds."""

    point: tuple
    config: dict  # TrainConfig fields (the seed is replaced per run)
    seeds: tuple[int, ...]


def make_jobs(points: Sequence[tuple[tuple, dict, Sequence[int]]], n_workers: int) -> list[Job]:
    """Split (point, config, missing seeds) into jobs of at most MAX_GROUP seeds, about four jobs per worker in
    all, so that work stays balanced while each job is large enough to batch."""
    total = sum(len(seeds) for _, _, seeds in points)
    size = max(1, min(MAX_GROUP, math.ceil(total / (4 * max(1, n_workers)))))
    jobs = []
    for point, config, seeds in points:
        seeds = list(seeds)
        n = math.ceil(len(seeds) / size)
        for i in range(n):  # n nearly equal groups rather than a small remainder
            group = seeds[i * len(seeds) // n : (i + 1) * len(seeds) // n]
            jobs.append(Job(tuple(point), dict(config), tuple(group)))
    return jobs


def run_job(
    config: dict, seeds: Sequence[int], budget: int, stop_event: str | None = None, nice: int = 0
) -> list[dict]:
    """In a worker: train the group (rnn_core.sweep.run_group), stopping early when the sweep's Event is set.
    nice: lower the worker process's priority by this much (once per process), e.g. under a web server."""
    from rnn_core.sweep import run_group

    _lower_priority_once(nice)
    return run_group(config, seeds, budget, should_stop=_stop_check(stop_event) if stop_event else None)


def _stop_check(name: str):
    """A should_stop() that asks the scheduler whether the Event ``name`` is set, at most every STOP_CHECK_SECONDS."""
    state = {"next": time.monotonic() + STOP_CHECK_SECONDS, "stop": False}

    def should_stop() -> bool:
        now = time.monotonic()
        if not state["stop"] and now >= state["next"]:
            state["next"] = now + STOP_CHECK_SECONDS
            try:
                from distributed import Event

                state["stop"] = Event(name).is_set()
            except (ValueError, OSError, RuntimeError):  # not in a worker (e.g. a test calling run_job directly)
                state["stop"] = False
        return state["stop"]

    return should_stop


_lowered = False


def _lower_priority_once(nice: int) -> None:
    """Lower this process's priority by ``nice`` the first time a job asks (the dashboard: so that the web server on
    the same cores stays responsive; the command line: 0, a sweep is the job the user is waiting for)."""
    global _lowered
    if nice > 0 and not _lowered:
        _lowered = True
        with contextlib.suppress(AttributeError, OSError):
            os.nice(nice)


class Sweep:
    """Submitted jobs. ``poll(timeout)`` returns the (job, rows) pairs finished meanwhile; ``cancel()`` ends it."""

    def __init__(self, client, jobs: Sequence[Job], budget: int, nice: int = 0):
        from distributed import Event

        self._client = client
        self.stop_name = f"rnn_core-sweep-{uuid.uuid4().hex}"
        self._event = Event(self.stop_name, client=client)
        self._jobs = {}
        for job in jobs:
            future = client.submit(
                run_job, job.config, job.seeds, budget, self.stop_name, nice, pure=False, retries=JOB_RETRIES
            )
            self._jobs[future] = job
        self._pending = set(self._jobs)
        self.cancelled = False

    @property
    def done(self) -> bool:
        return not self._pending

    def poll(self, timeout: float) -> list[tuple[Job, list[dict]]]:
        """Wait up to ``timeout`` seconds for jobs to finish; their (job, rows). EngineError if a job failed."""
        deadline = time.monotonic() + timeout
        while True:
            finished = [f for f in self._pending if f.done()]
            if finished or not self._pending or time.monotonic() >= deadline:
                break
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        out = []
        for future in finished:
            self._pending.discard(future)
            job = self._jobs[future]
            if future.status != "finished":
                error = future.exception() if future.status == "error" else future.status
                self.cancel()
                raise EngineError(
                    f"a job of the sweep failed ({type(error).__name__}: {' '.join(str(error).split())[:300]}); "
                    "the finished runs are kept"
                )
            out.append((job, future.result()))
        return out

    def cancel(self) -> None:
        """Drop the queued jobs and tell the running ones to stop (they end within about STOP_CHECK_SECONDS)."""
        if self.cancelled:
            return
        self.cancelled = True
        pending, self._pending = list(self._pending), set()
        with contextlib.suppress(Exception):  # a client already closed (server shutting down): nothing left to stop
            self._event.set()
            self._client.cancel(pending, force=True)

    def __enter__(self) -> Sweep:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


class Engine:
    """A Dask client: to the scheduler at ``scheduler`` (e.g. "tcp://10.0.0.5:8786"), or to a local cluster of
    ``n_workers`` processes (default: one per core) with one thread each, started here and closed by ``close()``.
    EngineError when a given scheduler does not answer within ``timeout`` seconds."""

    def __init__(self, scheduler: str | None = None, n_workers: int | None = None, timeout: float = CONNECT_TIMEOUT):
        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as e:
                raise EngineError(
                    f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                    f"({' '.join(str(e).split())[:200]}); is `dask scheduler` running there?"
                ) from None
            return
        n = n_workers or os.cpu_count() or 1
        with _main_script_hidden():  # the worker processes start here
            self.cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                scheduler_port=0,
                dashboard_address=None,
                worker_dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        self.client = Client(self.cluster, set_as_default=False)

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))

    def start(self, jobs: Iterable[Job], budget: int, *, nice: int = 0) -> Sweep:
        """Submit the jobs; nice: lower the workers' priority by this much (see run_job)."""
        return Sweep(self.client, list(jobs), budget, nice)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def _main_script_hidden():
    """Start worker processes without making them re-run the parent's ``__main__`` script.

    With "spawn" (Dask's default), multiprocessing executes the file of ``sys.modules["__main__"]`` in every new
    worker before it runs anything. Inside Streamlit that module is the page script itself, so every worker would
    run the whole dashboard. While the workers start, ``__main__`` is a bare module without a file, which
    multiprocessing leaves alone; the real one is put back afterwards (unless a newer one was installed meanwhile).
    """
    original = sys.modules.get("__main__")
    stub = types.ModuleType("__main__")  # no __file__ and no __spec__: nothing to re-run
    sys.modules["__main__"] = stub
    try:
        yield
    finally:
        if sys.modules.get("__main__") is stub and original is not None:
            sys.modules["__main__"] = original
