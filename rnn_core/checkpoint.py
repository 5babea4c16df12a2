"""Checkpoints: a trainer's whole state in one ``.npz`` file, saved exactly and loaded defensively.

A checkpoint holds everything needed to continue a run bit for bit: the parameters, the configuration (JSON text),
the step, ``solved_at_step``, the step history (full points, stride and the partly filled last point), the
evaluation log, the optimizer state, the random generator's state and the parameter snapshots. A trainer saved at
step k, loaded and trained n more steps ends with exactly the parameters and history of the original trained n more
steps.

Checkpoints are uploaded by users, so loading trusts nothing and validates everything *before* building anything:

1. size: at most ``MAX_CHECKPOINT_BYTES`` are read (64 MB; the largest run a trainer can hold saves to about 11 MB);
2. archive: a zip whose end-of-directory record announces at most ``MAX_MEMBERS`` members in a small directory;
   then, from the zip directory and before any member is decompressed, unique ``*.npy`` member names, no
   encryption, stored or deflated members only, and a total declared uncompressed size of at most
   ``MAX_UNCOMPRESSED_BYTES``, the same 64 MB, as checkpoints are written uncompressed (a zip bomb is refused here;
   zipfile never inflates a member past its declared size, and a member whose data does not match its declaration
   fails the header check or its CRC check);
3. keys: the exact set the configuration requires, plus one ``eval_<column>`` entry per column of the evaluation
   log (names checked, at most ``MAX_EVAL_COLUMNS``). Any other key is *refused*, not ignored: a file with members
   we do not understand is not one of ours, and silently dropping data would hide that. (Evaluation columns are
   the one exception, because the trainer's diagnostics grow: ``to_trainer`` keeps the columns this version
   logs, filling a column the file lacks with NaN and dropping one it no longer logs.);
4. each member's ``.npy`` header is parsed on its own first: object dtypes (pickles) are refused without ever
   reading their data, and the declared shape must match the member's size (no gigabyte allocations from a
   lying header). Only then are arrays read, with ``np.load(..., allow_pickle=False)``;
5. dtypes (floating-point parameters, integer steps, text for JSON), shapes consistent with the configuration
   (``n_in`` from the task, ``n_hidden``, one output), finite values (weights, optimizer state and snapshots finite
   in the run's own dtype: 1e300 is a float64 but overflows a float32 run), a valid configuration
   (``TrainConfig.from_dict``; config fields missing from the file take their defaults, unknown ones are refused),
   ``0 <= step <= MAX_STEP``, history lengths consistent with the step, a valid random generator state;
6. no more history than a trainer keeps (``rnn_core.history``): at most 20,000 step-log points, 4,096 evaluation
   records, and the snapshots the trainer's store holds for this model (64, fewer for models over 16k parameters
   within its 8 MB budget). A larger file was not written by this trainer, and it would make the session that
   loads it hold many times what training does: such a file is refused, not thinned, so that what loads is
   always exactly the run that was saved.

Statistics the trainer logs may be NaN (a diagnostic that does not apply) or, for magnitudes (the spectral radius,
gradient norms, Adam's second moment), +inf: weights near the float limit overflow them, and a run that got there is
still saved and loaded.

Every failure raises ``CheckpointError`` (a ``ValueError``) saying what is wrong; nothing is half-applied, because
a ``Trainer`` is only built (``Checkpoint.to_trainer``) from a fully validated ``Checkpoint``. Saving runs the same
validation, so a file that was written can always be read back.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
from numpy.lib import format as npy_format

from rnn_core.cells import CELL_CLASSES, cell_class
from rnn_core.history import EVAL_LOG_CAPACITY, STEP_LOG_CAPACITY, EvalLog, SnapshotStore, StepLog, snapshot_limit
from rnn_core.model import RecurrentModel
from rnn_core.optim import make_optimizer
from rnn_core.tasks import OPERATORS
from rnn_core.train import MAX_STEP, TrainConfig, Trainer, build_model, new_rng

FORMAT_TAG = "rnn-carry-lab-checkpoint/1"
MAX_CHECKPOINT_BYTES = 64 << 20  # the file itself
MAX_UNCOMPRESSED_BYTES = MAX_CHECKPOINT_BYTES  # sum of the members' declared sizes: checkpoints are not compressed
MAX_MEMBERS = 128  # a checkpoint has about 40
MAX_DIRECTORY_BYTES = 1 << 20  # the zip's central directory (about 3 kB for a checkpoint)
MAX_TEXT_CHARS = 1 << 16  # JSON text members (config, generator state)
MAX_NPY_HEADER = 10_000  # numpy's own default limit for .npy headers

# The evaluation log's columns are whatever the trainer logs, saved as ``eval_<column>``: "step" as integers (n,),
# every other column as floats, (n,) or (n, k) with k = n_bits or n_hidden. NaN is allowed there (a diagnostic
# that does not apply, e.g. the carry probe of a carry-free task); +inf only in the magnitude columns (an overflow:
# the spectral radius of weights near the float limit). Known columns get range checks.
EVAL_PREFIX = "eval_"
EVAL_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_EVAL_COLUMNS = 48
UNIT_INTERVAL_COLUMNS = ("accuracy", "bit_accuracy", "saturation", "probe_accuracy")
NON_NEGATIVE_COLUMNS = ("grad_norms", "spectral_radius", "max_abs_weight", "best_carry_corr")
MAGNITUDE_COLUMNS = ("grad_norms", "spectral_radius")  # may overflow to +inf
MT_KEYS = 624  # length of the legacy MT19937 key vector
_ZIP_EOCD = struct.Struct("<4s4H2LH")  # end-of-central-directory record


class CheckpointError(ValueError):
    """A checkpoint could not be written or read; the message says what is wrong with it."""


@dataclass
class StepHistory:
    """The trainer's StepLog: full points steps (n,) / error (n,), stride, and the partly filled last point."""

    steps: np.ndarray
    error: np.ndarray
    stride: int
    capacity: int  # StepLog capacity (points held before pairs are merged)
    partial_first: int  # first step of the partly filled point
    partial_count: int  # steps in it so far (0 = none)
    partial_sum: float  # sum of their errors


@dataclass
class Checkpoint:
    """A validated checkpoint. Arrays are private copies; ``to_trainer`` may be called any number of times.

    params: the cell's parameters by name (``cell_class(config.cell).param_shapes``), e.g. for the Elman cell
    W_in (n_in, H), W_rec (H, H), b_rec (H,), W_out (H, 1), b_out (1,).
    eval_columns: column name -> (n,) or (n, k), as the trainer logged them.
    snapshot_thetas: (S, P) with P = model.theta.size.
    rng_state: the PCG64 ``bit_generator.state`` dict, or the legacy ``RandomState.get_state()`` tuple.
    """

    config: TrainConfig
    params: dict[str, np.ndarray]
    step: int
    solved_at_step: int | None
    step_history: StepHistory
    eval_columns: dict[str, np.ndarray]
    eval_capacity: int
    optimizer_state: dict[str, np.ndarray]
    rng_state: dict | tuple
    snapshot_steps: np.ndarray
    snapshot_thetas: np.ndarray
    snapshot_every: int
    snapshot_max_count: int
    last_grad_norms: np.ndarray
    last_example: tuple[int, int, int]
    format: str = field(default=FORMAT_TAG)

    def to_model(self) -> RecurrentModel:
        """Just the network with the checkpoint's weights (cheap: no trainer, no evaluation)."""
        model = build_model(self.config, new_rng(self.config))
        model.set_params(self.params)
        return model

    def to_trainer(self) -> Trainer:
        """A Trainer in exactly the saved state: continuing it continues the saved run bit for bit."""
        cfg = self.config
        trainer = Trainer(TrainConfig.from_dict(cfg.to_dict()))
        trainer.model.set_params(self.params)
        trainer.optimizer.load_state(self.optimizer_state)
        trainer.step = self.step
        trainer.solved_at_step = self.solved_at_step
        trainer.steps_log = _restore_step_log(self.step_history)
        trainer.evals = _restore_eval_log(self.eval_columns, self.eval_capacity, template=trainer.evals)
        store = SnapshotStore(trainer.model.theta.size, cfg.snapshot_every)
        store.steps = [int(s) for s in self.snapshot_steps]
        store.thetas = [np.array(row, dtype=np.float64) for row in self.snapshot_thetas]
        store.every = self.snapshot_every
        store.max_count = self.snapshot_max_count
        trainer.snapshots = store
        if isinstance(trainer.rng, np.random.RandomState):
            trainer.rng.set_state(self.rng_state)
        else:
            trainer.rng.bit_generator.state = self.rng_state
        trainer.last_grad_norms = np.array(self.last_grad_norms)
        trainer.last_example = tuple(self.last_example)
        return trainer


# -- saving ------------------------------------------------------------------------------------------------------
def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def _text(value: dict) -> np.ndarray:
    return np.array(json.dumps(value, sort_keys=True, default=_json_default))


def _trainer_arrays(trainer: Trainer) -> dict[str, np.ndarray]:
    """Every array a checkpoint of this trainer holds, keyed by member name (without ``.npy``)."""
    cfg, model = trainer.config, trainer.model
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT_TAG),
        "config_json": _text(cfg.to_dict()),
        "step": np.array(trainer.step, dtype=np.int64),
        "solved_at_step": np.array(-1 if trainer.solved_at_step is None else trainer.solved_at_step, np.int64),
    }
    for name in model.params:
        arrays[name] = np.array(model.params[name])
    log = trainer.steps_log
    arrays["steplog_steps"] = np.array(log.steps[: log.n], dtype=np.int64)
    arrays["steplog_error"] = np.array(log.error[: log.n], dtype=np.float64)
    arrays["steplog_stride"] = np.array(log.stride, dtype=np.int64)
    arrays["steplog_capacity"] = np.array(log.capacity, dtype=np.int64)
    # The partly filled point is StepLog-internal; it is saved so that a loaded run continues it exactly.
    arrays["steplog_partial"] = np.array([log._acc_first, log._acc_n], dtype=np.int64)
    arrays["steplog_partial_sum"] = np.array(log._acc_sum, dtype=np.float64)
    arrays.update(_eval_arrays(trainer.evals))
    for name, value in trainer.optimizer.state().items():
        arrays[f"opt_{name}"] = np.array(value)
    if isinstance(trainer.rng, np.random.RandomState):
        kind, keys, pos, has_gauss, gauss = trainer.rng.get_state()
        arrays["rng_mt_keys"] = np.array(keys, dtype=np.uint32)
        arrays["rng_mt_pos"] = np.array(pos, dtype=np.int64)
        arrays["rng_mt_has_gauss"] = np.array(has_gauss, dtype=np.int64)
        arrays["rng_mt_gauss"] = np.array(gauss, dtype=np.float64)
    else:
        arrays["rng_state_json"] = _text(trainer.rng.bit_generator.state)
    store = trainer.snapshots
    n_params = model.theta.size
    arrays["snapshot_steps"] = np.array(store.steps, dtype=np.int64)
    arrays["snapshot_thetas"] = np.array(store.thetas, dtype=np.float64).reshape(len(store.steps), n_params)
    arrays["snapshot_every"] = np.array(store.every, dtype=np.int64)
    arrays["snapshot_max_count"] = np.array(store.max_count, dtype=np.int64)
    arrays["last_grad_norms"] = np.array(trainer.last_grad_norms, dtype=np.float64)
    arrays["last_example"] = np.array(trainer.last_example, dtype=np.uint64)
    return arrays


def _eval_arrays(log: EvalLog) -> dict[str, np.ndarray]:
    """The evaluation log as ``eval_<column>`` arrays: step (n,) int64, the others float64 (n,) or (n, k)."""
    out = {
        "evallog_capacity": np.array(log.capacity, dtype=np.int64),
        EVAL_PREFIX + "step": np.asarray(log.columns.get("step", []), dtype=np.int64).reshape(log.n),
    }
    for name, column in log.columns.items():
        if name == "step":
            continue
        if not EVAL_NAME.fullmatch(name):
            raise CheckpointError(f"evaluation column {name!r} has a name a checkpoint cannot hold")
        try:
            values = np.asarray(column, dtype=np.float64)
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"evaluation column {name!r} cannot be stored as numbers ({e})") from e
        out[EVAL_PREFIX + name] = values.reshape(log.n, *values.shape[1:])
    return out


def checkpoint_bytes(trainer: Trainer) -> bytes:
    """The trainer's checkpoint as ``.npz`` bytes (e.g. for a download button). Raises CheckpointError if the
    trainer's state could not be read back (the same validation as loading runs first)."""
    arrays = _trainer_arrays(trainer)
    _checkpoint_from_arrays(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"the checkpoint would be {len(data)} bytes, more than {MAX_CHECKPOINT_BYTES}")
    return data


def save_checkpoint(trainer: Trainer, path: str | os.PathLike) -> Path:
    """Write the trainer's checkpoint to ``path`` (atomically: a temporary file beside it, then a rename).

    Returns the path. Raises CheckpointError (state not saveable) or OSError (cannot write there).
    """
    data = checkpoint_bytes(trainer)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# -- reading the archive -----------------------------------------------------------------------------------------
def _read_source(source: str | os.PathLike | bytes | bytearray | memoryview | BinaryIO) -> bytes:
    """The raw bytes of a path, a bytes object or a binary file-like (read from its start), at most the cap."""
    cap = MAX_CHECKPOINT_BYTES
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        try:
            size = os.stat(source).st_size
            if size > cap:
                raise CheckpointError(f"checkpoint file {os.fspath(source)} is {size} bytes, more than {cap}")
            with open(source, "rb") as fh:
                data = fh.read(cap + 1)
        except OSError as e:
            raise CheckpointError(f"cannot read checkpoint file {os.fspath(source)}: {e.strerror or e}") from e
    elif hasattr(source, "read"):
        try:
            if getattr(source, "seekable", lambda: False)():
                source.seek(0)
            data = source.read(cap + 1)
        except (OSError, ValueError) as e:
            raise CheckpointError(f"cannot read the checkpoint upload: {e}") from e
        if not isinstance(data, (bytes, bytearray)):
            raise CheckpointError("the checkpoint upload must be opened in binary mode")
        data = bytes(data)
    else:
        raise CheckpointError(f"cannot load a checkpoint from a {type(source).__name__}")
    if len(data) > cap:
        raise CheckpointError(f"the checkpoint is larger than {cap} bytes")
    if not data:
        raise CheckpointError("the checkpoint is empty (0 bytes)")
    return data


def _check_directory_record(data: bytes) -> None:
    """Refuse archives whose end-of-central-directory record announces too many members or a huge directory,
    before zipfile parses that directory."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - _ZIP_EOCD.size - 0xFFFF))
    if at < 0 or at + _ZIP_EOCD.size > len(data):
        raise CheckpointError("not a checkpoint: the data is not a .npz (zip) archive, or the file is cut short")
    _, disk, _, _, n_entries, dir_size, _, _ = _ZIP_EOCD.unpack_from(data, at)
    if disk != 0 or n_entries == 0xFFFF or dir_size == 0xFFFFFFFF:
        raise CheckpointError("not a checkpoint: multi-disk and zip64 archive directories are not supported")
    if n_entries > MAX_MEMBERS:
        raise CheckpointError(f"the checkpoint archive has {n_entries} members, more than {MAX_MEMBERS}")
    if dir_size > MAX_DIRECTORY_BYTES:
        raise CheckpointError(f"the checkpoint archive directory is {dir_size} bytes, more than {MAX_DIRECTORY_BYTES}")


def _open_archive(data: bytes) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The archive and its members by key (name without ``.npy``), checked from the zip directory alone."""
    _check_directory_record(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as e:
        raise CheckpointError(f"not a checkpoint: the data is not a readable .npz (zip) archive ({e})") from e
    if len(infos) > MAX_MEMBERS:
        raise CheckpointError(f"the checkpoint archive has {len(infos)} members, more than {MAX_MEMBERS}")
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        if not name.endswith(".npy"):
            raise CheckpointError(f"the checkpoint archive holds {name!r}, which is not a .npy array")
        key = name[: -len(".npy")]
        if key in members:
            raise CheckpointError(f"the checkpoint archive holds {name!r} more than once")
        if info.flag_bits & 0x1:
            raise CheckpointError(f"checkpoint member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise CheckpointError(f"checkpoint member {name!r} uses an unsupported compression method")
        total += info.file_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise CheckpointError(
                f"the checkpoint archive would expand to more than {MAX_UNCOMPRESSED_BYTES} bytes "
                f"(member {name!r} declares {info.file_size} bytes), more than a checkpoint is written with: refused "
                "as a possible zip bomb"
            )
        members[key] = info
    return archive, members


def _check_npy_header(archive: zipfile.ZipFile, key: str, info: zipfile.ZipInfo) -> None:
    """Parse a member's .npy header without reading its data: no object dtypes, declared size == actual size."""
    try:
        with archive.open(info) as fp:
            version = npy_format.read_magic(fp)
            if version == (1, 0):
                shape, _, dtype = npy_format.read_array_header_1_0(fp, max_header_size=MAX_NPY_HEADER)
            elif version in ((2, 0), (3, 0)):
                shape, _, dtype = npy_format.read_array_header_2_0(fp, max_header_size=MAX_NPY_HEADER)
            else:
                raise CheckpointError(f"checkpoint entry {key} has unsupported .npy version {version}")
            header_end = fp.tell()
    except CheckpointError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError, SyntaxError) as e:
        raise CheckpointError(f"checkpoint entry {key} is not a valid .npy array ({e})") from e
    if dtype.hasobject:
        raise CheckpointError(
            f"checkpoint entry {key} holds Python objects (dtype {dtype}); objects would have to be unpickled, "
            "which is never done with uploaded files"
        )
    if dtype.kind not in "biufcUS" or dtype.names is not None or dtype.subdtype is not None:
        raise CheckpointError(f"checkpoint entry {key} has unsupported dtype {dtype}")
    if any(d < 0 for d in shape):
        raise CheckpointError(f"checkpoint entry {key} declares a negative dimension: {tuple(shape)}")
    n_bytes = math.prod(shape) * dtype.itemsize
    if header_end + n_bytes != info.file_size:
        raise CheckpointError(
            f"checkpoint entry {key} declares shape {tuple(shape)} of {dtype} ({n_bytes} bytes) but holds "
            f"{info.file_size - header_end} bytes of data"
        )


def _read_arrays(data: bytes, keys) -> dict[str, np.ndarray]:
    """Read the given (header-checked) members with np.load(allow_pickle=False)."""
    out = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for key in keys:
                out[key] = npz[key]
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, RuntimeError) as e:
        raise CheckpointError(f"checkpoint entries could not be read ({e})") from e
    return out


def load_checkpoint(source: str | os.PathLike | bytes | bytearray | memoryview | BinaryIO) -> Checkpoint:
    """Read and validate a checkpoint from a path, bytes, or a binary file-like (e.g. Streamlit's UploadedFile).

    Raises CheckpointError with a specific message for anything that is not a well-formed checkpoint.
    """
    data = _read_source(source)
    archive, members = _open_archive(data)
    with archive:
        for key in ("format", "config_json"):
            if key not in members:
                raise CheckpointError(f"not an RNN Carry Lab checkpoint: it has no {key!r} entry")
            _check_npy_header(archive, key, members[key])
        head = _read_arrays(data, ("format", "config_json"))
        _check_format(head["format"])
        config = _config_from(head["config_json"])
        _check_cell(set(members), config)
        _check_key_set(set(members), expected_keys(config))
        rest = [k for k in members if k not in head]
        for key in rest:
            _check_npy_header(archive, key, members[key])
        arrays = {**head, **_read_arrays(data, rest)}
    return _checkpoint_from_arrays(arrays)


# -- validation --------------------------------------------------------------------------------------------------
def _check_format(arr: np.ndarray) -> None:
    tag = _text_value(arr, "format")
    if tag != FORMAT_TAG:
        raise CheckpointError(f"not an RNN Carry Lab checkpoint: format tag {tag[:60]!r}, expected {FORMAT_TAG!r}")


def _text_value(arr: np.ndarray, key: str) -> str:
    if arr.dtype.kind != "U" or arr.shape != ():
        raise CheckpointError(f"checkpoint entry {key} must be a text scalar, got dtype {arr.dtype} shape {arr.shape}")
    text = str(arr.item())
    if len(text) > MAX_TEXT_CHARS:
        raise CheckpointError(f"checkpoint entry {key} is longer than {MAX_TEXT_CHARS} characters")
    return text


def _json_value(arr: np.ndarray, key: str):
    text = _text_value(arr, key)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"checkpoint entry {key} is not valid JSON ({e})") from e


def _config_from(arr: np.ndarray) -> TrainConfig:
    d = _json_value(arr, "config_json")
    if not isinstance(d, dict):
        raise CheckpointError(f"checkpoint configuration must be a JSON object, got {type(d).__name__}")
    try:
        return TrainConfig.from_dict(d)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"checkpoint configuration is invalid: {e}") from e


def _optimizer_template(config: TrainConfig, n_params: int) -> dict[str, np.ndarray]:
    """The optimizer's state arrays for this config (their names, shapes and dtypes)."""
    opt = make_optimizer(config.optimizer, n_params, np.dtype(config.dtype), config.clip, config.momentum)
    return opt.state()


def _param_shapes(config: TrainConfig) -> dict[str, tuple[int, ...]]:
    """The parameters a checkpoint of this config holds: its cell's, by name."""
    return cell_class(config.cell).param_shapes(config.task.n_in, config.n_hidden, 1)


def _n_params(config: TrainConfig) -> int:
    return sum(int(np.prod(shape)) for shape in _param_shapes(config).values())


def _all_param_names() -> set[str]:
    return {name for cls in CELL_CLASSES.values() for name in cls.param_shapes(1, 1)}


def expected_keys(config: TrainConfig) -> set[str]:
    """The exact member names (without ``.npy``) a checkpoint of a run with this config holds."""
    keys = {"format", "config_json", "step", "solved_at_step", *_param_shapes(config)}
    keys |= {"steplog_steps", "steplog_error", "steplog_stride", "steplog_capacity"}
    keys |= {"steplog_partial", "steplog_partial_sum"}
    keys |= {"evallog_capacity", EVAL_PREFIX + "step"}  # and one eval_<column> per other logged column
    keys |= {f"opt_{name}" for name in _optimizer_template(config, 1)}
    if config.rng == "legacy":
        keys |= {"rng_mt_keys", "rng_mt_pos", "rng_mt_has_gauss", "rng_mt_gauss"}
    else:
        keys.add("rng_state_json")
    keys |= {"snapshot_steps", "snapshot_thetas", "snapshot_every", "snapshot_max_count"}
    keys |= {"last_grad_norms", "last_example"}
    return keys


def _is_eval_key(key: str) -> bool:
    return key.startswith(EVAL_PREFIX) and EVAL_NAME.fullmatch(key[len(EVAL_PREFIX) :]) is not None


def _check_key_set(present: set[str], expected: set[str]) -> None:
    """Exactly the expected keys, plus ``eval_<column>`` entries for the evaluation log's other columns."""
    missing = expected - present
    extra = {k for k in present - expected if not _is_eval_key(k)}
    if missing:
        raise CheckpointError(
            f"checkpoint is missing entr{'y' if len(missing) == 1 else 'ies'}: {', '.join(sorted(missing))}"
        )
    if extra:
        raise CheckpointError(
            f"checkpoint has unknown entr{'y' if len(extra) == 1 else 'ies'}: {', '.join(sorted(extra))}"
        )
    n_columns = sum(k.startswith(EVAL_PREFIX) for k in present)
    if n_columns > MAX_EVAL_COLUMNS:
        raise CheckpointError(f"checkpoint has {n_columns} evaluation columns, more than {MAX_EVAL_COLUMNS}")


def _check_cell(present: set[str], config: TrainConfig) -> None:
    """Parameters of another cell than the configuration's: say which, before the key check lists names."""
    params = present & _all_param_names()
    if params == set(_param_shapes(config)):
        return
    fits = [cell for cell, cls in CELL_CLASSES.items() if set(cls.param_shapes(1, 1)) == params]
    if fits:
        raise CheckpointError(
            f"checkpoint holds a {' or '.join(fits)} cell's parameters ({', '.join(sorted(params))}), but its "
            f"configuration says cell {config.cell!r}"
        )


def _label(key: str) -> str:
    return f"checkpoint parameter {key}" if key in _all_param_names() else f"checkpoint entry {key}"


def _float_array(
    arrays: dict, key: str, shape: tuple, *, run_dtype: str | None = None, nan_ok: bool = False, inf_ok: bool = False
) -> np.ndarray:
    """A float array of this shape, finite (NaN allowed with nan_ok, +inf with inf_ok) and, with run_dtype, finite
    once cast to the run's dtype: a float32 run cannot hold 1e300."""
    arr = arrays[key]
    if arr.dtype not in (np.float32, np.float64):
        raise CheckpointError(f"{_label(key)} must hold floating-point numbers, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise CheckpointError(f"{_label(key)} has shape {arr.shape}, expected {shape}")
    bad = ~np.isfinite(arr)
    if nan_ok:
        bad &= ~np.isnan(arr)
    if inf_ok:
        bad &= ~np.isposinf(arr)
    if bad.any():
        raise CheckpointError(f"{_label(key)} contains NaN or infinite values")
    if run_dtype is not None and np.dtype(run_dtype).itemsize < arr.dtype.itemsize:
        with np.errstate(over="ignore"):
            overflows = np.isinf(arr.astype(run_dtype)) & np.isfinite(arr)
        if overflows.any():
            value = float(arr[overflows].flat[0])
            raise CheckpointError(
                f"{_label(key)} holds {value:.4g}, which overflows {run_dtype}, the run's dtype (largest "
                f"{np.finfo(run_dtype).max:.4g})"
            )
    return np.array(arr)


def _int_array(arrays: dict, key: str, shape: tuple, lo: int = 0, hi: int = MAX_STEP) -> np.ndarray:
    """An integer array with every value in [lo, hi], as int64 (uint64 only where the values need it)."""
    arr = arrays[key]
    if arr.dtype.kind not in "iu":
        raise CheckpointError(f"{_label(key)} must hold whole numbers, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise CheckpointError(f"{_label(key)} has shape {arr.shape}, expected {shape}")
    if arr.size:
        low, high = int(arr.min()), int(arr.max())
        if low < lo or high > hi:
            bad = low if low < lo else high
            raise CheckpointError(f"{_label(key)} holds {bad}, outside {lo}..{hi}")
    return np.array(arr, dtype=np.uint64 if hi >= 2**63 else np.int64)


def _int_scalar(arrays: dict, key: str, lo: int = 0, hi: int = MAX_STEP) -> int:
    return int(_int_array(arrays, key, (), lo, hi))


def _within_trainer_limit(what: str, value: int, limit: int, unit: str) -> None:
    """Refuse a history store larger than the trainer's own (the file was not written by this trainer, and loading
    it would take many times a trained session's memory)."""
    if value > limit:
        raise CheckpointError(
            f"checkpoint {what} is {value:,} {unit}, but a trainer keeps at most {limit:,}: refused, as a file this "
            "program wrote never holds more"
        )


def _length(arrays: dict, key: str) -> int:
    """The first dimension of a variable-length 1-D or 2-D history entry (its full shape is checked later)."""
    shape = arrays[key].shape
    if not shape:
        raise CheckpointError(f"{_label(key)} must be an array, got a scalar")
    return shape[0]


def _checkpoint_from_arrays(arrays: dict[str, np.ndarray]) -> Checkpoint:
    """Validate every array against the config and each other; build the Checkpoint. Raises CheckpointError."""
    _check_format(arrays["format"])
    config = _config_from(arrays["config_json"])
    _check_cell(set(arrays), config)
    _check_key_set(set(arrays), expected_keys(config))
    T, H = config.n_bits, config.n_hidden
    n_params = _n_params(config)

    params = _params(arrays, config)
    if config.variant == "trask" and (params["b_rec"].any() or params["b_out"].any()):
        raise CheckpointError("checkpoint has non-zero biases, but variant 'trask' has none")

    step = _int_scalar(arrays, "step")
    solved = _int_scalar(arrays, "solved_at_step", -1, step)

    # step history
    step_cap = _int_scalar(arrays, "steplog_capacity", 2, MAX_STEP)
    _within_trainer_limit("step log capacity", step_cap, STEP_LOG_CAPACITY, "points")
    if step_cap % 2:
        raise CheckpointError(f"checkpoint entry steplog_capacity must be even, got {step_cap}")
    n_points = _length(arrays, "steplog_steps")
    steps = _int_array(arrays, "steplog_steps", (n_points,), 0, max(step - 1, 0))
    error = _float_array(arrays, "steplog_error", (n_points,))
    stride = _int_scalar(arrays, "steplog_stride", 1, MAX_STEP)
    partial_first, partial_count = (int(v) for v in _int_array(arrays, "steplog_partial", (2,), 0, step))
    partial_sum = float(_float_array(arrays, "steplog_partial_sum", ()))
    if stride & (stride - 1):
        raise CheckpointError(f"checkpoint step history stride must be a power of two, got {stride}")
    if n_points >= step_cap:
        raise CheckpointError(f"checkpoint step history has {n_points} points, more than {step_cap - 1}")
    if n_points > 1 and not (np.diff(steps) > 0).all():
        raise CheckpointError("checkpoint step history steps are not increasing")
    if partial_count >= stride:
        raise CheckpointError(f"checkpoint step history's last point holds {partial_count} steps, stride {stride}")
    if n_points * stride + partial_count != step:
        raise CheckpointError(
            f"checkpoint step history covers {n_points * stride + partial_count} steps, but the checkpoint is at "
            f"step {step}"
        )

    # evaluation log
    eval_cap = _int_scalar(arrays, "evallog_capacity", 2, MAX_STEP)
    _within_trainer_limit("evaluation log capacity", eval_cap, EVAL_LOG_CAPACITY, "records")
    n_evals = _length(arrays, EVAL_PREFIX + "step")
    if n_evals >= eval_cap:
        raise CheckpointError(f"checkpoint evaluation history has {n_evals} records, more than {eval_cap - 1}")
    eval_steps = _int_array(arrays, EVAL_PREFIX + "step", (n_evals,), 0, step)
    if n_evals > 1 and (np.diff(eval_steps) < 0).any():
        raise CheckpointError("checkpoint evaluation history steps are not in order")
    eval_columns: dict[str, np.ndarray] = {"step": eval_steps}
    for key in sorted(k for k in arrays if k.startswith(EVAL_PREFIX) and k != EVAL_PREFIX + "step"):
        eval_columns[key[len(EVAL_PREFIX) :]] = _eval_column(arrays, key, n_evals, (T, H))

    # optimizer
    optimizer_state = {}
    for name, template in _optimizer_template(config, n_params).items():
        # Adam's second moment overflows to +inf once a gradient passes sqrt(float max); its update is then 0
        arr = _float_array(arrays, f"opt_{name}", template.shape, run_dtype=config.dtype, inf_ok=name == "v")
        if name in ("v", "t") and (arr < 0).any():
            raise CheckpointError(f"checkpoint entry opt_{name} must not be negative")
        if name == "t" and ((arr != np.round(arr)).any() or (arr > step).any()):
            raise CheckpointError(f"checkpoint entry opt_t must be a whole number of updates from 0 to {step}")
        optimizer_state[name] = arr

    rng_state = _rng_state(arrays, config)

    # snapshots
    n_snap = _length(arrays, "snapshot_steps")
    snapshot_steps = _int_array(arrays, "snapshot_steps", (n_snap,), 0, step)
    max_snapshots = _int_scalar(arrays, "snapshot_max_count", 1, MAX_STEP)
    _within_trainer_limit("snapshot store capacity", max_snapshots, snapshot_limit(n_params), "snapshots")
    snapshot_thetas = _float_array(arrays, "snapshot_thetas", (n_snap, n_params), run_dtype=config.dtype)
    snapshot_every = _int_scalar(arrays, "snapshot_every", 1, MAX_STEP)
    if n_snap > max_snapshots:
        raise CheckpointError(f"checkpoint has {n_snap} parameter snapshots, more than {max_snapshots}")
    if n_snap > 1 and not (np.diff(snapshot_steps) > 0).all():
        raise CheckpointError("checkpoint snapshot steps are not increasing")

    last_grad_norms = _float_array(arrays, "last_grad_norms", (T,), nan_ok=True, inf_ok=True)
    if (last_grad_norms < 0).any():
        raise CheckpointError("checkpoint entry last_grad_norms must not be negative")
    a, b, op_index = (int(v) for v in _int_array(arrays, "last_example", (3,), 0, 2**64 - 1))
    if op_index >= len(OPERATORS):
        raise CheckpointError(f"checkpoint entry last_example has operator index {op_index}")

    return Checkpoint(
        config=config,
        params=params,
        step=step,
        solved_at_step=None if solved < 0 else solved,
        step_history=StepHistory(steps, error, stride, step_cap, partial_first, partial_count, partial_sum),
        eval_columns=eval_columns,
        eval_capacity=eval_cap,
        optimizer_state=optimizer_state,
        rng_state=rng_state,
        snapshot_steps=snapshot_steps,
        snapshot_thetas=snapshot_thetas,
        snapshot_every=snapshot_every,
        snapshot_max_count=max_snapshots,
        last_grad_norms=last_grad_norms,
        last_example=(a, b, op_index),
    )


def _params(arrays: dict, config: TrainConfig) -> dict[str, np.ndarray]:
    """The cell's parameters, each checked against the config's shapes; a shape that fits another cell says so."""
    n_in, H = config.task.n_in, config.n_hidden
    params = {}
    for name, shape in _param_shapes(config).items():
        got = arrays[name].shape
        fits = [c for c, cls in CELL_CLASSES.items() if cls.param_shapes(n_in, H, 1).get(name) == got]
        if got != shape and fits:
            raise CheckpointError(
                f"checkpoint parameter {name} has shape {got}, which is a {' or '.join(fits)} cell's, but the "
                f"checkpoint's configuration says cell {config.cell!r} (expected {shape})"
            )
        params[name] = _float_array(arrays, name, shape, run_dtype=config.dtype)
    return params


def _eval_column(arrays: dict, key: str, n_evals: int, row_lengths: tuple[int, ...]) -> np.ndarray:
    """A float column of the evaluation log: (n,) or (n, k) with k one of row_lengths; NaN allowed, inf not."""
    arr = arrays[key]
    if arr.dtype not in (np.float32, np.float64):
        raise CheckpointError(f"checkpoint entry {key} must hold floating-point numbers, got dtype {arr.dtype}")
    if arr.shape != (n_evals,) and not (arr.ndim == 2 and arr.shape[0] == n_evals and arr.shape[1] in row_lengths):
        raise CheckpointError(
            f"checkpoint entry {key} has shape {arr.shape}, expected ({n_evals},) or ({n_evals}, k) with k one of "
            f"{row_lengths}"
        )
    name, known = key[len(EVAL_PREFIX) :], arr[~np.isnan(arr)]
    if np.isneginf(known).any() or (np.isposinf(known).any() and name not in MAGNITUDE_COLUMNS):
        raise CheckpointError(f"checkpoint entry {key} contains infinite values")
    if name in UNIT_INTERVAL_COLUMNS and ((known < 0) | (known > 1)).any():
        raise CheckpointError(f"checkpoint entry {key} must hold values from 0 to 1")
    if name in NON_NEGATIVE_COLUMNS and (known < 0).any():
        raise CheckpointError(f"checkpoint entry {key} must not be negative")
    return np.array(arr, dtype=np.float64)


def _rng_state(arrays: dict, config: TrainConfig) -> dict | tuple:
    """The random generator state, checked field by field and then by a throwaway generator."""
    if config.rng == "legacy":
        keys = _int_array(arrays, "rng_mt_keys", (MT_KEYS,), 0, 2**32 - 1).astype(np.uint32)
        pos = _int_scalar(arrays, "rng_mt_pos", 0, MT_KEYS)
        has_gauss = _int_scalar(arrays, "rng_mt_has_gauss", 0, 1)
        gauss = float(_float_array(arrays, "rng_mt_gauss", ()))
        state: dict | tuple = ("MT19937", keys, pos, has_gauss, gauss)
        probe = lambda: np.random.RandomState().set_state(state)  # noqa: E731
    else:
        state = _json_value(arrays["rng_state_json"], "rng_state_json")
        inner = state.get("state") if isinstance(state, dict) else None
        ok = (
            isinstance(state, dict)
            and set(state) == {"bit_generator", "state", "has_uint32", "uinteger"}
            and state["bit_generator"] == "PCG64"
            and isinstance(inner, dict)
            and set(inner) == {"state", "inc"}
            and all(_is_int_in(inner[k], 0, 2**128 - 1) for k in ("state", "inc"))
            and _is_int_in(state["has_uint32"], 0, 1)
            and _is_int_in(state["uinteger"], 0, 2**32 - 1)
        )
        if not ok:
            raise CheckpointError("checkpoint entry rng_state_json is not a PCG64 generator state")

        def probe():
            np.random.PCG64().state = state

    try:
        probe()
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise CheckpointError(f"checkpoint random generator state is invalid ({e})") from e
    return state


def _is_int_in(value, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


# -- restoring history objects -----------------------------------------------------------------------------------
def _restore_step_log(h: StepHistory) -> StepLog:
    log = StepLog.from_state(h.steps.astype(np.int64), h.error.astype(np.float64), h.stride, h.capacity)
    log._acc_first, log._acc_n, log._acc_sum = h.partial_first, h.partial_count, h.partial_sum
    return log


def _restore_eval_log(columns: dict[str, np.ndarray], capacity: int, template: EvalLog) -> EvalLog:
    """The saved evaluation log, with exactly the columns this version of the trainer logs (``template``, a fresh
    trainer's log): a column the file lacks (a file from an older version) is filled with NaN, a column the
    trainer no longer logs is dropped, so the next evaluation appends cleanly."""
    n = len(columns["step"])
    state = {}
    for name, rows in template.columns.items():
        row_shape = np.shape(rows[0])
        column = columns.get(name)
        if column is None or column.shape[1:] != row_shape:
            column = np.full((n, *row_shape), np.nan)
        state[name] = column
    log = EvalLog.from_state(state, capacity)
    for name, column in state.items():
        if column.ndim == 1:  # scalars back to Python numbers, as the trainer logs them
            log.columns[name] = column.tolist()
    return log


# -- several runs in one file ------------------------------------------------------------------------------------
# A runs file is an .npz of its own: a format tag, the runs' names (text, (n,)), their training seconds ((n,)
# float64) and one member ``run_<i>`` per run holding that run's whole checkpoint file as uint8 bytes. Each inner
# checkpoint goes through `load_checkpoint` on its own, so a corrupt run is named and the good ones still load.
RUNS_FORMAT_TAG = "rnn-carry-lab-runs/1"
MAX_RUNS = 16
MAX_RUN_NAME = 200


class NamedRun(NamedTuple):
    name: str
    seconds: float
    checkpoint: Checkpoint


def runs_checkpoint_bytes(runs: list[tuple[str, float, Trainer]]) -> bytes:
    """Several runs, each (name, training seconds, trainer), as one ``.npz`` file. CheckpointError if a run cannot
    be saved or the file would be larger than MAX_CHECKPOINT_BYTES."""
    if not 1 <= len(runs) <= MAX_RUNS:
        raise CheckpointError(f"a runs file holds 1 to {MAX_RUNS} runs, not {len(runs)}")
    arrays = {
        "runs_format": np.array(RUNS_FORMAT_TAG),
        "run_names": np.array([str(name)[:MAX_RUN_NAME] for name, _, _ in runs], dtype=f"<U{MAX_RUN_NAME}"),
        "run_seconds": np.array([float(seconds) for _, seconds, _ in runs], dtype=np.float64),
    }
    for i, (_, _, trainer) in enumerate(runs):
        arrays[f"run_{i}"] = np.frombuffer(checkpoint_bytes(trainer), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"the runs file would be {len(data)} bytes, more than {MAX_CHECKPOINT_BYTES}")
    return data


def is_runs_checkpoint(data: bytes) -> bool:
    """True when `data` is a zip archive with a ``runs_format`` member (a runs file, valid or not)."""
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
            return "runs_format.npy" in archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError):
        return False


def load_runs_checkpoint(source) -> tuple[list[NamedRun], list[str]]:
    """The runs of a runs file that load, and one message per run that does not ("run 2 'LSTM': ..."). The file
    itself is checked like a checkpoint (size, archive, headers, no pickles); a bad file raises CheckpointError."""
    data = _read_source(source)
    archive, members = _open_archive(data)
    with archive:
        for key in ("runs_format", "run_names", "run_seconds"):
            if key not in members:
                raise CheckpointError(f"not an RNN Carry Lab runs file: it has no {key!r} entry")
        for key, info in members.items():
            _check_npy_header(archive, key, info)
        head = _read_arrays(data, ("runs_format", "run_names", "run_seconds"))
        tag = _text_value(head["runs_format"], "runs_format")
        if tag != RUNS_FORMAT_TAG:
            raise CheckpointError(f"not an RNN Carry Lab runs file: format tag {tag[:60]!r}")
        names, seconds = head["run_names"], head["run_seconds"]
        if names.dtype.kind != "U" or names.ndim != 1 or not 1 <= names.size <= MAX_RUNS:
            raise CheckpointError(f"run_names must be 1 to {MAX_RUNS} names, got dtype {names.dtype} {names.shape}")
        if seconds.dtype.kind != "f" or seconds.shape != names.shape:
            raise CheckpointError("run_seconds must hold one float per run")
        expected = {"runs_format", "run_names", "run_seconds"} | {f"run_{i}" for i in range(names.size)}
        if set(members) - expected:
            raise CheckpointError(f"the runs file holds unknown entries {sorted(set(members) - expected)[:4]}")
        loaded, errors = [], []
        for i, raw in enumerate(names.tolist()):
            name = "".join(ch if ch.isprintable() else "?" for ch in str(raw))[:MAX_RUN_NAME]
            try:
                if f"run_{i}" not in members:
                    raise CheckpointError("its entry is missing")
                blob = _read_arrays(data, (f"run_{i}",))[f"run_{i}"]
                if blob.dtype != np.uint8 or blob.ndim != 1:
                    raise CheckpointError(f"its entry must be bytes (uint8), got {blob.dtype} {blob.shape}")
                spent = float(seconds[i])
                checkpoint = load_checkpoint(blob.tobytes())
            except CheckpointError as exc:
                errors.append(f"run {i + 1} {name!r}: {str(exc).rstrip('.')}")
                continue
            loaded.append(NamedRun(name, spent if np.isfinite(spent) and spent >= 0 else 0.0, checkpoint))
    return loaded, errors
