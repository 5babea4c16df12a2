"""Heatmaps of a per-bit quantity over training: error rate per bit position, gradient norm per time step.

Why heatmaps with training step on x: both show *where along the sequence* learning happens and
when. The carry task is learned from the least significant bit upwards and gradients must flow back
through time to teach early steps, which reads as a front moving across these pictures.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from carrylab.charts.style import (
    ERROR_RATE_SCALE,
    SEQUENTIAL_SCALE,
    axis_title,
    figure,
    layout,
    message,
    tick_step,
)
from carrylab.charts.validate import as_array, check_fraction, check_same_length

_COLOUR_BAR_ROOM = 50  # px added to the bottom margin for a horizontal colour bar and its tick labels


def bit_error_heatmap(
    eval_steps: np.ndarray,
    bit_error: np.ndarray,
    *,
    title: str = "Error rate per bit position over training",
) -> go.Figure:
    """Error rate of each output bit (LSB at the bottom) at each evaluation; colour fixed to 0..1.

    eval_steps: (E,) int; bit_error: (E, T) fractions in 0..1 (rows follow eval_steps).
    Drawn as z: (T, E) so that x = training step and y = bit position.
    """
    eval_steps = as_array("eval_steps", eval_steps, ndim=1, dtype=None)
    bit_error = as_array("bit_error", bit_error, ndim=2)
    check_same_length(eval_steps=eval_steps, bit_error=bit_error)
    check_fraction("bit_error", bit_error)
    n_bits = bit_error.shape[1]

    heatmap = {
        "type": "heatmap",
        "x": eval_steps,
        "y": np.arange(n_bits),
        "z": bit_error.T,
        "zmin": 0.0,
        "zmax": 1.0,
        "colorscale": ERROR_RATE_SCALE,
        # under the plot, not beside it: a vertical colour bar takes ~100 px of a half-width column (the plot was
        # squeezed to 240 px at 1280 px with the sidebar open). Placed in the figure's own coordinates, below the
        # x-axis title, in a bottom margin made for it.
        "colorbar": {
            "title": {"text": "error rate", "side": "right"},
            "tickformat": ".0%",
            "tickvals": [0.0, 0.5, 1.0],
            "tickangle": 0,
            "orientation": "h",
            "x": 1.0,
            "xanchor": "right",
            "yref": "container",
            "y": 0.01,
            "yanchor": "bottom",
            "len": 0.6,
            "thickness": 10,
        },
        "hovertemplate": "step %{x}<br>bit %{y}<br>error rate %{z:.1%}<extra></extra>",
    }
    spec = _layout(title, "bit_error_heatmap", eval_steps, "bit position (0 = LSB)", n_bits)
    spec["margin"] = {**spec["margin"], "b": spec["margin"]["b"] + _COLOUR_BAR_ROOM}
    return figure([heatmap], spec)


def _layout(title: str, uirevision: str, eval_steps: np.ndarray, y_title: str, n_rows: int) -> dict:
    extra = {"annotations": [message("No evaluations yet")]} if eval_steps.size == 0 else {}
    return layout(
        title=title,
        uirevision=uirevision,
        xaxis=axis_title("training step"),
        yaxis=axis_title(y_title, dtick=tick_step(n_rows)),
        **extra,
    )


def gradient_flow_heatmap(
    eval_steps: np.ndarray,
    grad_norms: np.ndarray,
    *,
    title: str = "Gradient flow back through time: ||dL/dh_t||",
) -> go.Figure:
    """log10 of the gradient norm reaching each time step's hidden state, over training.

    eval_steps: (E,) int; grad_norms: (E, T) float >= 0. Drawn as z = log10(grad_norms).T: (T, E).
    Zero or non-finite norms have no logarithm and are left blank; hover shows the raw norm.
    """
    eval_steps = as_array("eval_steps", eval_steps, ndim=1, dtype=None)
    grad_norms = as_array("grad_norms", grad_norms, ndim=2)
    check_same_length(eval_steps=eval_steps, grad_norms=grad_norms)
    if np.any(grad_norms < 0):
        raise ValueError("grad_norms must be >= 0 (they are norms)")
    n_steps = grad_norms.shape[1]

    drawable = np.isfinite(grad_norms) & (grad_norms > 0)
    log_norms = np.full(grad_norms.shape, np.nan)
    log_norms[drawable] = np.log10(grad_norms[drawable])
    colorbar = {"title": {"text": "||dL/dh_t|| (log scale)", "side": "right"}}
    z_range = {}
    if drawable.any():
        # The colour range spans whole decades, so the decade ticks always fall inside it (a range narrower
        # than a decade would otherwise show no tick label at all).
        low = int(np.floor(log_norms[drawable].min()))
        high = max(low + 1, int(np.ceil(log_norms[drawable].max())))
        exponents = np.arange(low, high + 1, tick_step(high - low + 1, max_ticks=8))
        colorbar.update(tickvals=exponents, ticktext=[f"1e{e}" for e in exponents.tolist()])
        z_range = {"zmin": low, "zmax": high}

    heatmap = {
        "type": "heatmap",
        "x": eval_steps,
        "y": np.arange(n_steps),
        "z": log_norms.T,
        "customdata": grad_norms.T,
        "colorscale": SEQUENTIAL_SCALE,
        "colorbar": colorbar,
        **z_range,
        "hoverongaps": False,
        "hovertemplate": "step %{x}<br>time step %{y}<br>||dL/dh|| = %{customdata:.3g}<extra></extra>",
    }
    return figure([heatmap], _layout(title, "gradient_flow_heatmap", eval_steps, "time step t (bit, 0 = LSB)", n_steps))
