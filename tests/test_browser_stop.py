"""Stop, Pause and a closed tab end the server's work, in a real browser (marker `browser`).

Streamlit's fast reruns start the run of a Stop or Pause click while the previous run is still training; only a
browser shows what happens then. Before the fix, the step after Stop jumped by hundreds (two runs trained one
model), a Play frame at the largest size took 22 minutes, and sweep workers outlived their tab.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browser_support import IDLE, STEP_METRIC

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


def proc_stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def sweep_workers(server_pid: int) -> set[int]:
    """Processes two levels below the server: the sweep's workers, children of multiprocessing's fork server."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))):
            parent[int(entry.name)] = int(stat[1])
    return {pid for pid, ppid in parent.items() if parent.get(ppid) == server_pid}


def running(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker processes in Linux /proc")
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
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline:
        workers |= sweep_workers(streamlit_server.proc.pid)
        time.sleep(0.2)
    assert len(workers) >= 2
    page.context.close()
    deadline = time.monotonic() + 10
    while any(running(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p for p in workers if running(p)] == []
