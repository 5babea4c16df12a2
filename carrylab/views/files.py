"""Save, restore, share: checkpoint download and upload, the history as CSV, and a link to this setup.

Why here, together: these are the four ways a run leaves or enters the dashboard. Files are built only when
the download is clicked (``data=`` a callable, run by Streamlit on a thread of its own), so a session that never
downloads never pays for the 15-170 kB checkpoint. The file's name (it carries the step) and its contents are
built together at that moment, under the session's lock (``carrylab.download``): a click during a long Train gets
the step it holds, named for that step. A failure becomes an error notice, shown at the next rerun. The buttons'
callables hold the session weakly: Streamlit keeps them after a tab has closed, and they must not keep its run in
memory. Downloads are disabled while playing: the sidebar is not redrawn by the live frames.

An upload is untrusted: `Session.load_checkpoint_bytes` validates everything (``rnn_core.checkpoint``, no
pickles) and leaves the model untouched on any error. It runs in the uploader's ``on_change`` callback, before
the script, so the settings widgets can take the loaded configuration; the file's ``file_id`` is remembered so
that the same upload is never applied twice.

The history builders are pure (no Streamlit) and tested directly.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from carrylab.components.copy_link import copy_link
from carrylab.download import NamedAtClick
from carrylab.session import STATE_KEY, Notice, Session, checkpoint_file_name
from carrylab.settings import share_url
from carrylab.views import push_settings
from rnn_core.checkpoint import CheckpointError, checkpoint_bytes
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


def history_file_name(trainer: Trainer, what: str) -> str:
    """'carrylab_add_8bit_step1000_errors.csv'."""
    return checkpoint_file_name(trainer).removesuffix(".npz") + f"_{what}.csv"


def file_at_click(
    session: Session, name_of: Callable[[Trainer], str], contents_of: Callable[[Trainer], bytes]
) -> NamedAtClick:
    """``data=`` for a download button: (name_of(trainer), contents_of(trainer)) of the trainer as it is when the
    button is clicked, both under the session's lock. A failure is left as an error notice and raised (the click
    then fails; Streamlit can show no message of ours there)."""
    ref = weakref.ref(session)

    def build() -> tuple[str, bytes]:
        current = ref()
        if current is None or current.trainer is None:  # released: the tab closed for good
            raise RuntimeError("this tab's session has ended")
        with current.lock:
            trainer = current.trainer
            name = name_of(trainer)
            try:
                return name, contents_of(trainer)
            except (CheckpointError, ValueError, MemoryError) as exc:
                reason = str(exc).strip().rstrip(".") or type(exc).__name__
                current.notices.append(Notice("error", f"{name} could not be written: {reason}."))
                raise

    return NamedAtClick(build)


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
        data=file_at_click(session, checkpoint_file_name, checkpoint_bytes),  # built (and named) when clicked
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
            data=file_at_click(
                session,
                lambda t, kind=kind: history_file_name(t, kind),
                lambda t, frame=frame: csv_bytes(frame(t)),
            ),
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
