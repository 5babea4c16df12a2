"""The page's own look, set before anything else: the browser tab's icon and page-wide CSS.

Why these two live here, apart from the views: both are on the path of the first render, so this module imports
nothing heavy and the dashboard applies it as the script's very first element.

- The icon is a file, not an emoji: Streamlit checks an emoji page icon against its emoji table, whose first use
  compiles a regular expression of every emoji (40-150 ms of the server's first run); an SVG file is sent inline.
- Streamlit shows a grey placeholder (a skeleton) for every element whose code has not loaded yet, and animates
  each one. On the first load that is ~30 shimmering placeholders for 2-3 s (the page's widgets wait for the chart
  code, plotly.js, to load), and on a machine without a GPU every animation frame is painted and composited in
  software: 1.2 core-seconds of the browser's CPU in a first render that is CPU-bound (benchmarks/README.md). The
  placeholders stay, still.
- Streamlit cuts a metric's value that does not fit its column with an ellipsis ("99.9…", "step …"). On a laptop
  screen with the sidebar open the four headline metrics are ~120 px wide: their numbers shrink with the window
  and wrap rather than lose their end.
- The view tabs wrap onto a second (third) row instead of scrolling sideways behind a small arrow: with the sidebar
  open at 1024 px only 5 of 9 tabs showed, and a view the audience cannot see is a view nobody finds. Wrapping
  scales with the number of views.
- Charts side by side in columns wrap below each other when a chart's column would be narrower than 380 px (a
  laptop with the sidebar open; Streamlit's rows already wrap, its columns just have no minimum width): at ~260 px
  their titles, legends and diagrams no longer fit.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGE_ICON = Path(__file__).resolve().parent / "assets" / "icon.svg"
STYLE = """<style>
[data-testid="stSkeleton"], [data-testid="stSkeleton"] * { animation: none !important; }
[data-testid="stMetricValue"] { font-size: clamp(1.4rem, 2.7vw, 2.25rem); }
[data-testid="stColumn"]:has(.js-plotly-plot, [data-testid="stPlotlyChart"]) { min-width: min(100%, 380px); }
[data-testid="stTabs"] [role="tablist"] { flex-wrap: wrap; overflow: visible; row-gap: 0.1rem; }
[data-testid="stTabsScrollLeft"], [data-testid="stTabsScrollRight"] { display: none !important; }
[data-testid="stMetricValue"] .stMarkdownEllipsis, [data-testid="stMetricValue"] .stMarkdownEllipsis p,
[data-testid="stMetricDelta"] .stMarkdownEllipsis, [data-testid="stMetricDelta"] .stMarkdownEllipsis p {
  white-space: normal; overflow-wrap: anywhere; text-overflow: clip;
}
</style>"""


def apply_style() -> None:
    """The page-wide CSS (a style-only st.html goes to the event container: it takes no space)."""
    st.html(STYLE)
