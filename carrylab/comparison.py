"""The session's runs side by side as data: overlays for the error chart, the runs table and the histories as CSV.

Every run (pinned ones, then the current one unless it is pinned) is read through `carrylab.run.Run`, so each
number comes from that run's own logs. A pinned run keeps one colour while it is pinned (by its id); the current
run is always the first colour of the single-run chart. pandas is imported when a table is first built (the
page's first render does not wait for it).
"""

from __future__ import annotations

import math

import numpy as np

from carrylab.charts.style import CORRECT_COLOUR
from carrylab.charts.training import RUN_COLOURS, Overlay
from carrylab.run import Run, array_bytes, differing, labels
from carrylab.session import Session


def named_runs(session: Session) -> list[tuple[str, Run, int | None]]:
    """(legend name, run, pinned id or None) for every run of the session: the pinned ones, then the current one."""
    items: list[tuple[Run, int | None]] = [(run, run_id) for run_id, run in session.pinned.items()]
    if not session.pinned.contains(session.current):
        items.append((session.current, None))
    names = labels([run for run, _ in items])
    return [(name, run, run_id) for name, (run, run_id) in zip(names, items, strict=True)]


def run_colour(run_id: int | None) -> str:
    return CORRECT_COLOUR if run_id is None else RUN_COLOURS[(run_id - 1) % len(RUN_COLOURS)]


def overlays(session: Session, *, seconds: bool) -> tuple[str | None, list[Overlay]]:
    """(the current run's legend name or None when it is alone, the other visible runs as overlays). seconds: the
    x values are wall-clock seconds of training instead of steps."""
    others, current_name = [], None
    for name, run, run_id in named_runs(session):
        if run is session.current:
            current_name = name
            continue
        if run.hidden:
            continue
        steps, error = run.trainer.steps_log.arrays()
        eval_steps = run.trainer.evals.array("step")
        x = run.seconds_at(steps) if seconds else steps
        eval_x = run.seconds_at(eval_steps) if seconds else eval_steps
        others.append(Overlay(name, run_colour(run_id), x, error, eval_x, run.trainer.evals.array("accuracy")))
    return (current_name if others else None), others


def runs_table(session: Session):
    """One row per run: its name, pinned id, the settings that differ, steps, solved at, recent error, last logged
    accuracy, seconds trained and memory held (a pandas DataFrame)."""
    import pandas as pd

    runs = named_runs(session)
    varying = differing([run for _, run, _ in runs])
    rows = []
    for name, run, run_id in runs:
        trainer = run.trainer
        config = trainer.config.to_dict()
        steps, error = trainer.steps_log.arrays()
        recent = steps >= trainer.step - 200
        row = {"run": name, "pinned": "-" if run_id is None else str(run_id), "current": run is session.current}
        row.update({field: config[field] for field in varying})
        row.update(
            {
                "steps": trainer.step,
                "solved at": trainer.solved_at_step if trainer.solved_at_step is not None else math.nan,
                "error": float(np.mean(error[recent])) if recent.any() else math.nan,
                "accuracy %": 100.0 * float(trainer.evals.last("accuracy", math.nan)),
                "seconds": round(run.seconds, 2),
                "memory MB": round(array_bytes(run) / 2**20, 2),
                "shown": not run.hidden,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def histories(session: Session):
    """Every run's logged points as one long table (a pandas DataFrame): run, step, seconds, error, accuracy (NaN
    where a row is only a training step or only an evaluation)."""
    import pandas as pd

    frames = []
    for name, run, _ in named_runs(session):
        frame = pd.DataFrame(run.history())
        frame.insert(0, "run", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def histories_csv(session: Session) -> bytes:
    """The long table as CSV; a run name a spreadsheet would read as a formula (=, +, -, @) gets a leading '."""
    table = histories(session)
    table["run"] = [f"'{name}" if name[:1] in "=+-@" else name for name in table["run"]]
    return table.to_csv(index=False).encode()
