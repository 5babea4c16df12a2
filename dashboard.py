"""RNN Carry Lab: watch a numpy Elman RNN learn binary addition (run with `streamlit run dashboard.py`).

Thin glue only: page set-up, the session, the sidebar and control row, and the live area. The live
area is a fragment that reruns on a timer while Play is on (`run_every`, switched off again when
paused), so charts update several times a second without a blocking loop; a click anywhere still
interrupts it. The engine is `rnn_core`, the figures `carrylab.charts`, the sections `carrylab.views`.
Presentation mode (a toggle next to the title) replaces the sidebar and tabs by one page telling the story.
"""

import streamlit as st

from carrylab import page
from carrylab.components import live_chart

# First, before the heavy imports: the page-wide CSS (it stills the placeholders shown while the page loads), then
# the hidden element that makes sure plotly.js is on the page before Play starts (Streamlit's charts bring it; if
# they have not, it loads the plotly package's copy once the first render has settled).
page.apply_style()
live_chart.preload()

from carrylab import views  # noqa: E402
from carrylab.session import FRAME_SECONDS, Session  # noqa: E402
from carrylab.views import controls, files, presentation, race, training  # noqa: E402
from carrylab.views.registry import VIEWS  # noqa: E402

st.set_page_config(
    page_title="RNN Carry Lab",
    page_icon=page.PAGE_ICON,
    layout="wide",
    initial_sidebar_state=controls.initial_sidebar_state(),
)


def live_area(session: Session, presenting: bool) -> None:
    """Metrics, notices and the tabs (or the live part of the presentation); trains one frame first while playing."""
    if session.running and session.play_frame(
        int(session.settings["demo_speed"]), until_solved=bool(session.settings["stop_when_solved"])
    ):
        st.rerun()  # playing stopped (solved or diverged): redraw the Play button, stop the timer
    if session.race_frame():
        st.rerun()  # the race ended: redraw its Play button, stop the timer
    views.render_notices(session)
    training.render_metrics(session)
    if presenting:
        presentation.render_live(session)
        if session.race is not None:
            race.render(session)
    else:
        views.render_tabs(session, VIEWS)
    controls.sync_url(session)


def live_fragment(session: Session, presenting: bool, live: bool) -> None:
    """The live area; when it reruns on its own (a Play frame, a click inside it) that run holds the session too.
    live: whether the fragment was set up with a timer; a click inside it that starts or stops a race changes that,
    which takes a run of the whole page."""
    with session.exclusive():
        if session.live != live:
            st.rerun()
        live_area(session, presenting)


session = controls.session_from_url()
with session.exclusive():  # one run of this tab at a time: a newer run ends this one's training (Session.exclusive)
    presenting = controls.presentation_mode(session)
    if presenting:
        presentation.apply_style()
    else:
        sidebar_end = controls.render_sidebar(session)
    controls.render_header(session, "RNN Carry Lab")
    controls.render_controls(session)
    live = session.live
    st.fragment(live_fragment, run_every=FRAME_SECONDS if live else None)(session, presenting, live)
    if presenting:
        presentation.render_story(session)
    else:
        with sidebar_end:
            files.render(session)
