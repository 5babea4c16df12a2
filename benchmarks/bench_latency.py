"""Click-to-rerun latency of the dashboard with 1, 4 and 8 people using it at once.

    python benchmarks/bench_latency.py [--users 1,4,8] [--step-clicks 8] [--train-clicks 4] [--train-steps 100]
                                       [--timeout 120] [--json out.json]

For each number of users N: a fresh `streamlit run dashboard.py` on a free 127.0.0.1 port (stopped by its PID
afterwards), one headless Debian Chromium, and N Playwright browser contexts (N separate Streamlit sessions)
opened at once with ``?steps_per_click=<train-steps>``. When every session has drawn its first page they are
released together, and each one, on its own and as fast as its page allows:
1. clicks "Step" --step-clicks times,
2. waits for every other session (a barrier), then clicks "Train <train-steps> steps" --train-clicks times.
Every click waits for its own rerun to finish before the next one, so with N users up to N reruns run on the
server at once.

Latency of a click: from the moment the page sends its rerun request on the websocket (the ``rerun_script``
BackMsg, sent as the button is clicked) until the page receives the server's ``script_finished`` ForwardMsg for
that run (both decoded with Streamlit's own protobufs; the DOM's script-state attribute is not reliable under
load, as it can skip "running" altogether). It is the server's time for the rerun plus the queueing behind the
other sessions' reruns; drawing the charts in the browser afterwards is not included.
Server CPU per click: the server process's user + system CPU seconds (/proc/PID/stat) over a phase, divided by
the phase's clicks.

The browsers run on the same machine as the server and compete with it for the CPU; on a shared 2-core machine
compare numbers from one invocation only. Every session must end at exactly its own step count
(step-clicks + train-clicks * train-steps), or the run is reported as failed (exit 1).
Traffic goes to 127.0.0.1 only; every wait is bounded by --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS, IDLE, STEP_METRIC, StreamlitServer  # noqa: E402


# -- one browser session ------------------------------------------------------------------------------------------
class RunTracker:
    """Timestamps of the rerun requests a page sends and of the script runs the server reports finished."""

    def __init__(self, page):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._back, self._fwd = BackMsg, ForwardMsg
        self._done = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
        self.sent: list[float] = []  # perf_counter of every rerun_script request
        self.finished: list[float] = []  # perf_counter of every finished (whole-script) run
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:
        if "/_stcore/stream" in ws.url:
            ws.on("framesent", self._sent)
            ws.on("framereceived", self._received)

    def _sent(self, payload) -> None:
        now = time.perf_counter()
        if isinstance(payload, (bytes, bytearray)):
            try:
                if self._back.FromString(bytes(payload)).WhichOneof("type") == "rerun_script":
                    self.sent.append(now)
            except Exception:  # noqa: BLE001 - not a BackMsg we can read
                pass

    def _received(self, payload) -> None:
        now = time.perf_counter()
        if isinstance(payload, (bytes, bytearray)):
            try:
                msg = self._fwd.FromString(bytes(payload))
            except Exception:  # noqa: BLE001
                return
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished in self._done:
                self.finished.append(now)


async def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


async def click(page, tracker: RunTracker, key: str, timeout: float) -> float:
    """Click the button with widget key `key`; seconds from its rerun request until that run finished."""
    sent, finished = len(tracker.sent), len(tracker.finished)
    await page.locator(f".st-key-{key} button").first.click(timeout=timeout * 1000)
    await wait_until(lambda: len(tracker.sent) > sent, timeout, f"no rerun request after clicking {key}")
    request = tracker.sent[sent]
    # the run that answers this request is the first one finishing after it was sent
    await wait_until(
        lambda: any(t > request for t in tracker.finished[finished:]), timeout, f"no finished run after {key}"
    )
    done = next(t for t in tracker.finished[finished:] if t > request)
    await page.wait_for_selector(IDLE, timeout=timeout * 1000)
    return done - request


async def user(browser, url: str, args, release: asyncio.Event, barrier, out: dict) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        tracker = RunTracker(page)
        errors = out["console_errors"] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{url}/?steps_per_click={args.train_steps}", timeout=args.timeout * 1000)
        await wait_until(lambda: tracker.finished, args.timeout, "the first run did not finish")
        await page.wait_for_selector(IDLE, timeout=args.timeout * 1000)
        await page.wait_for_selector(".st-key-train button", timeout=args.timeout * 1000)
        out["ready"] = True
        await release.wait()
        out["step"] = [await click(page, tracker, "step", args.timeout) for _ in range(args.step_clicks)]
        await barrier("step")
        out["train"] = [await click(page, tracker, "train", args.timeout) for _ in range(args.train_clicks)]
        want = str(args.step_clicks + args.train_clicks * args.train_steps)
        try:
            await page.wait_for_function(f"() => ({STEP_METRIC})() === '{want}'", timeout=10_000)
        except Exception:  # noqa: BLE001 - reported below
            pass
        out["metric"], out["want"] = await page.evaluate(STEP_METRIC), want
    finally:
        await context.close()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between order statistics."""
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (pos - lo)


async def run_users(server: StreamlitServer, n: int, args) -> dict:
    from playwright.async_api import async_playwright

    results = [{"user": i} for i in range(n)]
    release = asyncio.Event()
    cpu: dict[str, float] = {}
    arrived = {"step": 0}
    phase_done = asyncio.Event()

    async def barrier(name: str) -> None:
        arrived[name] += 1
        if arrived[name] == n:
            cpu["step_end"] = cpu["train_start"] = server.cpu_seconds()
            phase_done.set()
        await asyncio.wait_for(phase_done.wait(), args.timeout * 4)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            tasks = [
                asyncio.create_task(user(browser, server.url, args, release, barrier, results[i])) for i in range(n)
            ]
            await wait_until(
                lambda: all(r.get("ready") for r in results) or any(t.done() for t in tasks),
                args.timeout * 2,
                "the sessions did not all load",
            )
            cpu["step_start"] = server.cpu_seconds()
            release.set()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            cpu["train_end"] = server.cpu_seconds()
        finally:
            await browser.close()
    for result, outcome in zip(results, outcomes):
        if isinstance(outcome, BaseException):
            result["error"] = f"{type(outcome).__name__}: {outcome}"[:300]
    return {"users": results, "cpu": cpu}


def summarise(n: int, run: dict, args) -> list[dict]:
    rows = []
    cpu = run["cpu"]
    for action, label, clicks in (
        ("step", "Step", args.step_clicks),
        ("train", f"Train {args.train_steps} steps", args.train_clicks),
    ):
        latencies = [s for u in run["users"] for s in u.get(action, [])]
        phase_cpu = cpu.get(f"{action}_end", float("nan")) - cpu.get(f"{action}_start", float("nan"))
        rows.append(
            {
                "users": n,
                "action": label,
                "clicks": len(latencies),
                "median_ms": round(1e3 * statistics.median(latencies), 1) if latencies else None,
                "p90_ms": round(1e3 * percentile(latencies, 90), 1) if latencies else None,
                "max_ms": round(1e3 * max(latencies), 1) if latencies else None,
                "server_cpu_s_per_click": round(phase_cpu / (n * clicks), 3) if latencies else None,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="1,4,8", help="comma-separated numbers of concurrent sessions")
    parser.add_argument("--step-clicks", type=int, default=8, help="Step clicks per session")
    parser.add_argument("--train-clicks", type=int, default=4, help="Train clicks per session")
    parser.add_argument("--train-steps", type=int, default=100, help="steps per Train click (steps_per_click)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds any single wait may take")
    parser.add_argument("--log-dir", type=Path, help="keep the servers' logs here")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is not installed (apt-get install chromium); no browser is downloaded", file=sys.stderr)
        return 2

    rows, failures, details = [], [], []
    for n in [int(x) for x in args.users.split(",")]:
        log = args.log_dir / f"server-{n}.log" if args.log_dir else None
        if log:
            log.parent.mkdir(parents=True, exist_ok=True)
        server = StreamlitServer(ROOT, log_path=log, extra_args=("--server.fileWatcherType", "none"))
        startup = server.start(args.timeout)
        try:
            run = asyncio.run(run_users(server, n, args))
        finally:
            server.stop()
        for u in run["users"]:
            if "error" in u or u.get("metric") != u.get("want"):
                failures.append({"users": n, **{k: u.get(k) for k in ("user", "metric", "want", "error")}})
        rows += summarise(n, run, args)
        details.append({"users": n, "server_startup_s": round(startup, 2), **run})

    header = (
        f"{'users':>5}  {'action':<18} {'clicks':>6}  {'median ms':>9}  {'p90 ms':>8}  {'max ms':>8}  "
        f"{'server CPU s/click':>18}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['users']:>5}  {r['action']:<18} {r['clicks']:>6}  {r['median_ms']!s:>9}  {r['p90_ms']!s:>8}  "
            f"{r['max_ms']!s:>8}  {r['server_cpu_s_per_click']!s:>18}"
        )
    if failures:
        print(f"FAILED: {failures}")
    if args.json:
        settings = {k: getattr(args, k) for k in ("users", "step_clicks", "train_clicks", "train_steps", "timeout")}
        args.json.write_text(
            json.dumps({"settings": settings, "rows": rows, "failures": failures, "runs": details}, indent=1)
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
