"""A sweep's results file: one Parquet row per finished run, written so that no finished run is ever lost.

Why a journal beside the file: rows arrive one run at a time, for hours, and a sweep may be stopped by Ctrl-C or
a dead machine at any moment. Each finished run is appended as one JSON line to ``FILE.journal`` and flushed to
disk (fsync) before it counts as done; from time to time and at the end the journal is folded into ``FILE``
(written to a temporary file, fsynced, renamed over it: a reader never sees half a Parquet file) and removed. A
kill leaves at most one half-written last line, which is ignored (that run simply runs again). Opening the same
path again reads both, so the same sweep resumes with only the missing runs, and never runs one twice.

The file says what it is: its Parquet metadata holds the sweep's fixed settings, grid fields and step budget.
A file that is not Parquet, not ours, or made with other fixed settings is refused with a clear message and
left untouched. Columns: every TrainConfig field (the grid's and the fixed ones), ``budget``, then
``rnn_core.sweep.RESULT_COLUMNS``; ``solved_at_step`` is empty (null) for a run that did not solve.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from rnn_core.sweep import RESULT_COLUMNS
from rnn_core.train import TrainConfig

META_KEY = b"rnn_core.sweep"
FORMAT = 1
FLUSH_SECONDS = 30.0  # the journal is folded into the Parquet file at least this often while rows arrive
_FIELD_TYPES = {f.name: type(f.default) for f in fields(TrainConfig)}


class ResultsError(ValueError):
    """The results file cannot be used for this sweep (unreadable, not ours, other settings); nothing was changed."""


@dataclass(frozen=True)
class SweepSpec:
    """What makes rows belong to one sweep: the fixed settings (every TrainConfig field except the grid's and the
    seed), the grid's fields, and the step budget."""

    fixed: dict
    grid_fields: tuple[str, ...]
    budget: int

    @classmethod
    def of(cls, base: TrainConfig, grid_fields: Sequence[str], budget: int) -> SweepSpec:
        skip = {*grid_fields, "seed"}
        return cls({k: v for k, v in base.to_dict().items() if k not in skip}, tuple(grid_fields), int(budget))

    def to_json(self) -> str:
        d = {"format": FORMAT, "fixed": self.fixed, "grid": list(self.grid_fields), "budget": self.budget}
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str | bytes) -> SweepSpec:
        d = json.loads(text)
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise ValueError(f"unknown results format {d.get('format') if isinstance(d, dict) else d!r}")
        return cls(dict(d["fixed"]), tuple(d["grid"]), int(d["budget"]))

    def key(self, row: Mapping) -> tuple:
        """A run's identity in this sweep: its grid values and seed."""
        return (*(row[f] for f in self.grid_fields), int(row["seed"]))

    def differences(self, other: SweepSpec) -> list[str]:
        """What ``other`` (a file's) has differently, in words; [] if rows of one belong to the other."""
        out = []
        if other.grid_fields != self.grid_fields:
            out.append(
                f"it varies {', '.join(other.grid_fields) or 'nothing'}, this sweep varies "
                f"{', '.join(self.grid_fields) or 'nothing'}"
            )
        if other.budget != self.budget:
            out.append(f"budget {other.budget} there, {self.budget} here")
        for name in sorted(set(self.fixed) | set(other.fixed)):
            a, b = other.fixed.get(name, "(none)"), self.fixed.get(name, "(none)")
            if a != b and name not in self.grid_fields and name not in other.grid_fields:
                out.append(f"{name} {a} there, {b} here")
        return out


def _schema():
    import pyarrow as pa

    kinds = {int: pa.int64(), float: pa.float64(), str: pa.string(), bool: pa.bool_()}
    columns = [(name, kinds[kind]) for name, kind in _FIELD_TYPES.items()]
    columns += [
        ("budget", pa.int64()),
        ("solved_at_step", pa.int64()),
        ("accuracy", pa.float64()),
        ("error", pa.float64()),
        ("steps", pa.int64()),
        ("diverged", pa.bool_()),
        ("seconds", pa.float64()),
    ]
    assert [c for c, _ in columns[-len(RESULT_COLUMNS) :]] == list(RESULT_COLUMNS)
    return pa.schema(columns)


def make_row(spec: SweepSpec, point: Mapping, result: Mapping) -> dict:
    """One results row: the fixed settings, the grid point's values, the seed, the budget and the result columns."""
    return {**spec.fixed, **point, "seed": int(result["seed"]), "budget": spec.budget,
            **{c: result[c] for c in RESULT_COLUMNS}}  # fmt: skip


def read_results(source: str | os.PathLike | bytes, name: str | None = None) -> tuple[SweepSpec, list[dict]]:
    """(spec, rows) of a results file (a path, or the file's bytes, e.g. an upload). ResultsError if it is not one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shown = name or (os.fspath(source) if not isinstance(source, bytes) else "the file")
    try:
        table = pq.read_table(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise ResultsError(f"{shown} is not a readable Parquet file ({_short(e)})") from None
    meta = (table.schema.metadata or {}).get(META_KEY)
    if meta is None:
        raise ResultsError(f"{shown} is a Parquet file but not a sweep results file of rnn_core (no sweep metadata)")
    try:
        spec = SweepSpec.from_json(meta)
    except (ValueError, KeyError, TypeError) as e:
        raise ResultsError(f"{shown}: its sweep metadata is damaged ({_short(e)})") from None
    want = _schema()
    missing = [f.name for f in want if f.name not in table.schema.names]
    if missing:
        raise ResultsError(f"{shown}: columns missing: {', '.join(missing)}")
    try:
        table = table.select(want.names).cast(want)
    except (pa.ArrowException, ValueError) as e:
        raise ResultsError(f"{shown}: a column has the wrong type ({_short(e)})") from None
    return spec, table.to_pylist()


def _short(e: Exception) -> str:
    return " ".join(str(e).split())[:200] or type(e).__name__


class ResultsFile:
    """The results file of one sweep, opened for adding rows (see the module docstring).

    Opening reads what is there (the Parquet file and any journal left by an interrupted sweep) and checks that it
    belongs to ``spec``; ``rows`` and ``done`` (their keys) are then the finished runs. ``add(rows)`` makes rows
    durable at once; ``close()`` folds them into the Parquet file. ResultsError if the file is not this sweep's.
    """

    def __init__(self, path: str | os.PathLike, spec: SweepSpec):
        self.path = Path(path)
        self.journal = self.path.with_name(self.path.name + ".journal")
        self.spec = spec
        if self.path.is_dir():
            raise ResultsError(f"{self.path} is a folder; give a file name such as sweep.parquet")
        if not self.path.parent.is_dir():
            raise ResultsError(f"cannot write {self.path}: the folder {self.path.parent} does not exist")
        rows: list[dict] = []
        if self.path.exists():
            file_spec, rows = read_results(self.path)
            self._check(file_spec, self.path)
        rows += self._read_journal()
        self.rows: list[dict] = []
        self.done: set[tuple] = set()
        self._keep(rows)
        self._journal_file = None
        self._flushed_at = time.monotonic()
        if self.journal.exists():
            self.flush()  # fold the interrupted sweep's rows in now

    def _check(self, file_spec: SweepSpec, where: Path) -> None:
        diff = self.spec.differences(file_spec)
        if diff:
            raise ResultsError(
                f"{where} was made by another sweep ({'; '.join(diff)}). Nothing was changed: give another output "
                "file, or the same settings to resume it."
            )

    def _read_journal(self) -> list[dict]:
        if not self.journal.exists():
            return []
        lines = self.journal.read_bytes().split(b"\n")
        try:
            header = json.loads(lines[0])
            self._check(SweepSpec.from_json(json.dumps(header["rnn_core.sweep"])), self.journal)
        except ResultsError:
            raise
        except (ValueError, KeyError, TypeError):
            raise ResultsError(
                f"{self.journal} is not a sweep journal of rnn_core; move it away to start {self.path}"
            ) from None
        rows = []
        body = lines[1:]
        for i, line in enumerate(body):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                if i == len(body) - 1:  # the last line, cut short by a kill: that run was not finished
                    continue
                raise ResultsError(f"{self.journal}: line {i + 2} is damaged; move the file away") from None
        return rows

    def _keep(self, rows: Iterable[dict]) -> list[dict]:
        new = []
        for row in rows:
            key = self.spec.key(row)
            if key not in self.done:
                self.done.add(key)
                self.rows.append(row)
                new.append(row)
        return new

    def add(self, rows: Sequence[dict]) -> None:
        """Append finished runs (rows from ``make_row``); on disk (fsync) when this returns. A run already
        recorded is not recorded again."""
        new = self._keep(rows)
        if not new:
            return
        if self._journal_file is None:
            fresh = not self.journal.exists()
            self._journal_file = open(self.journal, "ab")  # noqa: SIM115 (held open while rows arrive)
            if fresh:
                header = {"rnn_core.sweep": json.loads(self.spec.to_json())}
                self._journal_file.write(json.dumps(header).encode() + b"\n")
        self._journal_file.write(b"".join(json.dumps(r).encode() + b"\n" for r in new))
        self._journal_file.flush()
        os.fsync(self._journal_file.fileno())
        if time.monotonic() - self._flushed_at > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write every row into the Parquet file (temporary file, fsync, rename), then drop the journal."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = _schema().with_metadata({META_KEY: self.spec.to_json().encode()})
        table = pa.Table.from_pylist(self.rows, schema=schema)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        pq.write_table(table, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)
        if self._journal_file is not None:
            self._journal_file.close()
            self._journal_file = None
        self.journal.unlink(missing_ok=True)
        self._flushed_at = time.monotonic()

    def close(self) -> None:
        """Fold the journal into the Parquet file (nothing is written when no run was added)."""
        if self._journal_file is not None or self.journal.exists():
            self.flush()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
