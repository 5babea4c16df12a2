"""Input checks shared by the chart builders.

Why: a chart built from mismatched arrays does not fail, it silently draws the wrong thing (Plotly
pads or truncates). Every builder therefore converts its inputs to numpy arrays here and raises a
ValueError naming the offending argument and its shape before any trace is made.
"""

from __future__ import annotations

import numpy as np

_FRACTION_TOLERANCE = 1e-9


def as_array(name: str, values: object, *, ndim: int, dtype: type | None = float) -> np.ndarray:
    """`values` as an ndarray with exactly `ndim` dimensions, else ValueError."""
    try:
        array = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric array-like: {error}") from error
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    return array


def check_same_length(**arrays: np.ndarray) -> None:
    """All arrays share the same first dimension, else ValueError listing every shape."""
    lengths = {name: array.shape[0] for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        shapes = ", ".join(f"{name} {array.shape}" for name, array in arrays.items())
        raise ValueError(f"length mismatch: {shapes}")


def check_fraction(name: str, values: np.ndarray) -> None:
    """Finite entries lie in [0, 1] (accuracies are fractions, shown as %), else ValueError."""
    finite = values[np.isfinite(values)]
    if finite.size and (finite.min() < -_FRACTION_TOLERANCE or finite.max() > 1 + _FRACTION_TOLERANCE):
        raise ValueError(
            f"{name} must hold fractions in [0, 1] (not percentages), got range [{finite.min():g}, {finite.max():g}]"
        )
