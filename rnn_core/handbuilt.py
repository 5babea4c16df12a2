"""The textbook adder: hand-set weights of an Elman tanh network that adds binary numbers exactly.

Why it exists: a trained network is only interesting next to what a *correct* solution looks like. This one
is small enough to check by hand, and the diagnostics (carry correlation, linear probe, automaton extraction)
must recognise it perfectly, so it doubles as their ground truth in the tests. The dashboard offers it as "the
textbook adder" to compare against trained networks.

Construction (inputs a, b in {0, 1} at step t, least-significant bit first; 0-based unit indices 0, 1, 2):

* Unit j - 1 (for j = 1, 2, 3) computes the threshold "a + b + carry_in >= j":

      h_t[j - 1] = tanh(k * (a + b + 0.5 * r - (j - 0.75)))

  where r = h_{t-1}[1] is the previous value of unit 1 (the carry unit). r is about -1 for "no carry", +1 for
  "carry", and exactly 0 in the start state h_0 = 0 (no carry yet). Writing c for the true carry, the
  pre-activation divided by k is (a + b + c) - j + 0.25 when r = +-1 and (a + b) - j + 0.75 when r = 0, so its
  sign is right with a margin of at least 0.25 either way; with k = 20 every unit is saturated
  (|h| >= tanh(5) ~ 0.9999), which keeps r within 1e-4 of +-1 at every later step, so errors never accumulate.
  In weights: W_in[:, j-1] = k, W_rec[1, j-1] = 0.5 k, b_rec[j-1] = -k (j - 0.75).

* Unit 1 ("a + b + c >= 2") is exactly the carry out of this bit, what the next step needs: CARRY_UNIT = 1.

* The sum bit is the parity of the count n = a + b + c in {0, 1, 2, 3}. With s_j = sign(h[j-1]),
  s_1 - s_2 + s_3 = -1, +1, -1, +1 for n = 0, 1, 2, 3, so

      y_t = sigmoid(K / 2 * (h[0] - h[1] + h[2])),   W_out = K/2 * [1, -1, 1]^T,  b_out = 0,

  which is sigmoid(+-K/2) = sigmoid(+-10) for K = 20: the right bit after rounding, at every length.

Both k and K are the ``gain`` argument. Hidden units beyond the first three get zero weights (they stay at
tanh(0) = 0 forever), so the same construction fits any n_hidden >= 3.
"""

from __future__ import annotations

import numpy as np

CARRY_UNIT = 1
"""0-based index of the hidden unit that holds the carry (+1 = carry, -1 = no carry, 0 = start state)."""


def carry_adder_params(n_hidden: int = 3, gain: float = 20.0, dtype=np.float64) -> dict[str, np.ndarray]:
    """Weights of an Elman tanh network (n_in=2, n_out=1) that implements binary addition exactly.

    n_hidden: H >= 3; units 3.. get zero weights.
    gain: k = K, the slope of every tanh/sigmoid; >= 10 keeps all units saturated (see module docstring);
        at 5 the margins blur and 64-bit sums start to go wrong.
    returns: {"W_in": (2, H), "W_rec": (H, H), "b_rec": (H,), "W_out": (H, 1), "b_out": (1,)}
    """
    if isinstance(n_hidden, bool) or not isinstance(n_hidden, (int, np.integer)) or n_hidden < 3:
        raise ValueError(f"the hand-built adder needs n_hidden >= 3, got {n_hidden!r}")
    gain = float(gain)
    if not np.isfinite(gain) or gain <= 0:
        raise ValueError(f"gain must be a positive finite number, got {gain!r}")
    H = int(n_hidden)
    k = gain
    thresholds = np.array([1.0, 2.0, 3.0])  # unit j-1 fires when a + b + carry >= j

    W_in = np.zeros((2, H), dtype=dtype)
    W_rec = np.zeros((H, H), dtype=dtype)
    b_rec = np.zeros(H, dtype=dtype)
    W_out = np.zeros((H, 1), dtype=dtype)
    b_out = np.zeros(1, dtype=dtype)

    W_in[:, :3] = k
    W_rec[CARRY_UNIT, :3] = 0.5 * k
    b_rec[:3] = -k * (thresholds - 0.75)
    W_out[:3, 0] = 0.5 * gain * np.array([1.0, -1.0, 1.0])
    return {"W_in": W_in, "W_rec": W_rec, "b_rec": b_rec, "W_out": W_out, "b_out": b_out}
