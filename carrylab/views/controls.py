"""Settings widgets, the training buttons and the URL: everything the user changes.

Why here: widgets are built from the declarations in `carrylab.settings` (one place for names,
ranges and defaults), so the sidebar, the URL and the engine cannot disagree. The flow per run:
1. first run of a browser session: query parameters -> validated settings -> widget state (notes
   about bad parameters become warnings on the page); a `preset` parameter is the base of the
   configuration, the parameters given explicitly override it;
2. sidebar widgets -> `Session.update_settings` (model reset or new learning rate, with a notice);
   the preset selector is drawn at the top of the sidebar but last, so that it names the configuration
   the widgets produced ("custom" when it is no preset's). Not drawn at all in presentation mode;
3. the control row: Step / Train N / Play-Pause / Reset, demo speed, stop when solved; training
   runs here, before the charts are drawn, in chunks with a progress bar for long runs;
4. at the end of each run the non-default settings are written back to the URL.
Widgets are created without ``value=``: their value is put into ``st.session_state`` beforehand
from the session's settings, which also restores it when a lazy tab did not draw the widget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import streamlit as st

from carrylab import lifetime
from carrylab.session import STATE_KEY, Notice, Session, get_session
from carrylab.settings import (
    CELL_LABELS,
    SETTINGS,
    STREAMLIT_PARAMS,
    Setting,
    cell_name,
    parse_query_params,
    parse_value,
    to_query_params,
    with_preset_base,
)
from carrylab.views import escape_markdown, presets
from rnn_core.tasks import SYMBOLS

PROGRESS_AFTER_SECONDS = 0.4  # a "Train N steps" run shows a progress bar once it has taken this long
# Play and Pause share one width, so the controls right of the button stay put when it flips (Pause is wider).
PLAY_BUTTON_WIDTH = 96  # px; "Pause" with its icon needs 90
# Presentation mode's "Settings" popover: the few settings a demo changes in front of an audience.
PRESENTATION_SETTINGS = ("eta", "n_hidden", "seed", "steps_per_click")
# Number-input display per float setting: (printf format, +/- step).
_FLOAT_INPUT = {"eta": ("%g", 0.01), "momentum": ("%.3f", 0.01), "clip": ("%g", 0.5)}
_SLIDERS = {"smoothing": 0.01}
_CHOICE_LABELS = {
    "mixed": "mixed (all five)",
    **{op: f"{op} ({sym})" for op, sym in SYMBOLS.items()},
    "pcg64": "pcg64 (default_rng)",
    "legacy": "legacy (RandomState)",
    **CELL_LABELS,
}


# -- session and URL ---------------------------------------------------------------------------------------
def _query_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def session_from_url() -> Session:
    """This tab's Session; on its first run, built from the URL's settings (bad values -> warnings). A Session let go
    of after its tab was gone past the reconnect TTL (``carrylab.lifetime``) is replaced by a new one."""
    existing = st.session_state.get(STATE_KEY)
    if isinstance(existing, Session):
        if existing.trainer is not None:
            return existing
        del st.session_state[STATE_KEY]
    params = _query_params()
    settings, notes = parse_query_params(params)
    settings = with_preset_base(settings, given=list(params))  # ?preset=trask alone: the whole Trask setup
    session, _ = get_session(st.session_state, settings)
    lifetime.watch(session)  # its run is let go once the tab has closed for good
    session.notices = [Notice("warning", note) for note in notes] + session.notices
    for name, value in session.settings.items():
        st.session_state[name] = value
    if "preset" in params:  # a link to a preset opens its view
        presets.open_view(session.settings["preset"])
    return session


def initial_sidebar_state() -> str:
    """The sidebar's state when the page opens: collapsed in presentation mode (the session's setting, else the
    URL's), else "auto"."""
    session = st.session_state.get(STATE_KEY)
    if isinstance(session, Session):
        on = bool(st.session_state.get("presentation", session.settings["presentation"]))
    else:
        raw = st.query_params.get_all("presentation")
        on = bool(raw) and parse_value(SETTINGS["presentation"], raw[-1])[0] is True
    return "collapsed" if on else "auto"


def presentation_mode(session: Session) -> bool:
    """Whether presentation mode is on, from its toggle's value (read first: it decides whether the sidebar is drawn;
    the toggle itself is drawn next to the title, by render_header)."""
    read_widgets(session, ("presentation",))
    return bool(session.settings["presentation"])


def sync_url(session: Session) -> None:
    """Write the non-default settings into the URL (only the keys that changed; foreign keys untouched)."""
    wanted = to_query_params(session.settings)
    for name in SETTINGS:
        if name in STREAMLIT_PARAMS:
            continue
        current = st.query_params.get_all(name)
        if name in wanted and current != [wanted[name]]:
            st.query_params[name] = wanted[name]
        elif name not in wanted and current:
            del st.query_params[name]


# -- widgets -------------------------------------------------------------------------------------------------
def setting_widget(setting: Setting, session: Session, *, disabled: bool = False, container=None, **extra):
    """The widget of a declared setting, keyed by its name, holding the session's current value."""
    name = setting.name
    if name not in st.session_state or name in session.refused:
        st.session_state[name] = session.settings[name]
        session.refused.discard(name)
    elif setting.kind in ("int", "float") and not _in_bounds(setting, st.session_state[name]):
        # An empty or non-numeric entry arrives as None, an out-of-range one as it was typed (the boxes have no
        # min/max: the browser would keep 99 in a 1..64 box, marked red, and never send it): refuse it with a
        # message and show the value in use again.
        st.session_state[name] = session.settings[name]
        lo, hi = setting.bounds
        kind, shown = ("a whole number", "{:,}") if setting.kind == "int" else ("a number", "{:g}")
        session.notices.append(
            Notice(
                "error",
                f"{setting.label}: enter {kind} from {shown.format(lo)} to {shown.format(hi)}; "
                f"kept {shown.format(session.settings[name])}.",
                about_settings=True,
            )
        )
    where = container if container is not None else st
    common = {"key": name, "help": setting.help or None, "disabled": disabled, **extra}
    if setting.kind == "choice":
        return where.selectbox(setting.label, setting.choices, format_func=lambda c: _CHOICE_LABELS.get(c, c), **common)
    if setting.kind == "bool":
        return where.toggle(setting.label, **common)
    if setting.kind == "operand":
        return where.text_input(setting.label, max_chars=30, **common)
    lo, hi = setting.bounds
    if setting.options:
        return where.select_slider(setting.label, options=setting.options, **common)
    if name in _SLIDERS:
        return where.slider(setting.label, float(lo), float(hi), step=_SLIDERS[name], **common)
    # No min_value/max_value: the browser sends whatever is typed, and the bounds are checked above (with a message).
    # value=None: an empty entry arrives as None instead of Streamlit replacing it with a default.
    if setting.kind == "int":
        return where.number_input(setting.label, step=1, value=None, **common)
    fmt, step = _FLOAT_INPUT.get(name, ("%g", 0.01))
    return where.number_input(setting.label, step=step, format=fmt, value=None, **common)


def _in_bounds(setting: Setting, value) -> bool:
    """A number input's value is usable: a finite number within the setting's bounds."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    lo, hi = setting.bounds
    return lo <= value <= hi


def read_widgets(session: Session, names: Iterable[str]) -> None:
    """Apply the widgets' values to the session; push back values the session adjusted (probe operands). A refused
    value (settings too large together) is put back by a rerun: these widgets are drawn already."""
    values = {name: st.session_state[name] for name in names if st.session_state.get(name) is not None}
    for name in session.update_settings(values):
        st.session_state[name] = session.settings[name]
    if session.refused & set(names):
        st.rerun()


def render_sidebar(session: Session):
    """The preset, then task, model and training settings. A task/model change resets the model; eta applies at
    once. Returns an empty sidebar container at the bottom, for sections drawn at the end of the run."""
    with st.sidebar:
        top = st.container()
        st.header("Task and model")
        for name in ("operator", "n_bits", "cell", "n_hidden"):
            setting_widget(SETTINGS[name], session)
        elman = st.session_state.get("cell", session.settings["cell"]) == "elman"
        setting_widget(SETTINGS["variant"], session, disabled=not elman)
        st.header("Training")
        for name in ("eta", "batch_size", "optimizer", "loss", "seed", "steps_per_click"):
            setting_widget(SETTINGS[name], session)
        with st.expander("Advanced"):
            momentum_used = st.session_state.get("optimizer", session.settings["optimizer"]) == "momentum"
            setting_widget(SETTINGS["momentum"], session, disabled=not momentum_used)
            setting_widget(SETTINGS["clip"], session)
            for name in ("rng", "dtype", "eval_every", "snapshot_every"):
                setting_widget(SETTINGS[name], session)
        st.caption(
            "Changing a task or model setting resets the model to step 0; a new learning rate applies "
            "from the next step. The page URL holds every setting: copy it to share this setup."
        )
        bottom = st.container()
    read_widgets(session, [s.name for s in SETTINGS.values() if s.config_field] + ["steps_per_click"])
    with top:  # drawn last: it names the configuration the widgets above have just produced
        presets.render(session)
    return bottom


# -- the control row -----------------------------------------------------------------------------------------
def render_controls(session: Session) -> None:
    """Step / Train N / Play-Pause / Reset, demo speed and stop-when-solved; runs the requested training."""
    n_steps = int(session.settings["steps_per_click"])
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
    step_clicked = row.button("Step", key="step", icon=":material/skip_next:", help="Train one step.")
    train_clicked = row.button(
        f"Train {n_steps:,} step{'s' if n_steps != 1 else ''}",
        key="train",
        icon=":material/fast_forward:",
        help="Change the number in the sidebar (steps per click)."
        if not session.settings["presentation"]
        else "Change the number under Settings, next to the title (steps per click).",
    )
    if (step_clicked or train_clicked) and session.running:
        session.pause()  # a step by hand stops Play (before its button is drawn, so that it reads "Play")
    row.button(
        "Pause" if session.running else "Play",
        key="play",
        type="primary",
        icon=":material/pause:" if session.running else ":material/play_arrow:",
        width=PLAY_BUTTON_WIDTH,
        # Not a toggle: the browser can deliver one click twice (with a timer's fragment rerun and with the
        # click's own rerun), so the button carries the action its label shows, which is idempotent.
        on_click=session.pause if session.running else session.start,
        help="Train continuously, with live charts; the demo speed sets the steps per frame.",
    )
    row.button(
        "Reset",
        key="reset",
        icon=":material/restart_alt:",
        on_click=session.reset,
        help="Re-initialise the weights from the seed.",
    )
    setting_widget(SETTINGS["demo_speed"], session, container=row, width=280)
    setting_widget(SETTINGS["stop_when_solved"], session, container=row)
    read_widgets(session, ("demo_speed", "stop_when_solved"))

    until_solved = bool(session.settings["stop_when_solved"])
    if step_clicked:
        session.train(1, until_solved=until_solved)
    elif train_clicked:
        _train_with_progress(session, n_steps, until_solved)


def _train_with_progress(session: Session, n_steps: int, until_solved: bool) -> None:
    """Train in chunks; a progress bar with a Stop button appears once the run has taken longer than
    PROGRESS_AFTER_SECONDS. Updating it is also where a click interrupts a long run (between two chunks)."""
    slot = st.empty()
    started = time.monotonic()
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None and time.monotonic() - started < PROGRESS_AFTER_SECONDS:
            return
        text = f"Training: {done:,} / {total:,} steps"
        if bar is None:
            box = slot.container(horizontal=True, vertical_alignment="bottom")
            bar = box.progress(done / total, text=text)
            # Any click reruns the script, which stops this run at its next progress update; the steps
            # trained so far are kept. This button is that click, named for what it does.
            box.button("Stop", key="stop_training", icon=":material/stop:", help="Stop training here.")
        else:
            bar.progress(done / total, text=text)

    session.train(n_steps, until_solved=until_solved, on_progress=progress)
    slot.empty()


def render_header(session: Session, title: str) -> None:
    """The page title with the presentation-mode toggle on its right (and, in presentation mode, the settings
    popover), and the one-line task description."""
    row = st.container(horizontal=True, vertical_alignment="center")
    row.title(title, width="stretch")
    if session.settings["presentation"]:
        render_presentation_settings(session, row)
    setting_widget(SETTINGS["presentation"], session, container=row)
    read_widgets(session, ("presentation",))
    st.caption(operator_caption(session))


def render_presentation_settings(session: Session, row) -> None:
    """Presentation mode's "Settings" popover in `row`: the preset and the few settings a demo changes (learning
    rate, hidden units, seed, steps per click), applied as in the sidebar, without leaving presentation mode."""
    with row.popover("Settings", icon=":material/tune:", key="presentation_settings"):
        top = st.container()
        for name in PRESENTATION_SETTINGS:
            setting_widget(SETTINGS[name], session)
        read_widgets(session, PRESENTATION_SETTINGS)
        st.caption("Everything else: turn presentation mode off (the sidebar).")
        with top:  # drawn last, as in the sidebar: it names the configuration the widgets have just produced
            presets.render(session)


def operator_caption(session: Session) -> str:
    """One line describing the current task, for the page header (markdown-escaped)."""
    settings = session.settings
    task = session.trainer.task
    what = "a mixed task (+, -, ^, &, |)" if settings["operator"] == "mixed" else f"a {SYMBOLS[task.op]} b"
    pairs = f"{task.n_pairs:,} pairs" if task.enumerable else f"a fixed sample of {len(task.exhaustive()):,} pairs"
    return escape_markdown(
        f"Learning {what} on {settings['n_bits']}-bit numbers, least significant bit first, with "
        f"{settings['n_hidden']} hidden units ({cell_name(settings)}); accuracy is measured on {pairs}."
    )
