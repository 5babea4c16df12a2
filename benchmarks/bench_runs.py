"""Runs compared: what pinned runs cost a click, and how fast a three-lane race plays in a real browser.

    python benchmarks/bench_runs.py [--clicks 7] [--race-seconds 5] [--no-browser] [--json out.json]

1. Server side, under Streamlit's AppTest: the time of a "Train 1,000 steps" click (Reset first, not timed, so every
   click trains the same steps from step 0) on a page with no pinned runs and on one with three pinned runs
   (hidden 32, 8 and 2, each trained 1,000 steps), the two pages' clicks alternating; wall time and the process's
   CPU time (less sensitive to a shared machine's load). Target: within 1.2x.
2. In a real browser (`streamlit run` + headless Debian Chromium): the Race tab with three lanes (Elman, GRU, LSTM,
   8 hidden units, demo speed 20), after a second of warm-up, over --race-seconds: redraws of the race chart (its
   live graph's revision) per second, and the race's steps per redraw (each frame trains every lane demo-speed steps,
   as a lone Play frame does). Beside it, the same page's Play (one run) measured the same way. Target: >= 5 frames/s.
Medians; the machine is shared, so compare numbers from one invocation only.
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
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from browser_support import CHROMIUM, CHROMIUM_ARGS, IDLE, StreamlitServer  # noqa: E402

STEPS = 1000


def _page(pinned: int):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params.update({"steps_per_click": str(STEPS)})
    at.run()
    for hidden in (32, 8, 2)[:pinned]:
        at.number_input(key="n_hidden").set_value(hidden).run()
        at.button(key="train").click().run()
        at.button(key="pin_run").click().run()
    at.number_input(key="n_hidden").set_value(16).run()
    assert not at.exception, at.exception
    return at


def _click(at) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one Train click after a Reset."""
    at.button(key="reset").click().run()
    began, cpu = time.perf_counter(), time.process_time()
    at.button(key="train").click().run()
    spent = time.perf_counter() - began, time.process_time() - cpu
    assert not at.exception, at.exception
    return spent


def bench_clicks(clicks: int) -> dict:
    pages = {"no pinned runs": _page(0), "three pinned runs": _page(3)}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
    for at in pages.values():  # warm-up
        _click(at)
    for _ in range(clicks):
        for name, at in pages.items():
            times[name].append(_click(at))
    out = {}
    for i, kind in enumerate(("wall", "cpu")):
        for name, t in times.items():
            out[f"{name} ({kind} s)"] = statistics.median(x[i] for x in t)
        out[f"ratio ({kind})"] = out[f"three pinned runs ({kind} s)"] / out[f"no pinned runs ({kind} s)"]
    return out


RACE_NOW = """() => { const g = document.querySelector('.st-key-race_chart .carrylab-live-chart-graph');
  const m = document.querySelector('[data-testid="stMain"]').innerText.match(/Step ([0-9,]+) ·/);
  return {revision: g ? Number(g.dataset.revision) : 0, step: m ? Number(m[1].replace(/,/g, '')) : 0}; }"""
PLAY_NOW = """() => { const g = document.querySelector('.st-key-error_chart .carrylab-live-chart-graph');
  const s = document.querySelector('[data-testid="stMetricValue"]');
  return {revision: g ? Number(g.dataset.revision) : 0, step: Number(s.innerText.replace(/,/g, ''))}; }"""


def _rate(page, probe: str, seconds: float) -> dict:
    page.wait_for_timeout(1000)
    start, began = page.evaluate(probe), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    end, spent = page.evaluate(probe), time.monotonic() - began
    frames = end["revision"] - start["revision"]
    return {"frames_per_s": frames / spent, "steps_per_frame": (end["step"] - start["step"]) / max(frames, 1)}


def bench_browser(seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    server = StreamlitServer(ROOT)
    server.start(timeout=90)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url + "/?n_hidden=8&demo_speed=20", timeout=60_000)
            page.wait_for_selector(IDLE, timeout=60_000)
            page.locator(".st-key-play button").first.click()
            play = _rate(page, PLAY_NOW, seconds)
            page.locator(".st-key-play button").first.click()
            page.wait_for_selector(IDLE, timeout=60_000)
            page.get_by_role("tab", name="Race").click()
            page.wait_for_selector(IDLE, timeout=60_000)
            page.locator(".st-key-race_start button").first.click()
            race = _rate(page, RACE_NOW, seconds)
            browser.close()
    finally:
        server.stop()
    return {"play (one run)": play, "race (three lanes)": race}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=7)
    parser.add_argument("--race-seconds", type=float, default=5.0)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    result = {"clicks": bench_clicks(args.clicks)}
    print(json.dumps(result["clicks"], indent=1))
    if not args.no_browser:
        result["browser"] = bench_browser(args.race_seconds)
        print(json.dumps(result["browser"], indent=1))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
