"""View "The learned machine": the hidden states as a picture, and the finite-state machine read off them.

Why: a serial adder is a 2-state machine (carry 0 / carry 1). If the net has really learned addition, its hidden
states fall into clusters that behave like those two states. The PCA picture shows the clusters; the automaton
extracted from them is drawn beside the true adder with a verdict on whether the two are equivalent, which is a
far stronger statement than "accuracy 100 %" (it is what makes a net work at every length).
"""

from __future__ import annotations

import streamlit as st

from carrylab.analysis import CarryAnalysis
from carrylab.charts import CAPTIONS, automaton_figure, state_space_figure
from carrylab.formatting import percent
from carrylab.views.carry import sample_note
from carrylab.views.common import explain, show_chart
from rnn_core.train import Trainer

_REFERENCE_LABELS = ["s0<br>c=0", "s1<br>c=1"]  # c: the carry (the borrow for subtraction)


def render(trainer: Trainer, analysis: CarryAnalysis, *, presentation: bool = False) -> None:
    """presentation: the verdict first, then the state space and the two machines side by side (one screen), with
    larger text."""
    st.subheader("The learned machine")
    if presentation:
        verdict_slot = st.container()
        pca_slot, learned, reference = st.columns(3, gap="medium")
    else:
        pca_slot, verdict_slot = st.container(), st.container()
        learned, reference = st.columns(2)
    with pca_slot:
        _state_space(analysis, presentation)
    with verdict_slot:
        _verdict(analysis)
    if analysis.automaton is None:
        _explain()
        return
    m = analysis.automaton
    with learned:
        fig = automaton_figure(
            m.n_states,
            m.transitions,
            state_labels=analysis.state_labels(),
            initial_state=m.start,
            title=f"Learned: {m.n_states} state{'s' if m.n_states != 1 else ''}"
            + ("" if presentation else f", {percent(m.consistency, 0, space=False)} consistent"),
        )
        show_chart(fig, "automaton_chart", CAPTIONS["automaton_figure"], large=presentation)
    with reference:
        ref = analysis.reference
        fig = automaton_figure(
            ref.n_states,
            ref.transitions,
            state_labels=_REFERENCE_LABELS,
            initial_state=ref.start,
            title="True adder" if presentation else f"True: the {analysis.reference_name}",
        )
        caption = "c=0 / c=1: the carry (the borrow, for sub) a state holds."
        show_chart(fig, "reference_automaton_chart", caption, large=presentation)
    _explain()


def _state_space(analysis: CarryAnalysis, large: bool) -> None:
    fig = state_space_figure(
        analysis.pca_points,
        analysis.pca_carry,
        cluster=analysis.pca_cluster,
        explained_variance=analysis.explained_variance,
        # the axes name the principal components
        title=f"Hidden states{'' if large else ' after each bit'} (step {analysis.step:,})",
    )
    show_chart(fig, "state_space_chart", CAPTIONS["state_space_figure"], large=large)
    if not large:  # presentation mode: the section fits one screen
        st.caption(sample_note(analysis) + " At most 4,000 points are drawn.")


def _verdict(analysis: CarryAnalysis) -> None:
    if analysis.automaton is None:
        if analysis.op == "mixed":
            st.info(
                "The mixed task switches between five operators, so there is no single reference machine to "
                "compare with. Train add or sub to see the learned carry machine."
            )
        else:
            st.info(
                f"The {analysis.op} task needs no memory (no carry), so there is no state machine to extract: "
                "a 1-state machine computes it."
            )
    else:
        (st.success if analysis.equivalent else st.warning)(analysis.automaton_verdict)


def _explain() -> None:
    explain(
        "**Top**: every hidden state (after each bit of each sampled example) projected onto the two directions "
        "in which the states vary most; colour = the true carry at that point, marker = the k-means cluster the "
        "state falls in. **Bottom**: the machine read off the clusters: for each cluster and input (a, b), the "
        "cluster the net moves to and the bit it outputs (majority vote over the sample), then minimised by "
        "merging states that behave identically. Labels c=0 / c=1 say which carry the states of a machine state "
        "hold; c? means both.\n\n"
        "**What to look for**: two well separated clouds (carry 0 / carry 1), and a learned machine that is "
        "equivalent to the adder: same output on every input sequence. Before that, the machine has extra "
        "states or a consistency below 100 % (some transitions disagree with the majority).\n\n"
        "**The math**: the serial adder has states c in {0, 1}, output a XOR b XOR c and next state "
        "majority(a, b, c). Two machines are equivalent if no input sequence makes their outputs differ, "
        "checked by a walk over all pairs of states reachable together."
    )
