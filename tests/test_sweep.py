"""rnn_core.sweep: training one configuration from several seeds, in worker processes."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from rnn_core.sweep import MAX_BUDGET, POLL_SECONDS, SweepCancelled, sweep, train_seed
from rnn_core.train import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]
FAST = TrainConfig(optimizer="adam", eta=0.01, batch_size=16, n_hidden=16, seed=0)
STABLE = ("seed", "solved_at_step", "accuracy", "steps", "diverged")  # everything but the wall time


def stable(results: list[dict]) -> list[tuple]:
    return [tuple(r[k] for k in STABLE) for r in results]


def test_train_seed_solves_the_fast_config_and_says_when():
    result = train_seed(FAST.to_dict(), 0, 2000)
    assert result["seed"] == 0
    assert result["solved_at_step"] is not None and 0 < result["solved_at_step"] <= 2000
    assert result["accuracy"] == 1.0
    assert result["steps"] == result["solved_at_step"]  # until_solved stops right there
    assert result["diverged"] is False and result["seconds"] > 0


def test_train_seed_matches_a_trainer_run_with_that_seed():
    result = train_seed(FAST.to_dict(), 3, 2000)
    trainer = Trainer(TrainConfig(**{**FAST.to_dict(), "seed": 3}))
    trainer.train(2000, until_solved=True)
    assert result["solved_at_step"] == trainer.solved_at_step


def test_train_seed_reports_an_unsolved_run_within_a_tiny_budget():
    result = train_seed(FAST.to_dict(), 0, 5)
    assert result["solved_at_step"] is None
    assert result["steps"] == 5 and result["accuracy"] < 1.0


def test_sweep_in_two_processes_returns_results_in_seed_order_and_is_deterministic():
    seen = []
    first = sweep(FAST, [5, 2], 2000, max_workers=2, on_result=seen.append)
    assert [r["seed"] for r in first] == [5, 2]
    assert sorted(r["seed"] for r in seen) == [2, 5]  # on_result once per seed, in completion order
    assert all(r["solved_at_step"] is not None for r in first)
    second = sweep(FAST.to_dict(), [5, 2], 2000, max_workers=2)
    assert stable(first) == stable(second)
    in_process = sweep(FAST, [5, 2], 2000, max_workers=1)  # no pool: the same numbers
    assert stable(in_process) == stable(first)


def test_workers_do_not_rerun_the_main_script(tmp_path, monkeypatch):
    """Inside Streamlit, __main__ is the page script; a worker that re-ran it would retrain the whole page."""
    marker = tmp_path / "main_was_run"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    results = sweep(FAST, [0, 1], 50, max_workers=2)
    assert [r["seed"] for r in results] == [0, 1]
    assert not marker.exists()
    assert sys.modules["__main__"] is page  # put back


@pytest.mark.parametrize(
    "kwargs",
    [
        {"budget": MAX_BUDGET + 1},
        {"budget": 0},
        {"seeds": []},
        {"max_workers": 0},
        {"config": {"n_hidden": -1}},
        {"config": {"no_such_field": 1}},
    ],
)
def test_sweep_rejects_bad_arguments_before_starting_any_process(kwargs):
    args = {"config": FAST.to_dict(), "seeds": [0], "budget": 100, "max_workers": 2, **kwargs}
    if "config" in kwargs:
        args["config"] = {**FAST.to_dict(), **kwargs["config"]}
    with pytest.raises(ValueError):
        sweep(args["config"], args["seeds"], args["budget"], max_workers=args["max_workers"])


# A configuration whose seeds train for minutes (a tiny learning rate never solves it): only stopping ends them.
ENDLESS = TrainConfig(n_hidden=64, batch_size=256, eta=1e-6, seed=0)


def running(pid: int) -> bool:
    """Whether process `pid` exists and has not exited (a zombie waiting to be reaped has exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_until_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while any(running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if running(p)]


class PageGone(Exception):
    """Stands for the exception a Streamlit call raises in a run that was stopped (tab closed, page rerun)."""


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker states from Linux /proc")


@needs_proc
@pytest.mark.parametrize("how", ["should_stop", "raises"])
def test_a_stopped_sweep_terminates_its_running_workers(how):
    """Stopped while every worker is busy with a seed (and seeds are queued): the call ends at once and every worker
    process is gone, not left to finish its seed."""
    workers: list[int] = []
    started = time.monotonic()

    def should_stop() -> bool:
        if not workers:
            workers.extend(p.pid for p in multiprocessing.active_children())
        if time.monotonic() - started < 1.0:
            return False
        if how == "raises":
            raise PageGone
        return True

    with pytest.raises(SweepCancelled if how == "should_stop" else PageGone):
        sweep(ENDLESS, range(6), MAX_BUDGET, max_workers=2, should_stop=should_stop)
    assert time.monotonic() - started < 5.0
    assert len(workers) == 2
    assert wait_until_gone(workers, 2.0) == []


def test_a_stopped_sweep_in_this_process_ends_between_steps():
    """In this process the trainer asks after every step; the caller's should_stop (which redraws a progress bar on
    the page) is asked at most every POLL_SECONDS."""
    asked = []
    started = time.monotonic()
    with pytest.raises(SweepCancelled, match="seed 0 stopped at step"):
        sweep(ENDLESS, [0, 1], MAX_BUDGET, max_workers=1, should_stop=lambda: asked.append(1) or len(asked) >= 3)
    took = time.monotonic() - started
    assert len(asked) == 3 and took >= 2 * POLL_SECONDS


CHILD = """
import multiprocessing, sys, time
from rnn_core.sweep import MAX_BUDGET, sweep
from rnn_core.train import TrainConfig

def report_workers():
    if not getattr(report_workers, "done", False):
        print(*[p.pid for p in multiprocessing.active_children()], flush=True)
        report_workers.done = True
    return False

sweep(TrainConfig(n_hidden=64, batch_size=256, eta=1e-6), range(4), MAX_BUDGET, max_workers=2,
      should_stop=report_workers)
"""


@needs_proc
def test_workers_end_when_the_server_is_killed(tmp_path):
    """A server killed outright (SIGKILL) runs no clean-up; its workers must still not outlive it."""
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in child.stdout.readline().split()]
        assert len(workers) == 2 and all(running(p) for p in workers)
    finally:
        child.kill()
        child.wait()
    assert wait_until_gone(workers, 5.0) == []
