"""Presentation mode: the whole story on one page, for a projector.

Why: in front of an audience the presenter should not hunt through a sidebar and tabs. With the toggle on
(key `presentation`, `presentation=1` in the URL) the page shows, top to bottom: the control row (Play / Pause /
Step / Reset and the demo speed stay), the headline numbers, the error curve, the probe with its bit table and
hidden-state heatmap under the carry track, then the carry views: carry in the units, the learned machine,
longer numbers. The settings sidebar is not drawn (and hidden with CSS, since ``initial_sidebar_state`` only
applies when the page is first opened); text and charts are larger.

Cost while playing: the error curve and the probe live in the live fragment and update every frame; the carry
views sit below it, outside the fragment, so they are drawn on full runs only (Pause, Step, Train, Reset) and
cost nothing per frame. Their caption says which step they show.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from carrylab.session import Session
from carrylab.views import View
from carrylab.views import probe as probe_view
from carrylab.views import training as training_view

# The carry views of the story, in order (tab labels of the dashboard).
STORY = ("Carry in the units", "Learned machine", "Longer numbers")

STYLE = """
<style>
/* no settings sidebar, no control to open it, no toolbar over the title */
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarCollapseButton"], header[data-testid="stHeader"] { display: none !important; }
/* use the whole projector width and height */
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 0.4rem 2rem 4rem 2rem !important; }
/* less space between blocks: more of the story on one 720-pixel-high screen */
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.6rem; }
/* larger text for the back of the room */
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li { font-size: 1.2rem; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
[data-testid="stMain"] [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p { font-size: 2.6rem; }
[data-testid="stMain"] [data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p { font-size: 1.2rem; }
[data-testid="stMain"] h1 { font-size: 2rem; padding: 0.2rem 0 0 0; }
[data-testid="stMain"] h2 { font-size: 2.0rem; }
[data-testid="stMain"] h3 { font-size: 1.75rem; }
</style>
"""


def apply_style() -> None:
    """The presentation CSS (a style-only st.html goes to the event container: it takes no space)."""
    st.html(STYLE)


def render_live(session: Session) -> None:
    """The live part of the story (inside the live fragment): the error curve, then the probe."""
    training_view.render(session)
    probe_view.render(session)


def render_story(session: Session, views: Sequence[View], labels: Sequence[str] = STORY) -> None:
    """The carry views named in `labels`, in that order (outside the live fragment)."""
    st.header("Where is the carry?")
    if session.running:
        st.caption(
            f"These views show step {session.trainer.step:,}; they update when you pause, step or train "
            "(redrawing them every frame would slow the live charts down)."
        )
    by_label = dict(views)
    for label in labels:
        for render in by_label[label]:
            render(session)
