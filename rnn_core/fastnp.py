"""Cheaper numpy calls for the batch-1 hot loops, with the same results bit for bit (``tests/test_fastnp.py``).

Dispatch. ``np.dot``, ``np.vdot`` and ``np.copyto`` first call a small Python function that collects the arguments
which might override them (NEP 18). At batch 1 that costs about 0.2 us of a 0.5-0.7 us call, and a training step
makes about 20 such calls. The hot loops only ever pass plain ndarrays, so there is nothing to dispatch: the C
function behind each gives the same result.

Constants. A Python float operand costs a ufunc about 0.2 us more than a 0-d array (numpy 2 converts it as a "weak"
scalar at every call). A 0-d array of the operands' own dtype gives the same arithmetic: the weak scalar is
converted to that dtype too, and +, -, * are correctly rounded either way.
"""

from __future__ import annotations

import numpy as np


def undispatched(func):
    """The C implementation behind a dispatched numpy function (``func`` itself where there is none)."""
    return getattr(func, "_implementation", func)


dot = undispatched(np.dot)
vdot = undispatched(np.vdot)
copyto = undispatched(np.copyto)


def constant(value: float, dtype) -> np.ndarray:
    """A read-only 0-d array holding ``value`` in ``dtype``: the operand to use in place of a Python float."""
    out = np.array(value, dtype=dtype)
    out.flags.writeable = False
    return out
