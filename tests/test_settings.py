"""The settings table and the URL <-> settings conversion: a shared link is untrusted input.

Table-driven: every hostile query parameter must come back as a valid value (default or clamped) with a
note naming the key, never an exception; good values must round-trip through to_query_params.
"""

from __future__ import annotations

import math

import pytest

from carrylab.settings import (
    CONFIG_SETTINGS,
    DEFAULTS,
    MAX_OPERAND,
    RESET_SETTINGS,
    SETTINGS,
    changed_settings,
    config_from_settings,
    fit_operand,
    parse_operand_text,
    parse_query_params,
    parse_value,
    probe_operator,
    to_query_params,
)
from rnn_core.train import TrainConfig

# (query params, expected settings subset, substring every note for it must contain or None for "no note")
HOSTILE = [
    ({"eta": "abc"}, {"eta": 0.1}, "eta"),
    ({"eta": "nan"}, {"eta": 0.1}, "finite"),
    ({"eta": "NaN"}, {"eta": 0.1}, "finite"),
    ({"eta": "inf"}, {"eta": 0.1}, "finite"),
    ({"eta": "-inf"}, {"eta": 0.1}, "finite"),
    ({"eta": "0"}, {"eta": 1e-6}, "clamped"),
    ({"eta": "-5"}, {"eta": 1e-6}, "clamped"),
    ({"eta": "1e999"}, {"eta": 0.1}, "finite"),  # float overflow is inf
    ({"eta": "1" * 101}, {"eta": 0.1}, "longer than 100"),
    ({"eta": ""}, {"eta": 0.1}, "not a number"),
    ({"eta": "0x10"}, {"eta": 0.1}, "not a number"),
    ({"eta": "٠.٥"}, {"eta": 0.1}, "not a number"),  # non-ASCII digits
    ({"n_bits": "999"}, {"n_bits": 64}, "clamped to 64"),
    ({"n_bits": "0"}, {"n_bits": 1}, "clamped to 1"),
    ({"n_bits": "-3"}, {"n_bits": 1}, "clamped to 1"),
    ({"n_bits": "8.5"}, {"n_bits": 8}, "whole number"),
    ({"n_bits": "1e400"}, {"n_bits": 8}, "finite"),
    ({"n_bits": "9" * 90}, {"n_bits": 64}, "clamped"),  # huge but under the length limit
    ({"n_hidden": "12\x00"}, {"n_hidden": 32}, "n_hidden"),
    ({"seed": str(2**40)}, {"seed": 2**32 - 1}, "clamped"),
    ({"batch_size": "None"}, {"batch_size": 1}, "not a number"),
    ({"steps_per_click": "0"}, {"steps_per_click": 1}, "clamped"),
    ({"steps_per_click": "1000000"}, {"steps_per_click": 100_000}, "clamped"),
    ({"demo_speed": "37"}, {"demo_speed": 50}, "demo_speed"),
    ({"smoothing": "1"}, {"smoothing": 0.99}, "clamped"),
    ({"smoothing": "-0.5"}, {"smoothing": 0.0}, "clamped"),
    ({"operator": "pow"}, {"operator": "add"}, "one of"),
    ({"operator": "<script>alert(1)</script>"}, {"operator": "add"}, "operator"),
    ({"optimizer": "rmsprop"}, {"optimizer": "sgd"}, "one of"),
    ({"variant": ""}, {"variant": "elman"}, "one of"),
    ({"log_y": "maybe"}, {"log_y": False}, "true/false"),
    ({"operand_a": "-5"}, {"operand_a": "13"}, "whole number"),
    ({"operand_a": "1.5"}, {"operand_a": "13"}, "whole number"),
    ({"operand_b": "12abc"}, {"operand_b": "33"}, "whole number"),
    ({"operand_b": str(2**70)}, {"operand_b": str(MAX_OPERAND)}, "clamped"),
    ({"unknown_key": "1"}, {}, "unknown"),
    ({"x" * 5000: "1"}, {}, "unknown"),
    ({"seed": ["1", "2"]}, {"seed": 2}, "2 times"),
]


@pytest.mark.parametrize(("params", "expected", "note_part"), HOSTILE, ids=[repr(p)[:40] for p, _, _ in HOSTILE])
def test_hostile_query_params_fall_back_with_a_note(params, expected, note_part):
    settings, notes = parse_query_params(params)
    assert set(settings) == set(SETTINGS)
    for name, value in expected.items():
        assert settings[name] == value
        assert type(settings[name]) is type(value)
    # everything not mentioned stays at its default
    for name in set(SETTINGS) - set(expected):
        assert settings[name] == DEFAULTS[name]
    assert len(notes) == 1
    assert note_part in notes[0]
    assert len(notes[0]) < 300  # a hostile value is never echoed at length


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"eta": "0.5"}, {"eta": 0.5}),
        ({"eta": " 2e-3 "}, {"eta": 0.002}),
        ({"n_bits": "16"}, {"n_bits": 16}),
        ({"n_bits": "1e1"}, {"n_bits": 10}),
        ({"n_hidden": "+7"}, {"n_hidden": 7}),
        ({"operator": "SUB"}, {"operator": "sub"}),
        ({"log_y": "ON"}, {"log_y": True}),
        ({"stop_when_solved": "0"}, {"stop_when_solved": False}),
        ({"operand_a": str(MAX_OPERAND)}, {"operand_a": str(MAX_OPERAND)}),
        ({"operand_a": "007"}, {"operand_a": "7"}),
        ({"demo_speed": "200"}, {"demo_speed": 200}),
        ({"embed": "true"}, {}),  # Streamlit's own parameter: silently ignored
    ],
)
def test_good_query_params_are_taken_without_notes(params, expected):
    settings, notes = parse_query_params(params)
    assert notes == []
    assert settings == {**DEFAULTS, **expected}


def test_empty_query_gives_the_defaults_which_are_the_seed_post():
    settings, notes = parse_query_params({})
    assert notes == []
    assert settings == DEFAULTS
    config = config_from_settings(settings)
    assert (config.op, config.n_bits, config.n_hidden, config.eta, config.batch_size) == ("add", 8, 32, 0.1, 1)
    assert config == TrainConfig()
    assert (settings["operand_a"], settings["operand_b"]) == ("13", "33")


def test_every_note_names_its_key():
    params = {"eta": "x", "n_bits": "100", "loss": "l1", "seed": "-1", "smoothing": "nan"}
    _, notes = parse_query_params(params)
    assert len(notes) == len(params)
    for key, note in zip(params, notes, strict=True):
        assert f"'{key}'" in note


def test_to_query_params_holds_only_non_default_values_and_round_trips():
    assert to_query_params(DEFAULTS) == {}
    custom = {
        **DEFAULTS,
        "eta": 0.037,
        "n_bits": 12,
        "operator": "mixed",
        "log_y": True,
        "seed": 2**32 - 1,
        "operand_a": "12345678901234567890",
        "smoothing": 0.0,
        "demo_speed": 5,
    }
    params = to_query_params(custom)
    assert params == {
        "eta": "0.037",
        "n_bits": "12",
        "operator": "mixed",
        "log_y": "true",
        "seed": "4294967295",
        "operand_a": "12345678901234567890",
        "smoothing": "0.0",
        "demo_speed": "5",
    }
    assert all(isinstance(v, str) for v in params.values())
    back, notes = parse_query_params(params)
    assert notes == []
    assert back == custom


def test_to_query_params_leaves_out_invalid_values():
    params = to_query_params({**DEFAULTS, "operand_a": "abc", "eta": float("nan"), "n_bits": True, "loss": "x"})
    assert params == {}


@pytest.mark.parametrize("name", CONFIG_SETTINGS)
def test_training_settings_take_ranges_and_choices_from_train_config(name):
    setting = SETTINGS[name]
    field = setting.config_field
    assert setting.default == getattr(TrainConfig(), field)
    if field in TrainConfig.CHOICES:
        assert setting.choices == tuple(TrainConfig.CHOICES[field])
    else:
        assert setting.bounds == TrainConfig.BOUNDS[field]


def test_reset_settings_are_the_config_settings_except_the_learning_rate():
    assert "eta" not in RESET_SETTINGS
    assert set(RESET_SETTINGS) | {"eta"} == set(CONFIG_SETTINGS)
    assert changed_settings(DEFAULTS, {**DEFAULTS, "n_hidden": 4, "eta": 1.0}, RESET_SETTINGS) == ["n_hidden"]


def test_parse_value_clamps_float_bounds_exactly():
    value, note = parse_value(SETTINGS["eta"], "1e5")
    assert value == 1e4 and "clamped" in note
    value, note = parse_value(SETTINGS["momentum"], "0.5")
    assert value == 0.5 and note is None
    assert math.isclose(parse_value(SETTINGS["clip"], "2.5")[0], 2.5)


@pytest.mark.parametrize(
    ("text", "op", "n_bits", "expected"),
    [
        ("13", "add", 8, 13),
        (" 127 ", "add", 8, 127),
        ("255", "sub", 8, 255),
        ("0", "add", 1, 0),
        (str(2**63 - 1), "add", 64, 2**63 - 1),
        (str(2**64 - 1), "xor", 64, 2**64 - 1),  # exact: above float precision
        ("1_000", "or", 16, 1000),
    ],
)
def test_parse_operand_text_is_exact(text, op, n_bits, expected):
    value = parse_operand_text(text, "a", op, n_bits)
    assert value == expected and isinstance(value, int)


@pytest.mark.parametrize(
    ("text", "op", "n_bits", "message"),
    [
        ("128", "add", 8, "out of range"),  # the sum must fit: half range for add
        ("256", "sub", 8, "out of range"),
        (str(2**64), "xor", 64, "out of range"),
        ("-5", "add", 8, "negative"),
        ("abc", "add", 8, "not a whole number"),
        ("1e3", "add", 16, "not a whole number"),
        ("13.0", "add", 8, "not a whole number"),
        ("", "add", 8, "empty"),
        ("   ", "add", 8, "empty"),
        ("9" * 200, "add", 64, "too long"),
        ("<b>1</b>", "add", 8, "not a whole number"),
    ],
)
def test_parse_operand_text_rejects_bad_operands_with_a_message(text, op, n_bits, message):
    with pytest.raises(ValueError, match=message) as info:
        parse_operand_text(text, "a", op, n_bits)
    assert "Operand a" in str(info.value)
    assert len(str(info.value)) < 300


def test_fit_operand_reduces_modulo_the_operand_limit():
    assert fit_operand("13", "add", 8) == "13"
    assert fit_operand("13", "add", 4) == "5"  # add at 4 bits: operands 0..7
    assert fit_operand("33", "sub", 4) == "1"  # sub at 4 bits: operands 0..15
    assert fit_operand("abc", "add", 4) == "abc"  # invalid text is left for the page to report


def test_probe_operator_uses_the_task_or_the_chosen_mixed_operator():
    assert probe_operator({**DEFAULTS, "operator": "sub", "probe_op": "and"}) == "sub"
    assert probe_operator({**DEFAULTS, "operator": "mixed", "probe_op": "and"}) == "and"


def test_config_from_settings_rejects_bad_values_with_the_engine_message():
    with pytest.raises(ValueError, match="n_hidden"):
        config_from_settings({**DEFAULTS, "n_hidden": 0})


def test_an_operand_typed_with_digit_separators_goes_into_the_link_as_its_digits():
    """The probe reads 1_000 as 1000 (as Python does); the link must carry it, not drop it for the default."""
    params = to_query_params({**DEFAULTS, "operand_a": "1_2", "operand_b": " 1_000 "})
    assert params == {"operand_a": "12", "operand_b": "1000"}
    back, notes = parse_query_params(params)
    assert notes == [] and (back["operand_a"], back["operand_b"]) == ("12", "1000")
