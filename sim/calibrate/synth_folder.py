"""A synthetic SSDA903 (and CIN) data folder laid out as real extracts are.

``caresim synth`` writes ``<year>/episodes.csv`` and ``<year>/header.csv``
(and ``<year>/cin.csv``) for each collection year, drawn by
:func:`sim.calibrate.synthetic.generate_synthetic_903`, ready for
``caresim calibrate --data DIR``. With ``quirks`` the files also carry what
real extracts contain: some dates written ``dd/mm/yy``, a REC on some open
episodes, file names in mixed case, and children whose care begins after a
run of short breaks (LS V3/V4), their first episode of care starting with RNE
P or L instead of S.

Only counts are returned: nothing here reports an identifying value.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from sim.calibrate.codes import SHORT_BREAK_LS
from sim.calibrate.synthetic import SyntheticData, SyntheticParameters, generate_synthetic_903
from sim.errors import CaresimError

__all__ = ["QUIRKS", "SynthSummary", "quirky_parameters", "write_synthetic_folder"]

QUIRKS: dict[str, float] = {
    "two_digit_year_share": 0.1,
    "rec_on_open_share": 0.2,
    "short_break_before_entry_share": 0.1,
    "short_break_children_per_year": 12.0,
}
"""The parameters ``quirks`` sets (see :class:`~sim.calibrate.synthetic.SyntheticParameters`)."""

_NAMES = (("episodes.csv", "header.csv", "cin.csv"),)
_QUIRKY_NAMES = (
    ("episodes.csv", "header.csv", "cin.csv"),
    ("Episodes.CSV", "Header.CSV", "CIN.csv"),
    ("EPISODES.csv", "HEADER.csv", "Cin.Csv"),
)


@dataclass(frozen=True)
class SynthSummary:
    """Counts of what :func:`write_synthetic_folder` wrote (no identifying values)."""

    folder: Path
    years: tuple[int, ...]
    episode_rows: int
    header_rows: int
    cin_rows: int
    children: int
    short_break_rows: int
    two_digit_year_cells: int
    rec_on_open_rows: int
    starts_after_short_break: int
    entries: int
    data: SyntheticData

    def lines(self) -> list[str]:
        """The summary printed by ``caresim synth``: counts only."""
        out = [
            f"wrote {len(self.years)} collection years ({self.years[0]}-{self.years[-1]}) "
            f"to {self.folder}",
            f"  episodes rows {self.episode_rows}, header rows {self.header_rows}, "
            f"CIN rows {self.cin_rows}, children {self.children}",
            f"  true entries to care in the window {self.entries} "
            f"({self.entries / len(self.years):.1f} a year)",
            f"  short-break (V3/V4) rows {self.short_break_rows}",
        ]
        if self.two_digit_year_cells or self.rec_on_open_rows or self.starts_after_short_break:
            out.append(
                f"  quirks: dd/mm/yy date cells {self.two_digit_year_cells}, REC on open "
                f"episodes {self.rec_on_open_rows}, periods starting with RNE P/L after a "
                f"short break {self.starts_after_short_break}"
            )
        return out


def quirky_parameters(params: SyntheticParameters) -> SyntheticParameters:
    """``params`` with the quirks of real extracts switched on (:data:`QUIRKS`)."""
    return replace(params, **QUIRKS)  # type: ignore[arg-type]


def _collection_year(text: str) -> int | None:
    for form in ("%d/%m/%Y", "%d/%m/%y"):
        try:
            d = dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
        return d.year + (1 if d.month >= 4 else 0)
    return None


def _is_two_digit(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 3 and len(parts[2]) == 2


def write_synthetic_folder(
    out: str | Path,
    *,
    years: int = 5,
    last_year: int = 2016,
    seed: int = 1,
    cin: bool = False,
    quirks: bool = False,
    params: SyntheticParameters | None = None,
) -> SynthSummary:
    """Write a synthetic data folder: ``<year>/episodes.csv``, ``<year>/header.csv``, ...

    Parameters
    ----------
    out
        Folder to write; it must not exist or be empty.
    years
        Collection years written, the last ending 31 March ``last_year``.
    last_year
        The last collection year (default 2016).
    seed
        Seed of every draw.
    cin
        Also write ``<year>/cin.csv`` (CIN-census-like referrals of the year).
    quirks
        Add the quirks of real extracts (:data:`QUIRKS`, mixed-case file names).
    params
        Base parameters (default :class:`SyntheticParameters`); ``years`` and
        ``last_year`` set its collection years.

    Raises
    ------
    CaresimError
        ``out`` is a file or a non-empty folder, or ``years`` is below 1.

    """
    root = Path(out)
    if years < 1:
        raise CaresimError(f"--years must be 1 or more, got {years}")
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise CaresimError(
            f"{root} already exists and is not an empty folder; give a new folder to "
            "--out (caresim synth never writes over existing files)"
        )
    p = params or SyntheticParameters()
    p = replace(p, n_years=years, first_year_ending=last_year - years + 1)
    if quirks:
        p = quirky_parameters(p)
    names = _QUIRKY_NAMES if quirks else _NAMES
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        data = generate_synthetic_903(tmp, params=p, seed=seed)
        year_list = [p.first_year_ending + k for k in range(years)]
        counts = {"episodes": 0, "header": 0, "cin": 0, "sb": 0, "yy": 0, "rec_open": 0}
        children: set[str] = set()
        for k, year in enumerate(year_list):
            ep_name, h_name, _ = names[k % len(names)]
            folder = root / str(year)
            folder.mkdir()
            src_ep, src_h = data.episodes[k], data.header[k]
            ep_rows, h_rows = _read(src_ep), _read(src_h)
            counts["episodes"] += len(ep_rows) - 1
            counts["header"] += len(h_rows) - 1
            cols = [c.upper() for c in ep_rows[0]]
            i_child, i_ls = cols.index("CHILD"), cols.index("LS")
            i_dec, i_rec = cols.index("DEC"), cols.index("REC")
            dates = [cols.index("DECOM"), i_dec]
            for row in ep_rows[1:]:
                children.add(row[i_child])
                counts["sb"] += row[i_ls] in SHORT_BREAK_LS
                counts["rec_open"] += row[i_dec] == "" and row[i_rec] != ""
                counts["yy"] += sum(_is_two_digit(row[i]) for i in dates)
            h_cols = [c.upper() for c in h_rows[0]]
            i_dob = h_cols.index("DOB")
            counts["yy"] += sum(_is_two_digit(r[i_dob]) for r in h_rows[1:])
            shutil.move(src_ep, folder / ep_name)
            shutil.move(src_h, folder / h_name)
        if cin:
            counts["cin"] = _split_cin(data.cin, root, year_list, names)
    truth = data.episodes_truth
    first = truth.sort_values(["period", "DECOM"]).drop_duplicates("period")
    first = first[~first["LS"].isin(SHORT_BREAK_LS)]
    after_sb = int((first["RNE"] != "S").sum())
    entries = int(data.entries_by_year()["entries"].sum())
    return SynthSummary(
        folder=root,
        years=tuple(year_list),
        episode_rows=counts["episodes"],
        header_rows=counts["header"],
        cin_rows=counts["cin"],
        children=len(children),
        short_break_rows=counts["sb"],
        two_digit_year_cells=counts["yy"],
        rec_on_open_rows=counts["rec_open"],
        starts_after_short_break=after_sb,
        entries=entries,
        data=replace(
            data,
            episodes=tuple(
                root / str(y) / names[k % len(names)][0] for k, y in enumerate(year_list)
            ),
            header=tuple(root / str(y) / names[k % len(names)][1] for k, y in enumerate(year_list)),
            cin=root / str(year_list[-1]) / names[(years - 1) % len(names)][2],
        ),
    )


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _split_cin(
    path: Path, root: Path, year_list: list[int], names: tuple[tuple[str, str, str], ...]
) -> int:
    """Write the referrals of each collection year to ``<year>/cin.csv``; return the rows."""
    rows = _read(path)
    head, body = rows[0], rows[1:]
    i_ref = [c.upper() for c in head].index("REFERRAL_DATE")
    by_year: dict[int, list[list[str]]] = {y: [] for y in year_list}
    for row in body:
        year = _collection_year(row[i_ref]) or year_list[0]
        year = min(max(year, year_list[0]), year_list[-1])
        by_year[year].append(row)
    for k, year in enumerate(year_list):
        with (root / str(year) / names[k % len(names)][2]).open(
            "w", newline="", encoding="utf-8"
        ) as fh:
            w = csv.writer(fh)
            w.writerow(head)
            w.writerows(by_year[year])
    return len(body)


def truth_entries_by_year(summary: SynthSummary) -> pd.Series:
    """True entries per collection year (short breaks excluded), for tests."""
    e = summary.data.entries_by_year()
    return e.groupby("year_ending")["entries"].sum()
