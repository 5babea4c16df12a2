"""The preset selector: one choice sets the whole configuration, resets the model and opens the preset's view.

Why a callback: choosing a preset changes every task, model and training widget at once, and Streamlit only
lets a widget's value be set before the widget is drawn. The selectbox's ``on_change`` runs before the script,
so it applies the preset to the session (`Session.apply_preset`), writes every setting into its widget, and
selects the preset's tab (``st.tabs(key="view")`` reads its open tab from ``st.session_state["view"]``).

The table itself is ``rnn_core.presets.PRESETS``; this module only shows it. "Custom" is offered only while the
configuration is no preset's (after a setting was changed by hand, or a link or checkpoint of another setup).
"""

from __future__ import annotations

import streamlit as st

from carrylab.session import STATE_KEY, Session
from carrylab.settings import CUSTOM_PRESET, PRESETS, SETTINGS
from carrylab.views import TABS_KEY, escape_markdown, push_settings

PRESET_KEY = "preset"
# The dashboard tab each preset view hint opens (labels of the dashboard's tabs).
VIEW_TABS = {"training": "Training", "length": "Longer numbers"}
CUSTOM_LABEL = "Custom"
CUSTOM_DESCRIPTION = "Your own configuration: it matches none of the presets. Pick one to start from it."


def label(key: str) -> str:
    return PRESETS[key].label if key in PRESETS else CUSTOM_LABEL


def description(key: str) -> str:
    return PRESETS[key].description if key in PRESETS else CUSTOM_DESCRIPTION


def open_view(key: str) -> None:
    """Select the tab of a preset's view hint (before the tabs are drawn)."""
    if key in PRESETS:
        st.session_state[TABS_KEY] = VIEW_TABS.get(PRESETS[key].view, VIEW_TABS["training"])


def choose_preset() -> None:
    """on_change of the selector: apply the chosen preset to this tab's session and show it everywhere."""
    session = st.session_state.get(STATE_KEY)
    key = st.session_state.get(PRESET_KEY)
    if not isinstance(session, Session) or key not in PRESETS:
        return
    session.apply_preset(key)
    push_settings(session)
    open_view(key)


def render(session: Session) -> None:
    """The selector (key `preset`) and the chosen preset's one-line description. Draw it after the other settings
    widgets were read, so that it names the configuration they produced."""
    current = session.settings[PRESET_KEY]
    options = [*PRESETS, *([CUSTOM_PRESET] if current not in PRESETS else [])]
    st.session_state[PRESET_KEY] = current
    st.selectbox(
        SETTINGS[PRESET_KEY].label,
        options,
        key=PRESET_KEY,
        format_func=label,
        on_change=choose_preset,
        help=SETTINGS[PRESET_KEY].help
        + "\n\n"
        + "\n".join(f"- **{p.label}**: {escape_markdown(p.description)}" for p in PRESETS.values()),
    )
    st.caption(escape_markdown(description(current)))
