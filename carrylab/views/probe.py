"""Probe one example: the network's answer, bit by bit, and its hidden state at every bit.

Why: the error curve says *that* the net learns; one worked example shows *how*. The post's
example 13 + 33 = 46 is the default. The bit table puts each step's inputs, the true carry coming
in, the target and the predicted probability side by side; the heatmap below shows every hidden
unit after each bit, under tracks for a, b, the true carry out, the target and the output, so a
unit that holds the carry is visible as a row whose colour flips with the 'carry out' track.
Optionally the rows are sorted by each unit's correlation with the carry, measured on the trainer's fixed
sample of up to 1,024 examples of the evaluation set.

Operands are typed as text and parsed as Python ints, so 64-bit operands stay exact. A bad operand
gets a message and nothing else runs: the model is never touched here.
"""

from __future__ import annotations

import streamlit as st

from carrylab import charts
from carrylab.analysis import ProbeTrace
from carrylab.components.live_chart import live_chart
from carrylab.session import Session
from carrylab.settings import SETTINGS, operand_range_text, parse_operand_text, probe_operator
from carrylab.views import escape_markdown
from carrylab.views.common import PLOTLY_CONFIG, explain
from carrylab.views.controls import read_widgets, setting_widget
from carrylab.views.training import presenting

TABLE_EXPLANATION = (
    "**What is drawn**: the net adding one example, one row per time step. The numbers are fed in least "
    "significant bit first, so row t holds bit t of a and of b (the inputs at step t), the true *carry in* from "
    "bit t - 1, the *target* (bit t of the right answer), the net's probability *P(y=1)* that this bit is 1, and "
    "its *prediction* (1 if P(y=1) >= 0.5).\n\n"
    "**What to look for**: while it learns, the net first gets the rows with carry in = 0 right (it answers "
    "a XOR b) and misses rows with carry in = 1; a net that holds the carry gets every row right, with "
    "probabilities near 0 or 1.\n\n"
    "**The math**: the target bit is a_t XOR b_t XOR c_t, where c_t is the carry in; the net cannot see c_t, "
    "it has to remember it from the previous step in its hidden state."
)
HEATMAP_EXPLANATION = (
    "**What is drawn**: one column per bit (time step), least significant first. The rows on top are the "
    "inputs a and b, the true *carry out* of that bit, the target, the output probability and the prediction. "
    "Below them, every hidden unit's value after reading that bit: red is positive, blue negative, white 0 "
    "(for tanh units; the Trask variant's sigmoid units run from 0 to 1).\n\n"
    "**What to look for**: a row whose colour flips exactly where the *carry out* track does: that unit holds "
    "the carry. Turn on *Order units by carry correlation* to move it to the top (marked ★). Before training "
    "the colours are a noisy echo of the inputs.\n\n"
    "**The math**: h_t = tanh(x_t W_in + h_(t-1) W_rec + b_rec) with h_0 = 0, where x_t = (a_t, b_t) are the two "
    "input bits; the output is y_t = sigmoid(h_t W_out + b_out). The same weights are used at every step, and "
    "h_(t-1) is the only way anything about earlier bits reaches step t, so the carry must live there."
)
GATED_MATH = (
    " (That is the Elman cell's step; a gated cell's own equations are under its gate heatmap below, and its "
    "state is still the only way earlier bits reach step t.)"
)
CELL_STATE_EXPLANATION = (
    "\n\n**The LSTM's two parts**: the upper block is h_t = o_t * tanh(c_t), what the read-out sees; the lower "
    "block is the cell state c_t = f_t * c_(t-1) + i_t * g_t, the LSTM's memory, on its own fixed scale (-2..2; "
    "larger |c| shows as the darkest colour). The carry may live in either."
)
CELL_NOTES = {"gru": GATED_MATH, "lstm": GATED_MATH + CELL_STATE_EXPLANATION}
GATE_EXPLANATION = {
    "lstm": (
        "**What is drawn**: the LSTM's three gates at every bit, under the same tracks, units in the state "
        "heatmap's order: the input gate i_t (how much of the new candidate enters c), the forget gate f_t (how "
        "much of c_(t-1) is kept) and the output gate o_t (how much of tanh(c_t) shows in h_t); 0 = closed, "
        "1 = open.\n\n"
        "**What to look for**: on the carry unit, the forget gate open (near 1) while the carry must be kept "
        "(a_t != b_t: the carry passes through unchanged) and the input gate open where a carry is made or used "
        "up (a_t = b_t)."
    ),
    "gru": (
        "**What is drawn**: the GRU's two gates at every bit, under the same tracks, units in the state "
        "heatmap's order: the reset gate r_t (how much of h_(t-1) the candidate sees) and the update gate z_t "
        "(how much of h_(t-1) is kept: h_t = (1 - z_t) n_t + z_t h_(t-1)); 0 = closed, 1 = open.\n\n"
        "**What to look for**: on the carry unit, the update gate near 1 where the carry is simply passed on "
        "(a_t != b_t) and near 0 where the current bits settle it (a_t = b_t)."
    ),
}
# Presentation mode: the heatmap stands beside the bit table, both on one 720-pixel screen under the section's
# heading; its height is at most this (a 32-unit net's natural height is 1,140 px: then every other unit is labelled).
PRESENTATION_HEATMAP_MAX = 580


def result_line(result: ProbeTrace, n_bits: int) -> str:
    """Markdown: '13 + 33 = 46 ✓', or the wrong answer with ✗ and the right one."""
    lhs = f"{result.a} {result.symbol} {result.b}"
    modulo = f" (mod 2^{n_bits})" if result.op == "sub" else ""
    if result.correct:
        return f"### `{lhs} = {result.net_answer}` :green[✓]{modulo}"
    return f"### `{lhs} = {result.net_answer}` :red[✗] — the right answer is `{result.answer}`{modulo}"


def valid_operands(session: Session) -> tuple[int, int, str] | None:
    """The validated operands and operator, or None after showing why they are not usable."""
    op = probe_operator(session.settings)
    n_bits = int(session.settings["n_bits"])
    errors = []
    values = []
    for name, label in (("operand_a", "a"), ("operand_b", "b")):
        try:
            values.append(parse_operand_text(session.settings[name], label, op, n_bits))
        except ValueError as exc:
            errors.append(str(exc))
    for message in errors:
        st.error(escape_markdown(message))
    return None if errors else (values[0], values[1], op)


def _heatmap(session: Session, result: ProbeTrace, order, **size):
    """size: height and font_size for hidden_heatmap_figure (presentation mode)."""
    return charts.hidden_heatmap_figure(
        result.hidden,
        tracks=result.tracks,
        activation=session.trainer.model.activation,
        cell_state=result.states.get("c"),
        unit_order=order,
        highlight_units=order[:1].tolist() if order is not None else (),
        title=f"{'State' if len(result.states) > 1 else 'Hidden state'} while computing "
        f"{result.a} {result.symbol} {result.b}",
        **size,
    )


def _gate_heatmap(result: ProbeTrace, order, **size):
    """The gates of a gated cell for the probe (None for an Elman cell), rows in the state heatmap's order."""
    if not result.gates:
        return None
    return charts.gate_heatmap_figure(
        result.gates,
        tracks=result.tracks,
        unit_order=order,
        highlight_units=order[:1].tolist() if order is not None else (),
        title=f"Gates while computing {result.a} {result.symbol} {result.b}",
        **size,
    )


def _probe_and_heatmap(session: Session, a: int, b: int, op: str):
    """(result, unit order or None, heatmap figure) for the current weights, cached per step."""
    result = session.probe(a, b, op)
    order = session.unit_order(fresh=not session.running) if session.settings["order_units"] else None
    order_key = "none" if order is None else ",".join(map(str, order.tolist()))
    large = presenting(session)

    def build():
        size = {"height": PRESENTATION_HEATMAP_MAX, "font_size": charts.PRESENTATION_FONT_SIZE} if large else {}
        return _heatmap(session, result, order, **size), _gate_heatmap(result, order, **size)

    figures = session.cached(f"hidden_heatmap:{a}:{b}:{op}:{order_key}:{large}", build)
    return result, order, figures


def render(session: Session) -> None:
    """Operand inputs, result line, bit table and hidden-state heatmap (key `hidden_heatmap`). In presentation mode
    the heatmap stands to the right of the inputs and the table, so that the two are on screen together."""
    st.subheader("Probe an example")
    if presenting(session):
        left, right = st.columns([5, 7], gap="medium")
        with left:
            shown = _inputs_and_table(session)
        with right:
            if shown is not None:
                _heatmap_chart(session, *shown)
        return
    shown = _inputs_and_table(session)
    if shown is not None:
        _heatmap_chart(session, *shown)


def _inputs_and_table(session: Session):
    """Operand inputs, result line and bit table; returns (figure, order) for the heatmap, None for bad operands."""
    mixed = session.settings["operator"] == "mixed"
    if presenting(session):  # a narrower column: the toggle on a line of its own, under the operands
        cols = [*st.columns([1, 1, 1.6] if mixed else [1, 1], vertical_alignment="bottom"), st.container()]
    else:
        cols = st.columns([1, 1, 1, 2] if mixed else [1, 1, 2], vertical_alignment="bottom")
    if mixed:  # read first: a new operator may change the operands, which must happen before their boxes are drawn
        setting_widget(SETTINGS["probe_op"], session, container=cols[2])
        read_widgets(session, ["probe_op"])
    op, n_bits = probe_operator(session.settings), int(session.settings["n_bits"])
    allowed = f"A whole number in {operand_range_text(op, n_bits)} ({op} at {n_bits} bits)."
    setting_widget(SETTINGS["operand_a"], session, container=cols[0], help=allowed)
    setting_widget(SETTINGS["operand_b"], session, container=cols[1], help=allowed)
    setting_widget(SETTINGS["order_units"], session, container=cols[-1])
    read_widgets(session, ["operand_a", "operand_b", "order_units"])

    operands = valid_operands(session)
    if operands is None:
        return
    result, order, figure = session.throttled(
        "probe",
        (*operands, bool(session.settings["order_units"]), presenting(session)),
        lambda: _probe_and_heatmap(session, *operands),
    )
    st.markdown(result_line(result, n_bits))
    columns = charts.bit_table_columns(
        result.a_bits, result.b_bits, result.carry_in, result.target, result.prob, result.pred
    )
    st.html(charts.bit_table_html(columns))
    st.caption(
        "One row per time step, least significant bit first. The carry into bit t is what the hidden state "
        "after bit t - 1 has to remember."
    )
    # presentation mode: one explanation for the table and the heatmap (beside it), so the two fit one screen
    explain(TABLE_EXPLANATION + ("\n\n**The heatmap**: " + HEATMAP_EXPLANATION if presenting(session) else ""))
    return figure, order


def _heatmap_chart(session: Session, figures, order) -> None:
    figure, gate_figure = figures
    if session.settings["order_units"] and order is None:
        st.info(
            f"{escape_markdown(session.settings['operator'])} has no carry for a unit to track, so the units stay "
            "in index order."
        )
    live_chart(figure, key="hidden_heatmap", live=session.running, config=PLOTLY_CONFIG)
    sorted_note = " Rows are sorted by |correlation with the carry|; ★ marks the strongest unit."
    st.caption(charts.CAPTIONS["hidden_heatmap_figure"] + (sorted_note if order is not None else ""))
    if not presenting(session):
        explain(HEATMAP_EXPLANATION + CELL_NOTES.get(session.trainer.model.cell, ""))
    if gate_figure is not None:
        live_chart(gate_figure, key="gate_heatmap", live=session.running, config=PLOTLY_CONFIG)
        st.caption(charts.CAPTIONS["gate_heatmap_figure"])
        if not presenting(session):
            explain(GATE_EXPLANATION[session.trainer.model.cell])
