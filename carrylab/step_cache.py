"""Per-step caches of one session: values derived from the weights, kept for the current model version and step.

`cached` keeps only the current (model version, step)'s entries; `throttled` reuses a value for a few live frames
while playing (a costly view need not follow every frame); `order` remembers the last unit order of a model.
"""

from __future__ import annotations

from collections.abc import Callable

PLAYING_REFRESH_FRAMES = 4  # while playing, throttled views refresh every this many frames


class StepCache:
    """Values keyed by (model version, step); throttled values keyed by (frame, inputs)."""

    def __init__(self):
        self._key: tuple[int, int] | None = None
        self._values: dict[str, object] = {}
        self._throttled: dict[str, tuple[int, tuple, object]] = {}  # name -> (frame, key, value)
        self.order = None  # (model_version, unit order), reused while playing

    def clear_order(self) -> None:
        self.order = None

    def cached(self, key: tuple[int, int], name: str, compute: Callable[[], object]):
        """compute() once per key (model version, step); only the current key's entries are kept."""
        if self._key != key:
            self._key, self._values = key, {}
        if name not in self._values:
            self._values[name] = compute()
        return self._values[name]

    def throttled(self, name: str, key: tuple, frame: int, playing: bool, compute: Callable[[], object]):
        """compute() now when not playing; while playing, the value computed for the same key during the last
        PLAYING_REFRESH_FRAMES frames."""
        held = self._throttled.get(name)
        if playing and held is not None and held[1] == key and frame - held[0] < PLAYING_REFRESH_FRAMES:
            return held[2]
        value = compute()
        self._throttled[name] = (frame, key, value)
        return value
