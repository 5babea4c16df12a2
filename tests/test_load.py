"""Eight people on one server at once: every browser session keeps its own model (marker `browser`).

One `streamlit run` server (the session fixture in conftest.py, on 127.0.0.1, stopped by its PID) and eight
Playwright contexts of one headless Debian Chromium: each context is a separate Streamlit session. Session i
clicks "Step" i + 1 times, so the sessions train 1, 2, ..., 8 steps. The clicks go out in rounds: in round r every
session that still has clicks to make clicks once, and only then does the test wait for them, so up to eight
reruns run on the server at the same time. Each click is awaited (bounded) before that session clicks again.

At the end every session must show exactly its own step count in the "Step" metric and its own curve: the raw
error trace of its chart (read from the Plotly graph div in the page) has one point per step. Had two sessions
shared a trainer, or a click been lost or applied twice, the counts would differ. Nothing here is timed.
"""

from __future__ import annotations

import pytest
from browser_support import IDLE, STEP_METRIC

pytestmark = pytest.mark.browser

N_SESSIONS = 8
TIMEOUT_MS = 120_000  # per wait; generous for a busy 2-core machine, and every wait is bounded
# The error chart's raw trace as drawn: Plotly keeps the figure's data on its graph div (numpy arrays arrive as
# base64 typed-array specs, decoded by plotly.js into `_inputArray`).
RAW_POINTS = """() => {
  const gd = document.querySelector('.st-key-error_chart .js-plotly-plot');
  if (!gd || !gd.data) return null;
  const trace = gd.data.find(t => (t.name || '').startsWith('error (raw)'));
  if (!trace || !trace.y) return null;
  const y = trace.y._inputArray !== undefined ? trace.y._inputArray : trace.y;
  return y.length;
}"""
SETTLED = f"""(n) => {{
  const idle = document.querySelector('{IDLE.replace("'", '"')}') !== null;
  return idle && ({STEP_METRIC})() === String(n) && ({RAW_POINTS})() === n;
}}"""


def open_session(chromium, url: str):
    """A new browser context (its own cookies, websocket and Streamlit session) on the dashboard."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url, timeout=TIMEOUT_MS)
    return context, page


def wait_settled(page, steps: int) -> None:
    """Wait (bounded) until the page is idle and shows `steps` in the Step metric and in its curve."""
    try:
        page.wait_for_function(SETTLED, arg=steps, timeout=TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - report what the page shows instead of a bare timeout
        pass


def test_eight_concurrent_sessions_each_keep_their_own_model(chromium, streamlit_server):
    sessions = [open_session(chromium, streamlit_server.url) for _ in range(N_SESSIONS)]
    try:
        pages = [page for _, page in sessions]
        for page in pages:  # every session has drawn its first run: step 0, an empty curve
            page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
            page.wait_for_function(f"() => ({STEP_METRIC})() === '0'", timeout=TIMEOUT_MS)
            page.wait_for_selector(".st-key-step button", timeout=TIMEOUT_MS)
        wanted = [i + 1 for i in range(N_SESSIONS)]
        for round_ in range(max(wanted)):
            active = [i for i in range(N_SESSIONS) if wanted[i] > round_]
            for i in active:  # all clicks first: up to eight reruns at once on the server
                pages[i].locator(".st-key-step button").first.click(timeout=TIMEOUT_MS)
            for i in active:
                wait_settled(pages[i], round_ + 1)
        shown = [(page.evaluate(STEP_METRIC), page.evaluate(RAW_POINTS)) for page in pages]
        assert shown == [(str(n), n) for n in wanted]
        for page in pages:
            assert page.locator('[data-testid="stException"]').count() == 0
            assert "Traceback" not in page.locator('[data-testid="stApp"]').inner_text()
            assert page.errors == []
    finally:
        for context, _ in sessions:
            context.close()
    assert "Traceback" not in streamlit_server.log_path.read_text()
