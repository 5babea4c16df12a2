"""Helpers every view uses: one chart call (the same Plotly config, width and caption style everywhere), the
"What am I looking at?" expander, and the session's per-step carry analysis and probe example."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from carrylab.analysis import CarryAnalysis, analyse
from carrylab.charts import enlarged
from carrylab.session import Session
from carrylab.settings import probe_operator

# Plotly toolbar: keep zoom/pan/reset and the PNG export; no logo, no editing.
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
PRESENTATION_CHART_HEIGHT = 400  # at most, in presentation mode: a section with its charts fits a 720-pixel screen


def show_chart(fig: go.Figure, key: str, caption: str | None = None, *, large: bool = False) -> None:
    """Draw a figure full width under a unique key, with its one-line caption below; large: presentation mode's
    larger text (`charts.enlarged`)."""
    if large:
        fig = enlarged(fig, height=min(fig.layout.height or PRESENTATION_CHART_HEIGHT, PRESENTATION_CHART_HEIGHT))
    st.plotly_chart(fig, key=key, width="stretch", config=PLOTLY_CONFIG, theme=None)
    if caption:
        st.caption(caption)


def explain(markdown: str) -> None:
    """The short "What am I looking at?" expander under a section."""
    with st.expander("What am I looking at?"):
        st.markdown(markdown)


def carry_analysis(session: Session) -> CarryAnalysis:
    """The analysis of the session's model, computed once per trainer step (while playing, reused for a few
    frames: it costs 35-60 ms)."""
    return session.throttled(
        "carry_analysis", (), lambda: session.cached("carry_analysis", lambda: analyse(session.trainer))
    )


def probe_operands(session: Session) -> tuple[str, str, str]:
    """The probe example as typed: (a, b, operator)."""
    s = session.settings
    return (s["operand_a"], s["operand_b"], probe_operator(s))
