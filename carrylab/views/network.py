"""View "Network": the network drawn as nodes and edges while it computes the probe example, bit by bit.

Why: for an audience. A slider picks the bit and Play animates across the bits in the browser, so the room watches
the carry pass from the state after one bit into the next and the output bit come out right. Units are ordered
by their correlation with the carry (the carry units on top) and only the strongest edges are drawn.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from carrylab import charts
from carrylab.charts.network import MAX_EDGES, MAX_UNITS
from carrylab.session import Session
from carrylab.views.common import carry_analysis, explain, show_chart
from carrylab.views.probe import valid_operands
from carrylab.views.training import presenting
from rnn_core.tasks import OPERATORS

PRESENTATION_HEIGHT = 560  # with the section's heading, example line and caption: one 720-pixel screen
PRESENTATION_UNITS = 10  # units drawn in presentation mode: rows tall enough for its larger text


def network_figure(session: Session, a: int, b: int, op: str, *, large: bool = False):
    """The picture of the session's model computing a `op` b (units by carry correlation, strongest first)."""
    model, task = session.trainer.model, session.trainer.task
    trace = session.probe(a, b, op)
    analysis = carry_analysis(session)
    order = np.argsort(-analysis.unit_strength, kind="stable") if analysis.has_carry else None
    H = model.n_hidden
    value = model.blocks.index("candidate") if "candidate" in model.blocks else 0  # the block that writes the state
    cols = slice(value * H, (value + 1) * H)
    names = ["a", "b", *(f"op {o}" for o in OPERATORS)][: task.n_in]
    size = {"height": PRESENTATION_HEIGHT, "font_size": charts.PRESENTATION_FONT_SIZE} if large else {}
    if large:
        size["max_units"] = PRESENTATION_UNITS
    return charts.network_figure(
        trace.inputs,
        trace.hidden,
        trace.prob,
        model.params["W_in"][:, cols],
        model.params["W_rec"][:, cols],
        model.params["W_out"][:, 0],
        input_names=names,
        gates=trace.gates,
        unit_order=order,
        state_range=model.state_range,
        carry=trace.carry_out,
        title="",
        **size,
    )


def render(session: Session) -> None:
    st.subheader("The network at work")
    shown = valid_operands(session)
    if shown is None:
        return
    model = session.trainer.model
    large = presenting(session)
    fig = session.cached(f"network:{shown}:{large}", lambda: network_figure(session, *shown, large=large))
    st.markdown(f"**{session.probe(*shown).line()}**")
    show_chart(fig, "network_chart", charts.CAPTIONS["network_figure"])
    gated = model.n_gates > 1
    drawn = f"the {MAX_UNITS} units most correlated with the carry" if model.n_hidden > MAX_UNITS else "every unit"
    if large:
        return
    explain(
        "**What is drawn**: the probe example (set on the Training tab) going through the net at one bit t. Left: "
        "the inputs of bit t and the state after bit t - 1; middle: the state after bit t; right: the output bit. "
        "Circles are coloured by their value (red positive, blue negative for the state; blue = 1 for the bits), "
        f"edges by their weight (red positive, blue negative, thicker = larger |weight|); {drawn} and the "
        f"{MAX_EDGES} strongest edges are drawn, the carry units on top."
        + (
            " Beside each unit of a gated cell, its gates as small squares (0 dark, 1 yellow), in the order of the "
            "letters above them; its edges are the candidate's weights (what writes the new state)."
            if gated
            else ""
        )
        + "\n\n**What to look for**: press Play. The carry unit turns on at the bit where both operands are 1, the "
        "left column shows it again at the next bit (that is the memory), and the output there flips to account "
        "for it."
    )
