"""``python -m rnn_core sweep``: every grid point x seeds 0..N-1 into a results file, resumable, on Dask.

    python -m rnn_core sweep --grid n_hidden=2,4,8,16 --grid eta=0.03,0.1,0.3,1 --seeds 16 --budget 5000 \\
        --out sweep.parquet [--scheduler tcp://host:8786]

Runs already in ``--out`` (from an interrupted sweep or a smaller grid with the same fixed settings) are not run
again. A progress bar goes to stderr when it is a terminal; at the end a table per grid point: runs, share solved,
and the quartiles of steps to solve (a quartile that falls on unsolved runs reads ">budget"). ``--json`` ends with
one JSON line. Bad input, a results file of another sweep, a scheduler that does not answer: one line, status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from rnn_core.cli import PROG, OneLineParser, config_or_exit
from rnn_core.engine import Engine, EngineError, make_jobs
from rnn_core.results import ResultsError, ResultsFile, SweepSpec, make_row
from rnn_core.sweep import check_budget, parse_grid, plan, point_config, summarise

BAR_WIDTH = 30


def cmd_sweep(args: argparse.Namespace, parser: OneLineParser) -> int:
    if getattr(args, "seed", None) is not None:
        parser.error("a sweep runs seeds 0..N-1: give --seeds N, not --seed")
    base, _ = config_or_exit(args, parser)
    try:
        grid = parse_grid(args.grid, base, args.seeds)
        budget = check_budget(args.budget)
    except ValueError as e:
        parser.error(str(e))
    spec = SweepSpec.of(base, list(grid), budget)
    try:
        results = ResultsFile(args.out, spec)
    except (ResultsError, OSError) as e:
        print(f"{PROG}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    runs = plan(grid, args.seeds)
    wanted = {spec.key({**dict(zip(grid, r.point)), "seed": r.seed}) for r in runs}
    already = len(wanted & results.done)
    missing: dict[tuple, list[int]] = {}
    for run in runs:
        if spec.key({**dict(zip(grid, run.point)), "seed": run.seed}) not in results.done:
            missing.setdefault(run.point, []).append(run.seed)
    progress = Progress(len(runs), already, enabled=not args.quiet and sys.stderr.isatty())
    t0 = time.perf_counter()
    try:
        if missing:
            _run(args, grid, base, spec, missing, results, progress)
    except EngineError as e:
        print(f"{PROG}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    finally:
        results.close()
        progress.end()
    rows = [row for row in results.rows if spec.key(row) in wanted]
    summary = summarise(sorted(rows, key=lambda r: _order(grid, r)), list(grid), budget)
    seconds = time.perf_counter() - t0
    if not args.quiet:
        print(summary_table(summary, list(grid)))
        print(
            f"{len(rows)} runs in {args.out} for this grid ({already} were there already, {len(rows) - already} "
            f"ran now in {seconds:.1f} s)"
        )
    if args.json:
        print(json.dumps({"out": str(args.out), "runs": len(rows), "resumed": already, "seconds": round(seconds, 3),
                          "grid": {k: list(v) for k, v in grid.items()}, "summary": summary}))  # fmt: skip
    return 0


def _order(grid: dict, row: dict) -> tuple:
    """Rows in grid order (the first field slowest), then by seed."""
    return (*(grid[f].index(row[f]) for f in grid), row["seed"])


def _run(args, grid, base, spec, missing, results, progress) -> None:
    with Engine(args.scheduler, args.workers) as engine:
        points = [(point, point_config(base, grid, point).to_dict(), seeds) for point, seeds in missing.items()]
        jobs = make_jobs(points, engine.n_workers)
        with engine.start(jobs, spec.budget) as sweep:
            while not sweep.done:
                for job, rows in sweep.poll(0.25):
                    point = dict(zip(grid, job.point))
                    results.add([make_row(spec, point, r) for r in rows])
                    progress.advance(len(rows))
                progress.draw()


class Progress:
    """A one-line progress bar on stderr (only on a terminal): runs done of all, and the time so far."""

    def __init__(self, total: int, done: int, enabled: bool):
        self.total, self.done, self.enabled = total, done, enabled
        self.t0 = time.perf_counter()

    def advance(self, n: int) -> None:
        self.done += n

    def draw(self) -> None:
        if not self.enabled:
            return
        share = self.done / self.total if self.total else 1.0
        filled = int(round(share * BAR_WIDTH))
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        sys.stderr.write(f"\r[{bar}] {self.done:,}/{self.total:,} runs  {time.perf_counter() - self.t0:6.1f} s")
        sys.stderr.flush()

    def end(self) -> None:
        if self.enabled:
            self.draw()
            sys.stderr.write("\n")


def summary_table(summary: list[dict], grid_fields: list[str]) -> str:
    """Per grid point: runs, solved, share solved, median and quartiles of steps to solve."""

    def steps(v, budget):
        return f">{budget}" if v is None else f"{v:.0f}"

    head = [*grid_fields, "runs", "solved", "share", "median", "q1", "q3"]
    lines = [
        [*(str(s[f]) for f in grid_fields), str(s["runs"]), str(s["solved"]), f"{s['share_solved']:.0%}",
         *(steps(s[k], s["budget"]) for k in ("median", "q1", "q3"))]
        for s in summary
    ]  # fmt: skip
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([fmt(head), *(fmt(line) for line in lines)])
