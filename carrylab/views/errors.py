"""View "Where the errors are": by bit position over training, by carry-chain length, and the worst examples.

Why: one accuracy number hides the structure of the mistakes. A net that has not learned to hold the carry gets
the low bits right first and fails on high bits and on long carry chains; the table of hardest examples gives
concrete cases to try in the probe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from carrylab.analysis import CarryAnalysis
from carrylab.charts import CAPTIONS, bit_error_heatmap, chain_accuracy_figure
from carrylab.formatting import percent
from carrylab.views.common import explain, show_chart
from rnn_core.train import Trainer

if TYPE_CHECKING:  # pandas (~0.5 s to import) loads on first use, after the page's first elements
    import pandas as pd

EXACT_JS_INT = 2**53  # larger numbers are shown as text: a browser would round them


def render(trainer: Trainer, analysis: CarryAnalysis) -> None:
    st.subheader("Where the errors are")
    counted = f"all {analysis.n_examples:,} pairs" if analysis.complete else f"{analysis.n_examples:,} examples"
    sample = ""
    if not analysis.complete:
        sample = " of the evaluation set"
        if analysis.n_examples < analysis.n_examples_total:
            sample += f" (a fixed sample of its {analysis.n_examples_total:,} examples)"
    verb = "has" if analysis.n_wrong == 1 else "have"
    st.markdown(
        f"At step {analysis.step:,}, **{analysis.n_wrong:,} of {counted}**{sample} {verb} at least one wrong bit "
        f"({percent(analysis.accuracy, space=False)} right)."
    )
    left, right = st.columns(2)
    with left:
        steps = trainer.evals.array("step")
        bit_acc = trainer.evals.array("bit_accuracy")
        if bit_acc.ndim != 2 or len(bit_acc) != len(steps):
            steps, bit_acc = np.zeros(0, dtype=np.int64), np.ones((0, analysis.n_bits))
        show_chart(bit_error_heatmap(steps, 1.0 - bit_acc), "bit_error_chart", CAPTIONS["bit_error_heatmap"])
    with right:
        fig = chain_accuracy_figure(analysis.chain_lengths, analysis.chain_accuracy, analysis.chain_counts)
        show_chart(fig, "chain_acc_chart", CAPTIONS["chain_accuracy_figure"])

    st.markdown("**The hardest examples** (most wrong bits, then the largest loss)")
    st.dataframe(hardest_table(analysis), key="hardest_table", hide_index=True, width="stretch")
    explain(
        "**Left**: the share of examples whose output bit *t* is wrong, at every evaluation during training "
        "(x: training step, y: bit position, least significant at the bottom). **Right**: the examples grouped "
        "by their longest run of consecutive carries, with the accuracy of each group now. **Table**: the "
        "examples the net gets most wrong, or, once all are right, is least sure about (largest loss).\n\n"
        "**What to look for**: the error fades from bit 0 upwards, because bit *t* needs the carry from bit "
        "*t - 1*; a net that has not learned to keep the carry is right on short chains and wrong on long ones.\n\n"
        "**The math**: bit 0 is a XOR b, no memory needed; every higher bit is a XOR b XOR carry, and a chain of k "
        "carries means the carry must be passed on correctly k times in a row."
    )


def hardest_table(analysis: CarryAnalysis) -> pd.DataFrame:
    """The hardest examples as a table; operands above 2**53 as exact text."""
    import pandas as pd

    table = pd.DataFrame(analysis.hardest.rows())
    if table.empty:
        return table
    for column in ("a", "b", "true answer", "net's answer"):
        if table[column].map(int).max() >= EXACT_JS_INT:
            table[column] = table[column].map(str)
    table["loss"] = table["loss"].round(4)
    return table
