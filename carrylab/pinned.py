"""The pinned runs of one session: at most MAX_PINNED runs kept for comparison, each renamable, hideable, removable.

They live in the browser session (`st.session_state`), like the current run: a rerun or a preset change keeps them, a
closed tab loses them (a checkpoint download of all runs keeps them on disk). Each is a `carrylab.run.Run` with the
trainer's bounded histories; `cost_bytes` says what one costs. A refused action raises `PinError` with the message
for the page, and changes nothing.
"""

from __future__ import annotations

import itertools

from carrylab.run import Run, array_bytes

MAX_PINNED = 8
MAX_NAME = 40  # characters of a run's name


class PinError(ValueError):
    """A refused pin, rename or remove; the message says why."""


def clean_name(text: str) -> str:
    """A run name as typed: stripped, at most MAX_NAME printable characters. Empty or too long: PinError. The page
    shows names escaped, so markup in a name is shown as typed, never rendered."""
    name = str(text).strip()
    if not name:
        raise PinError("A run's name cannot be empty: the name was not changed.")
    if len(name) > MAX_NAME:
        raise PinError(f"A run's name has at most {MAX_NAME} characters (got {len(name):,}): the name was not changed.")
    if not all(ch.isprintable() for ch in name):
        raise PinError("A run's name cannot hold control characters: the name was not changed.")
    return name


class PinnedRuns:
    """Runs by id (a number that is never reused in a session), in the order they were pinned."""

    def __init__(self):
        self._runs: dict[int, Run] = {}
        self._ids = itertools.count(1)
        self.version = 0  # bumped by every change (a chart of the runs is redrawn when it moves)

    def __len__(self) -> int:
        return len(self._runs)

    def items(self) -> list[tuple[int, Run]]:
        return list(self._runs.items())

    def runs(self) -> list[Run]:
        return list(self._runs.values())

    def get(self, run_id: int) -> Run:
        if run_id not in self._runs:
            raise PinError(f"There is no pinned run {run_id}: it was removed.")
        return self._runs[run_id]

    def contains(self, run: Run) -> bool:
        return any(held is run for held in self._runs.values())

    def pin(self, run: Run) -> int:
        """Keep `run`; returns its id. A ninth run, or one already pinned: PinError."""
        if self.contains(run):
            raise PinError("This run is pinned already: train it further or change a setting to start another.")
        if len(self._runs) >= MAX_PINNED:
            raise PinError(
                f"At most {MAX_PINNED} runs can be pinned (each costs memory on a shared server): remove one first."
            )
        run_id = next(self._ids)
        self._runs[run_id] = run
        self.version += 1
        return run_id

    def with_current(self, current: Run) -> list[Run]:
        """The pinned runs in pin order, then `current` unless it is pinned."""
        runs = self.runs()
        return runs if self.contains(current) else [*runs, current]

    # -- the page's actions: each returns its message for the page, or raises PinError and changes nothing -------
    def keep(self, run: Run) -> str:
        run_id = self.pin(run)
        return f"Pinned run {run_id} at step {run.trainer.step:,}: it stays when you change settings or reset."

    def rename(self, run_id: int, text: str) -> str:
        name = clean_name(text)
        self.get(run_id).name = name
        self.version += 1
        return f"Renamed run {run_id} to {name}."

    def set_hidden(self, run_id: int, hidden: bool) -> str:
        self.get(run_id).hidden = bool(hidden)
        self.version += 1
        return f"Run {run_id} is {'hidden from' if hidden else 'shown on'} the charts."

    def remove(self, run_id: int, current: Run) -> str:
        """Unpin a run. The current run, when pinned, is only unpinned: it stays on the page as the current run."""
        run = self.get(run_id)
        del self._runs[run_id]
        self.version += 1
        if run is current:
            return f"Unpinned run {run_id}; it is the current run, so it stays on the page until settings change."
        return f"Removed run {run_id}."

    def cost_bytes(self) -> int:
        return sum(array_bytes(run) for run in self._runs.values())
