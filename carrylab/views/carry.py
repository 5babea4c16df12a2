"""View "Carry in the units": which hidden units hold the carry, and can a linear read-out recover it?

Why: adding least-significant bit first needs exactly one bit of memory, the carry. This section names the units
that track it (per-unit correlation), says how well a linear probe reads it from the whole state (against what the
current input bits alone would give), and shows one example's hidden state with those units outlined, right
below the true carry, so the audience can see a unit switch on when a carry is produced and off when it is used.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from carrylab.analysis import CarryAnalysis, probe_trace, resolve_probe
from carrylab.charts import CAPTIONS, carry_correlation_figure, hidden_heatmap_figure, probe_accuracy_figure
from carrylab.formatting import percent
from carrylab.views.common import explain, show_chart
from rnn_core import diagnostics as diag
from rnn_core.tasks import SYMBOLS
from rnn_core.train import Trainer

PART_NAMES = {"h": "h (the hidden state)", "c": "c (the LSTM's cell state)"}


def sample_note(analysis: CarryAnalysis) -> str:
    """Where the hidden-state statistics come from, for captions."""
    return (
        f"Computed from the hidden states of a fixed sample of {analysis.n_state_examples:,} of the "
        f"{analysis.n_examples:,} examples (all {analysis.n_bits} steps of each), at step {analysis.step:,}."
    )


def render(trainer: Trainer, analysis: CarryAnalysis, *, probe=None, presentation: bool = False) -> None:
    """probe: (a, b) or (a, b, op) for the heatmap; None or an unusable probe: a long-carry-chain example.
    presentation: larger chart text, and no heatmap (the story's probe, just above it, shows the same example)."""
    st.subheader("Carry in the units")
    task = trainer.task
    if not analysis.has_carry:
        st.info(
            f"The {task.op} task has no carry: every output bit depends only on the two input bits at that "
            "position, so there is nothing for a unit to remember. Train add, sub or mixed to see a carry unit."
        )
    else:
        _headline(analysis)
        left, right = st.columns(2)
        with left:
            for part, corr in analysis.part_corr.items():
                best = analysis.carry_units if part == "h" else diag.best_carry_units(corr, 1).tolist()
                fig = carry_correlation_figure(corr, best_units=best)
                if len(analysis.part_corr) > 1:
                    fig.update_layout(title_text=f"Correlation with the carry: units of {PART_NAMES[part]}")
                key = "carry_corr_chart" if part == "h" else f"carry_corr_chart_{part}"
                show_chart(fig, key, CAPTIONS["carry_correlation_figure"], large=presentation)
        with right:
            _probe_history(trainer, large=presentation)
        st.caption(sample_note(analysis))
    if presentation:
        return

    a, b, op, note = resolve_probe(task, probe)
    if note:
        st.warning(note)
    trace = probe_trace(trainer.model, task, a, b, op)
    order = np.argsort(-analysis.unit_strength, kind="stable")
    fig = hidden_heatmap_figure(
        trace.hidden,
        tracks=trace.tracks,
        activation=analysis.activation,
        cell_state=trace.states.get("c"),
        unit_order=order,
        highlight_units=analysis.carry_units,
        title=f"State for {a} {SYMBOLS[op]} {b}, sorted by |r| with carry",
    )
    bits = f"{trace.longest_chain} bit{'s' if trace.longest_chain != 1 else ''}"
    st.markdown(f"**{trace.line()}** (longest carry chain: {bits})")
    show_chart(fig, "carry_hidden_chart", CAPTIONS["hidden_heatmap_figure"])
    explain(
        "**Top left**: the Pearson correlation *r* of each hidden unit's value with the true carry out of the "
        "bit just read, over every (example, bit) of the sample. **Top right**: a linear probe, a ridge "
        "regression of the carry (as +1/-1) on the whole hidden state, and how often its sign is right, over "
        "training. **Bottom**: one example; each column is one bit, least significant first; the rows on top "
        "are the inputs, the true carry and the net's output, below them the hidden units (★ = carry units, "
        "outlined).\n\n"
        "**What to look for**: a unit whose colour flips exactly when *carry out* does: it turns on when a carry "
        "is produced (both bits 1) and off when the carry is used up (both bits 0). In a solved net at least one "
        "unit has |r| near 1, or the probe reaches 100 %.\n\n"
        "**The math**: the state after bit t must hold c_t = majority(a_t, b_t, c_(t-1)), because output bit "
        "t + 1 is a_(t+1) XOR b_(t+1) XOR c_t. The current bits alone settle the carry whenever a_t = b_t, "
        f"which is why even an untrained net's probe scores well; the bar to beat is "
        f"{percent(analysis.carry_baseline)} (the best guess from a_t and b_t alone)."
    )


def _headline(analysis: CarryAnalysis) -> None:
    part, best, r = analysis.best_carry
    where = f"{part} unit {best}" if len(analysis.part_corr) > 1 else f"unit {best}"
    c1, c2, c3 = st.columns(3)
    c1.metric("Best carry unit", f"{where}: r = {r:+.2f}", help="Pearson correlation with the true carry.")
    c2.metric(
        "Linear probe",
        percent(analysis.probe_accuracy),
        help="How often a linear read-out of the whole state (every part) gets the carry right, over (example, bit) "
        "pairs.",
    )
    c3.metric(
        "Inputs alone",
        percent(analysis.carry_baseline),
        help="The best carry accuracy possible from the two current input bits alone, without any memory.",
    )
    if len(analysis.part_probe) > 1:
        alone = ", ".join(f"{p} alone {percent(v)}" for p, v in analysis.part_probe.items())
        st.markdown(f"**Linear probe per state part:** {alone} (whole state {percent(analysis.probe_accuracy)}).")
    strong = [u for u in analysis.carry_units if abs(analysis.carry_corr[u]) >= 0.8]
    if strong:
        names = ", ".join(f"unit {u} (r = {analysis.carry_corr[u]:+.2f})" for u in strong)
        st.markdown(f"**Carry units:** {names}.")
    elif part == "h":
        st.markdown(
            f"**No single unit tracks the carry yet** (best |r| = {abs(r):.2f}); it may be spread over several "
            "units: the probe reads the whole state."
        )
    else:
        st.markdown(f"**The carry lives in the cell state:** {where} (r = {r:+.2f}); no unit of h has |r| >= 0.8.")


def _probe_history(trainer: Trainer, *, large: bool = False) -> None:
    steps = trainer.evals.array("step")
    probe = trainer.evals.array("probe_accuracy")
    if probe.size == 0 or probe.shape != steps.shape:
        st.info("The probe accuracy over training appears here once the trainer logs it at each evaluation.")
        return
    fig = probe_accuracy_figure(steps, probe, accuracy=trainer.evals.array("accuracy"))
    show_chart(fig, "probe_acc_chart", CAPTIONS["probe_accuracy_figure"], large=large)
