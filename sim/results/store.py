"""A result store on disk: per-chunk Parquet parts, a manifest, and combined tables.

Layout of a store folder::

    manifest.json                      provenance and progress (rewritten atomically)
    parts/summary-000000-000015.parquet     replications 0..15 (written last: the marker)
    parts/timeseries-000000-000015.parquet
    parts/parameters-000000-000015.parquet  (only with parameter uncertainty)
    failures/replication-000007.json   a replication that raised: index, seed, error
    summary.parquet, summary.csv       combined, in replication order   } written by
    timeseries.parquet                 combined, streamed part by part  } finalize()
    summary_stats.csv, timeseries_stats.parquet, parameters.csv         }

Every file is written to a temporary name and moved into place with
``os.replace``, so a reader (or a resumed run) never sees half a file. A part
holds consecutive replications ``a..b``, all of them; its summary file is
written after its other files, so a replication is *done* exactly when a
summary part covers it. A run killed at any instant therefore leaves only
whole parts (and perhaps orphaned time-series parts, which :meth:`open`
deletes), and resuming computes exactly the missing replications.

Combining never holds every trajectory in memory: the time series are copied
part by part into ``timeseries.parquet`` and their statistics are computed one
measure at a time (see :meth:`ResultStore.finalize`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sim.errors import CaresimError
from sim.results.run_result import ReplicationFailure, ReplicationTables, parameters_frame
from sim.results.stats import describe, describe_matrix

__all__ = [
    "ROW_GROUP_REPLICATIONS",
    "FinalFiles",
    "ResultStore",
    "atomic_write_bytes",
    "write_json",
]

MANIFEST = "manifest.json"

#: Folders this process holds the lock of (resolved path -> open lock file).
_HELD: dict[Path, Any] = {}
_PART = re.compile(r"^(summary|timeseries|parameters)-(\d{6,})-(\d{6,})\.parquet$")

#: Replications per row group of the combined ``timeseries.parquet``; fixed so
#: the file's bytes do not depend on how the batch was chunked or resumed.
ROW_GROUP_REPLICATIONS = 16


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``."""
    tmp = _tmp(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (non-JSON values as text)."""
    atomic_write_bytes(path, json.dumps(data, indent=2, default=str).encode("utf-8"))


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = _tmp(path)
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _atomic_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = _tmp(path)
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _runs(indices: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive runs ``(first, last)`` of sorted indices."""
    runs: list[tuple[int, int]] = []
    for k in sorted(indices):
        if runs and k == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], k)
        else:
            runs.append((k, k))
    return runs


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class FinalFiles:
    """Paths of the combined outputs of a store."""

    summary_parquet: Path
    summary_csv: Path
    timeseries: Path
    summary_stats: Path
    timeseries_stats: Path
    parameters: Path | None


class ResultStore:
    """A folder of results that grows chunk by chunk and can be resumed.

    Use :meth:`create` for a new batch and :meth:`open` to resume one. It
    is a sink for :func:`sim.experiment.runner.run_batch`.
    """

    def __init__(self, root: Path, manifest: dict[str, Any]):
        self.root = Path(root)
        self.manifest = manifest
        self.parts = self.root / "parts"
        self.failure_dir = self.root / "failures"
        self._done: dict[int, tuple[int, int]] = {}  # replication -> its part's range
        self._lock_handle: Any = None
        #: Damaged parts :meth:`open` set aside: ``((first, last), why)``.
        self.set_aside_now: list[tuple[tuple[int, int], str]] = []
        self._scan()

    # ------------------------------------------------------------- opening
    @staticmethod
    def check_new(root: str | Path) -> None:
        """Raise :class:`CaresimError` if a new store cannot be made in ``root``."""
        root = Path(root)
        if (root / MANIFEST).exists():
            raise CaresimError(
                f"{root} already holds results (it has a {MANIFEST}); finish them with "
                f"`caresim run --resume {root}`, or choose another --out folder"
            )
        if root.exists() and not root.is_dir():
            raise CaresimError(f"--out {root} is a file, not a folder")

    @classmethod
    def create(cls, root: str | Path, manifest: dict[str, Any]) -> ResultStore:
        """Start a new store in ``root`` (which must not hold results already)."""
        root = Path(root)
        cls.check_new(root)
        try:
            (root / "parts").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CaresimError(f"cannot create the output folder {root}: {exc}") from None
        store = cls(root, dict(manifest))
        store._lock()
        store.manifest.setdefault("status", "running")
        store.write_manifest()
        return store

    @staticmethod
    def _read_manifest(root: Path, what: str) -> dict[str, Any]:
        path = root / MANIFEST
        if not path.is_file():
            raise CaresimError(
                f"{what} {root}: no {MANIFEST} there, so it is not a caresim result folder "
                "(start a new batch with --out instead)"
            )
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CaresimError(
                f"{what} {root}: {MANIFEST} is damaged ({type(exc).__name__}: {exc}); the "
                "results in parts/ are intact, but without the manifest the config and seed "
                "they were made with are unknown: start a new batch with --out"
            ) from None
        if not isinstance(manifest, dict) or "config" not in manifest or "seed" not in manifest:
            raise CaresimError(
                f"{what} {root}: {MANIFEST} lacks the config and seed (it is incomplete or "
                "not caresim's); start a new batch with --out"
            )
        return manifest

    @classmethod
    def inspect(cls, root: str | Path) -> ResultStore:
        """Open a store to look at it (``caresim check``): no lock, nothing changed."""
        root = Path(root)
        return cls(root, cls._read_manifest(root, "check"))

    @classmethod
    def open(cls, root: str | Path) -> ResultStore:
        """Open an existing store to resume it.

        Temporary files and incomplete parts are deleted; damaged parts are
        set aside in ``damaged/`` so that their replications run again.
        """
        root = Path(root)
        manifest = cls._read_manifest(root, "--resume")
        (root / "parts").mkdir(exist_ok=True)
        store = cls(root, manifest)
        store._lock()
        store._clean()
        store.set_aside_now = store.set_aside_damaged()
        return store

    # ------------------------------------------------------------ checking
    def _lock(self) -> None:
        """Hold an exclusive lock on the folder while this process uses it.

        The lock is the process's: reopening a folder in the same process
        (a notebook, a test) reuses it; another process is refused.
        """
        key = self.root.resolve()
        if key in _HELD:
            self._lock_handle = _HELD[key]
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, as before
            return
        handle = open(self.root / ".lock", "a+")  # noqa: SIM115 - held for the process
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise CaresimError(
                f"{self.root} is in use by another caresim process (a run or resume of the "
                "same folder); wait for it to finish, or stop it first"
            ) from None
        self._lock_handle = handle
        _HELD[key] = handle

    def damaged_parts(self) -> list[tuple[tuple[int, int], str]]:
        """Parts that cannot be read back whole: ``((first, last), why)`` per range.

        Every file of a range (summary, time series, parameters) is opened
        and its replications checked against the range its name gives. A
        truncated, emptied or garbage file is damaged.
        """
        bad = []
        for r in sorted(set(self._done.values())):
            why = self._check_range(r)
            if why:
                bad.append((r, why))
        return bad

    def _check_range(self, r: tuple[int, int]) -> str:
        expected = set(range(r[0], r[1] + 1))
        uncertain = bool(self.manifest.get("parameter_uncertainty"))
        kinds = ["summary", "timeseries"] + (["parameters"] if uncertain else [])
        for kind in kinds:
            path = self._part(kind, r)
            if not path.is_file():
                return f"{path.name} is missing"
            try:
                table = pq.read_table(path, columns=["replication"])
            except (OSError, ValueError, pa.ArrowException) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                return f"{path.name} cannot be read ({first})"
            found = set(table.column("replication").to_pylist())
            if kind != "parameters" and found != expected:
                return f"{path.name} holds replications other than {r[0]}..{r[1]}"
        return ""

    def set_aside_damaged(self) -> list[tuple[tuple[int, int], str]]:
        """Move damaged parts to ``damaged/`` so their replications are run again.

        Returns what was set aside. Nothing is deleted: the files stay in
        ``damaged/`` for inspection.
        """
        bad = self.damaged_parts()
        if not bad:
            return bad
        aside = self.root / "damaged"
        aside.mkdir(exist_ok=True)
        for r, _why in bad:
            for kind in ("summary", "timeseries", "parameters"):
                path = self._part(kind, r)
                if path.exists():
                    os.replace(path, aside / f"{path.name}.{_now().replace(':', '')}")
            for k in range(r[0], r[1] + 1):
                self._done.pop(k, None)
        self.manifest["set_aside"] = [
            *self.manifest.get("set_aside", []),
            *({"replications": [a, b], "why": why, "when": _now()} for (a, b), why in bad),
        ]
        return bad

    def _scan(self) -> None:
        self._done.clear()
        if not self.parts.is_dir():
            return
        for path in self.parts.iterdir():
            m = _PART.match(path.name)
            if m and m.group(1) == "summary":
                a, b = int(m.group(2)), int(m.group(3))
                for k in range(a, b + 1):
                    if k in self._done:
                        raise CaresimError(
                            f"{self.root}: replication {k} is in two parts "
                            f"({self._done[k]} and {(a, b)}); the store is corrupt"
                        )
                    self._done[k] = (a, b)

    def _clean(self) -> None:
        """Delete temporary files and parts whose summary (the completion marker) is missing."""
        ranges = set(self._done.values())
        for path in self.parts.iterdir():
            m = _PART.match(path.name)
            temporary = path.name.startswith(".") and ".tmp-" in path.name
            orphan = (
                m is not None
                and m.group(1) != "summary"
                and (int(m.group(2)), int(m.group(3))) not in ranges
            )
            if temporary or orphan:
                path.unlink()
        for path in self.root.glob(".*.tmp-*"):
            path.unlink()

    # ----------------------------------------------------------- manifest
    def write_manifest(self) -> None:
        """Write the manifest atomically, with the current progress."""
        self.manifest["replications_done"] = len(self._done)
        self.manifest["failed"] = [
            {k: v for k, v in f.items() if k != "traceback"} for f in self.failures().values()
        ]
        self.manifest["updated"] = _now()
        write_json(self.root / MANIFEST, self.manifest)

    def update_manifest(self, **fields: Any) -> None:
        """Set manifest fields and write it."""
        self.manifest.update(fields)
        self.write_manifest()

    # ---------------------------------------------------------------- sink
    def done(self) -> set[int]:
        """Replication indices with results on disk."""
        return set(self._done)

    def failures(self) -> dict[int, dict[str, Any]]:
        """Failures on disk by replication index (index, seed, error, traceback)."""
        out: dict[int, dict[str, Any]] = {}
        if self.failure_dir.is_dir():
            for path in sorted(self.failure_dir.glob("replication-*.json")):
                rec = json.loads(path.read_text(encoding="utf-8"))
                out[int(rec["replication"])] = rec
        return out

    def add(self, items: Sequence[ReplicationTables | ReplicationFailure]) -> None:
        """Write the results of one task: one part per run of consecutive replications."""
        tables = {t.replication: t for t in items if isinstance(t, ReplicationTables)}
        for a, b in _runs(k for k in tables if k not in self._done):
            chunk = [tables[k] for k in range(a, b + 1)]
            name = f"{a:06d}-{b:06d}.parquet"
            params = parameters_frame(chunk)
            if not params.empty:
                _atomic_parquet(params, self.parts / f"parameters-{name}")
            ts = pd.concat([t.timeseries for t in chunk], ignore_index=True)
            _atomic_parquet(ts, self.parts / f"timeseries-{name}")
            summary = pd.concat([t.summary for t in chunk], ignore_index=True)
            _atomic_parquet(summary, self.parts / f"summary-{name}")  # the marker: last
            for k in range(a, b + 1):
                self._done[k] = (a, b)
                stale = self.failure_dir / f"replication-{k:06d}.json"
                if stale.exists():
                    stale.unlink()
        for item in items:
            if isinstance(item, ReplicationFailure):
                self.failure_dir.mkdir(exist_ok=True)
                rec = {
                    "replication": item.replication,
                    "seed": item.seed,
                    "scenario": item.scenario,
                    "error": item.error,
                    "traceback": item.traceback,
                }
                atomic_write_bytes(
                    self.failure_dir / f"replication-{item.replication:06d}.json",
                    json.dumps(rec, indent=2).encode("utf-8"),
                )
        self.write_manifest()

    # ------------------------------------------------------------- reading
    def _ranges(self, upto: int | None = None) -> list[tuple[int, int]]:
        ranges = sorted(set(self._done.values()))
        return [r for r in ranges if upto is None or r[0] < upto]

    def _part(self, kind: str, r: tuple[int, int]) -> Path:
        return self.parts / f"{kind}-{r[0]:06d}-{r[1]:06d}.parquet"

    def summary(self, upto: int | None = None) -> pd.DataFrame:
        """Summary rows of the done replications (below ``upto``), in replication order."""
        frames = [pd.read_parquet(self._part("summary", r)) for r in self._ranges(upto)]
        if not frames:
            return pd.DataFrame(columns=["scenario", "replication", "measure", "period", "value"])
        out = pd.concat(frames, ignore_index=True)
        if upto is not None:
            out = out[out["replication"] < upto].reset_index(drop=True)
        return out

    def parameters(self) -> pd.DataFrame:
        """Drawn parameter values of the done replications (empty without uncertainty)."""
        paths = [self._part("parameters", r) for r in self._ranges()]
        frames = [pd.read_parquet(p) for p in paths if p.exists()]
        if not frames:
            return pd.DataFrame(columns=["scenario", "replication", "parameter", "value"])
        return pd.concat(frames, ignore_index=True)

    def iter_timeseries(self) -> Iterator[pa.Table]:
        """Time-series parts as Arrow tables, in replication order."""
        for r in self._ranges():
            yield pq.read_table(self._part("timeseries", r))

    # ------------------------------------------------------------ combining
    def finalize(self, *, timeseries_format: str = "parquet") -> FinalFiles:
        """Write the combined tables and statistics of every done replication.

        Memory: the summary (one row per replication, measure and period) is
        read whole; the time series are streamed part by part into the
        combined file, and their statistics are computed one measure at a
        time, so at most one measure's values for all replications are held
        at once.
        """
        summary = self.summary()
        files = FinalFiles(
            summary_parquet=self.root / "summary.parquet",
            summary_csv=self.root / "summary.csv",
            timeseries=self.root / f"timeseries.{timeseries_format}",
            summary_stats=self.root / "summary_stats.csv",
            timeseries_stats=self.root / "timeseries_stats.parquet",
            parameters=None,
        )
        _atomic_parquet(summary, files.summary_parquet)
        _atomic_csv(summary, files.summary_csv)
        _atomic_csv(describe(summary, ["scenario", "measure", "period"]), files.summary_stats)
        if timeseries_format == "parquet":
            self._combine_timeseries_parquet(files.timeseries)
        elif timeseries_format == "csv":
            self._combine_timeseries_csv(files.timeseries)
        else:
            raise CaresimError(f"unknown time-series format {timeseries_format!r}")
        _atomic_parquet(self.timeseries_stats(), files.timeseries_stats)
        params = self.parameters()
        if not params.empty:
            files = FinalFiles(**{**files.__dict__, "parameters": self.root / "parameters.csv"})
            assert files.parameters is not None
            _atomic_csv(params, files.parameters)
        return files

    def _combine_timeseries_parquet(self, path: Path) -> None:
        tmp = _tmp(path)
        writer: pq.ParquetWriter | None = None
        buffer: list[pa.Table] = []
        try:
            for table in self.iter_timeseries():
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                buffer.append(table.cast(writer.schema))
                buffer = self._flush_groups(writer, buffer, final=False)
            if writer is not None:
                self._flush_groups(writer, buffer, final=True)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            pd.DataFrame(
                columns=["scenario", "replication", "date", "measure", "category", "value"]
            ).to_parquet(tmp, index=False)
        os.replace(tmp, path)

    @staticmethod
    def _flush_groups(
        writer: pq.ParquetWriter, buffer: list[pa.Table], *, final: bool
    ) -> list[pa.Table]:
        """Write whole blocks of ROW_GROUP_REPLICATIONS replications; keep the rest."""
        if not buffer:
            return buffer
        table = pa.concat_tables(buffer)
        reps = table.column("replication").to_numpy()
        if not len(reps):
            return []
        block = reps // ROW_GROUP_REPLICATIONS
        last = int(block[-1])
        start = 0
        # Rows are in replication order, so each block is one contiguous slice.
        bounds = [*((block[1:] != block[:-1]).nonzero()[0] + 1).tolist(), len(reps)]
        for end in bounds:
            if not final and int(block[start]) == last:
                break
            writer.write_table(table.slice(start, end - start), row_group_size=end - start)
            start = end
        return [] if start >= len(reps) else [table.slice(start)]

    def _combine_timeseries_csv(self, path: Path) -> None:
        tmp = _tmp(path)
        first = True
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            for table in self.iter_timeseries():
                table.to_pandas().to_csv(fh, index=False, header=first)
                first = False
            if first:
                fh.write("scenario,replication,date,measure,category,value\n")
        os.replace(tmp, path)

    def timeseries_stats(self) -> pd.DataFrame:
        """Statistics per date, measure and category, computed one measure at a time.

        Each replication normally has the same rows for a measure (same dates
        and categories, in the same order), so its values form a replications
        × cells matrix and :func:`sim.results.stats.describe_matrix` needs about one
        float per value. When they do not (a category that only some
        replications reached), the tidy :func:`sim.results.stats.describe` is used.
        """
        paths = [self._part("timeseries", r) for r in self._ranges()]
        if not paths:
            return pd.DataFrame()
        dataset = ds.dataset([str(p) for p in paths], format="parquet")
        first = pq.read_table(paths[0], columns=["scenario", "measure"])
        scenario = str(first.column("scenario")[0])
        measures = pd.unique(first.column("measure").to_pandas().astype(str))
        out = []
        for measure in measures:
            table = dataset.to_table(
                columns=["replication", "date", "category", "value"],
                filter=ds.field("measure") == measure,
            )
            stats = _matrix_stats(table)
            if stats is None:
                frame = table.to_pandas()
                stats = describe(frame, ["date", "category"])
            stats.insert(0, "scenario", scenario)
            stats.insert(2, "measure", measure)
            out.append(stats)
        stats = pd.concat(out, ignore_index=True)
        stats["category"] = stats["category"].astype(str)
        return stats


def _matrix_stats(table: pa.Table) -> pd.DataFrame | None:
    """Statistics by (date, category) if every replication has the same rows, else None."""
    rep = table.column("replication").to_numpy()
    if not len(rep):
        return None
    starts = np.flatnonzero(np.r_[True, rep[1:] != rep[:-1]])
    n_reps, k = len(starts), len(rep) // len(starts)
    if n_reps * k != len(rep) or not (np.diff(starts) == k).all():
        return None
    dates = table.column("date").to_numpy().reshape(n_reps, k)
    codes = np.asarray(table.column("category").to_pandas().cat.codes).reshape(n_reps, k)
    if not ((dates == dates[0]).all() and (codes == codes[0]).all()):
        return None
    categories = table.column("category").to_pandas()[:k].astype(str).to_numpy()
    values = table.column("value").to_numpy().reshape(n_reps, k)
    stats = describe_matrix(values)
    stats.insert(0, "date", pd.to_datetime(dates[0]))
    stats.insert(1, "category", categories)
    return stats
