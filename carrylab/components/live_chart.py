"""A Plotly chart that stays mounted while Play updates it: one graph div, redrawn with ``Plotly.react``.

Why not ``st.plotly_chart`` while playing: in Streamlit 1.67 its element identity is a hash of the whole figure
(``key_as_main_identity=False`` in streamlit/elements/plotly_chart.py), so every data update replaces the element
and Plotly builds the chart from scratch, twice; while playing that was most of the browser's time per frame.
This is a components-v2 element (``st.components.v2.component``: inline JavaScript in the page, no iframe) whose
identity is its key alone, so the browser keeps the element and its graph div across reruns and the JavaScript
updates the chart in place. Whenever Play is off the views draw ``st.plotly_chart`` instead (``live=False``): the
chart the tests and checks read by key, with Streamlit's full toolbar.

plotly.js: the one already on the page when there is one (Streamlit's chart chunk sets ``window.Plotly``, and the
page has drawn Streamlit charts before Play starts), else the copy inside the installed plotly package
(``plotly/package_data/plotly.min.js``), served by Streamlit's component file route through a path-only v1
component declaration: no CDN (demos run offline), nothing downloaded, nothing copied into the repository. The
figure goes over as the UTF-8 bytes of ``plotly.io.to_json`` (numpy arrays as base64 typed arrays, as
st.plotly_chart sends them) and is drawn exactly as given, like ``theme=None``: its own template and colours, the
figure's height, the container's width. When plotly.js is not there the chart stays ``st.plotly_chart``.
"""

from __future__ import annotations

import json
from pathlib import Path

import plotly
import plotly.io
import streamlit as st
import streamlit.components.v1 as components_v1
from streamlit.runtime import exists as runtime_exists
from streamlit.runtime import get_instance

PLOTLY_JS_DIR = Path(plotly.__file__).resolve().parent / "package_data"
PLOTLY_JS = "plotly.min.js"
SERVED_NAME = f"{__name__}.plotly_js"  # declare_component names a component "<calling module>.<name>"
DEFAULT_HEIGHT = 450  # Plotly's default, as st.plotly_chart uses
_JS = (Path(__file__).with_name("live_chart.js")).read_text(encoding="utf-8")
PRELOAD_KEY = "plotly_preload"
_CSS = f".carrylab-live-chart-graph {{ width: 100%; }} .st-key-{PRELOAD_KEY} {{ display: none; }}"
# The mounting function; the definition is registered on the running Streamlit runtime at each mount.
_mount = st.components.v2.component("carrylab.live_chart", js=_JS, css=_CSS, isolate_styles=False)


def available() -> bool:
    """Whether the plotly package ships plotly.min.js (else st.plotly_chart is used)."""
    return (PLOTLY_JS_DIR / PLOTLY_JS).is_file()


def plotly_js_url() -> str:
    """Server-relative URL of plotly.min.js. Declares the path-only component that serves the folder when the
    running server does not know it yet (declare_component inspects the call stack: ~10 ms, not every frame)."""
    name = SERVED_NAME
    registry = get_instance().component_registry if runtime_exists() else None
    if registry is None or registry.get_component_path(name) is None:
        name = components_v1.declare_component("plotly_js", path=str(PLOTLY_JS_DIR)).name
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    return f"{prefix}/component/{name}/{PLOTLY_JS}"


def figure_height(figure) -> int:
    height = figure.layout.height
    return int(height) if height else DEFAULT_HEIGHT


def payload(figure, key: str, config: dict | None = None) -> bytes:
    """What the browser gets: {"key", "lib", "height", "config", "figure"} as UTF-8 JSON (the figure's JSON is
    spliced in as plotly.io writes it, not parsed and written again)."""
    head = {"key": key, "lib": plotly_js_url(), "height": figure_height(figure), "config": config or {}}
    figure_json = plotly.io.to_json(figure, validate=False)
    return (json.dumps(head)[:-1] + ', "figure": ' + figure_json + "}").encode("utf-8")


def preload() -> None:
    """An invisible element that makes sure plotly.js is on the page before Play starts: a few seconds after it
    mounts, at an idle moment, it loads the packaged copy unless the page already has one (normally Streamlit's,
    from the first render's charts), so the first render never has a second copy competing for the main thread."""
    if available():
        head = {"key": PRELOAD_KEY, "lib": plotly_js_url(), "preload": True}
        _mount(key=PRELOAD_KEY, data=json.dumps(head).encode("utf-8"))


def live_chart(figure, *, key: str, live: bool, config: dict | None = None, container=None) -> None:
    """Draw `figure` full width under `key`: while `live` (playing) as the in-place chart, otherwise (and when
    plotly.js is missing) as st.plotly_chart, Streamlit's own chart with its full toolbar, which the tests and
    checks read by key. Switching happens only when Play starts or stops: one remount each way."""
    where = container if container is not None else st
    if not live or not available():
        where.plotly_chart(figure, key=key, width="stretch", theme=None, config=config)
        return
    if container is None:
        _mount(key=key, data=payload(figure, key, config))
    else:
        with container:
            _mount(key=key, data=payload(figure, key, config))
