"""View "Longer numbers": does a net trained on n-bit numbers add 64-bit numbers?

Why: the weights do not depend on the sequence length, so the same cell can simply run for more steps. A net
that has learned the carry rule stays at 100 % far beyond its training width; one that learned something
length-specific breaks just past it. This is the strongest test of "it learned the rule", and cheap to run.

The curve costs 0.1-0.5 s, so it is kept in ``st.session_state[CACHE_KEY]`` with the step it belongs to and
computed again only when the weights have changed (the tab is lazy: only while it is open). While playing it is
not recomputed every frame: it keeps the step it was computed at, says so, and updates on the button or when
paused, so a verdict is never shown for weights it was not computed on without its step.
"""

from __future__ import annotations

import streamlit as st

from carrylab.analysis import LENGTH_WIDTHS, LengthCurve, length_curve
from carrylab.charts import CAPTIONS, length_generalisation_figure
from carrylab.views.common import explain, show_chart
from rnn_core.train import Trainer

CACHE_KEY = "length_cache"  # {"model": identity of the trainer, "curve": LengthCurve}
BUTTON_KEY = "length_eval"


def _identity(trainer: Trainer) -> tuple:
    """Identifies the model a cached curve belongs to (a reset or new settings give a new trainer)."""
    return (id(trainer), tuple(sorted(trainer.config.to_dict().items())))


def cached_curve(trainer: Trainer) -> LengthCurve | None:
    entry = st.session_state.get(CACHE_KEY)
    if isinstance(entry, dict) and entry.get("model") == _identity(trainer):
        return entry.get("curve")
    return None


def render(trainer: Trainer, *, live: bool = False, presentation: bool = False) -> None:
    """live: training is playing (the curve is then recomputed only on the button); presentation: larger text."""
    st.subheader("Longer numbers")
    curve = cached_curve(trainer)
    widths = f"{min(LENGTH_WIDTHS)}–{max(LENGTH_WIDTHS)}"
    clicked = st.button(f"Evaluate widths {widths}", key=BUTTON_KEY, help="Run the current weights on longer numbers.")
    if curve is None or (curve.step != trainer.step and (clicked or not live)):
        with st.spinner("Evaluating longer numbers..."):
            curve = length_curve(trainer)
        st.session_state[CACHE_KEY] = {"model": _identity(trainer), "curve": curve}
    elif clicked:  # nothing to recompute: say so, rather than appear to ignore the click
        st.success(
            f"Already up to date: the curve below is for the current weights (step {trainer.step:,}). "
            "Train further and press the button again to see them change.",
            icon=":material/check:",
        )
    if curve.step != trainer.step:
        st.caption(
            f"Computed at step {curve.step:,}; the net is now at step {trainer.step:,}. It updates when paused, "
            "or press the button."
        )
        st.markdown(f"**At step {curve.step:,}: {curve.summary()}**")
    else:
        st.markdown(f"**{curve.summary()}**")
    fig = length_generalisation_figure(curve.widths, curve.random, curve.chain, train_width=curve.train_width)
    show_chart(fig, "length_chart", CAPTIONS["length_generalisation_figure"], large=presentation)
    explain(
        f"The same weights, run on {widths}-bit numbers: the accuracy on random pairs (every pair for small "
        "widths, 1,000 random pairs otherwise) and on the carry-chain cases, such as (2^k - 1) + 1, whose carry "
        "runs through every bit.\n\n"
        "**What to look for**: flat at 100 % right of the dashed line means the net learned the carry rule "
        "itself; a drop just past its training width means it learned something that only works for the "
        "lengths it saw (for example a carry that fades after a few steps).\n\n"
        "**The math**: the recurrence h_t = tanh(x_t W_in + h_(t-1) W_rec + b) has the same weights at every "
        "step, so a longer number is just more steps of the same machine; only a state that stays put (a fixed "
        "point for 'carry' and one for 'no carry') survives 64 steps."
    )
