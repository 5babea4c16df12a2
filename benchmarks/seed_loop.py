"""The seed post's training loop, rewritten for the benchmarks: the baseline RNN Carry Lab is measured against.

The post (a Japanese blog post, "RNN に計算問題を解かせる") trains an Elman RNN on 8-bit addition with plain numpy:
two operands below 128 drawn with ``np.random.randint``, fed least significant bit first, 32 tanh units, a sigmoid
output, squared error, backpropagation through time and an SGD step of 0.1 per example, 5,001 steps, a log every 500.
This file does the same computation in the same order, on purpose including the post's quirks:

- the output layer *overwrites* its weight gradient at every time step of the backward pass (the recurrent layer
  sums), so only time step 0's output gradient reaches the output weights' update;
- the initial weights are drawn in the post's order (W_in, W_rec of the recurrent layer, then W_out) as
  ``randn(fan_in, fan_out) / sqrt(fan_in)`` with zero biases; then, per step, operand a then operand b;
- the logged "error rate" is 0.5 * sum((y - t)^2) of the step's example, through the weights before its update.

One difference in form, none in numbers: the post draws from numpy's global generator and never seeds it; here each
run has its own ``np.random.RandomState(seed)`` (the same stream ``np.random.seed(seed)`` would give), unseeded when
no seed is given. The same seed gives the same log and the same weights as the post's code, bit for bit.

    python benchmarks/seed_loop.py [--steps 5001] [--seed S] [--hidden 32] [--eta 0.1] [--quiet] [--eval]

``--eval`` ends with one line ``steps=N train_seconds=T steps_per_s=R exhaustive_accuracy=A`` (training time only;
the accuracy over all 128 x 128 operand pairs is computed after the clock stops).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

N_TIME = 8  # bits per number (time steps)
N_IN = 2
N_OUT = 1
LOG_INTERVAL = 500


def bit_table(n_time: int = N_TIME) -> np.ndarray:
    """(2**n_time, n_time) int: row i is i in binary, most significant bit first (the post's ``binaries``)."""
    values = np.arange(2**n_time)
    return (values[:, None] >> np.arange(n_time - 1, -1, -1)) & 1


class SeedLoop:
    """The post's network and training step. Parameters: w_in (2, H), w_rec (H, H), b_rec (H,), w_out (H, 1), b_out
    (1,); the state buffers keep the post's shapes: hidden (1, T+1, H), output (1, T, 1)."""

    def __init__(self, rng: np.random.RandomState, n_hidden: int = 32, eta: float = 0.1):
        self.rng, self.eta, self.n_hidden = rng, eta, n_hidden
        self.w_in = rng.randn(N_IN, n_hidden) / np.sqrt(N_IN)
        self.w_rec = rng.randn(n_hidden, n_hidden) / np.sqrt(n_hidden)
        self.b_rec = np.zeros(n_hidden)
        self.w_out = rng.randn(n_hidden, N_OUT) / np.sqrt(n_hidden)
        self.b_out = np.zeros(N_OUT)
        self.bits = bit_table()

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x: (N, T, 2) LSB first -> hidden states (N, T+1, H) with h_0 = 0, outputs (N, T, 1)."""
        hidden = np.zeros((len(x), N_TIME + 1, self.n_hidden))
        out = np.zeros((len(x), N_TIME, N_OUT))
        h = hidden[:, 0, :]
        for t in range(N_TIME):
            h = np.tanh(np.dot(x[:, t, :], self.w_in) + np.dot(h, self.w_rec) + self.b_rec)
            hidden[:, t + 1, :] = h
            out[:, t, :] = 1 / (1 + np.exp(-(np.dot(h, self.w_out) + self.b_out)))
        return hidden, out

    def step(self, x: np.ndarray, target: np.ndarray) -> np.ndarray:
        """One SGD step on x (1, T, 2), target (1, T, 1); returns the outputs before the update (1, T, 1)."""
        hidden, out = self.forward(x)
        g_in, g_rec, g_b = np.zeros_like(self.w_in), np.zeros_like(self.w_rec), np.zeros_like(self.b_rec)
        g_out, g_bout = np.zeros_like(self.w_out), np.zeros_like(self.b_out)
        grad_h = 0
        for t in reversed(range(N_TIME)):
            y, h, h_prev = out[:, t, :], hidden[:, t + 1, :], hidden[:, t, :]
            delta_out = (y - target[:, t, :]) * (1 - y) * y
            g_out = np.dot(h.T, delta_out)  # overwritten at every step, as in the post: step 0's survives
            g_bout = np.sum(delta_out, axis=0)
            delta = (grad_h + np.dot(delta_out, self.w_out.T)) * (1 - h**2)
            g_in += np.dot(x[:, t, :].T, delta)
            g_rec += np.dot(h_prev.T, delta)
            g_b += np.sum(delta, axis=0)
            grad_h = np.dot(delta, self.w_rec.T)
        self.w_in -= self.eta * g_in
        self.w_rec -= self.eta * g_rec
        self.b_rec -= self.eta * g_b
        self.w_out -= self.eta * g_out
        self.b_out -= self.eta * g_bout
        return out

    def example(self) -> tuple[int, int, np.ndarray, np.ndarray]:
        """The next training example: a, b (each below 128), x (1, T, 2) and target (1, T, 1), LSB first."""
        a = self.rng.randint(2**N_TIME // 2)
        b = self.rng.randint(2**N_TIME // 2)
        x = np.zeros((1, N_TIME, N_IN))
        x[0, :, 0], x[0, :, 1] = self.bits[a], self.bits[b]
        target = self.bits[a + b].reshape(1, N_TIME, N_OUT)
        return a, b, np.flip(x, axis=1), np.flip(target, axis=1)

    def exhaustive_accuracy(self) -> float:
        """Share of the 128 x 128 operand pairs whose every output bit is right (threshold 0.5)."""
        a, b = np.divmod(np.arange((2**N_TIME // 2) ** 2), 2**N_TIME // 2)
        x = np.flip(np.stack([self.bits[a], self.bits[b]], axis=2).astype(float), axis=1)
        _, out = self.forward(x)
        return float(np.mean(((out[:, :, 0] >= 0.5) == np.flip(self.bits[a + b], axis=1)).all(axis=1)))


def log_lines(i: int, a: int, b: int, out: np.ndarray, target: np.ndarray) -> list[str]:
    """The post's log of step i: its example's error and the network's answer (read MSB first)."""
    y = np.flip(out, axis=1).reshape(-1)
    error = 1.0 / 2.0 * np.sum(np.square(out - target))
    predicted = (y >= 0.5).astype(int)
    value = int(sum(int(bit) << (N_TIME - 1 - j) for j, bit in enumerate(predicted)))
    verdict = "Success : " if (predicted == np.flip(target, axis=1).reshape(-1)).all() else "Failure : "
    return [f"learn count: {i}", f"error rate: {error}", f"{verdict}{a} + {b} = {value}", "========================"]


def run(steps: int, seed: int | None, n_hidden: int = 32, eta: float = 0.1, out=sys.stdout) -> tuple[SeedLoop, float]:
    """Train ``steps`` steps, printing the post's log every LOG_INTERVAL steps to ``out`` (None: no log).
    Returns the trained loop and the seconds spent training (the log included, as in the post)."""
    loop = SeedLoop(np.random.RandomState(seed), n_hidden, eta)
    t0 = time.perf_counter()
    for i in range(steps):
        a, b, x, target = loop.example()
        y = loop.step(x, target)
        if i % LOG_INTERVAL == 0 and out is not None:
            print("\n".join(log_lines(i, a, b, y, target)), file=out)
    return loop, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5001)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--quiet", action="store_true", help="no log lines")
    ap.add_argument("--eval", action="store_true", help="end with the time and the exhaustive accuracy")
    args = ap.parse_args(argv)
    loop, seconds = run(args.steps, args.seed, args.hidden, args.eta, None if args.quiet else sys.stdout)
    if args.eval:
        print(
            f"steps={args.steps} train_seconds={seconds:.3f} steps_per_s={args.steps / seconds:.1f} "
            f"exhaustive_accuracy={loop.exhaustive_accuracy():.4f}"
        )


if __name__ == "__main__":
    main()
