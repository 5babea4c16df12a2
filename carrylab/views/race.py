"""The Race tab: up to three configurations learning the same task in lock-step, live, until one solves it.

Why: "which network finds the carry first?" is a question an audience can watch being answered. Each lane is the
current settings with its own cell and hidden size; a frame trains every lane the steps a lone Play frame would
(the demo speed), so the lanes stay at the same step and the curves grow together. Each lane shows its step,
accuracy and verdict on the probe example; the race ends with who solved first. It is drawn in presentation mode
too once a race was started.
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from carrylab import charts
from carrylab.analysis import probe_trace
from carrylab.charts.training import RUN_COLOURS, Overlay
from carrylab.components.live_chart import live_chart
from carrylab.formatting import percent
from carrylab.race import MAX_LANES
from carrylab.session import Session
from carrylab.settings import parse_operand_text, probe_operator
from carrylab.views import escape_markdown
from carrylab.views.carry import explain
from carrylab.views.training import PLOTLY_CONFIG
from rnn_core.cells import CELLS
from rnn_core.train import TrainConfig

DEFAULT_CELLS = ("elman", "gru", "lstm")
RACE_HEIGHT = 380
EXPLANATION = (
    "**What is drawn**: each lane's smoothed training error (solid) and exhaustive accuracy (dotted, right axis), "
    "all on the same steps: every frame trains each lane the same number of steps (the demo speed).\n\n"
    "**What to look for**: the plateau, then the drop, in each lane; the lane whose accuracy reaches 100 % first "
    "found the carry first. Its evaluations run every *Evaluate every* steps, so a lane is declared solved at one "
    "of those steps."
)


def _lane_inputs(session: Session) -> list[dict]:
    """Each lane's cell and hidden size (a lane can be switched off, except the first)."""
    lanes = []
    cols = st.columns(MAX_LANES)
    hidden_lo, hidden_hi = TrainConfig.BOUNDS["n_hidden"]
    for i, col in enumerate(cols):
        with col:
            on = True if i == 0 else st.checkbox(f"Lane {i + 1}", value=True, key=f"race_on_{i}")
            if i == 0:
                st.markdown("**Lane 1**")
            cell = st.selectbox(
                "Cell", CELLS, index=CELLS.index(DEFAULT_CELLS[i]), key=f"race_cell_{i}", disabled=not on
            )
            hidden = st.number_input(
                "Hidden units",
                min_value=int(hidden_lo),
                max_value=int(hidden_hi),
                value=int(session.settings["n_hidden"]),
                step=1,
                key=f"race_hidden_{i}",
                disabled=not on,
            )
            if on:
                lanes.append({"cell": cell, "n_hidden": int(hidden)})
    return lanes


def render(session: Session) -> None:
    """Lane settings, Start race / Play-Pause, the race chart (key `race_chart`) and each lane's numbers."""
    st.subheader("Race")
    if not session.settings["presentation"]:
        st.caption(
            "The current settings (task, optimizer, learning rate, seed...) with each lane's cell and hidden size, "
            "trained in lock-step. Presets and other settings change the next race, not this one."
        )
        lanes = _lane_inputs(session)
    else:
        lanes = [{"cell": cell} for cell in DEFAULT_CELLS]
    race = session.race
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        "Start race",
        key="race_start",
        icon=":material/flag:",
        on_click=session.start_race,
        args=(lanes,),
        help="New lanes from step 0 (the current run and the pinned runs are kept).",
    )
    if race is not None:
        row.button(
            "Pause race" if race.running else "Play race",
            key="race_play",
            type="primary",
            icon=":material/pause:" if race.running else ":material/play_arrow:",
            on_click=session.play_race,
            args=(not race.running,),
            disabled=race.finished,
        )
        row.markdown(f"**Step {race.step():,}** · {escape_markdown(race.result())}")
    if race is None:
        st.info("Choose the lanes and press **Start race**.")
        return
    figure = _race_figure(session)
    live_chart(figure, key="race_chart", live=race.running, config=PLOTLY_CONFIG)
    _lane_metrics(session)
    if not session.settings["presentation"]:
        explain(EXPLANATION)


def _race_figure(session: Session):
    race = session.race
    overlays = []
    for i, lane in enumerate(race.lanes):
        trainer = lane.run.trainer
        steps, error = trainer.steps_log.arrays()
        name = lane.name + (" (diverged)" if lane.status == "diverged" else "")
        overlays.append(
            Overlay(name, RUN_COLOURS[i], steps, error, trainer.evals.array("step"), trainer.evals.array("accuracy"))
        )
    empty = np.zeros(0)
    return charts.error_figure(
        empty,
        empty,
        smoothing=float(session.settings["smoothing"]),
        log_y=bool(session.settings["log_y"]),
        overlays=overlays,
        max_points=500,
        title="Race: training error and accuracy",
    ).update_layout(height=RACE_HEIGHT)


def _lane_metrics(session: Session) -> None:
    """Per lane: step, last accuracy, the probe example's verdict and its status."""
    race = session.race
    op = probe_operator(session.settings)
    cols = st.columns(len(race.lanes))
    for col, lane in zip(cols, race.lanes, strict=True):
        trainer = lane.run.trainer
        accuracy = float(trainer.evals.last("accuracy", math.nan))
        status = f"solved at step {trainer.solved_at_step:,}" if lane.status == "solved" else lane.status
        col.metric(lane.name, percent(accuracy) if math.isfinite(accuracy) else "-", help=status)
        col.caption(f"{escape_markdown(status)} · step {trainer.step:,} · {lane.run.seconds:.1f} s")
        col.caption(escape_markdown(_verdict(session, trainer, op)))
        if lane.status == "diverged":
            col.error(escape_markdown(lane.message))


def _verdict(session: Session, trainer, op: str) -> str:
    """'13 + 33 = 46: right' on this lane's weights, or why the probe example does not apply."""
    try:
        a, b = (parse_operand_text(session.settings[f"operand_{n}"], n, op, trainer.task.n_bits) for n in "ab")
    except ValueError:
        return "probe example: not valid at this width"
    result = probe_trace(trainer.model, trainer.task, a, b, op)
    answer = "right" if result.correct else f"wrong ({result.net_answer})"
    return f"{result.a} {result.symbol} {result.b} = {result.answer}: {answer}"
