"""Presentation mode: the story in a few screens, for a projector.

Why: in front of an audience the presenter should not hunt through a sidebar and tabs. With the toggle on
(key `presentation`, `presentation=1` in the URL) the page is a sequence of sections, each at most one 1280x720
screen, so that scrolling one screen at a time tells the story: (1) the control row, the headline numbers and
the error curve; (2) the probe, its bit table beside the hidden-state heatmap; (3) the network picture, animated
bit by bit; (4) carry in the units; (5) the learned machine, its state space and both machines side by side; (6)
longer numbers. The settings sidebar is
not drawn (and hidden with CSS, since ``initial_sidebar_state`` only applies when the page is first opened); the
few settings a demo changes sit in a "Settings" popover next to the title (`controls.render_header`). Text is
larger than in normal mode, never smaller, and captions are dark enough to read from the back of a room.

Cost while playing: the error curve and the probe live in the live fragment and update every frame; the carry
views sit below it, outside the fragment, so they are drawn on full runs only (Pause, Step, Train, Reset) and
cost nothing per frame. Their caption says which step they show.
"""

from __future__ import annotations

import streamlit as st

from carrylab.session import Session
from carrylab.views import carry, length, machine, network
from carrylab.views import probe as probe_view
from carrylab.views import training as training_view
from carrylab.views.common import carry_analysis, probe_operands


def _carry(session: Session) -> None:
    analysis = carry_analysis(session)
    carry.render(session.trainer, analysis, probe=probe_operands(session), presentation=True)


def _machine(session: Session) -> None:
    machine.render(session.trainer, carry_analysis(session), presentation=True)


def _length(session: Session) -> None:
    length.render(session.trainer, live=session.running, presentation=True)


# The sections of the story below the live part: (container key, renderer), in order. Each container is one screen.
STORY = (
    ("story_network", network.render),
    ("story_carry", _carry),
    ("story_machine", _machine),
    ("story_length", _length),
)
# Captions: the theme's text colour at full opacity instead of Streamlit's 60 % (#767676 on white, 4.5:1), for a
# contrast of at least 7:1 (WCAG AAA) on a projector. tests/test_presentation.py computes the ratio from these.
CAPTION_COLOUR = "#3D3D3D"
BACKGROUND = "#FFFFFF"  # the theme's backgroundColor (.streamlit/config.toml)

STYLE = f"""
<style>
/* no settings sidebar, no control to open it, no toolbar over the title */
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarCollapseButton"], header[data-testid="stHeader"] {{ display: none !important; }}
/* use the whole projector width and height */
[data-testid="stMainBlockContainer"] {{ max-width: 100% !important; padding: 0.4rem 2rem 4rem 2rem !important; }}
/* less space between blocks: each section of the story on one 720-pixel-high screen */
[data-testid="stMain"] [data-testid="stVerticalBlock"] {{ gap: 0.5rem; }}
/* larger text for the back of the room, never smaller than in normal mode */
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li {{ font-size: 1.2rem; }}
[data-testid="stMain"] [data-testid="stMetricValue"],
[data-testid="stMain"] [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {{ font-size: 2.6rem; }}
[data-testid="stMain"] [data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p {{ font-size: 1.2rem; }}
[data-testid="stMain"] .carrylab-bit-table table {{ font-size: 1.2rem !important; }}
[data-testid="stMain"] .carrylab-bit-table td, [data-testid="stMain"] .carrylab-bit-table th {{
  padding-top: 0.15rem !important; padding-bottom: 0.15rem !important; }}
/* captions, also in the Settings popover: dark (Streamlit draws them at 60 % opacity: #767676 on white, 4.5:1);
   larger on the page */
[data-testid="stCaptionContainer"] {{ opacity: 1 !important; color: {CAPTION_COLOUR} !important; }}
[data-testid="stCaptionContainer"] p {{ color: {CAPTION_COLOUR} !important; }}
[data-testid="stMain"] [data-testid="stCaptionContainer"] p {{ font-size: 1.05rem; }}
</style>
"""


def apply_style() -> None:
    """The presentation CSS (a style-only st.html goes to the event container: it takes no space)."""
    st.html(STYLE)


def render_live(session: Session) -> None:
    """The live part of the story (inside the live fragment): the error curve, then the probe, one screen each."""
    with st.container(key="story_training"):
        training_view.render(session)
    with st.container(key="story_probe"):
        probe_view.render(session)


def render_story(session: Session) -> None:
    """The carry sections of the story, one screen each (outside the live fragment)."""
    for index, (key, render) in enumerate(STORY):
        with st.container(key=key):
            if index == 0 and session.running:
                st.caption(
                    f"The views below show step {session.trainer.step:,}; they update when you pause, step or "
                    "train (redrawing them every frame would slow the live charts down)."
                )
            render(session)
