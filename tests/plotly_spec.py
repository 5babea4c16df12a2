"""Read the dashboard's Plotly figures inside Streamlit's AppTest.

AppTest has no typed plotly accessor: `st.plotly_chart` charts come back from ``at.get("plotly_chart")`` with the
figure JSON in ``.proto.spec``; the live charts (carrylab.components.live_chart, a components-v2 element) from
``at.get("bidi_component")`` with the figure inside the JSON payload in ``.proto.bytes``.
Plotly >= 6 encodes numpy arrays as base64 typed arrays ``{"dtype", "bdata", "shape"}``,
which ``plotly.io.from_json`` does not decode, so they are decoded here before assertions.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np


def _decode_one(d: dict) -> np.ndarray:
    arr = np.frombuffer(base64.b64decode(d["bdata"]), dtype=np.dtype(d["dtype"]).newbyteorder("<"))
    shape = d.get("shape")
    if shape:
        arr = arr.reshape([int(s) for s in str(shape).split(",")])
    return arr


def decode_typed_arrays(obj: Any) -> Any:
    """Recursively replace plotly base64 typed-array dicts with numpy arrays."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            return _decode_one(obj)
        return {k: decode_typed_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_typed_arrays(v) for v in obj]
    return obj


LIVE_CHART = "carrylab.live_chart"
PRELOAD_KEY = "plotly_preload"  # the hidden element that only makes the browser load plotly.js


def live_charts(node_or_at) -> list:
    """The live chart elements (components-v2 elements of the live_chart component), in page order."""
    return [
        el for el in node_or_at.get("bidi_component") if el.proto.component_name == LIVE_CHART and el.key != PRELOAD_KEY
    ]


def chart_keys(node_or_at) -> set[str]:
    """Keys of every Plotly chart on the page: st.plotly_chart and live charts."""
    return {el.key for el in node_or_at.get("plotly_chart")} | {el.key for el in live_charts(node_or_at)}


def plotly_specs(node_or_at) -> dict[str, dict]:
    """Chart key (or position as text when unkeyed) -> decoded figure dict, for both kinds of chart."""
    out: dict[str, dict] = {}
    for i, el in enumerate(node_or_at.get("plotly_chart")):
        out[el.key or str(i)] = decode_typed_arrays(json.loads(el.proto.spec))
    for el in live_charts(node_or_at):
        out[el.key] = decode_typed_arrays(json.loads(el.proto.bytes.decode("utf-8"))["figure"])
    return out


def plotly_spec(node_or_at, key: str) -> dict:
    specs = plotly_specs(node_or_at)
    if key not in specs:
        raise KeyError(f"no plotly_chart with key {key!r}; have {sorted(specs)}")
    return specs[key]
