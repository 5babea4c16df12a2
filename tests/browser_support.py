"""What every real-browser check here shares: Debian's Chromium and its flags, the page selectors, and the
`streamlit run` server they open.

Imported by tests/conftest.py, tests/test_browser.py, tests/test_load.py and the browser benchmarks (which put
tests/ on sys.path). Never a browser download: CI installs Debian's chromium.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# As root on a closed network: no sandbox, no GPU, and no background connections (refused here, many at a time).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The app is idle when its script has finished and the websocket is connected.
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
# The value of the "Step" st.metric as shown.
STEP_METRIC = """() => {
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    if (label && label.innerText.trim() === 'Step')
      return m.querySelector('[data-testid="stMetricValue"]').innerText.trim();
  }
  return null;
}"""
# Every visible Plotly chart (st.plotly_chart, or a carrylab.components.live_chart) has drawn; at least two.
CHARTS = '[data-testid="stPlotlyChart"], .carrylab-live-chart-graph'
PLOTS_DRAWN = (
    "() => { const charts = [...document.querySelectorAll('"
    + CHARTS
    + """')].filter(c => c.offsetParent !== null);
  return charts.length >= 2 && charts.every(c => c.querySelector('.main-svg')); }"""
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    """`streamlit run dashboard.py` from `app_dir` (so its .streamlit/config.toml applies) on a free 127.0.0.1 port;
    ``stop()`` ends exactly this process, by its PID. Used by the test fixture and the browser benchmarks."""

    def __init__(self, app_dir: Path, log_path: Path | None = None, extra_args: tuple[str, ...] = ()):
        self.app_dir = Path(app_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path) if log_path else None
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen | None = None
        self.startup_seconds = float("nan")

    def start(self, timeout: float = 90.0) -> float:
        """Start the server and wait for /_stcore/health; returns the seconds that took."""
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(self.app_dir / "dashboard.py"),
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            *self.extra_args,
        ]  # fmt: skip
        env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
        log = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        t0 = time.perf_counter()
        try:
            self.proc = subprocess.Popen(cmd, cwd=self.app_dir, stdout=log, stderr=subprocess.STDOUT, env=env)
        finally:
            if log is not subprocess.DEVNULL:
                log.close()  # the child holds its own descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.proc.returncode}{self._log_tail()}")
            if self.healthy():
                self.startup_seconds = time.perf_counter() - t0
                return self.startup_seconds
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"streamlit not healthy on {self.url} after {timeout} s{self._log_tail()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                return response.status == 200 and response.read().strip() == b"ok"
        except OSError:
            return False

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the server process has used so far (Linux /proc; NaN when unreadable)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, AttributeError):
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def _log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return ":\n" + self.log_path.read_text()[-3000:]
        return ""
