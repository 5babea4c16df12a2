"""Sweeps run from the page: the server's one Dask engine, and the loop that runs one tab's sweep.

Why one engine per server: a local Dask cluster (one worker process per core) takes a second or two to start, and
several tabs each starting their own would put several processes on every core. So the first sweep starts it,
every tab shares its workers (Dask queues their jobs fairly), and it is closed when the server exits; its
worker processes also exit when the server is killed (Dask's nanny watches its parent).

A tab's sweep lives exactly as long as the script run that started it: ``run_jobs`` blocks that run, updates a
progress bar about four times a second, and ends the sweep in a ``finally`` (queued jobs dropped, running ones told
to stop: they stop within about half a second). A click anywhere (Cancel, Reset, another setting) asks for a rerun
and so ends it (``rerun_pending``), as does closing the tab (Streamlit stops the session's run). Finished runs are
kept by the caller.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable, Sequence

import streamlit as st

from rnn_core.engine import Engine, Job

WORKER_NICE = 5  # the workers run at a lower priority than the web server, which stays responsive during a sweep
POLL_SECONDS = 0.25  # the progress bar's update interval; a rerun or stop request lands at the next update
_engine: Engine | None = None
_engine_lock = threading.Lock()


def engine() -> Engine:
    """The server's local Dask engine (one worker process per core), started on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine(n_workers=os.cpu_count() or 1)
            atexit.register(close_engine)
        return _engine


def close_engine() -> None:
    """Stop the server's engine and its worker processes (at exit; a later sweep starts a new one)."""
    global _engine
    with _engine_lock:
        if _engine is not None:
            _engine.close()
            _engine = None


def rerun_pending() -> bool:
    """Whether a rerun of this session is waiting. A click inside a fragment (the dashboard's tabs are one) does
    not interrupt that fragment's running code: Streamlit queues the rerun until the run ends, so the sweep loop
    asks. Streamlit has no public accessor for it; this reads its ScriptRequests state and says False if that
    ever changes (a click elsewhere, a rerun of the whole app and the tab closing still interrupt the run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    requests = getattr(get_script_run_ctx(), "script_requests", None)
    state = getattr(requests, "_state", None)
    return getattr(state, "name", None) in ("RERUN", "STOP")


def workers() -> int:
    """Worker processes the page's sweeps share (one per core)."""
    return os.cpu_count() or 1


def run_jobs(
    jobs: Sequence[Job],
    budget: int,
    on_rows: Callable[[Job, list[dict]], None],
    *,
    cancel_key: str,
    what: str = "runs",
) -> bool:
    """Run ``jobs`` on the server's engine with a progress bar and a Cancel button; on_rows(job, rows) for each
    finished job, in this script run. Returns True when every job finished. Any rerun or stop of this run (Cancel,
    another click, the tab closing) ends the sweep on the way out."""
    total = sum(len(job.seeds) for job in jobs)
    bar = st.progress(0.0, text=f"Starting {total:,} {what}…")
    cancel = st.empty()  # emptied at the end: no Cancel button left beside finished results
    cancel.button("Cancel", key=cancel_key, help="Stop the sweep; the runs finished so far are kept.")
    sweep = engine().start(jobs, budget, nice=WORKER_NICE)
    done, t0 = 0, time.monotonic()
    try:
        while not sweep.done:
            for job, rows in sweep.poll(POLL_SECONDS):
                on_rows(job, rows)
                done += len(rows)
            bar.progress(done / total, text=f"{done:,} of {total:,} {what} done · {time.monotonic() - t0:.0f} s")
            if rerun_pending():
                return False
        return True
    finally:
        sweep.cancel()
        bar.empty()
        cancel.empty()
