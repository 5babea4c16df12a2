"""Checkpoints: exact round trips, and a specific CheckpointError for every kind of malformed file."""

from __future__ import annotations

import builtins
import io
import json
import re
import struct
import zipfile

import numpy as np
import pytest

import rnn_core.checkpoint as ckpt
from rnn_core.checkpoint import (
    CheckpointError,
    checkpoint_bytes,
    expected_keys,
    load_checkpoint,
    save_checkpoint,
)
from rnn_core.history import EvalLog, SnapshotStore, StepLog
from rnn_core.train import TrainConfig, Trainer

PARAM_NAMES = ("W_in", "W_rec", "b_rec", "W_out", "b_out")  # the Elman cell's


# -- helpers -----------------------------------------------------------------------------------------------------
def arrays_of(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def pack(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def assert_same_run(a: Trainer, b: Trainer) -> None:
    """Two trainers hold bit-for-bit the same parameters, optimizer, generator and history."""
    assert a.step == b.step
    assert a.solved_at_step == b.solved_at_step
    assert a.config == b.config
    assert np.array_equal(a.model.theta, b.model.theta)
    assert a.model.theta.dtype == b.model.theta.dtype
    for k, v in a.optimizer.state().items():
        assert np.array_equal(v, b.optimizer.state()[k]), k
    for x, y in zip(a.steps_log.arrays(), b.steps_log.arrays()):
        assert np.array_equal(x, y)
    assert a.steps_log.stride == b.steps_log.stride
    assert set(a.evals.columns) == set(b.evals.columns)
    for k in a.evals.columns:
        assert np.array_equal(a.evals.array(k), b.evals.array(k)), k
    assert a.snapshots.steps == b.snapshots.steps
    assert a.snapshots.every == b.snapshots.every
    assert all(np.array_equal(x, y) for x, y in zip(a.snapshots.thetas, b.snapshots.thetas))
    assert a.last_example == b.last_example
    assert np.array_equal(a.last_grad_norms, b.last_grad_norms)


@pytest.fixture(scope="module")
def good() -> bytes:
    """A valid checkpoint of the default (seed post) config after 60 steps."""
    trainer = Trainer(TrainConfig(eval_every=20))
    trainer.train(60)
    return checkpoint_bytes(trainer)


@pytest.fixture(scope="module")
def good_arrays(good) -> dict[str, np.ndarray]:
    return arrays_of(good)


def with_changes(arrays: dict, **changes) -> bytes:
    """The checkpoint with entries replaced (value) or removed (None)."""
    out = dict(arrays)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return pack(out)


def with_config(arrays: dict, **fields) -> bytes:
    cfg = json.loads(str(arrays["config_json"]))
    cfg.update(fields)
    return with_changes(arrays, config_json=np.array(json.dumps(cfg)))


# -- round trips -------------------------------------------------------------------------------------------------
def test_round_trip_restores_parameters_and_history_exactly(good):
    original = Trainer(TrainConfig(eval_every=20))
    original.train(60)
    loaded = load_checkpoint(good).to_trainer()
    assert_same_run(original, loaded)
    for name in PARAM_NAMES:
        assert np.array_equal(original.model.params[name], loaded.model.params[name]), name


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(eval_every=40),  # the seed post: SGD, PCG64, 8 bits
        TrainConfig(optimizer="adam", eta=0.01, batch_size=16, n_bits=6, eval_every=40),
        TrainConfig(variant="trask", n_hidden=16, rng="legacy", n_bits=6, eval_every=40),  # legacy RandomState
        TrainConfig(op="mixed", n_bits=4, optimizer="momentum", dtype="float32", n_hidden=8, eval_every=40),
        TrainConfig(op="sub", n_bits=12, n_hidden=8, batch_size=4, eval_every=40),  # sampled, not enumerated
    ],
    ids=["seed_post", "adam", "trask_legacy", "mixed_momentum_f32", "sub_12bit"],
)
def test_continued_training_is_bit_for_bit(config):
    original = Trainer(config)
    original.train(67)  # not a multiple of eval_every or of the snapshot interval
    loaded = load_checkpoint(checkpoint_bytes(original)).to_trainer()
    original.train(93)
    loaded.train(93)
    assert original.step == 160
    assert_same_run(original, loaded)


def test_continued_training_exact_with_downsampled_and_thinned_history():
    """Saved mid-point of a merged step history (stride > 1) and after evaluation thinning."""
    original = Trainer(TrainConfig(n_bits=4, n_hidden=8, eval_every=5, snapshot_every=3))
    original.steps_log = StepLog(capacity=16)
    original.evals = EvalLog.from_state(original.evals.state(), capacity=8)
    original.snapshots = SnapshotStore(original.model.theta.size, every=3, max_count=4)
    original.snapshots.add(0, original.model.theta)
    original.train(101)
    assert original.steps_log.stride > 1 and original.steps_log._acc_n > 0
    assert original.snapshots.every > 3
    loaded = load_checkpoint(checkpoint_bytes(original)).to_trainer()
    assert loaded.steps_log.capacity == 16 and loaded.evals.capacity == 8 and loaded.snapshots.max_count == 4
    original.train(77)
    loaded.train(77)
    assert_same_run(original, loaded)


def test_solved_at_step_and_config_survive_the_round_trip():
    trainer = Trainer(TrainConfig(optimizer="adam", eta=0.05, batch_size=32, n_hidden=8))
    trainer.train(3000, until_solved=True)
    assert trainer.solved_at_step is not None
    ck = load_checkpoint(checkpoint_bytes(trainer))
    assert ck.solved_at_step == trainer.solved_at_step
    assert ck.config == trainer.config
    assert ck.step == trainer.step
    assert ck.to_model().n_hidden == 8
    assert load_checkpoint(checkpoint_bytes(ck.to_trainer())).solved_at_step == trainer.solved_at_step


def test_to_model_gives_the_saved_weights(good):
    ck = load_checkpoint(good)
    model = ck.to_model()
    for name in PARAM_NAMES:
        assert np.array_equal(model.params[name], ck.params[name])


def test_save_and_load_from_path_bytes_and_file_like(tmp_path, good):
    trainer = load_checkpoint(good).to_trainer()
    path = save_checkpoint(trainer, tmp_path / "run.npz")
    assert path.exists() and list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    from_path = load_checkpoint(path)
    from_str = load_checkpoint(str(path))
    upload = io.BytesIO(path.read_bytes())
    upload.seek(0, io.SEEK_END)  # an upload that was read before: loading starts from the beginning
    from_file = load_checkpoint(upload)
    for ck in (from_path, from_str, from_file):
        assert ck.step == 60
        assert np.array_equal(ck.params["W_rec"], trainer.model.params["W_rec"])


def test_every_evaluation_column_is_saved(good_arrays):
    trainer = Trainer(TrainConfig(n_bits=3, n_hidden=2))
    saved = {k[len("eval_") :] for k in good_arrays if k.startswith("eval_")}
    assert saved == set(trainer.evals.columns)


def test_evaluation_columns_are_reconciled_with_what_the_trainer_logs(good_arrays):
    """A file from another version: a column the trainer logs but the file lacks is NaN history, a column the
    trainer no longer logs is dropped; the next evaluation appends cleanly."""
    arrays = dict(good_arrays)
    dropped = "spectral_radius"
    arrays.pop(f"eval_{dropped}")
    arrays["eval_retired_metric"] = np.ones(len(arrays["eval_step"]))
    trainer = load_checkpoint(pack(arrays)).to_trainer()
    n = len(good_arrays["eval_step"])
    assert np.isnan(trainer.evals.array(dropped)).all() and len(trainer.evals.array(dropped)) == n
    assert "retired_metric" not in trainer.evals.columns
    trainer.train(20)  # eval_every=20: one more evaluation
    assert trainer.evals.n == n + 1
    assert np.isfinite(trainer.evals.array(dropped)[-1])


def test_file_keys_are_exactly_the_expected_keys(good_arrays):
    fixed = {k for k in good_arrays if not k.startswith("eval_")} | {"eval_step"}
    assert fixed == expected_keys(TrainConfig())
    assert {"opt_m", "opt_v", "opt_t"} <= expected_keys(TrainConfig(optimizer="adam"))
    assert "rng_mt_keys" in expected_keys(TrainConfig(rng="legacy"))


# -- malformed files ---------------------------------------------------------------------------------------------
def _zip_with_declared_size(declared: int) -> bytes:
    """A tiny valid zip of zeros whose central directory claims ``declared`` uncompressed bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("W_in.npy", b"\0" * 1000)
    data = bytearray(buf.getvalue())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<L", data, central + 24, declared)  # uncompressed size field
    return bytes(data)


def _npy_with_lying_header(shape: tuple) -> bytes:
    """A .npy member whose header declares ``shape`` (float64) but that holds 8 bytes of data."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": "<f8", "fortran_order": False, "shape": shape})
    out.write(b"\0" * 8)
    return out.getvalue()


def _replace_member(data: bytes, name: str, payload: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, payload if info.filename == name else src.read(info))
    return out.getvalue()


def _add_member(data: bytes, name: str, payload: bytes) -> bytes:
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as zf:
        zf.writestr(name, payload)
    return out.getvalue()


def _many_members(n: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for i in range(n):
            zf.writestr(f"a{i}.npy", b"")
    return out.getvalue()


BAD_FILES = {
    # name: (build(good_bytes, good_arrays) -> bytes, message regex)
    "random_bytes": (lambda g, a: np.random.default_rng(1).bytes(5000), r"not a \.npz \(zip\) archive"),
    "empty": (lambda g, a: b"", r"empty \(0 bytes\)"),
    "truncated_first_half": (lambda g, a: g[: len(g) // 2], r"not a \.npz \(zip\) archive"),
    "truncated_tail": (lambda g, a: g[:-5], r"not a \.npz \(zip\) archive"),
    "zip_bomb_declared": (lambda g, a: _zip_with_declared_size(300 << 20), r"possible zip bomb"),
    "too_many_members": (lambda g, a: _many_members(200), rf"200 members, more than {ckpt.MAX_MEMBERS}"),
    "not_npy_member": (lambda g, a: _add_member(g, "notes.txt", b"hi"), r"'notes\.txt', which is not a \.npy"),
    "unknown_key": (lambda g, a: with_changes(a, surprise=np.zeros(3)), r"unknown entry: surprise(\.|$)"),
    "missing_key": (lambda g, a: with_changes(a, W_rec=None), r"missing entry: W_rec(\.|$)"),
    "missing_format": (lambda g, a: with_changes(a, format=None), r"no 'format' entry"),
    "wrong_format_tag": (
        lambda g, a: with_changes(a, format=np.array("something-else/9")),
        r"format tag 'something-else/9'",
    ),
    "wrong_shape": (
        lambda g, a: with_changes(a, W_rec=np.zeros((3, 3))),
        re.escape("checkpoint parameter W_rec has shape (3, 3), expected (32, 32)"),
    ),
    "wrong_shape_W_in": (
        lambda g, a: with_changes(a, W_in=np.zeros((7, 32))),
        re.escape("checkpoint parameter W_in has shape (7, 32), expected (2, 32)"),
    ),
    "string_params": (
        lambda g, a: with_changes(a, W_rec=np.full((32, 32), "x")),
        r"parameter W_rec must hold floating-point numbers, got dtype <U1",
    ),
    "float_step": (lambda g, a: with_changes(a, step=np.array(60.0)), r"entry step must hold whole numbers"),
    "nan_param": (
        lambda g, a: with_changes(a, W_in=np.where(np.eye(2, 32) > 0, np.nan, a["W_in"])),
        r"parameter W_in contains NaN or infinite values",
    ),
    "inf_snapshot": (
        lambda g, a: with_changes(a, snapshot_thetas=a["snapshot_thetas"] + np.inf),
        r"entry snapshot_thetas contains NaN or infinite values",
    ),
    "nan_history": (
        lambda g, a: with_changes(a, steplog_error=a["steplog_error"] * np.nan),
        r"entry steplog_error contains NaN or infinite values",
    ),
    "header_needs_gigabytes": (
        lambda g, a: _replace_member(g, "W_rec.npy", _npy_with_lying_header((100_000, 100_000))),
        r"W_rec declares shape \(100000, 100000\) of float64 \(80000000000 bytes\) but holds 8 bytes",
    ),
    "config_hidden_100000": (lambda g, a: with_config(a, n_hidden=100_000), r"n_hidden must be from 1 to 256"),
    "config_unknown_operator": (lambda g, a: with_config(a, op="mul"), r"op must be one of .*got 'mul'"),
    "config_width_0": (lambda g, a: with_config(a, n_bits=0), r"n_bits must be from 1 to 64, got 0"),
    "config_width_65": (lambda g, a: with_config(a, n_bits=65), r"n_bits must be from 1 to 64, got 65"),
    "config_unknown_field": (lambda g, a: with_config(a, colour="red"), r"unknown config field\(s\): colour"),
    "config_not_json": (
        lambda g, a: with_changes(a, config_json=np.array("{op: add")),
        r"config_json is not valid JSON",
    ),
    "config_not_object": (lambda g, a: with_changes(a, config_json=np.array("[1, 2]")), r"must be a JSON object"),
    "negative_step": (lambda g, a: with_changes(a, step=np.array(-5)), r"entry step holds -5, outside 0\.\."),
    "history_longer_than_run": (
        lambda g, a: with_changes(a, step=np.array(61)),
        r"step history covers 60 steps, but the checkpoint is at step 61",
    ),
    "eval_columns_disagree": (
        lambda g, a: with_changes(a, eval_accuracy=a["eval_accuracy"][:-1]),
        r"entry eval_accuracy has shape \(3,\), expected \(4,\) or \(4, k\)",
    ),
    "eval_column_infinite": (
        lambda g, a: with_changes(a, eval_saturation=a["eval_saturation"] + np.inf),
        r"entry eval_saturation contains infinite values",
    ),
    "eval_column_bad_name": (
        lambda g, a: with_changes(a, **{"eval_Bad-Name": np.zeros(4)}),
        r"unknown entry: eval_Bad-Name(\.|$)",
    ),
    "accuracy_above_one": (
        lambda g, a: with_changes(a, eval_accuracy=a["eval_accuracy"] + 2.0),
        r"eval_accuracy must hold values from 0 to 1",
    ),
    "solved_after_step": (
        lambda g, a: with_changes(a, solved_at_step=np.array(61)),
        r"entry solved_at_step holds 61, outside -1\.\.60",
    ),
    "bad_rng_state": (
        lambda g, a: with_changes(a, rng_state_json=np.array('{"bit_generator": "MT19937"}')),
        r"rng_state_json is not a PCG64 generator state",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_malformed_checkpoint_is_refused_with_a_specific_message(case, good, good_arrays):
    build, message = BAD_FILES[case]
    data = build(good, good_arrays)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(data)


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)


class _CreatesFile:
    """Unpickling this calls open(path, "w"): it creates the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (builtins.open, (self.path, "w"))


def _object_array(path) -> np.ndarray:
    arr = np.empty(1, dtype=object)
    arr[0] = _CreatesFile(path)
    return arr


def test_pickled_object_array_is_refused_without_unpickling(tmp_path, good_arrays):
    control = tmp_path / "control"
    buf = io.BytesIO()
    np.savez(buf, payload=_object_array(control))
    np.load(io.BytesIO(buf.getvalue()), allow_pickle=True)["payload"]  # the payload is live: it makes a file
    assert control.exists()

    target = tmp_path / "pwned"
    buf = io.BytesIO()
    np.savez(buf, **{**good_arrays, "W_rec": _object_array(target)})
    with pytest.raises(CheckpointError, match=r"W_rec holds Python objects"):
        load_checkpoint(buf.getvalue())
    assert not target.exists()


def test_real_zip_bomb_is_refused_before_decompressing(monkeypatch):
    monkeypatch.setattr(ckpt, "MAX_UNCOMPRESSED_BYTES", 4 << 20)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("W_in.npy", b"\0" * (8 << 20))  # 8 MB of zeros, about 8 kB compressed
    data = buf.getvalue()
    assert len(data) < 64 << 10
    with pytest.raises(CheckpointError, match=r"expand to more than 4194304 bytes .*zip bomb"):
        load_checkpoint(data)


def test_member_larger_than_its_declared_size_is_refused(good):
    """The zip directory understates a member's size (so it would expand past what was checked)."""
    data = bytearray(good)
    central = data.rfind(b"PK\x01\x02")  # the last member in the directory
    name_len = struct.unpack_from("<H", data, central + 28)[0]
    name = bytes(data[central + 46 : central + 46 + name_len]).decode()
    struct.pack_into("<L", data, central + 24, 100)  # declared uncompressed size: 100 bytes
    with pytest.raises(CheckpointError, match=re.escape(name[: -len(".npy")])):
        load_checkpoint(bytes(data))


def test_oversized_input_is_refused_before_parsing(monkeypatch, good):
    monkeypatch.setattr(ckpt, "MAX_CHECKPOINT_BYTES", 1000)
    with pytest.raises(CheckpointError, match=r"larger than 1000 bytes"):
        load_checkpoint(good)


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match=r"cannot read checkpoint file .*nothing\.npz"):
        load_checkpoint(tmp_path / "nothing.npz")


def test_unsupported_source_type_is_refused():
    with pytest.raises(CheckpointError, match=r"cannot load a checkpoint from a int"):
        load_checkpoint(42)


def test_adam_state_shape_is_checked():
    trainer = Trainer(TrainConfig(optimizer="adam", eta=0.01, n_bits=4, n_hidden=4))
    trainer.train(5)
    arrays = arrays_of(checkpoint_bytes(trainer))
    n_params = trainer.model.theta.size
    with pytest.raises(CheckpointError, match=rf"entry opt_m has shape \(3,\), expected \({n_params},\)"):
        load_checkpoint(with_changes(arrays, opt_m=np.zeros(3)))
    with pytest.raises(CheckpointError, match=r"opt_v must not be negative"):
        load_checkpoint(with_changes(arrays, opt_v=-np.ones(n_params)))


def test_legacy_generator_state_is_checked():
    trainer = Trainer(TrainConfig(variant="trask", n_hidden=4, rng="legacy", n_bits=4))
    arrays = arrays_of(checkpoint_bytes(trainer))
    with pytest.raises(CheckpointError, match=r"entry rng_mt_keys has shape \(10,\), expected \(624,\)"):
        load_checkpoint(with_changes(arrays, rng_mt_keys=np.zeros(10, dtype=np.uint32)))
    with pytest.raises(CheckpointError, match=r"rng_mt_pos holds 700, outside 0\.\.624"):
        load_checkpoint(with_changes(arrays, rng_mt_pos=np.array(700)))


def test_nothing_is_built_before_everything_is_validated(monkeypatch, good_arrays):
    """A flaw found by the last check still leaves no trainer or model behind."""

    def no_building(*args, **kwargs):
        raise AssertionError("a trainer or model was built during validation")

    monkeypatch.setattr(ckpt, "Trainer", no_building)
    monkeypatch.setattr(ckpt, "build_model", no_building)
    with pytest.raises(CheckpointError, match="last_example"):
        load_checkpoint(with_changes(good_arrays, last_example=np.array([1, 2, 9], dtype=np.uint64)))
    assert load_checkpoint(pack(good_arrays)).step == 60  # a good file loads without building anything
