"""Find the SSDA903 (and CIN) files of a data folder laid out by collection year.

``caresim calibrate --data DIR`` reads every Episodes, Header and CIN file in
``DIR`` and in its sub-folders (one level down, e.g. ``DIR/2016/episodes.csv``).
A file is recognised by its name, in any case: it ends ``.csv`` and begins
``episodes``, ``header`` or ``cin`` (``Episodes.CSV``, ``header_2016.csv``,
``cin_referrals.csv``). Files are listed in order of their path. Nothing is
read here: contents are checked by :mod:`sim.calibrate.loader`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.calibrate.errors import DataError

__all__ = ["DataFolder", "find_data_files"]

_KINDS = ("episodes", "header", "cin")


@dataclass(frozen=True)
class DataFolder:
    """The files found in a data folder, each list in order of path."""

    folder: Path
    episodes: tuple[Path, ...]
    header: tuple[Path, ...]
    cin: tuple[Path, ...]

    def summary(self) -> str:
        """One line: how many files of each kind were found where (no contents)."""
        return (
            f"{self.folder}: found {len(self.episodes)} Episodes, {len(self.header)} Header "
            f"and {len(self.cin)} CIN file(s)"
        )


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if not name.endswith(".csv") or not path.is_file():
        return None
    for kind in _KINDS:
        if name.startswith(kind):
            return kind
    return None


def find_data_files(folder: str | Path) -> DataFolder:
    """Return the Episodes, Header and CIN files in ``folder`` and its sub-folders.

    Raises
    ------
    DataError
        The folder does not exist, or holds no Episodes or no Header file.

    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError(
            f"{root}: data folder not found; expected a folder holding year folders "
            "such as 2016/episodes.csv and 2016/header.csv",
            file=str(root),
        )
    candidates = [p for p in root.iterdir()]
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        candidates.extend(sub.iterdir())
    found: dict[str, list[Path]] = {k: [] for k in _KINDS}
    for path in candidates:
        kind = _kind(path)
        if kind is not None:
            found[kind].append(path)
    for kind in _KINDS:
        found[kind].sort(key=lambda p: p.as_posix().lower())
    missing = [k.capitalize() for k in ("episodes", "header") if not found[k]]
    if missing:
        raise DataError(
            f"{root}: no {' and no '.join(missing)} file found; expected files named "
            "episodes.csv and header.csv (any case; e.g. episodes_2016.csv) in the "
            "folder or in its year folders (e.g. 2016/episodes.csv)",
            file=str(root),
        )
    return DataFolder(root, tuple(found["episodes"]), tuple(found["header"]), tuple(found["cin"]))
