"""A sweep started from the page ends with its tab: Cancel, or closing the tab, leaves the server's Dask workers
idle within seconds, and no worker process outlives the server. A real `streamlit run` server and Chromium."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest
from browser_support import IDLE, StreamlitServer
from process_support import children, cpu_rate

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser


def start_sweep(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.get_by_role("tab", name="Sweep").click()
    page.wait_for_selector(IDLE, timeout=60_000)
    page.get_by_role("button", name="Run sweep").click()
    page.get_by_text("runs done").first.wait_for(timeout=60_000)


def test_cancel_and_closing_the_tab_stop_the_workers_and_none_outlives_the_server(chromium, tmp_path):
    server = StreamlitServer(ROOT, log_path=tmp_path / "server.log")
    server.start(timeout=90)
    try:
        page = chromium.new_page()
        start_sweep(page, server.url)  # 100 runs of up to 2,000 steps: a minute of work on two cores
        workers = children(server.proc.pid)
        assert len(workers) >= 1
        busy = cpu_rate(workers)
        assert busy > 0.1, "the sweep's workers were not busy"
        page.get_by_role("button", name="Cancel").click()
        time.sleep(2.0)
        assert cpu_rate(workers) < 0.25 * busy, "the workers went on after Cancel"
        assert page.get_by_text("cancelled before the end").count() >= 1

        start_sweep(page, server.url)
        busy = cpu_rate(workers)
        assert busy > 0.1
        page.close()  # the tab goes away mid-sweep
        time.sleep(3.0)
        assert cpu_rate(workers) < 0.25 * busy, "the workers went on after the tab closed"
        pids = [p.pid for p in children(server.proc.pid)]
    finally:
        server.stop()
    deadline = time.monotonic() + 10
    while any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids):
        assert time.monotonic() < deadline, "a worker process outlived the server"
        time.sleep(0.2)


def test_clicking_a_phase_diagram_cell_picks_that_grid_point_and_load_sets_it(chromium, streamlit_server):
    import re

    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(streamlit_server.url)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("tab", name="Sweep").click()
        page.wait_for_selector(IDLE, timeout=60_000)
        for name, values in (("Values of n_hidden", "8,16"), ("Values of eta", "0.1,0.3")):
            page.get_by_role("textbox", name=name).fill(values)
            page.keyboard.press("Enter")
            page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("button", name="Run sweep").click()
        page.get_by_text("runs from this page").wait_for(timeout=120_000)
        page.wait_for_selector(IDLE, timeout=60_000)
        chart = page.locator("[data-testid='stPlotlyChart']").first
        chart.scroll_into_view_if_needed()
        chart.locator(".main-svg").first.wait_for()
        box = chart.locator(".nsewdrag").first.bounding_box()
        picked = lambda: re.findall(r"n_hidden = \d+, eta = [\d.]+", page.locator(".st-key-sweep_point").inner_html())  # noqa: E731
        assert picked() == ["n_hidden = 8, eta = 0.1"]  # the list's first point before any click
        page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)  # top right: 16, 0.3
        page.wait_for_function(
            "document.querySelector('.st-key-sweep_point').innerHTML.includes('n_hidden = 16, eta = 0.3')",
            timeout=30_000,
        )
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("button", name="Load into the current run").click()
        expect = pytest.importorskip("playwright.sync_api").expect
        expect(page.get_by_role("spinbutton", name="Hidden units")).to_have_value("16", timeout=30_000)
        expect(page.get_by_role("spinbutton", name="Learning rate")).to_have_value("0.3", timeout=30_000)
    finally:
        page.close()
