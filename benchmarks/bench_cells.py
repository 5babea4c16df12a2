"""Each cell's training speed against PyTorch's same cell, side by side in one run (medians of alternating runs).

    python benchmarks/bench_cells.py [--runs 5] [--steps 3000] [--big-steps 60] [--baseline PATH] [--solve]
                                     [--json out.json]

1. batch 1, 32 units, float64, 8-bit addition: training steps/s of ours (``Trainer``, evaluation off) and of
   PyTorch's ``nn.RNN/GRU/LSTM(2, 32, batch_first=True)`` + ``nn.Linear(32, 1)`` + sigmoid, 0.5 x SSE, SGD,
   ``torch.set_num_threads(1)``, on the same kind of examples (drawn from the task's table); the ratio ours/PyTorch.
   Beside it the floor numpy's per-call overhead sets: our numpy calls per step (counted) x the cost of one call on
   (1, 32) arrays, and the ratio PyTorch/floor, the most any numpy engine making that many calls could reach.
2. batch 256, float32: throughput in sample-time-steps per second, ours/PyTorch.
3. --baseline PATH (a checkout of another version of this repository, e.g. ``git worktree add /tmp/base main``):
   the Elman engine's steps/s at batch 1 and its float32 exhaustive evaluation, ours against that version's, each
   in its own process, alternating.
4. --solve: steps to solve 8-bit addition (every pair right) per cell preset and seed 0-4 (and 0-9), and the
   variants the presets were chosen against (PyTorch's default initialisation, the LSTM's forget bias 0).

Times are the process's CPU time (``time.process_time``), not wall time: on this shared 2-core machine other jobs
take the CPU away for whole runs (wall-time ratios of back-to-back runs ranged 0.1x-10x), and both sides run one
compute thread (numpy's BLAS is limited to one thread by rnn_core; ``torch.set_num_threads(1)``).
PyTorch is optional (``pip install torch``; large): without it, parts 1 and 2 print ours alone and say so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import emit  # noqa: E402

import rnn_core.train as train_module  # noqa: E402
from rnn_core import fastnp  # noqa: E402
from rnn_core.cells import CELLS, make_model  # noqa: E402
from rnn_core.presets import PRESETS  # noqa: E402
from rnn_core.train import TrainConfig, Trainer  # noqa: E402

try:
    import torch
except ImportError:  # the comparison is skipped, not failed
    torch = None

TORCH_MODULES = {"elman": "RNN", "gru": "GRU", "lstm": "LSTM"}
clock = time.process_time  # CPU time of this process (see the module docstring)


# -- ours ------------------------------------------------------------------------------------------------------
def ours_seconds(cell: str, steps: int, batch: int, dtype: str, seed: int = 0) -> float:
    trainer = Trainer(TrainConfig(cell=cell, batch_size=batch, dtype=dtype, seed=seed, eval_every=10**6))
    trainer.train(min(20, steps))  # compiled passes and the data table built outside the timing
    t0 = clock()
    trainer.train(steps)
    return clock() - t0


def numpy_calls_per_step(cell: str) -> int:
    """Numpy calls one training step makes at batch 1 (counted by wrapping every numpy entry point the engine
    uses while the trainer compiles and runs one chunk of steps)."""
    count = [0]

    class counting:
        """The function, counting its calls (attributes such as ufunc.reduce pass through)."""

        def __init__(self, func):
            self.func = func

        def __call__(self, *args, **kwargs):
            count[0] += 1
            return self.func(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.func, name)

    names = ("add", "subtract", "multiply", "tanh", "sum", "log", "exp")
    targets = [(np, n) for n in names] + [(fastnp, n) for n in ("dot", "vdot", "copyto")]
    saved = [(mod, n, getattr(mod, n)) for mod, n in targets]
    try:
        for mod, n, f in saved:
            setattr(mod, n, counting(f))
        trainer = Trainer(TrainConfig(cell=cell, eval_every=10**6))  # compiles under the counters
        trainer.train(1)
        count[0] = 0
        trainer.train(64)
    finally:
        for mod, n, f in saved:
            setattr(mod, n, f)
    return round(count[0] / 64)


def numpy_call_seconds(H: int = 32, repeats: int = 200_000) -> float:
    """The cost of one small numpy call: np.multiply(a, b, out=c) on (1, H) float64 arrays (best of 5)."""
    a, b, c = np.ones((1, H)), np.ones((1, H)), np.empty((1, H))
    mul = np.multiply
    best = float("inf")
    for _ in range(5):
        t0 = clock()
        for _ in range(repeats):
            mul(a, b, c)
        best = min(best, (clock() - t0) / repeats)
    return best


# -- PyTorch ---------------------------------------------------------------------------------------------------
def torch_seconds(cell: str, steps: int, batch: int, dtype: str, seed: int = 0) -> float:
    torch.manual_seed(seed)
    tdt = torch.float64 if dtype == "float64" else torch.float32
    rnn = getattr(torch.nn, TORCH_MODULES[cell])(2, 32, batch_first=True).to(tdt)
    out = torch.nn.Linear(32, 1).to(tdt)
    opt = torch.optim.SGD([*rnn.parameters(), *out.parameters()], lr=0.1)
    task = TrainConfig().task.exhaustive()
    n_draw = min(steps, 200)
    idx = np.random.default_rng(seed).integers(0, len(task), size=(n_draw, batch))
    X = torch.from_numpy(task.x[idx].astype(dtype))  # (n_draw, B, T, 2)
    Y = torch.from_numpy(task.target[idx].astype(dtype))

    def step(i: int) -> None:
        opt.zero_grad()
        h, _ = rnn(X[i % n_draw])
        y = torch.sigmoid(out(h))
        loss = 0.5 * ((y - Y[i % n_draw]) ** 2).sum()
        loss.backward()
        opt.step()

    for i in range(min(20, steps)):
        step(i)
    t0 = clock()
    for i in range(steps):
        step(i)
    return clock() - t0


def side_by_side(cell: str, runs: int, steps: int, torch_steps: int, batch: int, dtype: str) -> dict:
    """Steps/s of ours and of PyTorch, alternating which goes first; medians and the ratio ours/PyTorch."""
    ours, theirs = [], []
    for r in range(runs):
        order = ("ours", "torch") if r % 2 == 0 else ("torch", "ours")
        for side in order:
            if side == "ours":
                ours.append(steps / ours_seconds(cell, steps, batch, dtype, seed=r))
            elif torch is not None:
                theirs.append(torch_steps / torch_seconds(cell, torch_steps, batch, dtype, seed=r))
    out = {"ours_steps_per_s": statistics.median(ours)}
    if theirs:
        out["torch_steps_per_s"] = statistics.median(theirs)
        out["ratio"] = out["ours_steps_per_s"] / out["torch_steps_per_s"]
        out["ratio_per_run"] = [round(o / t, 2) for o, t in zip(ours, theirs)]
    return out


# -- another version of the engine ----------------------------------------------------------------------------
BASELINE_SNIPPET = """
import sys, time, json
sys.path.insert(0, sys.argv[1])
import numpy as np
from rnn_core.train import TrainConfig, Trainer
from rnn_core.metrics import evaluate
steps = int(sys.argv[2])
t = Trainer(TrainConfig(eval_every=10**6)); t.train(20)
t0 = time.process_time(); t.train(steps); train_s = time.process_time() - t0
batch = t.task.exhaustive(); evaluate(t.model, batch, dtype=np.float32)
ev = []
for _ in range(7):
    t0 = time.process_time(); evaluate(t.model, batch, dtype=np.float32); ev.append(time.process_time() - t0)
print(json.dumps({"steps_per_s": steps / train_s, "eval_ms": 1e3 * sorted(ev)[3]}))
"""


def engine_run(root: Path, steps: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", BASELINE_SNIPPET, str(root), str(steps)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def against_baseline(baseline: Path, runs: int, steps: int) -> dict:
    ours, base = [], []
    for r in range(runs):
        pair = [(ours, ROOT), (base, baseline)]
        for store, root in pair if r % 2 == 0 else pair[::-1]:
            store.append(engine_run(root, steps))
    med = lambda rows, k: statistics.median(row[k] for row in rows)  # noqa: E731
    return {
        "baseline": str(baseline),
        "ours_steps_per_s": med(ours, "steps_per_s"),
        "baseline_steps_per_s": med(base, "steps_per_s"),
        "steps_ratio": med(ours, "steps_per_s") / med(base, "steps_per_s"),
        "steps_ratio_per_run": [round(o["steps_per_s"] / b["steps_per_s"], 3) for o, b in zip(ours, base)],
        "ours_eval_ms": med(ours, "eval_ms"),
        "baseline_eval_ms": med(base, "eval_ms"),
    }


# -- steps to solve --------------------------------------------------------------------------------------------
def steps_to_solve(config: TrainConfig, seeds, budget: int = 8000, **options) -> list[int | None]:
    """solved_at_step per seed (None: not solved within budget); options go to the cell (e.g. init="torch")."""

    def build(cfg, rng):
        return make_model(cfg.cell, cfg.task.n_in, cfg.n_hidden, 1, rng, np.dtype(cfg.dtype), **options)

    out = []
    with mock.patch.object(train_module, "build_model", build) if options else _nothing():
        for seed in seeds:
            trainer = Trainer(TrainConfig.from_dict({**config.to_dict(), "seed": seed}))
            trainer.train(budget, until_solved=True)
            out.append(trainer.solved_at_step)
    return out


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def solve_table() -> dict:
    def row(steps):
        return {"steps": steps, "median": statistics.median(s if s is not None else float("inf") for s in steps)}

    table = {}
    for key in ("seed_post", "gru", "lstm"):
        cfg = PRESETS[key].config
        table[f"{key} preset, seeds 0-9"] = row(steps_to_solve(cfg, range(10)))
    for cell in ("gru", "lstm"):
        for eta in (0.1, 1.0):
            cfg = TrainConfig(cell=cell, eta=eta)
            table[f"{cell} eta {eta}, PyTorch's init, seeds 0-4"] = row(steps_to_solve(cfg, range(5), init="torch"))
    for eta in (0.5, 1.0):
        cfg = TrainConfig(cell="lstm", eta=eta)
        table[f"lstm eta {eta}, forget bias 0, seeds 0-9"] = row(steps_to_solve(cfg, range(10), forget_bias=0.0))
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3000, help="our steps per run at batch 1")
    ap.add_argument("--torch-steps", type=int, default=300, help="PyTorch's steps per run at batch 1")
    ap.add_argument("--big-steps", type=int, default=60, help="steps per run at batch 256 (each side)")
    ap.add_argument("--baseline", type=Path, help="a checkout of another version to compare the Elman engine with")
    ap.add_argument("--solve", action="store_true", help="also measure steps to solve per preset and seed")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results: dict = {"load_average_before": os.getloadavg()[0], "numpy": np.__version__}
    if torch is None:
        results["torch"] = "not installed: PyTorch comparisons skipped (pip install torch)"
    else:
        torch.set_num_threads(1)
        results["torch"] = torch.__version__
    call_s = numpy_call_seconds()
    results["numpy_call_us"] = 1e6 * call_s
    for cell in CELLS:
        small = side_by_side(cell, args.runs, args.steps, args.torch_steps, 1, "float64")
        calls = numpy_calls_per_step(cell)
        small["numpy_calls_per_step"] = calls
        small["floor_us_per_step"] = 1e6 * calls * call_s
        small["ours_us_per_step"] = 1e6 / small["ours_steps_per_s"]
        if "torch_steps_per_s" in small:
            small["torch_to_floor_ratio"] = small["floor_us_per_step"] and (
                1e6 / small["torch_steps_per_s"] / small["floor_us_per_step"]
            )
        results[f"{cell} batch 1 float64"] = small
        big = side_by_side(cell, args.runs, args.big_steps, args.big_steps, 256, "float32")
        T = TrainConfig().n_bits
        for k in ("ours_steps_per_s", "torch_steps_per_s"):
            if k in big:
                big[k.replace("steps", "sample_steps")] = big[k] * 256 * T
        results[f"{cell} batch 256 float32"] = big
        print(cell, json.dumps({"b1": small, "b256": big}), flush=True)
    if args.baseline:
        results["elman engine vs baseline"] = against_baseline(args.baseline, args.runs, args.steps)
    if args.solve:
        results["steps to solve"] = solve_table()
    emit(results, args.json)


if __name__ == "__main__":
    main()
