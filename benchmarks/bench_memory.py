"""Peak memory of one training session at 10k, 100k and 1M steps: it must stay flat.

    python benchmarks/bench_memory.py [--steps 10000 100000 1000000] [--json out.json]

Each run is a fresh process (peak RSS, ru_maxrss, cannot go down within a process), training the seed post's
configuration with the dashboard's defaults (evaluation every 200 steps, snapshots every 50 steps), then reports
peak RSS and the sizes of the bounded stores (step log points, evaluation records, snapshots).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from rnn_core.threads import limit_blas_threads
from rnn_core.train import TrainConfig, Trainer
limit_blas_threads()
steps = int(sys.argv[1])
trainer = Trainer(TrainConfig(seed=0))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
while trainer.step < steps:
    trainer.train(min(10_000, steps - trainer.step))
print(json.dumps({
    "steps": trainer.step,
    "seconds": round(time.perf_counter() - t0, 1),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    "rss_after_setup_mb": round(base / 1024, 1),
    "step_log_points": int(len(trainer.steps_log.arrays()[0])),
    "step_log_stride": trainer.steps_log.stride,
    "eval_records": trainer.evals.n,
    "snapshots": len(trainer.snapshots.steps),
}))
"""


def measure(steps: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(steps), str(ROOT)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = [measure(n) for n in args.steps]
    for r in rows:
        print(json.dumps(r))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
