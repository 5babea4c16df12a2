"""Importing rnn_core limits BLAS to one thread for the process (RNN_CORE_BLAS_THREADS chooses another number, 0
leaves numpy's threading alone), and the limit holds in threads started later, as Streamlit's script threads are."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORT = """
import json, threading
import numpy
from threadpoolctl import threadpool_info
before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
import rnn_core
seen = {}
thread = threading.Thread(target=lambda: seen.update(
    after=[p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]))
thread.start(); thread.join()
print(json.dumps({"before": before, "after": seen["after"]}))
"""


def blas_threads(setting: str | None, numpy_default: int = 2) -> dict:
    """BLAS threads before and after importing rnn_core, numpy's own default set to `numpy_default`."""
    env = {k: v for k, v in os.environ.items() if k not in ("RNN_CORE_BLAS_THREADS", "OPENBLAS_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = str(numpy_default)
    if setting is not None:
        env["RNN_CORE_BLAS_THREADS"] = setting
    out = subprocess.run([sys.executable, "-c", REPORT], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_importing_rnn_core_leaves_one_blas_thread_in_every_thread():
    threads = blas_threads(None)
    if not threads["before"]:
        pytest.skip("numpy here has no BLAS that threadpoolctl can see")
    assert threads["before"] == [2] * len(threads["before"])
    assert threads["after"] == [1] * len(threads["before"])


@pytest.mark.parametrize(
    "setting, numpy_default, expected",
    [
        ("2", 1, 2),  # set: differs from both numpy's default here and rnn_core's
        ("0", 2, 2),  # left alone
        ("not a number", 2, 1),  # rnn_core's default
    ],
)
def test_the_environment_variable_chooses_the_number(setting, numpy_default, expected):
    threads = blas_threads(setting, numpy_default)
    if not threads["before"]:
        pytest.skip("numpy here has no BLAS that threadpoolctl can see")
    assert threads["before"] == [numpy_default] * len(threads["before"])
    assert threads["after"] == [expected] * len(threads["before"])
