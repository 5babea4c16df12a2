"""Shared fixtures: the dashboard under Streamlit's AppTest, a real `streamlit run` server, headless Chromium.

The server fixture starts `streamlit run dashboard.py` from the repository root (so .streamlit/config.toml
applies) on a free 127.0.0.1 port, waits for /_stcore/health, and stops exactly that process by its PID.
The browser fixture uses Debian's Chromium through Playwright (never a downloaded browser) and skips
cleanly where either is missing; CI installs both.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard.py"


@pytest.fixture
def dashboard_app():
    """A fresh AppTest of the dashboard (not yet run): each test gets its own browser session."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(DASHBOARD), default_timeout=30)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    url: str
    pid: int
    startup_seconds: float
    log_path: Path


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory):
    """`streamlit run dashboard.py` on a free 127.0.0.1 port for the whole test session."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(DASHBOARD),
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 90
        while not _healthy(url):
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit was not healthy after 90 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield StreamlitServer(url, proc.pid, time.perf_counter() - start, log_path)
    finally:
        _stop(proc)


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
