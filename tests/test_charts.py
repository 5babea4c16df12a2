"""Tests of the Plotly chart builders: they assert on the figure data (trace types, z shapes, colour
ranges, labels, hover templates, downsampling bounds) and on the ValueError a bad input gets.
Pixels are not tested here."""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import carrylab.charts as charts
from carrylab.charts import (
    BIT_TABLE_COLUMNS,
    CAPTIONS,
    CORRECT_COLOUR,
    EMPTY_MESSAGE,
    WRONG_COLOUR,
    automaton_figure,
    bit_error_heatmap,
    bit_table_columns,
    bit_table_html,
    carry_correlation_figure,
    chain_accuracy_figure,
    downsample,
    enlarged,
    error_figure,
    gate_heatmap_figure,
    gradient_flow_heatmap,
    hidden_heatmap_figure,
    length_generalisation_figure,
    network_figure,
    pair_grid_figure,
    phase_diagram_figure,
    probe_accuracy_figure,
    seed_sweep_figure,
    smooth_ema,
    spectral_radius_figure,
    state_space_figure,
    weights_figure,
)
from carrylab.charts.training import log_ticks

T, H = 6, 4
# The reference serial adder: (src, (a, b), dst, out); state 0 = carry 0, state 1 = carry 1.
REFERENCE_ADDER = [
    (0, (0, 0), 0, 0),
    (0, (0, 1), 0, 1),
    (0, (1, 0), 0, 1),
    (0, (1, 1), 1, 0),
    (1, (0, 0), 0, 1),
    (1, (0, 1), 1, 0),
    (1, (1, 0), 1, 0),
    (1, (1, 1), 1, 1),
]


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations if a.text]


# A 3 x 2 grid (eta down, n_hidden across): runs, solved and quartiles per point; (3.0, 8) had no runs.
PHASE_STATS = {
    "runs": np.array([[4, 4], [4, 4], [4, np.nan]]),
    "solved": np.array([[1, 4], [3, 2], [0, np.nan]]),
    "median": np.array([[np.nan, 600.0], [900.0, 1500.0], [np.nan, np.nan]]),
    "q1": np.array([[1200.0, 500.0], [700.0, 800.0], [np.nan, np.nan]]),
    "q3": np.array([[np.nan, 700.0], [np.nan, np.nan], [np.nan, np.nan]]),
}


def _phase_diagram(metric: str) -> go.Figure:
    return phase_diagram_figure("n_hidden", [4, 8], "eta", [0.1, 1.0, 3.0], PHASE_STATS, metric=metric, budget=2000)


def _example_figures() -> dict[str, go.Figure]:
    """One small figure per builder, keyed by builder name."""
    rng = _rng()
    eval_steps = np.array([0, 10, 20])
    a = np.array([1, 0, 1, 1, 0, 0])
    b = np.array([1, 1, 0, 1, 0, 0])
    grid = np.arange(4)
    return {
        "error_figure": error_figure(
            np.arange(50), rng.random(50), eval_steps=eval_steps, accuracy=np.array([0.1, 0.5, 1.0])
        ),
        "hidden_heatmap_figure": hidden_heatmap_figure(np.tanh(rng.standard_normal((T, H))), tracks={"a": a, "b": b}),
        "gate_heatmap_figure": gate_heatmap_figure(
            {"input": rng.random((T, H)), "forget": rng.random((T, H))}, tracks={"a": a, "b": b}
        ),
        "network_figure": network_figure(
            np.column_stack([a, b]).astype(float),
            np.tanh(rng.standard_normal((T, H))),
            rng.random(T),
            rng.standard_normal((2, H)),
            rng.standard_normal((H, H)),
            rng.standard_normal(H),
            input_names=["a", "b"],
            gates={"forget": rng.random((T, H))},
            step=2,
        ),
        "carry_correlation_figure": carry_correlation_figure(np.array([0.1, -0.9, 0.5, 0.0])),
        "probe_accuracy_figure": probe_accuracy_figure(eval_steps, np.array([0.5, 0.8, 1.0])),
        "bit_error_heatmap": bit_error_heatmap(eval_steps, rng.random((3, T))),
        "chain_accuracy_figure": chain_accuracy_figure(np.arange(3), np.array([1.0, 0.8, 0.5]), [10, 5, 1]),
        "pair_grid_figure": pair_grid_figure(grid, grid, np.zeros((4, 4), dtype=int)),
        "length_generalisation_figure": length_generalisation_figure(
            np.array([4, 8, 16]), np.array([1.0, 1.0, 0.5]), np.array([1.0, 0.9, 0.2]), train_width=8
        ),
        "gradient_flow_heatmap": gradient_flow_heatmap(eval_steps, rng.random((3, T)) + 0.01),
        "weights_figure": weights_figure(
            rng.standard_normal((2, H)), rng.standard_normal((H, H)), rng.standard_normal((H, 1))
        ),
        "spectral_radius_figure": spectral_radius_figure(eval_steps, np.array([0.5, 0.9, 1.2])),
        "state_space_figure": state_space_figure(rng.standard_normal((20, 2)), rng.integers(0, 2, 20)),
        "automaton_figure": automaton_figure(2, REFERENCE_ADDER, state_labels=["carry 0", "carry 1"]),
        "seed_sweep_figure": seed_sweep_figure(np.arange(3), np.array([100.0, np.nan, 250.0])),
        "phase_diagram_figure": _phase_diagram("share"),
    }


@pytest.fixture(scope="module")
def example_figures() -> dict[str, go.Figure]:
    return _example_figures()


# ---------------------------------------------------------------- shared requirements of every chart


def test_every_builder_has_a_one_line_caption(example_figures):
    assert set(CAPTIONS) == set(example_figures)
    for name, caption in CAPTIONS.items():
        assert caption.strip() and "\n" not in caption, name
        assert callable(getattr(charts, name))


def test_every_chart_has_title_template_font_and_uirevision(example_figures):
    for name, fig in example_figures.items():
        assert fig.layout.title.text, name
        assert fig.layout.font.size >= 14, name
        assert fig.layout.uirevision, name
        assert fig.layout.template == pio.templates["plotly_white"], name


def test_every_chart_has_axis_titles(example_figures):
    for name, fig in example_figures.items():
        if name == "network_figure":  # a node-link drawing: its axes are hidden, its columns titled in the plot
            assert not fig.layout.xaxis.visible and len(fig.layout.annotations) >= 4
            continue
        x_titles = [fig.layout[key].title.text for key in fig.layout if key.startswith("xaxis")]
        assert any(x_titles), name
        if name != "automaton_figure":  # the automaton's y axis carries no quantity
            y_titles = [fig.layout[key].title.text for key in fig.layout if key.startswith("yaxis")]
            assert any(y_titles), name


def test_every_trace_is_svg_with_hover_and_numpy_payload(example_figures):
    for name, fig in example_figures.items():
        for trace in fig.data:
            assert trace.type in {"scatter", "heatmap", "bar"}, (name, trace.type)
            assert trace.hovertemplate or trace.hoverinfo == "skip", (name, trace.name)
            for field in ("x", "y", "z"):
                value = getattr(trace, field, None)
                if value is not None:
                    assert isinstance(value, np.ndarray), (name, trace.name, field)


def test_every_figure_serialises_to_json(example_figures):
    for name, fig in example_figures.items():
        assert len(fig.to_json()) > 100, name


def _option_figures() -> list[go.Figure]:
    """Figures using the options the small examples leave out, and the empty cases."""
    rng = _rng()
    grid = np.arange(4)
    answer = grid[:, None] + grid[None, :]
    return [
        error_figure(np.arange(50), rng.random(50), log_y=True, solved_step=20, max_points=10),
        error_figure([], [], eval_steps=[], accuracy=[]),
        hidden_heatmap_figure(
            _hidden(), tracks=None, activation="sigmoid", unit_order=[3, 1, 0, 2], highlight_units=[1]
        ),
        hidden_heatmap_figure(_hidden(), tracks={"P(y=1)": rng.random(T)}, highlight_units=[0, 3]),
        state_space_figure(rng.standard_normal((30, 2)), rng.integers(0, 2, 30), cluster=rng.integers(0, 9, 30)),
        pair_grid_figure(grid, grid, np.eye(4, dtype=int), answer=answer, net_answer=answer + np.eye(4, dtype=int)),
        gradient_flow_heatmap(np.array([0, 5]), np.array([[0.0, 1.0, np.inf], [1e-5, 1e3, 2.0]])),
        seed_sweep_figure(np.arange(4), np.array([np.nan, 3.0, np.nan, 9.0]), budget=20),
        length_generalisation_figure([4, 8], [1.0, 0.5], None, train_width=4),
        automaton_figure(3, [(0, (1, 1), 1, 0), (1, (0, 0), 0, 1), (2, (0, 1), 2, 1)], initial_state=None),
        automaton_figure(0, []),
        carry_correlation_figure([]),
    ]


def test_every_figure_is_what_plotly_validation_makes_of_it(example_figures):
    # The builders skip plotly's per-property validation for speed; a fully validated rebuild must be identical.
    for name, fig in [*example_figures.items(), *enumerate(_option_figures())]:
        validated = go.Figure(fig.to_dict())
        assert json.loads(validated.to_json()) == json.loads(fig.to_json()), name


def test_figures_share_no_mutable_state():
    first = carry_correlation_figure(np.array([0.5, -0.5]))
    first.layout.template.layout.font.size = 99
    first.layout.margin.l = 1
    first.data[0].marker.color = np.array(["red", "red"])
    second = carry_correlation_figure(np.array([0.5, -0.5]))
    assert second.layout.template == pio.templates["plotly_white"]
    assert second.layout.margin.l == 80
    assert list(second.data[0].marker.color) != ["red", "red"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: error_figure([], []),
        lambda: error_figure(np.array([], dtype=int), np.array([]), log_y=True),
        lambda: probe_accuracy_figure([], []),
        lambda: bit_error_heatmap(np.zeros(0), np.zeros((0, T))),
        lambda: gradient_flow_heatmap(np.zeros(0), np.zeros((0, T))),
        lambda: spectral_radius_figure([], []),
        lambda: seed_sweep_figure([], []),
        lambda: chain_accuracy_figure([], [], []),
        lambda: pair_grid_figure([], [], np.zeros((0, 0))),
        lambda: length_generalisation_figure([], [], [], train_width=8),
        lambda: carry_correlation_figure([]),
        lambda: state_space_figure(np.zeros((0, 2)), []),
        lambda: automaton_figure(0, []),
    ],
)
def test_empty_input_gives_titled_figure_with_message(build):
    fig = build()
    assert fig.layout.title.text
    assert _annotation_texts(fig), "an empty chart says why it is empty"


# ---------------------------------------------------------------- smoothing and downsampling


def test_smooth_ema_weight_zero_is_identity():
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    np.testing.assert_array_equal(smooth_ema(values, 0.0), values)


def test_smooth_ema_matches_hand_computed_debiased_average():
    # weight 0.5: running average 0.5, 1.25, 2.125 divided by 1 - 0.5**k = 0.5, 0.75, 0.875.
    np.testing.assert_allclose(smooth_ema(np.array([1.0, 2.0, 3.0]), 0.5), [1.0, 1.25 / 0.75, 2.125 / 0.875])


def test_smooth_ema_first_value_is_debiased_not_pulled_to_zero():
    assert smooth_ema(np.array([4.0, 0.0, 0.0]), 0.9)[0] == pytest.approx(4.0)


def test_smooth_ema_passes_nan_through_without_updating():
    smoothed = smooth_ema(np.array([1.0, np.nan, 3.0]), 0.5)
    assert np.isnan(smoothed[1])
    np.testing.assert_allclose(smoothed[[0, 2]], [1.0, (0.25 + 1.5) / 0.75])


def test_smooth_ema_leaves_constant_series_unchanged():
    np.testing.assert_array_equal(smooth_ema(np.full(7, 0.3), 0.99), np.full(7, 0.3))


def _ema_step_by_step(values: np.ndarray, weight: float) -> np.ndarray:
    """The definition, one value at a time."""
    out, last, k = values.astype(float), 0.0, 0
    for i, value in enumerate(values):
        if np.isfinite(value):
            last, k = last * weight + (1 - weight) * value, k + 1
            out[i] = last / (1 - weight**k)
    return out


@pytest.mark.parametrize("weight", [0.01, 0.6, 0.9, 0.99, 0.999, 1e-12])
def test_smooth_ema_matches_the_step_by_step_definition(weight):
    rng = _rng()
    for n in (1, 2, 17, 3_000):
        values = rng.standard_normal(n) * 1e3
        values[rng.random(n) < 0.05] = np.nan
        values[rng.random(n) < 0.01] = np.inf
        expected = _ema_step_by_step(values, weight)
        np.testing.assert_allclose(smooth_ema(values, weight), expected, rtol=1e-9, atol=1e-9)


def test_smooth_ema_of_huge_values_does_not_overflow():
    values = np.array([1e300, -1e300, 1e300, 0.0])
    np.testing.assert_allclose(smooth_ema(values, 0.5), _ema_step_by_step(values, 0.5))


@pytest.mark.parametrize("weight", [1.0, -0.1, 1.5])
def test_smooth_ema_rejects_weight_outside_unit_interval(weight):
    with pytest.raises(ValueError, match="smoothing weight"):
        smooth_ema(np.ones(3), weight)


@pytest.mark.parametrize("method", ["minmax", "stride"])
def test_downsample_bounds_points_and_keeps_first_and_last(method):
    x = np.arange(10_000)
    y = _rng().random(10_000)
    x_shown, y_shown = downsample(x, y, 500, method=method)
    assert 400 <= len(x_shown) <= 500
    assert x_shown[0] == 0 and x_shown[-1] == 9_999
    assert np.all(np.diff(x_shown) > 0)
    np.testing.assert_array_equal(y_shown, y[x_shown])


def test_downsample_minmax_keeps_an_isolated_spike():
    y = np.zeros(10_000)
    y[4321] = 50.0
    y[777] = -50.0
    x_shown, y_shown = downsample(np.arange(10_000), y, 100)
    assert 4321 in x_shown and 777 in x_shown
    assert y_shown.max() == 50.0 and y_shown.min() == -50.0


def _minmax_per_bucket(y: np.ndarray, max_points: int) -> np.ndarray:
    """The definition: first and last point plus each bucket's (first) argmin and argmax, non-finite never chosen."""
    n, n_buckets = len(y), (max_points - 2) // 2
    low, high = np.where(np.isfinite(y), y, np.inf), np.where(np.isfinite(y), y, -np.inf)
    edges = np.linspace(1, n - 1, n_buckets + 1).astype(np.int64)
    keep = [0, n - 1]
    for start, stop in zip(edges[:-1], edges[1:], strict=True):
        if stop > start:
            keep += [start + int(np.argmin(low[start:stop])), start + int(np.argmax(high[start:stop]))]
    return np.unique(keep)


@pytest.mark.parametrize("max_points", [4, 5, 100, 999])
def test_downsample_minmax_keeps_each_buckets_first_min_and_max(max_points):
    rng = _rng()
    for n in (max_points + 1, 2 * max_points + 3, 10_000):
        y = np.round(rng.standard_normal(n), 1)  # many ties: the first of equal values is kept
        y[rng.random(n) < 0.02] = np.nan
        x_shown, _ = downsample(np.arange(n), y, max_points)
        np.testing.assert_array_equal(x_shown, _minmax_per_bucket(y, max_points))


def test_downsample_short_series_is_unchanged():
    x, y = np.arange(5), np.arange(5.0)
    x_shown, y_shown = downsample(x, y, 10)
    np.testing.assert_array_equal(x_shown, x)
    np.testing.assert_array_equal(y_shown, y)


def test_downsample_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="length mismatch"):
        downsample(np.arange(5), np.arange(4.0), 10)


# ---------------------------------------------------------------- error_figure


def test_error_figure_draws_raw_and_smoothed_error_and_accuracy_in_percent():
    error = np.array([0.9, 0.7, 0.8, 0.4, 0.2])
    fig = error_figure(np.arange(5), error, smoothing=0.5, eval_steps=np.array([0, 4]), accuracy=np.array([0.25, 1.0]))
    raw, smooth, accuracy = fig.data
    np.testing.assert_array_equal(raw.y, error)
    np.testing.assert_allclose(smooth.y, smooth_ema(error, 0.5))
    np.testing.assert_allclose(accuracy.y, [25.0, 100.0])
    assert accuracy.yaxis == "y2" and raw.yaxis == "y"
    assert fig.layout.yaxis2.title.text == "exhaustive accuracy (%)"
    assert fig.layout.yaxis2.range[0] <= 0 and fig.layout.yaxis2.range[1] >= 100
    assert fig.layout.xaxis.title.text == "training step"


def _zero_share(axis_range) -> float:
    """Where 0 sits on an axis, as a share of its height from the bottom."""
    low, high = axis_range
    return -low / (high - low)


@pytest.mark.parametrize("steps", [0, 5, 300])
def test_error_figure_zero_lines_of_both_axes_coincide_and_lift_the_accuracy_zero_off_the_x_axis(steps):
    """The issue measured the error's and the accuracy's zero lines 13 px apart, and the accuracy axis's "0" on top of
    the x axis's last label at step 0: both zeros at the same height, above the bottom edge."""
    rng = _rng()
    error = rng.random(steps) * 0.7 + 0.01
    fig = error_figure(np.arange(steps), error, eval_steps=np.array([0]), accuracy=np.array([0.0]))
    left, right = fig.layout.yaxis.range, fig.layout.yaxis2.range
    assert left is not None and right is not None
    assert _zero_share(left) == pytest.approx(_zero_share(right), abs=1e-9)
    # 4 % of a 270-pixel plot is 11 px: half a 16-px tick label sits above the axis line
    assert _zero_share(right) >= 0.04
    if steps:  # every raw value inside the plot, and the top not wasted
        assert left[1] >= error.max() and left[1] <= 1.05 * error.max()


def test_error_figure_names_the_solved_step_in_the_legend_not_on_the_plot():
    steps, error = np.arange(200), np.linspace(1, 0, 200)
    fig = error_figure(steps, error, solved_step=120, eval_steps=np.array([0, 100]), accuracy=np.array([0.0, 1.0]))
    assert not any("solved" in text for text in _annotation_texts(fig))  # no label over the curve
    (line,) = [trace for trace in fig.data if trace.name == "solved at step 120"]
    assert list(line.x) == [120, 120] and line.yaxis == "y2"
    assert list(line.y) == list(fig.layout.yaxis2.range)  # the whole height of the plot
    assert line.showlegend is not False


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.004, 1.3, [0.01, 0.1, 1.0]),
        (0.012, 0.9, [0.02, 0.05, 0.1, 0.2, 0.5]),
        (1e-6, 2.0, [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0]),
        (1.9, 2.4, [1.9, 2.4]),
        (0.15, 0.9, [0.2, 0.5]),
    ],
)
def test_log_ticks_are_powers_of_ten_with_2_and_5_only_on_short_ranges(low, high, expected):
    """No small-digit labels ("2" beside "2.2"): hand-picked tick lists for ranges of 2.5, 6.3, 0.1 and 0.8 decades."""
    np.testing.assert_allclose(log_ticks(low, high), expected, rtol=1e-12)


def test_log_error_axis_labels_are_at_least_a_label_height_apart():
    """On a 270-pixel plot, the closest two labels of a log error axis are >= 16 px (the font size) apart."""
    for low, high in ((0.004, 1.3), (0.5, 2.3), (1e-7, 3.0), (0.09, 0.11)):
        error = np.geomspace(high, low, 50)
        axis = error_figure(np.arange(50), error, log_y=True).layout.yaxis
        ticks = np.log10(np.asarray(axis.tickvals, dtype=float))
        pixels_per_decade = 270 / (axis.range[1] - axis.range[0])
        assert np.diff(ticks).min() * pixels_per_decade >= 16, (low, high, axis.tickvals)
        assert axis.range[0] <= np.log10(low) and axis.range[1] >= np.log10(high)


def test_error_figure_smooths_full_series_before_downsampling():
    rng = _rng()
    error = rng.random(5_000)
    fig = error_figure(np.arange(5_000), error, smoothing=0.9, max_points=300)
    raw, smooth = fig.data
    assert len(raw.x) <= 300 and len(smooth.x) <= 300
    assert raw.x[-1] == 4_999 and smooth.x[-1] == 4_999
    full = smooth_ema(error, 0.9)
    np.testing.assert_allclose(smooth.y, full[smooth.x])


def test_error_figure_marks_each_evaluation_only_while_they_are_few():
    steps, error = np.arange(1_000), np.linspace(1, 0, 1_000)
    few = error_figure(steps, error, eval_steps=np.arange(0, 1_000, 10), accuracy=np.linspace(0, 1, 100)).data[2]
    assert few.mode == "lines+markers" and len(few.x) == 100
    accuracy = np.linspace(0, 1, 400)
    accuracy[123] = 0.0  # a sudden drop must stay visible after thinning
    many = error_figure(steps, error, eval_steps=np.arange(400), accuracy=accuracy, max_points=150).data[2]
    assert many.mode == "lines"
    assert len(many.x) <= 150 and 123 in many.x
    for build in (probe_accuracy_figure, spectral_radius_figure):
        assert build(np.arange(400), np.full(400, 0.5)).data[0].mode == "lines"
        assert build(np.arange(3), np.full(3, 0.5)).data[0].mode == "lines+markers"


def test_error_figure_log_axis_toggle():
    steps, error = np.arange(3), np.array([1.0, 0.1, 0.01])
    assert error_figure(steps, error, log_y=True).layout.yaxis.type == "log"
    assert error_figure(steps, error, log_y=False).layout.yaxis.type == "linear"


def test_error_figure_solved_marker_iff_solved_step_given():
    steps, error = np.arange(200), np.linspace(1, 0, 200)
    marked = error_figure(steps, error, solved_step=120)
    assert [trace.name for trace in marked.data if "solved" in (trace.name or "")] == ["solved at step 120"]
    unmarked = error_figure(steps, error)
    assert not any("solved" in (trace.name or "") for trace in unmarked.data)


def test_error_figure_empty_shows_message():
    fig = error_figure([], [])
    assert EMPTY_MESSAGE in _annotation_texts(fig)
    assert fig.layout.yaxis.title.text == "error"


def test_error_figure_rejects_bad_inputs():
    with pytest.raises(ValueError, match="length mismatch"):
        error_figure(np.arange(4), np.ones(5))
    with pytest.raises(ValueError, match="fractions"):
        error_figure(np.arange(2), np.ones(2), eval_steps=[0, 1], accuracy=[50.0, 100.0])
    with pytest.raises(ValueError, match="together"):
        error_figure(np.arange(2), np.ones(2), accuracy=[0.5, 1.0])


# ---------------------------------------------------------------- hidden_heatmap_figure


def _hidden() -> np.ndarray:
    return np.tanh(_rng().standard_normal((T, H)))  # (T, H)


def test_hidden_heatmap_rows_are_units_and_columns_are_bits():
    h = _hidden()
    fig = hidden_heatmap_figure(h, tracks=None)
    (heatmap,) = fig.data
    assert heatmap.z.shape == (H, T)
    np.testing.assert_array_equal(heatmap.z, h.T)
    assert list(heatmap.y) == [f"unit {k}" for k in range(H)]
    assert (heatmap.zmin, heatmap.zmax) == (-1.0, 1.0)
    assert "h = %{z" in heatmap.hovertemplate
    assert fig.layout.xaxis.title.text == "bit t (LSB first)"


def test_hidden_heatmap_sigmoid_cells_use_unit_range():
    heatmap = hidden_heatmap_figure(np.full((T, H), 0.5), tracks=None, activation="sigmoid").data[0]
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)


def test_hidden_heatmap_unit_order_permutes_rows_and_keeps_labels():
    h = _hidden()
    order = [2, 0, 3, 1]
    heatmap = hidden_heatmap_figure(h, tracks=None, unit_order=order).data[0]
    for row, unit in enumerate(order):
        np.testing.assert_array_equal(heatmap.z[row], h[:, unit])
        assert heatmap.y[row] == f"unit {unit}"


def test_hidden_heatmap_highlight_marks_label_and_outlines_row():
    fig = hidden_heatmap_figure(_hidden(), tracks=None, unit_order=[2, 0, 3, 1], highlight_units=[3])
    assert list(fig.data[0].y) == ["unit 2", "unit 0", "★ unit 3", "unit 1"]
    (outline,) = fig.layout.shapes
    assert outline.type == "rect"
    assert (outline.y0, outline.y1) == (1.5, 2.5)  # row position 2, where unit 3 is drawn
    assert (outline.x0, outline.x1) == (-0.5, T - 0.5)


def test_hidden_heatmap_tracks_sit_above_on_a_shared_x_axis():
    a = np.array([1, 0, 1, 1, 0, 0])
    prob = np.array([0.9, 0.1, 0.73, 0.5, 0.0, 1.0])
    fig = hidden_heatmap_figure(_hidden(), tracks={"a": a, "P(y=1)": prob})
    tracks, main = fig.data
    assert tracks.z.shape == (2, T) and main.z.shape == (H, T)
    assert list(tracks.y) == ["a", "P(y=1)"]
    assert list(tracks.text[0]) == ["1", "0", "1", "1", "0", "0"]
    assert list(tracks.text[1][:3]) == ["0.90", "0.10", "0.73"]
    assert (tracks.zmin, tracks.zmax) == (0.0, 1.0)
    assert tracks.hovertemplate
    assert tracks.xaxis == "x" and main.xaxis == "x2"
    assert fig.layout.xaxis.matches == "x2"
    assert min(fig.layout.yaxis.domain) > max(fig.layout.yaxis2.domain)  # tracks above


def test_hidden_heatmap_reserves_margins_for_labels_and_colour_bar():
    # Room reserved up front, so that Plotly does not grow the margins after a first draw and draw again.
    small = hidden_heatmap_figure(_hidden(), tracks=None).layout.margin
    many_units = hidden_heatmap_figure(np.zeros((T, 200)), tracks=None, highlight_units=[199]).layout.margin
    assert small.r >= 150 and many_units.r == small.r
    assert 80 <= small.l < many_units.l  # "★ unit 199" is longer than "unit 3"


def test_hidden_heatmap_rejects_bad_inputs():
    h = _hidden()
    with pytest.raises(ValueError, match="expected T = 6"):
        hidden_heatmap_figure(h, tracks={"a": np.zeros(T - 1)})
    with pytest.raises(ValueError, match="permutation"):
        hidden_heatmap_figure(h, tracks=None, unit_order=[0, 1, 1, 2])
    with pytest.raises(ValueError, match="activation"):
        hidden_heatmap_figure(h, tracks=None, activation="relu")
    with pytest.raises(ValueError, match="highlight_units"):
        hidden_heatmap_figure(h, tracks=None, highlight_units=[H])
    with pytest.raises(ValueError, match="2-D"):
        hidden_heatmap_figure(np.zeros(T), tracks=None)


# ---------------------------------------------------------------- other per-example and diagnostic charts


def test_carry_correlation_fixed_range_colours_and_sorting():
    corr = np.array([0.1, -0.9, 0.5, 0.0])
    fig = carry_correlation_figure(corr, best_units=[1], sort=True)
    (bars,) = fig.data
    assert list(bars.x) == ["★ unit 1", "unit 2", "unit 0", "unit 3"]
    np.testing.assert_array_equal(bars.y, [-0.9, 0.5, 0.1, 0.0])
    assert list(bars.marker.color)[0] == CORRECT_COLOUR
    assert len(set(bars.marker.color)) == 2
    assert tuple(fig.layout.yaxis.range) == (-1, 1)
    unsorted = carry_correlation_figure(corr).data[0]
    np.testing.assert_array_equal(unsorted.y, corr)


def test_probe_accuracy_in_percent_with_optional_exhaustive_accuracy():
    fig = probe_accuracy_figure([0, 10], [0.5, 1.0], accuracy=[0.0, 0.75])
    probe, exhaustive = fig.data
    np.testing.assert_allclose(probe.y, [50.0, 100.0])
    np.testing.assert_allclose(exhaustive.y, [0.0, 75.0])
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= 100
    assert len(probe_accuracy_figure([0, 10], [0.5, 1.0]).data) == 1


def test_bit_error_heatmap_training_step_on_x_and_lsb_at_bottom():
    bit_error = _rng().random((3, T))
    fig = bit_error_heatmap(np.array([0, 5, 10]), bit_error)
    (heatmap,) = fig.data
    np.testing.assert_array_equal(heatmap.z, bit_error.T)
    np.testing.assert_array_equal(heatmap.x, [0, 5, 10])
    np.testing.assert_array_equal(heatmap.y, np.arange(T))
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)
    assert fig.layout.yaxis.autorange != "reversed"
    with pytest.raises(ValueError, match="length mismatch"):
        bit_error_heatmap(np.array([0, 5]), bit_error)


def test_chain_accuracy_bars_carry_counts_for_hover():
    fig = chain_accuracy_figure(np.array([0, 1, 2]), np.array([1.0, 0.5, np.nan]), np.array([40, 12, 0]))
    (bars,) = fig.data
    assert bars.type == "bar"
    np.testing.assert_allclose(bars.y, [100.0, 50.0, np.nan])
    np.testing.assert_array_equal(bars.customdata, [40, 12, 0])
    assert "%{customdata" in bars.hovertemplate
    with pytest.raises(ValueError, match="length mismatch"):
        chain_accuracy_figure([0, 1], [1.0, 0.5], [3])


def test_pair_grid_discrete_scale_customdata_and_square_aspect():
    a = b = np.arange(4)
    wrong = np.array([[0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0], [3, 0, 0, 0]])
    answer = a[:, None] + b[None, :]
    fig = pair_grid_figure(a, b, wrong, answer=answer, net_answer=answer + wrong, n_bits=5)
    (heatmap,) = fig.data
    assert heatmap.z.shape == (4, 4)
    assert heatmap.customdata.shape == (4, 4, 2)
    np.testing.assert_array_equal(heatmap.customdata[..., 0], answer)
    assert (heatmap.zmin, heatmap.zmax) == (-0.5, 5.5)
    assert heatmap.colorscale[0][1] == CORRECT_COLOUR  # 0 wrong bits
    assert len({colour for _, colour in heatmap.colorscale}) == 6  # 0..5, one band each
    assert heatmap.colorbar.title.text == "wrong bits"
    assert "%{customdata[1]}" in heatmap.hovertemplate
    assert fig.layout.yaxis.scaleanchor == "x"
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("b", "a")


def test_pair_grid_rejects_bad_inputs():
    a = np.arange(3)
    with pytest.raises(ValueError, match="shape"):
        pair_grid_figure(a, np.arange(4), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="together"):
        pair_grid_figure(a, a, np.zeros((3, 3)), answer=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n_bits"):
        pair_grid_figure(a, a, np.full((3, 3), 4), n_bits=3)


def test_length_generalisation_marks_the_trained_width():
    fig = length_generalisation_figure([4, 8, 16], [1.0, 1.0, 0.5], [1.0, 0.9, 0.2], train_width=8)
    random_pairs, chains = fig.data
    assert random_pairs.mode == chains.mode == "lines+markers"
    np.testing.assert_allclose(chains.y, [100.0, 90.0, 20.0])
    (line,) = fig.layout.shapes
    assert line.x0 == line.x1 == 8 and line.line.dash == "dash"
    assert "trained on 8 bits" in _annotation_texts(fig)


def test_gradient_flow_is_log10_with_zeros_blank_and_raw_norm_on_hover():
    norms = np.array([[1.0, 0.01, 0.0], [10.0, 0.1, 1e-3]])  # (E=2, T=3)
    fig = gradient_flow_heatmap(np.array([0, 50]), norms)
    (heatmap,) = fig.data
    expected = np.array([[0.0, -2.0, np.nan], [1.0, -1.0, -3.0]]).T
    np.testing.assert_allclose(heatmap.z, expected)
    np.testing.assert_array_equal(heatmap.customdata, norms.T)
    assert "customdata" in heatmap.hovertemplate
    assert "log" in heatmap.colorbar.title.text
    assert list(heatmap.colorbar.ticktext) == ["1e-3", "1e-2", "1e-1", "1e0", "1e1"]
    with pytest.raises(ValueError, match=">= 0"):
        gradient_flow_heatmap(np.array([0]), np.array([[-1.0, 1.0]]))


def test_gradient_flow_all_zero_norms_do_not_raise():
    heatmap = gradient_flow_heatmap(np.array([0]), np.zeros((1, T))).data[0]
    assert np.all(np.isnan(heatmap.z))


def test_weights_share_one_symmetric_colour_range():
    W_in = np.array([[0.5, -1.0], [0.0, 0.25]])
    W_rec = np.array([[3.0, 0.0], [-0.5, 1.0]])
    W_out = np.array([[-2.0], [1.0]])
    fig = weights_figure(W_in, W_rec, W_out)
    assert [trace.type for trace in fig.data] == ["heatmap"] * 3
    for trace, matrix in zip(fig.data, (W_in, W_rec, W_out), strict=True):
        np.testing.assert_array_equal(trace.z, matrix)
        assert (trace.zmin, trace.zmax) == (-3.0, 3.0)
    assert [trace.showscale for trace in fig.data] == [False, False, True]
    titles = _annotation_texts(fig)
    for expected in ("W_in", "W_rec", "W_out"):
        assert expected in titles


def test_weights_reject_inconsistent_shapes():
    with pytest.raises(ValueError, match="W_in"):
        weights_figure(np.zeros((2, 3)), np.zeros((4, 4)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="square"):
        weights_figure(np.zeros((2, 4)), np.zeros((4, 3)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="W_out"):
        weights_figure(np.zeros((2, 4)), np.zeros((4, 4)), np.zeros((3, 1)))


def test_weights_all_zero_do_not_divide_by_zero():
    fig = weights_figure(np.zeros((2, 3)), np.zeros((3, 3)), np.zeros((3, 1)))
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-1.0, 1.0)


def test_spectral_radius_has_dashed_reference_at_one():
    fig = spectral_radius_figure([0, 10], [0.5, 1.5])
    (reference,) = fig.layout.shapes
    assert reference.y0 == reference.y1 == 1.0 and reference.line.dash == "dash"
    assert fig.layout.yaxis.range[1] > 1.5


def test_state_space_axes_colours_and_cluster_symbols():
    points = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    fig = state_space_figure(points, np.array([0, 1, 1, 0]), cluster=np.array([0, 0, 1, 1]))
    carry0, carry1 = fig.data
    np.testing.assert_array_equal(carry0.x, [0.0, 3.0])
    np.testing.assert_array_equal(carry1.y, [0.0, 2.0])
    assert carry0.marker.color != carry1.marker.color
    assert list(carry1.marker.symbol) == ["circle", "square"]
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("PC 1", "PC 2")


def test_state_space_downsamples_deterministically():
    rng = _rng()
    points, carry = rng.standard_normal((10_000, 2)), rng.integers(0, 2, 10_000)
    first = state_space_figure(points, carry)
    second = state_space_figure(points, carry)
    assert sum(len(trace.x) for trace in first.data) == 4_000
    for a, b in zip(first.data, second.data, strict=True):
        np.testing.assert_array_equal(a.x, b.x)


def test_state_space_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        state_space_figure(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="0 and 1"):
        state_space_figure(np.zeros((3, 2)), np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="length mismatch"):
        state_space_figure(np.zeros((3, 2)), np.array([0, 1]))


# ---------------------------------------------------------------- automaton, seeds, table


def test_automaton_groups_edge_labels_and_draws_loops():
    fig = automaton_figure(2, REFERENCE_ADDER, state_labels=["carry 0", "carry 1"])
    texts = _annotation_texts(fig)
    assert "11/0" in texts  # carry 0 -> carry 1
    assert "00/1" in texts  # carry 1 -> carry 0
    assert "00/0<br>01/1<br>10/1" in texts  # self-loop on carry 0
    assert "01/0<br>10/0<br>11/1" in texts  # self-loop on carry 1
    assert "start" in texts
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 5  # 2 edges + 2 loop arrowheads + the start arrow
    loops = [trace for trace in fig.data if trace.mode == "lines"]
    assert len(loops) == 2
    circles = [shape for shape in fig.layout.shapes if shape.type == "circle"]
    assert len(circles) == 2
    assert circles[0].line.width > circles[1].line.width  # the initial state is marked
    (nodes,) = [trace for trace in fig.data if trace.mode == "markers+text"]
    assert list(nodes.text) == ["carry 0", "carry 1"]
    assert fig.layout.yaxis.scaleanchor == "x"


def test_automaton_rejects_bad_transitions():
    with pytest.raises(ValueError, match="outside range"):
        automaton_figure(2, [(0, (0, 0), 2, 0)])
    with pytest.raises(ValueError, match="0 or 1"):
        automaton_figure(2, [(0, (0, 2), 1, 0)])
    with pytest.raises(ValueError, match="must be"):
        automaton_figure(2, [(0, 0, 1)])
    with pytest.raises(ValueError, match="state_labels"):
        automaton_figure(2, [], state_labels=["only one"])


def test_seed_sweep_counts_solved_and_marks_unsolved():
    fig = seed_sweep_figure(np.array([3, 4, 5, 6]), np.array([100.0, np.nan, 300.0, np.nan]), budget=500)
    solved, unsolved = fig.data
    assert "2 of 4 solved" in fig.layout.title.text
    assert list(solved.x) == ["seed 3", "seed 5"]
    np.testing.assert_array_equal(solved.y, [100.0, 300.0])
    assert list(unsolved.x) == ["seed 4", "seed 6"]
    np.testing.assert_array_equal(unsolved.y, [500.0, 500.0])
    assert solved.marker.color != unsolved.marker.color


def test_bit_table_has_one_row_per_bit_and_ok_column():
    table = bit_table_columns(
        a_bits=[1, 1, 0],
        b_bits=[1, 0, 0],
        carry_in=[0, 1, 1],
        target=[0, 0, 1],
        prob=[0.1, 0.8, 0.9],
        pred=[0, 1, 1],
    )
    assert list(table) == ["bit", "a", "b", "carry in", "target", "P(y=1)", "prediction", "ok"]
    assert list(table["bit"]) == [0, 1, 2]
    assert list(table["ok"]) == [True, False, True]
    np.testing.assert_allclose(table["P(y=1)"], [0.1, 0.8, 0.9])


def test_bit_table_html_shows_every_row_with_a_probability_bar_and_the_column_help():
    columns = bit_table_columns([1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1], [0.1, 0.8, 0.9], [0, 1, 1])
    html = bit_table_html(columns, bar_colour="#123456")
    assert html.count("<tr>") == 4  # header + one row per bit
    for name in BIT_TABLE_COLUMNS:
        assert f">{name}</th>" in html
    assert 'title="Predicted bit equals the target bit."' in html
    assert [float(v) for v in re.findall(r'data-p="([^"]+)"', html)] == [0.1, 0.8, 0.9]
    assert re.findall(r"width:([0-9.]+)%;height:100%;background:#123456", html) == ["10.0", "80.0", "90.0"]
    assert re.findall(r">([✓✗])</span>", html) == ["✓", "✗", "✓"]
    assert f'color:{WRONG_COLOUR}">✗' in html
    assert "<script" not in html


def test_bit_table_rejects_mismatched_lengths_and_non_bits():
    with pytest.raises(ValueError, match="length mismatch"):
        bit_table_columns([1, 0], [1, 0], [0, 1], [0, 1], [0.5, 0.5], [0])
    with pytest.raises(ValueError, match="a_bits"):
        bit_table_columns([2, 0], [1, 0], [0, 1], [0, 1], [0.5, 0.5], [0, 1])


# ---------------------------------------------------------------- layouts that fit a laptop-wide column


def test_automaton_fills_its_plot_both_ways_at_a_half_page_column():
    """The diagram keeps its proportions; at a 440-px column (half the page at 1280 px with the sidebar open) it
    must fill >= 90 % of the plot's width and of its height (it filled 40 % of the height before)."""
    adder = automaton_figure(2, REFERENCE_ADDER)
    three = automaton_figure(3, [(0, (1, 1), 1, 0), (1, (0, 0), 2, 1), (2, (0, 1), 0, 1)])
    four = automaton_figure(4, [(s, (1, 1), (s + 1) % 4, 0) for s in range(4)])
    for fig in (adder, three, four):
        margin, (x0, x1), (y0, y1) = fig.layout.margin, fig.layout.xaxis.range, fig.layout.yaxis.range
        plot_w, plot_h = 440 - margin.l - margin.r, fig.layout.height - margin.t - margin.b
        scale = min(plot_w / (x1 - x0), plot_h / (y1 - y0))  # pixels per data unit, equal on both axes
        assert scale * (x1 - x0) >= 0.9 * plot_w and scale * (y1 - y0) >= 0.9 * plot_h, fig.layout.title.text


def test_state_and_edge_labels_are_no_smaller_than_the_chart_font():
    fig = automaton_figure(2, REFERENCE_ADDER, state_labels=["s0<br>c=0", "s1<br>c=1"])
    sizes = [a.font.size for a in fig.layout.annotations if a.text] + [fig.data[-1].textfont.size]
    assert min(sizes) >= 14 and fig.layout.font.size == 16


def test_bit_error_colour_bar_lies_under_the_plot_not_beside_it():
    """A vertical bar beside the plot took ~100 px of a 440-px column (the plot was 240 px wide): the bar is
    horizontal, at the figure's bottom, so the plot gets the column's width less its margins (>= 70 %)."""
    fig = bit_error_heatmap(np.array([0, 5, 10]), _rng().random((3, T)))
    bar, margin = fig.data[0].colorbar, fig.layout.margin
    assert bar.orientation == "h" and bar.yref == "container" and bar.y < 0.05 and bar.yanchor == "bottom"
    assert 440 - margin.l - margin.r >= 0.7 * 440
    assert fig.data[0].colorscale[0][1] != "#FFFFFF"  # no errors: not the page's white (the plot looked empty)


def test_weights_panels_leave_room_for_the_next_panels_ticks_and_title_at_1024_px():
    """At 1024 px with the sidebar open the figure is ~536 px wide; its plot (less the margins and the colour bar,
    ~100 px) is split into three panels. Between two panels go two-digit tick labels (~19 px at 16 px), a rotated
    y-axis title (~19 px) and their spacing (~15 px): "from unit" ran into its tick labels at 50 px."""
    fig = weights_figure(np.zeros((2, 32)), np.zeros((32, 32)), np.zeros((32, 1)))
    margin = fig.layout.margin
    plot_w = 536 - margin.l - margin.r - 100
    gap = fig.layout.xaxis2.domain[0] - fig.layout.xaxis.domain[1]
    assert gap * plot_w >= 55


def test_enlarged_scales_every_text_once_and_leaves_the_original_alone():
    """Presentation mode: each explicit font size times 20/16, the figure's font 20; the automaton's edge labels share
    one font dict, which a naive in-place scaling grew once per label (16 -> 49 px)."""
    fig = automaton_figure(2, REFERENCE_ADDER)
    before = fig.to_json()
    large = enlarged(fig, height=400)
    assert fig.to_json() == before
    sizes = [a.font.size for a in large.layout.annotations if a.font.size]
    assert sizes and set(sizes) == {20}  # 16 * 20 / 16
    assert large.layout.font.size == 20 and large.layout.height == 400
    heatmap = hidden_heatmap_figure(np.zeros((4, 3)), tracks={"a": np.array([0, 1, 0, 1.0])})
    assert enlarged(heatmap).data[0].textfont.size == round(heatmap.data[0].textfont.size * 20 / 16)
    assert enlarged(heatmap, font_size=12).layout.font.size == 16  # never smaller


def test_length_chart_lifts_its_accuracy_zero_off_the_width_axis():
    """Both axes start at 0 in the same corner, where their "0" labels ran into each other (presentation mode's last
    screen): the y axis's 0 sits >= 4 % of the plot's height above the x axis."""
    low, high = length_generalisation_figure([1, 8, 64], [1.0, 1.0, 0.5], None, train_width=8).layout.yaxis.range
    assert -low / (high - low) >= 0.04 and high >= 100


def test_phase_diagram_cells_show_each_points_share_and_median_and_leave_missing_points_blank():
    heat, cells = _phase_diagram("share").data
    z = np.array(heat.z, dtype=float)
    assert z.shape == (3, 2) and heat.zmin == 0 and heat.zmax == 1
    assert z[0, 0] == 0.25 and z[0, 1] == 1.0 and z[1, 0] == 0.75 and z[1, 1] == 0.5 and z[2, 0] == 0.0
    assert np.isnan(z[2, 1])  # no runs there
    assert list(heat.text[0]) == ["25 %", "100 %"] and heat.text[2][1] == ""
    # the hover of (n_hidden 4, eta 1): 3 of 4 solved, median 900, quartiles 700 - beyond the budget
    i = [(x, y) for x, y in zip(cells.x, cells.y)].index(("4", "1"))
    assert list(cells.customdata[i]) == ["3", "4", "75 %", "900", "700 – > 2,000"]
    median = _phase_diagram("median").data[0]
    mz = np.array(median.z, dtype=float)
    assert median.zmax == 2000 and mz[0, 1] == 600 and mz[1, 1] == 1500 and np.isnan(mz[0, 0])
    assert median.text[0][0] == "> 2,000"  # 1 of 4 solved: the median falls on unsolved runs
