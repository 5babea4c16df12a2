"""The phase diagram of a sweep: one heatmap cell per grid point of two settings.

Two views of the same grid: the share of seeds that solved the task (0..100 %, fixed scale), and the median number
of steps they needed (0..budget; a cell whose median falls on unsolved runs is left blank and reads "> budget").
Values are drawn as categories in the order given, so log-spaced learning rates sit evenly; each cell shows its
number, and its hover gives solved/runs and the quartiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from carrylab.charts.style import SEQUENTIAL_SCALE, TRACK_SCALE, axis_title, figure, layout, margins, message
from carrylab.charts.validate import as_array

METRICS = ("share", "median")


def _labels(values: Sequence) -> np.ndarray:
    return np.array([f"{v:g}" if isinstance(v, float) else str(v) for v in values], dtype=str)


def phase_diagram_figure(
    x_name: str,
    x_values: Sequence,
    y_name: str,
    y_values: Sequence,
    stats: dict[str, np.ndarray],
    *,
    metric: str,
    budget: int,
    title: str | None = None,
) -> go.Figure:
    """A heatmap over (y, x) grid points.

    stats: arrays of shape (len(y_values), len(x_values)), NaN where a point has no runs: "runs", "solved",
    "median", "q1", "q3" (steps; NaN where the quantile falls on unsolved runs). metric: "share" (solved / runs)
    or "median". budget: the sweep's step budget (the median scale's top).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    shape = (len(y_values), len(x_values))
    arrays = {k: as_array(k, stats[k], ndim=2) for k in ("runs", "solved", "median", "q1", "q3")}
    for name, arr in arrays.items():
        if arr.shape != shape:
            raise ValueError(f"stats[{name!r}] must have shape {shape}, got {arr.shape}")
    runs, solved = arrays["runs"], arrays["solved"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(runs > 0, solved / runs, np.nan)
    has_runs = np.isfinite(runs) & (runs > 0)

    def steps_text(v: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(v), np.char.mod("%.0f", np.nan_to_num(v)), f"> {budget:,}")

    median_text = steps_text(arrays["median"])
    q_text = np.char.add(np.char.add(steps_text(arrays["q1"]), " – "), steps_text(arrays["q3"]))
    share_text = np.char.mod("%.0f %%", np.nan_to_num(share) * 100)
    runs_text = np.char.mod("%d", np.nan_to_num(runs).astype(int))
    solved_text = np.char.mod("%d", np.nan_to_num(solved).astype(int))
    custom = np.stack([solved_text, runs_text, share_text, median_text, q_text], axis=-1)
    custom[~has_runs] = ["–", "0", "no runs", "no runs", "–"]
    if metric == "share":
        z, scale, zmax, cell = share, TRACK_SCALE, 1.0, np.where(has_runs, share_text, "")
        bar = {"title": {"text": "solved"}, "tickformat": ".0%"}
        default_title = "Share of seeds that solved the task"
    else:
        z, scale, zmax = arrays["median"], SEQUENTIAL_SCALE, float(budget)
        cell = np.where(has_runs, median_text, "")
        bar = {"title": {"text": "steps"}}
        default_title = "Median steps to solve"
    heatmap = {
        "type": "heatmap",
        "x": _labels(x_values),
        "y": _labels(y_values),
        "z": np.where(has_runs, z, np.nan),
        "zmin": 0.0,
        "zmax": zmax,
        "colorscale": scale,
        "colorbar": bar,
        "text": cell,
        "texttemplate": "%{text}",
        "xgap": 2,
        "ygap": 2,
        "hoverinfo": "skip",
    }
    # The heatmap draws; an invisible marker on each cell carries the hover and the click (heatmaps cannot be
    # selected in Plotly, markers can: the page loads the clicked grid point).
    xs, ys = np.meshgrid(_labels(x_values), _labels(y_values))
    cells = {
        "type": "scatter",
        "mode": "markers",
        "x": xs.ravel(),
        "y": ys.ravel(),
        "customdata": custom.reshape(-1, custom.shape[-1]),
        "marker": {"symbol": "square", "size": 28, "color": "rgba(0,0,0,0)"},
        "unselected": {"marker": {"opacity": 0}},
        "selected": {"marker": {"opacity": 0}},
        "showlegend": False,
        "name": "",
        "hovertemplate": (
            f"{x_name} = %{{x}}<br>{y_name} = %{{y}}<br>solved %{{customdata[0]}} of %{{customdata[1]}} "
            "(%{customdata[2]})<br>median steps %{customdata[3]}<br>quartiles %{customdata[4]}<extra></extra>"
        ),
    }
    extra = {} if has_runs.any() else {"annotations": [message("No runs yet")]}
    return figure(
        [heatmap, cells],
        layout(
            title=title or default_title,
            uirevision=f"phase_diagram_{metric}",
            margin=margins(left=90),
            xaxis=axis_title(x_name, type="category"),
            yaxis=axis_title(y_name, type="category"),
            **extra,
        ),
    )
