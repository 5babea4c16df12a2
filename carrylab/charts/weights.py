"""The three weight matrices side by side on one shared, symmetric diverging colour scale.

Why one shared scale: with a scale per matrix, a tiny W_out would look as strong as a large W_rec.
Centring on 0 with the range set by the largest |weight| keeps white = 0 and makes the sign of each
weight readable (blue negative, red positive).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from carrylab.charts.style import DIVERGING_SCALE, base_layout, tick_step
from carrylab.charts.validate import as_array

_PANELS = (
    ("W_in (inputs x units)", "input", "unit", "W_in"),
    ("W_rec (units x units)", "from unit", "to unit", "W_rec"),
    ("W_out (units x outputs)", "unit", "output", "W_out"),
)


def weights_figure(
    W_in: np.ndarray,
    W_rec: np.ndarray,
    W_out: np.ndarray,
    *,
    title: str = "Weights",
) -> go.Figure:
    """Heatmaps of W_in: (n_in, H), W_rec: (H, H), W_out: (H, n_out) with one shared colour range.

    Rows are drawn top to bottom (matrix order); h_t = tanh(x_t W_in + h_{t-1} W_rec + b_rec), so
    W_rec[i, j] is the weight from unit i to unit j.
    """
    W_in = as_array("W_in", W_in, ndim=2)
    W_rec = as_array("W_rec", W_rec, ndim=2)
    W_out = as_array("W_out", W_out, ndim=2)
    n_units = W_rec.shape[0]
    if W_rec.shape != (n_units, n_units):
        raise ValueError(f"W_rec must be square (H, H), got {W_rec.shape}")
    if W_in.shape[1] != n_units:
        raise ValueError(f"W_in must have shape (n_in, H={n_units}), got {W_in.shape}")
    if W_out.shape[0] != n_units:
        raise ValueError(f"W_out must have shape (H={n_units}, n_out), got {W_out.shape}")

    matrices = (W_in, W_rec, W_out)
    largest = max((float(np.nanmax(np.abs(m))) for m in matrices if m.size), default=0.0)
    limit = largest if largest > 0 else 1.0
    widths = np.array([W_in.shape[1], W_rec.shape[1], max(W_out.shape[1], 2)], dtype=float)

    fig = make_subplots(
        rows=1,
        cols=3,
        column_widths=(widths / widths.sum()).tolist(),
        subplot_titles=[panel[0] for panel in _PANELS],
        horizontal_spacing=0.07,
    )
    for col, (matrix, (_, row_title, col_title, name)) in enumerate(zip(matrices, _PANELS, strict=True), start=1):
        fig.add_trace(
            go.Heatmap(
                z=matrix,
                x=np.arange(matrix.shape[1]),
                y=np.arange(matrix.shape[0]),
                zmin=-limit,
                zmax=limit,
                colorscale=DIVERGING_SCALE,
                showscale=col == 3,
                colorbar={"title": {"text": "weight", "side": "right"}},
                xgap=1,
                ygap=1,
                name=name,
                hovertemplate=f"{name}[%{{y}}, %{{x}}] = %{{z:.3f}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=col_title, dtick=tick_step(matrix.shape[1], 8), showgrid=False, row=1, col=col)
        fig.update_yaxes(
            title_text=row_title,
            autorange="reversed",
            dtick=tick_step(matrix.shape[0], 12),
            showgrid=False,
            row=1,
            col=col,
        )
    height = max(360, 160 + 24 * max(n_units, W_in.shape[0]))
    base_layout(fig, title=title, uirevision="weights_figure", height=min(height, 800))
    return fig
