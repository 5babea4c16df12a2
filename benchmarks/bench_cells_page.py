"""The page with a gated cell against the Elman page, side by side in one run (issue 15's speed targets).

    python benchmarks/bench_cells_page.py [--runs 7] [--trials 2] [--play-seconds 6] [--no-browser] [--json out.json]

1. Server side (Streamlit's AppTest): the median time of a "Train 1,000 steps" click on the Elman page (the seed
   post) and on the GRU and LSTM presets' pages, clicks alternating between the pages, "Stop when solved" off so that
   every click trains its 1,000 steps; the ratio to the Elman click (target: the LSTM's under 2); beside it the
   engine alone (a trainer of the same configuration trained 1,000 steps outside the page, its evaluations included).
2. In a real browser (bench_dashboard.browser_trial: `streamlit run` + headless Chromium): Play on the Elman page and
   on the LSTM page, trials alternating; server frames per second (changes of the Step metric; target for the
   LSTM: at least 5) and redraws of the error chart per second.
Medians over rounds and trials; the machine is shared, so only numbers from one invocation are compared.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PAGES = {  # page -> query string
    "elman": "stop_when_solved=false",
    "gru": "preset=gru&stop_when_solved=false",
    "lstm": "preset=lstm&stop_when_solved=false",
}


def bench_clicks(runs: int) -> dict:
    from urllib.parse import parse_qsl

    from streamlit.testing.v1 import AppTest

    from carrylab.session import STATE_KEY
    from rnn_core.train import Trainer

    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    apps = {}
    for name, query in PAGES.items():
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        at.query_params.update({"steps_per_click": "1000", **dict(parse_qsl(query))})
        at.run()
        if at.exception or at.session_state[STATE_KEY].trainer.config.cell != name:
            raise RuntimeError(f"{name} page did not open: {at.exception}")
        apps[name] = at
    # the engine alone: a trainer of the page's configuration, trained 1,000 steps outside the page (the floor)
    engines = {name: Trainer(at.session_state[STATE_KEY].trainer.config) for name, at in apps.items()}
    times: dict[str, list[float]] = defaultdict(list)
    engine_times: dict[str, list[float]] = defaultdict(list)
    for r in range(runs + 1):  # the first round warms up
        for name in PAGES if r % 2 == 0 else reversed(PAGES):
            at, before = apps[name], apps[name].session_state[STATE_KEY].trainer.step
            t0 = time.perf_counter()
            at.button(key="train").click().run()
            times[name].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            engines[name].train(1000)
            engine_times[name].append(time.perf_counter() - t0)
            if at.exception or at.session_state[STATE_KEY].trainer.step != before + 1000:
                raise RuntimeError(f"{name}: the click did not train 1,000 steps ({at.exception})")
    ms = {name: 1e3 * statistics.median(values[1:]) for name, values in times.items()}
    engine = {name: 1e3 * statistics.median(values[1:]) for name, values in engine_times.items()}
    return {
        "train_click_ms": ms,
        "ratio_to_elman": {name: ms[name] / ms["elman"] for name in ms},
        "engine_ms": engine,
        "engine_ratio_to_elman": {name: engine[name] / engine["elman"] for name in engine},
    }


def bench_play(trials: int, play_seconds: float) -> dict:
    from bench_dashboard import browser_trial
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict]] = defaultdict(list)
    names = ("elman", "lstm")
    with sync_playwright() as playwright:
        for trial in range(trials):
            for name in names if trial % 2 == 0 else reversed(names):
                results[name].append(browser_trial(playwright, ROOT, play_seconds, False, query=PAGES[name]))
    keys = ("server_frames_per_s", "redraws_per_s", "server_cpu_ms_per_frame", "browser_main_cpu_ms_per_frame")
    return {
        name: {
            **{key: statistics.median(r[key] for r in trial_results) for key in keys},
            "page_errors": sum((r["page_errors"] for r in trial_results), []),
        }
        for name, trial_results in results.items()
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--play-seconds", type=float, default=6.0)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    result: dict = {"load_average_start": os.getloadavg()[0]}
    clicks = bench_clicks(a.runs)
    result["clicks"] = clicks
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"Train 1,000 steps, median of {a.runs} clicks each, alternating:")
    for name, ms in clicks["train_click_ms"].items():
        print(
            f"  {name:6s} {ms:8.0f} ms   {clicks['ratio_to_elman'][name]:.2f}x the Elman click; the engine alone "
            f"{clicks['engine_ms'][name]:.0f} ms, {clicks['engine_ratio_to_elman'][name]:.2f}x"
        )
    if not a.no_browser:
        play = bench_play(a.trials, a.play_seconds)
        result["play"] = play
        print(f"Play in headless Chromium, median of {a.trials} trials of {a.play_seconds:g} s each:")
        for name, r in play.items():
            print(
                f"  {name:6s} {r['server_frames_per_s']:.1f} frames/s, {r['redraws_per_s']:.1f} error-chart "
                f"redraws/s, server {r['server_cpu_ms_per_frame']:.0f} ms CPU/frame, "
                f"page errors: {len(r['page_errors'])}"
            )
    result["load_average_end"] = os.getloadavg()[0]
    print(f"load average at the end {result['load_average_end']:.2f}")
    if a.json:
        a.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
