"""Runs compared, in a real browser (marker `browser`): a live race and three runs overlaid.

The race test plays a three-lane race for a few seconds and checks that the race chart is redrawn in place, that
every lane's curve grows, and that the page logs no errors; it saves docs/views/race.png. The overlay test pins two
runs, trains a third and saves docs/views/runs.png with the three curves and the runs table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import IDLE, PLOTS_DRAWN
from test_browser import STEP_IS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
VIEWS = ROOT / "docs" / "views"
TIMEOUT_MS = 60_000
# The race chart's graph while it is live (components.live_chart), its redraw count and its error traces' point
# counts (Plotly keeps a typed array sent as base64 decoded in `_inputArray`).
RACE_GRAPH = "document.querySelector('.st-key-race_chart .carrylab-live-chart-graph')"
RACE_NOW = (
    "() => { const g = " + RACE_GRAPH + "; if (!g || !g.data) return null; "
    "return {revision: Number(g.dataset.revision), graph: g === window.__race, "
    "points: g.data.filter(t => t.yaxis !== 'y2').map(t => [t.name, (t.x._inputArray || t.x).length])}; }"
)


def idle(page, charts: bool = True) -> None:
    """The script has finished (and, with charts, at least two Plotly charts are drawn)."""
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    if charts:
        page.wait_for_function(PLOTS_DRAWN, timeout=TIMEOUT_MS)


def screenshot(page, path: Path, height: int) -> None:
    """Streamlit scrolls inside stMain: a viewport `height` tall shows that much of the page."""
    page.mouse.move(0, 0)
    page.set_viewport_size({"width": 1280, "height": height})
    page.wait_for_timeout(500)  # Plotly relayouts to the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def test_a_three_lane_race_plays_live_and_every_curve_grows(page, streamlit_server):
    page.goto(streamlit_server.url + "/?n_hidden=8&demo_speed=50", timeout=TIMEOUT_MS)
    idle(page)
    page.get_by_role("tab", name="Race").click()
    idle(page, charts=False)
    page.locator(".st-key-race_start button").first.click()
    page.wait_for_function(
        "() => { const g = " + RACE_GRAPH + "; return g && g.data && g.dataset.revision; }", timeout=TIMEOUT_MS
    )
    page.evaluate("() => { window.__race = " + RACE_GRAPH + "; }")
    start = page.evaluate(RACE_NOW)
    page.wait_for_timeout(3000)
    now = page.evaluate(RACE_NOW)
    assert now is not None and now["graph"], now  # redrawn in place, never remounted while the race plays
    assert now["revision"] >= start["revision"] + 3, (start, now)
    grown = {name: n for name, n in now["points"]}
    assert len(grown) == 3
    for name, n in start["points"]:
        assert grown[name] > n, (name, n, grown[name])
    page.wait_for_function(  # the picture for the docs: a lane has solved it
        "() => document.querySelector('[data-testid=\"stMain\"]').innerText.includes('solved first')",
        timeout=TIMEOUT_MS,
    )
    screenshot(page, VIEWS / "race.png", 1250)
    page.locator(".st-key-race_play button").first.click()  # pause (or nothing, when the race has ended)
    idle(page, charts=False)
    assert page.console_errors == []


def test_three_runs_overlaid_with_the_runs_table(page, streamlit_server):
    page.goto(streamlit_server.url + "/?steps_per_click=2000&n_hidden=32", timeout=TIMEOUT_MS)
    idle(page)
    for hidden in ("8", "2"):
        page.get_by_role("button", name="Train 2,000 steps").click()
        page.wait_for_function(STEP_IS, arg="2,000", timeout=TIMEOUT_MS)
        idle(page)
        page.locator(".st-key-pin_run button").first.click()
        page.wait_for_selector('[data-testid="stAlertContentSuccess"]', timeout=TIMEOUT_MS)
        idle(page)
        box = page.locator(".st-key-n_hidden input")
        box.fill(hidden)
        box.press("Enter")
        page.wait_for_function(STEP_IS, arg="0", timeout=TIMEOUT_MS)
        idle(page)
    page.get_by_role("button", name="Train 2,000 steps").click()
    page.wait_for_function(STEP_IS, arg="2,000", timeout=TIMEOUT_MS)
    idle(page)
    legend = page.evaluate(
        "() => [...document.querySelectorAll('.st-key-error_chart .legendtext')].map(e => e.textContent)"
    )
    assert legend == ["hidden 32", "hidden 8", "hidden 2"], legend  # one entry per run, named by what differs
    screenshot(page, VIEWS / "runs_overlay.png", 1000)
    page.get_by_role("tab", name="Runs").click()
    idle(page)
    page.wait_for_selector(".st-key-runs_table", timeout=TIMEOUT_MS)
    screenshot(page, VIEWS / "runs.png", 1700)
    assert page.console_errors == []
