"""``python -m rnn_core sweep`` end to end, and the Dask engine: local cluster, a real scheduler and workers started
as a user would, a worker killed mid-sweep, an unreachable scheduler, cancelling, no process left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from process_support import children, cpu_seconds

from rnn_core.results import read_results

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
VOLATILE = ("seconds",)  # the only column that differs between two runs of the same sweep


def sweep(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", "sweep", *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stable_rows(path) -> dict[tuple, dict]:
    """Rows by (grid values..., seed), without the wall time."""
    spec, rows = read_results(path)
    out = {spec.key(r): {k: v for k, v in r.items() if k not in VOLATILE} for r in rows}
    assert len(out) == len(rows), "a run was recorded twice"
    return out


def journal_rows(path: Path) -> int:
    journal = path.with_name(path.name + ".journal")
    return max(0, journal.read_bytes().count(b"\n") - 1) if journal.exists() else 0


@pytest.mark.slow
def test_sweep_writes_one_row_per_run_and_a_row_reproduces_with_train(tmp_path):
    out = tmp_path / "s.parquet"
    done = sweep("--grid", "n_hidden=8,16", "--seeds", "3", "--budget", "3000", "--out", str(out), "--workers", "2",
                 "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    rows = stable_rows(out)
    assert sorted(rows) == [(h, s) for h in (8, 16) for s in range(3)]
    assert summary["runs"] == 6 and [p["n_hidden"] for p in summary["summary"]] == [8, 16]
    by_point = {h: [rows[(h, s)]["solved_at_step"] for s in range(3)] for h in (8, 16)}
    for point in summary["summary"]:  # share solved, counted from the rows by hand
        solved = by_point[point["n_hidden"]]
        assert point["solved"] == sum(s is not None for s in solved)
    row = next(r for r in rows.values() if r["solved_at_step"] is not None)
    train = subprocess.run(
        [sys.executable, "-m", "rnn_core", "train", "--hidden", str(row["n_hidden"]), "--seed", str(row["seed"]),
         "--steps", "3000", "--until-solved", "--quiet", "--json"],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr
    assert json.loads(train.stdout.strip().splitlines()[-1])["solved_at_step"] == row["solved_at_step"]
    assert "share" in sweep("--grid", "n_hidden=8,16", "--seeds", "3", "--budget", "3000", "--out", str(out)).stdout


@pytest.mark.slow
def test_a_killed_sweep_keeps_its_finished_runs_and_the_rerun_adds_exactly_the_missing_ones(tmp_path):
    out = tmp_path / "s.parquet"
    args = ["--grid", "n_hidden=2,3,4", "--seeds", "6", "--budget", "4000", "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnn_core", "sweep", *args],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while journal_rows(out) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole sweep, workers included, as a dead machine would
    proc.wait(timeout=10)
    journal = out.with_name(out.name + ".journal")
    before = [json.loads(line) for line in journal.read_bytes().split(b"\n")[1:] if line.strip()]
    assert 3 <= len(before) < 18, "the sweep was not killed mid-way"
    done = sweep(*args)
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} were there already, {18 - len(before)} ran now" in done.stdout
    _, rows = read_results(out)
    keys = [(r["n_hidden"], r["seed"]) for r in rows]
    assert sorted(keys) == [(h, s) for h in (2, 3, 4) for s in range(6)]  # every run once, none twice
    seconds = {(r["n_hidden"], r["seed"]): r["seconds"] for r in rows}
    assert all(seconds[(r["n_hidden"], r["seed"])] == r["seconds"] for r in before)  # kept, not run again
    assert not journal.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "n_hidden=4,x"], "grid n_hidden: expected a whole number, got 'x'"),
        (["--grid", "colour=red"], "unknown field 'colour'"),
        (["--grid", "eta=0"], "eta must be from"),
        (["--seed", "3"], "--seeds"),
        (["--budget", "0"], "argument --budget: must be at least 1"),
    ],
)
def test_bad_sweep_arguments_exit_2_with_one_line_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "s.parquet"
    done = sweep(*args, "--out", str(out))
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_results_file_of_other_settings_is_refused_and_kept(tmp_path):
    out = tmp_path / "s.parquet"
    assert sweep("--seeds", "2", "--budget", "50", "--out", str(out), "--workers", "1").returncode == 0
    before = out.read_bytes()
    done = sweep("--seeds", "2", "--budget", "50", "--eta", "0.3", "--out", str(out))
    assert done.returncode == 2 and "eta 0.1 there, 0.3 here" in done.stderr
    assert out.read_bytes() == before


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_clear_error_within_seconds(tmp_path):
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    done = sweep("--seeds", "2", "--out", str(tmp_path / "s.parquet"), "--scheduler", f"tcp://127.0.0.1:{port}")
    assert done.returncode == 2 and "cannot reach the Dask scheduler" in done.stderr
    assert time.monotonic() - t0 < 15
    assert not any(tmp_path.iterdir())


# -- a cluster started as a user would ---------------------------------------------------------------------------------
class UserCluster:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1 (free ports, no dashboards), stopped by PID."""

    def __init__(self, tmp_path: Path, n_workers: int):
        self.file = tmp_path / "scheduler.json"
        self.procs = []
        self.procs.append(self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(self.file)))  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.address = json.loads(self.file.read_text())["address"]
        self.workers = [
            self._start("worker", self.address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1")
            for _ in range(n_workers)
        ]
        self.procs += self.workers
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(n_workers, timeout=60)

    def _start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]], cwd="/",
                                env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_a_user_started_cluster_gives_the_local_engines_rows_even_when_a_worker_is_killed(tmp_path):
    args = ["--grid", "n_hidden=4,8", "--grid", "eta=0.1,0.5", "--seeds", "4", "--budget", "4000"]
    local = tmp_path / "local.parquet"
    assert sweep(*args, "--out", str(local), "--workers", "2").returncode == 0
    cluster = UserCluster(tmp_path, 2)
    try:
        remote = tmp_path / "remote.parquet"
        proc = subprocess.Popen(
            [sys.executable, "-m", "rnn_core", "sweep", *args, "--out", str(remote), "--scheduler", cluster.address],
            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while journal_rows(remote) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        victim = psutil.Process(cluster.workers[0].pid)
        for p in [*victim.children(recursive=True), victim]:  # the worker (and its nanny's child) dies mid-sweep
            p.kill()
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        assert stable_rows(remote) == stable_rows(local)
        assert len(stable_rows(remote)) == 16
    finally:
        cluster.stop()


@pytest.mark.slow
def test_cancel_stops_running_jobs_and_close_leaves_no_worker_process():
    from rnn_core.engine import Engine, make_jobs
    from rnn_core.train import TrainConfig

    never = TrainConfig(eta=1e-6).to_dict()  # never solves: each run trains its whole budget
    before = {p.pid for p in children(os.getpid())}  # e.g. the page's shared engine, started by an earlier test
    engine = Engine(n_workers=2)
    try:
        assert len([p for p in children(os.getpid()) if p.pid not in before]) >= 2
        sweep_ = engine.start(make_jobs([((), never, range(16))], 2), 200_000)
        deadline = time.monotonic() + 30
        while not any(engine.client.processing().values()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
        start = cpu_seconds(children(os.getpid()))
        time.sleep(1.5)
        busy = cpu_seconds(children(os.getpid())) - start
        assert busy > 0.2, "the workers were not training"  # the check below can fail
        sweep_.cancel()
        time.sleep(1.5)  # the jobs check every 0.5 s whether to stop
        start = cpu_seconds(children(os.getpid()))
        time.sleep(1.5)
        assert cpu_seconds(children(os.getpid())) - start < 0.25 * busy, "a running job went on after cancel"
    finally:
        engine.close()
    deadline = time.monotonic() + 10
    while [p for p in children(os.getpid()) if p.pid not in before] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p for p in children(os.getpid()) if p.pid not in before] == []
