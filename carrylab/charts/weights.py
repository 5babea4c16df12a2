"""The three weight matrices side by side on one shared, symmetric diverging colour scale.

Why one shared scale: with a scale per matrix, a tiny W_out would look as strong as a large W_rec.
Centring on 0 with the range set by the largest |weight| keeps white = 0 and makes the sign of each
weight readable (blue negative, red positive).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from carrylab.charts.style import DIVERGING_SCALE, FONT_SIZE, axis_title, figure, layout, tick_step
from carrylab.charts.validate import as_array

_PANELS = (
    ("W_in", "input", "unit", "W_in"),  # the shapes are in the axis titles: long panel titles run together
    ("W_rec", "from unit", "to unit", "W_rec"),  # on a laptop-wide page, where W_out's panel is ~20 px wide
    ("W_out", "unit", "output", "W_out"),
)
# Horizontal space between the panels (fraction of the plot width): room for the next panel's tick labels and y-axis
# title. The narrowest plot the dashboard gives this figure is ~350 px (1024 px, sidebar open), where they need ~60 px.
_PANEL_GAP = 0.2


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

    # Three panels side by side, laid out as make_subplots(rows=1, cols=3, column_widths=..., horizontal_spacing=
    # _PANEL_GAP, subplot_titles=...) does it: panel widths proportional to the matrices' column counts.
    shares = (widths / widths.sum()).tolist()
    total = float(sum(shares))
    panel_widths = [(1.0 - _PANEL_GAP * 2) * (share / total) for share in shares]
    data: list[dict] = []
    axes: dict[str, dict] = {}
    titles: list[dict] = []
    for col, (matrix, (panel_title, row_title, col_title, name)) in enumerate(zip(matrices, _PANELS, strict=True)):
        suffix = "" if col == 0 else str(col + 1)
        start = sum(panel_widths[:col]) + col * _PANEL_GAP
        domain = [start, start + panel_widths[col]]
        data.append(
            {
                "type": "heatmap",
                "z": matrix,
                "x": np.arange(matrix.shape[1]),
                "y": np.arange(matrix.shape[0]),
                "zmin": -limit,
                "zmax": limit,
                "colorscale": DIVERGING_SCALE,
                "showscale": col == 2,
                "colorbar": {"title": {"text": "weight", "side": "right"}},
                "xgap": 1,
                "ygap": 1,
                "name": name,
                "hovertemplate": f"{name}[%{{y}}, %{{x}}] = %{{z:.3f}}<extra></extra>",
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
            }
        )
        axes[f"xaxis{suffix}"] = axis_title(
            col_title, anchor=f"y{suffix}", domain=domain, dtick=tick_step(matrix.shape[1], 4), showgrid=False
        )
        axes[f"yaxis{suffix}"] = axis_title(
            row_title,
            anchor=f"x{suffix}",
            domain=[0.0, 1.0],
            autorange="reversed",
            dtick=tick_step(matrix.shape[0], 12),
            showgrid=False,
        )
        titles.append(
            {
                "font": {"size": FONT_SIZE},
                "showarrow": False,
                "text": panel_title,
                "x": sum(domain) / 2.0,
                "xanchor": "center",
                "xref": "paper",
                "y": 1.0,
                "yanchor": "bottom",
                "yref": "paper",
            }
        )
    height = max(360, 160 + 24 * max(n_units, W_in.shape[0]))
    spec = layout(title=title, uirevision="weights_figure", height=min(height, 800), annotations=titles, **axes)
    return figure(data, spec)
