"""Long runs keep memory bounded: the history is downsampled, snapshots thinned (benchmarks/bench_memory.py
measures peak RSS at 10k, 100k and 1M steps in fresh processes)."""

import os

import numpy as np
import pytest

from rnn_core.train import TrainConfig, Trainer


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def stored_bytes(trainer: Trainer) -> int:
    steps, err = trainer.steps_log.arrays()
    evals = sum(np.asarray(v).nbytes for v in trainer.evals.state().values())
    snaps = sum(t.nbytes for t in trainer.snapshots.thetas)
    return steps.nbytes + err.nbytes + evals + snaps


@pytest.mark.slow
def test_two_hundred_thousand_steps_keep_memory_flat():
    trainer = Trainer(TrainConfig(seed=0, eval_every=1000))
    trainer.train(30_000)
    rss_early, stored_early = rss_mb(), stored_bytes(trainer)
    for _ in range(17):
        trainer.train(10_000)
    assert trainer.step == 200_000
    assert len(trainer.steps_log.arrays()[0]) <= trainer.steps_log.capacity + 1
    assert trainer.evals.n < trainer.evals.capacity
    assert len(trainer.snapshots.steps) <= trainer.snapshots.max_count
    assert trainer.snapshots.steps[-1] > 150_000  # thinned, still spanning the run
    assert stored_bytes(trainer) < 2 * stored_early + (1 << 20)
    assert rss_mb() - rss_early < 20  # MB: nothing grows with the step count


def test_stores_are_bounded_by_construction():
    trainer = Trainer(TrainConfig(seed=0, eval_every=10, snapshot_every=1))
    trainer.steps_log.__init__(capacity=64)
    trainer.train(3_000)
    assert len(trainer.steps_log.arrays()[0]) <= 65
    assert len(trainer.snapshots.steps) <= trainer.snapshots.max_count
    assert trainer.evals.n <= trainer.evals.capacity
