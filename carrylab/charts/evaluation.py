"""Charts of where the trained net is right and wrong: by carry-chain length, by operand pair, by width.

Why: one accuracy number hides the structure of the mistakes. A net that has not learned to hold
the carry fails on long carry chains; the pair grid shows those failures as stripes (e.g. along
a + b = 2^k); the width sweep shows whether the learned rule generalises beyond the trained length.
All accuracies come in as fractions 0..1 and are shown as percentages.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from carrylab.charts.style import (
    CORRECT_COLOUR,
    DARK_GREY,
    LABEL_BACKGROUND,
    ORANGE,
    axis_title,
    discrete_colorscale,
    figure,
    layout,
    message,
    vline,
    wrong_shades,
)
from carrylab.charts.validate import as_array, check_fraction, check_same_length

_PERCENT_RANGE = [0, 102]


def chain_accuracy_figure(
    chain_lengths: np.ndarray,
    accuracy: np.ndarray,
    counts: np.ndarray,
    *,
    title: str = "Accuracy by longest carry chain",
) -> go.Figure:
    """Bar per longest-carry-chain length with the accuracy of the examples in that group.

    chain_lengths: (G,) int; accuracy: (G,) fractions in 0..1 (NaN for an empty group);
    counts: (G,) int number of examples in each group (shown on hover).
    """
    chain_lengths = as_array("chain_lengths", chain_lengths, ndim=1, dtype=None)
    accuracy = as_array("accuracy", accuracy, ndim=1)
    counts = as_array("counts", counts, ndim=1, dtype=np.int64)
    check_same_length(chain_lengths=chain_lengths, accuracy=accuracy, counts=counts)
    check_fraction("accuracy", accuracy)
    percent = accuracy * 100.0

    bars = {
        "type": "bar",
        "x": chain_lengths,
        "y": percent,
        "customdata": counts,
        "marker": {"color": CORRECT_COLOUR},
        "text": np.array([f"{p:.0f}%" if np.isfinite(p) else "" for p in percent], dtype=str),
        "textposition": "outside",
        "cliponaxis": False,
        "name": "accuracy",
        "hovertemplate": "longest carry chain %{x}<br>accuracy %{y:.1f}%<br>%{customdata:,} examples<extra></extra>",
    }
    extra = {"annotations": [message("No evaluation yet")]} if chain_lengths.size == 0 else {}
    return figure(
        [bars],
        layout(
            title=title,
            uirevision="chain_accuracy_figure",
            xaxis=axis_title("length of the longest carry chain (bits)", dtick=1),
            yaxis=axis_title("accuracy (%)", range=[0, 110]),
            **extra,
        ),
    )


def pair_grid_figure(
    a_values: np.ndarray,
    b_values: np.ndarray,
    wrong_bits: np.ndarray,
    *,
    answer: np.ndarray | None = None,
    net_answer: np.ndarray | None = None,
    n_bits: int | None = None,
    title: str = "Wrong bits for every operand pair",
) -> go.Figure:
    """Grid over all operand pairs (a on y, b on x) coloured by the number of wrong output bits.

    a_values: (A,) int; b_values: (B,) int; wrong_bits: (A, B) int in 0..n_bits.
    answer, net_answer: (A, B) int true and predicted results, both or neither; shown on hover
        via customdata: (A, B, 2).
    n_bits: number of colour bands above 0 (default: the largest count in wrong_bits, at least 1).
    0 wrong bits is drawn in the correct colour, 1..n_bits in darkening shades of the wrong colour.
    """
    a_values = as_array("a_values", a_values, ndim=1, dtype=None)
    b_values = as_array("b_values", b_values, ndim=1, dtype=None)
    wrong_bits = as_array("wrong_bits", wrong_bits, ndim=2, dtype=np.int64)
    if wrong_bits.shape != (a_values.shape[0], b_values.shape[0]):
        raise ValueError(
            f"wrong_bits must have shape (len(a_values), len(b_values)) = "
            f"{(a_values.shape[0], b_values.shape[0])}, got {wrong_bits.shape}"
        )
    if wrong_bits.size and wrong_bits.min() < 0:
        raise ValueError("wrong_bits must be >= 0")
    largest = int(wrong_bits.max()) if wrong_bits.size else 0
    if n_bits is None:
        n_bits = max(1, largest)
    elif largest > n_bits:
        raise ValueError(f"wrong_bits holds {largest} wrong bits but n_bits = {n_bits}")

    if (answer is None) != (net_answer is None):
        raise ValueError("answer and net_answer must be given together")
    hover = "a = %{y}<br>b = %{x}<br>wrong bits: %{z}"
    customdata = None
    if answer is not None:
        answer = as_array("answer", answer, ndim=2, dtype=None)
        net_answer = as_array("net_answer", net_answer, ndim=2, dtype=None)
        for name, grid in (("answer", answer), ("net_answer", net_answer)):
            if grid.shape != wrong_bits.shape:
                raise ValueError(f"{name} must have shape {wrong_bits.shape} like wrong_bits, got {grid.shape}")
        customdata = np.stack([answer, net_answer], axis=-1)  # (A, B, 2)
        hover = "a = %{y}<br>b = %{x}<br>true answer %{customdata[0]}<br>net's answer %{customdata[1]}"
        hover += "<br>wrong bits: %{z}"

    colours = [CORRECT_COLOUR, *wrong_shades(n_bits)]
    band_ticks = np.arange(n_bits + 1)
    heatmap = {
        "type": "heatmap",
        "x": b_values,
        "y": a_values,
        "z": wrong_bits,
        "zmin": -0.5,
        "zmax": n_bits + 0.5,
        "colorscale": discrete_colorscale(colours),
        "colorbar": {
            "title": {"text": "wrong bits", "side": "right"},
            "tickvals": band_ticks,
            "ticktext": [str(k) for k in band_ticks.tolist()],
        },
        "hovertemplate": hover + "<extra></extra>",
    }
    if customdata is not None:
        heatmap["customdata"] = customdata
    extra = {"annotations": [message("No evaluation yet")]} if wrong_bits.size == 0 else {}
    return figure(
        [heatmap],
        layout(
            title=title,
            uirevision="pair_grid_figure",
            height=640,
            xaxis=axis_title("b", constrain="domain", showgrid=False),
            yaxis=axis_title("a", scaleanchor="x", scaleratio=1, constrain="domain", showgrid=False),
            **extra,
        ),
    )


def length_generalisation_figure(
    widths: np.ndarray,
    acc_random: np.ndarray,
    acc_chain: np.ndarray | None,
    *,
    train_width: int,
    title: str = "Does it generalise to longer numbers?",
) -> go.Figure:
    """Accuracy vs bit width for random operand pairs and for long-carry-chain cases.

    widths: (W,) int bit widths; acc_random, acc_chain: (W,) fractions in 0..1 (acc_chain may be
    None). A dashed vertical line marks the width the net was trained on.
    """
    widths = as_array("widths", widths, ndim=1, dtype=None)
    acc_random = as_array("acc_random", acc_random, ndim=1)
    check_same_length(widths=widths, acc_random=acc_random)
    check_fraction("acc_random", acc_random)
    series = [("random pairs", acc_random, CORRECT_COLOUR, "circle", "solid")]
    if acc_chain is not None:
        acc_chain = as_array("acc_chain", acc_chain, ndim=1)
        check_same_length(widths=widths, acc_chain=acc_chain)
        check_fraction("acc_chain", acc_chain)
        series.append(("carry-chain cases", acc_chain, ORANGE, "square", "dash"))

    data = [
        {
            "type": "scatter",
            "x": widths,
            "y": accuracy * 100.0,
            "mode": "lines+markers",
            "name": name,
            "line": {"color": colour, "width": 3, "dash": dash},
            "marker": {"size": 9, "symbol": symbol},
            "cliponaxis": False,
            "hovertemplate": f"{name}<br>%{{x}} bits<br>accuracy %{{y:.1f}}%<extra></extra>",
        }
        for name, accuracy, colour, symbol, dash in series
    ]
    line = {"color": DARK_GREY, "width": 2, "dash": "dash"}
    shape, annotations = vline(train_width, line, f"trained on {train_width} bits", bgcolor=LABEL_BACKGROUND)
    if widths.size == 0:
        annotations.append(message("No evaluation yet"))
    return figure(
        data,
        layout(
            title=title,
            uirevision="length_generalisation_figure",
            shapes=[shape],
            annotations=annotations,
            xaxis=axis_title("bit width", rangemode="tozero"),
            # the y axis's "0" lifted off the x axis's "0" (both axes start at 0 in the same corner)
            yaxis=axis_title("accuracy (%)", range=[-5, _PERCENT_RANGE[1]], zeroline=False),
        ),
    )
