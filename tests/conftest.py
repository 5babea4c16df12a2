"""Shared fixtures: the dashboard under Streamlit's AppTest, a real `streamlit run` server, headless Chromium.

The server fixture starts `streamlit run dashboard.py` from the repository root (so .streamlit/config.toml
applies) on a free 127.0.0.1 port, waits for /_stcore/health, and stops exactly that process by its PID.
The browser fixture uses Debian's Chromium through Playwright (never a downloaded browser) and skips
cleanly where either is missing; CI installs both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, StreamlitServer

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard.py"


@pytest.fixture
def dashboard_app():
    """A fresh AppTest of the dashboard (not yet run): each test gets its own browser session."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(DASHBOARD), default_timeout=30)


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory):
    """`streamlit run dashboard.py` on a free 127.0.0.1 port for the whole test session."""
    server = StreamlitServer(ROOT, log_path=tmp_path_factory.mktemp("streamlit") / "server.log")
    try:
        server.start(timeout=90)
    except (RuntimeError, TimeoutError) as error:
        pytest.fail(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium driven by Playwright; skipped when either is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (CI installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, streamlit_server):
    """A fresh browser page (its own Streamlit session) that records console and page errors."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()
