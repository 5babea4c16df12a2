"""Draw a sweep's phase diagram (a results file of ``python -m rnn_core sweep``) as a PNG for the README.

    python -m rnn_core sweep --grid n_hidden=2,3,4,6,8,12,16,32,64 --grid eta=0.01,0.03,0.1,0.3,1,3 \\
        --seeds 32 --budget 5000 --out sweep.parquet
    python docs/phase_diagram.py sweep.parquet docs/phase_diagram.png

The two heatmaps are the dashboard's own (``carrylab.charts.phase_diagram_figure``), side by side on one HTML page
with plotly.js from the plotly package, photographed by headless Chromium (Debian's /usr/bin/chromium through
Playwright): no image-export package needed. The grid's first field goes across, the second down.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from carrylab.charts import phase_diagram_figure  # noqa: E402
from carrylab.views.sweep import phase_stats  # noqa: E402
from rnn_core.results import read_results  # noqa: E402
from rnn_core.sweep import summarise  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", help="a results file of python -m rnn_core sweep (two grid fields)")
    parser.add_argument("png", help="the image to write")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args()
    spec, rows = read_results(args.results)
    if len(spec.grid_fields) != 2:
        parser.error(f"need a sweep over two settings, got {', '.join(spec.grid_fields) or 'none'}")
    x, y = spec.grid_fields
    xs = tuple(sorted({r[x] for r in rows}))
    ys = tuple(sorted({r[y] for r in rows}))
    stats = phase_stats(summarise(rows, [x, y], spec.budget), x, xs, y, ys, {})
    seeds = len({r["seed"] for r in rows})
    parts = []
    for metric, title in (
        ("share", f"Share of {seeds} seeds that solved 8-bit addition within {spec.budget:,} steps"),
        ("median", "Median steps to solve (blank: more than half never solved)"),
    ):
        fig = phase_diagram_figure(x, xs, y, ys, stats, metric=metric, budget=spec.budget, title=title)
        fig.update_layout(width=args.width // 2 - 10, height=560)
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if not parts else False))
    html = f"<html><body style='margin:0;display:flex;background:white'>{''.join(parts)}</body></html>"
    page_file = Path(args.png).with_suffix(".html")
    page_file.write_text(html)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": args.width, "height": 570})
        page.goto(page_file.resolve().as_uri())
        page.wait_for_selector(".plotly .main-svg")
        page.screenshot(path=args.png, full_page=True)
        browser.close()
    page_file.unlink()
    print(f"wrote {args.png} ({len(rows)} runs, {x} x {y})")


if __name__ == "__main__":
    main()
