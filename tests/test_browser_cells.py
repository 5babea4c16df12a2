"""Real-browser checks of the page with a gated cell: the network picture's animation plays and draws without
console errors, and it fits a 1280x720 screen in presentation mode. Writes docs/views/network.png and
docs/views/gates.png (an LSTM's gates beside the carry), the pictures the README shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import BOX, SCROLL_TO, STEP_IS, TIMEOUT_MS, wait_idle

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
VIEWS_DIR = ROOT / "docs" / "views"
# The network picture's frame title ("bit 3: a = 1, ...") and the fill colours of its unit circles after bit t.
NETWORK_STATE = """() => {
  const root = document.querySelector('.st-key-network_chart');
  const title = root.querySelector('.gtitle');
  const traces = [...root.querySelectorAll('.scatterlayer .trace')];
  const fills = traces.map(t => [...t.querySelectorAll('.point')].map(p => p.style.fill).join(','));
  return {title: title ? title.textContent : '', fills: fills.join('|')};
}"""


NO_HEADER = '[data-testid="stHeader"] { display: none; }'
WIDE_BOX = """(key) => { const b = document.querySelector('.st-key-' + key).getBoundingClientRect();
  return {x: b.x, y: b.y, width: b.width, bottom: b.bottom}; }"""


def open_lstm(chromium, url: str, width: int, height: int, query: str = ""):
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.goto(f"{url}/?preset=lstm&stop_when_solved=false{query}", timeout=TIMEOUT_MS)
    page.wait_for_function(STEP_IS, arg="0", timeout=TIMEOUT_MS)
    wait_idle(page)
    page.locator(".st-key-train button").first.click()
    page.wait_for_function(STEP_IS, arg="1,000", timeout=TIMEOUT_MS)
    wait_idle(page)
    return context, page


def test_the_network_picture_plays_its_animation_without_console_errors(chromium, streamlit_server):
    context, page = open_lstm(chromium, streamlit_server.url, 1280, 900)
    try:
        page.get_by_role("tab", name="Network").click()
        page.wait_for_selector(".st-key-network_chart .main-svg", timeout=TIMEOUT_MS)
        page.wait_for_timeout(300)
        first = page.evaluate(NETWORK_STATE)
        assert first["title"].startswith("bit 0:"), first["title"]
        page.locator(".st-key-network_chart .updatemenu-button").first.click()  # ▶ Play
        page.wait_for_function(
            "() => document.querySelector('.st-key-network_chart .gtitle').textContent.startsWith('bit 3:')",
            timeout=TIMEOUT_MS,
        )
        later = page.evaluate(NETWORK_STATE)
        assert later["fills"] != first["fills"]  # the nodes were recoloured for the later bit
        page.wait_for_function(
            "() => document.querySelector('.st-key-network_chart .gtitle').textContent.startsWith('bit 7:')",
            timeout=TIMEOUT_MS,
        )
        assert page.locator('[data-testid="stException"]').count() == 0
        page.locator(".st-key-network_chart .slider-rail-touch-rect").first.click(
            position={"x": 2, "y": 10}
        )  # back to bit 0
        page.wait_for_timeout(500)
        page.mouse.move(0, 0)
        page.add_style_tag(content=NO_HEADER)  # Streamlit's header bar would cover the chart's title
        VIEWS_DIR.mkdir(parents=True, exist_ok=True)
        page.locator(".st-key-network_chart").first.screenshot(path=str(VIEWS_DIR / "network.png"))
        assert page.console_errors == []
    finally:
        context.close()


def test_an_lstms_gates_sit_under_the_same_bit_tracks_as_its_state(chromium, streamlit_server):
    context, page = open_lstm(chromium, streamlit_server.url, 1280, 900, "&n_hidden=8")
    try:
        state, gates = page.evaluate(BOX, "hidden_heatmap"), page.evaluate(BOX, "gate_heatmap")
        assert gates["y"] > state["bottom"] - 5  # the gate heatmap right below the state heatmap
        page.set_viewport_size({"width": 1280, "height": int(gates["bottom"] - state["y"]) + 80})
        page.wait_for_timeout(500)
        page.evaluate(SCROLL_TO, "hidden_heatmap")
        page.wait_for_timeout(300)
        page.mouse.move(0, 0)
        page.add_style_tag(content=NO_HEADER)
        top, bottom = page.evaluate(WIDE_BOX, "hidden_heatmap"), page.evaluate(WIDE_BOX, "gate_heatmap")
        clip = {"x": top["x"], "y": top["y"], "width": top["width"], "height": bottom["bottom"] - top["y"]}
        page.screenshot(path=str(VIEWS_DIR / "gates.png"), clip=clip)
        assert page.console_errors == []
    finally:
        context.close()


def test_the_network_picture_fits_one_1280x720_screen_in_presentation_mode(chromium, streamlit_server):
    context, page = open_lstm(chromium, streamlit_server.url, 1280, 720, "&presentation=1")
    try:
        section = page.evaluate(BOX, "story_network")
        assert section["height"] <= 720, section
        page.evaluate(SCROLL_TO, "story_network")
        page.wait_for_selector(".st-key-story_network .main-svg", timeout=TIMEOUT_MS)
        chart = page.evaluate(BOX, "network_chart")
        assert 0 <= chart["y"] and chart["bottom"] <= 720, chart
        labels = page.evaluate(
            "() => [...document.querySelectorAll('.st-key-network_chart .textpoint text')].map("
            "t => parseFloat(getComputedStyle(t).fontSize))"
        )
        assert labels and min(labels) >= 16  # unit labels readable from the back of a room
        assert page.console_errors == []
    finally:
        context.close()
