"""Sweep throughput and engine overhead, side by side in one run.

    python benchmarks/bench_sweep.py [--seeds 1000] [--blocks 4] [--budget 5000] [--small 16] [--workers N]
        [--json out.json]

1. Throughput: --seeds seeds of the post's configuration (budget --budget steps, each run stops when every pair is
   right), (a) one at a time in this process with the plain trainer (``rnn_core.sweep.run_alone``, what a loop over
   ``Trainer(config).train(budget, until_solved=True)`` costs), against (b) the sweep engine: a local Dask cluster
   of one worker per core, the seeds in lock-step groups (``rnn_core.lockstep``), timed from submitting the jobs to
   the last row, with the cluster already started, and (c) ``python -m rnn_core sweep`` end to end (interpreter,
   cluster start, results file). Every seed's solved-at step must agree between (a) and (b). With --blocks K the
   seeds go in K blocks, (a) and (b) alternating block by block (which goes first alternates too), so that the
   load of a shared machine, which swings by 2x from minute to minute, falls on both sides alike.
2. Overhead on tiny runs: a --small-run sweep (the post's configuration, seeds 0..small-1) on the started cluster,
   against the sum of the same runs' times trained one at a time here, divided by the cores: the target is a wall
   time within 1.5x of that.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnn_core.engine import Engine, make_jobs  # noqa: E402
from rnn_core.results import read_results  # noqa: E402
from rnn_core.sweep import run_alone  # noqa: E402
from rnn_core.train import TrainConfig  # noqa: E402


def one_at_a_time(seeds, budget: int) -> tuple[float, dict[int, int | None], list[float]]:
    t0 = time.perf_counter()
    solved, seconds = {}, []
    for seed in seeds:
        result = run_alone(TrainConfig(seed=seed), budget)
        solved[seed] = result["solved_at_step"]
        seconds.append(result["seconds"])
    return time.perf_counter() - t0, solved, seconds


def on_engine(engine: Engine, seeds, budget: int) -> tuple[float, dict[int, int | None]]:
    jobs = make_jobs([((), TrainConfig().to_dict(), list(seeds))], engine.n_workers)
    t0 = time.perf_counter()
    solved = {}
    with engine.start(jobs, budget) as sweep:
        while not sweep.done:
            for _, rows in sweep.poll(0.05):
                solved.update((r["seed"], r["solved_at_step"]) for r in rows)
    return time.perf_counter() - t0, solved


def cli_end_to_end(n_seeds: int, budget: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sweep.parquet"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rnn_core", "sweep", "--seeds", str(n_seeds), "--budget", str(budget),
             "--out", str(out), "--workers", str(workers), "--quiet"],
            cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        seconds = time.perf_counter() - t0
        assert len(read_results(out)[1]) == n_seeds
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--budget", type=int, default=5000)
    parser.add_argument("--blocks", type=int, default=4, help="alternate the two sides in this many blocks")
    parser.add_argument("--small", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    out = {"seeds": args.seeds, "budget": args.budget, "workers": args.workers, "load_before": os.getloadavg()}

    blocks = [range(args.seeds)[i :: args.blocks] for i in range(args.blocks)]
    t_alone = t_engine = 0.0
    solved_alone, solved_engine = {}, {}
    t0 = time.perf_counter()
    with Engine(n_workers=args.workers) as engine:
        out["cluster_start_s"] = round(time.perf_counter() - t0, 2)
        on_engine(engine, range(args.seeds, args.seeds + 4 * args.workers), 200)  # warm-up: imports, caches, clients
        one_at_a_time(range(args.seeds, args.seeds + 2), 200)
        for i, block in enumerate(blocks):
            order = ("alone", "engine") if i % 2 == 0 else ("engine", "alone")
            for side in order:
                if side == "alone":
                    t, solved, _ = one_at_a_time(block, args.budget)
                    t_alone += t
                    solved_alone.update(solved)
                else:
                    t, solved = on_engine(engine, block, args.budget)
                    t_engine += t
                    solved_engine.update(solved)
            print(f"block {i + 1}/{args.blocks}: one at a time {t_alone:.1f} s, engine {t_engine:.1f} s so far",
                  flush=True)  # fmt: skip
        out["one_at_a_time_s"] = round(t_alone, 2)
        out["engine_s"] = round(t_engine, 2)
        out["same_solved_steps"] = solved_engine == solved_alone
        out["throughput_ratio"] = round(t_alone / t_engine, 2)
        print(f"{args.seeds} seeds: one at a time {t_alone:.1f} s, sweep engine ({args.workers} workers, lock-step) "
              f"{t_engine:.1f} s -> {t_alone / t_engine:.2f}x; same solved-at steps: {out['same_solved_steps']}",
              flush=True)  # fmt: skip

        _, _, small_seconds = one_at_a_time(range(args.small), args.budget)
        t_small, _ = on_engine(engine, range(args.small), args.budget)
        bound = sum(small_seconds) / args.workers
        out["small_runs_sum_s"] = round(sum(small_seconds), 3)
        out["small_sweep_s"] = round(t_small, 3)
        out["small_ratio_to_sum_over_cores"] = round(t_small / bound, 3)
        print(f"{args.small}-run sweep: {t_small:.3f} s against sum(run times)/cores = {bound:.3f} s -> "
              f"{t_small / bound:.2f}x (target <= 1.5x)", flush=True)  # fmt: skip
    t_cli = cli_end_to_end(args.seeds, args.budget, args.workers)
    out["cli_end_to_end_s"] = round(t_cli, 2)
    out["cli_ratio"] = round(t_alone / t_cli, 2)
    out["load_after"] = os.getloadavg()
    print(f"python -m rnn_core sweep end to end: {t_cli:.1f} s -> {t_alone / t_cli:.2f}x", flush=True)
    print(json.dumps(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
