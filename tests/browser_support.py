"""What every real-browser check here shares: Debian's Chromium and its flags, and the page selectors.

Imported by tests/conftest.py, tests/test_browser.py, tests/test_load.py and the browser benchmarks (which put
tests/ on sys.path). Never a browser download: CI installs Debian's chromium.
"""

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
