"""Line and dot charts of scalar quantities over training: error, probe accuracy, spectral radius, seeds.

Why these helpers live here: the raw per-step error of SGD is noisy, so it is drawn faint with a
smoothed line on top (TensorBoard's debiased EMA, which people already know how to read). Long runs
have more steps than a browser should draw, so the series are downsampled for display only, after
smoothing on the full series, keeping each bucket's min and max so that spikes stay visible.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from carrylab.charts.style import (
    CORRECT_COLOUR,
    DARK_GREY,
    EMPTY_MESSAGE,
    GREEN,
    LABEL_BACKGROUND,
    NEUTRAL_GREY,
    ORANGE,
    PURPLE,
    WRONG_COLOUR,
    add_message,
    base_layout,
)
from carrylab.charts.validate import as_array, check_fraction, check_same_length

# Room above 100 % so markers at exactly 100 % are not cut in half.
_PERCENT_RANGE = [0, 102]


def smooth_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average of a series, for display.

    values: (N,) floats. weight in [0, 1): 0 returns the values unchanged; larger is smoother.
    The running average starts at 0 and is divided by (1 - weight**k) after k finite values, so
    the first smoothed value equals the first value instead of being pulled towards 0.
    Non-finite values are passed through and do not update the average; a constant series is
    returned unchanged (as TensorBoard does, to avoid rounding noise).
    Returns (N,) float64.
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    series = as_array("values", values, ndim=1)
    if weight == 0.0 or series.size == 0 or np.all(series == series[0]):
        return series.copy()
    smoothed = np.empty_like(series)
    last = 0.0
    n_accumulated = 0
    for i, value in enumerate(series.tolist()):
        if not np.isfinite(value):
            smoothed[i] = value
            continue
        last = last * weight + (1.0 - weight) * value
        n_accumulated += 1
        smoothed[i] = last / (1.0 - weight**n_accumulated)
    return smoothed


def downsample_indices(y: np.ndarray, max_points: int, *, method: str = "minmax") -> np.ndarray:
    """Sorted indices of at most `max_points` points of y, always including the first and the last.

    y: (N,). method "minmax" keeps each bucket's min and max (spikes stay visible; for raw, noisy
    series); "stride" keeps evenly spaced points (for smooth series). Returns (M,) int64 with
    M <= max_points (M == N when N <= max_points).
    """
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, got {max_points}")
    if method not in ("minmax", "stride"):
        raise ValueError(f"method must be 'minmax' or 'stride', got {method!r}")
    n = y.shape[0]
    if n <= max_points:
        return np.arange(n)
    if method == "stride":
        return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))
    n_buckets = (max_points - 2) // 2
    if n_buckets == 0:
        return np.array([0, n - 1])
    # Non-finite values never win a bucket's min or max.
    low = np.where(np.isfinite(y), y, np.inf)
    high = np.where(np.isfinite(y), y, -np.inf)
    edges = np.linspace(1, n - 1, n_buckets + 1).astype(np.int64)
    keep = [0, n - 1]
    for start, stop in pairwise(edges.tolist()):
        if stop > start:
            keep.append(start + int(np.argmin(low[start:stop])))
            keep.append(start + int(np.argmax(high[start:stop])))
    return np.unique(np.array(keep, dtype=np.int64))


def downsample(
    x: np.ndarray, y: np.ndarray, max_points: int, *, method: str = "minmax"
) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` (x, y) points for display, keeping the first and the last point.

    x: (N,), y: (N,). method: "minmax" (per-bucket min and max) or "stride" (evenly spaced).
    Returns (x_shown (M,), y_shown (M,)), M <= max_points, in the original order.
    """
    x = np.asarray(x)
    y = as_array("y", y, ndim=1)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    check_same_length(x=x, y=y)
    keep = downsample_indices(y, max_points, method=method)
    return x[keep], y[keep]


def error_figure(
    steps: np.ndarray,
    error: np.ndarray,
    *,
    smoothing: float = 0.6,
    log_y: bool = False,
    eval_steps: np.ndarray | None = None,
    accuracy: np.ndarray | None = None,
    solved_step: int | None = None,
    max_points: int = 2000,
    title: str = "Training error",
) -> go.Figure:
    """Raw (faint) and smoothed training error, with exhaustive accuracy (%) on a second y axis.

    steps: (N,) int training steps; error: (N,) float error at each step.
    eval_steps: (E,) steps of the exhaustive evaluations; accuracy: (E,) fractions in 0..1.
    solved_step: step at which the net was first solved (vertical marker), or None.
    Smoothing is computed on the full series; then each line is thinned to <= max_points for
    display (raw: per-bucket min/max so spikes stay visible; smoothed: evenly spaced points).
    """
    steps = as_array("steps", steps, ndim=1, dtype=None)
    error = as_array("error", error, ndim=1)
    check_same_length(steps=steps, error=error)
    smoothed = smooth_ema(error, smoothing)

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if steps.size:
        raw_x, raw_y = downsample(steps, error, max_points)
        smooth_x, smooth_y = downsample(steps, smoothed, max_points, method="stride")
        fig.add_trace(
            go.Scatter(
                x=raw_x,
                y=raw_y,
                mode="lines",
                name="error (raw)",
                line={"color": CORRECT_COLOUR, "width": 1},
                opacity=0.3,
                hovertemplate="step %{x}<br>error %{y:.4g}<extra>raw</extra>",
            ),
            secondary_y=False,
        )
        fig.add_trace(
            go.Scatter(
                x=smooth_x,
                y=smooth_y,
                mode="lines",
                name=f"error (smoothed {smoothing:g})",
                line={"color": CORRECT_COLOUR, "width": 3},
                hovertemplate="step %{x}<br>smoothed error %{y:.4g}<extra></extra>",
            ),
            secondary_y=False,
        )
    else:
        add_message(fig, EMPTY_MESSAGE)
        fig.update_xaxes(range=[0, 100])

    if accuracy is not None or eval_steps is not None:
        if accuracy is None or eval_steps is None:
            raise ValueError("eval_steps and accuracy must be given together")
        eval_steps = as_array("eval_steps", eval_steps, ndim=1, dtype=None)
        accuracy = as_array("accuracy", accuracy, ndim=1)
        check_same_length(eval_steps=eval_steps, accuracy=accuracy)
        check_fraction("accuracy", accuracy)
        fig.add_trace(
            go.Scatter(
                x=eval_steps,
                y=accuracy * 100.0,
                mode="lines+markers",
                name="exhaustive accuracy",
                line={"color": GREEN, "width": 2, "dash": "dot"},
                marker={"size": 7, "symbol": "diamond"},
                cliponaxis=False,
                hovertemplate="step %{x}<br>accuracy %{y:.1f}%<extra></extra>",
            ),
            secondary_y=True,
        )

    if solved_step is not None:
        fig.add_vline(
            x=solved_step,
            line={"color": ORANGE, "width": 2, "dash": "dash"},
            annotation_text=f"solved at step {solved_step}",
            annotation_position="bottom right",
            annotation_bgcolor=LABEL_BACKGROUND,
        )

    base_layout(fig, title=title, uirevision="error_figure")
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="error", type="log" if log_y else "linear", secondary_y=False)
    if steps.size == 0 and not log_y:
        fig.update_yaxes(range=[0, 1], secondary_y=False)
    fig.update_yaxes(
        title_text="exhaustive accuracy (%)",
        range=_PERCENT_RANGE,
        tickmode="linear",
        tick0=0,
        dtick=20,
        showgrid=False,
        secondary_y=True,
    )
    return fig


def probe_accuracy_figure(
    eval_steps: np.ndarray,
    probe_accuracy: np.ndarray,
    *,
    accuracy: np.ndarray | None = None,
    title: str = "Can a linear probe read the carry from the hidden state?",
) -> go.Figure:
    """Linear-probe carry accuracy over training, optionally with the exhaustive accuracy (both 0..100 %).

    eval_steps: (E,) int; probe_accuracy: (E,) fractions in 0..1; accuracy: (E,) fractions in 0..1.
    """
    eval_steps = as_array("eval_steps", eval_steps, ndim=1, dtype=None)
    probe_accuracy = as_array("probe_accuracy", probe_accuracy, ndim=1)
    check_same_length(eval_steps=eval_steps, probe_accuracy=probe_accuracy)
    check_fraction("probe_accuracy", probe_accuracy)

    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=eval_steps,
            y=probe_accuracy * 100.0,
            mode="lines+markers",
            name="carry probe",
            line={"color": PURPLE, "width": 3},
            marker={"size": 7},
            cliponaxis=False,
            hovertemplate="step %{x}<br>probe accuracy %{y:.1f}%<extra></extra>",
        )
    )
    if accuracy is not None:
        accuracy = as_array("accuracy", accuracy, ndim=1)
        check_same_length(eval_steps=eval_steps, accuracy=accuracy)
        check_fraction("accuracy", accuracy)
        fig.add_trace(
            go.Scatter(
                x=eval_steps,
                y=accuracy * 100.0,
                mode="lines+markers",
                name="exhaustive accuracy",
                line={"color": GREEN, "width": 2, "dash": "dot"},
                marker={"size": 7, "symbol": "diamond"},
                cliponaxis=False,
                hovertemplate="step %{x}<br>accuracy %{y:.1f}%<extra></extra>",
            )
        )
    if eval_steps.size == 0:
        add_message(fig, "No evaluations yet")
    base_layout(fig, title=title, uirevision="probe_accuracy_figure")
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="accuracy (%)", range=_PERCENT_RANGE)
    return fig


def spectral_radius_figure(
    eval_steps: np.ndarray,
    spectral_radius: np.ndarray,
    *,
    title: str = "Spectral radius of W_rec",
) -> go.Figure:
    """Spectral radius of W_rec over training with a dashed reference line at 1.

    eval_steps: (E,) int; spectral_radius: (E,) float >= 0. Above 1 the linearised recurrence
    can amplify, below 1 it forgets: the carry needs memory for only one step.
    """
    eval_steps = as_array("eval_steps", eval_steps, ndim=1, dtype=None)
    spectral_radius = as_array("spectral_radius", spectral_radius, ndim=1)
    check_same_length(eval_steps=eval_steps, spectral_radius=spectral_radius)

    fig = go.Figure(
        go.Scatter(
            x=eval_steps,
            y=spectral_radius,
            mode="lines+markers",
            name="ρ(W_rec)",
            line={"color": CORRECT_COLOUR, "width": 3},
            marker={"size": 6},
            hovertemplate="step %{x}<br>ρ(W_rec) = %{y:.3f}<extra></extra>",
        )
    )
    fig.add_hline(
        y=1.0,
        line={"color": DARK_GREY, "width": 2, "dash": "dash"},
        annotation_text="ρ = 1",
        annotation_position="top right",
        annotation_bgcolor=LABEL_BACKGROUND,
    )
    finite = spectral_radius[np.isfinite(spectral_radius)]
    top = max(1.25, 1.1 * float(finite.max())) if finite.size else 1.25
    if eval_steps.size == 0:
        add_message(fig, "No evaluations yet")
    base_layout(fig, title=title, uirevision="spectral_radius_figure")
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="spectral radius ρ(W_rec)", range=[0, top])
    return fig


def seed_sweep_figure(
    seeds: np.ndarray,
    solved_step: np.ndarray,
    *,
    budget: int | None = None,
    title: str = "Steps to solve per seed",
) -> go.Figure:
    """One dot per seed at the step it was solved; unsolved seeds as ✕ markers in a row on top.

    seeds: (K,) int; solved_step: (K,) float, NaN for seeds that never solved.
    budget: the step budget of the sweep; the unsolved row is drawn there (default: above the
    slowest solved seed).
    """
    seeds = as_array("seeds", seeds, ndim=1, dtype=None)
    solved_step = as_array("solved_step", solved_step, ndim=1)
    check_same_length(seeds=seeds, solved_step=solved_step)
    solved = np.isfinite(solved_step)
    n_solved, n_seeds = int(solved.sum()), int(seeds.size)
    labels = np.array([f"seed {seed}" for seed in seeds.tolist()], dtype=str)

    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=labels[solved],
            y=solved_step[solved],
            mode="markers",
            name="solved",
            marker={"color": CORRECT_COLOUR, "size": 12, "symbol": "circle"},
            hovertemplate="%{x}<br>solved at step %{y:,.0f}<extra></extra>",
        )
    )
    if budget is not None:
        unsolved_row = float(budget)
    elif n_solved:
        unsolved_row = 1.1 * float(solved_step[solved].max())
    else:
        unsolved_row = 1.0
    fig.add_trace(
        go.Scatter(
            x=labels[~solved],
            y=np.full(n_seeds - n_solved, unsolved_row),
            mode="markers",
            name="not solved",
            marker={"color": WRONG_COLOUR, "size": 12, "symbol": "x"},
            hovertemplate="%{x}<br>not solved<extra></extra>",
        )
    )
    if n_solved < n_seeds:
        fig.add_hline(
            y=unsolved_row,
            line={"color": NEUTRAL_GREY, "width": 1, "dash": "dot"},
            annotation_text="not solved",
            annotation_position="top right",
        )
    if n_seeds == 0:
        add_message(fig, "No seeds run yet")
    base_layout(fig, title=f"{title}: {n_solved} of {n_seeds} solved", uirevision="seed_sweep_figure")
    fig.update_xaxes(title_text="seed", type="category", categoryorder="array", categoryarray=labels)
    fig.update_yaxes(title_text="steps to solve", rangemode="tozero")
    return fig
