"""One script run of a session at a time: `RunGuard.exclusive()` and `superseded()`.

With Streamlit's fast reruns a click starts a new run of the script while the previous one is still running. Each
run (and each callback that replaces a trainer) holds the guard through `exclusive()`; a newer run that is waiting
makes `superseded()` true, and training in the older run, checked after every step, ends at once. So no trainer of
the session (current run, race lanes) is ever used by two runs at the same time. `lock` is held while a trainer
changes and while a checkpoint is written (a download's data callback runs on a thread of its own).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

RUN_WAIT_SECONDS = 60.0  # a run waits at most this long for the session's previous run to end (SessionBusy)


class SessionBusy(RuntimeError):
    """The session's previous script run did not end within RUN_WAIT_SECONDS."""


class RunGuard:
    """The claim counter, the run lock and the trainer lock of one session."""

    def __init__(self):
        self.lock = threading.RLock()
        self._run_lock = threading.Lock()
        self._claims_lock = threading.Lock()
        self._claims = 0
        self._holder: tuple[int, int] | None = None  # (thread id, claim number) of the run holding the session

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the session for a script run. Claims first, so that a run still holding it sees `superseded()` and
        ends its training; then waits for it (at most RUN_WAIT_SECONDS, else SessionBusy). Re-entrant within one
        thread: the live fragment drawn inside the full run holds it already."""
        me = threading.get_ident()
        holder = self._holder
        if holder is not None and holder[0] == me:
            yield
            return
        with self._claims_lock:
            self._claims += 1
            claim = self._claims
        if not self._run_lock.acquire(timeout=RUN_WAIT_SECONDS):
            raise SessionBusy(f"the previous run of this page did not end within {RUN_WAIT_SECONDS:g} s")
        self._holder = (me, claim)
        try:
            yield
        finally:
            self._holder = None
            self._run_lock.release()

    def superseded(self) -> bool:
        """True when a newer run of this session has claimed it: the run holding it should end its work now."""
        holder = self._holder
        return holder is not None and holder[1] != self._claims
