"""Shared look of every chart: palette, colour scales, fonts, the base layout, and how figures are built.

Why one module: the dashboard is shown on a projector and read by people with colour-vision
deficiencies, so colours and font sizes are decided once here and every builder uses the same
meaning for the same colour (blue = correct, vermillion = wrong, Okabe-Ito palette). Colour scales
are fixed (never auto-ranged) so that two frames of a live update can be compared by eye.

Why figures are built from plain dicts: the live dashboard rebuilds its charts several times a second.
Building a figure with plotly's `update_*`/`add_*` calls and `make_subplots` validates every property on
every call and resolves and re-validates the whole "plotly_white" template each time (15-25 ms of a
20-100 ms figure). Here each builder writes the finished figure as one dict (`layout()`, `message()`,
`hline()`, `vline()` give the shared pieces) and `figure()` wraps it in a `go.Figure` in one step without
re-validation, with the template resolved once at import. What is skipped is checking only, never content:
the dicts hold exactly what plotly's validation would produce (named colour scales resolved to lists,
subplot domains computed as `make_subplots` does), and tests/test_charts.py rebuilds every chart with full
validation and requires the same JSON.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

# Okabe-Ito palette (colour-blind safe).
CORRECT_COLOUR = "#0072B2"  # blue
WRONG_COLOUR = "#D55E00"  # vermillion
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
PURPLE = "#CC79A7"
NEUTRAL_GREY = "#999999"
DARK_GREY = "#333333"

TEMPLATE = "plotly_white"
FONT_SIZE = 16  # >= 14 so that every label is readable on a projector
HOVER_FONT_SIZE = 14
PRESENTATION_FONT_SIZE = 20  # presentation mode (a projector, read from the back of a room)


def _resolved_colorscale(name: str) -> list[list]:
    """A named scale as the [position, colour] list plotly's validation turns it into (plotly.js itself knows no
    reversed "_r" names); resolved once here because figures are built without that validation."""
    return go.Heatmap(colorscale=name).to_plotly_json()["colorscale"]


# Diverging scale for tanh states and weights (ColorBrewer RdBu is colour-blind safe): blue < 0 < red.
DIVERGING_SCALE = _resolved_colorscale("RdBu_r")
# Sequential scale for sigmoid states (0..1) and log gradient norms.
SEQUENTIAL_SCALE = _resolved_colorscale("Viridis")
# 0/1 tracks and probabilities: light grey (0) to blue (1).
TRACK_SCALE = [[0.0, "#F2F2F2"], [1.0, CORRECT_COLOUR]]
# Error rates 0..1: light grey (no errors; white cells on the white page read as an empty plot) to vermillion.
ERROR_RATE_SCALE = [[0.0, "#F2F2F2"], [1.0, WRONG_COLOUR]]

EMPTY_MESSAGE = "No training steps yet"

# Background behind the labels of reference lines, so that they stay readable over data lines.
LABEL_BACKGROUND = "rgba(255,255,255,0.85)"


# The template as a plain dict, resolved once: every figure gets a copy of it (plotly copies the layout it is given).
_TEMPLATE_SPEC = pio.templates[TEMPLATE].to_plotly_json()
_MARGIN = {"l": 80, "r": 30, "t": 80, "b": 70}
_LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1.0}


def layout(*, title: str, uirevision: str, height: int | None = None, **properties) -> dict:
    """The shared layout as a dict: template, title, fonts, margins, legend and `uirevision` (zoom survives
    live updates), plus the figure's own `properties` (axes, shapes, annotations, ...)."""
    spec = {
        "template": _TEMPLATE_SPEC,
        # the title at the top of the figure, the legend just above the plot: on a narrow page the legend wraps
        # onto a second line and grows upwards, and a title centred in the top margin would then run into it
        "title": {"text": title, "x": 0.01, "xanchor": "left", "y": 0.985, "yref": "container", "yanchor": "top"},
        "font": {"size": FONT_SIZE},
        "hoverlabel": {"font": {"size": HOVER_FONT_SIZE}},
        "uirevision": uirevision,
        "margin": _MARGIN,
        "legend": _LEGEND,
    }
    if height is not None:
        spec["height"] = height
    spec.update(properties)
    return spec


def margins(*, left: int | None = None, right: int | None = None) -> dict:
    """The shared margins (px), with the left or right one widened."""
    out = dict(_MARGIN)
    if left is not None:
        out["l"] = max(out["l"], left)
    if right is not None:
        out["r"] = max(out["r"], right)
    return out


def figure(data: list[dict], layout: dict, frames: list[dict] | None = None) -> go.Figure:
    """One `go.Figure` from finished trace dicts (each with its "type") and a layout dict, built in one step.

    Plotly's per-property validation is skipped with the figure's `_validate=False` (private: added in plotly.py
    4.7, PR #2403, the same switch plotly's own template loading uses; plotly 7.1 has no public one, see plotly.py
    issue #1812). Validation cost more than everything else in a live frame, and tests/test_charts.py rebuilds
    every chart with full validation and requires the same JSON. frames: an animation's frames (dicts with a name,
    the changed traces' data and their indices). Plotly copies `data` and `layout`, so shared constants stay
    untouched, and the figure behaves like any other afterwards (`update_layout` etc. work).
    """
    spec = {"data": data, "layout": layout, **({"frames": frames} if frames else {})}
    try:
        return go.Figure(spec, _validate=False)
    except TypeError:  # a plotly without the switch ("invalid Figure property: _validate"): validate, same figure
        return go.Figure(spec)


def axis_title(text: str, **properties) -> dict:
    """An axis dict with a title (plus any other axis properties). Tick labels are drawn even where they would
    overflow the chart ("allow"): the default for numeric axes, "hide past div", measures every tick label's box on
    every redraw, about 30 ms of browser time per live frame of the training view."""
    return {"title": {"text": text}, "ticklabeloverflow": "allow", **properties}


def message(text: str) -> dict:
    """A grey message centred on the plot area (an annotation dict, used for empty inputs)."""
    return {
        "font": {"color": NEUTRAL_GREY, "size": FONT_SIZE + 2},
        "showarrow": False,
        "text": text,
        "x": 0.5,
        "xref": "paper",
        "y": 0.5,
        "yref": "paper",
    }


def hline(y: float, line: dict, text: str | None = None, *, bgcolor: str | None = None) -> tuple[dict, list[dict]]:
    """A horizontal reference line across the plot at data y, labelled top right: (shape, [annotation])
    as `fig.add_hline(..., annotation_position="top right")` makes them."""
    shape = {"line": line, "type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": y, "y1": y, "yref": "y"}
    if text is None:
        return shape, []
    label = {"showarrow": False, "text": text, "x": 1, "xanchor": "right", "xref": "x domain"}
    label.update({"y": y, "yanchor": "bottom", "yref": "y"})
    if bgcolor is not None:
        label["bgcolor"] = bgcolor
    return shape, [label]


def vline(x: float, line: dict, text: str | None = None, *, bgcolor: str | None = None) -> tuple[dict, list[dict]]:
    """A vertical reference line over the plot's height at data x, labelled bottom right: (shape, [annotation])
    as `fig.add_vline(..., annotation_position="bottom right")` makes them."""
    shape = {"line": line, "type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"}
    if text is None:
        return shape, []
    label = {"showarrow": False, "text": text, "x": x, "xanchor": "left", "xref": "x"}
    label.update({"y": 0, "yanchor": "bottom", "yref": "y domain"})
    if bgcolor is not None:
        label["bgcolor"] = bgcolor
    return shape, [label]


def enlarged(fig: go.Figure, *, height: int | None = None, font_size: int = PRESENTATION_FONT_SIZE) -> go.Figure:
    """A copy of the figure for presentation mode: every text larger by font_size / FONT_SIZE, the ones given their
    own size (cell text, edge and panel labels) as well as those that follow the figure's font; optionally a new
    height. Never smaller: a factor below 1 leaves the sizes as they are. The figure given is left as it is (its
    dicts may be shared with other figures and module constants: figures are built without copying them)."""
    factor = max(1.0, font_size / FONT_SIZE)
    spec = fig.to_dict()  # a deep copy
    spec_layout = spec.setdefault("layout", {})
    spec_layout["font"] = {**spec_layout.get("font", {}), "size": round(FONT_SIZE * factor)}
    if height is not None:
        spec_layout["height"] = height
    # new font dicts: deepcopy keeps one dict shared by several annotations shared, and it would be scaled each time
    for annotation in spec_layout.get("annotations", []):
        font = annotation.get("font", {})
        if font.get("size"):
            annotation["font"] = {**font, "size": round(font["size"] * factor)}
    for trace in spec["data"]:
        font = trace.get("textfont", {})
        if isinstance(font.get("size"), int | float):
            trace["textfont"] = {**font, "size": round(font["size"] * factor)}
    return figure(spec["data"], spec_layout)


def discrete_colorscale(colours: list[str]) -> list[list]:
    """A stepped colour scale with one flat band per colour, for integer z in 0..len(colours)-1.

    Use with zmin=-0.5, zmax=len(colours)-0.5 so that integer k falls in the middle of band k.
    """
    n = len(colours)
    scale: list[list] = []
    for k, colour in enumerate(colours):
        scale.append([k / n, colour])
        scale.append([(k + 1) / n, colour])
    return scale


def blend(colour_a: str, colour_b: str, t: float) -> str:
    """Linear RGB blend of two '#RRGGBB' colours; t=0 gives colour_a, t=1 gives colour_b."""
    rgb_a = [int(colour_a[i : i + 2], 16) for i in (1, 3, 5)]
    rgb_b = [int(colour_b[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(a + (b - a) * t) for a, b in zip(rgb_a, rgb_b, strict=True)]
    return "#" + "".join(f"{c:02X}" for c in mixed)


def wrong_shades(n: int) -> list[str]:
    """n shades of the wrong colour, light (1 wrong bit) to dark (n wrong bits)."""
    if n <= 1:
        return [WRONG_COLOUR][:n]
    light, dark = "#F6C3A0", "#5E2600"
    shades = []
    for k in range(n):
        t = k / (n - 1)
        shades.append(blend(light, WRONG_COLOUR, 2 * t) if t <= 0.5 else blend(WRONG_COLOUR, dark, 2 * t - 1))
    return shades


def tick_step(n: int, max_ticks: int = 16) -> int:
    """Tick spacing that shows at most about `max_ticks` integer ticks for n categories."""
    return max(1, -(-n // max_ticks))
