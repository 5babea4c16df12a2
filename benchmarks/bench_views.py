"""Speed of the carry views' analysis, and how reliably it recognises a solved net's automaton.

    python benchmarks/bench_views.py [--runs 7] [--json out.json]

Measures (medians of --runs runs, one BLAS thread like the dashboard):
1. ``analyse(trainer)`` for 8-bit addition with 32 hidden units (the seed post's network), at step 0 (untrained:
   the automaton extraction tries every cluster count, its slowest case) and once solved, with the time of each
   part (outputs of every example, errors, hidden states of the sample, carry statistics, automaton);
   the budget is well under 100 ms;
2. the same for 8-bit subtraction (65,536 pairs) and a 64-bit task (a sample), for scale;
3. ``length_curve`` (widths 1..64), which the view computes only on request;
4. reliability: on nets trained to 100 % (6 addition seeds, 3 subtraction seeds), how often ``analyse`` calls the
   learned machine equivalent to the true 2-state one, over 4 k-means seeds each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from carrylab import analysis  # noqa: E402
from rnn_core import diagnostics as diag  # noqa: E402
from rnn_core.threads import limit_blas_threads  # noqa: E402
from rnn_core.train import TrainConfig, Trainer  # noqa: E402


def timed(fn, runs: int) -> tuple[float, object]:
    """Median seconds of runs calls of fn (after one warm-up call), and the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench_analyse(label: str, trainer: Trainer, runs: int) -> dict:
    seconds, an = timed(lambda: analysis.analyse(trainer), runs)
    parts = {name: [] for name in an.timings}
    for _ in range(runs):
        for name, value in analysis.analyse(trainer).timings.items():
            parts[name].append(value)
    row = {
        "case": label,
        "median_ms": 1e3 * seconds,
        "parts_ms": {name: round(1e3 * statistics.median(v), 1) for name, v in parts.items()},
        "accuracy": an.accuracy,
        "verdict": an.automaton_verdict,
    }
    print(f"{label:<40} {row['median_ms']:7.1f} ms  {row['parts_ms']}")
    return row


def solved_trainer(seed: int, **overrides) -> Trainer:
    trainer = Trainer(TrainConfig(seed=seed, **overrides))
    trainer.train(8000, until_solved=True)
    return trainer


def reliability(n_rng: int = 4) -> dict:
    """Share of extractions that find the true machine, on solved nets, over n_rng k-means seeds each."""
    nets = [solved_trainer(s) for s in range(6)]
    nets += [solved_trainer(s, op="sub", optimizer="adam", eta=0.01, batch_size=16) for s in range(3)]
    hits = total = 0
    original = analysis._SEED
    try:
        for trainer in nets:
            if trainer.evaluate().accuracy != 1.0:
                continue
            for r in range(n_rng):
                analysis._SEED = original + r  # the sample and the k-means seed
                analysis.state_sample.cache_clear()
                hits += bool(analysis.analyse(trainer).equivalent)
                total += 1
    finally:
        analysis._SEED = original
        analysis.state_sample.cache_clear()
    print(f"automaton equivalent to the true machine on solved nets: {hits}/{total}")
    return {"equivalent": hits, "extractions": total}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    limit_blas_threads()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    rows = []
    rows.append(bench_analyse("add 8 bits, H=32, untrained", Trainer(TrainConfig(seed=0)), a.runs))
    rows.append(bench_analyse("add 8 bits, H=32, solved", solved_trainer(0), a.runs))
    rows.append(bench_analyse("sub 8 bits (65,536 pairs), H=32", Trainer(TrainConfig(op="sub", seed=0)), a.runs))
    rows.append(bench_analyse("add 64 bits (sample), H=32", Trainer(TrainConfig(n_bits=64, seed=0)), a.runs))
    rows.append(bench_analyse("mixed 8 bits (sample), H=32", Trainer(TrainConfig(op="mixed", seed=0)), a.runs))
    trainer = solved_trainer(0)
    seconds, curve = timed(lambda: analysis.length_curve(trainer), max(1, a.runs // 2))
    print(f"{'length_curve widths 1..64':<40} {1e3 * seconds:7.1f} ms  {curve.summary()}")
    rows.append({"case": "length_curve", "median_ms": 1e3 * seconds})
    result = {"rows": rows, "reliability": reliability(), "adder_states": diag.adder_automaton().n_states}
    if a.json:
        a.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
