"""Provenance of a result: resolved config, seed, package versions, git commit, times."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

from sim._version import __version__
from sim.config.schema import Config

__all__ = [
    "config_differences",
    "config_json",
    "git_commit",
    "package_versions",
    "run_manifest",
]

_PACKAGES = (
    "simpy",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "pydantic",
    "matplotlib",
    "dask",
    "distributed",
)


def package_versions() -> dict[str, str]:
    """Versions of Python, caresim and the packages that shape results."""
    out = {"python": platform.python_version(), "caresim": __version__}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(path: Path | None = None) -> str:
    """Commit of the caresim source tree (``+dirty`` if modified), or ``unknown``."""
    where = path or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def run_manifest(
    config: Config,
    *,
    seed: int,
    replications: int,
    started: dt.datetime,
    finished: dt.datetime | None = None,
    source: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything needed to reproduce a run, as a JSON-ready dict.

    ``config`` is the resolved config (after ``extends`` and overrides), so the
    manifest alone reproduces the run: ``caresim run --resume`` compares it
    with the config it is given. ``finished`` is ``None`` while a run is going.
    """
    return {
        "caresim_version": __version__,
        "config_source": source,
        "seed": seed,
        "replications": replications,
        "started": started.isoformat(timespec="seconds"),
        "finished": None if finished is None else finished.isoformat(timespec="seconds"),
        "versions": package_versions(),
        "git_commit": git_commit(),
        **(extra or {}),
        "config": config_json(config),
    }


def config_json(config: Config) -> dict[str, Any]:
    """Return the config as plain JSON data, exactly as a manifest stores it."""
    return json.loads(json.dumps(config.model_dump(mode="json")))


def config_differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Dotted keys whose values differ between two JSON-like configs.

    >>> config_differences({"run": {"years": 1, "name": "x"}}, {"run": {"years": 2, "name": "x"}})
    ['run.years']
    """
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.append(sub)
            else:
                out += config_differences(a[key], b[key], sub)
        return out
    return [] if a == b else [path or "(whole config)"]
