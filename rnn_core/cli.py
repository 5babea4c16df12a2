"""Headless command line: ``python -m rnn_core train|eval``.

``train`` runs the seed post's loop and prints its log: every ``--interval`` steps (from the first) the step index
("learn count"), the error of the latest training example ("error rate", 0.5 * sum over bits of (y - t)^2, computed
before that step's update, as the post does) and that example with the network's answer. The ``trask`` preset
prints the tutorial's log instead (sum over bits of |t - y|, predicted and true bits most significant first, and
"a + b = prediction"), which reproduces the published log. ``--json`` ends the output with one JSON line with the
results; ``--quiet`` drops the log lines. A run that diverges prints the trainer's message and exits 1.

Evaluations stay a small share of the time: the trainer only checks, at its scheduled steps (``eval_every``), whether
every pair is right (a few dozen examples settle it until the net is close), which gives "solved at" exactly as the
dashboard finds it. Full evaluations (accuracy per bit, carry probe, spectral radius: the history a ``--save``
checkpoint holds) are made at log steps while their time stays within EVAL_SHARE of the training time, or every
``--eval-every N`` steps when that is given.

``eval`` loads a checkpoint and prints its accuracy at several widths, on random pairs and on carry-chain cases.

``sweep`` trains every point of a grid of settings from several seeds into a results file (see cli_sweep.py).

Bad arguments, invalid settings and unreadable checkpoints exit with status 2 and one line on stderr, never a
traceback: the parser's ``error`` prints one line, and ValueError/CheckpointError/OSError become that line.
This is the only module of ``rnn_core`` that prints.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnn_core.cells import CELLS
from rnn_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnn_core.metrics import Evaluation, length_generalisation
from rnn_core.presets import PRESETS, Preset
from rnn_core.sweep import MAX_BUDGET, MAX_RUNS
from rnn_core.tasks import OPERATORS, SYMBOLS, decode_outputs
from rnn_core.train import TrainConfig, Trainer, TrainingDiverged, build_model

PROG = "python -m rnn_core"
DEFAULT_STEPS = 5001  # the post's n_learn
DEFAULT_INTERVAL = 500  # the post's interval
DEFAULT_EVAL_BITS = (8, 16, 32, 64)
MAX_STEPS = 10**9  # --steps (hours of training; more is a typo, and the log's schedule must stay lazy)
MAX_SAMPLES = 100_000  # eval --samples: random pairs per width, all evaluated at once
TRAIN_CHUNK = 100_000  # steps per Trainer.train call (it allocates 8 bytes per step of the call)
EVAL_SHARE = 0.1  # by default, full evaluations take at most this share of the training time
# --flag -> TrainConfig field; None defaults mean "not given" (the preset's or the post's value is kept).
CONFIG_FLAGS = {
    "op": "op",
    "cell": "cell",
    "bits": "n_bits",
    "hidden": "n_hidden",
    "eta": "eta",
    "batch_size": "batch_size",
    "optimizer": "optimizer",
    "loss": "loss",
    "variant": "variant",
    "seed": "seed",
}


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2 (no usage block, no traceback)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {' '.join(str(message).split())}\n")


def _whole(min_value: int, max_value: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
        if value < min_value:
            raise argparse.ArgumentTypeError(f"must be at least {min_value}, got {str(value)[:40]}")
        if max_value is not None and value > max_value:
            raise argparse.ArgumentTypeError(f"must be at most {max_value}, got {str(value)[:40]}")
        return value

    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog=PROG, description="Train and evaluate the binary-addition RNN without the dashboard.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{train,eval,sweep}")

    train = commands.add_parser("train", help="train a network and print the post's log")
    _add_setting_flags(train)
    train.add_argument("--seed", type=int, help="random seed (default 0)")
    train.add_argument(
        "--steps", type=_whole(0, MAX_STEPS), help=f"training steps (default {DEFAULT_STEPS}, or the preset's)"
    )
    train.add_argument("--interval", type=_whole(1), help=f"log every N steps (default {DEFAULT_INTERVAL})")
    train.add_argument(
        "--eval-every",
        type=_whole(1),
        metavar="N",
        help=f"a full evaluation every N steps (default: at log steps, within {EVAL_SHARE:.0%} of the training time)",
    )
    train.add_argument(
        "--until-solved", action="store_true", help="stop at the first evaluation that finds every pair right"
    )
    train.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz) at the end")
    train.add_argument("--json", action="store_true", help="end with one JSON line of results")
    train.add_argument("--quiet", action="store_true", help="no log lines")

    ev = commands.add_parser("eval", help="accuracy of a checkpoint at several widths")
    ev.add_argument("checkpoint", help="a checkpoint written by train --save or the dashboard")
    ev.add_argument("--bits", type=int, nargs="+", default=list(DEFAULT_EVAL_BITS), help="widths to test, 1..64")
    ev.add_argument(
        "--samples", type=_whole(1, MAX_SAMPLES), default=1000, help="random pairs per width (default 1000)"
    )
    ev.add_argument("--json", action="store_true", help="print one JSON line instead of a table")

    sw = commands.add_parser(
        "sweep", help="train every grid point from seeds 0..N-1 into a results file", allow_abbrev=False
    )
    _add_setting_flags(sw)
    sw.add_argument("--seed", type=int, help=argparse.SUPPRESS)  # refused with a pointer to --seeds
    sw.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="FIELD=v1,v2,...",
        help="a training setting (TrainConfig field, e.g. n_hidden, eta, batch_size) and its values; repeatable",
    )
    sw.add_argument("--seeds", type=_whole(1, MAX_RUNS), default=8, help="seeds 0..N-1 per grid point (default 8)")
    sw.add_argument(
        "--budget",
        type=_whole(1, MAX_BUDGET),
        default=5000,
        help="steps per run at most; each run stops when every pair is right (default 5000)",
    )
    sw.add_argument("--out", required=True, metavar="FILE.parquet", help="results file; the same command resumes it")
    sw.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    sw.add_argument(
        "--workers", type=_whole(1, 1024), help="worker processes of the local cluster (default: one per core)"
    )
    sw.add_argument("--json", action="store_true", help="end with one JSON line of results")
    sw.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    return parser


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """The training settings, the same for train and sweep (None: not given, the preset's value is kept)."""
    parser.add_argument("--preset", help=f"start from a preset: {', '.join(PRESETS)}")
    parser.add_argument("--op", help="add | sub | xor | and | or | mixed (default add)")
    parser.add_argument("--cell", help=f"{' | '.join(CELLS)} (default elman)")
    parser.add_argument("--bits", type=int, help="bits per number, 1..64 (default 8)")
    parser.add_argument("--hidden", type=int, help="hidden units (default 32)")
    parser.add_argument("--eta", type=_number, help="learning rate (default 0.1)")
    parser.add_argument("--batch-size", type=int, help="examples per step (default 1)")
    parser.add_argument("--optimizer", help="sgd | momentum | adam (default sgd)")
    parser.add_argument("--loss", help="mse | bce (default mse)")
    parser.add_argument("--variant", help="elman | trask (default elman)")


# -- train -------------------------------------------------------------------------------------------------------
def config_from_args(args: argparse.Namespace) -> tuple[TrainConfig, Preset | None]:
    """The preset's config (or the post's) with the explicitly given flags replacing its values. ValueError if bad."""
    preset = None
    if args.preset is not None:
        if args.preset not in PRESETS:
            raise ValueError(f"unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}")
        preset = PRESETS[args.preset]
    base = preset.config if preset else TrainConfig()
    overrides = {
        field: getattr(args, flag) for flag, field in CONFIG_FLAGS.items() if getattr(args, flag, None) is not None
    }
    return TrainConfig.from_dict({**base.to_dict(), **overrides}), preset


def _example_output(trainer: Trainer, theta_before: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """The latest training example through the weights it was trained with (before its update).

    Returns y: (T,) probabilities, target: (T,) bits, and "a op b" text.
    """
    a, b, op_index = trainer.last_example
    batch = trainer.task.encode(a, b, op_index)
    scratch = build_model(trainer.config, np.random.default_rng(0))
    scratch.theta[...] = theta_before
    y, _ = scratch.forward(batch.x)
    return y[0, :, 0], batch.target[0, :, 0], f"{a} {SYMBOLS[OPERATORS[op_index]]} {b}"


def _log_lines(trainer: Trainer, theta_before: np.ndarray, style: str) -> list[str]:
    y, target, operands = _example_output(trainer, theta_before)
    predicted = int(decode_outputs(y[None, :, None])[0])
    if style == "trask":
        error = float(np.sum(np.abs(target - y)))
        msb_first = lambda bits: str(np.asarray(bits[::-1], dtype=int))  # noqa: E731
        return [
            f"Error:{round(error, 8)!r}",
            f"Pred:{msb_first((y >= 0.5).astype(int))}",
            f"True:{msb_first(target.astype(int))}",
            f"{operands} = {predicted}",
            "------------",
        ]
    error = 0.5 * float(np.sum((y - target) ** 2))
    verdict = "Success" if np.array_equal(y >= 0.5, target >= 0.5) else "Failure"
    return [
        f"learn count: {trainer.step - 1}",
        f"error rate: {error!r}",
        f"{verdict} : {operands} = {predicted}",
        "========================",
    ]


class TrainingRun(NamedTuple):
    seconds: float  # in Trainer.train (training, with its checks of whether every pair is right)
    stopped: bool  # stopped early because solved (until_solved)
    eval_seconds: float  # in full evaluations
    evaluations: int  # full evaluations made


def run_training(
    trainer: Trainer,
    steps: int,
    interval: int,
    *,
    until_solved: bool = False,
    style: str = "post",
    out=None,
    eval_every: int | None = None,
    eval_estimate: float = 0.0,
) -> TrainingRun:
    """Train ``steps`` steps, logging after step indices 0, interval, 2 * interval, ... (0-based, as the post).

    The step before each log is run on its own, keeping a copy of the weights it starts from, so the logged
    example is shown as it was trained. out: a text stream for the log, or None for none. Full evaluations: every
    ``eval_every`` steps, or (None) at log steps whenever the evaluation time so far plus ``eval_estimate`` (the
    latest one's cost, at first the caller's guess) stays within EVAL_SHARE of the training time so far.
    Raises TrainingDiverged.
    """
    trainer.full_evaluations = False  # scheduled steps: only the exact check whether every pair is right
    seconds = eval_seconds = 0.0
    evaluations = 0
    log_steps = range(1, steps + 1, interval)  # trainer.step right after step index 0, interval, ...
    eval_steps = range(eval_every, steps + 1, eval_every) if eval_every else range(0)
    # lazy (steps may be 1e9): log steps, evaluation steps and the last step, in order, once each
    targets = (k for k, _ in itertools.groupby(heapq.merge(log_steps, eval_steps, (steps,))))
    for target in targets:
        is_log = target in log_steps
        n_plain = target - trainer.step - (1 if is_log else 0)
        reports = []
        t0 = time.perf_counter()
        while n_plain > 0 and not (reports and reports[-1].stopped_early):  # bounded calls: bounded memory
            reports.append(trainer.train(min(n_plain, TRAIN_CHUNK), until_solved=until_solved))
            n_plain -= reports[-1].steps_done
        if is_log and not (reports and reports[-1].stopped_early):
            theta_before = trainer.model.theta.copy()
            reports.append(trainer.train(1, until_solved=until_solved))
        seconds += time.perf_counter() - t0
        stopped = bool(reports) and reports[-1].stopped_early
        if is_log and out is not None and trainer.step == target:
            print("\n".join(_log_lines(trainer, theta_before, style)), file=out)
        due = target in eval_steps if eval_every else is_log and eval_seconds + eval_estimate <= EVAL_SHARE * seconds
        if due and trainer.step == target:
            t0 = time.perf_counter()
            trainer.evaluate_and_log()
            eval_estimate = time.perf_counter() - t0
            eval_seconds += eval_estimate
            evaluations += 1
        if stopped:
            return TrainingRun(seconds, True, eval_seconds, evaluations)
    return TrainingRun(seconds, False, eval_seconds, evaluations)


def _summary(trainer: Trainer, ev: Evaluation, run: TrainingRun, preset: Preset | None, saved: str | None) -> dict:
    seconds = run.seconds
    return {
        "steps": trainer.step,
        "train_seconds": round(seconds, 4),
        "steps_per_second": round(trainer.step / seconds, 1) if seconds > 0 else None,
        "eval_seconds": round(run.eval_seconds, 4),
        "evaluations": run.evaluations,
        "exhaustive_accuracy": ev.accuracy,
        "eval_examples": ev.n_examples,
        "eval_complete": bool(trainer.task.enumerable),
        "solved_at_step": trainer.solved_at_step,
        "bit_accuracy": [round(float(v), 6) for v in ev.bit_accuracy],
        "preset": preset.key if preset else None,
        "config": trainer.config.to_dict(),
        "checkpoint": saved,
    }


def config_or_exit(args: argparse.Namespace, parser: OneLineParser) -> tuple[TrainConfig, Preset | None]:
    """config_from_args, or the parser's one-line error naming the flag of the bad value."""
    try:
        return config_from_args(args)
    except ValueError as e:
        message = str(e)
        flag = next((f for f, name in CONFIG_FLAGS.items() if message.startswith(f"{name} ")), None)
        parser.error(f"argument --{flag.replace('_', '-')}: {message}" if flag else message)


def cmd_train(args: argparse.Namespace, parser: OneLineParser) -> int:
    config, preset = config_or_exit(args, parser)
    steps = args.steps if args.steps is not None else (preset.steps if preset else DEFAULT_STEPS)
    interval = args.interval if args.interval is not None else (preset.log_interval if preset else DEFAULT_INTERVAL)
    if args.save is not None and not Path(args.save).resolve().parent.is_dir():
        parser.error(f"cannot save to {args.save}: the folder does not exist")
    if args.save is not None and Path(args.save).is_dir():
        parser.error(f"cannot save to {args.save}: it is a folder; give a file name such as run.npz")
    style = preset.log_style if preset else "post"
    out = None if args.quiet else sys.stdout
    t0 = time.perf_counter()
    trainer = Trainer(config)
    built = time.perf_counter() - t0  # building the trainer evaluates once: more than one evaluation costs
    try:
        run = run_training(
            trainer,
            steps,
            interval,
            until_solved=args.until_solved,
            style=style,
            out=out,
            eval_every=args.eval_every,
            eval_estimate=built,
        )
    except TrainingDiverged as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    final = trainer.evaluate_and_log()  # the history (and a --save checkpoint) ends with the last step's evaluation
    saved = None
    if args.save is not None:
        try:
            saved = os.fspath(save_checkpoint(trainer, args.save))
        except (OSError, CheckpointError) as e:
            print(f"{PROG}: error: cannot save the checkpoint to {args.save}: {e}", file=sys.stderr)
            return 1
    summary = _summary(trainer, final, run, preset, saved)
    if not args.quiet:
        solved = summary["solved_at_step"]
        print(
            f"steps: {summary['steps']}  train_seconds: {run.seconds:.3f}  eval_seconds: {run.eval_seconds:.3f}  "
            f"exhaustive_accuracy: {summary['exhaustive_accuracy']:.4f}  "
            f"solved_at_step: {'never' if solved is None else solved}" + (f"  saved: {saved}" if saved else "")
        )
    if args.json:
        print(json.dumps(summary))
    return 0


# -- eval --------------------------------------------------------------------------------------------------------
def cmd_eval(args: argparse.Namespace, parser: OneLineParser) -> int:
    bad = [w for w in args.bits if not 1 <= w <= 64]
    if bad:
        parser.error(f"--bits must be from 1 to 64, got {bad[0]}")
    try:
        checkpoint = load_checkpoint(args.checkpoint)
    except CheckpointError as e:
        parser.error(str(e) if args.checkpoint in str(e) else f"{args.checkpoint}: {e}")
    model = checkpoint.to_model()
    op = checkpoint.config.op
    result = length_generalisation(model, op, tuple(args.bits), n_random=args.samples)
    report = {
        "checkpoint": args.checkpoint,
        "op": op,
        "trained_bits": checkpoint.config.n_bits,
        "step": checkpoint.step,
        "widths": [int(w) for w in result["widths"]],
        "random": [float(v) for v in result["random"]],
        "chain": [float(v) for v in result["chain"]],
    }
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{args.checkpoint}: {op}, trained on {report['trained_bits']} bits for {report['step']} steps")
    print(f"{'bits':>5}  {'random pairs':>12}  {'carry chains':>12}")
    for w, r, c in zip(report["widths"], report["random"], report["chain"]):
        print(f"{w:>5}  {r:>12.2%}  {c:>12.2%}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sweep":
        from rnn_core.cli_sweep import cmd_sweep as handler
    else:
        handler = cmd_train if args.command == "train" else cmd_eval
    try:
        return handler(args, parser)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as e:  # anything the checks above missed: still one line, never a traceback
        print(f"{PROG}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2 if not isinstance(e, TrainingDiverged) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
