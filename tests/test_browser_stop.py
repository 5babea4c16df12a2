"""Stop, Pause and a closed tab end the server's work, in a real browser (marker `browser`).

Streamlit's fast reruns start the run of a Stop or Pause click while the previous run is still training; only a
browser shows what happens then. Before the fix, the step after Stop jumped by hundreds (two runs trained one
model), a Play frame at the largest size took 22 minutes, and sweep workers outlived their tab.
"""

from __future__ import annotations

import time

import pytest
from browser_support import IDLE, STEP_METRIC
from process_support import children, cpu_rate

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
NO_STOP_BUTTON = "() => ![...document.querySelectorAll('.st-key-stop_training button')].some(b => b.offsetParent)"
PLAY_LABEL_IS = """(label) => [...document.querySelectorAll('.st-key-play button')]
  .some(b => b.offsetParent !== null && b.innerText.trim().endsWith(label))"""


@pytest.fixture
def context(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def open_app(context, url: str):
    page = context.new_page()
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_function(f"() => ({STEP_METRIC})() === '0'", timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    return page


def step_of(page) -> int:
    return int(page.evaluate(STEP_METRIC).replace(",", ""))


def wait_idle(page, also: str = "() => true") -> None:
    page.wait_for_function(f"() => document.querySelector('{IDLE}') !== null && ({also})()", timeout=TIMEOUT_MS)


def test_stop_ends_a_long_train_and_the_next_step_adds_one(context, streamlit_server):
    page = open_app(context, f"{streamlit_server.url}/?steps_per_click=100000")
    page.locator(".st-key-train button").first.click()
    page.locator(".st-key-stop_training button").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".st-key-stop_training button").first.click()
    wait_idle(page, NO_STOP_BUTTON)
    stopped_at = step_of(page)
    page.wait_for_timeout(2000)
    assert step_of(page) == stopped_at
    page.locator(".st-key-step button").first.click()
    page.wait_for_function(f"() => ({STEP_METRIC})() !== '{stopped_at:,}'", timeout=TIMEOUT_MS)
    wait_idle(page)
    assert 0 < stopped_at < 100_000
    assert step_of(page) == stopped_at + 1  # the model the page showed, one step on: no other run trained it


def test_pause_lands_at_the_largest_size(context, streamlit_server):
    page = open_app(context, f"{streamlit_server.url}/?n_hidden=256&batch_size=2048&demo_speed=5000")
    page.locator(".st-key-play button").first.click()
    page.wait_for_function(PLAY_LABEL_IS, arg="Pause", timeout=TIMEOUT_MS)
    page.wait_for_function(f"() => ({STEP_METRIC})() !== '0'", timeout=TIMEOUT_MS)  # a frame of 5,000 steps: 22 min
    page.locator(".st-key-play button").first.click()
    page.wait_for_function(PLAY_LABEL_IS, arg="Play", timeout=TIMEOUT_MS)
    wait_idle(page)
    paused_at = step_of(page)
    page.wait_for_timeout(2000)
    assert step_of(page) == paused_at < 5000


def test_closing_the_tab_ends_a_running_sweep(context, streamlit_server):
    """Seeds of a learning rate too small to ever solve, at the largest budget: minutes each unless stopped."""
    page = open_app(context, f"{streamlit_server.url}/?n_hidden=128&batch_size=8&eta=0.000001")
    page.get_by_role("tab", name="Seeds").click()
    page.locator(".st-key-seed_sweep_run button").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    budget = page.locator(".st-key-seed_sweep_budget input[type=range]").first
    budget.focus()
    page.keyboard.press("End")
    page.wait_for_function(
        "() => document.querySelector('.st-key-seed_sweep_budget input[type=range]').getAttribute('aria-valuetext')"
        " === '20000'",
        timeout=TIMEOUT_MS,
    )
    wait_idle(page)
    page.locator(".st-key-seed_sweep_run button").first.click()
    busy, deadline = 0.0, time.monotonic() + 60
    while busy <= 0.2 and time.monotonic() < deadline:  # the server's Dask workers pick the seeds up
        busy = cpu_rate(children(streamlit_server.proc.pid), 1.0)
    assert busy > 0.2, "the Seeds sweep's workers were not training"
    page.context.close()  # the tab goes away mid-sweep
    time.sleep(3.0)  # the running jobs check twice a second whether to stop
    assert cpu_rate(children(streamlit_server.proc.pid)) < 0.25 * busy, "the workers went on after the tab closed"
