"""Speed of the dashboard as a user meets it: a click's server time, the first page render, frames per second in Play.

    python benchmarks/bench_dashboard.py [--runs 7] [--trials 2] [--play-seconds 5] [--baseline REV]
                                         [--tree REV] [--floor] [--query Q] [--no-apptest] [--no-browser] [--profile]
                                         [--json out.json]

1. Server side, under Streamlit's AppTest (no browser): the median time of a "Train 1000 steps" click
   (steps_per_click = 1000) and of a plain rerun, and of one Play frame (the flag set, then a rerun: AppTest never
   fires the `run_every` timer). With --baseline (default 4db04a5, the last commit before figures were built
   from dicts), the same runs alternate with the chart builders of that revision swapped into the views.
2. In a real browser (`streamlit run` + headless Debian Chromium through Playwright), each trial starts a server,
   opens a fresh browser context and measures:
   - first render: from `page.goto` (the server already healthy) until the script has finished and every visible
     Plotly chart has drawn; "complete": until, in addition, no element is still a loading placeholder (skeleton);
     and the CPU seconds that first render cost, by process (browser, renderer, gpu, network; and the server),
     which depend much less on the machine's other load than the wall time does;
   - Play: after a second of warm-up, over --play-seconds: server frames (changes of the Step metric), redraws of
     the error chart (`plotly_afterplot` events of its graph div), how many of those were remounts (a new graph
     div: Plotly.newPlot instead of an update), redraws of the hidden-state heatmap, and distinct curves shown
     (changes of the smoothed line's path), per second; how busy the page's main thread was (Chrome's
     TaskDuration / wall time); and CPU time per server frame of the page's main thread, of the page's renderer
     process and of the Streamlit server (these depend much less on the other load of a shared machine than
     frames per second do). With --profile also where the main thread's time went per frame: Plotly, React,
     other JavaScript, native (style, layout), GC.
   With --baseline, trials alternate between this tree and a copy of it whose carrylab/charts is the baseline's.
   With --tree REV, also the whole dashboard as it was at git revision REV (`git archive`, e.g. the commit this
   work started from; or an app directory), measured the same way. With --floor, also two minimal pages, first
   render only, for Streamlit's own floor on this machine: "minimal_empty" (one st.metric) and "minimal_2plotly"
   (a metric and two st.plotly_chart of the dashboard's sizes), and the dashboard's first render as a multiple of
   the second. With --query, the dashboards open with that query string (e.g. presentation=1).
Medians over runs/trials; the machine is shared, so compare numbers from the same invocation only: the variants'
trials alternate, and the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser_support import CHARTS, CHROMIUM, CHROMIUM_ARGS, IDLE, StreamlitServer  # noqa: E402

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_charts import DEFAULT_BASELINE, baseline_charts  # noqa: E402

TIMEOUT_MS = 90_000
# Every visible chart has drawn, and there are at least n of them.
CHARTS_DRAWN = (
    "(n) => { const charts = [...document.querySelectorAll('"
    + CHARTS
    + """')].filter(c => c.offsetParent !== null);
  return charts.length >= n && charts.every(c => c.querySelector('.main-svg')); }"""
)
# Nothing is still a placeholder: Streamlit shows a skeleton for an element whose code chunk has not loaded yet.
NO_SKELETONS = """() => ![...document.querySelectorAll('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]')]
  .some(e => e.offsetParent !== null)"""
MINIMAL_EMPTY = """import streamlit as st

st.metric("Step", "0")
"""
MINIMAL_2PLOTLY = """import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.metric("Step", "0")
x = np.arange(1000)
line = go.Figure(go.Scatter(x=x, y=np.sin(x / 50)), layout={"height": 420})
heatmap = go.Figure(go.Heatmap(z=np.random.default_rng(0).normal(size=(16, 8))), layout={"height": 400})
st.plotly_chart(line, key="a", width="stretch", theme=None)
st.plotly_chart(heatmap, key="b", width="stretch", theme=None)
"""
STEP_TEXT = """() => { const el = document.querySelector('[data-testid="stMetricValue"]');
                      return el ? el.innerText.trim() : null; }"""
PLAY_LABEL_IS = """(label) => [...document.querySelectorAll('.st-key-play button')]
  .some(b => b.offsetParent !== null && b.innerText.trim().endsWith(label))"""
# The error chart has been redrawn since Play was pressed (MARK_CLICK just before the click).
MARK_CLICK = "() => { window.__bench.atClick = window.__bench.afterplot; }"
FIRST_LIVE_DRAW = "() => window.__bench.afterplot > window.__bench.atClick"
# Counters on the page: redraws of the error chart (plotly_afterplot on its graph div), new graph divs (remounts),
# changes of the smoothed error line's path, changes of the Step metric; sampled every animation frame.
INSTALL_COUNTERS = """() => {
  const c = window.__bench = {afterplot: 0, graphDivs: 0, heatmapDraws: 0, curves: 0, steps: 0, lastPath: null,
                              lastStep: null};
  const seen = new WeakSet();
  const hook = () => {
    const root = document.querySelector('.st-key-error_chart');
    const gd = root && root.querySelector('.js-plotly-plot');
    if (gd && !seen.has(gd) && typeof gd.on === 'function') {
      seen.add(gd); c.graphDivs += 1; gd.on('plotly_afterplot', () => { c.afterplot += 1; });
    }
    const heat = document.querySelector('.st-key-hidden_heatmap .js-plotly-plot');
    if (heat && !seen.has(heat) && typeof heat.on === 'function') {
      seen.add(heat); heat.on('plotly_afterplot', () => { c.heatmapDraws += 1; });
    }
    const lines = root ? root.querySelectorAll('.scatterlayer .trace path.js-line') : [];
    const path = lines.length > 1 ? lines[1].getAttribute('d') : null;
    if (path !== null && path !== c.lastPath) { c.curves += 1; c.lastPath = path; }
    const el = document.querySelector('[data-testid="stMetricValue"]');
    const step = el ? el.innerText.trim() : null;
    if (step !== c.lastStep) { c.steps += 1; c.lastStep = step; }
    requestAnimationFrame(hook);
  };
  hook();
}"""
READ_COUNTERS = (
    "() => { const c = window.__bench; return {afterplot: c.afterplot, graphDivs: c.graphDivs, "
    "heatmapDraws: c.heatmapDraws, curves: c.curves, steps: c.steps, step: c.lastStep}; }"
)


# -- server side, AppTest ------------------------------------------------------------------------------------
@contextlib.contextmanager
def charts_from(module):
    """Swap the chart builders the dashboard uses for `module`'s (None: leave them as they are)."""
    if module is None:
        yield
        return
    import pkgutil

    import carrylab.charts as current
    import carrylab.views

    for info in pkgutil.iter_modules(carrylab.views.__path__, "carrylab.views."):
        importlib.import_module(info.name)  # imported now, so that no view binds a swapped builder for good

    names = [name for name in current.__all__ if callable(getattr(current, name)) and hasattr(module, name)]
    originals = {getattr(current, name): name for name in names}
    swapped = []
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == "carrylab.charts" or mod_name.startswith("carrylab.views")):
            continue
        for attr, value in list(vars(mod).items()):
            if callable(value) and value in originals:
                swapped.append((mod, attr, value))
                setattr(mod, attr, getattr(module, originals[value]))
    try:
        yield
    finally:
        for mod, attr, value in swapped:
            setattr(mod, attr, value)


def bench_apptest(runs: int, baseline) -> dict:
    import logging

    from streamlit.testing.v1 import AppTest

    # Reaching into session state between runs is fine here; keep Streamlit's "missing ScriptRunContext" quiet.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)

    from carrylab.session import STATE_KEY

    variants = {"now": None} | ({"baseline": baseline} if baseline is not None else {})
    apps = {}
    for name, module in variants.items():
        with charts_from(module):
            at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
            at.query_params["steps_per_click"] = "1000"
            at.run()
            if at.exception:
                raise RuntimeError(f"dashboard raised: {at.exception}")
            apps[name] = at
    times: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in variants}

    def timed(name, label, action):
        with charts_from(variants[name]):
            t0 = time.perf_counter()
            action()
            times[name][label].append(time.perf_counter() - t0)

    for r in range(runs + 1):  # the first round warms up
        for name in variants if r % 2 == 0 else reversed(variants):
            at = apps[name]
            timed(name, "train_click", lambda at=at: at.button(key="train").click().run())
            timed(name, "rerun", lambda at=at: at.run())
            at.session_state[STATE_KEY].running = True
            timed(name, "play_frame", lambda at=at: at.run())
            at.session_state[STATE_KEY].running = False
            at.run()
            if at.exception:
                raise RuntimeError(f"dashboard raised: {at.exception}")
    return {
        name: {label: 1e3 * statistics.median(values[1:]) for label, values in by_label.items()}
        for name, by_label in times.items()
    }


# -- browser -------------------------------------------------------------------------------------------------
def baseline_tree(rev: str) -> Path | None:
    """A copy of this working tree with carrylab/charts as it was at `rev` (None if git cannot show it)."""
    module = baseline_charts(rev)
    if module is None:
        return None
    temp = tempfile.mkdtemp(prefix="dashboard_baseline_")
    atexit.register(shutil.rmtree, temp, ignore_errors=True)
    tree = Path(temp) / "tree"
    ignore = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", ".ruff_cache", "*.png")
    shutil.copytree(ROOT, tree, ignore=ignore)
    shutil.rmtree(tree / "carrylab" / "charts")
    source = Path(module.__file__).parent
    shutil.copytree(source, tree / "carrylab" / "charts", ignore=shutil.ignore_patterns("__pycache__"))
    for path in (tree / "carrylab" / "charts").glob("*.py"):
        path.write_text(path.read_text().replace("carrylab_baseline.charts", "carrylab.charts"))
    return tree


def _time_by_part(profile: dict) -> dict[str, float]:
    """ms of main-thread time in a CDP sampling profile, by part: Plotly (PlotlyChart.js or plotly.min.js anywhere
    on the stack: plotly.js with Streamlit's chart component, or the live charts' plotly.js and their component),
    React (react-dom on the stack, not under Plotly), other JavaScript,
    native work outside JavaScript such as style and layout ("(program)"), garbage collection, idle."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", ())}
    out: dict[str, float] = defaultdict(float)
    deltas = profile.get("timeDeltas", [])
    for sample, delta in zip(profile.get("samples", []), deltas[1:] + [0], strict=True):
        top = nodes[sample]["callFrame"]["functionName"]
        urls, node_id = [], sample
        while node_id is not None:
            urls.append(nodes[node_id]["callFrame"].get("url", "").rsplit("/", 1)[-1])
            node_id = parent.get(node_id)
        if top in ("(idle)", "(program)", "(garbage collector)"):
            part = {"(idle)": "idle", "(program)": "native", "(garbage collector)": "gc"}[top]
        elif any(url.startswith("PlotlyChart") or url == "plotly.min.js" or "live_chart" in url for url in urls):
            part = "plotly"
        elif any(url.startswith("react-dom") for url in urls):
            part = "react"
        else:
            part = "other_js"
        out[part] += delta / 1000.0
    return dict(out)


def page_tree(source: str) -> Path:
    """A temporary app directory whose dashboard.py is `source`, with this project's .streamlit/config.toml."""
    tree = Path(tempfile.mkdtemp(prefix="dashboard_minimal_"))
    atexit.register(shutil.rmtree, tree, ignore_errors=True)
    (tree / "dashboard.py").write_text(source)
    shutil.copytree(ROOT / ".streamlit", tree / ".streamlit")
    return tree


def revision_tree(rev: str) -> Path | None:
    """The whole project as it was at git revision `rev` (git archive into a temporary directory), or None."""
    tree = Path(tempfile.mkdtemp(prefix="dashboard_rev_"))
    atexit.register(shutil.rmtree, tree, ignore_errors=True)
    try:
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return tree


def browser_trial(playwright, tree: Path, play_seconds: float, profile: bool, charts: int = 2, query: str = "") -> dict:
    """First render (and, when the page has charts, Play) of the app in `tree`; `charts`: how many must draw; `query`:
    the page's query string (e.g. "presentation=1")."""
    log = tempfile.NamedTemporaryFile(prefix="bench_dashboard_", suffix=".log", delete=False)
    log.close()
    server = StreamlitServer(tree, log_path=Path(log.name))
    try:
        healthy_s = server.start(timeout=90)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            browser_cdp = browser.new_browser_cdp_session()
            browser_cpu_start, server_cpu_start = _browser_cpu(browser_cdp), server.cpu_seconds()
            t0 = time.perf_counter()
            page.goto(f"{server.url}/?{query}" if query else server.url, timeout=TIMEOUT_MS)
            page.wait_for_function(f"() => ({STEP_TEXT})() === '0'", timeout=TIMEOUT_MS)
            page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
            page.wait_for_function(CHARTS_DRAWN, arg=charts, timeout=TIMEOUT_MS)
            first_render_s = time.perf_counter() - t0
            # CPU the first render cost, by process: much steadier than its wall time on a shared machine
            first_render_cpu = {
                f"first_render_{kind}_cpu_s": seconds
                for kind, seconds in _cpu_used(browser_cpu_start, _browser_cpu(browser_cdp)).items()
            }
            first_render_cpu["first_render_server_cpu_s"] = server.cpu_seconds() - server_cpu_start
            page.wait_for_function(NO_SKELETONS, timeout=TIMEOUT_MS, polling=50)
            complete_s = time.perf_counter() - t0
            if play_seconds <= 0:
                return {
                    "healthy_s": healthy_s,
                    "first_render_s": first_render_s,
                    "complete_s": complete_s,
                    **first_render_cpu,
                    "page_errors": errors,
                }

            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.evaluate(INSTALL_COUNTERS)
            page.evaluate(MARK_CLICK)
            t_play = time.perf_counter()
            page.locator(".st-key-play button").first.click()
            page.wait_for_function(PLAY_LABEL_IS, arg="Pause", timeout=TIMEOUT_MS)
            # Play start: until the first redraw of the playing chart (the live chart needs plotly.js loaded)
            page.wait_for_function(FIRST_LIVE_DRAW, timeout=TIMEOUT_MS, polling=20)
            play_start_s = time.perf_counter() - t_play
            page.wait_for_timeout(1000)  # warm-up
            if profile:
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": 500})
                cdp.send("Profiler.start")
            start = page.evaluate(READ_COUNTERS)
            metrics_start, server_cpu_start = _metrics(cdp), server.cpu_seconds()
            t_start = time.perf_counter()
            page.wait_for_timeout(int(play_seconds * 1000))
            end = page.evaluate(READ_COUNTERS)
            metrics_end, server_cpu_end = _metrics(cdp), server.cpu_seconds()
            wall = time.perf_counter() - t_start
            by_part = _time_by_part(cdp.send("Profiler.stop")["profile"]) if profile else None
            page.locator(".st-key-play button").first.click()
            page.wait_for_function(PLAY_LABEL_IS, arg="Play", timeout=TIMEOUT_MS)
            frames = max(1, end["steps"] - start["steps"])
            used = {name: metrics_end[name] - metrics_start[name] for name in metrics_start}
            result = {
                "healthy_s": healthy_s,
                "first_render_s": first_render_s,
                "complete_s": complete_s,
                **first_render_cpu,
                "play_start_s": play_start_s,
                "server_frames_per_s": (end["steps"] - start["steps"]) / wall,
                "redraws_per_s": (end["afterplot"] - start["afterplot"]) / wall,
                "remounts_per_s": (end["graphDivs"] - start["graphDivs"]) / wall,
                "heatmap_redraws_per_s": (end["heatmapDraws"] - start["heatmapDraws"]) / wall,
                "curves_per_s": (end["curves"] - start["curves"]) / wall,
                "main_thread_busy": used["TaskDuration"] / wall,
                # CPU time per server frame: what a frame costs regardless of how busy the machine is.
                "browser_main_cpu_ms_per_frame": 1e3 * used["ThreadTime"] / frames,
                "browser_process_cpu_ms_per_frame": 1e3 * used["ProcessTime"] / frames,
                "server_cpu_ms_per_frame": 1e3 * (server_cpu_end - server_cpu_start) / frames,
                "page_errors": errors,
            }
            if by_part is not None:
                result["main_ms_per_frame_by_part"] = {k: v / frames for k, v in by_part.items()}
            return result
        finally:
            browser.close()
    finally:
        server.stop()


def _browser_cpu(browser_cdp) -> dict[tuple[str, int], float]:
    """CPU seconds so far of each of the browser's processes, by (type, id): "browser", "renderer", "GPU", ..."""
    info = browser_cdp.send("SystemInfo.getProcessInfo")["processInfo"]
    return {(p["type"], p["id"]): p["cpuTime"] for p in info}


def _cpu_used(start: dict, end: dict) -> dict[str, float]:
    """CPU seconds used between two `_browser_cpu` readings, summed by process type ("gpu", "renderer", ...); the
    renderer includes its background threads (V8's script parsing, garbage collection, compositing). A process
    that ended between the readings is not counted."""
    used = dict.fromkeys(("browser", "renderer", "gpu", "network"), 0.0)  # every trial has every key
    for (kind, pid), seconds in end.items():
        name = {"GPU": "gpu", "network.mojom.NetworkService": "network"}.get(kind, kind)
        if name in used:
            used[name] += seconds - start.get((kind, pid), 0.0)
    return used


def _metrics(cdp) -> dict[str, float]:
    """Chrome's TaskDuration (wall time of the main thread's tasks), ThreadTime (main thread CPU) and ProcessTime
    (renderer process CPU), in seconds."""
    wanted = {"TaskDuration", "ThreadTime", "ProcessTime"}
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] in wanted}


def bench_browser(
    trials: int, play_seconds: float, trees: dict[str, tuple[Path, int, bool]], profile: bool, query: str = ""
) -> dict:
    """trees: variant name -> (app directory, charts that must draw, measure Play); query: the dashboards' query
    string (not the minimal pages')."""
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict]] = {name: [] for name in trees}
    with sync_playwright() as playwright:
        for t in range(trials):
            for name in trees if t % 2 == 0 else reversed(trees):
                tree, charts, play = trees[name]
                trial = browser_trial(
                    playwright, tree, play_seconds if play else 0.0, profile, charts, query if play else ""
                )
                results[name].append(trial)
                print(f"  trial {t + 1} {name:<8} " + ", ".join(f"{k} {_fmt(v)}" for k, v in trial.items()))
    summary = {}
    for name, trials_ in results.items():
        keys = [k for k, v in trials_[0].items() if isinstance(v, float)]
        summary[name] = {k: statistics.median(trial[k] for trial in trials_) for k in keys}
    return {"trials": results, "median": summary}


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v:.0f}" for k, v in value.items()) + "}"
    return str(value)


def over_floor(medians: dict) -> dict:
    """The dashboard's first render (to charts drawn, and to no placeholder left: a usable page; and the CPU the page's
    renderer and the server spent on it) as a multiple of the bare page with two Plotly charts, measured in the same
    run (empty when --floor was not given)."""
    if "now" not in medians or "minimal_2plotly" not in medians:
        return {}
    now, floor = medians["now"], medians["minimal_2plotly"]
    keys = ("first_render_s", "complete_s", "first_render_renderer_cpu_s", "first_render_server_cpu_s")
    return {key: now[key] / floor[key] for key in keys if key in now and key in floor}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7, help="AppTest rounds")
    ap.add_argument("--trials", type=int, default=2, help="browser trials per variant")
    ap.add_argument("--play-seconds", type=float, default=5.0)
    ap.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision of carrylab/charts to compare with")
    ap.add_argument("--tree", help="also measure the whole dashboard at this git revision (or in this directory)")
    ap.add_argument("--floor", action="store_true", help="also the first render of two minimal Streamlit pages")
    ap.add_argument("--no-apptest", action="store_true")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--profile", action="store_true", help="sample the page's JavaScript while playing")
    ap.add_argument("--query", default="", help="the dashboards' query string, e.g. presentation=1")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    result: dict = {"load_average": os.getloadavg()[0], "baseline": a.baseline or None}
    if not a.no_apptest:
        base = baseline_charts(a.baseline) if a.baseline else None
        result["apptest_ms"] = bench_apptest(a.runs, base)
        print(f"server side (AppTest), medians of {a.runs} rounds, ms:")
        for name, row in result["apptest_ms"].items():
            print(f"  {name:<8} " + "  ".join(f"{label} {ms:6.1f}" for label, ms in row.items()))
    if not a.no_browser:
        if not Path(CHROMIUM).exists():
            print(f"{CHROMIUM} not installed: browser part skipped")
        else:
            trees = {"now": (ROOT, 2, True)}
            if a.baseline and (tree := baseline_tree(a.baseline)) is not None:
                trees["baseline"] = (tree, 2, True)
            if a.tree:
                tree = Path(a.tree) if Path(a.tree).is_dir() else revision_tree(a.tree)
                if tree is None:
                    raise SystemExit(f"git archive {a.tree} failed")
                trees[f"rev_{a.tree}"] = (tree, 2, True)
            if a.floor:
                trees["minimal_empty"] = (page_tree(MINIMAL_EMPTY), 0, False)
                trees["minimal_2plotly"] = (page_tree(MINIMAL_2PLOTLY), 2, False)
            print(f"browser, {a.trials} trial(s) per variant, Play measured over {a.play_seconds:g} s:")
            result["browser"] = bench_browser(a.trials, a.play_seconds, trees, a.profile, a.query)
            for name, row in result["browser"]["median"].items():
                print(f"  median {name:<8} " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()))
            result["browser"]["over_floor"] = over_floor(result["browser"]["median"])
            for key, ratio in result["browser"]["over_floor"].items():
                print(f"  now / minimal_2plotly, {key}: {ratio:.2f}")
    result["load_average_end"] = os.getloadavg()[0]
    print(f"load average {result['load_average_end']:.2f} at the end")
    if a.json:
        a.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
