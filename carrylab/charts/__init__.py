"""Plotly chart builders for the RNN Carry Lab dashboard.

Every builder is a pure function: numpy arrays / plain values in, a `plotly.graph_objects.Figure` out,
with fixed labelled colour scales, axis titles, hover templates and a `uirevision` so that zoom
survives live updates. No Streamlit here, and no computation beyond presentation (downsampling,
smoothing for display, ordering): the numbers come from `rnn_core`. Accuracies are passed as
fractions in 0..1 and drawn as percentages. `CAPTIONS` holds a one-line "what to look for" per chart.
"""

from carrylab.charts.automaton import automaton_figure
from carrylab.charts.captions import CAPTIONS
from carrylab.charts.evaluation import chain_accuracy_figure, length_generalisation_figure, pair_grid_figure
from carrylab.charts.hidden import (
    BIT_TABLE_COLUMNS,
    bit_table_columns,
    bit_table_html,
    carry_correlation_figure,
    gate_heatmap_figure,
    hidden_heatmap_figure,
    state_space_figure,
)
from carrylab.charts.network import network_figure
from carrylab.charts.style import CORRECT_COLOUR, EMPTY_MESSAGE, PRESENTATION_FONT_SIZE, WRONG_COLOUR, enlarged
from carrylab.charts.sweep import phase_diagram_figure
from carrylab.charts.training import (
    downsample,
    error_figure,
    probe_accuracy_figure,
    seed_sweep_figure,
    smooth_ema,
    spectral_radius_figure,
)
from carrylab.charts.training_heatmaps import bit_error_heatmap, gradient_flow_heatmap
from carrylab.charts.weights import weights_figure

__all__ = [
    "BIT_TABLE_COLUMNS",
    "CAPTIONS",
    "CORRECT_COLOUR",
    "EMPTY_MESSAGE",
    "PRESENTATION_FONT_SIZE",
    "WRONG_COLOUR",
    "automaton_figure",
    "bit_error_heatmap",
    "bit_table_columns",
    "bit_table_html",
    "carry_correlation_figure",
    "chain_accuracy_figure",
    "downsample",
    "enlarged",
    "error_figure",
    "gate_heatmap_figure",
    "gradient_flow_heatmap",
    "hidden_heatmap_figure",
    "network_figure",
    "length_generalisation_figure",
    "pair_grid_figure",
    "phase_diagram_figure",
    "probe_accuracy_figure",
    "seed_sweep_figure",
    "smooth_ema",
    "spectral_radius_figure",
    "state_space_figure",
    "weights_figure",
]
