"""Line and dot charts of scalar quantities over training: error, probe accuracy, spectral radius, seeds.

Why these helpers live here: the raw per-step error of SGD is noisy, so it is drawn faint with a
smoothed line on top (TensorBoard's debiased EMA, which people already know how to read). Long runs
have more steps than a browser should draw, so the series are downsampled for display only, after
smoothing on the full series, keeping each bucket's min and max so that spikes stay visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from carrylab.charts.style import (
    CORRECT_COLOUR,
    DARK_GREY,
    EMPTY_MESSAGE,
    GREEN,
    LABEL_BACKGROUND,
    NEUTRAL_GREY,
    ORANGE,
    PURPLE,
    SKY_BLUE,
    WRONG_COLOUR,
    axis_title,
    figure,
    hline,
    layout,
    message,
)
from carrylab.charts.validate import as_array, check_fraction, check_same_length

# Room above 100 % so markers at exactly 100 % are not cut in half.
_PERCENT_RANGE = [0, 102]
# The error chart's two y axes share their zero line: each axis runs from -_BELOW_ZERO to 1 + _ABOVE_TOP times its
# top (the error's largest value shown, 100 %). The room below zero also lifts the right axis's "0" clear of the x
# axis's last tick label.
_BELOW_ZERO, _ABOVE_TOP = 0.05, 0.02
_ACCURACY_RANGE = [-_BELOW_ZERO * 100.0, (1.0 + _ABOVE_TOP) * 100.0]
# Series of evaluations are drawn with a marker per evaluation up to this many points, as plain lines beyond. Each
# marker is an SVG element the browser redraws with every live frame (about 0.1 ms each, 40 ms at 400 evaluations,
# 20,000 steps at the default interval, and the log keeps up to 4,096); at that density they merge into a thick
# line anyway.
MAX_MARKERS = 100


# One colour per overlaid run (Okabe-Ito, then two darker ones), after the current run's CORRECT_COLOUR.
RUN_COLOURS = (WRONG_COLOUR, GREEN, ORANGE, SKY_BLUE, PURPLE, DARK_GREY, "#8C564B", "#A08A00")


def plain_text(text: str) -> str:
    """User text (a run's name) for a Plotly label: &, < and > as entities, so that Plotly's own markup (<b>, <a>,
    <br>) in a name is shown as typed, never rendered."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Overlay(NamedTuple):
    """Another run on the error chart: x (N,) its steps (or seconds), error (N,), eval_x (E,) and accuracy (E,) in
    0..1, drawn as its smoothed error (solid) and accuracy (dotted, right axis) in `colour`, named `name`."""

    name: str
    colour: str
    x: np.ndarray
    error: np.ndarray
    eval_x: np.ndarray
    accuracy: np.ndarray


def _overlay_traces(overlay: Overlay, smoothing: float, max_points: int) -> tuple[list[dict], np.ndarray]:
    """The overlay's smoothed error and accuracy traces, and the error values shown (for the axis range)."""
    x = as_array("overlay x", overlay.x, ndim=1, dtype=None)
    error = as_array("overlay error", overlay.error, ndim=1)
    check_same_length(x=x, error=error)
    eval_x = as_array("overlay eval_x", overlay.eval_x, ndim=1, dtype=None)
    accuracy = as_array("overlay accuracy", overlay.accuracy, ndim=1)
    check_same_length(eval_x=eval_x, accuracy=accuracy)
    check_fraction("accuracy", accuracy)
    traces, shown = [], np.zeros(0)
    name = plain_text(overlay.name)
    group = {"legendgroup": name, "xaxis": "x"}
    if x.size:
        smooth_x, shown = downsample(x, smooth_ema(error, smoothing), max_points, method="stride")
        line = {"color": overlay.colour, "width": 2.5}
        hover = f"{name}<br>%{{x}}<br>smoothed error %{{y:.4g}}<extra></extra>"
        traces.append(
            _scatter(smooth_x, shown, mode="lines", name=name, line=line, hovertemplate=hover, yaxis="y", **group)
        )
    if eval_x.size:
        acc_x, acc_y = downsample(eval_x, accuracy * 100.0, max_points)
        traces.append(
            _scatter(
                acc_x,
                acc_y,
                mode="lines",
                name=f"{name}: accuracy",
                showlegend=False,
                line={"color": overlay.colour, "width": 1.5, "dash": "dot"},
                cliponaxis=False,
                hovertemplate=f"{name}<br>%{{x}}<br>accuracy %{{y:.1f}}%<extra></extra>",
                yaxis="y2",
                **group,
            )
        )
    return traces, shown


def _series_mode(n_points: int) -> str:
    return "lines+markers" if n_points <= MAX_MARKERS else "lines"


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
    smoothed = series.copy()
    finite = np.isfinite(series)
    n_finite = int(finite.sum())
    if n_finite:
        averages = _running_average(series[finite], weight)
        smoothed[finite] = averages / (1.0 - weight ** np.arange(1, n_finite + 1, dtype=np.float64))
    return smoothed


def _running_average(values: np.ndarray, weight: float) -> np.ndarray:
    """a_k = weight * a_(k-1) + (1 - weight) * values[k] with a_(-1) = 0, for all k, without a Python loop.

    Within a block, a_k = weight^k * (weight * a_before + (1 - weight) * cumsum(values[i] * weight^-i)); the values
    are scaled to |v| <= 1 and blocks are short enough that weight^-i stays below e^600 (no overflow), so the
    rounding error stays about one ulp of max |values|, as in the step-by-step recurrence.
    """
    n = values.shape[0]
    scale = float(np.max(np.abs(values)))
    if scale == 0.0:
        return np.zeros(n)
    values = values / scale
    block = n if weight == 0.0 else max(1, min(n, int(600.0 / -np.log(weight))))
    powers = weight ** np.arange(block, dtype=np.float64)  # weight^j, j = 0..block-1
    inverse = 1.0 / powers
    out = np.empty(n)
    last = 0.0
    for start in range(0, n, block):
        chunk = values[start : start + block]
        m = chunk.shape[0]
        sums = np.cumsum(chunk * inverse[:m]) * (1.0 - weight)
        out[start : start + m] = powers[:m] * (weight * last + sums)
        last = float(out[start + m - 1])
    return out * scale


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
    starts = np.unique(edges[:-1])  # bucket i is [starts[i], starts[i + 1]), the last one ends at edges[-1]
    stop = int(edges[-1])
    keep = [np.array([0, n - 1]), _first_extreme(low, starts, stop, np.minimum)]
    keep.append(_first_extreme(high, starts, stop, np.maximum))
    return np.unique(np.concatenate(keep))


def _first_extreme(values: np.ndarray, starts: np.ndarray, stop: int, extreme: np.ufunc) -> np.ndarray:
    """Index of the first min (np.minimum) or max (np.maximum) of each bucket values[starts[i]:starts[i + 1]]
    (the last bucket ends at `stop`), as np.argmin/np.argmax per bucket would give. values must not hold NaN."""
    first = int(starts[0])
    segment, offsets = values[first:stop], starts - first
    best = extreme.reduceat(segment, offsets)
    counts = np.diff(np.append(offsets, segment.shape[0]))
    hits = np.flatnonzero(segment == np.repeat(best, counts))
    return first + hits[np.searchsorted(hits, offsets)]


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
    run_name: str | None = None,
    overlays: Sequence[Overlay] = (),
    x_title: str = "training step",
) -> go.Figure:
    """Raw (faint) and smoothed training error, with exhaustive accuracy (%) on a second y axis.

    steps: (N,) int training steps; error: (N,) float error at each step.
    eval_steps: (E,) steps of the exhaustive evaluations; accuracy: (E,) fractions in 0..1.
    solved_step: step at which the net was first solved (vertical marker), or None.
    Smoothing is computed on the full series; then each line is thinned to <= max_points for
    display (raw error and accuracy: per-bucket min/max so spikes stay visible; smoothed: evenly
    spaced points). Accuracy has a marker per evaluation up to MAX_MARKERS of them.
    run_name: the legend's name of this run when other runs are overlaid (`overlays`, each drawn with the same
    smoothing and axes in its own colour). x_title: the x axis's title (the x values may be seconds).
    """
    steps = as_array("steps", steps, ndim=1, dtype=None)
    error = as_array("error", error, ndim=1)
    check_same_length(steps=steps, error=error)
    smoothed = smooth_ema(error, smoothing)

    data: list[dict] = []
    annotations: list[dict] = []
    # The axes as make_subplots(specs=[[{"secondary_y": True}]]) lays them out (room on the right for y2's title).
    xaxis = axis_title(x_title, anchor="y", domain=[0.0, 0.94])
    yaxis = axis_title("error", anchor="x", domain=[0.0, 1.0], type="log" if log_y else "linear")
    yaxis2 = axis_title(
        "exhaustive accuracy (%)",
        anchor="x",
        overlaying="y",
        side="right",
        range=_ACCURACY_RANGE,
        tickmode="linear",
        tick0=0,
        dtick=20,
        showgrid=False,
        zeroline=False,
    )
    shown_errors = []
    for overlay in overlays:
        traces, shown = _overlay_traces(overlay, smoothing, max_points)
        data.extend(traces)
        shown_errors.append(shown)
    run_name = plain_text(run_name) if run_name else None
    prefix = f"{run_name}: " if run_name else ""
    # with other runs: one legend entry per run (its smoothed error); its raw error and accuracy follow that entry
    grouped = {"legendgroup": run_name, "showlegend": False} if run_name else {}
    if steps.size:
        raw_x, raw_y = downsample(steps, error, max_points)
        smooth_x, smooth_y = downsample(steps, smoothed, max_points, method="stride")
        data.append(
            {
                "type": "scatter",
                "x": raw_x,
                "y": raw_y,
                "mode": "lines",
                "name": f"{prefix}error (raw)",
                **grouped,
                "line": {"color": CORRECT_COLOUR, "width": 1},
                "opacity": 0.3,
                "hovertemplate": "step %{x}<br>error %{y:.4g}<extra>raw</extra>",
                "xaxis": "x",
                "yaxis": "y",
            }
        )
        data.append(
            {
                "type": "scatter",
                "x": smooth_x,
                "y": smooth_y,
                "mode": "lines",
                "name": run_name or f"error (smoothed {smoothing:g})",
                **({"legendgroup": run_name} if run_name else {}),
                "line": {"color": CORRECT_COLOUR, "width": 3},
                "hovertemplate": "step %{x}<br>smoothed error %{y:.4g}<extra></extra>",
                "xaxis": "x",
                "yaxis": "y",
            }
        )
        shown_errors.append(raw_y)
    if steps.size or any(shown.size for shown in shown_errors):
        every = np.concatenate(shown_errors)
        yaxis.update(_log_axis(every) if log_y else _linear_axis(every))
    else:
        annotations.append(message(EMPTY_MESSAGE))
        xaxis["range"] = [0, 100]
        if not log_y:
            yaxis.update(_linear_axis(np.zeros(0)))

    if accuracy is not None or eval_steps is not None:
        if accuracy is None or eval_steps is None:
            raise ValueError("eval_steps and accuracy must be given together")
        eval_steps = as_array("eval_steps", eval_steps, ndim=1, dtype=None)
        accuracy = as_array("accuracy", accuracy, ndim=1)
        check_same_length(eval_steps=eval_steps, accuracy=accuracy)
        check_fraction("accuracy", accuracy)
        acc_x, acc_y = downsample(eval_steps, accuracy * 100.0, max_points)
        data.append(
            {
                "type": "scatter",
                "x": acc_x,
                "y": acc_y,
                "mode": _series_mode(acc_x.size),
                "name": f"{prefix}exhaustive accuracy",
                **grouped,
                "line": {"color": GREEN if not overlays else CORRECT_COLOUR, "width": 2, "dash": "dot"},
                "marker": {"size": 7, "symbol": "diamond"},
                "cliponaxis": False,
                "hovertemplate": "step %{x}<br>accuracy %{y:.1f}%<extra></extra>",
                "xaxis": "x",
                "yaxis": "y2",
            }
        )

    if solved_step is not None:
        # A line over the plot's height, named in the legend rather than labelled on the plot, where its label
        # would cover the curve: a trace on the accuracy axis from its bottom to its top.
        data.append(
            {
                "type": "scatter",
                "x": np.array([solved_step, solved_step]),
                "y": np.array(_ACCURACY_RANGE),
                "mode": "lines",
                "name": f"solved at step {solved_step:,}",
                "line": {"color": ORANGE, "width": 2, "dash": "dash"},
                "cliponaxis": False,
                "hovertemplate": f"solved at step {solved_step:,}<extra></extra>",
                "xaxis": "x",
                "yaxis": "y2",
            }
        )

    extra = {"annotations": annotations} if annotations else {}
    return figure(
        data,
        layout(title=title, uirevision="error_figure", xaxis=xaxis, yaxis=yaxis, yaxis2=yaxis2, **extra),
    )


def _linear_axis(error: np.ndarray) -> dict:
    """The error axis's range: its zero where the accuracy axis has its zero (same share of the height below it)."""
    finite = error[np.isfinite(error)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return {"range": [-_BELOW_ZERO * top, (1.0 + _ABOVE_TOP) * top], "zeroline": True}


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values for a log axis over [low, high] (both > 0): the powers of ten, with 2 and 5 times them when the
    range spans at most two decades, every other power beyond eight decades. Plotly's own log ticks add small-digit
    labels ("2", "5", and "2.2" on short ranges) that run into the decade labels at chart height."""
    first, last = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    decades = np.log10(high) - np.log10(low)
    stride = 2 if decades > 8 else 1
    mantissas = (1.0, 2.0, 5.0) if decades <= 2 else (1.0,)
    ticks = [m * 10.0**e for e in range(first, last + 1, stride) for m in mantissas]
    inside = [t for t in ticks if low <= t <= high]
    if len(inside) < 2:  # less than a decade with no 1-2-5 tick in it: its two ends
        return [low, high]
    return inside


def _log_axis(error: np.ndarray) -> dict:
    """The error axis on a log scale: a range around the positive values shown and ticks from `log_ticks`."""
    positive = error[np.isfinite(error) & (error > 0)]
    if positive.size == 0:
        return {}
    low, high = float(positive.min()), float(positive.max())
    if high <= low * 1.0001:
        low, high = low / 2.0, high * 2.0
    pad = 0.03 * (np.log10(high) - np.log10(low))
    ticks = log_ticks(low, high)
    return {
        "range": [np.log10(low) - pad, np.log10(high) + pad],
        "tickmode": "array",
        "tickvals": np.array(ticks),
        "ticktext": [f"{t:.3g}" for t in ticks],
    }


def _scatter(x: np.ndarray, y: np.ndarray, **properties) -> dict:
    return {"type": "scatter", "x": x, "y": y, **properties}


def probe_accuracy_figure(
    eval_steps: np.ndarray,
    probe_accuracy: np.ndarray,
    *,
    accuracy: np.ndarray | None = None,
    title: str = "Can a linear probe read the carry?",
) -> go.Figure:
    """Linear-probe carry accuracy over training, optionally with the exhaustive accuracy (both 0..100 %).

    eval_steps: (E,) int; probe_accuracy: (E,) fractions in 0..1; accuracy: (E,) fractions in 0..1.
    A marker per evaluation up to MAX_MARKERS evaluations, lines only beyond.
    """
    eval_steps = as_array("eval_steps", eval_steps, ndim=1, dtype=None)
    probe_accuracy = as_array("probe_accuracy", probe_accuracy, ndim=1)
    check_same_length(eval_steps=eval_steps, probe_accuracy=probe_accuracy)
    check_fraction("probe_accuracy", probe_accuracy)

    data = [
        _scatter(
            eval_steps,
            probe_accuracy * 100.0,
            mode=_series_mode(eval_steps.size),
            name="carry probe",
            line={"color": PURPLE, "width": 3},
            marker={"size": 7},
            cliponaxis=False,
            hovertemplate="step %{x}<br>probe accuracy %{y:.1f}%<extra></extra>",
        )
    ]
    if accuracy is not None:
        accuracy = as_array("accuracy", accuracy, ndim=1)
        check_same_length(eval_steps=eval_steps, accuracy=accuracy)
        check_fraction("accuracy", accuracy)
        data.append(
            _scatter(
                eval_steps,
                accuracy * 100.0,
                mode=_series_mode(eval_steps.size),
                name="exhaustive accuracy",
                line={"color": GREEN, "width": 2, "dash": "dot"},
                marker={"size": 7, "symbol": "diamond"},
                cliponaxis=False,
                hovertemplate="step %{x}<br>accuracy %{y:.1f}%<extra></extra>",
            )
        )
    extra = {"annotations": [message("No evaluations yet")]} if eval_steps.size == 0 else {}
    return figure(
        data,
        layout(
            title=title,
            uirevision="probe_accuracy_figure",
            xaxis=axis_title("training step"),
            yaxis=axis_title("accuracy (%)", range=_PERCENT_RANGE),
            **extra,
        ),
    )


def spectral_radius_figure(
    eval_steps: np.ndarray,
    spectral_radius: np.ndarray,
    *,
    title: str = "Spectral radius of W_rec",
) -> go.Figure:
    """Spectral radius of W_rec over training with a dashed reference line at 1.

    eval_steps: (E,) int; spectral_radius: (E,) float >= 0. Above 1 the linearised recurrence
    can amplify, below 1 it forgets: the carry needs memory for only one step. A marker per
    evaluation up to MAX_MARKERS evaluations, a line only beyond.
    """
    eval_steps = as_array("eval_steps", eval_steps, ndim=1, dtype=None)
    spectral_radius = as_array("spectral_radius", spectral_radius, ndim=1)
    check_same_length(eval_steps=eval_steps, spectral_radius=spectral_radius)

    data = [
        _scatter(
            eval_steps,
            spectral_radius,
            mode=_series_mode(eval_steps.size),
            name="ρ(W_rec)",
            line={"color": CORRECT_COLOUR, "width": 3},
            marker={"size": 6},
            hovertemplate="step %{x}<br>ρ(W_rec) = %{y:.3f}<extra></extra>",
        )
    ]
    line = {"color": DARK_GREY, "width": 2, "dash": "dash"}
    reference, annotations = hline(1.0, line, "ρ = 1", bgcolor=LABEL_BACKGROUND)
    finite = spectral_radius[np.isfinite(spectral_radius)]
    top = max(1.25, 1.1 * float(finite.max())) if finite.size else 1.25
    if eval_steps.size == 0:
        annotations.append(message("No evaluations yet"))
    return figure(
        data,
        layout(
            title=title,
            uirevision="spectral_radius_figure",
            shapes=[reference],
            annotations=annotations,
            xaxis=axis_title("training step"),
            yaxis=axis_title("spectral radius ρ(W_rec)", range=[0, top]),
        ),
    )


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

    if budget is not None:
        unsolved_row = float(budget)
    elif n_solved:
        unsolved_row = 1.1 * float(solved_step[solved].max())
    else:
        unsolved_row = 1.0
    data = [
        _scatter(
            labels[solved],
            solved_step[solved],
            mode="markers",
            name="solved",
            marker={"color": CORRECT_COLOUR, "size": 12, "symbol": "circle"},
            hovertemplate="%{x}<br>solved at step %{y:,.0f}<extra></extra>",
        ),
        _scatter(
            labels[~solved],
            np.full(n_seeds - n_solved, unsolved_row),
            mode="markers",
            name="not solved",
            marker={"color": WRONG_COLOUR, "size": 12, "symbol": "x"},
            hovertemplate="%{x}<br>not solved<extra></extra>",
        ),
    ]
    extra: dict = {}
    annotations: list[dict] = []
    if n_solved < n_seeds:
        line = {"color": NEUTRAL_GREY, "width": 1, "dash": "dot"}
        reference, annotations = hline(unsolved_row, line, "not solved")
        extra["shapes"] = [reference]
    if n_seeds == 0:
        annotations.append(message("No seeds run yet"))
    if annotations:
        extra["annotations"] = annotations
    return figure(
        data,
        layout(
            title=f"{title}: {n_solved} of {n_seeds} solved",
            uirevision="seed_sweep_figure",
            xaxis=axis_title("seed", type="category", categoryorder="array", categoryarray=labels),
            yaxis=axis_title("steps to solve", rangemode="tozero"),
            **extra,
        ),
    )
