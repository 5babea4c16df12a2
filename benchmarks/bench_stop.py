"""How fast Stop, Pause and a closed tab end the server's work, and whether any sweep worker outlives its page.

    python benchmarks/bench_stop.py [--port 0] [--repeat 3] [--tabs 4] [--seeds 16] [--skip-sweeps] [--json out.json]

A fresh `streamlit run dashboard.py` on 127.0.0.1 (a free port unless --port), headless Debian Chromium, and:
1. stop: ``?steps_per_click=100000`` at the default size and at the largest (256 hidden units, batch 2048). Train,
   Stop once the Stop button shows; the time from the click until the page shows the step reached ("landed": the
   Stop click's run holds the model, so the training has ended) and until the page is idle again with the Stop
   button gone; then Step: the step must go up by exactly 1 (it jumped by 288-4,249 when two runs trained at once).
   For comparison, the Step click's own time to idle (a plain rerun of the page at that size).
2. pause: ``?n_hidden=256&batch_size=2048&demo_speed=5000``, Play, two frames, Pause: the time from the click until
   the button reads Play ("landed", drawn once the training has ended) and until the page is idle; then the step
   must stay put for 2 s.
3. close: the same Play, then the tab is closed: the server's CPU seconds in the 1-10 s after (its own work only;
   the browser is a separate process).
After each, the server's CPU seconds over the next 3 s show whether any training went on.
4. sweep close: --tabs tabs each start a --seeds sweep (step budget 20,000, 128 hidden units, batch 8: seeds of
   tens of seconds), and all tabs close once 2 seeds of a tab are done (or after 60 s): the sweep worker processes
   (seen as the server's descendants while they ran) still running 10 s later.
5. sweep reset: one tab runs a sweep and Resets during it, three times; then a fourth sweep runs while the server
   gets SIGTERM: workers still running 5 s after, and the same after a SIGKILL (no clean-up at all).
Every wait is bounded; the browsers run on the same machine as the server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS, IDLE, STEP_METRIC, StreamlitServer  # noqa: E402

LARGEST = "n_hidden=256&batch_size=2048"
SWEEP_SIZE = "n_hidden=128&batch_size=8"
TIMEOUT_MS = 120_000
NO_STOP_BUTTON = "() => ![...document.querySelectorAll('.st-key-stop_training button')].some(b => b.offsetParent)"
PLAY_LABEL = r"""() => { const b = [...document.querySelectorAll('.st-key-play button')].find(b => b.offsetParent);
  return b ? b.innerText.trim().split(/\s+/).pop() : null; }"""
PROGRESS_TEXT = """() => [...document.querySelectorAll('[data-testid="stProgress"]')].map(p => p.innerText).join(' ')"""


# -- processes -----------------------------------------------------------------------------------------------------
def proc_stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def running(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def cpu_seconds(pid: int) -> float:
    stat = proc_stat(pid)
    return float("nan") if stat is None else (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> set[int]:
    """Every process below `root` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))) is not None:
            children.setdefault(int(stat[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def server_cpu(server: StreamlitServer, seconds: float) -> float:
    before = cpu_seconds(server.proc.pid)
    time.sleep(seconds)
    return round(cpu_seconds(server.proc.pid) - before, 3)


# -- in the server's process: how long until a newer run holds the session ---------------------------------------
def measure_claim(settings: dict, repeat: int) -> dict:
    """A run trains a Train click's steps in a thread (as Streamlit runs a script); after 1 s a newer run claims the
    session: the seconds until it holds it (the older run's training has ended by then). And one Play frame at
    the top demo speed (5,000 steps): its seconds."""
    import threading

    from carrylab.session import Session

    session = Session(settings)
    waits = []
    for _ in range(repeat):
        training = threading.Event()

        def older(training: threading.Event = training) -> None:
            with session.exclusive():
                training.set()
                session.train(100_000)

        thread = threading.Thread(target=older)
        thread.start()
        training.wait()
        time.sleep(1.0)
        t0 = time.perf_counter()
        with session.exclusive():
            waits.append(time.perf_counter() - t0)
        thread.join()
    session.start()
    frames = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        session.play_frame(5000, until_solved=False)
        frames.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    session.train(3)
    return {
        "claim_seconds": [round(w, 3) for w in waits],
        "play_frame_seconds": [round(f, 3) for f in frames],
        "seconds_per_step": round((time.perf_counter() - t0) / 3, 3),
    }


# -- pages ---------------------------------------------------------------------------------------------------------
def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_function(f"() => ({STEP_METRIC})() !== null", timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    return context, page


def step_of(page) -> int:
    """The step the page shows (waiting for the metric: a redraw can take it off the page for a moment)."""
    handle = page.wait_for_function(f"() => ({STEP_METRIC})()", timeout=TIMEOUT_MS)
    return int(handle.json_value().replace(",", ""))


def wait_idle(page, extra: str = "() => true") -> None:
    page.wait_for_function(
        f"() => document.querySelector({json.dumps(IDLE)}) !== null && ({extra})()", timeout=TIMEOUT_MS
    )


def measure_stop(browser, server, query: str) -> dict:
    context, page = open_page(browser, f"{server.url}/?{query}")
    try:
        page.locator(".st-key-train button").first.click(timeout=TIMEOUT_MS)
        page.locator(".st-key-stop_training button").first.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(1000)  # well into the run
        shown = page.evaluate(STEP_METRIC)  # the step before Train: the training run draws its metrics afterwards
        t0 = time.perf_counter()
        page.locator(".st-key-stop_training button").first.click(timeout=TIMEOUT_MS)
        page.wait_for_function(f"() => ({STEP_METRIC})() !== {json.dumps(shown)}", timeout=TIMEOUT_MS)
        landed = time.perf_counter() - t0  # the Stop click's run shows the step: it held the model, training ended
        wait_idle(page, NO_STOP_BUTTON)
        seconds = time.perf_counter() - t0
        cpu_after = server_cpu(server, 3.0)
        before = step_of(page)
        t1 = time.perf_counter()
        page.locator(".st-key-step button").first.click(timeout=TIMEOUT_MS)
        page.wait_for_function(f"() => ({STEP_METRIC})() !== {json.dumps(f'{before:,}')}", timeout=TIMEOUT_MS)
        wait_idle(page)
        step_click = time.perf_counter() - t1
        return {
            "stop_landed_seconds": round(landed, 3),
            "stop_seconds": round(seconds, 3),
            "step_click_seconds": round(step_click, 3),  # a plain rerun of this page, for comparison
            "cpu_3s_after": cpu_after,
            "step_jump": step_of(page) - before,
        }
    finally:
        context.close()


def start_play(browser, server, query: str):
    context, page = open_page(browser, f"{server.url}/?{query}")
    page.locator(".st-key-play button").first.click(timeout=TIMEOUT_MS)
    page.wait_for_function(f"() => ({PLAY_LABEL})() === 'Pause'", timeout=TIMEOUT_MS)
    seen = {step_of(page)}
    deadline = time.monotonic() + 60
    while len(seen) < 3 and time.monotonic() < deadline:  # two frames drawn
        page.wait_for_timeout(50)
        seen.add(step_of(page))
    return context, page


def measure_pause(browser, server, query: str) -> dict:
    context, page = start_play(browser, server, query)
    try:
        t0 = time.perf_counter()
        page.locator(".st-key-play button").first.click(timeout=TIMEOUT_MS)
        page.wait_for_function(f"() => ({PLAY_LABEL})() === 'Play'", timeout=TIMEOUT_MS)
        landed = time.perf_counter() - t0  # the Pause click's run drew its button: it held the model, training ended
        wait_idle(page)
        seconds = time.perf_counter() - t0
        paused_at = step_of(page)
        cpu_after = server_cpu(server, 3.0)
        return {
            "pause_landed_seconds": round(landed, 3),
            "pause_seconds": round(seconds, 3),
            "cpu_3s_after": cpu_after,
            "moved_after": step_of(page) - paused_at,
        }
    finally:
        context.close()


def measure_close(browser, server, query: str) -> dict:
    context, _ = start_play(browser, server, query)
    context.close()
    first = server_cpu(server, 1.0)
    rest = server_cpu(server, 9.0)
    return {"cpu_0_1s_after_close": first, "cpu_1_10s_after_close": rest}


# -- sweeps --------------------------------------------------------------------------------------------------------
def start_sweep(page, seeds: int) -> None:
    page.get_by_role("tab", name="Seeds").click()
    page.locator(".st-key-seed_sweep_run button").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    for key, value in (("seed_sweep_k", str(seeds)), ("seed_sweep_budget", "max")):  # keyboard on the range inputs
        slider = page.locator(f".st-key-{key} input[type=range]").first
        target = slider.get_attribute("max") if value == "max" else value
        slider.focus()
        page.keyboard.press("End")
        for _ in range(64):
            if slider.get_attribute("value") == target:
                break
            page.keyboard.press("ArrowLeft")
        wait_idle(page)
    page.locator(".st-key-seed_sweep_run button").first.click(timeout=TIMEOUT_MS)
    page.wait_for_function(f"() => ({PROGRESS_TEXT})().includes('seeds done')", timeout=TIMEOUT_MS)


def seeds_done(page) -> int:
    text = page.evaluate(PROGRESS_TEXT)
    return int(text.split(" of ")[0].split()[-1]) if " of " in text else 0


def workers_of(server) -> set[int]:
    """The sweep workers: the server's descendants below its direct children (the fork server and multiprocessing's
    resource tracker are direct children that live as long as the server)."""
    return {p for p in descendants(server.proc.pid) if (stat := proc_stat(p)) and int(stat[1]) != server.proc.pid}


def watch_workers(server, seconds: float, pages=(), until_done: int | None = None) -> set[int]:
    """The sweep workers seen over `seconds` (or until a page shows `until_done` seeds done)."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen |= workers_of(server)
        if until_done is not None and any(seeds_done(p) >= until_done for p in pages):
            break
        time.sleep(0.5)
    return seen


def measure_sweep_close(browser, server, tabs: int, seeds: int) -> dict:
    query = SWEEP_SIZE
    opened = [open_page(browser, f"{server.url}/?{query}") for _ in range(tabs)]
    for _, page in opened:
        start_sweep(page, seeds)
    t0 = time.monotonic()
    workers = watch_workers(server, 60.0, [p for _, p in opened], until_done=2)
    workers |= workers_of(server)
    done = [seeds_done(p) for _, p in opened]
    for context, _ in opened:
        context.close()
    closed = time.monotonic()
    time.sleep(10.0)
    return {
        "tabs": tabs,
        "seeds_per_tab": seeds,
        "seconds_before_close": round(closed - t0, 1),
        "seeds_done_at_close": done,
        "workers_seen": len(workers),
        "workers_running_10s_after_close": len([p for p in workers if running(p)]),
    }


def measure_sweep_reset(browser, server_factory, seeds: int) -> dict:
    out = {}
    for how in ("SIGTERM", "SIGKILL"):
        server = server_factory()
        try:
            context, page = open_page(browser, f"{server.url}/?{SWEEP_SIZE}")
            workers: set[int] = set()
            helpers = descendants(server.proc.pid)  # the fork server, the resource tracker
            for _ in range(3):
                start_sweep(page, seeds)
                workers |= watch_workers(server, 3.0)
                page.locator(".st-key-reset button").first.click(timeout=TIMEOUT_MS)
                wait_idle(page)
            alive_after_resets = len([p for p in workers if running(p)])
            start_sweep(page, seeds)
            workers |= watch_workers(server, 3.0)
            helpers |= descendants(server.proc.pid) - workers
            t_stop = time.monotonic()
            os.kill(server.proc.pid, signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
            server.proc.wait(timeout=30)
            time.sleep(max(0.0, 5.0 - (time.monotonic() - t_stop)))
            out[how] = {
                "workers_seen": len(workers),
                "workers_running_after_3_resets": alive_after_resets,
                "workers_running_5s_after_server_stop": len([p for p in workers if running(p)]),
                "helpers_running_5s_after_server_stop": len([p for p in helpers if running(p)]),
            }
            context.close()
        finally:
            server.stop()
    return out


# -- main ----------------------------------------------------------------------------------------------------------
def make_server(port: int, log: Path) -> StreamlitServer:
    server = StreamlitServer(ROOT, log_path=log)
    if port:
        server.port, server.url = port, f"http://127.0.0.1:{port}"
    server.start(timeout=120)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tabs", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--skip-sweeps", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    log = Path(os.environ.get("TMPDIR", "/tmp")) / "bench_stop_server.log"
    results: dict = {"load_average_at_start": os.getloadavg()[0]}
    sys.path.insert(0, str(ROOT))
    for name, settings in (("default", {}), ("largest", {"n_hidden": 256, "batch_size": 2048})):
        results[f"in_process_{name}"] = measure_claim(settings, args.repeat)
        print(name, "in process", results[f"in_process_{name}"], flush=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        server = make_server(args.port, log)
        try:
            for name, query in (
                ("default", "steps_per_click=100000"),
                ("largest", f"{LARGEST}&steps_per_click=100000"),
            ):
                results[f"stop_{name}"] = [measure_stop(browser, server, query) for _ in range(args.repeat)]
                print(name, "stop", results[f"stop_{name}"], flush=True)
            play = f"{LARGEST}&demo_speed=5000"
            results["pause_largest"] = [measure_pause(browser, server, play) for _ in range(args.repeat)]
            print("pause", results["pause_largest"], flush=True)
            results["close_largest"] = [measure_close(browser, server, play) for _ in range(args.repeat)]
            print("close", results["close_largest"], flush=True)
            if not args.skip_sweeps:
                results["sweep_close"] = measure_sweep_close(browser, server, args.tabs, args.seeds)
                print("sweep close", results["sweep_close"], flush=True)
        finally:
            server.stop()
        if not args.skip_sweeps:
            results["sweep_reset"] = measure_sweep_reset(browser, lambda: make_server(args.port, log), args.seeds)
            print("sweep reset", results["sweep_reset"], flush=True)
        browser.close()
    results["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    bad = [r for k in ("stop_default", "stop_largest") for r in results[k] if r["step_jump"] != 1]
    bad += [r for r in results["pause_largest"] if r["moved_after"] != 0]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
