"""Drawing of a small finite state machine: the automaton extracted from the net, or the reference adder.

Why a hand-made layout: a serial adder is a 2-state Mealy machine (carry 0 / carry 1) with edges
labelled "ab/out". Putting the learned machine next to that reference in the same drawing style makes
"the net has learned the carry" checkable by eye. Everything is placed in data coordinates with equal
axis scales, so node circles, arrows and self-loops line up at any figure size. States sit on a
circle; all edges between the same pair of states share one arrow with their labels stacked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from carrylab.charts.style import DARK_GREY, FONT_SIZE, axis_title, figure, layout, message

Transition = tuple[int, tuple[int, int], int, int]  # (src, (a_bit, b_bit), dst, out_bit)

_NODE_RADIUS = 0.3  # large enough for a two-line state label ("s0" over "c=0") at a laptop-wide column
_LOOP_RADIUS = 0.16
_PAIR_OFFSET = 0.09  # sideways shift separating the arrows of a two-way pair of states
_NODE_FILL = "#E8E8E8"
_EDGE_LABEL_FONT = {"size": FONT_SIZE, "color": DARK_GREY}
# The diagram keeps its proportions (equal axis scales), so a figure taller than the diagram needs at its width is
# empty space. The height is chosen for a column this wide (half the page at 1280 px with the sidebar open, a third
# of it in presentation mode): the diagram then fills the plot both ways. No tick labels: narrow side margins.
WIDTH_HINT = 440
MARGIN = {"l": 15, "r": 15, "t": 60, "b": 50}
_HEIGHT_RANGE = (220, 800)


def _check_transitions(n_states: int, transitions: Sequence[Transition]) -> list[Transition]:
    checked = []
    for index, transition in enumerate(transitions):
        try:
            src, (a_bit, b_bit), dst, out_bit = transition
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"transitions[{index}] must be (src, (a_bit, b_bit), dst, out_bit), got {transition!r}"
            ) from error
        if not (0 <= src < n_states and 0 <= dst < n_states):
            raise ValueError(f"transitions[{index}] = {transition!r} names a state outside range({n_states})")
        if any(bit not in (0, 1) for bit in (a_bit, b_bit, out_bit)):
            raise ValueError(f"transitions[{index}] = {transition!r}: bits must be 0 or 1")
        checked.append((int(src), (int(a_bit), int(b_bit)), int(dst), int(out_bit)))
    return checked


def _node_positions(n_states: int) -> np.ndarray:
    """(n_states, 2) centres on a circle, state 0 on the left, then clockwise."""
    if n_states == 1:
        return np.zeros((1, 2))
    # Neighbouring centres at least ~3.5 node diameters apart, so edge labels have room.
    ring = max(1.0, 3.5 * _NODE_RADIUS / np.sin(np.pi / n_states))
    angles = np.pi - 2 * np.pi * np.arange(n_states) / n_states
    return ring * np.column_stack([np.cos(angles), np.sin(angles)])


def _outward(position: np.ndarray) -> np.ndarray:
    """Unit vector from the layout centre through a node (up for a single node at the centre)."""
    norm = np.linalg.norm(position)
    return position / norm if norm > 1e-9 else np.array([0.0, 1.0])


def _anchors(direction: np.ndarray) -> dict[str, str]:
    """Text anchors so that a label placed at `direction` from its point grows away from it."""
    xanchor = "right" if direction[0] < -0.3 else "left" if direction[0] > 0.3 else "center"
    yanchor = "top" if direction[1] < -0.3 else "bottom" if direction[1] > 0.3 else "middle"
    return {"xanchor": xanchor, "yanchor": yanchor}


def _arrow(annotations: list[dict], start: np.ndarray, end: np.ndarray) -> None:
    annotations.append(
        {
            "x": float(end[0]),
            "y": float(end[1]),
            "ax": float(start[0]),
            "ay": float(start[1]),
            "xref": "x",
            "yref": "y",
            "axref": "x",
            "ayref": "y",
            "text": "",
            "showarrow": True,
            "arrowhead": 2,
            "arrowsize": 1.3,
            "arrowwidth": 2,
            "arrowcolor": DARK_GREY,
        }
    )


def _edge_label(annotations: list[dict], where: np.ndarray, text: str, direction: np.ndarray) -> None:
    annotations.append(
        {
            "x": float(where[0]),
            "y": float(where[1]),
            "xref": "x",
            "yref": "y",
            "text": text,
            "showarrow": False,
            "font": _EDGE_LABEL_FONT,
            "bgcolor": "rgba(255,255,255,0.85)",
            **_anchors(direction),
        }
    )


def _draw_self_loop(
    data: list[dict], annotations: list[dict], centre: np.ndarray, label: str, points: list[np.ndarray]
) -> None:
    """A loop on the outer side of the node at `centre`, with an arrowhead where it re-enters."""
    outward = _outward(centre)
    distance = _NODE_RADIUS + 0.7 * _LOOP_RADIUS  # loop centre to node centre: the circles overlap
    loop_centre = centre + outward * distance
    # Angle (seen from the loop centre, measured from the node direction) where the loop meets the node.
    cos_meet = (distance**2 + _LOOP_RADIUS**2 - _NODE_RADIUS**2) / (2 * distance * _LOOP_RADIUS)
    meet = float(np.arccos(np.clip(cos_meet, -1.0, 1.0)))
    base = np.arctan2(-outward[1], -outward[0])
    angles = base + np.linspace(meet, 2 * np.pi - meet, 40)
    loop = loop_centre + _LOOP_RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])
    data.append(
        {
            "type": "scatter",
            "x": loop[:, 0],
            "y": loop[:, 1],
            "mode": "lines",
            "line": {"color": DARK_GREY, "width": 2},
            "hoverinfo": "skip",
            "showlegend": False,
        }
    )
    _arrow(annotations, loop[-4], loop[-1])
    label_at = loop_centre + outward * (_LOOP_RADIUS + 0.06)
    _edge_label(annotations, label_at, label, outward)
    points.extend([loop_centre + outward * (_LOOP_RADIUS + 0.3), loop_centre - outward * _LOOP_RADIUS])


def automaton_figure(
    n_states: int,
    transitions: Sequence[Transition],
    *,
    state_labels: Sequence[str] | None = None,
    initial_state: int | None = 0,
    title: str = "Carry automaton",
) -> go.Figure:
    """Draw a Mealy machine: nodes on a circle, labelled arrows "ab/out", self-loops, a start arrow.

    transitions: (src, (a_bit, b_bit), dst, out_bit) tuples; on input bits a, b in state src the
    machine emits out_bit and moves to dst. state_labels: one name per state (default "s0", ...).
    initial_state: the state marked with a thick outline and a "start" arrow (None: no marker).
    """
    if n_states < 0:
        raise ValueError(f"n_states must be >= 0, got {n_states}")
    checked = _check_transitions(n_states, transitions)
    labels = [f"s{k}" for k in range(n_states)] if state_labels is None else [str(s) for s in state_labels]
    if len(labels) != n_states:
        raise ValueError(f"state_labels has {len(labels)} names for {n_states} states")
    if n_states and initial_state is not None and not 0 <= initial_state < n_states:
        raise ValueError(f"initial_state {initial_state} is outside range({n_states})")

    axis_label = "ab/out: input bits a, b / output bit"
    spec = layout(title=title, uirevision="automaton_figure", height=360, margin=MARGIN)
    if n_states == 0:
        spec.update(annotations=[message("No automaton extracted yet")], xaxis=axis_title(axis_label, visible=True))
        return figure([], spec)

    positions = _node_positions(n_states)
    edges: dict[tuple[int, int], list[str]] = defaultdict(list)
    for src, (a_bit, b_bit), dst, out_bit in sorted(checked, key=lambda t: (t[0], t[2], t[1])):
        edges[(src, dst)].append(f"{a_bit}{b_bit}/{out_bit}")
    extent_points = [positions + _NODE_RADIUS, positions - _NODE_RADIUS]

    data: list[dict] = []
    annotations: list[dict] = []
    for (src, dst), edge_labels in edges.items():
        text = "<br>".join(edge_labels)
        if src == dst:
            _draw_self_loop(data, annotations, positions[src], text, extent_points)
            continue
        direction = positions[dst] - positions[src]
        direction /= np.linalg.norm(direction)
        left = np.array([-direction[1], direction[0]])
        shift = left * (_PAIR_OFFSET if (dst, src) in edges else 0.0)
        start = positions[src] + direction * _NODE_RADIUS + shift
        end = positions[dst] - direction * _NODE_RADIUS + shift
        _arrow(annotations, start, end)
        _edge_label(annotations, (start + end) / 2 + left * 0.05, text, left)

    shapes = [
        {
            "type": "circle",
            "x0": centre[0] - _NODE_RADIUS,
            "x1": centre[0] + _NODE_RADIUS,
            "y0": centre[1] - _NODE_RADIUS,
            "y1": centre[1] + _NODE_RADIUS,
            "xref": "x",
            "yref": "y",
            "fillcolor": _NODE_FILL,
            "line": {"color": DARK_GREY, "width": 4 if state == initial_state else 2},
            "layer": "below",
        }
        for state, centre in enumerate(positions)
    ]
    if initial_state is not None:
        outward = _outward(positions[initial_state])
        towards = outward + np.array([outward[1], -outward[0]])  # 45 degrees off the self-loop side
        towards /= np.linalg.norm(towards)
        tip = positions[initial_state] + towards * _NODE_RADIUS
        tail = tip + towards * 0.35
        _arrow(annotations, tail, tip)
        _edge_label(annotations, tail, "start", towards)
        extent_points.append(tail[None, :] + towards * 0.3)

    outgoing = [
        "<br>".join(f"{a}{b}/{out} → {labels[dst]}" for s, (a, b), dst, out in checked if s == state) or "none"
        for state in range(n_states)
    ]
    data.append(
        {
            "type": "scatter",
            "x": positions[:, 0],
            "y": positions[:, 1],
            "mode": "markers+text",
            "text": np.array(labels, dtype=str),
            "textfont": {"size": FONT_SIZE - 2},
            "marker": {"size": 40, "color": "rgba(0,0,0,0)"},
            "customdata": np.array(outgoing, dtype=object),
            "hovertemplate": "state %{text}<br>%{customdata}<extra></extra>",
            "showlegend": False,
        }
    )

    extent = np.vstack([np.atleast_2d(p) for p in extent_points])
    padding = 0.45
    hidden_axis = {"showgrid": False, "zeroline": False, "showticklabels": False}
    size = extent.max(axis=0) - extent.min(axis=0) + 2 * padding  # (x, y) in data units
    plot_height = (WIDTH_HINT - MARGIN["l"] - MARGIN["r"]) * size[1] / size[0]
    low, high = _HEIGHT_RANGE
    spec.update(
        height=int(round(min(high, max(low, plot_height + MARGIN["t"] + MARGIN["b"])))),
        annotations=annotations,
        shapes=shapes,
        xaxis=axis_title(axis_label, range=[extent[:, 0].min() - padding, extent[:, 0].max() + padding], **hidden_axis),
        yaxis={
            "range": [extent[:, 1].min() - padding, extent[:, 1].max() + padding],
            **hidden_axis,
            "scaleanchor": "x",
            "scaleratio": 1,
        },
    )
    return figure(data, spec)
