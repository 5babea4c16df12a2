"""Many seeds of one configuration trained in lock-step (placeholder: trains each seed alone)."""

from __future__ import annotations


def handles(config) -> bool:
    return False


def train_many(configs, budget, should_stop=None):  # pragma: no cover - replaced by the batched engine
    raise NotImplementedError
