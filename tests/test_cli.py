"""The headless CLI, run as ``python -m rnn_core`` in a subprocess from the repository root."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_presets import TRASK_LOG  # the published log (tests/ is on sys.path, as for every test module)

from rnn_core import cli
from rnn_core.train import TrainConfig, Trainer, TrainingDiverged

REPO = Path(__file__).resolve().parents[1]
POST_EXAMPLE = re.compile(r"^(Success|Failure) : (\d+) \+ (\d+) = (\d+)$")


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_default_train_prints_the_posts_log():
    proc = run("train", "--steps", "301", "--interval", "100")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    counts = [int(m.group(1)) for line in lines if (m := re.fullmatch(r"learn count: (\d+)", line))]
    assert counts == [0, 100, 200, 300]
    errors = [float(line.split(": ")[1]) for line in lines if line.startswith("error rate: ")]
    assert len(errors) == 4 and all(0.0 <= e <= 4.0 for e in errors)  # 0.5 * sum of 8 squared errors < 4
    examples = [POST_EXAMPLE.match(line) for line in lines if line.startswith(("Success", "Failure"))]
    assert len(examples) == 4
    for m in examples:  # the verdict agrees with the arithmetic
        a, b, shown = int(m.group(2)), int(m.group(3)), int(m.group(4))
        assert (m.group(1) == "Success") == (shown == a + b)
        assert a < 128 and b < 128
    assert lines.count("========================") == 4
    assert proc.stderr == ""


def test_json_last_line_has_the_results_and_the_config():
    proc = run("train", "--steps", "250", "--hidden", "8", "--eta", "0.2", "--seed", "3", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1  # --quiet: only the JSON line
    result = last_json(proc.stdout)
    assert result["steps"] == 250
    assert result["train_seconds"] > 0
    assert 0.0 <= result["exhaustive_accuracy"] <= 1.0
    assert "solved_at_step" in result
    assert result["config"]["n_hidden"] == 8 and result["config"]["eta"] == 0.2 and result["config"]["seed"] == 3
    assert result["config"]["optimizer"] == "sgd"  # not given: the post's value


def test_quiet_prints_nothing(capsys):
    assert cli.main(["train", "--steps", "20", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_until_solved_with_fast_preset_stops_when_every_pair_is_right():
    proc = run("train", "--preset", "fast", "--until-solved", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    assert result["solved_at_step"] is not None
    assert result["steps"] == result["solved_at_step"] < 3000
    assert result["exhaustive_accuracy"] == 1.0
    assert result["preset"] == "fast" and result["config"]["optimizer"] == "adam"


def test_explicit_flags_override_the_preset(capsys):
    assert cli.main(["train", "--preset", "fast", "--hidden", "12", "--steps", "3", "--json", "--quiet"]) == 0
    config = last_json(capsys.readouterr().out)["config"]
    assert config["n_hidden"] == 12
    assert (config["optimizer"], config["eta"], config["batch_size"]) == ("adam", 0.05, 32)


def test_save_then_eval(tmp_path):
    ckpt = tmp_path / "fast.npz"
    proc = run("train", "--preset", "fast", "--until-solved", "--save", str(ckpt), "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert ckpt.exists() and last_json(proc.stdout)["checkpoint"] == str(ckpt)
    solved_at = last_json(proc.stdout)["solved_at_step"]

    proc = run("eval", str(ckpt), "--bits", "8", "16", "--json")
    assert proc.returncode == 0, proc.stderr
    report = last_json(proc.stdout)
    assert report["widths"] == [8, 16]
    assert report["step"] == solved_at and report["op"] == "add" and report["trained_bits"] == 8
    assert report["random"][0] == 1.0 and report["chain"][0] == 1.0  # solved: every 8-bit pair is right
    assert all(0.0 <= v <= 1.0 for v in report["random"] + report["chain"])

    proc = run("eval", str(ckpt))
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if re.match(r"\s*\d+\s", line)]
    assert [int(r[0]) for r in rows] == [8, 16, 32, 64]
    assert rows[0][1:] == ["100.00%", "100.00%"]


def test_trask_preset_prints_the_tutorials_log():
    proc = run("train", "--preset", "trask", "--steps", "10000", "--interval", "1000")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    errors = [line[len("Error:") :] for line in lines if line.startswith("Error:")]
    sums = [line for line in lines if re.fullmatch(r"\d+ \+ \d+ = \d+", line)]
    assert errors == [printed for _, printed, _, _, _ in TRASK_LOG]
    assert sums == [f"{a} + {b} = {pred}" for _, _, a, b, pred in TRASK_LOG]
    assert lines[1:3] == ["Pred:[0 0 0 0 0 0 0 1]", "True:[0 1 0 0 0 1 0 1]"]  # 9 + 60 = 69, MSB first
    assert lines.count("------------") == 10


BAD_INVOCATIONS = {
    "unknown_flag": ["train", "--bogus"],
    "bits_0": ["train", "--bits", "0"],
    "bits_65": ["train", "--bits", "65"],
    "hidden_negative": ["train", "--hidden", "-1"],
    "eta_nan": ["train", "--eta", "nan"],
    "eta_text": ["train", "--eta", "fast"],
    "unknown_operator": ["train", "--op", "mul"],
    "unknown_preset": ["train", "--preset", "nope"],
    "negative_steps": ["train", "--steps", "-3"],
    "zero_interval": ["train", "--interval", "0"],
    "save_to_missing_folder": ["train", "--save", "/nonexistent-folder/x.npz"],
    "no_command": [],
    "unknown_command": ["fly"],
    "eval_missing_checkpoint": ["eval", "/nonexistent-folder/x.npz"],
    "eval_no_checkpoint": ["eval"],
    "eval_bits_0": ["eval", "x.npz", "--bits", "0"],
    "eval_corrupt_checkpoint": ["eval", "CORRUPT"],
    "eval_not_a_checkpoint": ["eval", "pyproject.toml"],
}


def _with_corrupt_file(args: list[str], tmp_path: Path) -> list[str]:
    args = list(args)
    if "CORRUPT" in args:
        corrupt = tmp_path / "corrupt.npz"
        corrupt.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
        args[args.index("CORRUPT")] = str(corrupt)
    return args


@pytest.mark.parametrize("case", sorted(BAD_INVOCATIONS))
def test_bad_invocation_exits_2_with_one_line(case, tmp_path, capsys, monkeypatch):
    """In process (quick): status 2, one line on stderr naming the program, nothing on stdout."""
    monkeypatch.chdir(REPO)
    args = _with_corrupt_file(BAD_INVOCATIONS[case], tmp_path)
    try:
        status = cli.main(args)
    except SystemExit as e:
        status = e.code
    captured = capsys.readouterr()
    assert status == 2
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("python -m rnn_core")
    assert captured.out == ""


@pytest.mark.parametrize("case", ["unknown_flag", "eta_nan", "unknown_preset", "eval_corrupt_checkpoint"])
def test_bad_invocation_in_a_real_process_has_no_traceback(case, tmp_path):
    proc = run(*_with_corrupt_file(BAD_INVOCATIONS[case], tmp_path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stdout == ""


def test_bad_flag_error_names_the_flag_and_the_range(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--bits", "0"])
    err = capsys.readouterr().err
    assert "--bits" in err and "from 1 to 64" in err


def test_diverging_training_prints_its_message_and_exits_1(monkeypatch, capsys):
    def diverge(self, n_steps, *, until_solved=False, should_stop=None):
        raise TrainingDiverged("training diverged at step 7 (learning rate 50): lower it", 7)

    monkeypatch.setattr(Trainer, "train", diverge)
    assert cli.main(["train", "--steps", "10", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "python -m rnn_core: training diverged at step 7 (learning rate 50): lower it"
    assert "Traceback" not in captured.err and captured.out == ""


def test_run_training_logs_the_posts_schedule():
    """In process: log after step indices 0, interval, 2 * interval, ... and train exactly the asked steps."""
    trainer = Trainer(TrainConfig(n_bits=4, n_hidden=4))
    out = io.StringIO()
    run = cli.run_training(trainer, 25, 10, out=out)
    assert trainer.step == 25 and not run.stopped and run.seconds > 0
    assert re.findall(r"learn count: (\d+)", out.getvalue()) == ["0", "10", "20"]


def test_train_finds_the_dashboards_solved_step_without_evaluating_every_pair_each_time():
    """Issue 13.19: the CLI no longer evaluates every pair every 200 steps, yet "solved at" is the dashboard's
    (the seed post, seed 0: every pair right at the evaluation at step 600, test_dashboard checks the headline)."""
    proc = run("train", "--steps", "3000", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    assert result["solved_at_step"] == 600
    assert result["evaluations"] < 3000 // 200  # before: one full evaluation per 200 steps
    assert result["exhaustive_accuracy"] == 1.0


def test_eval_every_sets_the_full_evaluation_interval(tmp_path):
    path = tmp_path / "run.npz"
    proc = run("train", "--steps", "1000", "--eval-every", "250", "--quiet", "--json", "--save", str(path))
    assert proc.returncode == 0, proc.stderr
    assert last_json(proc.stdout)["evaluations"] == 4
    from rnn_core.checkpoint import load_checkpoint

    steps = load_checkpoint(path).to_trainer().evals.array("step").tolist()
    assert steps == [0, 250, 500, 600, 750, 1000]  # 600: the scheduled check that found every pair right
    assert run("train", "--eval-every", "0").returncode == 2


class FakeClock:
    """A clock in which a training step takes 1 ms and a full evaluation 200 ms (the ratio is what matters)."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def test_by_default_full_evaluations_stay_within_a_tenth_of_the_training_time(monkeypatch):
    """Full evaluations are made at log steps only, and only while their time stays within EVAL_SHARE of the
    training time: measured on a fake clock, so the schedule is checked, not this machine's speed."""
    clock = FakeClock()
    monkeypatch.setattr(cli, "time", clock)
    trainer = Trainer(TrainConfig(n_bits=4, n_hidden=4))  # its step-0 evaluation is not the CLI's
    train, evaluate_and_log = Trainer.train, Trainer.evaluate_and_log
    evaluated_at = []

    def timed_train(self, n_steps, **kwargs):
        report = train(self, n_steps, **kwargs)
        clock.now += 1e-3 * report.steps_done
        return report

    def timed_evaluation(self):
        evaluated_at.append(self.step)
        clock.now += 0.2
        return evaluate_and_log(self)

    monkeypatch.setattr(Trainer, "train", timed_train)
    monkeypatch.setattr(Trainer, "evaluate_and_log", timed_evaluation)
    result = cli.run_training(trainer, 20_000, 500, eval_estimate=0.2)
    assert result.seconds == pytest.approx(20.0) and result.evaluations == len(evaluated_at)
    assert result.eval_seconds == pytest.approx(0.2 * len(evaluated_at))
    assert result.eval_seconds <= cli.EVAL_SHARE * result.seconds
    assert evaluated_at == list(range(2001, 20_000, 2000))  # as many as fit, at log steps (after step index 2000...)
