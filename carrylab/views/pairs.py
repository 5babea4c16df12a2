"""View "Every pair at once": an a x b grid of every operand pair, coloured by how many output bits are wrong.

Why: for 8-bit addition there are only 128 x 128 pairs, so instead of a sampled accuracy the audience can see
the whole task. The wrong answers are not random: they line up with carry patterns (e.g. along the diagonals
a + b = 2^k, where a carry has to run through many bits), which is the clearest picture of *what* is not learned.
"""

from __future__ import annotations

import streamlit as st

from carrylab.analysis import CarryAnalysis
from carrylab.charts import CAPTIONS, pair_grid_figure
from carrylab.formatting import percent
from carrylab.views.common import explain, show_chart
from rnn_core.tasks import SYMBOLS
from rnn_core.train import Trainer


def render(trainer: Trainer, analysis: CarryAnalysis) -> None:
    st.subheader("Every pair at once")
    grid = analysis.pair_grid
    if grid is None:
        st.info(analysis.pair_grid_note)
        return
    sym = SYMBOLS[analysis.op]
    fig = pair_grid_figure(
        grid.a_values,
        grid.b_values,
        grid.wrong_bits,
        answer=grid.answer,
        net_answer=grid.net_answer,
        n_bits=analysis.n_bits,
        title=f"Wrong bits of a {sym} b, step {analysis.step:,}",
    )
    chart, side = st.columns([3, 1])  # a square grid: a narrower column keeps its colour bar close
    with chart:
        show_chart(fig, "pair_grid_chart", CAPTIONS["pair_grid_figure"])
    with side:
        st.metric(
            "Wrong pairs",
            f"{analysis.n_wrong:,} of {grid.wrong_bits.size:,}",
            help="Pairs with at least one wrong output bit.",
        )
        st.metric("Pairs right", percent(analysis.accuracy, space=False))
        st.markdown("Hover over a cell for the true and the net's answer.")
    explain(
        f"Each cell is one example a {sym} b (a up the side, b across), coloured blue when every output bit is right "
        "and in darker shades of orange the more bits are wrong.\n\n"
        "**What to look for**: early in training, wrong cells form stripes and diagonals, the pairs whose sum "
        "crosses a power of two, where a carry must travel through many bits; they shrink as the net learns to "
        "keep the carry, until the grid is all blue.\n\n"
        "**The math**: a + b produces a carry out of bit t exactly when the low t + 1 bits of a and b add up to "
        "at least 2^(t+1), so each bit's carry pattern is a set of diagonal bands in this grid."
    )
