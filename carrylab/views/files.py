"""Save, restore, share: checkpoint download and upload, the history as CSV, and a link to this setup.

Why here, together: these are the four ways a run leaves or enters the dashboard. Files are built only when
the download is clicked (``data=`` a callable, run by Streamlit on a thread of its own; the session's lock
keeps a live frame from changing the trainer half-way through), so a session that never downloads never pays
for the 15-170 kB checkpoint. Downloads are disabled while playing: the file name carries the step, and the
sidebar is not redrawn by the live frames.

An upload is untrusted: `Session.load_checkpoint_bytes` validates everything (``rnn_core.checkpoint``, no
pickles) and leaves the model untouched on any error. It runs in the uploader's ``on_change`` callback, before
the script, so the settings widgets can take the loaded configuration; the file's ``file_id`` is remembered so
that the same upload is never applied twice.

The history builders are pure (no Streamlit) and tested directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from carrylab.components.copy_link import copy_link
from carrylab.session import STATE_KEY, Session, checkpoint_file_name
from carrylab.settings import share_url
from carrylab.views import push_settings
from rnn_core.train import Trainer

if TYPE_CHECKING:  # pandas (~0.5 s to import) loads on first use, after the page's first elements
    import pandas as pd

UPLOAD_KEY = "upload_checkpoint"
MAX_NAME_CHARS = 60


# -- pure builders --------------------------------------------------------------------------------------------
def step_history_frame(trainer: Trainer) -> pd.DataFrame:
    """The training error log: one row per point of the (possibly downsampled) step log.

    Columns: step (first training step of the point, counting from 0), error (mean error of the point's steps),
    steps_averaged (how many steps the point covers: 1 until the log is downsampled)."""
    steps, error = trainer.steps_log.arrays()
    ends = np.append(steps[1:], trainer.step) if len(steps) else steps
    import pandas as pd

    return pd.DataFrame({"step": steps, "error": error, "steps_averaged": ends - steps})


def eval_history_frame(trainer: Trainer) -> pd.DataFrame:
    """The evaluation log: one row per exhaustive evaluation. Scalar columns keep their names (step, accuracy,
    probe_accuracy, ...); vector columns become one column per entry: bit_accuracy_0 (least significant bit)
    ... bit_accuracy_{T-1}, grad_norms_0 ... ."""
    columns: dict[str, np.ndarray] = {}
    state = trainer.evals.state()
    for name, values in state.items():
        values = np.asarray(values)
        if values.ndim == 1:
            columns[name] = values
        else:
            for i in range(values.shape[1]):
                columns[f"{name}_{i}"] = values[:, i]
    import pandas as pd

    frame = pd.DataFrame(columns)
    if "step" in frame:
        frame = frame[["step", *[c for c in frame.columns if c != "step"]]]
    return frame


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def _history_csv(session: Session, build):
    """A download callback: the CSV of `build(trainer)`, read under the session's lock."""

    def data() -> bytes:
        with session.lock:
            return csv_bytes(build(session.trainer))

    return data


def history_file_name(trainer: Trainer, what: str) -> str:
    """'carrylab_add_8bit_step1000_errors.csv'."""
    return checkpoint_file_name(trainer).removesuffix(".npz") + f"_{what}.csv"


# -- the upload -----------------------------------------------------------------------------------------------
def apply_upload() -> None:
    """on_change of the uploader: load a newly uploaded checkpoint into this tab's session (once per file)."""
    session = st.session_state.get(STATE_KEY)
    uploaded = st.session_state.get(UPLOAD_KEY)
    if not isinstance(session, Session) or uploaded is None or session.applied_upload == uploaded.file_id:
        return
    session.applied_upload = uploaded.file_id
    if session.load_checkpoint_bytes(uploaded.getvalue(), name=uploaded.name[:MAX_NAME_CHARS]):
        push_settings(session)


# -- the sidebar section --------------------------------------------------------------------------------------
def render(session: Session) -> None:
    """The "Save, restore, share" section (call inside the sidebar)."""
    st.header("Save, restore, share")
    trainer = session.trainer
    playing = session.running
    why = "Pause first: the file is of the model as it is when paused." if playing else None
    st.download_button(
        "Download checkpoint",
        data=session.checkpoint_bytes,  # built only when clicked
        file_name=checkpoint_file_name(trainer),
        mime="application/octet-stream",
        key="download_checkpoint",
        on_click="ignore",
        icon=":material/download:",
        disabled=playing,
        help=why
        or "The whole run (weights, optimizer, history, random state) as a .npz file; upload it here "
        "or evaluate it with `python -m rnn_core eval FILE`.",
        width="stretch",
    )
    st.file_uploader(
        "Upload checkpoint",
        type=["npz"],
        key=UPLOAD_KEY,
        on_change=apply_upload,
        help="A .npz saved by this dashboard or by `python -m rnn_core train --save FILE`. It replaces the "
        "current model, its history and settings; a file that is not a valid checkpoint changes nothing.",
    )
    for label, frame, kind, key, what in (
        (
            "error per step",
            step_history_frame,
            "errors",
            "download_step_history",
            "the training error per step (step, error, steps averaged)",
        ),
        (
            "evaluations",
            eval_history_frame,
            "evaluations",
            "download_eval_history",
            "every evaluation (step, accuracy, accuracy per bit, carry probe, ...)",
        ),
    ):
        st.download_button(
            f"History: {label} (CSV)",
            data=_history_csv(session, frame),
            file_name=history_file_name(trainer, kind),
            mime="text/csv",
            key=key,
            on_click="ignore",
            icon=":material/table:",
            disabled=playing,
            help=why or f"Download history: {what}.",
            width="stretch",
        )
    st.markdown("**Copy link** (this setup, for a browser or a slide):")
    copy_link(share_url(st.context.url, session.settings))
