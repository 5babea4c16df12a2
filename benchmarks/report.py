"""The benchmarks' common ending: the results as indented JSON on stdout, and into a file when one is given."""

from __future__ import annotations

import json
import os
from pathlib import Path


def emit(results: dict, path: Path | None) -> None:
    """Add the load average at the end (these machines are shared: it says how noisy the run was), print, save."""
    results["load_average_after"] = os.getloadavg()[0]
    text = json.dumps(results, indent=2)
    print(text)
    if path:
        path.write_text(text)
