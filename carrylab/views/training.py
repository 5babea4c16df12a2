"""The training view: headline metrics and the error curve with exhaustive accuracy on the same time axis.

Why: the first question in any demo is "is it learning?". The metrics answer it in numbers (with
the change since the last update), the chart in shape: SGD's raw error is noisy, so a TensorBoard-style
smoothing slider and a log scale make the plateau-then-drop of carry learning visible, and the
dotted accuracy line shows when every pair becomes right.
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from carrylab import charts, comparison
from carrylab.components.live_chart import live_chart
from carrylab.formatting import percent, signed_delta
from carrylab.session import RECENT_WINDOW, MetricValues, Session
from carrylab.settings import SETTINGS
from carrylab.views.common import PLOTLY_CONFIG, explain
from carrylab.views.controls import read_widgets, setting_widget

ERROR_HEIGHT = 420
PRESENTATION_ERROR_HEIGHT = 380  # presentation mode: with the title, controls and numbers, one 720-pixel screen


def _decimals(text: str) -> int:
    """Decimals of a number shown as text ("99.99 %" -> 2)."""
    return len(text.split(" ")[0].partition(".")[2].rstrip("%"))


def _delta(value: float, previous: float | None, fmt: str) -> str | None:
    if previous is None or not (math.isfinite(value) and math.isfinite(previous)) or value == previous:
        return None
    return signed_delta(value - previous, fmt)


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
    accuracy_text = percent(current.accuracy) if math.isfinite(current.accuracy) else "-"
    # the delta as precise as the more precise of the two values (99.99 % -> 100.0 % is +0.01 pts, not +0.0)
    decimals = max(_decimals(accuracy_text), _decimals(percent(previous.accuracy)) if previous else 0)
    cols[2].metric(
        "Accuracy",
        accuracy_text,
        delta=_delta(100 * current.accuracy, previous and 100 * previous.accuracy, f"{{:+.{decimals}f}} pts"),
        help=f"Share of {pairs} answered right (every bit), at step {current.accuracy_step:,}. "
        "While playing it is updated at each periodic evaluation.",
    )
    trainer = session.trainer
    value, delta = solved_metric(
        current,
        trainer.evals.array("step"),
        trainer.evals.array("accuracy"),
        len(task.exhaustive()),
        trainer.config.eval_every,
    )
    cols[3].metric(
        "Solved at",
        value,
        delta=delta,
        delta_color="orange" if current.solved_at_step is not None else "off",
        delta_arrow="off",
        help=f"The first evaluation that found every pair right. Evaluations run every "
        f"{trainer.config.eval_every:,} steps (Advanced: Evaluate every), whether the steps are trained in one go, "
        "in clicks, in a seed sweep or on the command line, so the same setup is always solved at the same step. "
        "The Accuracy metric is measured at every step you look at, so it can reach 100 % a little earlier.",
    )


def solved_metric(
    current: MetricValues, eval_steps: np.ndarray, eval_accuracy: np.ndarray, n_pairs: int, eval_every: int
) -> tuple[str, str | None]:
    """The "Solved at" metric's value and delta. Solved and still right: "step N". Solved, but some pairs wrong now:
    how many are still right and the first evaluation after solving that found one wrong (or this step, when only
    the current Accuracy shows it), so that it reads as a pair lost, not as un-learning. Not solved, though every
    pair is right now: the step of the evaluation that will record it."""
    solved = current.solved_at_step
    accuracy = current.accuracy
    if solved is None:
        if accuracy == 1.0:
            check = (current.step // eval_every + 1) * eval_every
            return "not yet", f"100 % now: counted at the check at step {check:,}"
        return "not yet", None
    if not (math.isfinite(accuracy) and accuracy < 1.0):
        return f"step {solved:,}", None
    wrong = max(1, round((1.0 - accuracy) * n_pairs))
    later = (eval_steps > solved) & (eval_accuracy < 1.0)
    lost_at = int(eval_steps[later][0]) if later.any() else current.accuracy_step
    pairs = "one pair" if wrong == 1 else f"{wrong:,} pairs"
    return f"step {solved:,}", f"right on all but {pairs}, lost at step {lost_at:,}"


def presenting(session: Session) -> bool:
    return bool(session.settings["presentation"])


def _error_figure(session: Session, smoothing: float, log_y: bool, presentation: bool, seconds: bool = False):
    """The current run's error chart, with the other visible runs overlaid (x: steps, or seconds trained)."""
    trainer = session.trainer
    steps, error = trainer.steps_log.arrays()
    run_name, others = comparison.overlays(session, seconds=seconds)
    eval_steps = trainer.evals.array("step")
    figure = charts.error_figure(
        session.current.seconds_at(steps) if seconds else steps,
        error,
        smoothing=smoothing,
        log_y=log_y,
        eval_steps=session.current.seconds_at(eval_steps) if seconds else eval_steps,
        accuracy=trainer.evals.array("accuracy"),
        solved_step=None if seconds else trainer.solved_at_step,
        max_points=1000,  # per line; more than one point per pixel of a laptop-wide chart
        run_name=run_name,
        overlays=others,
        x_title="seconds of training" if seconds else "training step",
    )
    if presentation:
        return charts.enlarged(figure, height=PRESENTATION_ERROR_HEIGHT)
    return figure.update_layout(height=ERROR_HEIGHT)


def explanation(session: Session) -> str:
    """The "What am I looking at?" text of the error chart."""
    loss = (
        "E = 0.5 * sum over the bits of (y_t - target_t)^2, the squared error of the output probabilities"
        if session.settings["loss"] == "mse"
        else "E = - sum over the bits of [target_t log y_t + (1 - target_t) log(1 - y_t)] (binary cross-entropy)"
    )
    return (
        "**What is drawn**: the training error of every step (faint) and its moving average (bold; the smoothing "
        "slider sets how much), against the training step. The dotted line (right axis) is the accuracy: the "
        f"share of all pairs the net answers right in every bit, measured every {session.settings['eval_every']} "
        "steps; a vertical line marks the step where it first reached 100 %.\n\n"
        "**What to look for**: a plateau, then a sudden drop. On the plateau the net only gets the bits that need "
        "no carry (it answers a XOR b); the drop is the moment a hidden unit starts holding the carry, and the "
        "accuracy jumps to 100 % soon after. A curve that rises or jumps to a high value means the learning rate "
        "is too large.\n\n"
        f"**The math**: each step shows the net {session.settings['batch_size']} example(s) and measures {loss}, "
        "where y_t = sigmoid(h_t W_out + b_out) is the output for bit t; backpropagation through time then moves "
        "every weight a little against the gradient of E (by the learning rate times the gradient, for SGD)."
    )


def render(session: Session) -> None:
    """The error chart (key `error_chart`) with its smoothing and log-scale controls (below the chart in
    presentation mode, where the chart should fill the first screen)."""
    large = presenting(session)
    first, second = st.container(), st.container()
    controls, chart = (second, first) if large else (first, second)
    cols = controls.columns([3, 1, 1], vertical_alignment="bottom")
    setting_widget(SETTINGS["smoothing"], session, container=cols[0])
    setting_widget(SETTINGS["log_y"], session, container=cols[1])
    setting_widget(SETTINGS["x_axis"], session, container=cols[2])
    read_widgets(session, ("smoothing", "log_y", "x_axis"))

    smoothing, log_y = float(session.settings["smoothing"]), bool(session.settings["log_y"])
    seconds = session.settings["x_axis"] == "seconds"
    key = f"error_figure:{smoothing}:{log_y}:{large}:{seconds}:{session.pinned.version}"
    figure = session.cached(key, lambda: _error_figure(session, smoothing, log_y, large, seconds))
    live_chart(figure, key="error_chart", live=session.running, config=PLOTLY_CONFIG, container=chart)
    with chart:
        st.caption(charts.CAPTIONS["error_figure"])
        explain(explanation(session))
