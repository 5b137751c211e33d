"""Helpers the console commands share: printing, loading a config with overrides, checks.

Used by :mod:`sim.cli.main` and :mod:`sim.cli.analysis`, so that every command
treats ``--quiet``, ``--set``, ``--years`` and the common numeric options alike.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from sim.errors import CaresimError

__all__ = [
    "DEFAULT_REPLICATIONS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "MAX_REPLICATIONS",
    "backend_from",
    "check_common",
    "check_positive",
    "default_out",
    "load_with_overrides",
    "progress_bar",
    "say",
    "stamp",
    "write_manifest",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Replications a command runs when not told (-n).
DEFAULT_REPLICATIONS = 20


def say(args: argparse.Namespace, *text: str) -> None:
    """Print ``text`` unless the command was given ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(*text)


def load_with_overrides(path: str, args: argparse.Namespace) -> Any:
    """Load the config at ``path`` with the command's ``--set`` and ``--years`` applied."""
    from sim.config import load_config, parse_override

    overrides = dict(parse_override(s) for s in getattr(args, "set", None) or [])
    if getattr(args, "years", None) is not None:
        overrides["run.years"] = args.years
    return load_config(path, overrides)


#: Most replications a command accepts (and one past the highest --only-replication):
#: far more than any precision needs, and few enough to keep the bookkeeping in memory.
MAX_REPLICATIONS = 1_000_000
#: Most worker processes or chunk size a command accepts.
MAX_WORKERS = 4096


def check_positive(name: str, value: int | None, maximum: int | None = None) -> None:
    """Refuse a count option below 1 (or above ``maximum``), naming the option."""
    if value is not None and value < 1:
        raise CaresimError(f"{name} must be >= 1, got {value}")
    if value is not None and maximum is not None and value > maximum:
        raise CaresimError(f"{name} must be at most {maximum:,}, got {value:,}")


def check_common(args: argparse.Namespace) -> None:
    """Refuse out-of-range common options with a message naming the option."""
    check_positive("--replications", getattr(args, "replications", None), MAX_REPLICATIONS)
    check_positive("--workers", getattr(args, "workers", None), MAX_WORKERS)
    check_positive("--chunk-size", getattr(args, "chunk_size", None), MAX_REPLICATIONS)
    for name in ("max_replications", "min_replications"):
        check_positive(f"--{name.replace('_', '-')}", getattr(args, name, None), MAX_REPLICATIONS)
    only = getattr(args, "only_replication", None) or []
    if only and max(only) >= MAX_REPLICATIONS:
        raise CaresimError(
            f"--only-replication must be below {MAX_REPLICATIONS:,}, got {max(only):,}"
        )
    if getattr(args, "seed", None) is not None and args.seed < 0:
        raise CaresimError(f"--seed must be >= 0, got {args.seed}")
    if getattr(args, "years", None) is not None and args.years <= 0:
        raise CaresimError(f"--years must be > 0, got {args.years}")


def stamp() -> str:
    """The local time as ``YYYYmmdd-HHMMSS``, for default folder names."""
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def default_out(config: Path, kind: str = "") -> Path:
    """``results/<config>[-kind]-<time>``: where a command writes when not given --out."""
    return Path("results") / f"{config.stem}{'-' + kind if kind else ''}-{stamp()}"


def backend_from(args: argparse.Namespace) -> Any:
    """The (unopened) backend the command's --backend, --workers and --scheduler ask for."""
    from sim.experiment.backends import make_backend

    return make_backend(
        args.backend,
        workers=args.workers,
        scheduler=args.scheduler,
        connect_timeout=args.connect_timeout,
    )


def progress_bar(args: argparse.Namespace, total: int, desc: str) -> Any:
    """A progress bar for ``total`` replications, silent with --quiet."""
    from sim.experiment.progress import Progress

    return Progress(total, desc=desc[:40], mode="quiet" if args.quiet else "auto")


def write_manifest(
    out: Path,
    config: Any,
    *,
    seed: int,
    replications: int,
    started: dt.datetime,
    source: str,
    extra: dict[str, Any],
) -> None:
    """Write ``out/manifest.json`` for a command that has just finished."""
    from sim.results.manifest import run_manifest
    from sim.results.store import write_json

    manifest = run_manifest(
        config,
        seed=seed,
        replications=replications,
        started=started,
        finished=dt.datetime.now(dt.UTC),
        source=source,
        extra=extra,
    )
    write_json(out / "manifest.json", manifest)
