"""Presets: every entry is a valid config, the Trask preset reproduces the published log, and the presets that
claim to learn do learn within their budgets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnn_core.metrics import length_generalisation
from rnn_core.presets import LOG_STYLES, PRESETS, VIEWS, Preset
from rnn_core.tasks import decode_outputs
from rnn_core.train import TrainConfig, Trainer, build_model

# Trask, "Anyone Can Learn To Code an LSTM-RNN in Python (Part 1: RNN)": iteration, printed error, a, b, prediction.
TRASK_LOG = [
    (0, "3.45638663", 9, 60, 1),
    (1000, "3.63389116", 28, 35, 255),
    (2000, "3.91366595", 116, 44, 72),
    (3000, "3.72191702", 4, 73, 223),
    (4000, "3.5852713", 71, 11, 8),
    (5000, "2.53352328", 81, 113, 162),
    (6000, "0.57691441", 81, 0, 81),
    (7000, "1.42589952", 4, 125, 129),
    (8000, "0.47477457", 39, 17, 56),
    (9000, "0.21595037", 11, 3, 14),
]


def test_table_is_complete_and_keyed_by_preset_key():
    expected = {"seed_post", "trask", "fast", "tiny", "gru", "lstm", "subtraction", "mixed", "carry_free"}
    expected.add("long_numbers")
    assert set(PRESETS) == expected
    for key, preset in PRESETS.items():
        assert isinstance(preset, Preset) and preset.key == key


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_every_preset_is_valid_and_presentable(key):
    preset = PRESETS[key]
    assert preset.config.validate() is preset.config
    assert preset.label.strip() and preset.description.strip()
    assert "\n" not in preset.description and len(preset.description) <= 120
    assert preset.view in VIEWS
    assert preset.log_style in LOG_STYLES
    assert preset.steps >= 1 and preset.log_interval >= 1


def test_seed_post_preset_is_the_post():
    cfg = PRESETS["seed_post"].config
    assert cfg == TrainConfig()
    assert (cfg.op, cfg.n_bits, cfg.n_hidden, cfg.eta, cfg.batch_size) == ("add", 8, 32, 0.1, 1)
    assert (cfg.optimizer, cfg.loss, cfg.variant) == ("sgd", "mse", "elman")


def test_trask_preset_is_the_tutorials_setup():
    preset = PRESETS["trask"]
    cfg = preset.config
    assert (cfg.variant, cfg.n_hidden, cfg.eta, cfg.seed, cfg.rng) == ("trask", 16, 0.1, 0, "legacy")
    assert (cfg.op, cfg.n_bits, cfg.batch_size, cfg.optimizer) == ("add", 8, 1, "sgd")
    assert (preset.steps, preset.log_interval, preset.log_style) == (10_000, 1000, "trask")


def test_views_point_long_numbers_at_the_length_view():
    assert PRESETS["long_numbers"].view == "length"
    assert PRESETS["seed_post"].view == "training"


def test_make_config_gives_a_fresh_validated_copy():
    preset = PRESETS["fast"]
    cfg = preset.make_config(seed=3)
    assert cfg.seed == 3 and cfg.optimizer == preset.config.optimizer
    cfg.eta = 99.0
    assert preset.config.eta != 99.0
    with pytest.raises(ValueError, match="n_hidden must be from 1 to 256"):
        preset.make_config(n_hidden=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.steps = 1


def test_trask_preset_reproduces_the_published_log():
    """The error (sum over bits of |t - y| of that iteration's example, before its update), the example and the
    decoded prediction match the tutorial's printed log at iterations 0, 1000, ..., 9000."""
    trainer = Trainer(PRESETS["trask"].make_config())
    scratch = build_model(trainer.config, np.random.default_rng(0))
    for iteration, printed_error, a, b, prediction in TRASK_LOG:
        trainer.train(iteration - trainer.step)
        scratch.theta[...] = trainer.model.theta  # the weights this iteration trains from
        trainer.train(1)
        got_a, got_b, _ = trainer.last_example
        assert (got_a, got_b) == (a, b), iteration
        batch = trainer.task.encode(a, b)
        y, _ = scratch.forward(batch.x)
        error = float(np.abs(batch.target - y).sum())
        assert abs(error - float(printed_error)) <= 5e-9, (iteration, error)
        assert int(decode_outputs(y)[0]) == prediction, iteration
    trainer.train(PRESETS["trask"].steps - trainer.step)
    assert trainer.evaluate().accuracy == 1.0  # the tutorial: right on all 16,384 pairs after 10,000 iterations


def _solves(config: TrainConfig, budget: int) -> Trainer:
    trainer = Trainer(config)
    trainer.train(budget, until_solved=True)
    return trainer


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_preset_solves_8_bit_addition_within_its_budget(seed):
    preset = PRESETS["fast"]
    trainer = _solves(preset.make_config(seed=seed), preset.steps)
    assert trainer.solved_at_step is not None and trainer.solved_at_step <= 300
    assert trainer.evaluate().accuracy == 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_tiny_preset_solves_8_bit_addition(seed):
    preset = PRESETS["tiny"]
    assert preset.config.n_hidden <= 4
    trainer = _solves(preset.make_config(seed=seed), preset.steps)
    assert trainer.evaluate().accuracy == 1.0


@pytest.mark.parametrize("key", ["gru", "lstm"])
def test_gated_cell_presets_are_the_posts_task_and_batch_with_their_cell(key):
    cfg = PRESETS[key].config
    assert cfg.cell == key
    post = TrainConfig()
    assert cfg == TrainConfig(cell=key, eta=cfg.eta)  # the post's config but for the cell and learning rate
    assert (cfg.op, cfg.n_bits, cfg.n_hidden, cfg.batch_size) == (post.op, post.n_bits, post.n_hidden, post.batch_size)


@pytest.mark.parametrize("key", ["gru", "lstm"])
def test_gated_cell_presets_solve_8_bit_addition_within_2000_steps(key):
    trainer = _solves(PRESETS[key].make_config(seed=0), 2000)
    assert trainer.model.cell == key
    assert trainer.evaluate().accuracy == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("key", ["gru", "lstm"])
def test_gated_cell_presets_median_steps_to_solve_at_most_2000_over_seeds_0_to_4(key):
    steps = [_solves(PRESETS[key].make_config(seed=seed), 6000).solved_at_step for seed in range(5)]
    assert sorted(s if s is not None else 10**9 for s in steps)[2] <= 2000, steps


@pytest.mark.parametrize("key", ["subtraction", "mixed", "carry_free"])
def test_operator_presets_learn_far_above_chance(key):
    """Chance is 1/256 per example at 8 bits; each preset gets every pair right within 2,000 steps on seed 0."""
    trainer = _solves(PRESETS[key].make_config(), 2000)
    assert trainer.evaluate().accuracy == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("key", ["subtraction", "mixed", "tiny"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_operator_and_tiny_presets_learn_on_other_seeds(key, seed):
    trainer = _solves(PRESETS[key].make_config(seed=seed), PRESETS[key].steps)
    assert trainer.evaluate().accuracy >= 0.99


def test_long_numbers_preset_generalises_to_longer_numbers():
    trainer = _solves(PRESETS["long_numbers"].make_config(), PRESETS["long_numbers"].steps)
    assert trainer.evaluate().accuracy == 1.0
    result = length_generalisation(trainer.model, "add", (16, 32, 64), n_random=500)
    assert (result["random"] >= 0.99).all() and (result["chain"] >= 0.99).all()
