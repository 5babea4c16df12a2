"""Server memory when tabs upload a checkpoint and close: what an upload costs, and whether it is given back.

    python benchmarks/bench_upload_memory.py [--tree REV] [--files huge_history many_snapshots full_stores]
                                             [--tabs 3] [--views] [--after 10,60,130,200] [--port 8612]
                                             [--json out.json]

For each file, a fresh `streamlit run dashboard.py` per tree (this tree, and with --tree the project at git revision
REV, side by side on ports --port and --port + 19) and one headless Debian Chromium. The server's resident memory
(VmRSS of its process) is read:
1. before: the server started and one tab opened (with --views, every view too) and closed: Streamlit's and the
   app's modules are loaded, and the task's shared tables built;
2. with N tabs: N separate browser contexts (N Streamlit sessions), each uploads the file and waits for the page to
   be idle again (with --views, then opens every tab of the page in turn, so that each view computes what it shows);
3. after close: the N contexts are closed, then RSS is read at each of --after seconds.
Streamlit keeps a closed tab's session for ``server.disconnectedSessionTTL`` (120 s by default) so that a
reconnecting tab finds it.

Files (built by tests/fixtures/crafted_checkpoints.py, written to a temporary folder):
- huge_history: 3.3 MB, a million step-log points and evaluation records, 4,096 snapshots (issue 13);
- many_snapshots: 380 kB, 1,849 snapshots of a 3-unit model (issue 13);
- full_stores: every history store at the trainer's own limit (19,998 points, 4,095 records, 64 snapshots),
  the most a file that loads can hold for the default model.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
from bench_dashboard import revision_tree  # noqa: E402
from browser_support import CHROMIUM, CHROMIUM_ARGS, IDLE, StreamlitServer  # noqa: E402

from tests.fixtures import crafted_checkpoints as crafted  # noqa: E402

TIMEOUT_MS = 120_000
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'
NOTICE = '[data-testid="stAlert"]'


def full_stores() -> bytes:
    return crafted.pack(crafted.with_history(crafted.fresh_arrays(), points=19_998, evals=4095, snapshots=64))


FILES = {"huge_history": crafted.huge_history, "many_snapshots": crafted.many_snapshots, "full_stores": full_stores}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_tab(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    return context, page


def upload(page, path: Path) -> str:
    """Upload `path` through the sidebar's uploader; returns the first line of the notice the page then shows."""
    page.locator(UPLOAD_INPUT).set_input_files(str(path))
    page.wait_for_function(
        "() => [...document.querySelectorAll('"
        + NOTICE
        + "')].some(e => /checkpoint|Could not load/.test(e.innerText))",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    texts = [t for t in page.locator(NOTICE).all_inner_texts() if "checkpoint" in t or "Could not load" in t]
    return texts[0].splitlines()[0][:160] if texts else ""


def open_every_view(page) -> int:
    """Click each tab of the page's tab bar in turn, waiting for the page to be idle after each; returns how many."""
    tabs = page.get_by_role("tab")
    for i in range(tabs.count()):
        tabs.nth(i).click()
        page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    return tabs.count()


def measure(
    browser, servers: dict[str, StreamlitServer], path: Path, tabs: int, after: list[int], views: bool = False
) -> dict:
    out: dict[str, dict] = {name: {"after_close_mb": {}} for name in servers}
    for server in servers.values():  # the first tab pays for imports and the task's shared tables, not for the file
        context, page = open_tab(browser, server.url)
        if views:
            open_every_view(page)
        context.close()
    time.sleep(3)
    for name, server in servers.items():
        out[name]["before_mb"] = round(rss_mb(server.proc.pid), 1)
    contexts = []
    for name, server in servers.items():
        for _ in range(tabs):
            context, page = open_tab(browser, server.url)
            out[name]["notice"] = upload(page, path)
            if views:
                out[name]["views_opened"] = open_every_view(page)
            contexts.append(context)
    time.sleep(3)
    for name, server in servers.items():
        out[name]["with_tabs_mb"] = round(rss_mb(server.proc.pid), 1)
    for context in contexts:
        context.close()
    closed = time.monotonic()
    for seconds in after:
        time.sleep(max(0.0, closed + seconds - time.monotonic()))
        for name, server in servers.items():
            out[name]["after_close_mb"][seconds] = round(rss_mb(server.proc.pid), 1)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", help="also measure the project at this git revision, side by side")
    ap.add_argument("--files", nargs="+", default=list(FILES), choices=list(FILES))
    ap.add_argument("--tabs", type=int, default=3)
    ap.add_argument("--views", action="store_true", help="each tab also opens every view after the upload")
    ap.add_argument("--after", default="10,60,130,200", help="seconds after the tabs closed to read RSS")
    ap.add_argument("--port", type=int, default=8612)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    after = [int(s) for s in args.after.split(",")]
    trees = {"now": ROOT}
    if args.tree:
        tree = revision_tree(args.tree)
        if tree is None:
            raise SystemExit(f"git archive {args.tree} failed")
        trees[args.tree] = tree
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="upload_memory_"))
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for file_name in args.files:
                path = folder / f"{file_name}.npz"
                path.write_bytes(FILES[file_name]())
                servers = {}
                try:
                    for i, (name, tree) in enumerate(trees.items()):
                        server = StreamlitServer(tree, log_path=folder / f"{file_name}_{i}.log")
                        server.port, server.url = args.port + 19 * i, f"http://127.0.0.1:{args.port + 19 * i}"
                        server.start(timeout=90)
                        servers[name] = server
                    result = measure(browser, servers, path, args.tabs, after, args.views)
                finally:
                    for server in servers.values():
                        server.stop()
                results[file_name] = {"file_bytes": path.stat().st_size, **result}
                print(json.dumps({file_name: results[file_name]}), flush=True)
        finally:
            browser.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
