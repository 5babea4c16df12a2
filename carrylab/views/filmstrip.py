"""View "Filmstrip": the probe example at any saved point of training, to watch the carry unit appear.

Why: the moment a net "gets" the carry is easy to miss live. The trainer keeps parameter snapshots across the
whole run (thinned evenly when its budget is full); sliding through them replays how the hidden state of one
example changed, with the units kept in their own order so the same row is the same unit in every frame.

The slider follows the newest snapshot while it is at the newest one, and stays put when moved back.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from carrylab.analysis import probe_trace, resolve_probe, snapshot_model
from carrylab.charts import CAPTIONS, hidden_heatmap_figure
from carrylab.formatting import percent
from carrylab.views.common import explain, show_chart
from rnn_core.metrics import evaluate
from rnn_core.tasks import SYMBOLS
from rnn_core.train import Trainer

SLIDER_KEY = "filmstrip_step"
_LATEST_KEY = "filmstrip_latest"  # the newest snapshot step when the slider was last drawn


def _slider_value(steps: list[int]) -> int:
    """The step the slider should show: kept if still saved, moved to the newest if it was at the newest,
    else the nearest saved step (snapshots are thinned as training goes on)."""
    current = st.session_state.get(SLIDER_KEY)
    latest_before = st.session_state.get(_LATEST_KEY)
    if current is None or current == latest_before or not isinstance(current, (int, np.integer)):
        return steps[-1]
    if current in steps:
        return int(current)
    return int(steps[int(np.argmin(np.abs(np.asarray(steps) - current)))])


def render(trainer: Trainer, probe=None) -> None:
    """probe: (a, b) or (a, b, op); None or an unusable probe: a long-carry-chain example."""
    st.subheader("Filmstrip")
    steps = [int(s) for s in trainer.snapshots.steps]
    if not steps:
        st.info("No snapshots yet.")
        return
    st.session_state[SLIDER_KEY] = _slider_value(steps)
    st.session_state[_LATEST_KEY] = steps[-1]
    if len(steps) > 1:
        step = st.select_slider(
            "Snapshot (training step)",
            options=steps,
            key=SLIDER_KEY,
            help=f"{len(steps)} snapshots saved so far; older ones are thinned evenly as training goes on.",
        )
    else:
        step = steps[0]
        st.caption(f"Only the snapshot at step {step:,} so far: train to add more.")
    snap_step, theta = trainer.snapshots.nearest(step)
    model = snapshot_model(trainer.config, theta)
    task = trainer.task
    a, b, op, note = resolve_probe(task, probe)
    if note:
        st.warning(note)
    trace = probe_trace(model, task, a, b, op)
    accuracy = evaluate(model, task.exhaustive(), dtype=np.float32).accuracy
    st.markdown(
        f"**Step {snap_step:,}: {trace.line()}**. Every pair at this snapshot: {percent(accuracy, space=False)} right."
    )
    fig = hidden_heatmap_figure(
        trace.hidden,
        tracks=trace.tracks,
        activation=model.activation,
        cell_state=trace.states.get("c"),
        title=f"Step {snap_step:,}: state while computing {a} {SYMBOLS[op]} {b}",
    )
    show_chart(fig, "filmstrip_chart", CAPTIONS["hidden_heatmap_figure"])
    explain(
        "The probe example as the net saw it at the chosen snapshot: inputs, true carry and the net's output on "
        "top, every hidden unit below (in unit order, so a row is the same unit in every frame).\n\n"
        "**What to look for**: slide from the start to the end. Early on the hidden rows follow the inputs of the "
        "same bit only; around the step where the error drops, one or a few rows start to copy the *carry out* "
        "row, and the output row becomes right from the low bits upwards."
    )
