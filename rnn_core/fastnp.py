"""numpy's C functions without their ``__array_function__`` dispatcher, for the batch-1 hot loops.

``np.dot``, ``np.vdot`` and ``np.copyto`` first call a small Python function that collects the arguments which might
override them (NEP 18). At batch 1 that costs about 0.2 us of a 0.5-0.7 us call, and a training step makes about 20
such calls. The hot loops only ever pass plain ndarrays, so there is nothing to dispatch: the C function behind
each gives the same result, bit for bit (``tests/test_fastnp.py``).
"""

from __future__ import annotations

import numpy as np


def undispatched(func):
    """The C implementation behind a dispatched numpy function (``func`` itself where there is none)."""
    return getattr(func, "_implementation", func)


dot = undispatched(np.dot)
vdot = undispatched(np.vdot)
copyto = undispatched(np.copyto)
