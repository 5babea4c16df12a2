"""Probe one example: the network's answer, bit by bit, and its hidden state at every bit.

Why: the error curve says *that* the net learns; one worked example shows *how*. The post's
example 13 + 33 = 46 is the default. The bit table puts each step's inputs, the true carry coming
in, the target and the predicted probability side by side; the heatmap below shows every hidden
unit after each bit, under tracks for a, b, the true carry out, the target and the output, so a
unit that holds the carry is visible as a row whose colour flips with the 'carry out' track.
Optionally the rows are sorted by each unit's correlation with the carry over every pair.

Operands are typed as text and parsed as Python ints, so 64-bit operands stay exact. A bad operand
gets a message and nothing else runs: the model is never touched here.
"""

from __future__ import annotations

import streamlit as st

from carrylab import charts
from carrylab.session import ProbeResult, Session
from carrylab.settings import SETTINGS, operand_range_text, parse_operand_text, probe_operator
from carrylab.views import escape_markdown
from carrylab.views.controls import read_widgets, setting_widget
from carrylab.views.training import PLOTLY_CONFIG

_TABLE_CONFIG = {
    "bit": st.column_config.NumberColumn("bit t", help="Time step = bit position, least significant first."),
    "carry in": st.column_config.NumberColumn("carry in", help="True carry (borrow) into this bit."),
    "prediction": st.column_config.NumberColumn("prediction", help="Predicted bit: P(y=1) >= 0.5."),
    "P(y=1)": st.column_config.ProgressColumn(
        "P(y=1)",
        min_value=0.0,
        max_value=1.0,
        format="%.3f",
        help="The network's output probability that this bit is 1.",
    ),
    "ok": st.column_config.TextColumn("ok", help="Predicted bit equals the target bit."),
}


def result_line(result: ProbeResult, n_bits: int) -> str:
    """Markdown: '13 + 33 = 46 ✓', or the wrong answer with ✗ and the right one."""
    lhs = f"{result.a} {result.symbol} {result.b}"
    modulo = f" (mod 2^{n_bits})" if result.op == "sub" else ""
    if result.correct:
        return f"### `{lhs} = {result.predicted_value}` :green[✓]{modulo}"
    return f"### `{lhs} = {result.predicted_value}` :red[✗] — the right answer is `{result.true_value}`{modulo}"


def _operands(session: Session) -> tuple[int, int, str] | None:
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


def _heatmap(session: Session, result: ProbeResult, order):
    return charts.hidden_heatmap_figure(
        result.hidden,
        tracks={
            "a": result.a_bits,
            "b": result.b_bits,
            "carry out": result.carry_out,
            "target": result.target,
            "P(y=1)": result.prob,
            "prediction": result.pred,
        },
        cell="tanh" if session.trainer.model.cell == "tanh" else "sigmoid",
        unit_order=order,
        highlight_units=order[:1].tolist() if order is not None else (),
        title=f"Hidden state while computing {result.a} {result.symbol} {result.b}",
    )


def _probe_and_heatmap(session: Session, a: int, b: int, op: str):
    """(result, unit order or None, heatmap figure) for the current weights, cached per step."""
    result = session.probe(a, b, op)
    order = session.unit_order(fresh=not session.running) if session.settings["order_units"] else None
    order_key = "none" if order is None else ",".join(map(str, order.tolist()))
    figure = session.cached(f"hidden_heatmap:{a}:{b}:{op}:{order_key}", lambda: _heatmap(session, result, order))
    return result, order, figure


def render(session: Session) -> None:
    """Operand inputs, result line, bit table and hidden-state heatmap (key `hidden_heatmap`)."""
    st.subheader("Probe an example")
    mixed = session.settings["operator"] == "mixed"
    cols = st.columns([1, 1, 1, 2] if mixed else [1, 1, 2], vertical_alignment="bottom")
    op, n_bits = probe_operator(session.settings), int(session.settings["n_bits"])
    allowed = f"A whole number in {operand_range_text(op, n_bits)} ({op} at {n_bits} bits)."
    setting_widget(SETTINGS["operand_a"], session, container=cols[0], help=allowed)
    setting_widget(SETTINGS["operand_b"], session, container=cols[1], help=allowed)
    names = ["operand_a", "operand_b", "order_units"]
    if mixed:
        setting_widget(SETTINGS["probe_op"], session, container=cols[2])
        names.append("probe_op")
    setting_widget(SETTINGS["order_units"], session, container=cols[-1])
    read_widgets(session, names)

    operands = _operands(session)
    if operands is None:
        return
    result, order, figure = session.throttled(
        "probe", (*operands, bool(session.settings["order_units"])), lambda: _probe_and_heatmap(session, *operands)
    )
    st.markdown(result_line(result, n_bits))
    table = charts.bit_table(result.a_bits, result.b_bits, result.carry_in, result.target, result.prob, result.pred)
    table["ok"] = table["ok"].map({True: "✓", False: "✗"})
    st.dataframe(table, hide_index=True, column_config=_TABLE_CONFIG, width="stretch")
    st.caption(
        "One row per time step, least significant bit first. The carry into bit t is what the hidden state "
        "after bit t - 1 has to remember."
    )
    if session.settings["order_units"] and order is None:
        st.info("Ordering by carry correlation needs rnn_core.diagnostics; units are in index order.")
    st.plotly_chart(figure, key="hidden_heatmap", width="stretch", theme=None, config=PLOTLY_CONFIG)
    sorted_note = " Rows are sorted by |correlation with the carry|; ★ marks the strongest unit."
    st.caption(charts.CAPTIONS["hidden_heatmap_figure"] + (sorted_note if order is not None else ""))
