"""Shared fixtures: the baseline config and a writer of TOML files in a temporary folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from tomlkit import dumps

from sim.config import raw_config

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "worcestershire-2016.toml"


@pytest.fixture
def baseline_path() -> Path:
    """Path of the baseline config, ``configs/worcestershire-2016.toml``."""
    return BASELINE


@pytest.fixture
def baseline_raw() -> dict[str, Any]:
    """The baseline as the plain dict TOML gives (a fresh copy for each test to change)."""
    return raw_config(BASELINE)


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[[str, Mapping[str, Any]], Path]:
    """Return a function writing a dict as ``tmp_path/<name>`` and returning the path."""

    def write(name: str, data: Mapping[str, Any]) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(data), encoding="utf-8")
        return path

    return write
