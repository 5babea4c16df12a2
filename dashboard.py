"""RNN Carry Lab: watch a numpy Elman RNN learn binary addition (run with `streamlit run dashboard.py`).

Thin glue only: page set-up, the session, the sidebar and control row, and the live area. The live
area is a fragment that reruns on a timer while Play is on (`run_every`, switched off again when
paused), so charts update several times a second without a blocking loop; a click anywhere still
interrupts it. The engine is `rnn_core`, the figures `carrylab.charts`, the sections `carrylab.views`.
"""

import streamlit as st

from carrylab import views
from carrylab.session import FRAME_SECONDS, Session, limit_blas_threads
from carrylab.views import carry_tabs, controls, probe, training

st.set_page_config(page_title="RNN Carry Lab", page_icon="➕", layout="wide")
limit_blas_threads()

# Tabs of the live area, first one open by default. A new view: one module in carrylab/views, one line here.
VIEWS: list[views.View] = [
    ("Training", (training.render, probe.render)),
    *carry_tabs.VIEWS,
]


def live_area(session: Session) -> None:
    """Metrics, notices and the tabs; trains one frame first while playing."""
    if session.running and session.play_frame(
        int(session.settings["demo_speed"]), until_solved=bool(session.settings["stop_when_solved"])
    ):
        st.rerun()  # playing stopped (solved or diverged): redraw the Play button, stop the timer
    views.render_notices(session)
    training.render_metrics(session)
    views.render_tabs(session, VIEWS)
    controls.sync_url(session)


session = controls.session_from_url()
st.title("RNN Carry Lab")
controls.render_sidebar(session)
st.caption(controls.operator_caption(session))
controls.render_controls(session)
st.fragment(live_area, run_every=FRAME_SECONDS if session.running else None)(session)
