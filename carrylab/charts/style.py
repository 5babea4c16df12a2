"""Shared look of every chart: palette, colour scales, fonts and the base layout.

Why one module: the dashboard is shown on a projector and read by people with colour-vision
deficiencies, so colours and font sizes are decided once here and every builder uses the same
meaning for the same colour (blue = correct, vermillion = wrong, Okabe-Ito palette). Colour scales
are fixed (never auto-ranged) so that two frames of a live update can be compared by eye.
"""

from __future__ import annotations

import plotly.graph_objects as go

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

# Diverging scale for tanh states and weights (ColorBrewer RdBu is colour-blind safe): blue < 0 < red.
DIVERGING_SCALE = "RdBu_r"
# Sequential scale for sigmoid states (0..1) and log gradient norms.
SEQUENTIAL_SCALE = "Viridis"
# 0/1 tracks and probabilities: light grey (0) to blue (1).
TRACK_SCALE = [[0.0, "#F2F2F2"], [1.0, CORRECT_COLOUR]]
# Error rates 0..1: white (no errors) to vermillion (always wrong).
ERROR_RATE_SCALE = [[0.0, "#FFFFFF"], [1.0, WRONG_COLOUR]]

EMPTY_MESSAGE = "No training steps yet"

# Background behind the labels of reference lines, so that they stay readable over data lines.
LABEL_BACKGROUND = "rgba(255,255,255,0.85)"


def base_layout(fig: go.Figure, *, title: str, uirevision: str, height: int | None = None) -> go.Figure:
    """Apply the shared template, title, fonts and `uirevision` (zoom survives live updates)."""
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01, "xanchor": "left"},
        font={"size": FONT_SIZE},
        hoverlabel={"font_size": HOVER_FONT_SIZE},
        uirevision=uirevision,
        margin={"l": 80, "r": 30, "t": 80, "b": 70},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1.0},
    )
    if height is not None:
        fig.update_layout(height=height)
    return fig


def add_message(fig: go.Figure, text: str) -> go.Figure:
    """Centre a grey message on the plot area (used for empty inputs)."""
    fig.add_annotation(
        text=text,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": FONT_SIZE + 2, "color": NEUTRAL_GREY},
    )
    return fig


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
