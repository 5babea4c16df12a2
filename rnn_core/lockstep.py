"""Many seeds of one Elman configuration trained in lock-step: one batched numpy pass per step for all of them.

Why: a training step at batch 1 is ~50 numpy calls on tiny arrays, so its cost is Python and call overhead, not
arithmetic. Training S seeds of the same configuration together makes every one of those calls work on S seeds at
once (stacked matrix products, ``np.matmul`` over a leading seed axis), so the overhead is paid once per step
instead of S times. A sweep's unit of work (``rnn_core.sweep.run_group``) is such a group.

Each seed's run is the one ``Trainer(config).train(budget, until_solved=True)`` would make: the same generator
draws (initial weights, then the examples of each chunk of steps, in the trainer's chunk sizes), the same forward
pass, backpropagation and SGD update (the model's own layout: ``[h, 1, x] @ W_cat`` per time step), and the
trainer's "solved" rule: the scheduled evaluation every ``eval_every`` steps and, where the trainer has one
(``train.SOLVED_STREAK``), a streak of right training examples trigger the check of every pair (the fixed
256-example subset first, then all pairs in float32 via ``metrics.evaluate``).
tests/test_lockstep.py compares each seed with training it alone. The cheaper parts: "is this step's output
right?" is one comparison for all seeds, and the scheduled evaluation only runs the exhaustive check for seeds whose
256-example subset is all right (a subset miss means the run is not solved; the two can only disagree on an output
within float32 rounding of 0.5). No history, snapshots or diagnostics are kept: only what a results row needs.

``handles(config)`` says which configurations this covers (Elman cell, plain SGD without clipping, squared error,
float64, the default generator, a task small enough to enumerate); ``run_group`` trains anything else one seed at a
time. A seed whose loss or weights become non-finite is trained again alone, which gives the trainer's own account.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from rnn_core import train
from rnn_core.metrics import evaluate
from rnn_core.train import CHUNK_STEPS, SMALL_SUBSET, TrainConfig, _subset_indices, build_model, new_rng

# The trainer's streak of right training examples that triggers an off-schedule check of every pair, if its "solved
# at" rule has one (None: only the scheduled evaluations every eval_every steps decide).
SOLVED_STREAK = getattr(train, "SOLVED_STREAK", None)

ERROR_WINDOW = 100  # as rnn_core.sweep.ERROR_WINDOW: a row's error is the mean over the last this many steps


def handles(config: TrainConfig) -> bool:
    """Whether ``train_many`` reproduces ``Trainer`` for this configuration."""
    return (
        getattr(config, "cell", "elman") == "elman"
        and config.variant == "elman"
        and config.optimizer == "sgd"
        and config.clip == 0.0
        and config.loss == "mse"
        and config.dtype == "float64"
        and config.rng == "pcg64"
        and config.task.enumerable
    )


def train_many(
    configs: Sequence[TrainConfig], budget: int, should_stop: Callable[[], bool] | None = None
) -> list[dict | None]:
    """Train configs (one configuration, different seeds) together; one result dict per config (the columns of
    ``rnn_core.sweep.RESULT_COLUMNS``), None for a run that was not finished because should_stop() said so."""
    first = configs[0]
    if not handles(first):
        raise ValueError("train_many handles the Elman cell with plain SGD only; use rnn_core.sweep.run_alone")
    if any({**c.to_dict(), "seed": 0} != {**first.to_dict(), "seed": 0} for c in configs):
        raise ValueError("train_many trains one configuration: the configs may differ only in their seed")
    t0 = time.perf_counter()
    group = _Group(configs)
    results: list[dict | None] = [None] * len(configs)
    redo: list[int] = []
    for i in group.check_at_start():
        results[i] = _result(0, 1.0, float("nan"), solved=True)
    stopped = False
    while group.active.size and group.step < budget:
        if should_stop is not None and should_stop():
            stopped = True
            break
        chunk = min(budget - group.step, first.eval_every - group.step % first.eval_every, CHUNK_STEPS)
        finished, diverged = group.train_chunk(chunk)
        redo += diverged
        for i, solved_at, error in finished:
            results[i] = _result(solved_at, 1.0, error, solved=True)
    if not stopped:
        for pos, i in enumerate(group.active.tolist()):  # the budget is spent: not solved
            results[i] = _result(group.step, group.accuracy(pos), group.error(pos), solved=False)
    elapsed = time.perf_counter() - t0
    done = [i for i, r in enumerate(results) if r is not None]
    for i in done:  # the group's wall time, shared among its finished runs
        results[i]["seconds"] = elapsed / max(1, len(done) + len(redo))
    if not stopped:
        from rnn_core.sweep import run_alone

        for i in redo:
            results[i] = run_alone(configs[i], budget, should_stop)
    return results


def _result(steps: int, accuracy: float, error: float, *, solved: bool) -> dict:
    return {
        "solved_at_step": steps if solved else None,
        "accuracy": accuracy,
        "error": error,
        "steps": steps,
        "diverged": False,
        "seconds": math.nan,
    }


class _Group:
    """The seeds' parameters and work arrays, seed axis first. ``active`` holds the indices (into the configs) of
    the seeds still training, in the order of the arrays' seed axis; finished seeds are dropped between chunks."""

    def __init__(self, configs: Sequence[TrainConfig]):
        cfg = configs[0]
        self.configs = list(configs)
        self.task = cfg.task
        self.examples = self.task.exhaustive()
        self.X = np.asarray(self.examples.x, dtype=np.float64)  # (N, T, n_in)
        self.Y = np.asarray(self.examples.target, dtype=np.float64)  # (N, T, 1)
        self.rngs = [new_rng(c) for c in configs]
        models = [build_model(c, rng) for c, rng in zip(configs, self.rngs)]  # draws the initial weights
        self.scratch = models[0]  # a model for the per-seed checks (its weights are overwritten each time)
        self.T, self.B, self.H = self.task.n_bits, cfg.batch_size, cfg.n_hidden
        self.n_in = self.task.n_in
        self.K = self.H + 1 + self.n_in  # a state row [h, 1, x], the model's flat layout: W_cat = [W_rec; b_rec; W_in]
        self.eta = np.array(cfg.eta, dtype=np.float64)
        self.theta = np.stack([m.theta for m in models])  # (S, P)
        self.active = np.arange(len(configs))
        self.step = 0
        self.streak = np.zeros(len(configs), dtype=np.int64)
        self.recent = np.zeros((len(configs), ERROR_WINDOW))  # error per example of the last steps, a ring
        pick = _subset_indices(len(self.examples))[:SMALL_SUBSET]
        self.subset_x, self.subset_right = self.examples.x[pick], self.examples.target[pick] >= 0.5
        self._build()

    # -- arrays --------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        """Views into theta and the work arrays for the current number of active seeds."""
        S, T, B, H, K = self.active.size, self.T, self.B, self.H, self.K
        n_cat = K * H
        self.W_cat = self.theta[:, :n_cat].reshape(S, K, H)  # rows: W_rec (H), b_rec (1), W_in (n_in)
        self.W_out_cat = self.theta[:, n_cat:].reshape(S, H + 1, 1)  # rows: W_out (H), b_out (1)
        self.grad = np.zeros_like(self.theta)
        self.g_cat = self.grad[:, :n_cat].reshape(S, K, H)
        self.g_out = self.grad[:, n_cat:].reshape(S, H + 1, 1)
        self.Z = np.zeros((S, T + 1, B, K))  # Z[:, t] = [h_{t-1}, 1, x_t]
        self.Z[..., H] = 1.0
        self.R = np.zeros((S, T + 1, B, 2 * H))  # [da_t, output part of dL/dh_{t-1}], as the model's R
        self.U = np.empty((S, B, H))
        self.Yo = np.empty((S, T, B, 1))
        self.DZ = np.empty_like(self.Yo)
        self.TMP = np.empty_like(self.Yo)
        self.DACT = np.empty((S, T, B, H))
        self.GH = np.empty((S, B, H))
        self.M = np.zeros((S, 2 * H, H))
        self.M[:, H:] = np.eye(H)
        self.step_buf = np.empty_like(self.theta)
        self.HO = self.Z[:, 1:].reshape(S, T * B, K)[:, :, : H + 1]  # rows [h_t, 1], t = 1..T
        self.Z_in_T = self.Z[:, :T].reshape(S, T * B, K).transpose(0, 2, 1)  # (S, K, T B)
        self.R_da = self.R[:, :T, :, :H].reshape(S, T * B, H)
        self.DZ_row = self.DZ.reshape(S, T * B, 1).transpose(0, 2, 1)  # (S, 1, T B)

    def _keep(self, keep: np.ndarray) -> None:
        """Drop the seeds whose positions are not in ``keep`` (a bool mask over the seed axis)."""
        if keep.all():
            return
        self.theta = self.theta[keep]
        self.active = self.active[keep]
        self.streak = self.streak[keep]
        self.recent = self.recent[keep]
        self._build()

    # -- one chunk of steps ----------------------------------------------------------------------------------------
    def train_chunk(self, chunk: int) -> tuple[list[tuple[int, int, float]], list[int]]:
        """Train ``chunk`` steps (the trainer's chunk: its draws come in one call per seed). Returns the seeds
        solved in it, as (config index, solved-at step, error), and the seeds whose values became non-finite."""
        T, B, H = self.T, self.B, self.H
        S = self.active.size
        idx = np.stack([self.rngs[i].integers(0, len(self.examples), size=(chunk, B)) for i in self.active])
        inputs = np.ascontiguousarray(self.X[idx].transpose(1, 0, 3, 2, 4))  # (chunk, S, T, B, n_in)
        targets = np.ascontiguousarray(self.Y[idx].transpose(1, 0, 3, 2, 4))  # (chunk, S, T, B, 1)
        right_targets = targets >= 0.5
        z_in = self.Z[:, :T, :, H + 1 :]
        solved: dict[int, tuple[int, float]] = {}  # position on the seed axis -> (step, error then)
        losses = np.empty((chunk, S))
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(chunk):
                np.copyto(z_in, inputs[i])
                self._forward()
                losses[i] = self._backward(targets[i])
                np.multiply(self.grad, self.eta, self.step_buf)
                np.subtract(self.theta, self.step_buf, self.theta)
                self.step += 1
                self.recent[:, (self.step - 1) % ERROR_WINDOW] = losses[i] / B
                if SOLVED_STREAK is None:
                    continue
                right = ((self.Yo >= 0.5) == right_targets[i]).reshape(S, -1).all(axis=1)
                self.streak = np.where(right, self.streak + B, 0)
                for pos in np.flatnonzero(self.streak >= SOLVED_STREAK).tolist():
                    self.streak[pos] = 0
                    if pos not in solved and self._all_right(pos):
                        solved[pos] = (self.step, self.error(pos))
        finite = np.isfinite(losses).all(axis=0) & np.isfinite(self.theta).all(axis=1)
        diverged = [int(self.active[p]) for p in np.flatnonzero(~finite) if p not in solved]
        if self.step % self.configs[0].eval_every == 0:  # the trainer's scheduled evaluation
            for pos in range(S):
                if pos not in solved and finite[pos] and self._all_right(pos):
                    solved[pos] = (self.step, self.error(pos))
        finished = [(int(self.active[p]), step, error) for p, (step, error) in solved.items()]
        keep = finite.copy()
        keep[list(solved)] = False
        self._keep(keep)
        return finished, diverged

    def _forward(self) -> None:
        Z, U, W_cat, H = self.Z, self.U, self.W_cat, self.H
        for t in range(self.T):
            np.matmul(Z[:, t], W_cat, out=U)  # u_t = [h_{t-1}, 1, x_t] @ [W_rec; b_rec; W_in], every seed
            np.tanh(U, out=Z[:, t + 1, :, :H])
        Y = self.Yo
        np.matmul(self.HO, self.W_out_cat, out=Y.reshape(Y.shape[0], -1, 1))
        np.multiply(Y, 0.5, Y)  # sigmoid(z) = 0.5 tanh(z / 2) + 0.5, as the model computes it
        np.tanh(Y, Y)
        np.multiply(Y, 0.5, Y)
        np.add(Y, 0.5, Y)

    def _backward(self, target: np.ndarray) -> np.ndarray:
        """BPTT of the squared error for every seed (the model's backward, seed axis first); returns (S,) losses."""
        H, T = self.H, self.T
        Y, DZ, TMP, DACT, R, GH, M = self.Yo, self.DZ, self.TMP, self.DACT, self.R, self.GH, self.M
        np.subtract(Y, target, DZ)
        loss = 0.5 * np.einsum("stbo,stbo->s", DZ, DZ)
        np.multiply(DZ, Y, DZ)
        np.subtract(1.0, Y, TMP)
        np.multiply(DZ, TMP, DZ)
        hs = self.Z[:, 1:, :, :H]
        np.multiply(hs, hs, DACT)
        np.subtract(1.0, DACT, DACT)
        w_out_row = self.W_out_cat[:, :H, 0][:, None, None, :]  # (S, 1, 1, H)
        np.multiply(DZ, w_out_row, R[:, 1:, :, H:])
        np.copyto(M[:, :H], self.W_cat[:, :H].transpose(0, 2, 1))  # W_rec^T
        for t in range(T - 1, -1, -1):
            np.matmul(R[:, t + 1], M, out=GH)  # dL/dh_t = g_t + da_{t+1} W_rec^T
            np.multiply(GH, DACT[:, t], R[:, t, :, :H])  # da_t
        np.matmul(self.Z_in_T, self.R_da, out=self.g_cat)
        np.matmul(self.DZ_row, self.HO, out=self.g_out.transpose(0, 2, 1))
        return loss

    # -- checks and results ----------------------------------------------------------------------------------------
    def _load(self, pos: int):
        self.scratch.theta[...] = self.theta[pos]
        return self.scratch

    def _all_right(self, pos: int) -> bool:
        """The trainer's check: the fixed 256-example subset, then every pair (float32)."""
        model = self._load(pos)
        y, _ = model.forward(self.subset_x)
        if not np.array_equal(y >= 0.5, self.subset_right):
            return False
        return evaluate(model, self.examples, dtype=np.float32).accuracy == 1.0

    def check_at_start(self) -> list[int]:
        """Seeds right on every pair before training (the trainer evaluates at step 0); they are dropped."""
        solved = [pos for pos in range(self.active.size) if self._all_right(pos)]
        finished = [int(self.active[p]) for p in solved]
        keep = np.ones(self.active.size, dtype=bool)
        keep[solved] = False
        self._keep(keep)
        return finished

    def accuracy(self, pos: int) -> float:
        """Exhaustive accuracy of the seed at ``pos`` on the seed axis (float32, as the trainer's evaluate)."""
        return float(evaluate(self._load(pos), self.examples, dtype=np.float32).accuracy)

    def error(self, pos: int) -> float:
        """Mean error per example over the seed's last ERROR_WINDOW steps (all of them when fewer)."""
        n = min(self.step, ERROR_WINDOW)
        return float(self.recent[pos, :n].mean()) if n else float("nan")
