"""A download whose file name is chosen when it is clicked, together with its contents.

Why: `st.download_button(data=callable)` builds the file only when clicked, but takes its file name when the button
is drawn. The run can move between the two (a long Train keeps the previous run's button on screen while it trains),
so a file named "step0" could hold step 49,104. Here the callable returns the name and the bytes together, and the
name is written into Streamlit's record of that deferred download before Streamlit reads it: Streamlit 1.67 runs
the callable first and takes the entry's ``filename`` afterwards (``MediaFileManager.execute_deferred``). That
record is internal to Streamlit, so it is touched in this one place, and `tests/test_checkpoint_limits.py` checks
the behaviour against the installed Streamlit; where the record cannot be found, the file keeps the name it was
drawn with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

_LOG = logging.getLogger(__name__)


class NamedAtClick:
    """``data=`` for `st.download_button`: calls ``build() -> (file name, bytes)`` when clicked and names the file.

    Create it while the script runs (it finds this server's media file manager then)."""

    def __init__(self, build: Callable[[], tuple[str, bytes]]):
        self.build = build
        self._manager = _media_file_manager()

    def __call__(self) -> bytes:
        name, data = self.build()
        if not self._rename(name):
            _LOG.warning("could not name the download %s at click time: it keeps the name it was drawn with", name)
        return data

    def _rename(self, name: str) -> bool:
        """Set the file name of this callable's deferred download entries; False if none is found."""
        manager = self._manager
        entries, lock = getattr(manager, "_deferred_callables", None), getattr(manager, "_lock", None)
        if not isinstance(entries, dict) or lock is None:
            return False
        found = False
        with lock:
            for entry in entries.values():
                if isinstance(entry, dict) and entry.get("callable") is self:
                    entry["filename"] = name
                    found = True
        return found


def _media_file_manager():
    """The running Streamlit server's media file manager, or None outside a server."""
    from streamlit import runtime

    if not runtime.exists():
        return None
    return runtime.get_instance().media_file_mgr
