"""Streamlit view sections of the dashboard: one module per section, each exposing a ``render`` function.

Why this shape: `dashboard.py` stays thin glue, and a new view is a new module plus one line in
`registry.VIEWS`, the one list of ``(tab label, renderers)``, each renderer taking the `Session`, e.g.
``("Training", (training.render, probe.render))``. Helpers every view uses (`show_chart`, `explain`,
`PLOTLY_CONFIG`, the session's carry analysis) live in `common`. A view reads the `Session` (trainer,
settings, cached per-step analysis) and draws; it never trains (training happens in `controls`, or in the live
frame while playing) and never builds figures itself (`carrylab.charts` does).

The tabs are lazy (``on_change="rerun"``): only the open tab's views run, so an expensive diagnostic
view costs nothing while the presenter watches the training tab. The first tab is open by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import streamlit as st

from carrylab.session import Session
from carrylab.settings import SETTINGS

Renderer = Callable[[Session], None]
View = tuple[str, Sequence[Renderer]]  # (tab label, renderers drawn in that tab, top to bottom)

TABS_KEY = "view"
_NOTICE = {"info": st.info, "success": st.success, "warning": st.warning, "error": st.error}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def escape_markdown(text: str) -> str:
    """Text shown literally by st.markdown-based elements (no links, emphasis or HTML from user input)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def push_settings(session: Session) -> None:
    """Put every setting's value into its widget's state. Only from a callback or before the widgets are drawn
    (Streamlit refuses to change a widget's value after it was drawn in the same run): after a preset or a
    checkpoint replaced the whole configuration."""
    for name in SETTINGS:
        st.session_state[name] = session.settings[name]


def render_notices(session: Session) -> None:
    """The session's notices (results of the last action) and the model's health warnings."""
    shown = set()
    for notice in session.notices:
        if notice.text not in shown:
            _NOTICE.get(notice.level, st.info)(escape_markdown(notice.text))
            shown.add(notice.text)
    for warning in session.health_warnings():
        if warning not in shown:
            st.warning(escape_markdown(warning))
            shown.add(warning)


def render_tabs(session: Session, views: Sequence[View]) -> None:
    """One tab per view; only the open tab's renderers run (all of them when the state is unknown)."""
    labels = [label for label, _ in views]
    tabs = st.tabs(labels, key=TABS_KEY, on_change="rerun")
    for tab, (_, renderers) in zip(tabs, views, strict=True):
        if tab.open is False:
            continue
        with tab:
            for render in renderers:
                render(session)
