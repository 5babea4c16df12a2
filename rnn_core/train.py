"""Training: a config dataclass and a trainer that owns the model, optimizer, random generator and history.

The trainer never prints. ``Trainer.train(n)`` runs n steps and returns a ``TrainReport`` (what happened,
warnings, whether training stopped early); the history lives in ``trainer.steps_log`` / ``trainer.evals`` /
``trainer.snapshots``. Same config and seed give the same history bit for bit, however the steps are split into
calls. The step log holds each step's loss divided by the batch size (the error per example, which at batch 1 is
the post's "error rate"), so curves of different batch sizes share a scale.

Divergence: the losses and the parameters are checked for finiteness at the end of every chunk of steps (and before
each snapshot); when a check fails, the chunk is replayed from its saved start with a check after every step, which
finds the first non-finite step exactly. Training stops there, the parameters go back to their values before that
step (the optimizer state is cleared) and ``TrainingDiverged`` is raised with the step and learning rate.
With tanh/sigmoid units a far too large learning rate usually does *not* produce NaN: the weights grow huge, the
units saturate and learning stops. Evaluations check for that and put a warning in the report.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from rnn_core import fastnp
from rnn_core.diagnostics import carry_correlation, correlation_and_probe
from rnn_core.history import EvalLog, SnapshotStore, StepLog
from rnn_core.metrics import Evaluation, evaluate
from rnn_core.model import ElmanRNN
from rnn_core.optim import OPTIMIZERS, make_optimizer
from rnn_core.tasks import TASK_OPS, Task

VARIANTS = ("elman", "trask")
RNGS = ("pcg64", "legacy")


@dataclass
class TrainConfig:
    """Everything that defines a training run. Defaults are the seed post's."""

    op: str = "add"  # add | sub | xor | and | or | mixed (operator drawn per example, one-hot channels)
    n_bits: int = 8  # bits per number = time steps per sequence (1..64)
    n_hidden: int = 32  # hidden units
    eta: float = 0.1  # learning rate; may change between steps
    batch_size: int = 1  # examples per step (the post: 1)
    optimizer: str = "sgd"  # sgd | momentum | adam
    momentum: float = 0.9  # for optimizer="momentum"
    loss: str = "mse"  # mse: 0.5 * sum((y - t)**2) (the post) | bce: binary cross-entropy
    variant: str = "elman"  # elman: tanh, biases, N(0,1)/sqrt(fan_in) (the post) | trask: sigmoid, no bias, U[-1,1)
    seed: int = 0  # seeds the one random generator used for initialisation and for drawing examples
    rng: str = "pcg64"  # pcg64: np.random.default_rng(seed) | legacy: np.random.RandomState(seed) (Trask preset)
    clip: float = 0.0  # gradient-norm clipping threshold, 0 = off
    dtype: str = "float64"  # float64 | float32 for training arithmetic
    eval_every: int = 200  # steps between exhaustive evaluations
    snapshot_every: int = 50  # steps between parameter snapshots (doubles when the budget is full)

    BOUNDS = {  # (min, max) of numeric fields, shared by the CLI and the dashboard
        "n_bits": (1, 64),
        "n_hidden": (1, 256),
        "eta": (1e-6, 1e4),
        "batch_size": (1, 4096),
        "momentum": (0.0, 0.999),
        "seed": (0, 2**32 - 1),
        "clip": (0.0, 1e6),
        "eval_every": (1, 1_000_000),
        "snapshot_every": (1, 1_000_000),
    }
    CHOICES = {
        "op": TASK_OPS,
        "optimizer": OPTIMIZERS,
        "loss": ("mse", "bce"),
        "variant": VARIANTS,
        "rng": RNGS,
        "dtype": ("float64", "float32"),
    }

    # Interactive size budget. Each bound alone allows a model that one session can still train, but together they
    # could ask a shared server for minutes per step and gigabytes (64 bits x 512 units x batch 4096 needs ~6.5 GB
    # of work arrays). An evaluation costs ~ N x T x H^2 multiply-adds (N ~ 16k examples) and a step T x B x H.
    MAX_EVAL_WORK = 1 << 19  # n_bits * n_hidden**2: e.g. 8 bits x 256 units, 32 bits x 128, 64 bits x 90
    MAX_STEP_WORK = 1 << 22  # n_bits * batch_size * n_hidden: e.g. 8 bits x 32 units x batch 4096

    def validate(self) -> TrainConfig:
        """Raise ValueError naming the field, the bad value and the allowed range; return self."""
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in self.CHOICES and v not in self.CHOICES[f.name]:
                raise ValueError(f"{f.name} must be one of {', '.join(self.CHOICES[f.name])}, got {v!r}")
            if f.name in self.BOUNDS:
                lo, hi = self.BOUNDS[f.name]
                want_int = isinstance(f.default, int)
                ok_type = isinstance(v, (int, np.integer)) if want_int else isinstance(v, (int, float, np.number))
                if isinstance(v, bool) or not ok_type:
                    kind = "a whole number" if want_int else "a number"
                    raise ValueError(f"{f.name} must be {kind} from {lo} to {hi}, got {v!r}")
                if not (lo <= v <= hi) or (not want_int and not math.isfinite(v)):
                    raise ValueError(f"{f.name} must be from {lo} to {hi}, got {v!r}")
        T, H, B = int(self.n_bits), int(self.n_hidden), int(self.batch_size)
        over = self.over_budget()
        if over == "n_hidden":
            raise ValueError(
                f"n_hidden {H} is too large for {T}-bit numbers: n_bits x n_hidden^2 = {T * H * H:,} is over "
                f"{self.MAX_EVAL_WORK:,} (e.g. at most {int((self.MAX_EVAL_WORK // T) ** 0.5)} units at {T} bits); "
                "lower the hidden size or the bit width"
            )
        if over == "batch_size":
            raise ValueError(
                f"batch_size {B} is too large for {T} bits x {H} units: n_bits x batch_size x n_hidden = "
                f"{T * B * H:,} is over {self.MAX_STEP_WORK:,} (at most {self.MAX_STEP_WORK // (T * H)} here); "
                "lower the batch size"
            )
        return self

    def over_budget(self) -> str | None:
        """The size field that breaks the interactive budget, or None: "n_hidden" when an evaluation's work
        (n_bits x n_hidden^2) is over MAX_EVAL_WORK, else "batch_size" when a step's (n_bits x batch_size x
        n_hidden) is over MAX_STEP_WORK. ``validate`` raises for it; callers can lower it instead."""
        T, H, B = int(self.n_bits), int(self.n_hidden), int(self.batch_size)
        if T * H * H > self.MAX_EVAL_WORK:
            return "n_hidden"
        if T * B * H > self.MAX_STEP_WORK:
            return "batch_size"
        return None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        return cls(**d).validate()

    @property
    def task(self) -> Task:
        return Task(self.op, self.n_bits)


class TrainingDiverged(ValueError):
    """Training produced a non-finite loss or parameter; the parameters were rolled back."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


@dataclass
class TrainReport:
    steps_done: int
    step: int  # total steps after this call
    error: float  # mean error over this call's steps
    stopped_early: bool = False  # until_solved reached, or divergence
    solved_at_step: int | None = None
    warnings: tuple[str, ...] = ()


def new_rng(config: TrainConfig):
    """The run's one random generator (a fresh legacy RandomState only for the Trask preset)."""
    if config.rng == "legacy":
        return np.random.RandomState(config.seed)
    return np.random.default_rng(config.seed)


def build_model(config: TrainConfig, rng) -> ElmanRNN:
    trask = config.variant == "trask"
    return ElmanRNN(
        config.task.n_in,
        config.n_hidden,
        1,
        rng=rng,
        cell="sigmoid" if trask else "tanh",
        use_bias=not trask,
        init="uniform" if trask else "normal",
        dtype=np.dtype(config.dtype),
    )


WEIGHT_WARN = 1e3  # |parameter| above this: the learning rate is very likely too large
SATURATION_WARN = 0.98  # share of saturated hidden activations above this: the units have stopped learning
SOLVED_STREAK = 128  # until_solved: consecutive right training examples before every pair is checked
SUBSET_SIZE = 1024  # examples in the fixed random subset, for the carry correlation the views show
SMALL_SUBSET = 256  # its first examples: the until_solved pre-check and the carry signals logged at evaluations
CHUNK_STEPS = 64  # steps drawn, gathered and checked for finiteness together (fewer are wasted when solved early)
SUBSET_SEED = 20261129  # the subset's own generator (the run's generator is never used for it)


@functools.lru_cache(maxsize=16)
def _subset_indices(n: int) -> np.ndarray:
    """The fixed random subset of an n-example evaluation set (read-only; computed once per size)."""
    pick = np.random.default_rng(SUBSET_SEED).permutation(n)[:SUBSET_SIZE]
    pick.flags.writeable = False
    return pick


class Trainer:
    """Owns model, optimizer, random generator and history; ``train(n)`` advances n steps."""

    def __init__(self, config: TrainConfig):
        self.config = config.validate()
        self.task = config.task
        self.rng = new_rng(config)
        self.model = build_model(config, self.rng)
        self.optimizer = make_optimizer(
            config.optimizer, self.model.theta.size, self.model.dtype, config.clip, config.momentum
        )
        self.step = 0
        self.steps_log = StepLog()
        self.evals = EvalLog()
        self.snapshots = SnapshotStore(self.model.theta.size, config.snapshot_every)
        self.solved_at_step: int | None = None
        self.last_grad_norms = np.zeros(self.task.n_bits)  # mean ||dL/dh_t|| per step at the latest evaluation
        self.last_example: tuple[int, int, int] = (0, 0, 0)  # (a, b, op_index) of the latest training example
        self._prev_theta = np.empty_like(self.model.theta)
        self._eval_set = self.task.exhaustive()
        self._streak = 0  # until_solved: training examples right in a row (across the chunks of one call)
        self._check_subset = None  # (x, target bits) of the until_solved pre-check, built on first use
        self._setup_sampler()
        self.snapshots.add(0, self.model.theta)
        self.evaluate_and_log()

    # -- data ------------------------------------------------------------------------------------------------
    def _setup_sampler(self) -> None:
        """Training examples come from the enumerated table (a gather) when the task is small enough."""
        task = self.task
        self._table = None
        if task.enumerable:
            ex = self._eval_set
            dt = self.model.dtype
            self._table = (
                np.asarray(ex.x, dtype=dt),  # (N, T, n_in)
                np.asarray(ex.target, dtype=dt),  # (N, T, 1)
            )

    def _draw_indices(self, n_steps: int) -> np.ndarray:
        """Indices into the enumerated table for n_steps steps: (n_steps, B)."""
        B = self.config.batch_size
        if isinstance(self.rng, np.random.RandomState):  # Trask's order of draws, per example
            return self.task.table_index(*self.task.random_operands(self.rng, n_steps * B)).reshape(n_steps, B)
        return self.rng.integers(0, len(self._eval_set), size=(n_steps, B))

    # -- training --------------------------------------------------------------------------------------------
    def set_learning_rate(self, eta: float) -> None:
        cfg = TrainConfig(**{**self.config.to_dict(), "eta": eta}).validate()
        self.config = cfg

    def train(self, n_steps: int, *, until_solved: bool = False, continue_streak: bool = False) -> TrainReport:
        """Run n_steps training steps (evaluating every eval_every steps). Raises TrainingDiverged on NaN/inf.

        continue_streak: the until_solved streak of right examples goes on from the previous call, so that one
        run split into several calls (a sweep checking between them whether to stop) is the same as one call."""
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise ValueError(f"n_steps must be a whole number >= 0, got {n_steps!r}")
        errors = np.empty(n_steps)
        if not continue_streak:
            self._streak = 0  # per call, as a checkpoint does not hold it: a resumed run continues bit for bit
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are caught below, not warned
            done, stopped = self._train_loop(n_steps, until_solved, errors)
        self.steps_log.extend(self.step - done, errors[:done])
        warnings = self.health_warnings()
        return TrainReport(
            steps_done=done,
            step=self.step,
            error=float(errors[:done].mean()) if done else float("nan"),
            stopped_early=stopped,
            solved_at_step=self.solved_at_step,
            warnings=warnings,
        )

    def _train_loop(self, n_steps: int, until_solved: bool, errors: np.ndarray) -> tuple[int, bool]:
        """Train in chunks that end at evaluation steps; returns (steps done, stopped early)."""
        eval_every = self.config.eval_every
        done, stopped = 0, False
        while done < n_steps and not stopped:
            chunk = min(n_steps - done, eval_every - self.step % eval_every, CHUNK_STEPS)
            inputs, targets, examples = self._draw_chunk(chunk)
            start = self._save_state()
            ran, stopped = self._run_steps(inputs, targets, errors[done : done + chunk], until_solved)
            if not (math.isfinite(float(errors[done : done + ran].sum())) and self._theta_finite()):
                self._locate_divergence(start, inputs, targets, examples, errors, done)  # raises TrainingDiverged
            done += ran
            self._remember_example(*examples(ran - 1))
            if not stopped and self.step % eval_every == 0:
                self.evaluate_and_log()
                stopped = until_solved and self.solved_at_step is not None
        return done, stopped

    def _draw_chunk(self, chunk: int):
        """The examples of the next ``chunk`` steps: inputs (chunk, T, B, n_in) and targets (chunk, T, B, 1), each
        step's slice contiguous and time-major like the model's buffers, and ``examples(i)`` -> (batch, index) of
        step i's last example."""
        dt, B = self.model.dtype, self.config.batch_size
        if self._table is not None:
            idx = self._draw_indices(chunk)  # (chunk, B)
            X, Y = self._table  # (N, T, n_in), (N, T, 1)
            inputs = np.ascontiguousarray(X[idx].transpose(0, 2, 1, 3))
            targets = np.ascontiguousarray(Y[idx].transpose(0, 2, 1, 3))
            return inputs, targets, lambda i: (self._eval_set, int(idx[i, -1]))
        batches = [self.task.sample(self.rng, B) for _ in range(chunk)]
        inputs = np.stack([b.x.transpose(1, 0, 2) for b in batches]).astype(dt)
        targets = np.stack([b.target.transpose(1, 0, 2) for b in batches]).astype(dt)
        return inputs, targets, lambda i: (batches[i], B - 1)

    def _run_steps(
        self, inputs: np.ndarray, targets: np.ndarray, errors: np.ndarray, until_solved: bool, checked: bool = False
    ) -> tuple[int, bool]:
        """The hot loop: one forward, backward and update per step; writes each step's error per example.

        Finiteness is checked by the caller once per chunk, not per step (two numpy calls of a ~45-call step);
        here only before a snapshot is stored, so that no snapshot holds a non-finite value. ``checked``: the
        replay after a divergence, which checks every step and stops at the first non-finite one.
        Returns (steps run, solved)."""
        model, opt, snapshots = self.model, self.optimizer, self.snapshots
        theta, grad, prev = model.theta, model.grad, self._prev_theta
        T, B, H = self.task.n_bits, self.config.batch_size, model.n_hidden
        eta = float(self.config.eta)
        buf = model._buffers(T, B)
        forward, backward = buf["forward"], buf["backward"][self.config.loss]
        z_in = buf["Z"][:T, :, H + 1 :]  # (T, B, n_in) input slots of the state buffer
        Y = buf["Y"]
        copyto, update = fastnp.copyto, opt.update
        # until_solved: a streak of right training examples triggers the check of every pair. Whether a step's
        # outputs are all right is exact, but its loss often decides it without three more numpy calls.
        surely_right, surely_wrong = self._rightness_bounds(targets[0].size)
        targets_right = targets >= 0.5 if until_solved else None
        streak, every, step, solved = self._streak, snapshots.every, self.step, False
        i = -1
        for i, (x_i, t_i) in enumerate(zip(inputs, targets)):
            copyto(z_in, x_i)
            forward()
            loss = backward(t_i)
            if checked:
                copyto(prev, theta)
            update(theta, grad, eta)
            errors[i] = loss
            step += 1
            if checked and not (math.isfinite(loss) and self._theta_finite()):
                self.step = step - 1
                errors[:i] *= 1.0 / B
                return i, False
            if step % every == 0 and not checked:
                self.step = step
                if not self._theta_finite():
                    break  # the caller finds the step and rolls back
                snapshots.add(step, theta)
                every = snapshots.every
            if until_solved:
                if loss < surely_right:
                    right = True
                elif loss > surely_wrong:
                    right = False
                else:
                    right = bool(((Y >= 0.5) == targets_right[i]).all())
                streak = streak + B if right else 0
                if streak >= SOLVED_STREAK:  # recent examples all right: check every pair
                    streak = 0
                    self.step = step
                    if self._check_solved():
                        solved = True
                        break
        self.step, self._streak = step, streak
        errors[: i + 1] *= 1.0 / B  # the history holds the error per example: comparable across batch sizes
        return i + 1, solved

    def _rightness_bounds(self, n_outputs: int) -> tuple[float, float]:
        """(loss below which every one of a step's n_outputs is surely right, loss above which one is surely wrong).
        A wrong output costs at least 0.125 (mse: 0.5 * 0.5**2) or log 2 (bce); a right one less than that."""
        per_output = 0.125 if self.config.loss == "mse" else math.log(2.0)
        return 0.999 * per_output, 1.001 * per_output * n_outputs

    def _theta_finite(self) -> bool:
        return math.isfinite(float(self.model.theta.sum()))

    def _save_state(self) -> tuple[int, np.ndarray, dict[str, np.ndarray]]:
        """(step, parameters, optimizer state) at the start of a chunk, to replay it after a divergence."""
        return self.step, self.model.theta.copy(), {k: v.copy() for k, v in self.optimizer.state().items()}

    def _locate_divergence(self, start, inputs, targets, examples, errors: np.ndarray, done: int) -> None:
        """Replay the chunk from its saved start, checking every step, to roll back to just before the exact step
        that produced the first non-finite value (replay is deterministic: same data, same arithmetic)."""
        step, theta, opt_state = start
        self.model.theta[...] = theta
        self.optimizer.load_state(opt_state)
        self.step = step
        ran, _ = self._run_steps(inputs, targets, errors[done:], until_solved=False, checked=True)
        if ran:
            self._remember_example(*examples(ran - 1))  # the last good step's example
        self._roll_back(done + ran, errors)

    def _roll_back(self, done_in_call: int, errors: np.ndarray) -> None:
        """Put back the parameters from before the failing step (``_prev_theta``), log the good steps, raise."""
        self.model.theta[...] = self._prev_theta
        self.optimizer.reset()
        self.steps_log.extend(self.step - done_in_call, errors[:done_in_call])
        self.evaluate_and_log()
        raise TrainingDiverged(
            f"training diverged at step {self.step + 1} (learning rate {self.config.eta:g}): the loss or a "
            f"parameter became non-finite. The parameters were rolled back to step {self.step}. "
            "Lower the learning rate (or enable gradient clipping) and continue, or reset.",
            self.step + 1,
        )

    def _remember_example(self, batch, i: int) -> None:
        self.last_example = (int(batch.a[i]), int(batch.b[i]), int(batch.op_index[i]))

    def _subset(self, n: int = SUBSET_SIZE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first n (<= SUBSET_SIZE) examples of a fixed random sample of the evaluation set, the same for every
        run (its own seeded generator: the run's generator is not touched): x (n, T, n_in), target (n, T, 1),
        carry_out (n, T). A random sample rather than a stride: every operand pattern has its chance, where a stride
        of the (a, b) table would keep only values of b with their low bits zero, and so no carry in those bits."""
        if self._check_subset is None:
            ex = self._eval_set
            pick = _subset_indices(len(ex))
            self._check_subset = (ex.x[pick], ex.target[pick], ex.carry_out[pick])
        x, target, carry = self._check_subset
        return x[:n], target[:n], carry[:n]

    def _check_solved(self) -> bool:
        """Every pair right? 256 examples of the fixed subset first (cheap), the whole set only if they pass."""
        x, target, _ = self._subset(SMALL_SUBSET)
        y, _ = self.model.forward(x)
        if not np.array_equal(y >= 0.5, target >= 0.5):
            return False
        ev = evaluate(self.model, self._eval_set, dtype=np.float32)
        if ev.accuracy == 1.0:
            self._log_eval(ev)
            return True
        return False

    # -- evaluation ------------------------------------------------------------------------------------------
    def evaluate(self, *, details: bool = False) -> Evaluation:
        """Exhaustive evaluation of the current weights (float32 for speed unless details are asked for)."""
        return evaluate(self.model, self._eval_set, details=details, dtype=np.float64 if details else np.float32)

    def evaluate_and_log(self) -> Evaluation:
        ev = self.evaluate()
        self._log_eval(ev)
        return ev

    def record_if_solved(self, ev: Evaluation) -> bool:
        """Log ``ev``, an evaluation of the current weights made off the schedule (the page's fresh accuracy), if it
        finds every pair right before any logged evaluation did: "solved at" then agrees with the 100 % shown, as
        with ``until_solved``'s checks. True if it was logged."""
        if ev.accuracy != 1.0 or self.solved_at_step is not None:
            return False
        self._log_eval(ev)
        return True

    def _log_eval(self, ev: Evaluation) -> None:
        if self.evals.n and self.evals.last("step") == self.step:
            return
        if ev.accuracy == 1.0 and self.solved_at_step is None:
            self.solved_at_step = self.step
        W_rec = self.model.params["W_rec"]
        probe_acc, best_corr, grad_norms = self._carry_signals()
        self.last_grad_norms = grad_norms
        self.evals.append(
            {
                "step": self.step,
                "accuracy": ev.accuracy,
                "bit_accuracy": np.asarray(ev.bit_accuracy, dtype=np.float64),
                "grad_norms": grad_norms,
                "probe_accuracy": probe_acc,
                "best_carry_corr": best_corr,
                "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(W_rec)))) if W_rec.size else 0.0,
                "max_abs_weight": float(np.max(np.abs(self.model.theta))),
                "saturation": float(ev.saturation),
            }
        )

    def carry_correlation(self) -> np.ndarray | None:
        """(H,) correlation of each hidden unit with the true carry over the fixed random subset of the evaluation
        set (1,024 examples, all steps of each), or None when the task has no carry. Bounded cost at any width."""
        x, _, carry = self._subset()
        if not carry.any():
            return None
        _, h = self.model.forward(x)
        return carry_correlation(h[:, 1:], carry)

    def _carry_signals(self) -> tuple[float, float, np.ndarray]:
        """On the first SMALL_SUBSET examples of the fixed subset: the linear probe's carry accuracy, the largest
        |correlation| of a unit with the carry (NaN for both when the task has no carry), and the mean ||dL/dh_t||
        per step: (T,). Logged at every evaluation, so kept small: 256 examples give 2,048 (state, carry) pairs at
        8 bits, plenty for a probe of at most 257 weights, and cost a quarter of the check subset."""
        x, target, carry = self._subset(SMALL_SUBSET)
        self.model.forward_backward(x, target, self.config.loss)
        grad_norms = self.model.grad_h_norms().astype(np.float64)
        if not carry.any():
            return float("nan"), float("nan"), grad_norms
        states = np.ascontiguousarray(self.model.last_hidden()[:, 1:])  # (n, T, H): one block of rows
        corr, probe = correlation_and_probe(states, carry)
        return float(probe.accuracy), float(np.max(np.abs(corr))), grad_norms

    def health_warnings(self, evaluation: Evaluation | None = None) -> tuple[str, ...]:
        """Exploding weights or saturated units: the signs of a learning rate that is far too large.

        evaluation: an evaluation of the current weights (e.g. the one the page shows); without it the saturation
        and accuracy are those of the latest logged evaluation, which can be up to ``eval_every`` steps old."""
        out = []
        max_w = float(np.max(np.abs(self.model.theta)))
        if max_w > WEIGHT_WARN:
            out.append(
                f"Weights are exploding (largest |weight| {max_w:.3g}), usually from too large a learning rate "
                f"(it is {self.config.eta:g} now). These weights will not recover: reset, with a lower learning rate "
                "if this one caused it."
            )
        if evaluation is not None and math.isfinite(evaluation.saturation):
            saturation, accuracy = float(evaluation.saturation), float(evaluation.accuracy)
        else:
            saturation = self.evals.last("saturation", 0.0)
            accuracy = self.evals.last("accuracy", 1.0)
        if saturation > SATURATION_WARN and accuracy < 0.5:
            out.append(
                f"{saturation:.0%} of hidden activations are saturated and accuracy is {accuracy:.1%}: the units "
                f"have stopped learning, usually after too large a learning rate (it is {self.config.eta:g} now). "
                "Reset, with a lower learning rate if this one caused it."
            )
        return tuple(out)
