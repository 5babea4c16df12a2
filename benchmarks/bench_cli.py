"""`python -m rnn_core train` end to end against the seed post's loop, side by side in one run.

    python benchmarks/bench_cli.py [--steps 20000] [--runs 5] [--baseline REV] [--json out.json]

Each run, in turn (alternating which goes first), in fresh processes:
1. the CLI, `python -m rnn_core train --steps N --json` (the post's configuration and log every 500 steps; stdout
   read by this script): wall time of the whole process, and from its JSON line the time in training (with the
   trainer's scheduled checks of whether every pair is right) and in full evaluations;
2. the post's loop, `benchmarks/seed_loop.py --steps N --eval`: wall time and its own training time;
3. the same training with no evaluation at all, in a process of its own (`Trainer(eval_every=10**6).train(N)`):
   the floor the CLI's evaluations are measured against;
4. with --baseline REV: the CLI of an older commit (extracted with `git archive`), for before/after.
Then, in this process, alternating: the CLI's loop (`cli.run_training`, default schedule, no log output) and the
floor's `Trainer.train`, --runs times each: the fastest of each and the median of the back-to-back pairs' ratios,
which this shared machine's bursts of load disturb least.
Reported: medians, and the CLI's evaluation overhead = (its training + evaluation time) / the floor - 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import emit  # noqa: E402

from rnn_core import cli as rnn_cli  # noqa: E402
from rnn_core.train import TrainConfig, Trainer  # noqa: E402

FLOOR = (
    "import sys, time; from rnn_core.train import TrainConfig, Trainer; "
    "t = Trainer(TrainConfig(eval_every=10**6)); t0 = time.perf_counter(); t.train(int(sys.argv[1])); "
    "print(time.perf_counter() - t0)"
)


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t0, out


def cli_run(tree: Path, steps: int) -> dict:
    wall, out = timed([sys.executable, "-m", "rnn_core", "train", "--steps", str(steps), "--json"], tree)
    result = json.loads(out.strip().splitlines()[-1])
    return {
        "wall": wall,
        "train": result["train_seconds"],
        "eval": result.get("eval_seconds"),
        "solved_at": result["solved_at_step"],
        "evaluations": result.get("evaluations"),
    }


def post_run(steps: int) -> dict:
    wall, out = timed(
        [sys.executable, str(ROOT / "benchmarks" / "seed_loop.py"), "--steps", str(steps), "--eval"], ROOT
    )
    fields = dict(item.split("=") for item in out.strip().splitlines()[-1].split())
    return {"wall": wall, "train": float(fields["train_seconds"])}


def floor_run(steps: int) -> float:
    return float(timed([sys.executable, "-c", FLOOR, str(steps)], ROOT)[1])


def in_process(steps: int, runs: int) -> dict:
    """The CLI's training loop (its evaluations included), the trainer with only its scheduled solved checks, and
    bare training, in turn, in this process."""
    TrainConfig().task.exhaustive()  # the cached table, built once
    times: dict[str, list[float]] = {"cli": [], "checks": [], "floor": []}
    for r in range(runs):
        for side in ("cli", "checks", "floor") if r % 2 == 0 else ("floor", "checks", "cli"):
            if side == "cli":
                run = rnn_cli.run_training(Trainer(TrainConfig()), steps, rnn_cli.DEFAULT_INTERVAL)
                times[side].append(run.seconds + run.eval_seconds)
                continue
            trainer = Trainer(TrainConfig(eval_every=200 if side == "checks" else 10**6))
            trainer.full_evaluations = False
            t0 = time.perf_counter()
            trainer.train(steps)
            times[side].append(time.perf_counter() - t0)
    cli_s, checks, floor = times["cli"], times["checks"], times["floor"]
    return {
        "cli_best_s": min(cli_s),
        "checks_only_best_s": min(checks),
        "floor_best_s": min(floor),
        "overhead_of_bests": min(cli_s) / min(floor) - 1,
        "checks_overhead_of_bests": min(checks) / min(floor) - 1,
        "overhead_median_of_runs": statistics.median(o / f - 1 for o, f in zip(cli_s, floor)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--baseline", help="a git revision whose CLI to run alongside (before/after)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results: dict = {"steps": args.steps, "load_average_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        baseline = None
        if args.baseline:
            baseline = Path(tmp)
            archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        samples: dict[str, list] = {"cli": [], "post": [], "floor": [], "baseline_cli": []}
        for r in range(args.runs):
            jobs = [
                ("cli", lambda: cli_run(ROOT, args.steps)),
                ("post", lambda: post_run(args.steps)),
                ("floor", lambda: floor_run(args.steps)),
            ]
            if baseline is not None:
                jobs.append(("baseline_cli", lambda: cli_run(baseline, args.steps)))
            for name, job in jobs if r % 2 == 0 else reversed(jobs):
                samples[name].append(job())
    med = statistics.median
    cli, post, floor = samples["cli"], samples["post"], samples["floor"]
    results["cli"] = {
        "wall_s": med(c["wall"] for c in cli),
        "train_s": med(c["train"] for c in cli),
        "eval_s": med(c["eval"] for c in cli),
        "steps_per_s_train": args.steps / med(c["train"] for c in cli),
        "steps_per_s_end_to_end": args.steps / med(c["wall"] for c in cli),
        "solved_at": cli[0]["solved_at"],
        "full_evaluations": [c["evaluations"] for c in cli],
        "eval_overhead_vs_floor": med((c["train"] + c["eval"]) / f - 1 for c, f in zip(cli, floor)),
        "eval_share_of_train": med(c["eval"] / c["train"] for c in cli),
    }
    results["floor_train_s"] = med(floor)
    results["floor_steps_per_s"] = args.steps / med(floor)
    results["post"] = {
        "wall_s": med(p["wall"] for p in post),
        "train_s": med(p["train"] for p in post),
        "steps_per_s_train": args.steps / med(p["train"] for p in post),
    }
    results["cli_vs_post_end_to_end"] = med(p["wall"] / c["wall"] for c, p in zip(cli, post))
    results["cli_vs_post_train"] = med(p["train"] / (c["train"] + c["eval"]) for c, p in zip(cli, post))
    if samples["baseline_cli"]:
        base = samples["baseline_cli"]
        results["baseline_cli"] = {
            "revision": args.baseline,
            "wall_s": med(b["wall"] for b in base),
            "train_s": med(b["train"] for b in base),
            "steps_per_s_train": args.steps / med(b["train"] for b in base),
            "solved_at": base[0]["solved_at"],
            "overhead_vs_floor": med(b["train"] / f - 1 for b, f in zip(base, floor)),
        }
    results["in_process"] = in_process(args.steps, args.runs)
    emit(results, args.json)


if __name__ == "__main__":
    main()
