"""One-line captions, keyed by builder name, telling the reader what to look for in each chart.

Why separate: the Streamlit views show them under the charts, and keeping them next to each other
makes it easy to keep their tone and length consistent.
"""

from __future__ import annotations

CAPTIONS: dict[str, str] = {
    "error_figure": (
        "Faint: error at every step; bold: smoothed. Learning the carry often shows as a plateau and then a "
        "sudden drop, with exhaustive accuracy (dotted, right axis) jumping to 100 %."
    ),
    "hidden_heatmap_figure": (
        "Read one column per bit: the rows on top are the inputs, true carry and output; look for a hidden "
        "unit whose colour flips exactly when 'carry out' does."
    ),
    "gate_heatmap_figure": (
        "Each gate per unit and bit, 0 (closed) to 1 (open), under the same tracks as the state: look for a gate "
        "that holds where 'carry out' must be kept and switches where it changes."
    ),
    "network_figure": (
        "Press Play: watch the carry unit switch on where both bits are 1, come back in the left column at the "
        "next bit (the memory), and the output bit come out right."
    ),
    "carry_correlation_figure": (
        "Bars near +1 or -1 mark units that track the carry; a solved net usually has at least one."
    ),
    "probe_accuracy_figure": (
        "How well a linear read-out recovers the carry from the hidden state; it usually rises before, "
        "or together with, the net's own accuracy."
    ),
    "bit_error_heatmap": "Errors fade from the least significant bit upwards: higher bits need the carry from below.",
    "chain_accuracy_figure": (
        "Accuracy by the longest run of carries in the sum; a net that has not learned to hold the carry "
        "fails on the long chains."
    ),
    "pair_grid_figure": (
        "Every operand pair, blue = right; stripes of wrong answers usually line up with the carry "
        "patterns (e.g. a + b crossing a power of two)."
    ),
    "length_generalisation_figure": (
        "Right of the dashed line the net sees longer numbers than it was trained on; flat at 100 % "
        "means it learned the rule, not the lengths."
    ),
    "gradient_flow_heatmap": (
        "How much gradient reaches each time step (log scale); fading towards early steps means vanishing gradients."
    ),
    "weights_figure": (
        "All three weight matrices on one colour scale (white = 0); structure in W_rec shows how units "
        "pass the carry to the next step."
    ),
    "spectral_radius_figure": (
        "Largest |eigenvalue| of W_rec; above the dashed line at 1 the recurrence can amplify, below it forgets."
    ),
    "state_space_figure": (
        "Hidden states in their two main directions, coloured by the true carry; two separated clouds "
        "mean the carry is cleanly stored."
    ),
    "automaton_figure": (
        "The state machine read off the hidden states; a solved net matches the 2-state adder (carry 0 / carry 1)."
    ),
    "seed_sweep_figure": "Steps to solve for each random seed; ✕ marks seeds that never solved within the budget.",
    "phase_diagram_figure": (
        "Per grid point: the share of seeds that got every pair right within the budget, and the median steps "
        "they needed (blank where more than half never solved). Click a cell to pick that point."
    ),
}
