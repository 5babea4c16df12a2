"""One BLAS thread: the matrices here are tiny (32 x 32), so a multi-threaded BLAS only adds hand-off costs, and
on a shared 2-core machine (or a Streamlit server with many sessions, each in its own thread) its spinning worker
threads steal time from everything else. Measured in benchmarks/README.md.

Measured on a loaded 2-core machine: a forward/backward pass over 1,024 sequences took 431 ms with OpenBLAS's
default threads and 15 ms with one. So importing ``rnn_core`` limits BLAS to one thread for the whole process
(the package ``__init__`` calls ``limit_blas_threads()``); set ``RNN_CORE_BLAS_THREADS=N`` to choose another
number, or ``0`` to leave numpy's threading alone.
"""

from __future__ import annotations

import os

import numpy as np  # noqa: F401  (loads OpenBLAS: threadpoolctl only limits libraries already loaded)

_limiter = None


def limit_blas_threads(n: int | None = None) -> bool:
    """Limit BLAS/OpenMP thread pools to n threads for the rest of the process. True if it took effect."""
    global _limiter
    if n is None:
        try:
            n = int(os.environ.get("RNN_CORE_BLAS_THREADS", "1"))
        except ValueError:
            n = 1
    if n <= 0:
        return False
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it numpy keeps its default threading
        return False
    _limiter = threadpool_limits(limits=n)  # in effect at once, process-wide, until _limiter.restore_original_limits()
    return True
