"""Runs compared: the Pin button under the error chart, and the Runs tab (table, downloads, names, side-by-side probe).

Why: "why does this run find the carry and that one not?" needs both runs on one screen. A pinned run keeps its
settings, logs and weights in this browser tab's session when the settings change; the error chart overlays it.
The side-by-side probe runs the probe example through two runs and shows their hidden states next to each other,
each sorted by how strongly a unit follows the carry, so "where is the carry in this net and in that one" is one
glance.
"""

from __future__ import annotations

import streamlit as st

from carrylab import charts, comparison
from carrylab.analysis import probe_trace
from carrylab.charts.training import plain_text
from carrylab.pinned import MAX_NAME, MAX_PINNED
from carrylab.run import array_bytes
from carrylab.session import Session, unit_order
from carrylab.settings import parse_operand_text, probe_operator
from carrylab.views import escape_markdown
from carrylab.views.carry import explain
from carrylab.views.training import PLOTLY_CONFIG

SIDE_BY_SIDE_EXPLANATION = (
    "**What is drawn**: the probe example run through two networks; each heatmap shows that network's hidden "
    "units (rows, sorted by |correlation with the true carry|, strongest on top and starred) after each bit.\n\n"
    "**What to look for**: a row whose colour flips with the *carry out* track is a unit holding the carry. A net "
    "that has solved the task has one (or, in a GRU/LSTM, a few units sharing it); a net still on the plateau has "
    "none, and its strongest row is pale."
)


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.1f} MB"


def render_pin(session: Session) -> None:
    """The `Pin this run` button (key `pin_run`) and what pinning costs."""
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        "Pin this run",
        key="pin_run",
        icon=":material/push_pin:",
        on_click=lambda: session.act(lambda: session.pinned.keep(session.current)),
        disabled=session.running,
        help=f"Keep this run (settings, logs, weights) to compare it with the next ones; up to {MAX_PINNED}.",
    )
    n = len(session.pinned)
    cost = _megabytes(array_bytes(session.current))
    row.caption(
        f"{n} of {MAX_PINNED} runs pinned. A run holds about {cost} in this browser tab's session: pinned runs "
        "survive reruns and preset changes, and are gone when the tab closes (Runs tab: download them)."
    )


def render(session: Session) -> None:
    """The Runs tab: the runs table (key `runs_table`), the downloads, each pinned run's name/shown/remove, and the
    same probe example on two runs side by side."""
    st.subheader("Runs")
    if not len(session.pinned):
        st.info(
            "No pinned runs yet: train a run, press **Pin this run** (Training tab), change a setting, train again."
        )
    table = comparison.runs_table(session)
    # st.dataframe takes a key only with row selection on: the container carries it (the page's st-key-runs_table)
    st.container(key="runs_table").dataframe(table, hide_index=True, width="stretch")
    st.caption(
        f"One row per run: the settings that differ, steps, the step it was solved at, the mean error of its last "
        f"200 steps and its last logged accuracy. Pinned runs: {_megabytes(session.pinned.cost_bytes())} in all."
    )
    row = st.container(horizontal=True)
    row.download_button(
        "All runs' histories (CSV)",
        data=lambda: comparison.histories_csv(session),
        file_name="carrylab_runs.csv",
        mime="text/csv",
        key="runs_csv",
        on_click="ignore",
        icon=":material/table:",
        disabled=session.running,
    )
    row.download_button(
        "All runs (checkpoint)",
        data=session.runs_checkpoint_bytes,
        file_name="carrylab_runs.npz",
        mime="application/octet-stream",
        key="runs_checkpoint",
        on_click="ignore",
        icon=":material/download:",
        disabled=session.running,
        help="Every run in one file; uploading it (sidebar) loads them back as pinned runs.",
    )
    _manage(session)
    _side_by_side(session)


def _manage(session: Session) -> None:
    """Name, shown and remove for each pinned run."""
    for run_id, run in session.pinned.items():
        cols = st.columns([4, 1, 1], vertical_alignment="bottom")
        name_key, shown_key = f"run_name_{run_id}", f"run_shown_{run_id}"
        current = " (the current run)" if run is session.current else ""
        cols[0].text_input(
            f"Run {run_id}{current}",
            value=run.name or "",
            key=name_key,
            max_chars=None,
            placeholder=f"named by what differs (at most {MAX_NAME} characters)",
            on_change=lambda run_id=run_id, key=name_key: _rename(session, run_id, key),
        )
        cols[1].checkbox(
            "Shown",
            value=not run.hidden,
            key=shown_key,
            on_change=lambda run_id=run_id, key=shown_key: session.act(
                lambda: session.pinned.set_hidden(run_id, not st.session_state[key])
            ),
        )
        cols[2].button(
            "Remove",
            key=f"run_remove_{run_id}",
            icon=":material/delete:",
            on_click=lambda run_id=run_id: session.act(lambda: session.pinned.remove(run_id, session.current)),
        )


def _rename(session: Session, run_id: int, key: str) -> None:
    """Apply a typed name; a refused one puts the old name back into the box."""
    if not session.act(lambda: session.pinned.rename(run_id, st.session_state[key])):
        st.session_state[key] = session.pinned.get(run_id).name or ""


def _side_by_side(session: Session) -> None:
    """The probe example on two chosen runs, heatmaps next to each other."""
    runs = comparison.named_runs(session)
    st.subheader("One example, two runs")
    if len(runs) < 2:
        st.caption("Pin a run and train another to see both networks add the probe example side by side.")
        return
    names = [name for name, _, _ in runs]
    op = probe_operator(session.settings)
    cols = st.columns(2)
    picks = [
        cols[0].selectbox("Left", range(len(runs)), index=0, format_func=names.__getitem__, key="compare_left"),
        cols[1].selectbox(
            "Right", range(len(runs)), index=len(runs) - 1, format_func=names.__getitem__, key="compare_right"
        ),
    ]
    for col, pick in zip(cols, picks, strict=True):
        name, run, _ = runs[pick]
        with col:
            _probe_heatmap(session, name, run, op, f"compare_heatmap_{'left' if col is cols[0] else 'right'}")
    explain(SIDE_BY_SIDE_EXPLANATION)


def _probe_heatmap(session: Session, name: str, run, op: str, key: str) -> None:
    """The probe operands (parsed for this run's width; a run of another task gets a note) through `run`."""
    task = run.trainer.task
    try:
        if task.op != session.settings["operator"]:
            raise ValueError(f"this run learns {task.op}")
        a, b = (parse_operand_text(session.settings[f"operand_{n}"], n, op, task.n_bits) for n in ("a", "b"))
    except ValueError as exc:
        st.info(f"{escape_markdown(name)}: the probe example does not fit this run ({escape_markdown(exc)})")
        return
    result = probe_trace(run.trainer.model, run.trainer.task, a, b, op)
    corr = run.trainer.carry_correlation()
    order = unit_order(corr) if corr is not None else None
    verdict = f"{result.net_answer} ({'right' if result.correct else 'wrong'})"
    figure = charts.hidden_heatmap_figure(
        result.hidden,
        tracks={"carry out": result.carry_out, "target": result.target, "prediction": result.pred},
        activation=run.trainer.model.activation,
        unit_order=order,
        highlight_units=order[:1].tolist() if order is not None else (),
        title=f"{plain_text(name)}: {result.a} {result.symbol} {result.b} = {verdict}",
        height=420,
    )
    st.plotly_chart(figure, key=key, width="stretch", config=PLOTLY_CONFIG, theme=None)
