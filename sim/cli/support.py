"""Helpers the console commands share: printing, loading a config with overrides, checks.

Used by :mod:`sim.cli.main` and :mod:`sim.cli.analysis`, so that every command
treats ``--quiet``, ``--set``, ``--years`` and the common numeric options alike.
"""

from __future__ import annotations

import argparse
from typing import Any

from sim.errors import CaresimError

__all__ = ["check_common", "check_positive", "load_with_overrides", "say"]


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


def check_positive(name: str, value: int | None) -> None:
    """Refuse a count option below 1, naming the option."""
    if value is not None and value < 1:
        raise CaresimError(f"{name} must be >= 1, got {value}")


def check_common(args: argparse.Namespace) -> None:
    """Refuse out-of-range common options with a message naming the option."""
    check_positive("--replications", getattr(args, "replications", None))
    check_positive("--workers", getattr(args, "workers", None))
    check_positive("--chunk-size", getattr(args, "chunk_size", None))
    if getattr(args, "seed", None) is not None and args.seed < 0:
        raise CaresimError(f"--seed must be >= 0, got {args.seed}")
    if getattr(args, "years", None) is not None and args.years <= 0:
        raise CaresimError(f"--years must be > 0, got {args.years}")
