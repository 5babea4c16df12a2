"""Numbers as the page shows them.

Why a module: "100.0 %" must mean every pair is right. Rounding 16,383 of 16,384 (99.994 %) to one decimal would
print 100.0 % beside "1 pair wrong", so a share below 1 gets as many decimals as it takes to stay below 100 %.
"""

from __future__ import annotations

import math

MAX_DECIMALS = 4  # past this, "99.9999 %" (a share even closer to 1 is floored, never rounded up)


def percent(fraction: float, decimals: int = 1, *, space: bool = True) -> str:
    """`fraction` (0..1) as a percentage with `decimals` decimals, never reading 100 unless it is exactly 1 (nor 0
    unless it is exactly 0). Non-finite -> "n/a". e.g. 0.5 -> "50.0 %", 16383/16384 -> "99.99 %"."""
    if not math.isfinite(fraction):
        return "n/a"
    value = 100 * fraction
    digits = decimals
    while digits < MAX_DECIMALS and 0 < fraction < 1 and round(value, digits) in (0, 100):
        digits += 1
    if 0 < fraction < 1 and round(value, digits) == 100:
        value = math.floor(value * 10**digits) / 10**digits
    elif 0 < fraction < 1 and round(value, digits) == 0:
        value = math.ceil(value * 10**digits) / 10**digits
    return f"{value:.{digits}f}{' ' if space else ''}%"


def signed_delta(change: float, fmt: str) -> str | None:
    """A metric's change formatted with `fmt` (e.g. "{:+.4f}"), or None when it is zero or rounds to zero
    (no "-0.0000" or "+0.0 pts" beside an unchanged number)."""
    if not math.isfinite(change):
        return None
    text = fmt.format(change)
    if not any(ch in "123456789" for ch in text):
        return None
    return text
