"""rnn_core.lockstep: many seeds trained together must give each seed's result from training it alone with the
plain Trainer (the reference path): the same solved-at step, steps trained and final accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core import lockstep
from rnn_core.sweep import run_alone, run_group
from rnn_core.train import TrainConfig, Trainer


def alone(config: TrainConfig, budget: int) -> tuple:
    """(solved at, steps, exhaustive accuracy) of one Trainer call, the way the CLI's train --until-solved runs it."""
    trainer = Trainer(config)
    trainer.train(budget, until_solved=True)
    return trainer.solved_at_step, trainer.step, float(trainer.evaluate().accuracy)


def together(configs: list[TrainConfig], budget: int) -> list[tuple]:
    return [(r["solved_at_step"], r["steps"], r["accuracy"]) for r in lockstep.train_many(configs, budget)]


def test_seeds_0_to_15_of_the_posts_configuration_match_training_each_alone():
    configs = [TrainConfig(seed=s) for s in range(16)]
    got = together(configs, 5000)
    want = [alone(c, 5000) for c in configs]
    assert got == want
    assert all(w[0] is not None for w in want)  # every seed solves, at scheduled evaluations that differ by seed
    assert len({w[0] for w in want}) >= 3


@pytest.mark.parametrize(
    ("settings", "budget"),
    [
        ({"n_hidden": 4}, 3000),  # some seeds never solve: the budget is spent, the accuracy is below 1
        ({"n_hidden": 8, "batch_size": 4}, 2000),
        ({"n_hidden": 16, "eta": 1.0}, 1500),
        ({"n_bits": 4, "n_hidden": 3, "eval_every": 70}, 1000),  # chunks that end at odd evaluation steps
        ({"op": "sub", "n_hidden": 16}, 3000),
    ],
)
def test_other_configurations_match_training_each_seed_alone(settings, budget):
    configs = [TrainConfig(seed=s, **settings) for s in range(8)]
    assert together(configs, budget) == [alone(c, budget) for c in configs]


def test_seeds_that_do_not_start_at_zero_and_a_group_of_one():
    configs = [TrainConfig(n_hidden=8, seed=s) for s in (1000, 7, 123456)]
    assert together(configs, 2500) == [alone(c, 2500) for c in configs]
    assert together(configs[:1], 2500) == [alone(configs[0], 2500)]


@pytest.mark.parametrize(
    "settings",
    [{"optimizer": "adam"}, {"variant": "trask"}, {"loss": "bce"}, {"dtype": "float32"}, {"clip": 1.0},
     {"rng": "legacy"}, {"n_bits": 16, "n_hidden": 8}],
)  # fmt: skip
def test_configurations_it_does_not_handle_go_to_the_plain_path(settings):
    config = TrainConfig(**settings)
    assert not lockstep.handles(config)
    with pytest.raises(ValueError, match="run_alone"):
        lockstep.train_many([config, config], 10)
    rows = run_group(config.to_dict(), [0, 1], 30)  # run_group trains them one at a time instead
    assert [r["steps"] for r in rows] == [30, 30]


def test_a_stopped_group_reports_no_unfinished_run():
    configs = [TrainConfig(eta=1e-6, seed=s) for s in range(4)]  # never solves
    calls = []
    results = lockstep.train_many(configs, 5000, should_stop=lambda: calls.append(1) or len(calls) > 3)
    assert results == [None] * 4


def test_a_seed_whose_values_become_non_finite_is_trained_again_alone(monkeypatch):
    """The trainer rolls a diverged run back and says so; the lock-step engine hands such a seed to it."""
    configs = [TrainConfig(n_hidden=8, seed=s) for s in range(3)]
    real = lockstep._Group.train_chunk

    def poison_seed_1(self, chunk):
        if 1 in self.active.tolist():
            self.theta[self.active.tolist().index(1), 0] = np.nan
        return real(self, chunk)

    monkeypatch.setattr(lockstep._Group, "train_chunk", poison_seed_1)
    results = lockstep.train_many(configs, 1500)
    reference = run_alone(configs[1], 1500)
    assert {k: results[1][k] for k in ("solved_at_step", "steps", "accuracy")} == {
        k: reference[k] for k in ("solved_at_step", "steps", "accuracy")
    }
    assert (results[0]["solved_at_step"], results[2]["solved_at_step"]) == (
        alone(configs[0], 1500)[0],
        alone(configs[2], 1500)[0],
    )


def test_the_rows_error_is_the_mean_error_of_the_last_100_steps_as_the_trainer_logs_it():
    configs = [TrainConfig(n_hidden=4, seed=s) for s in range(3)]
    for got, config in zip(lockstep.train_many(configs, 1200), configs):
        assert got["error"] == pytest.approx(run_alone(config, 1200)["error"], rel=1e-9)
