"""Speed of the Plotly chart builders, now against a baseline revision, on the inputs the dashboard gives them.

    python benchmarks/bench_charts.py [--runs 9] [--baseline REV] [--json out.json]

For every builder in carrylab.charts, at realistic sizes (error curve of 20,000 logged points drawn as 2 x 1,000;
hidden-state heatmap of a 32-unit, 8-bit net with its six tracks; the 128 x 128 pair grid of 7-bit addition; the
weights of a 32-unit net; 4,000 of 8,192 state-space points; ...), this prints the median construction time of
the current code and of the same builder at --baseline (default: 4db04a5, the last commit before figures were
built from dicts; read with `git show`, imported under another package name, nothing checked out). Runs
alternate between the two in one process, so a busy machine slows both alike. It also prints:
- "to JSON": what st.plotly_chart adds per figure (`fig.to_dict()` then `plotly.io.to_json(validate=False)`);
- "same": whether the two figures hold the same content (JSON compared with numbers to 1e-12 relative:
  the vectorised smoothing differs from the step-by-step loop in the last bits only); "drawing" where they
  differ only in the two changes made for the browser's sake: series of more than MAX_MARKERS evaluations drawn
  without markers, and the hidden-state heatmap's margins reserved up front (so Plotly draws it once, not twice);
- one "carry views" frame: `analyse(trainer)` for the seed post's net (8-bit addition, 32 units) and every
  figure the carry tabs draw from it, the budget for which is well under 100 ms.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import plotly.io as pio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from carrylab import analysis as carry_analysis  # noqa: E402
from carrylab import charts  # noqa: E402
from rnn_core.diagnostics import adder_automaton  # noqa: E402
from rnn_core.threads import limit_blas_threads  # noqa: E402
from rnn_core.train import TrainConfig, Trainer  # noqa: E402

DEFAULT_BASELINE = "4db04a5"
ADDER = adder_automaton().transitions  # (src, (a, b), dst, out) of the true 2-state adder


def baseline_charts(rev: str):
    """carrylab.charts as it was at `rev`, imported as carrylab_baseline.charts (None if git cannot show it)."""
    try:
        names = subprocess.run(
            ["git", "ls-tree", "--name-only", f"{rev}:carrylab/charts"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return None
    temp = tempfile.mkdtemp(prefix="charts_baseline_")
    atexit.register(shutil.rmtree, temp, ignore_errors=True)
    package = Path(temp) / "carrylab_baseline"
    (package / "charts").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in names.split():
        if name.endswith(".py"):
            text = subprocess.run(
                ["git", "show", f"{rev}:carrylab/charts/{name}"], cwd=ROOT, capture_output=True, check=True
            ).stdout.decode()
            (package / "charts" / name).write_text(text.replace("carrylab.charts", "carrylab_baseline.charts"))
    sys.path.insert(0, str(package.parent))
    return importlib.import_module("carrylab_baseline.charts")


def cases() -> dict[str, tuple[str, Callable]]:
    """builder label -> (input description, function(charts module) -> figure)."""
    rng = np.random.default_rng(0)
    n_log = 20_000
    steps = np.arange(n_log) * 5
    error = np.abs(rng.standard_normal(n_log)) * np.linspace(1.0, 0.01, n_log)
    eval_steps = np.arange(0, steps[-1], 500)
    accuracy = np.linspace(0.0, 1.0, eval_steps.size)
    n_bits, n_units = 8, 32
    hidden = np.tanh(rng.standard_normal((n_bits, n_units)))
    tracks = {name: rng.integers(0, 2, n_bits) for name in ("a", "b", "carry out", "target")}
    tracks["P(y=1)"], tracks["prediction"] = rng.random(n_bits), rng.integers(0, 2, n_bits)
    order = rng.permutation(n_units)
    corr = rng.uniform(-1, 1, n_units)
    operands = np.arange(128)
    wrong = rng.integers(0, 3, (128, 128))
    answer = operands[:, None] + operands[None, :]
    points, carry = rng.standard_normal((8192, 2)), rng.integers(0, 2, 8192)
    cluster = rng.integers(0, 4, 8192)
    bit_error = rng.random((eval_steps.size, n_bits))
    weights = rng.standard_normal((3, n_units)), rng.standard_normal((n_units, n_units)), rng.standard_normal((32, 1))
    return {
        "error_figure": (
            "20,000 points -> 2 x 1,000 shown, 200 evals",
            lambda c: c.error_figure(
                steps, error, eval_steps=eval_steps, accuracy=accuracy, solved_step=60_000, max_points=1000
            ),
        ),
        "hidden_heatmap_figure": (
            "32 units x 8 bits + 6 tracks",
            lambda c: c.hidden_heatmap_figure(hidden, tracks=tracks, unit_order=order, highlight_units=order[:1]),
        ),
        "pair_grid_figure": (
            "128 x 128 with answers",
            lambda c: c.pair_grid_figure(operands, operands, wrong, answer=answer, net_answer=answer, n_bits=8),
        ),
        "weights_figure": ("3x32, 32x32, 32x1", lambda c: c.weights_figure(*weights)),
        "state_space_figure": (
            "8,192 -> 4,000 points, clusters",
            lambda c: c.state_space_figure(points, carry, cluster=cluster, explained_variance=[0.6, 0.3]),
        ),
        "carry_correlation_figure": (
            "32 units",
            lambda c: c.carry_correlation_figure(corr, best_units=[3]),
        ),
        "probe_accuracy_figure": (
            "200 evals",
            lambda c: c.probe_accuracy_figure(eval_steps, accuracy, accuracy=accuracy),
        ),
        "bit_error_heatmap": ("200 evals x 8 bits", lambda c: c.bit_error_heatmap(eval_steps, bit_error)),
        "gradient_flow_heatmap": ("200 evals x 8 steps", lambda c: c.gradient_flow_heatmap(eval_steps, bit_error)),
        "spectral_radius_figure": ("200 evals", lambda c: c.spectral_radius_figure(eval_steps, 2 * accuracy)),
        "chain_accuracy_figure": (
            "9 groups",
            lambda c: c.chain_accuracy_figure(np.arange(9), np.linspace(1, 0.5, 9), np.arange(9) * 10),
        ),
        "length_generalisation_figure": (
            "widths 1..64",
            lambda c: c.length_generalisation_figure(np.arange(1, 65), np.ones(64), np.ones(64), train_width=8),
        ),
        "automaton_figure": (
            "2 states, 8 edges",
            lambda c: c.automaton_figure(2, ADDER, state_labels=["carry 0", "carry 1"]),
        ),
        "seed_sweep_figure": (
            "8 seeds",
            lambda c: c.seed_sweep_figure(np.arange(8), np.array([100.0, np.nan] * 4), budget=500),
        ),
    }


def carry_views_frame(c, trainer: Trainer, an) -> list:
    """Every figure the carry tabs draw, built as the views build them (carrylab/views/*.py)."""
    evals = trainer.evals
    steps = evals.array("step")
    params = trainer.model.params
    figures = [
        c.carry_correlation_figure(an.carry_corr, best_units=an.carry_units),
        c.hidden_heatmap_figure(
            np.tanh(np.zeros((an.n_bits, an.n_hidden))),
            tracks={"a": np.zeros(an.n_bits), "carry out": np.ones(an.n_bits)},
            unit_order=np.argsort(-np.abs(np.nan_to_num(an.carry_corr)), kind="stable"),
            highlight_units=an.carry_units,
        ),
        c.bit_error_heatmap(steps, 1.0 - evals.array("bit_accuracy")),
        c.chain_accuracy_figure(an.chain_lengths, an.chain_accuracy, an.chain_counts),
        c.gradient_flow_heatmap(steps, evals.array("grad_norms")),
        c.weights_figure(params["W_in"], params["W_rec"], params["W_out"]),
        c.spectral_radius_figure(steps, evals.array("spectral_radius")),
        c.state_space_figure(
            an.pca_points, an.pca_carry, cluster=an.pca_cluster, explained_variance=an.explained_variance
        ),
    ]
    probe = evals.array("probe_accuracy")
    if probe.size and probe.shape == steps.shape:
        figures.append(c.probe_accuracy_figure(steps, probe, accuracy=evals.array("accuracy")))
    grid = an.pair_grid
    if grid is not None:
        figures.append(
            c.pair_grid_figure(
                grid.a_values,
                grid.b_values,
                grid.wrong_bits,
                answer=grid.answer,
                net_answer=grid.net_answer,
                n_bits=an.n_bits,
            )
        )
    for machine in (an.automaton, an.reference):
        if machine is not None:
            figures.append(c.automaton_figure(machine.n_states, machine.transitions, initial_state=machine.start))
    return figures


def alternate(fns: list[Callable], runs: int) -> list[float]:
    """Median seconds of each fn over `runs` rounds that call them in turn (order flipped every round)."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for r in range(runs):
        order = range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            t0 = time.perf_counter()
            fns[i]()
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def to_json(fig) -> str:
    """What st.plotly_chart sends for a figure."""
    return pio.to_json(fig.to_dict(), validate=False)


def _decoded(value):
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]).newbyteorder("<"))
            return array.reshape([int(s) for s in str(value["shape"]).split(",")]) if value.get("shape") else array
        return {key: _decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    return value


def same_content(a, b) -> bool:
    """Equal figure JSON, numbers to 1e-12 relative (typed arrays decoded; key order ignored)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_content(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fiu" and b.dtype.kind in "fiu":
            return bool(np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_content(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and bool(np.isclose(a, b, rtol=1e-12, atol=1e-15))
    return a == b


def _without_drawing(spec: dict) -> dict:
    """The figure without trace modes and margins."""
    data = [{k: v for k, v in trace.items() if k != "mode"} for trace in spec["data"]]
    return {"data": data, "layout": {k: v for k, v in spec["layout"].items() if k != "margin"}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare with ('' for none)")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    limit_blas_threads()
    base = baseline_charts(a.baseline) if a.baseline else None
    if a.baseline and base is None:
        print(f"baseline {a.baseline!r} not available from git: timing the current code only")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; medians of {a.runs} alternating runs")
    header = f"{'builder':<30} {'input':<44} {'baseline':>9} {'now':>8} {'x':>6} {'to JSON':>8} {'KB':>6}  same"
    print(header + "\n" + "-" * len(header))
    rows = []
    for name, (what, build) in cases().items():
        fns = [lambda build=build: build(charts)] + ([lambda build=build: build(base)] if base else [])
        seconds = alternate(fns, a.runs)
        fig = build(charts)
        spec = to_json(fig)
        (serialise,) = alternate([lambda fig=fig: to_json(fig)], a.runs)
        row = {"builder": name, "input": what, "now_ms": 1e3 * seconds[0], "to_json_ms": 1e3 * serialise}
        row["json_kb"] = len(spec) / 1024
        if base:
            row["baseline_ms"] = 1e3 * seconds[1]
            before, now = _decoded(json.loads(to_json(build(base)))), _decoded(json.loads(spec))
            if same_content(before, now):
                row["same"] = "yes"
            else:
                drawing_only = same_content(_without_drawing(before), _without_drawing(now))
                row["same"] = "drawing" if drawing_only else "NO"
        rows.append(row)
        before = f"{row['baseline_ms']:9.1f}" if base else f"{'-':>9}"
        ratio = f"{row['baseline_ms'] / row['now_ms']:6.1f}" if base else f"{'-':>6}"
        same = row["same"] if base else "-"
        print(
            f"{name:<30} {what:<44} {before} {row['now_ms']:8.2f} {ratio} {row['to_json_ms']:8.2f} "
            f"{row['json_kb']:6.1f}  {same}"
        )

    print("\ncarry views, one frame: 8-bit addition, 32 hidden units, trained 3,000 steps")
    trainer = Trainer(TrainConfig(seed=0))
    trainer.train(3000)
    (analyse_s,) = alternate([lambda: carry_analysis.analyse(trainer)], a.runs)
    an = carry_analysis.analyse(trainer)
    fns = [lambda: carry_views_frame(charts, trainer, an)]
    if base:
        fns.append(lambda: carry_views_frame(base, trainer, an))
    frame = alternate(fns, a.runs)
    n_figures = len(carry_views_frame(charts, trainer, an))
    print(f"  analyse(trainer)                 {1e3 * analyse_s:7.1f} ms")
    line = f"  {n_figures} figures of the carry tabs     {1e3 * frame[0]:7.1f} ms"
    print(line + (f"   (baseline {1e3 * frame[1]:.1f} ms)" if base else ""))
    print(f"  analysis + all figures           {1e3 * (analyse_s + frame[0]):7.1f} ms")
    result = {
        "load_average": os.getloadavg()[0],
        "baseline": a.baseline if base else None,
        "rows": rows,
        "carry_views": {
            "analyse_ms": 1e3 * analyse_s,
            "figures_ms": 1e3 * frame[0],
            "figures_baseline_ms": 1e3 * frame[1] if base else None,
            "n_figures": n_figures,
        },
    }
    if a.json:
        a.json.write_text(json.dumps(result, indent=2))
    return 0 if all(row.get("same") != "NO" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
