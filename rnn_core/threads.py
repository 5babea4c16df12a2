"""One BLAS thread: the matrices here are tiny (32 x 32), so a multi-threaded BLAS only adds hand-off costs, and
on a shared 2-core machine (or a Streamlit server with many sessions, each in its own thread) its spinning worker
threads steal time from everything else. Measured in benchmarks/README.md.

Entry points (the CLI, the dashboard, the benchmarks, the tests) call ``limit_blas_threads()`` once; the library
itself never changes process-wide settings on import.
"""

from __future__ import annotations

_limiter = None


def limit_blas_threads(n: int = 1) -> bool:
    """Limit BLAS/OpenMP thread pools to n threads for the rest of the process. True if it took effect."""
    global _limiter
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it numpy keeps its default threading
        return False
    _limiter = threadpool_limits(limits=n)  # kept referenced: the limit holds while the object lives
    return True
