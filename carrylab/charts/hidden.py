"""Charts that look inside the hidden state: per-example heatmap, carry correlation, PCA state space.

Why: the net can only add if some direction of its hidden state holds the carry. These charts let a
reader find it: the heatmap puts the inputs, the true carry and the output right above the hidden
units at the same bit, the correlation bars name the units that track the carry, and the PCA view
shows whether carry-0 and carry-1 states fall into separate clusters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from carrylab.charts.style import (
    CORRECT_COLOUR,
    DIVERGING_SCALE,
    FONT_SIZE,
    NEUTRAL_GREY,
    ORANGE,
    SEQUENTIAL_SCALE,
    SKY_BLUE,
    TRACK_SCALE,
    WRONG_COLOUR,
    axis_title,
    figure,
    layout,
    margins,
    message,
    tick_step,
)
from carrylab.charts.validate import as_array, check_same_length

_ACTIVATION_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
CELL_STATE_RANGE = 2.0  # an LSTM's c is unbounded: its colour scale is fixed at +-this (|c| beyond it saturates)
_CLUSTER_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")
_STAR = "★"
_TRACK_GAP = 0.03  # vertical space between the tracks and the hidden units (fraction of the plot height)
# The heatmap's margins are reserved up front for its row labels and colour bar. When they do not fit, Plotly
# grows the margins after drawing and then draws the whole figure a second time: every (live) redraw of this chart
# cost about twice as much. Estimated for the 16 px font (about 9 px a character); a wider font or a chart wider
# than about 1,800 px still gets its margins grown automatically, as before.
_COLORBAR_MARGIN = 160
_MARGIN_TOP_BOTTOM = 150  # the shared layout's top and bottom margins together (style.margins)


def _label_margin(unit_labels: np.ndarray, track_names: list[str]) -> int:
    """Left margin (px) for the unit labels plus the axis title, and for the track names (no title)."""
    unit_chars = max((len(label) for label in unit_labels.tolist()), default=0)
    track_chars = max((len(name) for name in track_names), default=0)
    return int(max(30 + 9.5 * unit_chars, 10 + 9.5 * track_chars))


def _unit_label(unit: int, highlighted: bool) -> str:
    return f"{_STAR} unit {unit}" if highlighted else f"unit {unit}"


def _track_text(values: np.ndarray) -> np.ndarray:
    """Cell text for a track row: '0'/'1' for bits, two decimals for probabilities."""
    if np.all((values == 0) | (values == 1)):
        return np.array([str(int(v)) for v in values], dtype=str)
    return np.array([f"{v:.2f}" for v in values], dtype=str)


@dataclass(frozen=True)
class Panel:
    """One block of rows of a state heatmap: values (T, H) of one state part or gate, drawn as units x bits.

    name: the row axis title ("h", "c", "forget gate"); zrange: the fixed colour range; diverging: a red/blue
    scale around 0 (states) or a sequential one (gates, 0..1); colorbar: its title."""

    name: str
    values: np.ndarray
    zrange: tuple[float, float]
    diverging: bool
    colorbar: str
    symbol: str = "h"  # the value's name in the hover text


def hidden_heatmap_figure(
    h: np.ndarray,
    *,
    tracks: Mapping[str, np.ndarray] | None,
    activation: str = "tanh",
    cell_state: np.ndarray | None = None,
    unit_order: Sequence[int] | np.ndarray | None = None,
    highlight_units: Sequence[int] = (),
    title: str = "Hidden state while adding one example",
    height: int | None = None,
    font_size: int = FONT_SIZE,
) -> go.Figure:
    """Hidden units (rows) x bits (columns) for one example, with aligned input/output tracks above.

    h: (T, H) hidden state after reading bit t, t = 0..T-1 (LSB first). Drawn as z: (H, T).
    tracks: ordered name -> (T,) values in 0..1 (bits or probabilities), drawn top to bottom in
        that order above the main heatmap, sharing its x axis, with the value written in each cell.
    activation: the range of h, "tanh" (colour range -1..1, diverging) or "sigmoid" (0..1).
    cell_state: an LSTM's c (T, H), drawn as a second block below h on its own fixed scale (+-CELL_STATE_RANGE).
    unit_order: permutation of range(H); row i (from the top) shows unit unit_order[i] and keeps
        that unit's original number in its label.
    highlight_units: units whose labels get a star and whose rows are outlined.
    height: the figure's height in pixels (default: about 26 per row, every row labelled); when rows get less than
        1.3 label heights each, only every k-th unit is labelled. font_size: of every text (cell text 2 px less).
    """
    if activation not in _ACTIVATION_RANGES:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATION_RANGES)}, got {activation!r}")
    h = as_array("h", h, ndim=2)
    panels = [
        Panel(
            "hidden unit" if cell_state is None else "h: unit",
            h,
            _ACTIVATION_RANGES[activation],
            activation == "tanh",
            f"h ({activation})",
        )
    ]
    if cell_state is not None:
        c = as_array("cell_state", cell_state, ndim=2)
        if c.shape != h.shape:
            raise ValueError(f"cell_state must have the shape of h {h.shape}, got {c.shape}")
        lim = CELL_STATE_RANGE
        panels.append(Panel("c: unit", c, (-lim, lim), True, f"c (cell state, ±{lim:g})", symbol="c"))
    return panels_heatmap_figure(
        panels,
        tracks=tracks,
        unit_order=unit_order,
        highlight_units=highlight_units,
        title=title,
        height=height,
        font_size=font_size,
        uirevision="hidden_heatmap_figure",
    )


def gate_heatmap_figure(
    gates: Mapping[str, np.ndarray],
    *,
    tracks: Mapping[str, np.ndarray] | None,
    unit_order: Sequence[int] | np.ndarray | None = None,
    highlight_units: Sequence[int] = (),
    title: str = "Gates while adding one example",
    height: int | None = None,
    font_size: int = FONT_SIZE,
) -> go.Figure:
    """Every gate of a gated cell as units x bits, one block per gate (0..1, one fixed scale), under the same
    tracks as the state heatmap, so that a gate's value sits right below the bit it acts on.

    gates: ordered gate name ("input", "forget", ...) -> (T, H), the gate at step t (LSB first)."""
    if not gates:
        raise ValueError("gates must name at least one gate")
    panels = [
        Panel(f"{name}: unit", as_array(f"gates[{name!r}]", values, ndim=2), (0.0, 1.0), False, "gate (0..1)", name)
        for name, values in gates.items()
    ]
    for panel in panels:
        if np.any(panel.values < 0) or np.any(panel.values > 1):
            raise ValueError(f"gate {panel.symbol!r} must hold values in [0, 1]")
    return panels_heatmap_figure(
        panels,
        tracks=tracks,
        unit_order=unit_order,
        highlight_units=highlight_units,
        title=title,
        height=height,
        font_size=font_size,
        uirevision="gate_heatmap_figure",
    )


def _track_trace(tracks: Mapping[str, np.ndarray], n_bits: int, font_size: int) -> dict | None:
    """The heatmap trace of the bit tracks (K, T) on axes x/y, validated; None without tracks."""
    names, rows = list(tracks or {}), []
    for name in names:
        row = as_array(f"tracks[{name!r}]", tracks[name], ndim=1)
        if row.shape[0] != n_bits:
            raise ValueError(f"tracks[{name!r}] has length {row.shape[0]}, expected T = {n_bits} (from h)")
        if np.any(row < 0) or np.any(row > 1):
            raise ValueError(f"tracks[{name!r}] must hold bits or probabilities in [0, 1]")
        rows.append(row)
    if not rows:
        return None
    return {
        "type": "heatmap",
        "x": np.arange(n_bits),
        "y": np.array(names, dtype=str),
        "z": np.vstack(rows),  # (K, T)
        "zmin": 0.0,
        "zmax": 1.0,
        "colorscale": TRACK_SCALE,
        "showscale": False,
        "text": np.vstack([_track_text(row) for row in rows]),
        "texttemplate": "%{text}",
        "textfont": {"size": font_size - 2},
        "xgap": 1,
        "ygap": 1,
        "hovertemplate": "%{y}<br>bit %{x}<br>value %{z:.3f}<extra></extra>",
        "xaxis": "x",
        "yaxis": "y",
    }


def _domains(n_tracks: int, n_panels: int, n_units: int, height: int | None, font_size: int):
    """(track domain or None, [panel domains top to bottom]) in the plot's 0..1 height: the tracks get the share
    their rows need (at least 15 %, at most 45 %), the panels split the rest evenly, _TRACK_GAP between blocks."""
    usable = 1.0 - _TRACK_GAP * (n_panels - 1 + bool(n_tracks))
    track_share = 0.0
    if n_tracks:
        track_share = min(0.45, max(0.15, n_tracks / (n_tracks + n_panels * n_units)))
        if height is not None:  # a given height: each track row still fits its cell text
            plot_px = height - _MARGIN_TOP_BOTTOM
            track_share = min(0.45, max(track_share, n_tracks * 1.5 * font_size / (plot_px * usable)))
    panel_height = usable * (1 - track_share) / n_panels
    domains, top = [], 1.0
    track_domain = None
    if n_tracks:
        track_domain = [top - usable * track_share, top]
        top = track_domain[0] - _TRACK_GAP
    for _ in range(n_panels):
        domains.append([max(0.0, top - panel_height), top])
        top = domains[-1][0] - _TRACK_GAP
    domains[-1][0] = 0.0
    return track_domain, domains


def panels_heatmap_figure(
    panels: Sequence[Panel],
    *,
    tracks: Mapping[str, np.ndarray] | None,
    unit_order: Sequence[int] | np.ndarray | None = None,
    highlight_units: Sequence[int] = (),
    title: str,
    height: int | None = None,
    font_size: int = FONT_SIZE,
    uirevision: str,
) -> go.Figure:
    """Tracks on top (axes x/y), then one units x bits block per panel (axes x2/y2, x3/y3, ...), all on one bit
    axis, every block on its own fixed colour scale with its own colour bar. Arguments as hidden_heatmap_figure's;
    every panel's values are (T, H) of the same shape."""
    n_bits, n_units = panels[0].values.shape
    for panel in panels:
        if panel.values.shape != (n_bits, n_units):
            raise ValueError(f"{panel.name} has shape {panel.values.shape}, expected {(n_bits, n_units)}")
    order = np.arange(n_units) if unit_order is None else as_array("unit_order", unit_order, ndim=1, dtype=None)
    if not np.array_equal(np.sort(order), np.arange(n_units)):
        raise ValueError(f"unit_order must be a permutation of range({n_units}), got {order.tolist()}")
    highlighted = {int(u) for u in highlight_units}
    if any(not 0 <= u < n_units for u in highlighted):
        raise ValueError(f"highlight_units must be in range({n_units}), got {sorted(highlighted)}")

    track = _track_trace(tracks or {}, n_bits, font_size)
    track_names = list(tracks or {}) if track is not None else []
    n_tracks, n_panels = len(track_names), len(panels)
    row_px = 26 if n_panels == 1 else 18
    natural = max(320, 150 + 26 * n_tracks + row_px * n_panels * n_units)
    # one block: the tracks' share as before; several: at the natural height too, each track row fits its text
    given = height if height is not None or n_panels == 1 else natural
    track_domain, domains = _domains(n_tracks, n_panels, n_units, given, font_size)
    first = 2 if n_tracks else 1  # the first panel's axis number
    last_x = "x" if first + n_panels - 1 == 1 else f"x{first + n_panels - 1}"
    x_ticks = {"dtick": tick_step(n_bits), "showgrid": False}
    data: list[dict] = [track] if track is not None else []
    axes: dict[str, dict] = {}
    if n_tracks:
        axes["xaxis"] = {"anchor": "y", "domain": [0.0, 1.0], "matches": last_x, "showticklabels": False, **x_ticks}
        axes["yaxis"] = {"anchor": "x", "domain": track_domain, "autorange": "reversed"}
    labels = np.array([_unit_label(int(u), int(u) in highlighted) for u in order], dtype=str)
    outlines = []
    for i, (panel, domain) in enumerate(zip(panels, domains, strict=True)):
        k = first + i
        x_name, y_name = ("x", "y") if k == 1 else (f"x{k}", f"y{k}")
        bottom = i == n_panels - 1
        x_axis = {"anchor": y_name, "domain": [0.0, 1.0], **x_ticks}
        if bottom:
            x_axis["title"] = {"text": "bit t (LSB first)"}
        else:
            x_axis.update(matches=last_x, showticklabels=False)
        axes["xaxis" if k == 1 else f"xaxis{k}"] = x_axis
        axes["yaxis" if k == 1 else f"yaxis{k}"] = axis_title(
            panel.name, anchor=x_name, domain=domain, autorange="reversed"
        )
        data.append(
            {
                "type": "heatmap",
                "x": np.arange(n_bits),
                "y": labels,
                "z": panel.values.T[order],
                "zmin": panel.zrange[0],
                "zmax": panel.zrange[1],
                "colorscale": DIVERGING_SCALE if panel.diverging else SEQUENTIAL_SCALE,
                "colorbar": {
                    "title": {"text": panel.colorbar, "side": "right"},
                    "len": domain[1] - domain[0],
                    "y": domain[0],
                    "yanchor": "bottom",
                },
                "xgap": 1,
                "ygap": 1,
                "hovertemplate": f"%{{y}}<br>after bit %{{x}}<br>{panel.symbol} = %{{z:.3f}}<extra></extra>",
                "xaxis": x_name,
                "yaxis": y_name,
            }
        )
        outlines += [
            {
                "line": {"color": "black", "width": 3},
                "type": "rect",
                "x0": -0.5,
                "x1": n_bits - 0.5,
                "xref": x_name,
                "y0": position - 0.5,
                "y1": position + 0.5,
                "yref": y_name,
            }
            for position, unit in enumerate(order.tolist())
            if unit in highlighted
        ]
    if outlines:
        axes["shapes"] = outlines
    height = natural if height is None else int(height)
    scale = font_size / FONT_SIZE
    axes["margin"] = margins(left=round(_label_margin(labels, track_names) * scale), right=_COLORBAR_MARGIN)
    plot_height = height - axes["margin"]["t"] - axes["margin"]["b"]
    pitch = plot_height * (domains[0][1] - domains[0][0]) / max(n_units, 1)  # pixels per unit row
    every = max(1, int(np.ceil(1.3 * font_size / pitch)))
    if every > 1:  # too many rows to label each one legibly: every k-th, from the top
        for k in range(first, first + n_panels):
            axes["yaxis" if k == 1 else f"yaxis{k}"].update(tickmode="linear", tick0=0, dtick=every)
    spec = layout(title=title, uirevision=uirevision, height=height, **axes)
    if font_size != FONT_SIZE:
        spec["font"] = {"size": font_size}
    return figure(data, spec)


def carry_correlation_figure(
    corr: np.ndarray,
    *,
    best_units: Sequence[int] = (),
    sort: bool = False,
    title: str = "Each unit's correlation with the carry",
) -> go.Figure:
    """Pearson correlation of each unit with the carry, one bar per unit, y fixed to -1..1.

    corr: (H,) correlations (NaN for a constant unit). best_units: units drawn in the highlight
    colour. sort: order bars by |corr| (largest first) instead of by unit number.
    """
    corr = as_array("corr", corr, ndim=1)
    n_units = corr.shape[0]
    best = {int(u) for u in best_units}
    if any(not 0 <= u < n_units for u in best):
        raise ValueError(f"best_units must be in range({n_units}), got {sorted(best)}")
    if sort:
        order = np.argsort(-np.nan_to_num(np.abs(corr), nan=-1.0), kind="stable")
    else:
        order = np.arange(n_units)
    labels = np.array([_unit_label(int(u), int(u) in best) for u in order], dtype=str)
    colours = np.array([CORRECT_COLOUR if int(u) in best else NEUTRAL_GREY for u in order], dtype=str)

    bars = {
        "type": "bar",
        "x": labels,
        "y": corr[order],
        "marker": {"color": colours},
        "hovertemplate": "%{x}<br>r = %{y:.3f}<extra></extra>",
        "name": "correlation",
    }
    extra = {"annotations": [message("No hidden units")]} if n_units == 0 else {}
    return figure(
        [bars],
        layout(
            title=title,
            uirevision="carry_correlation_figure",
            xaxis=axis_title("hidden unit", type="category", categoryorder="array", categoryarray=labels),
            yaxis=axis_title("Pearson r with carry", range=[-1, 1], zeroline=True, zerolinewidth=2),
            **extra,
        ),
    )


def state_space_figure(
    points: np.ndarray,
    carry: np.ndarray,
    *,
    cluster: np.ndarray | None = None,
    explained_variance: Sequence[float] | None = None,
    max_points: int = 4000,
    title: str = "Hidden states projected on the first two principal components",
) -> go.Figure:
    """Scatter of hidden states in PCA space, coloured by the true carry, marker symbol by cluster.

    points: (N, 2) projections; carry: (N,) 0/1; cluster: (N,) int labels or None.
    explained_variance: optional fractions for PC 1 and PC 2, shown in the axis titles.
    More than `max_points` points are thinned to a fixed random subset (seed 0): deterministic, and
    unlike a stride it cannot alias with the T-periodic order of states.
    """
    points = as_array("points", points, ndim=2)
    if points.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {points.shape}")
    carry = as_array("carry", carry, ndim=1)
    check_same_length(points=points, carry=carry)
    if not np.all((carry == 0) | (carry == 1)):
        raise ValueError("carry must hold only 0 and 1")
    if cluster is not None:
        cluster = as_array("cluster", cluster, ndim=1, dtype=np.int64)
        check_same_length(points=points, cluster=cluster)

    n_points = points.shape[0]
    if n_points > max_points:
        keep = np.sort(np.random.default_rng(0).choice(n_points, size=max_points, replace=False))
        points, carry = points[keep], carry[keep]
        cluster = cluster[keep] if cluster is not None else None

    data = []
    for carry_value, colour in ((0, SKY_BLUE), (1, ORANGE)):
        mask = carry == carry_value
        marker = {"color": colour, "size": 7, "opacity": 0.7, "line": {"width": 0}}
        trace = {
            "type": "scatter",
            "x": points[mask, 0],
            "y": points[mask, 1],
            "mode": "markers",
            "name": f"carry = {carry_value}",
            "marker": marker,
        }
        hover = f"PC 1 %{{x:.3f}}<br>PC 2 %{{y:.3f}}<br>carry = {carry_value}"
        if cluster is not None:
            marker["symbol"] = np.array(_CLUSTER_SYMBOLS, dtype=str)[cluster[mask] % len(_CLUSTER_SYMBOLS)]
            trace["customdata"] = cluster[mask]
            hover += "<br>cluster %{customdata}"
        trace["hovertemplate"] = hover + "<extra></extra>"
        data.append(trace)
    axis_titles = ["PC 1", "PC 2"]
    if explained_variance is not None:
        variance = as_array("explained_variance", explained_variance, ndim=1)
        if variance.shape[0] < 2:
            raise ValueError(f"explained_variance needs at least 2 entries, got {variance.shape[0]}")
        axis_titles = [
            f"{name} ({100 * v:.0f}% of variance)" for name, v in zip(axis_titles, variance[:2].tolist(), strict=True)
        ]
    extra = {"annotations": [message("No hidden states yet")]} if n_points == 0 else {}
    return figure(
        data,
        layout(
            title=title,
            uirevision="state_space_figure",
            xaxis=axis_title(axis_titles[0]),
            # Equal scale on both axes: distances in the picture are distances in PCA space.
            yaxis=axis_title(axis_titles[1], scaleanchor="x", scaleratio=1),
            **extra,
        ),
    )


BIT_TABLE_COLUMNS = ("bit", "a", "b", "carry in", "target", "P(y=1)", "prediction", "ok")
BIT_TABLE_HELP = {
    "bit": "Time step = bit position, least significant first.",
    "carry in": "True carry (borrow) into this bit.",
    "P(y=1)": "The network's output probability that this bit is 1.",
    "prediction": "Predicted bit: P(y=1) >= 0.5.",
    "ok": "Predicted bit equals the target bit.",
}


def bit_table_columns(
    a_bits: np.ndarray,
    b_bits: np.ndarray,
    carry_in: np.ndarray,
    target: np.ndarray,
    prob: np.ndarray,
    pred: np.ndarray,
) -> dict[str, np.ndarray]:
    """The probe table's columns (BIT_TABLE_COLUMNS), one entry per time step (LSB first), validated.

    All inputs (T,): a_bits, b_bits, carry_in, target, pred as 0/1 and prob = P(y=1) in 0..1.
    """
    arguments = {"a_bits": a_bits, "b_bits": b_bits, "carry_in": carry_in, "target": target, "pred": pred}
    bit_columns = {name: as_array(name, values, ndim=1) for name, values in arguments.items()}
    prob = as_array("prob", prob, ndim=1)
    check_same_length(**bit_columns, prob=prob)
    for name, values in bit_columns.items():
        if not np.all((values == 0) | (values == 1)):
            raise ValueError(f"{name} must hold only 0 and 1")
    columns = {
        "bit": np.arange(prob.shape[0]),
        "a": bit_columns["a_bits"].astype(np.int64),
        "b": bit_columns["b_bits"].astype(np.int64),
        "carry in": bit_columns["carry_in"].astype(np.int64),
        "target": bit_columns["target"].astype(np.int64),
        "P(y=1)": prob.astype(np.float64),
        "prediction": bit_columns["pred"].astype(np.int64),
    }
    columns["ok"] = columns["prediction"] == columns["target"]
    return columns


# The HTML table's look: Streamlit's light theme, the charts' colours for right and wrong.
_CELL = "padding:4px 10px;text-align:right;white-space:nowrap"
_HEAD = _CELL + ";position:sticky;top:0;background:#F0F4F8;font-weight:600;border-bottom:1px solid #D5DAE5"
_BAR = "flex:1;min-width:40px;height:6px;border-radius:3px;background:#E6E9EF;overflow:hidden"


def bit_table_html(
    columns: Mapping[str, np.ndarray], *, bar_colour: str = CORRECT_COLOUR, max_height: int = 420
) -> str:
    """The probe table as a small HTML table (from bit_table_columns): a bar for P(y=1), ✓/✗ for ok, the column
    help as header tooltips; scrolls past `max_height` pixels with the header kept in view (64-bit numbers).

    Why HTML and not st.dataframe: the table changes every Play frame, and a data grid costs the page far more
    per update (and pandas/Arrow on the server, and a 1.3 MB grid bundle on the first render) than eight rows do.
    Every cell is a number or a fixed symbol, so there is nothing to escape."""
    head = "".join(
        f'<th style="{_HEAD}"'
        + (f' title="{BIT_TABLE_HELP[name]}"' if name in BIT_TABLE_HELP else "")
        + f">{name}</th>"
        for name in BIT_TABLE_COLUMNS
    )
    rows = []
    for t in range(len(columns["bit"])):
        cells = [f"{int(columns[name][t])}" for name in ("bit", "a", "b", "carry in", "target")]
        p = float(columns["P(y=1)"][t])
        width = f"{100 * min(max(p, 0.0), 1.0):.1f}%"
        bar = f'<div style="width:{width};height:100%;background:{bar_colour}"></div>'
        cells.append(
            f'<div style="display:flex;align-items:center;gap:8px"><div style="{_BAR}">{bar}</div>'
            f'<span data-p="{p!r}">{p:.3f}</span></div>'
        )
        cells.append(f"{int(columns['prediction'][t])}")
        ok = bool(columns["ok"][t])
        cells.append(f'<span style="color:{CORRECT_COLOUR if ok else WRONG_COLOUR}">{"✓" if ok else "✗"}</span>')
        border = "border-top:1px solid #E6E9EF;" if t else ""
        rows.append("<tr>" + "".join(f'<td style="{border}{_CELL}">{cell}</td>' for cell in cells) + "</tr>")
    return (
        f'<div class="carrylab-bit-table" style="max-height:{max_height}px;overflow-y:auto;'
        'border:1px solid #D5DAE5;border-radius:8px">'
        '<table style="width:100%;border-collapse:collapse;font-size:0.875rem;font-variant-numeric:tabular-nums">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
