"""Percentages on the page: 100 % only when every pair is right, and no "-0.0000" deltas."""

import math

import pytest

from carrylab.formatting import percent, signed_delta


@pytest.mark.parametrize(
    "fraction, decimals, expected",
    [
        (1.0, 1, "100.0 %"),
        (0.0, 1, "0.0 %"),
        (0.5, 1, "50.0 %"),
        (0.123456, 1, "12.3 %"),
        (16_383 / 16_384, 1, "99.99 %"),  # one pair wrong: not "100.0 %"
        (65_535 / 65_536, 1, "99.998 %"),
        (1 - 1e-9, 1, "99.9999 %"),  # past the decimals it would take: floored, never rounded up
        (1 / 16_384, 1, "0.01 %"),  # one pair right: not "0.0 %"
        (1e-12, 1, "0.0001 %"),
        (0.996, 0, "99.6 %"),
        (0.25, 0, "25 %"),
        (math.nan, 1, "n/a"),
    ],
)
def test_percent_reads_100_only_for_every_pair_and_0_only_for_none(fraction, decimals, expected):
    assert percent(fraction, decimals) == expected


def test_percent_without_the_space():
    assert percent(16_383 / 16_384, space=False) == "99.99%"


@pytest.mark.parametrize(
    "change, fmt, expected",
    [
        (-1e-6, "{:+.4f}", None),  # was "-0.0000"
        (0.0, "{:+.1f} pts", None),
        (-0.004, "{:+.1f} pts", None),  # was "-0.0 pts"
        (-0.25, "{:+.1f} pts", "-0.2 pts"),
        (0.012345, "{:+.4f}", "+0.0123"),
        (1000, "+{:,}", "+1,000"),
        (math.inf, "{:+.4f}", None),
    ],
)
def test_signed_delta_leaves_out_changes_that_round_to_zero(change, fmt, expected):
    assert signed_delta(change, fmt) == expected
