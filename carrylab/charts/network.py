"""The network as a node-link picture while it computes one example, animated bit by bit (for demos).

Why: a heatmap answers "which unit holds the carry" for a reader; an audience wants to *see* the carry pass from
one step to the next. Left column: the inputs of bit t (a, b and any operator channels) and the state after bit
t - 1; middle: the state after bit t (a gated cell's gates as small squares beside each unit); right: the output
bit. Edges are the weights (red positive, blue negative, width by |weight|), nodes are coloured by their value at
bit t. A slider picks the bit and Play animates across the bits, in the browser (plotly frames, no rerun).

Legible at any size: at most ``max_units`` units are drawn (the caller orders them by carry correlation, so the
carry units come first) and only the ``max_edges`` strongest edges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from carrylab.charts.style import (
    DARK_GREY,
    DIVERGING_SCALE,
    FONT_SIZE,
    SEQUENTIAL_SCALE,
    TRACK_SCALE,
    figure,
    layout,
)
from carrylab.charts.validate import as_array

MAX_UNITS = 16
MAX_EDGES = 48
FRAME_MS = 900  # one bit per this many milliseconds while playing
_POSITIVE, _NEGATIVE = "rgba(178,24,43,0.55)", "rgba(33,102,172,0.55)"  # the ends of the diverging scale
_WIDTHS = (1.0, 2.5, 4.5, 7.0)  # edge widths by |weight| quartile of the largest
_GATE_DX = 0.13  # horizontal spacing of a unit's gate squares
_MARGIN_TOP, _MARGIN_BOTTOM = 60, 120  # px: the frame title; the Play button and the slider


def _edges(sources: np.ndarray, targets: np.ndarray, weights: np.ndarray, max_edges: int):
    """The strongest edges as up to 8 line traces (sign x width bucket): ((x0, y0), (x1, y1)) endpoints (E, 2)
    each and weights (E,)."""
    keep = np.argsort(-np.abs(weights), kind="stable")[:max_edges]
    sources, targets, weights = sources[keep], targets[keep], weights[keep]
    largest = float(np.max(np.abs(weights))) if weights.size else 0.0
    traces = []
    if largest == 0.0:
        return traces
    bucket = np.minimum((np.abs(weights) / largest * len(_WIDTHS)).astype(int), len(_WIDTHS) - 1)
    for sign, colour in ((1, _POSITIVE), (-1, _NEGATIVE)):
        for b, width in enumerate(_WIDTHS):
            pick = (np.sign(weights) == sign) & (bucket == b)
            if not pick.any():
                continue
            xs = np.column_stack([sources[pick, 0], targets[pick, 0], np.full(pick.sum(), np.nan)]).ravel()
            ys = np.column_stack([sources[pick, 1], targets[pick, 1], np.full(pick.sum(), np.nan)]).ravel()
            traces.append(
                {
                    "type": "scatter",
                    "x": xs,
                    "y": ys,
                    "mode": "lines",
                    "line": {"color": colour, "width": width},
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
    return traces


def _nodes(x, y, values, text, *, scale, zrange, size, hover, position="middle left", line="#444") -> dict:
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "markers+text" if position else "markers",
        "text": text,
        "textposition": position or "middle left",
        "marker": {
            "color": values,
            "colorscale": scale,
            "cmin": zrange[0],
            "cmax": zrange[1],
            "size": size,
            "line": {"color": line, "width": 1.5},
            "symbol": "circle",
        },
        "customdata": values,
        "hovertemplate": hover,
        "showlegend": False,
    }


def network_figure(
    x: np.ndarray,
    states: np.ndarray,
    prob: np.ndarray,
    W_in: np.ndarray,
    W_rec: np.ndarray,
    W_out: np.ndarray,
    *,
    input_names: Sequence[str],
    gates: Mapping[str, np.ndarray] | None = None,
    unit_order: Sequence[int] | np.ndarray | None = None,
    step: int = 0,
    state_range: tuple[float, float] = (-1.0, 1.0),
    carry: np.ndarray | None = None,
    max_units: int = MAX_UNITS,
    max_edges: int = MAX_EDGES,
    title: str = "",
    height: int | None = None,
    font_size: int = FONT_SIZE,
) -> go.Figure:
    """Node-link picture of the network at bit ``step``, with one animation frame per bit.

    x: (T, n_in) inputs; states: (T, H) the state h after reading bit t; prob: (T,) P(y_t = 1);
    W_in: (n_in, H), W_rec: (H, H) the weights drawn as edges (a gated cell's candidate block); W_out: (H,) or
    (H, 1); gates: gate name -> (T, H) in 0..1, drawn beside each unit; unit_order: units in drawing order (top
    first; the first max_units are drawn); carry: (T,) the true carry out, for the frame titles; title: a prefix of
    every frame's title (which names the bit, its inputs and the output).
    Trace order: edges, then the nodes: inputs, state after t - 1, state after t, gates (if any), output.
    """
    states = as_array("states", states, ndim=2)
    T, H = states.shape
    x = as_array("x", x, ndim=2)
    prob = as_array("prob", prob, ndim=1)
    W_in, W_rec = as_array("W_in", W_in, ndim=2), as_array("W_rec", W_rec, ndim=2)
    W_out = np.asarray(W_out, dtype=np.float64).reshape(-1)
    n_in = x.shape[1]
    if x.shape[0] != T or prob.shape != (T,):
        raise ValueError(
            f"x, states and prob must cover the same {T} bits, got {x.shape}, {states.shape}, {prob.shape}"
        )
    if W_in.shape != (n_in, H) or W_rec.shape != (H, H) or W_out.shape != (H,):
        raise ValueError(f"weights must be W_in {(n_in, H)}, W_rec {(H, H)}, W_out ({H},)")
    if len(input_names) != n_in:
        raise ValueError(f"input_names must name the {n_in} inputs, got {list(input_names)}")
    if not 0 <= step < T:
        raise ValueError(f"step must be in 0..{T - 1}, got {step}")
    order = np.arange(H) if unit_order is None else np.asarray(unit_order, dtype=np.int64)
    if not np.array_equal(np.sort(order), np.arange(H)):
        raise ValueError(f"unit_order must be a permutation of range({H})")
    gates = {name: as_array(f"gates[{name!r}]", g, ndim=2) for name, g in (gates or {}).items()}
    shown = order[: min(max_units, H)]
    K = len(shown)

    # positions: units top to bottom in drawing order; the inputs above the previous state, in the left column
    unit_y = -np.arange(K, dtype=np.float64)
    input_y = 2.3 + np.arange(n_in, dtype=np.float64)[::-1]
    gate_x = 1.0 + _GATE_DX * (1 + np.arange(len(gates)))
    out_x = (gate_x[-1] if len(gates) else 1.0) + 0.6
    out_y = float(np.mean(unit_y))
    prev_h = np.vstack([np.zeros((1, H)), states[:-1]])  # the state each step starts from (h_0 = 0)

    src_in = np.array([(0.0, input_y[j]) for j in range(n_in) for _ in range(K)]).reshape(-1, 2)
    dst_in = np.array([(1.0, unit_y[i]) for _ in range(n_in) for i in range(K)]).reshape(-1, 2)
    src_rec = np.array([(0.0, unit_y[i]) for i in range(K) for _ in range(K)]).reshape(-1, 2)
    dst_rec = np.array([(1.0, unit_y[k]) for _ in range(K) for k in range(K)]).reshape(-1, 2)
    src_out = np.column_stack([np.ones(K), unit_y])
    dst_out = np.tile([out_x, out_y], (K, 1))
    weights = np.concatenate([W_in[:, shown].ravel(), W_rec[np.ix_(shown, shown)].ravel(), W_out[shown]])
    edges = _edges(np.vstack([src_in, src_rec, src_out]), np.vstack([dst_in, dst_rec, dst_out]), weights, max_edges)

    labels = [f"unit {u}" for u in shown]
    span = (input_y[0] + 1.6) - (unit_y[-1] - 1.6)  # the y range drawn, in rows
    natural = min(720, max(420, 150 + 30 * (K + n_in + 3)))
    height = natural if height is None else int(height)
    pitch = (height - _MARGIN_TOP - _MARGIN_BOTTOM) / span  # pixels per row
    node = float(np.clip(0.8 * pitch, 8.0, 26.0))  # a unit's circle: as large as the rows allow

    def node_traces(t: int) -> list[dict]:
        traces = [
            _nodes(
                np.zeros(n_in),
                input_y,
                x[t],
                list(input_names),
                scale=TRACK_SCALE,
                zrange=(0.0, 1.0),
                size=node + 2,
                hover="input %{text}: %{customdata:.0f}<extra></extra>",
            ),
            _nodes(
                np.zeros(K),
                unit_y,
                prev_h[t, shown],
                labels,
                scale=DIVERGING_SCALE,
                zrange=state_range,
                size=node * 0.85,
                hover="%{text} before this bit: h = %{customdata:.3f}<extra></extra>",
            ),
            _nodes(
                np.ones(K),
                unit_y,
                states[t, shown],
                None,
                scale=DIVERGING_SCALE,
                zrange=state_range,
                size=node,
                position=None,
                line=DARK_GREY,
                hover="unit %{text} after this bit: h = %{customdata:.3f}<extra></extra>",
            ),
        ]
        traces[2]["text"] = [str(u) for u in shown]
        if gates:
            gx = np.concatenate([np.full(K, gate_x[k]) for k in range(len(gates))])
            gy = np.tile(unit_y, len(gates))
            gv = np.concatenate([g[t, shown] for g in gates.values()])
            names = [f"{name} gate of unit {u}" for name in gates for u in shown]
            trace = _nodes(
                gx,
                gy,
                gv,
                names,
                scale=SEQUENTIAL_SCALE,
                zrange=(0.0, 1.0),
                size=node * 0.5,
                position=None,
                hover="%{text}: %{customdata:.2f}<extra></extra>",
            )
            trace["marker"]["symbol"] = "square"
            traces.append(trace)
        out = _nodes(
            np.array([out_x]),
            np.array([out_y]),
            prob[t : t + 1],
            [f"y = {int(prob[t] >= 0.5)}"],
            scale=TRACK_SCALE,
            zrange=(0.0, 1.0),
            size=node * 1.3,
            position="middle right",
            hover="output: P(y=1) = %{customdata:.3f}<extra></extra>",
        )
        traces.append(out)
        return traces

    def frame_title(t: int) -> str:
        bits = ", ".join(f"{n} = {int(round(v))}" for n, v in zip(input_names[:2], x[t, :2], strict=False))
        kept = f"; carry out = {int(carry[t])}" if carry is not None else ""
        return f"{title}bit {t}: {bits}{kept}; output P(y=1) = {prob[t]:.2f} → {int(prob[t] >= 0.5)}"

    spec_title = layout(title="", uirevision="")["title"]  # the shared title placement, kept in every frame
    n_edges = len(edges)
    node_idx = list(range(n_edges, n_edges + len(node_traces(0))))
    frames = [
        {
            "name": str(t),
            "data": node_traces(t),
            "traces": node_idx,
            "layout": {"title": {**spec_title, "text": frame_title(t)}},
        }
        for t in range(T)
    ]
    headers = [
        ("inputs, bit t", 0.0, input_y[0] + 1.0),
        ("before bit t", 0.0, 0.85),
        ("after bit t", 1.0, 1.6 if gates else 0.9),
        ("output", out_x, out_y + 1.2),
    ]
    headers += [(name[0], gate_x[k], 0.9) for k, name in enumerate(gates)]
    annotations = [
        {"text": text, "x": hx, "y": hy, "xref": "x", "yref": "y", "showarrow": False, "font": {"size": font_size}}
        for text, hx, hy in headers
    ]
    if K < H:
        annotations.append(
            {
                "text": f"{K} of {H} units drawn (the strongest carry units first)",
                "x": 0.5,
                "y": unit_y[-1] - 1.0,
                "xref": "x",
                "yref": "y",
                "showarrow": False,
                "font": {"size": font_size - 2},
            }
        )
    animate = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}
    sliders = [
        {
            "active": step,
            "currentvalue": {"prefix": "bit t = ", "font": {"size": font_size}},
            "x": 0.22,
            "len": 0.78,
            "y": 0.0,
            "yanchor": "top",
            "pad": {"t": 20},
            "steps": [{"label": str(t), "method": "animate", "args": [[str(t)], animate]} for t in range(T)],
        }
    ]
    play = {"frame": {"duration": FRAME_MS, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    menus = [
        {
            "type": "buttons",
            "direction": "left",
            "x": 0.0,
            "y": 0.0,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"t": 40},
            "buttons": [
                {"label": "▶ Play", "method": "animate", "args": [None, play]},
                {"label": "Pause", "method": "animate", "args": [[None], animate]},
            ],
        }
    ]
    spec = layout(
        title=frame_title(step),
        uirevision="network_figure",
        height=height,
        xaxis={"visible": False, "range": [-0.7, out_x + 0.7], "fixedrange": True},
        yaxis={"visible": False, "range": [unit_y[-1] - 1.6, input_y[0] + 1.6], "fixedrange": True},
        annotations=annotations,
        sliders=sliders,
        updatemenus=menus,
        margin={"l": 20, "r": 20, "t": _MARGIN_TOP, "b": _MARGIN_BOTTOM},
    )
    if font_size != FONT_SIZE:
        spec["font"] = {"size": font_size}
    return figure(edges + node_traces(step), spec, frames)
