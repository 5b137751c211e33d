"""Read a result folder back: the reader beside :mod:`sim.results.store`, its writer.

:func:`load_results` turns a folder written by ``caresim run`` (or
``compare``) into a :class:`~sim.results.run_result.RunResult`;
:func:`split_scenarios` splits a multi-scenario folder into one result per
scenario.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config.loader import config_from_dict
from sim.errors import CaresimError, ConfigError
from sim.results.run_result import RunResult

__all__ = ["load_results", "scenario_label", "split_scenarios"]

_SUMMARY_COLUMNS = ["scenario", "replication", "measure", "period", "value"]
_TIMESERIES_COLUMNS = ["scenario", "replication", "date", "measure", "category", "value"]


def _read_table(folder: Path, stem: str) -> pd.DataFrame | None:
    """Read ``stem.parquet`` or ``stem.csv`` from ``folder``; None when neither exists."""
    parquet = folder / f"{stem}.parquet"
    csv = folder / f"{stem}.csv"
    try:
        if parquet.exists():
            return pd.read_parquet(parquet)
        if csv.exists():
            dtypes = {"period": str, "scenario": str, "measure": str, "category": str}
            return pd.read_csv(csv, dtype=dtypes)
    except (OSError, ValueError) as exc:
        raise CaresimError(f"{folder}: cannot read {stem} table: {exc}") from None
    return None


def _read_parts(folder: Path, stem: str) -> pd.DataFrame | None:
    """Concatenate per-chunk tables (``parts/stem-a-b.parquet``) when no combined one exists."""
    parts = sorted(folder.rglob(f"{stem}-*.parquet"))
    if not parts:
        return None
    try:
        frames = [pd.read_parquet(p) for p in parts]
    except (OSError, ValueError) as exc:
        raise CaresimError(f"{folder}: cannot read {stem} parts: {exc}") from None
    return pd.concat(frames, ignore_index=True).sort_values(
        ["scenario", "replication"], kind="stable"
    )


def _tidy_summary(frame: pd.DataFrame, where: Path) -> pd.DataFrame:
    missing = [c for c in _SUMMARY_COLUMNS if c not in frame.columns]
    if missing:
        raise CaresimError(
            f"{where}: summary table lacks columns {missing}; expected {_SUMMARY_COLUMNS}"
        )
    out = frame[_SUMMARY_COLUMNS].copy()
    out["scenario"] = out["scenario"].astype(str)
    out["measure"] = out["measure"].astype(str)
    out["period"] = out["period"].astype(str)
    out["replication"] = out["replication"].astype(int)
    out["value"] = out["value"].astype(float)
    return out


def _tidy_timeseries(frame: pd.DataFrame | None, where: Path) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _TIMESERIES_COLUMNS})
    missing = [c for c in _TIMESERIES_COLUMNS if c not in frame.columns]
    if missing:
        raise CaresimError(
            f"{where}: time-series table lacks columns {missing}; expected {_TIMESERIES_COLUMNS}"
        )
    out = frame[_TIMESERIES_COLUMNS].copy()
    out["date"] = pd.to_datetime(out["date"])
    out["scenario"] = out["scenario"].astype(str)
    out["replication"] = out["replication"].astype(int)
    out["value"] = out["value"].astype(float)
    for col in ("measure", "category"):
        out[col] = out[col].astype(str).astype("category")
    return out


def load_results(folder: str | Path) -> RunResult:
    """Load a results folder written by ``caresim run`` into a :class:`sim.RunResult`.

    The folder holds ``manifest.json`` and a summary table (``summary.parquet``
    or ``summary.csv``), usually with a time-series table
    (``timeseries.parquet`` or ``timeseries.csv``). A folder holding only
    per-replication tables (``**/summary*.parquet``) is read by joining them.

    Parameters
    ----------
    folder
        The results folder.

    Returns
    -------
    RunResult
        With the resolved config and seed taken from the manifest.

    Raises
    ------
    CaresimError
        When the folder, its manifest or its summary table is missing or unreadable.

    Examples
    --------
    >>> from sim.results.reader import load_results
    >>> res = load_results("results/worcestershire-2016")   # doctest: +SKIP
    >>> res.summary_stats().query("measure == 'looked_after'")  # doctest: +SKIP

    """
    where = Path(folder)
    if not where.is_dir():
        raise CaresimError(f"{where}: no such results folder")
    manifest_path = where / "manifest.json"
    if not manifest_path.exists():
        raise CaresimError(
            f"{where}: not a caresim results folder (no manifest.json); "
            "write one with `caresim run CONFIG --out DIR`"
        )
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CaresimError(f"{manifest_path}: cannot read manifest: {exc}") from None
    summary = _read_table(where, "summary")
    if summary is None:
        summary = _read_parts(where, "summary")
    if summary is None:
        raise CaresimError(f"{where}: no summary.parquet or summary.csv")
    timeseries = _read_table(where, "timeseries")
    if timeseries is None:
        timeseries = _read_parts(where, "timeseries")
    if "config" not in manifest:
        raise CaresimError(f"{manifest_path}: manifest has no 'config' (the resolved config)")
    try:
        config = config_from_dict(manifest["config"], source=f"{manifest_path} (config)")
    except ConfigError as exc:
        raise CaresimError(
            f"{where}: the config stored in manifest.json does not validate with this "
            f"version of caresim:\n{exc}"
        ) from None
    seed = manifest.get("seed")
    if seed is None:
        raise CaresimError(f"{manifest_path}: manifest has no 'seed'")
    manifest.setdefault("results_folder", str(where))
    parameters = _read_table(where, "parameters")
    extra = {} if parameters is None else {"parameters": parameters}
    return RunResult(
        summary=_tidy_summary(summary, where),
        timeseries=_tidy_timeseries(timeseries, where),
        config=config,
        seed=int(seed),
        manifest=manifest,
        **extra,
    )


def scenario_label(result: RunResult) -> str:
    """Name of the scenario(s) in ``result``: its ``scenario`` column values joined."""
    names = list(dict.fromkeys(result.summary["scenario"].astype(str)))
    return ", ".join(names) if names else result.config.run.name


def split_scenarios(result: RunResult) -> dict[str, RunResult]:
    """Split a result holding several scenarios into one result per scenario (in order).

    A ``caresim compare`` folder stores each scenario's config in its manifest
    (``scenarios.<label>.config``); each part gets its own config when it is there.
    """
    out: dict[str, RunResult] = {}
    names = list(dict.fromkeys(result.summary["scenario"].astype(str)))
    stored = result.manifest.get("scenarios")
    for name in names:
        config = result.config
        manifest = result.manifest
        if isinstance(stored, dict) and isinstance(stored.get(name), dict):
            entry = stored[name]
            if "config" in entry:
                config = config_from_dict(entry["config"], source=f"manifest scenario {name}")
                manifest = {
                    **result.manifest,
                    "config": entry["config"],
                    "config_source": entry.get("source", result.manifest.get("config_source")),
                }
        s = result.summary[result.summary["scenario"] == name].reset_index(drop=True)
        ts = result.timeseries
        if len(ts):
            ts = ts[ts["scenario"] == name].reset_index(drop=True)
        out[name] = dataclasses.replace(
            result, summary=s, timeseries=ts, config=config, manifest=manifest
        )
    return out
