"""The live charts (carrylab.components.live_chart) under AppTest: what the browser component is sent.

The point of the component is that the browser keeps one graph div per chart and redraws it in place, so its
element identity must not change when the figure does (st.plotly_chart's does, in Streamlit 1.67), and what it
carries must be the figure the chart builders made: the hidden states the model computes, the figure's height
and the Plotly config. The browser half (the div stays, Plotly.react redraws it) is in test_browser.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from carrylab.components import live_chart
from carrylab.session import PLAYING_REFRESH_FRAMES, STATE_KEY
from carrylab.views.common import PLOTLY_CONFIG
from carrylab.views.training import ERROR_HEIGHT
from tests.plotly_spec import PRELOAD_KEY, decode_typed_arrays, live_charts, plotly_spec
from tests.test_dashboard import expected_hidden, run

ROOT = Path(__file__).resolve().parents[1]
SERVED_PREFIX = "/component/carrylab.components.live_chart.plotly_js/"


def payloads(at) -> dict[str, dict]:
    """Live chart key -> the JSON payload its element carries."""
    return {el.key: json.loads(el.proto.bytes.decode("utf-8")) for el in live_charts(at)}


def element_ids(at) -> dict[str, str]:
    return {el.key: el.proto.id for el in live_charts(at)}


def heatmap_z(payload: dict) -> np.ndarray:
    traces = [t for t in decode_typed_arrays(payload["figure"])["data"] if t["type"] == "heatmap"]
    return np.asarray(traces[-1]["z"], dtype=np.float64)


def playing(at, frames: int = 1):
    """Run `frames` Play frames (AppTest never fires the run_every timer: set the flag and rerun)."""
    at.session_state[STATE_KEY].running = True
    for _ in range(frames):
        at = run(at)
    return at


def test_while_not_playing_the_charts_are_streamlit_charts_under_their_keys(dashboard_app):
    """The keys the issue names (error_chart, hidden_heatmap) are st.plotly_chart elements whenever Play is off."""
    at = run(run(dashboard_app).button(key="train").click())
    assert {"error_chart", "hidden_heatmap"} <= {el.key for el in at.get("plotly_chart")}
    assert live_charts(at) == []
    at = playing(at)
    assert live_charts(at) and not {"error_chart", "hidden_heatmap"} & {el.key for el in at.get("plotly_chart")}
    at.session_state[STATE_KEY].running = False  # Pause: back to Streamlit's charts
    at = run(at)
    assert {"error_chart", "hidden_heatmap"} <= {el.key for el in at.get("plotly_chart")} and live_charts(at) == []


def test_play_frames_change_the_figures_but_not_the_elements(dashboard_app):
    dashboard_app.query_params.update({"demo_speed": "50", "operand_a": "13", "operand_b": "33"})
    at = playing(run(dashboard_app))
    ids, before = element_ids(at), payloads(at)
    assert set(ids) == {"error_chart", "hidden_heatmap"}
    at = playing(at, PLAYING_REFRESH_FRAMES)
    assert element_ids(at) == ids  # same identity: the browser keeps the element and its graph div
    after = payloads(at)
    assert after["error_chart"]["figure"] != before["error_chart"]["figure"]
    assert not np.allclose(heatmap_z(after["hidden_heatmap"]), heatmap_z(before["hidden_heatmap"]))


def test_the_heatmap_carries_the_hidden_states_of_model_forward(dashboard_app):
    dashboard_app.query_params.update({"steps_per_click": "100", "operand_a": "13", "operand_b": "33"})
    at = run(run(dashboard_app).button(key="train").click())
    session = at.session_state[STATE_KEY]
    static = plotly_spec(at, "hidden_heatmap")  # Streamlit's chart while not playing
    z = [t for t in static["data"] if t["type"] == "heatmap"][-1]["z"]
    np.testing.assert_allclose(np.asarray(z, dtype=np.float64), expected_hidden(session, 13, 33))

    at = playing(at, PLAYING_REFRESH_FRAMES)  # Play frames: each trains demo_speed steps; the probe is redone
    assert session.trainer.step > 100
    np.testing.assert_allclose(heatmap_z(payloads(at)["hidden_heatmap"]), expected_hidden(session, 13, 33))


def test_the_payload_holds_plotly_js_from_the_plotly_package_the_height_and_the_config(dashboard_app):
    at = playing(run(dashboard_app))
    error = payloads(at)["error_chart"]
    assert error["lib"].endswith(SERVED_PREFIX + "plotly.min.js")
    assert (live_chart.PLOTLY_JS_DIR / "plotly.min.js").is_file()
    assert Path(live_chart.PLOTLY_JS_DIR).parent.name == "plotly"
    assert error["height"] == ERROR_HEIGHT == error["figure"]["layout"]["height"]
    assert error["config"] == PLOTLY_CONFIG
    # theme=None: the figure goes as built, with its own template
    assert error["figure"]["layout"]["template"]["layout"]["paper_bgcolor"] == "white"


def test_the_page_has_a_hidden_plotly_js_preloader_first(dashboard_app):
    at = run(dashboard_app)
    first = at.get("bidi_component")[0]
    assert first.key == PRELOAD_KEY
    body = json.loads(first.proto.bytes.decode("utf-8"))
    assert body["preload"] is True and body["lib"].endswith(SERVED_PREFIX + "plotly.min.js")
    assert f".st-key-{PRELOAD_KEY}" in first.proto.css_content and "display: none" in first.proto.css_content


def test_without_plotly_js_the_charts_stay_streamlit_charts_while_playing(dashboard_app, monkeypatch):
    monkeypatch.setattr(live_chart, "available", lambda: False)
    at = playing(run(dashboard_app))
    assert live_charts(at) == [] and PRELOAD_KEY not in {el.key for el in at.get("bidi_component")}
    charts = {el.key: el for el in at.get("plotly_chart")}
    assert {"error_chart", "hidden_heatmap"} <= set(charts)
    assert charts["error_chart"].proto.theme == ""  # theme=None


def test_the_payload_is_the_figure_json_as_plotly_writes_it():
    figure = go.Figure(go.Scatter(x=np.arange(3), y=np.array([0.5, 0.25, 1.0])), layout={"height": 321})
    body = json.loads(live_chart.payload(figure, "k", {"displaylogo": False}).decode("utf-8"))
    assert body["key"] == "k" and body["height"] == 321 and body["config"] == {"displaylogo": False}
    trace = decode_typed_arrays(body["figure"])["data"][0]
    np.testing.assert_array_equal(trace["y"], [0.5, 0.25, 1.0])
    assert live_chart.figure_height(go.Figure()) == live_chart.DEFAULT_HEIGHT


def test_the_page_modules_leave_pandas_for_later():
    """The dashboard's imports (everything before its first elements) do not load pandas (~0.5 s): it loads when
    a table or a download first needs it."""
    code = (
        "import sys, streamlit\n"
        "import carrylab.views.training, carrylab.views.probe, carrylab.views.controls, carrylab.views.files\n"
        "import carrylab.views.registry, carrylab.views.presentation, carrylab.components.live_chart\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
