"""View "Sweep": the phase diagram of two settings. Where is the carry learnable?

Pick two settings and their values (say hidden units x learning rate) and a number of seeds: every grid point is
trained from seeds 0..N-1 on the server's Dask workers (``carrylab.sweeps``), each run until every pair is right or
the step budget is spent, with a progress bar and a Cancel button. Or open a results file made by
``python -m rnn_core sweep``. Two heatmaps show the share of seeds that solved and the median steps they needed;
clicking a cell (or picking it in the list) and "Load" puts that configuration into the current run.

A shared server runs at most MAX_PAGE_RUNS runs of at most MAX_PAGE_BUDGET steps per sweep from this page; larger
sweeps belong to the command line and a cluster. The results stay in ``st.session_state[STATE_KEY]`` (this tab's
only), including the runs finished before a Cancel.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import streamlit as st

from carrylab.charts import CAPTIONS
from carrylab.charts.sweep import phase_diagram_figure
from carrylab.session import STATE_KEY as SESSION_KEY
from carrylab.session import Notice, Session
from carrylab.settings import config_from_settings, settings_from_config
from carrylab.sweeps import run_jobs, workers
from carrylab.views import escape_markdown, push_settings
from carrylab.views.common import PLOTLY_CONFIG, explain
from rnn_core.engine import make_jobs
from rnn_core.results import ResultsError, SweepSpec, make_row, read_results
from rnn_core.sweep import grid_points, parse_grid, point_config, summarise
from rnn_core.train import TrainConfig

STATE_KEY = "sweep_view"  # {"spec": SweepSpec, "grid": {field: values}, "rows": [...], "source": str, "complete"}
MAX_PAGE_RUNS = 256  # grid points x seeds per sweep from the page
MAX_PAGE_BUDGET = 5000  # steps per run from the page
PAGE_BUDGETS = (500, 1000, 2000, MAX_PAGE_BUDGET)
MAX_PAGE_SEEDS = 16
NOT_SWEPT = ("seed", "rng", "dtype", "eval_every", "snapshot_every")  # the seeds are the sweep's; the rest: no
SWEEPABLE = tuple(f.name for f in fields(TrainConfig) if f.name not in NOT_SWEPT)
DEFAULT_VALUES = {"n_hidden": "2,4,8,16,32", "eta": "0.03,0.1,0.3,1,3", "batch_size": "1,4,16,64", "n_bits": "4,8"}
CHART_KEYS = {"share": "sweep_share_chart", "median": "sweep_median_chart"}
POINT_KEY = "sweep_point"
CLICKED_KEY = "sweep_point_clicked"  # the last chart click applied to the point list
RELOAD_KEY = "sweep_point_loaded"  # set by Load: the whole page reruns once so that every widget shows the new settings
NO_AXIS = "(all runs)"  # the single row or column of a grid with fewer than two fields


def _default_values(field: str, config: TrainConfig) -> str:
    if field in DEFAULT_VALUES:
        return DEFAULT_VALUES[field]
    if field in TrainConfig.CHOICES:
        return ",".join(TrainConfig.CHOICES[field])
    return str(getattr(config, field))


def _on_field_change(axis: str) -> None:
    """A newly picked setting gets its default values in the box beside it."""
    session = st.session_state.get(SESSION_KEY)
    config = session.trainer.config if isinstance(session, Session) else TrainConfig()
    field = st.session_state[f"sweep_{axis}_field"]
    st.session_state[f"sweep_{axis}_values"] = _default_values(field, config)


def page_grid(specs: list[str], base: TrainConfig, n_seeds: int) -> dict[str, tuple]:
    """The grid of the page's two settings, within the page's bound. ValueError with the reason otherwise."""
    grid = parse_grid(specs, base, n_seeds)
    runs = math.prod(len(v) for v in grid.values()) * n_seeds
    if runs > MAX_PAGE_RUNS:
        raise ValueError(
            f"{runs:,} runs is over this page's limit of {MAX_PAGE_RUNS} per sweep: use fewer values or seeds, or "
            "the command line (python -m rnn_core sweep) for larger sweeps"
        )
    return grid


def render(session: Session) -> None:
    if st.session_state.pop(RELOAD_KEY, False):
        st.rerun(scope="app")  # a loaded grid point changed the sidebar's settings, which a tab's rerun leaves stale
    st.subheader("Sweep: which settings learn the carry?")
    base = session.trainer.config
    columns = st.columns(2)
    specs = []
    for axis, column, field in (("x", columns[0], "n_hidden"), ("y", columns[1], "eta")):
        st.session_state.setdefault(f"sweep_{axis}_field", field)
        st.session_state.setdefault(f"sweep_{axis}_values", _default_values(field, base))
        chosen = column.selectbox(
            "Across" if axis == "x" else "Down",
            SWEEPABLE,
            key=f"sweep_{axis}_field",
            on_change=_on_field_change,
            args=(axis,),
            help="A training setting to vary; the others are the current run's.",
        )
        values = column.text_input(
            f"Values of {chosen}", key=f"sweep_{axis}_values", help="Comma-separated, e.g. 2,4,8,16."
        )
        specs.append(f"{chosen}={values}")
    left, right = st.columns(2)
    n_seeds = left.slider("Seeds per point", 1, MAX_PAGE_SEEDS, 4, key="sweep_seeds")
    budget = right.select_slider("Step budget per run", PAGE_BUDGETS, value=2000, key="sweep_budget")
    st.caption(
        f"Runs every grid point from seeds 0–{n_seeds - 1} with the current run's other settings, on the server's "
        f"{workers()} worker process(es), shared by every open tab. This page runs at most {MAX_PAGE_RUNS} runs of at "
        f"most {MAX_PAGE_BUDGET:,} steps per sweep; larger sweeps: `python -m rnn_core sweep` (and a Dask cluster)."
    )
    error = None
    grid: dict = {}
    if specs[0].partition("=")[0] == specs[1].partition("=")[0]:
        error = "Pick two different settings."
    else:
        try:
            grid = page_grid(specs, base, int(n_seeds))
        except ValueError as exc:
            error = str(exc)
    if error:
        st.error(escape_markdown(error))
    if session.running:
        st.info("Pause the training to run a sweep: every live frame reruns this tab, which would end it.")
    if st.button("Run sweep", key="sweep_run", type="primary", disabled=error is not None or session.running):
        _run(base, grid, int(n_seeds), int(budget))
    _open_file()
    _results(session)
    explain(
        "Each cell is one grid point: the settings on the two axes, every other setting as in the current run. "
        "Left (or top): the share of its seeds that got every pair right within the budget. Right: the median "
        "number of steps they needed (blank when more than half never solved).\n\n"
        "**What to look for**: the region where the carry is learnable reliably (dark cells on the left chart) "
        "and fast (low numbers on the right). Too small a network or too large a learning rate fails; between "
        "them the share of seeds that solve can sit anywhere from 0 to 100 %, so one run says little."
    )


def _run(base: TrainConfig, grid: dict, n_seeds: int, budget: int) -> None:
    spec = SweepSpec.of(base, list(grid), budget)
    state = {"spec": spec, "grid": grid, "rows": [], "source": "this page", "complete": False}
    st.session_state[STATE_KEY] = state  # rows land here as they finish: a cancelled sweep keeps them
    points = [(p, point_config(base, grid, p).to_dict(), range(n_seeds)) for p in grid_points(grid)]

    def on_rows(job, rows: list[dict]) -> None:
        point = dict(zip(grid, job.point))
        state["rows"] += [make_row(spec, point, r) for r in rows]

    state["complete"] = run_jobs(make_jobs(points, workers()), budget, on_rows, cancel_key="sweep_cancel")


def _open_file() -> None:
    uploaded = st.file_uploader(
        "Or open a results file", type=["parquet"], key="sweep_file", help="Made by python -m rnn_core sweep."
    )
    if uploaded is None or st.session_state.get("sweep_file_applied") == uploaded.file_id:
        return
    st.session_state["sweep_file_applied"] = uploaded.file_id
    shown = "".join(ch if ch.isprintable() else "?" for ch in uploaded.name[:60])
    try:
        st.session_state[STATE_KEY] = results_state(uploaded.getvalue(), shown)
    except ResultsError as exc:
        st.error(escape_markdown(f"{exc}. Nothing was loaded."))


def results_state(data: bytes, name: str) -> dict:
    """The view's state for a results file's bytes: its spec, rows and grid (each field's values sorted).
    ResultsError (with the reason) when it is not a sweep results file."""
    spec, rows = read_results(data, name=name)
    grid = {f: tuple(sorted({row[f] for row in rows})) for f in spec.grid_fields}
    return {"spec": spec, "grid": grid, "rows": rows, "source": name, "complete": True}


def phase_stats(summary: list[dict], x: str | None, xs: tuple, y: str | None, ys: tuple, fixed: dict) -> dict:
    """(len(ys), len(xs)) arrays of runs, solved, median, q1, q3 from ``summarise`` rows (NaN: no runs); rows
    whose other grid fields differ from ``fixed`` are left out."""
    stats = {k: np.full((len(ys), len(xs)), np.nan) for k in ("runs", "solved", "median", "q1", "q3")}
    for point in summary:
        if any(point[f] != v for f, v in fixed.items()):
            continue
        i = ys.index(point[y]) if y else 0
        j = xs.index(point[x]) if x else 0
        for k in stats:
            stats[k][i, j] = np.nan if point[k] is None else point[k]
    return stats


def _results(session: Session) -> None:
    state = st.session_state.get(STATE_KEY)
    if not state:
        return
    spec, grid, rows = state["spec"], state["grid"], state["rows"]
    fields_ = list(grid)
    x = st.selectbox("Across", fields_, index=0, key="sweep_show_x") if len(fields_) > 2 else None
    y = st.selectbox("Down", [f for f in fields_ if f != x], key="sweep_show_y") if len(fields_) > 2 else None
    if x is None:
        x = fields_[0] if fields_ else None
        y = fields_[1] if len(fields_) > 1 else None
    fixed = {f: st.selectbox(f, grid[f], key=f"sweep_show_{f}") for f in fields_ if f not in (x, y)}
    summary = summarise(rows, fields_, spec.budget)
    xs, ys = (grid[x] if x else (NO_AXIS,)), (grid[y] if y else (NO_AXIS,))
    stats = phase_stats(summary, x, xs, y, ys, fixed)
    status = "" if state["complete"] else " (cancelled before the end: the finished runs are shown)"
    st.markdown(
        f"**{len(rows):,} runs** from {escape_markdown(state['source'])}, budget {spec.budget:,} steps{status}."
        if rows
        else f"No finished runs yet{status}."
    )
    left, right = st.columns(2)
    events = {}
    for column, metric in ((left, "share"), (right, "median")):
        fig = phase_diagram_figure(x or NO_AXIS, xs, y or NO_AXIS, ys, stats, metric=metric, budget=spec.budget)
        with column:
            events[metric] = st.plotly_chart(
                fig,
                key=CHART_KEYS[metric],
                width="stretch",
                config=PLOTLY_CONFIG,
                theme=None,
                on_select="rerun",
                selection_mode="points",
            )
    st.caption(CAPTIONS["phase_diagram_figure"])
    _load_point(session, spec, grid, x, y, fixed, events)


def _point_label(point: dict) -> str:
    return ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in point.items()) or "the run"


def _load_point(session: Session, spec: SweepSpec, grid: dict, x, y, fixed: dict, events: dict) -> None:
    """A clicked cell (or one picked in the list) and the button that loads its configuration."""
    options = [dict(zip(grid, p)) for p in grid_points(grid)]
    options = [o for o in options if all(o[f] == v for f, v in fixed.items())]
    labels = [_point_label(o) for o in options]
    for metric, event in events.items():
        points = getattr(getattr(event, "selection", None), "points", None) or []
        clicked_at = (metric, str(points[0].get("x")), str(points[0].get("y"))) if points else None
        if clicked_at is None or st.session_state.get(CLICKED_KEY) == clicked_at:
            continue  # no click, or one already applied (a chart keeps its selection across reruns)
        st.session_state[CLICKED_KEY] = clicked_at
        by_label = {a: {(f"{v:g}" if isinstance(v, float) else str(v)): v for v in grid[a]} for a in (x, y) if a}
        clicked = {**fixed}
        if x:
            clicked[x] = by_label[x].get(clicked_at[1])
        if y:
            clicked[y] = by_label[y].get(clicked_at[2])
        clicked = {f: clicked.get(f) for f in grid}  # in the grid's order, as the list's labels
        if _point_label(clicked) in labels:
            st.session_state[POINT_KEY] = _point_label(clicked)
    if st.session_state.get(POINT_KEY) not in labels:
        st.session_state.pop(POINT_KEY, None)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox("Grid point (or click a cell)", labels, key=POINT_KEY)
    point = options[labels.index(chosen)] if chosen in labels else {}
    right.button(
        "Load into the current run",
        key="sweep_load",
        on_click=load_point,
        args=(spec.fixed, point),
        help="Sets every training setting to this grid point's (the seed stays) and resets the model.",
    )


def load_point(fixed: dict, point: dict) -> None:
    """on_click: the grid point's configuration (its fixed settings and values, the current seed) becomes the
    current run's settings; the model is reset to it. Settings the page has no control for are named."""
    session = st.session_state.get(SESSION_KEY)
    if not isinstance(session, Session):
        return
    try:
        config = TrainConfig.from_dict({**fixed, **point, "seed": session.settings["seed"]})
    except (TypeError, ValueError) as exc:
        session.notices.append(Notice("error", f"Grid point not loaded: {exc}"))
        return
    wanted = settings_from_config(config)
    session.update_settings(wanted)
    push_settings(session)
    st.session_state[RELOAD_KEY] = True
    got = config_from_settings(session.settings, validate=False).to_dict()
    missing = [k for k, v in config.to_dict().items() if got.get(k) != v]
    if missing:
        session.notices.append(
            Notice("warning", f"Not set from the sweep (no setting on this page): {', '.join(missing)}.")
        )
