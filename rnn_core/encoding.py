"""Bit encoding of the task: numbers are written least-significant bit first.

Time step t of a sequence carries bit t of each operand (t = 0 is the 1s bit) and the target at step t is bit t of
the result. Reading the low bits first is what makes addition learnable by a recurrent net: the carry produced at
bit t is needed at bit t + 1, i.e. one step later, so the network only has to remember one bit (the carry) in its
hidden state. (The seed post stores numbers most-significant first and flips them before feeding; we never store the
flipped form at all.)

Values are held as ``np.uint64`` so every width from 1 to 64 bits is exact: no float conversion, and the few places
that could overflow (a + b at 64 bits) are ruled out by the task's operand ranges, or wrap by design (subtraction is
modulo 2**n_bits).
"""

from __future__ import annotations

import numpy as np

MAX_BITS = 64


def check_n_bits(n_bits: int) -> int:
    """Return n_bits as an int, or raise ValueError if it is not a whole number in 1..64."""
    if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)):
        raise ValueError(f"n_bits must be a whole number from 1 to {MAX_BITS}, got {n_bits!r}")
    if not 1 <= int(n_bits) <= MAX_BITS:
        raise ValueError(f"n_bits must be from 1 to {MAX_BITS}, got {n_bits}")
    return int(n_bits)


def as_uint64(values) -> np.ndarray:
    """Convert ints (Python ints up to 2**64 - 1, or integer arrays) to a uint64 array, refusing negatives/overflow."""
    arr = np.asarray(values)
    if arr.dtype == np.uint64:
        return arr
    if arr.dtype == object or arr.dtype.kind not in "iu":
        flat = [int(v) for v in np.ravel(arr)]
        if any(v < 0 or v >= 2**MAX_BITS for v in flat):
            raise ValueError("values must be integers in [0, 2**64)")
        return np.array(flat, dtype=np.uint64).reshape(arr.shape)
    if arr.dtype.kind == "i" and arr.size and arr.min() < 0:
        raise ValueError("values must be non-negative")
    return arr.astype(np.uint64)


def to_bits(values, n_bits: int) -> np.ndarray:
    """Bits of each value, least-significant first.

    values: (N,) non-negative integers below 2**n_bits
    returns: (N, n_bits) uint8, out[:, t] = bit t
    """
    n_bits = check_n_bits(n_bits)
    v = as_uint64(values)
    shifts = np.arange(n_bits, dtype=np.uint64)
    return ((v[..., None] >> shifts) & np.uint64(1)).astype(np.uint8)


def from_bits(bits) -> np.ndarray:
    """Inverse of to_bits: bits (N, T) of 0/1, least-significant first -> (N,) uint64."""
    b = np.asarray(bits).astype(np.uint64)
    shifts = np.arange(b.shape[-1], dtype=np.uint64)
    return np.bitwise_or.reduce(b << shifts, axis=-1)
