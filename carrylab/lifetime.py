"""Give a closed tab's memory back.

Streamlit keeps a disconnected session for ``server.disconnectedSessionTTL`` seconds (120 by default), so that a
tab that reconnects finds its run. After that nothing can reconnect to it, but Streamlit 1.67 never shuts it down:
the expired session stays in its session storage until another tab happens to disconnect, and everything it holds
stays (its session state with our ``Session``, its uploaded files, its tables' data sources, its fragments), about
60 MB a tab once every view has been drawn. So the app closes such sessions itself.

Each ``Session`` is registered here with its Streamlit session id (``watch``). One daemon thread checks every
``CHECK_SECONDS`` which registered sessions are connected (``Runtime.is_active_session``, safe from any thread).
Shortly before a disconnected session's TTL runs out (``release_after``: the TTL less two checks, so that Streamlit
still holds it), the thread releases it: ``Session.release()`` drops the trainer and caches at once, and
``Runtime.clear_user_info_for_session`` (safe from any thread) has Streamlit close the session on its event loop
and shut it down as it does when a server stops; a reconnect after that gets a new session. At the next check the
freed memory is handed back to the operating system: glibc keeps freed blocks in its arenas (each script thread
allocates from its own) and returns them only when asked (``malloc_trim``); without that the server's RSS did not
go down at all (benchmarks/README.md). The registry holds sessions weakly and nothing trainable. The thread calls no
``st.*`` function.
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
import weakref
from collections.abc import Callable
from typing import Protocol

CHECK_SECONDS = 10.0


class Releasable(Protocol):
    def release(self) -> None: ...


class Registry:
    """Sessions by Streamlit session id, and since when each has been seen disconnected."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sessions: dict[str, weakref.ref] = {}
        self._gone_since: dict[str, float] = {}

    def watch(self, session_id: str, session: Releasable) -> None:
        with self._lock:
            self._sessions[session_id] = weakref.ref(session)
            self._gone_since.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def sweep(self, is_connected: Callable[[str], bool], after: float, now: float) -> list[str]:
        """Release every session disconnected for longer than `after` seconds (first seen disconnected before
        ``now - after``); forget sessions that no longer exist. Returns the ids released."""
        released, due = [], []
        with self._lock:
            for session_id, ref in list(self._sessions.items()):
                if ref() is None:
                    del self._sessions[session_id]
                    self._gone_since.pop(session_id, None)
                elif is_connected(session_id):
                    self._gone_since.pop(session_id, None)
                elif now - self._gone_since.setdefault(session_id, now) > after:
                    due.append((session_id, ref()))
                    del self._sessions[session_id]
                    del self._gone_since[session_id]
        for session_id, session in due:
            if session is not None:
                session.release()
                released.append(session_id)
        return released


REGISTRY = Registry()
_started = threading.Lock()
_thread: threading.Thread | None = None


def watch(session: Releasable) -> None:
    """Register this script run's Session (call it when the Session is created); starts the janitor thread once.
    Outside a Streamlit server (tests, AppTest) nothing is registered."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not runtime.exists():
        return
    REGISTRY.watch(ctx.session_id, session)
    global _thread
    with _started:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_janitor, name="carrylab-janitor", daemon=True)
            _thread.start()


def release_after(ttl: float) -> float:
    """Seconds a session stays disconnected before it is released: the TTL less two checks (Streamlit must still
    hold it to shut it down), at least half the TTL."""
    return max(ttl - 2 * CHECK_SECONDS, ttl / 2)


def _janitor() -> None:
    """Every CHECK_SECONDS: close the sessions whose tab has been gone for nearly the TTL, then return the memory."""
    from streamlit import config, runtime

    closed = False
    while True:
        time.sleep(CHECK_SECONDS)
        if closed:  # last check's sessions have been shut down on the event loop since
            gc.collect()  # what only a cycle still held
            return_freed_memory()
        if not runtime.exists():
            continue
        ttl = float(config.get_option("server.disconnectedSessionTTL"))
        closed = bool(check(runtime.get_instance(), ttl, time.monotonic()))


def check(rt, ttl: float, now: float, registry: Registry = REGISTRY) -> list[str]:
    """One check: release the sessions disconnected for ``release_after(ttl)`` seconds and have Streamlit (the
    Runtime ``rt``) shut them down; returns their ids."""
    released = registry.sweep(rt.is_active_session, release_after(ttl), now)
    for session_id in released:
        rt.clear_user_info_for_session(session_id)  # marks it not resumable and shuts it down
    return released


def return_freed_memory() -> bool:
    """Ask the C allocator to give freed memory back to the operating system (glibc's ``malloc_trim``); False where
    there is no glibc (the memory is then reused by the process, not returned)."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True
