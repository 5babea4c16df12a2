"""Engine speed against the seed post's loop, measured side by side in one run (medians of several runs).

    python benchmarks/bench_engine.py [--runs 5] [--steps 5000] [--ref-steps N] [--repeats 3] [--json out.json]

Measures, alternating ours and the reference so that machine noise hits both alike:
1. training steps/s at batch 1, hidden 32, float64 (no evaluation in the loop, like the reference); ours runs
   --steps steps, the reference --ref-steps (default --steps / 8), so that the two halves of each back-to-back pair
   last about as long and this shared machine's bursts of other load (they swing a 1-second run by up to 1.6x, with
   no steal time reported) fall on both alike; the pairs alternate which side goes first;
2. time to solve 8-bit addition (every pair right) for the post's configuration and for the Fast preset,
   median over 5 seeds (each seed's time the median of --repeats identical runs), against the reference's time
   for its 5,001-step run;
3. exhaustive evaluation of all 16,384 pairs.
The reference is benchmarks/seed_loop.py, the post's loop rewritten faithfully (run as a script in its own process,
like the post's code).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import emit  # noqa: E402

from rnn_core.metrics import evaluate  # noqa: E402
from rnn_core.train import TrainConfig, Trainer  # noqa: E402

REFERENCE = ROOT / "benchmarks" / "seed_loop.py"


def reference_seconds(steps: int, seed: int) -> float:
    out = subprocess.run(
        [sys.executable, str(REFERENCE), "--quiet", "--eval", "--steps", str(steps), "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"train_seconds=([\d.]+)", out).group(1))


def ours_steps_seconds(steps: int, seed: int, **overrides) -> float:
    trainer = Trainer(TrainConfig(seed=seed, eval_every=10**6, **overrides))
    t0 = time.perf_counter()
    trainer.train(steps)
    return time.perf_counter() - t0


def ours_time_to_solve(config: TrainConfig, repeats: int, budget: int = 20_000) -> tuple[float, int | None]:
    """Wall time from building the trainer until every pair is right: the median of ``repeats`` identical runs
    (the same seed gives the same run, so repeats only average out the machine's noise)."""
    config.task.exhaustive()  # the cached table: built once per process, not per run
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        trainer = Trainer(config)
        trainer.train(budget, until_solved=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), trainer.solved_at_step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--ref-steps", type=int, help="steps of each reference run (default: --steps / 8)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per seed in the time-to-solve measures (median)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results: dict = {"load_average_before": os.getloadavg()[0]}

    ref_steps = args.ref_steps or max(args.steps // 8, 1)
    results["steps"] = {"ours": args.steps, "reference": ref_steps}
    ours, ref = [], []
    for r in range(args.runs):
        if r % 2 == 0:
            ref.append(ref_steps / reference_seconds(ref_steps, seed=r))
            ours.append(args.steps / ours_steps_seconds(args.steps, seed=r))
        else:
            ours.append(args.steps / ours_steps_seconds(args.steps, seed=r))
            ref.append(ref_steps / reference_seconds(ref_steps, seed=r))
    results["steps_per_s"] = {
        "ours": statistics.median(ours),
        "reference": statistics.median(ref),
        "ratio": statistics.median(ours) / statistics.median(ref),
        # each run's ours/reference pair ran back to back: their ratios are less exposed to slow load changes
        "ratio_per_run": [o / r for o, r in zip(ours, ref)],
        "median_of_run_ratios": statistics.median(o / r for o, r in zip(ours, ref)),
        # each side's fastest run: what the machine's bursts of other load slowed least
        "ratio_of_bests": max(ours) / max(ref),
    }

    ref_5001 = [reference_seconds(5001, seed=s) for s in range(5)]
    post = [ours_time_to_solve(TrainConfig(seed=s), args.repeats) for s in range(5)]
    results["post_config_time_to_solve"] = {
        "ours_seconds_median": statistics.median(t for t, _ in post),
        "ours_solved_at": [s for _, s in post],
        "reference_5001_steps_seconds_median": statistics.median(ref_5001),
        "ratio": statistics.median(ref_5001) / statistics.median(t for t, _ in post),
    }

    try:
        from rnn_core.presets import PRESETS

        fast_cfg = PRESETS["fast"].config
    except (ImportError, KeyError):
        fast_cfg = TrainConfig(optimizer="adam", eta=0.01, batch_size=16)
    fast = [ours_time_to_solve(TrainConfig(**{**fast_cfg.to_dict(), "seed": s}), args.repeats) for s in range(5)]
    results["fast_time_to_solve"] = {
        "config": fast_cfg.to_dict(),
        "seconds_median": statistics.median(t for t, _ in fast),
        "seconds": [t for t, _ in fast],
        "solved_at": [s for _, s in fast],
    }

    trainer = Trainer(TrainConfig())
    batch = trainer.task.exhaustive()
    for dtype in (np.float32, np.float64):
        times = []
        for _ in range(max(7, args.runs)):
            t0 = time.perf_counter()
            evaluate(trainer.model, batch, dtype=dtype)
            times.append(time.perf_counter() - t0)
        results[f"exhaustive_eval_ms_{np.dtype(dtype).name}"] = 1e3 * statistics.median(times)

    emit(results, args.json)


if __name__ == "__main__":
    main()
