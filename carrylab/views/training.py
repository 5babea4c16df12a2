"""The training view: headline metrics and the error curve with exhaustive accuracy on the same time axis.

Why: the first question in any demo is "is it learning?". The metrics answer it in numbers (with
the change since the last update), the chart in shape: SGD's raw error is noisy, so a TensorBoard-style
smoothing slider and a log scale make the plateau-then-drop of carry learning visible, and the
dotted accuracy line shows when every pair becomes right.
"""

from __future__ import annotations

import math

import streamlit as st

from carrylab import charts
from carrylab.session import RECENT_WINDOW, Session
from carrylab.settings import SETTINGS
from carrylab.views.controls import read_widgets, setting_widget

# Plotly toolbar: keep zoom/pan/reset and the PNG export; no logo, no editing.
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def _delta(value: float, previous: float | None, fmt: str) -> str | None:
    if previous is None or not (math.isfinite(value) and math.isfinite(previous)) or value == previous:
        return None
    return fmt.format(value - previous)


def render_metrics(session: Session) -> None:
    """Step, recent error, exhaustive accuracy and 'solved at' as st.metric with deltas since the last update."""
    current, previous = session.metrics(fresh_accuracy=not session.running)
    task = session.trainer.task
    pairs = f"all {task.n_pairs:,} pairs" if task.enumerable else f"{len(task.exhaustive()):,} test pairs"
    cols = st.columns(4)
    cols[0].metric(
        "Step",
        f"{current.step:,}",
        delta=_delta(current.step, previous and previous.step, "+{:,}"),
        delta_color="off",
        help="Training steps (weight updates) so far.",
    )
    error_text = f"{current.error:.4f}" if math.isfinite(current.error) else "-"
    cols[1].metric(
        "Error",
        error_text,
        delta=_delta(current.error, previous and previous.error, "{:+.4f}"),
        delta_color="inverse",
        help=f"Mean training error over the last {RECENT_WINDOW} steps ({session.settings['loss']}).",
    )
    accuracy_text = f"{100 * current.accuracy:.1f} %" if math.isfinite(current.accuracy) else "-"
    cols[2].metric(
        "Accuracy",
        accuracy_text,
        delta=_delta(100 * current.accuracy, previous and 100 * previous.accuracy, "{:+.1f} pts"),
        help=f"Share of {pairs} answered right (every bit), at step {current.accuracy_step:,}. "
        "While playing it is updated at each periodic evaluation.",
    )
    solved = current.solved_at_step
    cols[3].metric(
        "Solved at",
        "not yet" if solved is None else f"step {solved:,}",
        help="First evaluation at which every pair was right.",
    )


def _error_figure(session: Session, smoothing: float, log_y: bool):
    trainer = session.trainer
    steps, error = trainer.steps_log.arrays()
    figure = charts.error_figure(
        steps,
        error,
        smoothing=smoothing,
        log_y=log_y,
        eval_steps=trainer.evals.array("step"),
        accuracy=trainer.evals.array("accuracy"),
        solved_step=trainer.solved_at_step,
        max_points=1000,  # per line; more than one point per pixel of a laptop-wide chart
    )
    return figure.update_layout(height=420)


def render(session: Session) -> None:
    """The error chart (key `error_chart`) with its smoothing and log-scale controls."""
    cols = st.columns([3, 1], vertical_alignment="bottom")
    setting_widget(SETTINGS["smoothing"], session, container=cols[0])
    setting_widget(SETTINGS["log_y"], session, container=cols[1])
    read_widgets(session, ("smoothing", "log_y"))

    smoothing, log_y = float(session.settings["smoothing"]), bool(session.settings["log_y"])
    figure = session.cached(f"error_figure:{smoothing}:{log_y}", lambda: _error_figure(session, smoothing, log_y))
    st.plotly_chart(figure, key="error_chart", width="stretch", theme=None, config=PLOTLY_CONFIG)
    st.caption(charts.CAPTIONS["error_figure"])
