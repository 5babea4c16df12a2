"""Hostile input on every surface, in one table: what a reviewer reads to see that bad input is handled.

Four surfaces take input from people who may be careless or malicious:
- ``ui``: the page's widgets, driven through Streamlit's AppTest (a number typed into a probe box, a value a
  crafted websocket message puts into a number input that the browser itself would have refused);
- ``url``: the query parameters of a shared link (the first run of a page);
- ``checkpoint``: an uploaded ``.npz``, through ``Session.load_checkpoint_bytes`` (what the uploader calls) and
  through ``python -m rnn_core eval FILE``;
- ``cli``: ``python -m rnn_core`` in a real process.

Every row asserts three things: the message shown matches the row's pattern (and is one line, escaped where it
is rendered as markdown); there is no exception box and no traceback; and the model and its history are as
they were (step count, parameters, step log, evaluation log; for a link: exactly the model the safe values
give; for the CLI: a checkpoint named by ``--save`` keeps its bytes).

The cases here cross the surfaces; the long per-surface tables stay where they are (tests/test_settings.py for
URL parsing, tests/test_checkpoint.py for malformed files, tests/test_cli.py for bad invocations). The
checkpoint table of tests/test_checkpoint.py is imported and run once more through the session's loader.

Rows marked xfail(strict=True) are known bugs in code this file does not own: the row states the behaviour we
want, and it starts failing (XPASS) the moment the bug is fixed, so the mark gets removed.

The second half checks divergence end to end: a far too large learning rate (finite values, saturated units:
the page warns with the cause and the fix) and a real non-finite step (rolled back, the page says so).
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from test_checkpoint import (  # the malformed-file builders and table (tests/ is on sys.path)
    BAD_FILES,
    _npy_with_lying_header,
    _object_array,
    _replace_member,
    arrays_of,
    with_changes,
    with_config,
)

from carrylab.session import STATE_KEY, Session
from carrylab.settings import DEFAULTS, config_from_settings
from rnn_core import cli
from rnn_core.checkpoint import checkpoint_bytes, load_checkpoint
from rnn_core.train import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard.py"
PROG = "python -m rnn_core"
UNESCAPED_MARKUP = re.compile(r"(?<!\\)<|(?<!\\)\]\(")  # an HTML tag or a markdown link that was not escaped
# A far too large but finite poison: the first gradient overflows to inf (checked in the divergence tests).
HUGE = 1.5e308


# -- the model and its history, before and after ------------------------------------------------------------------
def model_state(session: Session) -> dict:
    """Everything a hostile input must leave alone: the trainer object, step, parameters and both logs."""
    trainer = session.trainer
    steps, error = trainer.steps_log.arrays()
    return {
        "trainer": id(trainer),
        "model_version": session.model_version,
        "step": trainer.step,
        "theta": trainer.model.theta.copy(),
        "steps": steps.copy(),
        "error": error.copy(),
        "evals": {name: np.array(trainer.evals.array(name), copy=True) for name in trainer.evals.columns},
        "solved_at_step": trainer.solved_at_step,
    }


def assert_unchanged(before: dict, after: dict) -> None:
    assert after["trainer"] == before["trainer"] and after["model_version"] == before["model_version"]
    assert after["step"] == before["step"]
    np.testing.assert_array_equal(after["theta"], before["theta"])
    np.testing.assert_array_equal(after["steps"], before["steps"])
    np.testing.assert_array_equal(after["error"], before["error"])
    assert after["evals"].keys() == before["evals"].keys()
    for name, column in before["evals"].items():
        np.testing.assert_array_equal(after["evals"][name], column, err_msg=name)
    assert after["solved_at_step"] == before["solved_at_step"]


# -- the page (AppTest) ------------------------------------------------------------------------------------------
def new_app(params: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at


def run(target):
    at = target.run()
    assert not at.exception, at.exception
    return at


def shown(at, kinds=("error", "warning", "info", "success")) -> list[tuple[str, str]]:
    """(kind, raw markdown) of every message box on the page."""
    return [(kind, el.value) for kind in kinds for el in getattr(at, kind)]


def plain(text: str) -> str:
    """Page text without the markdown escapes the views add."""
    return text.replace("\\", "")


def page_text(at) -> str:
    parts = [el.value for kind in ("markdown", "caption", "error", "warning", "info", "success") for el in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def assert_clean_page(at) -> None:
    """No exception box and no traceback anywhere on the page."""
    assert not at.exception, at.exception
    assert len(at.get("exception")) == 0
    assert "Traceback" not in page_text(at)


def assert_message(at, pattern: str, kinds=("error", "warning", "info", "success")) -> str:
    """One message box matches the pattern (on its unescaped text); its raw markdown carries no live markup."""
    boxes = shown(at, kinds)
    hits = [raw for _, raw in boxes if re.search(pattern, plain(raw))]
    assert hits, f"no message matching {pattern!r}; shown: {[plain(raw) for _, raw in boxes]}"
    for raw in hits:
        assert not UNESCAPED_MARKUP.search(raw), raw
        assert "\n" not in raw.strip(), raw
    return plain(hits[0])


# -- the four surfaces ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hostile:
    """One hostile input. surface: "ui" | "url" | "checkpoint" | "cli"; message: regex the message must match.

    payload, per surface:
    - ui: (widget kind, key, value); kind "text" types into a text input, "number" sets a number input,
      "state" puts the value where a crafted websocket message would (the widget's session state);
    - url: the query parameters; ``expect`` then holds the settings the page must use instead;
    - checkpoint: build(good_bytes, good_arrays, tmp_path) -> the uploaded bytes;
    - cli: the arguments; "{dir}", "{missing}", "{empty}", "{text}", "{zip}", "{good}" and "{saved}" are
      replaced by files made for the test ("{saved}" is an existing checkpoint that must keep its bytes).
    """

    surface: str
    name: str
    payload: object
    message: str
    expect: dict = field(default_factory=dict)
    bug: str | None = None  # a known bug in code this file does not own: the row is xfail(strict=True)


def _object_array_checkpoint(g: bytes, a: dict, tmp_path: Path) -> bytes:
    """A checkpoint whose W_rec is a pickled object array that creates tmp_path/"pwned" when unpickled."""
    buf = io.BytesIO()
    np.savez(buf, **{**a, "W_rec": _object_array(tmp_path / "pwned")})
    return buf.getvalue()


def _real_zip_bomb(g: bytes, a: dict, tmp_path: Path) -> bytes:
    """1.4 MB that inflates to 300 MB of zeros (streamed, so building it needs no 300 MB)."""
    buf = io.BytesIO()
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf, zf.open("W_rec.npy", "w") as fh:
        for _ in range(300):
            fh.write(zeros)
    return buf.getvalue()


def _not_npz_zip(g: bytes, a: dict, tmp_path: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "a zip, but not a checkpoint")
    return buf.getvalue()


CASES: list[Hostile] = [
    # -- ui: the probe's operand boxes (8-bit add: operands 0..127) ----------------------------------------------
    Hostile("ui", "operand_out_of_range", ("text", "operand_a", "128"), r"Operand a = 128 is out of range.*0\.\.127"),
    Hostile("ui", "operand_negative", ("text", "operand_a", "-5"), r"Operand a = -5 is negative"),
    Hostile("ui", "operand_empty", ("text", "operand_a", ""), r"Operand a is empty"),
    Hostile("ui", "operand_blank", ("text", "operand_b", "   "), r"Operand b is empty"),
    Hostile("ui", "operand_2_pow_70", ("text", "operand_b", str(2**70)), rf"Operand b = {2**70} is out of range"),
    Hostile("ui", "operand_decimal", ("text", "operand_a", "1.5"), r"Operand a = '1\.5' is not a whole number"),
    Hostile("ui", "operand_exponent", ("text", "operand_a", "1e3"), r"Operand a = '1e3' is not a whole number"),
    Hostile("ui", "operand_hex", ("text", "operand_a", "0x10"), r"Operand a = '0x10' is not a whole number"),
    Hostile("ui", "operand_arabic_indic_digit", ("text", "operand_a", "٣"), r"Operand a = '٣' is not a whole number"),
    Hostile(
        "ui", "operand_fullwidth_digits", ("text", "operand_b", "１２"), r"Operand b = '１２' is not a whole number"
    ),
    Hostile("ui", "operand_nul_byte", ("text", "operand_a", "12\x00"), r"Operand a = '12\?' is not a whole number"),
    Hostile(
        "ui",
        "operand_script_tag",
        ("text", "operand_a", "<script>alert(1)</script>"),
        r"Operand a = '<script>alert\(1\)</scrip.*' is not a whole number",
    ),
    Hostile(
        "ui",
        "operand_markdown_link",
        ("text", "operand_b", "[x](javascript:alert(1))"),
        r"Operand b = '\[x\]\(javascript:alert\(1\)\)' is not a whole number",
    ),
    # 10 kB through a crafted message: the widget keeps its first 30 characters (max_chars), a number out of range
    Hostile("ui", "operand_10kB", ("state", "operand_a", "9" * 10_240), r"Operand a = 9{30} is out of range"),
    # -- ui: number inputs set beyond their bounds (only a crafted message can: the browser refuses them) --------
    Hostile(
        "ui",
        "eta_below_minimum",
        ("number", "eta", 1e-9),
        r"Learning rate: enter a number from 1e-06 to 10000; kept 0\.1",
    ),
    Hostile(
        "ui",
        "eta_nan",
        ("number", "eta", float("nan")),
        r"Learning rate: enter a number from 1e-06 to 10000; kept 0\.1",
    ),
    Hostile(
        "ui",
        "hidden_10000",
        ("number", "n_hidden", 10_000),
        r"Hidden units: enter a whole number from 1 to 256; kept 32",
    ),
    Hostile("ui", "bits_99", ("number", "n_bits", 99), r"Bit width: enter a whole number from 1 to 64; kept 8"),
    Hostile("ui", "batch_0", ("number", "batch_size", 0), r"Batch size: enter a whole number from 1 to 4,096; kept 1"),
    # -- url: a shared link ----------------------------------------------------------------------------------------
    Hostile("url", "unknown_key", {"bogus": "1"}, r"Ignored unknown URL parameter 'bogus'"),
    Hostile(
        "url", "eta_text", {"eta": "fast"}, r"'eta' = 'fast' is not a number; using the default 0\.1", {"eta": 0.1}
    ),
    Hostile("url", "eta_nan", {"eta": "nan"}, r"'eta' = 'nan' is not a finite number", {"eta": 0.1}),
    Hostile("url", "eta_inf", {"eta": "-inf"}, r"'eta' = '-inf' is not a finite number", {"eta": 0.1}),
    Hostile("url", "seed_overflow", {"seed": "1e400"}, r"'seed' = '1e400' is not a finite number", {"seed": 0}),
    Hostile(
        "url", "hidden_0", {"n_hidden": "0"}, r"'n_hidden' = '0' is outside 1\.\.256; clamped to 1", {"n_hidden": 1}
    ),
    Hostile(
        "url", "bits_negative", {"n_bits": "-3"}, r"'n_bits' = '-3' is outside 1\.\.64; clamped to 1", {"n_bits": 1}
    ),
    Hostile("url", "value_10kB", {"eta": "1" * 10_240}, r"'eta' is longer than 100 characters", {"eta": 0.1}),
    Hostile("url", "key_10kB", {"k" * 10_240: "1"}, r"Ignored unknown URL parameter 'k{24}\.\.\.'"),
    Hostile("url", "repeated_key", {"seed": ["1", "2"]}, r"'seed' is given 2 times; using the last one", {"seed": 2}),
    Hostile("url", "nul_byte", {"n_hidden": "12\x00"}, r"'n_hidden' = '12\?' is not a number", {"n_hidden": 32}),
    Hostile(
        "url",
        "script_in_value",
        {"operator": "<script>alert(1)</script>"},
        r"'operator' = '<script>alert\(1\)</script\.\.\.' is not one of",
        {"operator": "add"},
    ),
    Hostile(
        "url",
        "html_in_key_and_value",
        {"<img src=x onerror=alert(1)>": "[x](javascript:alert(1))"},
        r"Ignored unknown URL parameter '<img src=x onerror=alert",
    ),
    Hostile("url", "operand_negative", {"operand_a": "-5"}, r"'operand_a' = '-5' is not a whole number >= 0"),
    Hostile(
        "url",
        "too_large_together",  # each value in range, together minutes per step and gigabytes: size falls back
        {"n_bits": "64", "n_hidden": "256", "batch_size": "4096"},
        r"Hidden units 256 is too large for 64-bit numbers.*Using hidden units 32 and batch size 1 instead",
        {"n_bits": 64, "n_hidden": 32, "batch_size": 1},
    ),
    Hostile(
        "url",
        "batch_too_large_for_the_size",  # only the batch is too large: it alone falls back
        {"n_bits": "64", "n_hidden": "64", "batch_size": "4096"},
        r"Batch size 4096 is too large for 64 bits x 64 units.*Using batch size 1 instead",
        {"n_bits": 64, "n_hidden": 64, "batch_size": 1},
    ),
    Hostile("url", "thousand_unknown_keys", {f"k{i}": "1" for i in range(1000)}, r"Ignored 997 more unknown"),
    # -- checkpoint uploads -----------------------------------------------------------------------------------------
    Hostile("checkpoint", "not_a_zip", lambda g, a, p: b"GIF89a" + bytes(2000), r"not a \.npz \(zip\) archive"),
    Hostile("checkpoint", "empty_file", lambda g, a, p: b"", r"empty \(0 bytes\)"),
    Hostile("checkpoint", "truncated", lambda g, a, p: g[: len(g) // 2], r"not a \.npz \(zip\) archive"),
    Hostile("checkpoint", "zip_of_text", _not_npz_zip, r"'readme\.txt', which is not a \.npy"),
    Hostile("checkpoint", "zip_bomb_300MB", _real_zip_bomb, r"declares 314572800 bytes.*zip bomb"),
    Hostile("checkpoint", "pickled_object_array", _object_array_checkpoint, r"W_rec holds Python objects"),
    Hostile(
        "checkpoint",
        "unknown_key",
        lambda g, a, p: with_changes(a, extra=np.zeros(3)),
        r"unknown entry: extra(\.|$)",
    ),
    Hostile(
        "checkpoint",
        "missing_key",
        lambda g, a, p: with_changes(a, W_out=None),
        r"missing entry: W_out(\.|$)",
    ),
    Hostile(
        "checkpoint",
        "wrong_shape",
        lambda g, a, p: with_changes(a, W_rec=np.zeros((5, 5))),
        r"W_rec has shape \(5, 5\), expected \(32, 32\)",
    ),
    Hostile(
        "checkpoint",
        "complex_dtype",
        lambda g, a, p: with_changes(a, W_rec=a["W_rec"].astype(np.complex128)),
        r"W_rec must hold floating-point numbers",
    ),
    Hostile(
        "checkpoint",
        "integer_dtype",
        lambda g, a, p: with_changes(a, b_rec=np.zeros(32, dtype=np.int64)),
        r"b_rec must hold floating-point numbers",
    ),
    Hostile(
        "checkpoint",
        "nan_weight",
        lambda g, a, p: with_changes(a, W_out=np.full_like(a["W_out"], np.nan)),
        r"W_out contains NaN or infinite values",
    ),
    Hostile(
        "checkpoint",
        "inf_weight",
        lambda g, a, p: with_changes(a, b_out=np.array([np.inf])),
        r"b_out contains NaN or infinite values",
    ),
    Hostile(
        "checkpoint",
        "shape_needing_80GB",
        lambda g, a, p: _replace_member(g, "W_rec.npy", _npy_with_lying_header((100_000, 100_000))),
        r"declares shape \(100000, 100000\) of float64 \(80000000000 bytes\) but holds 8 bytes",
    ),
    Hostile("checkpoint", "unknown_operator", lambda g, a, p: with_config(a, op="mul"), r"op must be one of .*'mul'"),
    Hostile(
        "checkpoint", "width_99", lambda g, a, p: with_config(a, n_bits=99), r"n_bits must be from 1 to 64, got 99"
    ),
    Hostile(
        "checkpoint",
        "hidden_100000",
        lambda g, a, p: with_config(a, n_hidden=100_000),
        r"n_hidden must be from 1 to 256",
    ),
    Hostile("checkpoint", "eta_nan_in_config", lambda g, a, p: with_config(a, eta=float("nan")), r"eta must be from"),
    # -- cli ----------------------------------------------------------------------------------------------------------
    Hostile("cli", "eval_directory", ["eval", "{dir}"], r"cannot read checkpoint file .*Is a directory"),
    Hostile("cli", "eval_missing_file", ["eval", "{missing}"], r"cannot read checkpoint file .*No such file"),
    Hostile("cli", "eval_empty_file", ["eval", "{empty}"], r"empty \(0 bytes\)"),
    Hostile("cli", "eval_text_file", ["eval", "{text}"], r"not a \.npz \(zip\) archive"),
    Hostile("cli", "eval_zip_not_npz", ["eval", "{zip}"], r"which is not a \.npy"),
    Hostile("cli", "eval_bits_65", ["eval", "{good}", "--bits", "8", "65"], r"--bits must be from 1 to 64, got 65"),
    Hostile("cli", "eval_samples_1e9", ["eval", "{good}", "--samples", "1000000000"], r"--samples: must be at most"),
    Hostile(
        "cli", "train_steps_negative", ["train", "--steps", "-5", "--save", "{saved}"], r"--steps: must be at least 0"
    ),
    Hostile(
        "cli", "train_steps_1e12", ["train", "--steps", str(10**12), "--save", "{saved}"], r"--steps: must be at most"
    ),
    Hostile("cli", "train_eta_nan", ["train", "--eta", "nan", "--save", "{saved}"], r"--eta: eta must be from .*nan"),
    Hostile("cli", "train_eta_inf", ["train", "--eta", "1e999", "--save", "{saved}"], r"--eta: eta must be from .*inf"),
    Hostile(
        "cli", "train_bits_65", ["train", "--bits", "65", "--save", "{saved}"], r"--bits: n_bits must be from 1 to 64"
    ),
    Hostile("cli", "train_bits_decimal", ["train", "--bits", "1.5"], r"--bits: invalid int value: '1\.5'"),
    Hostile(
        "cli", "train_hidden_0", ["train", "--hidden", "0", "--save", "{saved}"], r"n_hidden must be from 1 to 256"
    ),
    Hostile("cli", "train_seed_negative", ["train", "--seed", "-1", "--save", "{saved}"], r"seed must be from 0"),
    Hostile("cli", "train_preset_nope", ["train", "--preset", "nope", "--save", "{saved}"], r"unknown preset 'nope'"),
    Hostile("cli", "train_op_script", ["train", "--op", "<script>", "--save", "{saved}"], r"op must be one of"),
    Hostile("cli", "train_save_to_directory", ["train", "--save", "{dir}"], r"cannot save to .*: it is a folder"),
    Hostile("cli", "unknown_flag", ["train", "--bogus", "1"], r"unrecognized arguments: --bogus 1"),
    Hostile(
        "cli", "train_interval_0", ["train", "--interval", "0", "--save", "{saved}"], r"--interval: must be at least 1"
    ),
    Hostile(
        "cli",
        "train_eval_every_0",
        ["train", "--eval-every", "0", "--save", "{saved}"],
        r"--eval-every: must be at least 1",
    ),
    Hostile(
        "cli", "train_batch_size_0", ["train", "--batch-size", "0", "--save", "{saved}"], r"batch_size must be from 1"
    ),
    Hostile(
        "cli", "train_optimizer_nope", ["train", "--optimizer", "nope", "--save", "{saved}"], r"optimizer must be one"
    ),
    Hostile(
        "cli", "train_loss_nope", ["train", "--loss", "nope", "--save", "{saved}"], r"loss must be one of mse, bce"
    ),
    Hostile("cli", "train_cell_nope", ["train", "--cell", "nope", "--save", "{saved}"], r"cell must be one of"),
    Hostile(
        "cli",
        "sweep_preset_nope",
        ["sweep", "--preset", "nope", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"unknown preset 'nope'",
    ),
    Hostile(
        "cli",
        "sweep_op_nope",
        ["sweep", "--op", "nope", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--op: op must be one of",
    ),
    Hostile(
        "cli",
        "sweep_cell_nope",
        ["sweep", "--cell", "nope", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--cell: cell must be one of",
    ),
    Hostile(
        "cli",
        "sweep_bits_65",
        ["sweep", "--bits", "65", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--bits: n_bits must be from 1 to 64",
    ),
    Hostile(
        "cli",
        "sweep_hidden_0",
        ["sweep", "--hidden", "0", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--hidden: n_hidden must be from 1 to 256",
    ),
    Hostile(
        "cli",
        "sweep_eta_nan",
        ["sweep", "--eta", "nan", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--eta: eta must be from .*nan",
    ),
    Hostile(
        "cli",
        "sweep_batch_size_0",
        ["sweep", "--batch-size", "0", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--batch-size: batch_size must be from 1",
    ),
    Hostile(
        "cli",
        "sweep_optimizer_nope",
        ["sweep", "--optimizer", "nope", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--optimizer: optimizer must be one of",
    ),
    Hostile(
        "cli",
        "sweep_loss_nope",
        ["sweep", "--loss", "nope", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--loss: loss must be one of",
    ),
    Hostile(
        "cli",
        "sweep_variant_nope",
        ["sweep", "--variant", "nope", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--variant: variant must be one of",
    ),
    Hostile(
        "cli",
        "sweep_seed_given",
        ["sweep", "--seed", "3", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"give --seeds N, not --seed",
    ),
    Hostile(
        "cli",
        "sweep_grid_unknown_field",
        ["sweep", "--grid", "nope=1,2", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"grid: unknown field 'nope'",
    ),
    Hostile(
        "cli",
        "sweep_grid_bad_value",
        ["sweep", "--grid", "n_hidden=1,x", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"grid n_hidden: expected a whole number, got 'x'",
    ),
    Hostile(
        "cli",
        "sweep_seeds_0",
        ["sweep", "--seeds", "0", "--budget", "1", "--out", "{saved}"],
        r"--seeds: must be at least 1",
    ),
    Hostile(
        "cli",
        "sweep_budget_huge",
        ["sweep", "--budget", "99999999", "--seeds", "1", "--out", "{saved}"],
        r"--budget: must be at most",
    ),
    Hostile(
        "cli",
        "sweep_workers_0",
        ["sweep", "--workers", "0", "--seeds", "1", "--budget", "1", "--out", "{saved}"],
        r"--workers: must be at least 1",
    ),
    Hostile(
        "cli",
        "sweep_scheduler_silent",
        ["sweep", "--scheduler", "tcp://127.0.0.1:1", "--seeds", "1", "--budget", "1", "--out", "{missing}"],
        r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:1 within 5 s",
    ),
    Hostile(
        "cli",
        "sweep_out_not_ours",
        ["sweep", "--out", "{saved}", "--seeds", "1", "--budget", "1"],
        r"is not a readable Parquet file",
    ),
    Hostile(
        "cli", "train_variant_nope", ["train", "--variant", "nope", "--save", "{saved}"], r"variant must be one of"
    ),
]


def _params(cases: list[Hostile], surface: str):
    return [
        pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.bug)] if c.bug else [])
        for c in cases
        if c.surface == surface
    ]


def test_the_command_line_rows_cover_every_option_the_cli_takes():
    """Every option of `python -m rnn_core train` and `eval` that takes a value, read from the CLI's own parser (not
    from this table), has a row that passes it a bad value first; and no two rows share a name."""
    parser = cli.build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    options = {
        (command, action.option_strings[-1])
        for command, sub in commands.choices.items()
        for action in sub._actions
        if action.option_strings and action.nargs != 0 and "--help" not in action.option_strings
    }
    assert ("train", "--eval-every") in options and ("eval", "--samples") in options  # the parser was read
    tested = {
        (c.payload[0], next(a for a in c.payload if a.startswith("--")))
        for c in CASES
        if c.surface == "cli"
        if any(a.startswith("--") for a in c.payload)
    }
    assert sorted(options - tested) == []
    names = [(c.surface, c.name) for c in CASES]
    assert len(names) == len(set(names))


# -- ui -------------------------------------------------------------------------------------------------------------
@pytest.fixture
def trained_page():
    """The page after one 'Train 50 steps' click: there is a model and a history to keep."""
    at = run(new_app({"steps_per_click": "50"}))
    run(at.button(key="train").click())
    assert at.session_state[STATE_KEY].trainer.step == 50
    return at


@pytest.mark.parametrize("case", _params(CASES, "ui"))
def test_hostile_widget_input(case: Hostile, trained_page):
    at = trained_page
    kind, key, value = case.payload
    before = model_state(at.session_state[STATE_KEY])
    if kind == "text":
        run(at.text_input(key=key).input(value))
    elif kind == "number":
        run(at.number_input(key=key).set_value(value))
    else:  # what a crafted websocket message delivers: the value in the widget's state
        at.session_state[key] = value
        run(at)
    assert_clean_page(at)
    assert_message(at, case.message)
    session = at.session_state[STATE_KEY]
    assert_unchanged(before, model_state(session))
    assert 1e-6 <= session.trainer.config.eta <= 1e4  # whatever the widget delivered, the engine's rate is valid
    run(at.button(key="step").click())  # and the page still trains
    assert at.session_state[STATE_KEY].trainer.step == before["step"] + 1


# -- url ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", _params(CASES, "url"))
def test_hostile_link(case: Hostile):
    at = run(new_app(case.payload))
    assert_clean_page(at)
    assert_message(at, case.message, kinds=("warning",))
    assert len(at.warning) <= 10, f"{len(at.warning)} warning boxes"
    session = at.session_state[STATE_KEY]
    for name, value in case.expect.items():
        assert session.settings[name] == value, name
    # the model is exactly the one the defaults and the row's safe values give, untrained
    expected = Trainer(config_from_settings({**DEFAULTS, **case.expect}))
    assert session.trainer.config == expected.config
    assert session.trainer.step == 0 and len(session.trainer.steps_log.arrays()[0]) == 0
    np.testing.assert_array_equal(session.trainer.model.theta, expected.model.theta)


# -- checkpoint -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_checkpoint() -> tuple[bytes, dict]:
    """A valid checkpoint of the default configuration after 60 steps, and its arrays."""
    trainer = Trainer(TrainConfig(eval_every=20))
    trainer.train(60)
    data = checkpoint_bytes(trainer)
    return data, arrays_of(data)


@pytest.fixture
def trained_session() -> Session:
    session = Session({**DEFAULTS, "n_hidden": 8})  # a model other than the checkpoint's, with a history
    session.train(30)
    return session


def load_into(session: Session, data: bytes) -> tuple[bool, dict, dict]:
    """Upload `data` into the session: (loaded?, state before, state after)."""
    before = model_state(session)
    settings = dict(session.settings)
    loaded = session.load_checkpoint_bytes(data, name="upload.npz")
    assert session.settings == settings
    return loaded, before, model_state(session)


def assert_cli_refuses(args: list[str], pattern: str, capsys) -> str:
    """cli.main in this process: exit status 2, one line on stderr matching the pattern, nothing on stdout."""
    try:
        status = cli.main(args)
    except SystemExit as e:
        status = e.code
    captured = capsys.readouterr()
    assert status == 2, (status, captured.err)
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(PROG), captured.err
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


@pytest.mark.parametrize("case", _params(CASES, "checkpoint"))
def test_hostile_checkpoint(case: Hostile, good_checkpoint, trained_session, tmp_path, capsys):
    good, arrays = good_checkpoint
    data = case.payload(good, arrays, tmp_path)
    loaded, before, after = load_into(trained_session, data)
    assert not loaded
    assert_unchanged(before, after)
    [notice] = trained_session.notices
    assert notice.level == "error"
    assert re.search(case.message, notice.text), notice.text
    assert notice.text.startswith("Could not load upload.npz: ") and notice.text.endswith("The model was not changed.")
    assert "\n" not in notice.text and len(notice.text) < 600
    # the same file through the command line
    path = tmp_path / "upload.npz"
    path.write_bytes(data)
    assert_cli_refuses(["eval", str(path)], case.message, capsys)
    assert not (tmp_path / "pwned").exists()  # a pickle in the file is never unpickled


def test_the_pickle_payload_is_live(tmp_path):
    """Control for the pickle row: with pickles allowed, loading that very file creates the file."""
    buf = io.BytesIO(_object_array_checkpoint(b"", {"format": np.array("x")}, tmp_path))
    np.load(buf, allow_pickle=True)["W_rec"]
    assert (tmp_path / "pwned").exists()


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_every_malformed_checkpoint_leaves_the_session_alone(case, good_checkpoint, trained_session):
    """tests/test_checkpoint.py's table of malformed files, through the uploader's session function."""
    build, message = BAD_FILES[case]
    loaded, before, after = load_into(trained_session, build(*good_checkpoint))
    assert not loaded
    assert_unchanged(before, after)
    assert [n.level for n in trained_session.notices] == ["error"]
    assert re.search(message, trained_session.notices[0].text)


def test_a_good_upload_after_bad_ones_still_loads(good_checkpoint, trained_session):
    good, _ = good_checkpoint
    assert not trained_session.load_checkpoint_bytes(b"junk", name="junk.npz")
    assert trained_session.load_checkpoint_bytes(good, name="good.npz")
    assert trained_session.trainer.step == 60 and trained_session.notices[0].level == "success"
    np.testing.assert_array_equal(trained_session.trainer.model.theta, load_checkpoint(good).to_model().theta)


# -- cli --------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_files(tmp_path_factory, good_checkpoint) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    (root / "folder").mkdir()
    (root / "empty.npz").write_bytes(b"")
    (root / "notes.txt").write_text("hello, I am a text file\n" * 20)
    with zipfile.ZipFile(root / "docs.zip", "w") as zf:
        zf.writestr("readme.txt", "a zip, but not a checkpoint")
    (root / "good.npz").write_bytes(good_checkpoint[0])
    return {
        "dir": root / "folder",
        "missing": root / "nothing-here.npz",
        "empty": root / "empty.npz",
        "text": root / "notes.txt",
        "zip": root / "docs.zip",
        "good": root / "good.npz",
    }


@pytest.mark.parametrize("case", _params(CASES, "cli"))
def test_hostile_command_line(case: Hostile, cli_files, tmp_path):
    saved = tmp_path / "saved.npz"
    saved.write_bytes(b"an earlier run")
    files = {**cli_files, "saved": saved}
    args = [str(files[a[1:-1]]) if a.startswith("{") and a.endswith("}") else a for a in case.payload]
    proc = subprocess.run(
        [sys.executable, "-m", "rnn_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{PROG}"), proc.stderr
    assert re.search(case.message, lines[0]), lines[0]
    assert saved.read_bytes() == b"an earlier run"  # a refused run never writes its checkpoint


# -- divergence, end to end -------------------------------------------------------------------------------------------
def test_far_too_large_learning_rate_warns_with_the_cause_and_the_fix():
    """eta 1000 does not produce NaN here: tanh saturates exactly (its derivative becomes 0.0 in float64), so the
    weights only grow linearly and the units stop learning. The page must say so, and the history stays finite."""
    at = run(new_app({"steps_per_click": "200"}))
    run(at.number_input(key="eta").set_value(1000.0))
    run(at.button(key="train").click())
    assert_clean_page(at)
    message = assert_message(at, r"saturated", kinds=("warning",))
    assert "too large a learning rate (it is 1000 now)" in message
    assert "Reset, with a lower learning rate if this one caused it" in message
    assert not at.error  # not a divergence: nothing was rolled back
    trainer = at.session_state[STATE_KEY].trainer
    assert trainer.step == 200
    assert np.isfinite(trainer.steps_log.arrays()[1]).all()
    assert np.isfinite(trainer.model.theta).all()
    assert np.isfinite(trainer.evals.array("accuracy")).all()
    # the fix works: lower the rate, reset, and the warning is gone
    run(at.number_input(key="eta").set_value(0.1))
    run(at.button(key="reset").click())
    run(at.button(key="train").click())
    assert not any("saturated" in plain(raw) for _, raw in shown(at))


def test_far_too_large_learning_rate_warns_before_the_next_logged_evaluation():
    at = run(new_app({"steps_per_click": "100", "eta": "1000"}))
    run(at.button(key="train").click())
    assert_message(at, r"too large a learning rate \(it is 1000 now\)", kinds=("warning",))


def test_health_warnings_use_a_fresh_evaluation_when_given():
    trainer = Trainer(TrainConfig(eta=1000.0))
    trainer.train(100)  # the last logged evaluation is step 0's
    assert trainer.health_warnings() == ()
    [warning] = trainer.health_warnings(trainer.evaluate())
    assert "saturated" in warning and "(it is 1000 now)" in warning


def poison(trainer: Trainer) -> None:
    """Output weights of alternating sign at +-1.5e308: finite (a checkpoint with them loads), but the first
    gradient overflows. No learning rate the page offers gets there by training (see the report)."""
    H = trainer.model.n_hidden
    trainer.model.params["W_out"][...] = np.where(np.arange(H) % 2 == 0, HUGE, -HUGE)[:, None]


@pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)
def test_a_non_finite_step_is_rolled_back_and_the_page_says_how_to_recover():
    at = run(new_app({"steps_per_click": "50"}))
    run(at.button(key="train").click())
    session = at.session_state[STATE_KEY]
    poison(session.trainer)
    before = model_state(session)
    assert np.isfinite(before["theta"]).all()
    run(at.button(key="step").click())
    assert_clean_page(at)
    message = assert_message(at, r"training diverged at step 51", kinds=("error",))
    assert "rolled back to step 50" in message and "Lower the learning rate" in message and "reset" in message
    after = model_state(at.session_state[STATE_KEY])
    # the step history and the parameters are as before; the evaluation log gains one evaluation of the
    # rolled-back weights at step 50 (earlier entries unchanged)
    assert after["step"] == 50 and after["trainer"] == before["trainer"]
    np.testing.assert_array_equal(after["theta"], before["theta"])
    np.testing.assert_array_equal(after["error"], before["error"])
    assert np.isfinite(after["error"]).all()
    for name, column in before["evals"].items():
        np.testing.assert_array_equal(after["evals"][name][: len(column)], column, err_msg=name)
    assert after["evals"]["step"][-1] == 50
    # recovering as the message says: reset, and training works again
    run(at.button(key="reset").click())
    run(at.button(key="step").click())
    assert_clean_page(at)
    assert not at.error
    trainer = at.session_state[STATE_KEY].trainer
    assert trainer.step == 1 and np.isfinite(trainer.model.theta).all()


def test_an_uploaded_checkpoint_with_extreme_weights_diverges_safely(good_checkpoint):
    """Finite but absurd weights pass checkpoint validation; the first step then overflows and is rolled back."""
    trainer = load_checkpoint(good_checkpoint[0]).to_trainer()
    poison(trainer)
    session = Session()
    assert session.load_checkpoint_bytes(checkpoint_bytes(trainer), name="extreme.npz")
    before = model_state(session)
    with np.errstate(over="ignore", invalid="ignore"):
        outcome = session.train(10)
    assert outcome.diverged and outcome.steps_done == 0
    after = model_state(session)
    assert after["step"] == before["step"] == 60
    np.testing.assert_array_equal(after["theta"], before["theta"])
    np.testing.assert_array_equal(after["error"], before["error"])
    assert [n.level for n in session.notices] == ["error"] and "rolled back to step 60" in session.notices[0].text


def test_no_setting_the_page_offers_reaches_a_non_finite_value():
    """Why the test above needs a poisoned parameter: the largest learning rate with momentum 0.999 and
    cross-entropy (the fastest-growing combination found) keeps every value finite."""
    trainer = Trainer(TrainConfig(eta=1e4, optimizer="momentum", momentum=0.999, loss="bce", batch_size=16))
    report = trainer.train(300)
    assert report.steps_done == 300
    assert np.isfinite(trainer.model.theta).all() and np.isfinite(trainer.steps_log.arrays()[1]).all()
    assert any("Weights are exploding" in w for w in report.warnings)  # but the page is told


def test_long_command_line_runs_train_in_bounded_chunks_with_the_same_result(monkeypatch):
    """--steps up to 1e9: the CLI never asks the trainer for more than TRAIN_CHUNK steps (8 bytes each) at once,
    and the chunks change nothing: the run equals one trained in a single call."""
    calls = []
    train = Trainer.train

    def spy(self, n_steps, **kwargs):
        calls.append(n_steps)
        return train(self, n_steps, **kwargs)

    monkeypatch.setattr(cli, "TRAIN_CHUNK", 7)
    monkeypatch.setattr(Trainer, "train", spy)
    chunked = Trainer(TrainConfig(n_bits=4, n_hidden=4, eval_every=10))
    cli.run_training(chunked, 60, 25)
    assert max(calls) == 7 and chunked.step == 60
    monkeypatch.setattr(Trainer, "train", train)
    straight = Trainer(TrainConfig(n_bits=4, n_hidden=4, eval_every=10))
    straight.train(60)
    np.testing.assert_array_equal(chunked.model.theta, straight.model.theta)
    for a, b in zip(chunked.steps_log.arrays(), straight.steps_log.arrays()):
        np.testing.assert_array_equal(a, b)
