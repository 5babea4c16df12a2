"""View "Gradient flow & weights": how far back through time the error signal reaches, and what the weights are.

Why: the carry is learned only if the gradient from a high output bit reaches the earlier step that should have
stored the carry (backpropagation through time). The gradient-flow heatmap shows that signal per time step over
training; the weight matrices and the spectral radius of W_rec show the recurrence that carries state forward.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from carrylab.analysis import CarryAnalysis
from carrylab.charts import CAPTIONS, gradient_flow_heatmap, spectral_radius_figure, weights_figure
from carrylab.views.common import explain, show_chart
from rnn_core import diagnostics as diag
from rnn_core.train import Trainer

GATED_EXPLANATION = (
    "**Top**: the size of the gradient of the loss with respect to the hidden state h at each time step, "
    "||dL/dh_t||, at each evaluation (log colour scale). **Below**: one chart per block of the {cell} cell's "
    "weights ({blocks}), each with its W_in and W_rec columns and the shared W_out, on one colour scale per "
    "chart.\n\n"
    "**Spectral radius**: an Elman cell's state is carried by one matrix, W_rec, whose largest |eigenvalue| says "
    "whether memory fades or explodes. A gated cell has no single such matrix: its state passes through the "
    "gates, and an LSTM's cell state c_t = f_t c_(t-1) + i_t g_t is carried by the forget gate f_t, a value "
    "per unit and step, not by a matrix. So no radius is logged over training; the numbers shown are each "
    "block's W_rec radius at this step, for comparison only."
)


def _gated_weights(model, step: int) -> None:
    """Each block (gate or candidate) of a gated cell's W_in / W_rec as its own chart, titled by the block, and
    the spectral radius of each block's W_rec (what exists of a recurrent map's radius for a gated cell)."""
    p, H = model.params, model.n_hidden
    radii = []
    for k, block in enumerate(model.blocks):
        cols = slice(k * H, (k + 1) * H)
        W_in, W_rec = p["W_in"][:, cols], p["W_rec"][:, cols]
        title = f"{block.capitalize()} {'gate' if block in model.gate_names else ''} weights at step {step:,}"
        fig = weights_figure(W_in, W_rec, p["W_out"], title=" ".join(title.split()))
        show_chart(fig, f"weights_chart_{block}", CAPTIONS["weights_figure"] if k == 0 else None)
        radii.append((block, diag.spectral_radius(W_rec)))
    st.markdown(
        "**Spectral radius per block of W_rec** (a gated cell has no single recurrent matrix; see below): "
        + ", ".join(f"{block} {radius:.3f}" for block, radius in radii)
        + "."
    )


def render(trainer: Trainer, analysis: CarryAnalysis) -> None:
    st.subheader("Gradient flow & weights")
    evals = trainer.evals
    steps = evals.array("step")
    grads = evals.array("grad_norms")
    if grads.ndim != 2 or len(grads) != len(steps):
        steps, grads = np.zeros(0, dtype=np.int64), np.zeros((0, analysis.n_bits))
    show_chart(gradient_flow_heatmap(steps, grads), "grad_flow_chart", CAPTIONS["gradient_flow_heatmap"])

    model = trainer.model
    if model.n_gates > 1:
        _gated_weights(model, analysis.step)
        explain(GATED_EXPLANATION.format(cell=model.cell.upper(), blocks=", ".join(model.blocks)))
        return
    p = model.params
    fig = weights_figure(p["W_in"], p["W_rec"], p["W_out"], title=f"Weights at step {analysis.step:,}")
    show_chart(fig, "weights_chart", CAPTIONS["weights_figure"])

    left, right = st.columns([3, 1])
    with left:
        radius = evals.array("spectral_radius")
        if radius.shape != steps.shape:
            radius = np.zeros(len(steps))
        show_chart(spectral_radius_figure(steps, radius), "spectral_chart", CAPTIONS["spectral_radius_figure"])
    with right:
        st.metric("Spectral radius of W_rec now", f"{analysis.spectral_radius:.3f}")
        st.metric("Largest |weight|", f"{float(np.max(np.abs(trainer.model.theta))):.3g}")
    explain(
        "**Top**: the size of the gradient of the loss with respect to the hidden state at each time step, "
        "||dL/dh_t||, on a fixed sample of up to 256 examples of the evaluation set at each evaluation (log "
        "colour scale; blank = zero). "
        "**Middle**: the three weight matrices on one colour scale (red positive, blue negative, white 0); "
        "W_rec[i, j] is the weight from unit i at step t - 1 to unit j at step t. **Bottom**: the largest "
        "|eigenvalue| of W_rec over training.\n\n"
        "**What to look for**: gradient reaching the early time steps (the carry must be stored there to help "
        "later bits); a few strong entries in W_rec once a carry unit forms; the spectral radius settling near or "
        "above 1 (memory) without exploding.\n\n"
        "**The math**: dL/dh_(t-1) = (dL/dh_t * tanh'(u_t)) W_rec^T + (output-layer term), so each step back "
        "multiplies by W_rec^T and the tanh slopes; with a spectral radius well below 1 the signal shrinks "
        "geometrically (vanishing gradients), far above 1 it can explode."
    )
