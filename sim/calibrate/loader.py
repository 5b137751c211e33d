"""Read SSDA903 Header/Episodes CSVs (and a CIN referrals CSV) into identifier-free tables.

This is the only module that sees child identifiers. It reads the files,
checks every row, maps legacy codes, turns dates of birth into ages, replaces
CHILD by an integer key and drops CHILD, DOB, UPN, MOTHER, MC_DOB, HOME_POST,
PL_POST and URN before returning anything.

Files: CSV, comma-separated, UTF-8 (a byte-order mark is allowed; Windows-1252
is tried when UTF-8 fails), header names in any case and order, extra columns
ignored, optional columns may be absent or blank, dates ``dd/mm/yyyy``,
``dd/mm/yy`` or ``yyyy-mm-dd`` (a file may mix them; see :func:`_parse_dates`
for the century rule). A REC on an episode without DEC is blanked and counted.

Problems are handled in two ways:

* the file cannot be used at all (missing, unreadable, not CSV, required
  columns missing, no rows): :class:`DataError` at once;
* a row is bad (bad or missing date, unknown code, DEC before DECOM, no header
  row for the child...): the row is skipped and reported, because dropping a
  few episodes only shortens or splits a few periods of care. When more than
  ``max_bad_row_share`` of a file's rows are bad the file is probably in
  another format and :class:`DataError` is raised; ``strict=True`` raises on
  the first bad row.

Files are named by their path as given, rows by their line number in the
file (the header being row 1); messages name the column and what was expected
and never echo a cell.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.codes import (
    CIN_CODES,
    CLOSURE_REASONS,
    EPISODE_COLUMNS,
    EPISODE_REQUIRED,
    HEADER_REQUIRED,
    IDENTIFIER_COLUMNS,
    KNOWN_COLUMNS,
    LEGACY_PLACE,
    LEGACY_REC,
    LS_CODES,
    PLACE_CATEGORY,
    PLACE_PROVIDERS,
    REASON_PLACE_CHANGE_CODES,
    REC_ROUTE,
    RNE_CODES,
)
from sim.calibrate.errors import DataError, RowProblem

__all__ = [
    "CinData",
    "Loaded903",
    "load_903",
    "load_cin",
    "read_table",
    "truncate",
]

_DAYS_PER_YEAR = 365.25
_MAX_LISTED = 10

# Episode columns kept after loading: everything but the identifiers (CHILD is
# replaced by an internal key before anything leaves the loader).
_EPISODE_KEEP = tuple(c for c in EPISODE_COLUMNS if c not in IDENTIFIER_COLUMNS)


@dataclass(frozen=True)
class Loaded903:
    """Episodes and children as read, checked and stripped of identifiers.

    Attributes
    ----------
    episodes
        One row per episode row read (duplicates not yet removed): ``child_key``
        (int), ``decom``/``dec`` (Timestamp, ``dec`` NaT while open), ``rne``,
        ``ls``, ``cin``, ``place``, ``place_provider``, ``rec``,
        ``reason_place_change`` (str, "" when blank), ``age_at_decom_years``
        (float), ``days_to_18_at_decom`` (int; days from DECOM to the 18th
        birthday), ``sex``, ``file_index`` (position of the file in the input
        list), ``year_ending`` (collection year of the file), ``row`` (line
        number in the file).
    files
        Per file: path (as given), kind, collection year, rows read, kept and
        dropped.
    problems
        Every skipped row with the reason.
    legacy_mapped
        Counts of legacy codes mapped (e.g. ``{"PLACE Q1->U4": 12}``).
    header_conflicts
        Children whose date of birth differs between header files (the latest
        file's is used).

    """

    episodes: pd.DataFrame
    files: pd.DataFrame
    problems: tuple[RowProblem, ...] = ()
    legacy_mapped: dict[str, int] = field(default_factory=dict)
    header_conflicts: int = 0
    tolerated: dict[str, int] = field(default_factory=dict)
    """Cells read by a tolerance rather than rejected: ``two_digit_year`` and
    ``iso_date`` (date cells so written), ``rec_on_open_episode`` (REC blanked
    on an episode without DEC)."""
    max_bad_row_share: float = 0.01
    """The largest share of bad rows a file could have and still be read."""
    cutoff: pd.Timestamp | None = None
    """Set by :func:`truncate`: the data are as they were known on this day."""

    @property
    def window_start(self) -> pd.Timestamp:
        """First day of the earliest collection year read."""
        years = self.files.loc[self.files["kind"] == "episodes", "year_ending"]
        return pd.Timestamp(dt.date(int(years.min()) - 1, 4, 1))

    @property
    def data_end(self) -> pd.Timestamp:
        """Last day the data describe: the end of the latest collection year, or the cutoff."""
        years = self.files.loc[self.files["kind"] == "episodes", "year_ending"]
        end = pd.Timestamp(dt.date(int(years.max()), 3, 31))
        return min(end, self.cutoff) if self.cutoff is not None else end


def truncate(loaded: Loaded903, as_at: dt.date | pd.Timestamp) -> Loaded903:
    """Return the data as they would have been known on ``as_at``.

    Episodes starting after ``as_at`` are removed; episodes ending after it
    are reopened (DEC, REC and REASON_PLACE_CHANGE blanked), exactly as an
    episode open at a year end appears in that year's file.
    """
    cut = pd.Timestamp(as_at)
    eps = loaded.episodes[loaded.episodes["decom"] <= cut].copy()
    later = eps["dec"] > cut
    eps.loc[later, "dec"] = pd.NaT
    eps.loc[later, ["rec", "reason_place_change"]] = ""
    return Loaded903(
        episodes=eps.reset_index(drop=True),
        files=loaded.files,
        problems=loaded.problems,
        legacy_mapped=loaded.legacy_mapped,
        header_conflicts=loaded.header_conflicts,
        tolerated=loaded.tolerated,
        max_bad_row_share=loaded.max_bad_row_share,
        cutoff=cut,
    )


@dataclass(frozen=True)
class CinData:
    """CIN-census-like referrals, identifier-free.

    Attributes
    ----------
    referrals
        One row per referral: ``child_key``, ``referral_date``,
        ``age_at_referral_years`` (NaN without DOB), ``source``, ``nfa``
        (bool), ``assessment_start``, ``assessment_authorised``,
        ``closure_date``, ``closure_reason``.
    problems
        Skipped rows.

    """

    referrals: pd.DataFrame
    problems: tuple[RowProblem, ...] = ()


# ------------------------------------------------------------------ reading


def read_table(path: str | Path, required: Sequence[str], *, kind: str) -> pd.DataFrame:
    """Read one CSV as strings with upper-case column names.

    Parameters
    ----------
    path
        The file.
    required
        Columns that must be present (any case).
    kind
        What the file should be ("Episodes", "Header", "CIN"), for messages.

    Returns
    -------
    pandas.DataFrame
        All columns as stripped strings ("" for blank), plus ``_row`` (the line
        number of each record, header = 1).

    Raises
    ------
    DataError
        The file is missing, unreadable, not a CSV, lacks a required column or
        has no rows.

    """
    p = Path(path)
    name = str(p)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{name}: {kind} file not found", file=name) from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a folder, expected a {kind} CSV file", file=name) from None
    except OSError as exc:
        raise DataError(f"{name}: cannot read {kind} file ({exc.strerror})", file=name) from None
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(
            f"{name}, row 1: this is a spreadsheet workbook, not a CSV file; "
            f"save the {kind} sheet as CSV (comma-separated) and try again",
            file=name,
            row=1,
        )
    if b"\x00" in raw[:4096]:
        raise DataError(
            f"{name}, row 1: not a CSV file (binary content); expected a comma-separated "
            f"{kind} table",
            file=name,
            row=1,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise DataError(
            f"{name}, row 1: the file is empty; expected a {kind} CSV with a header row",
            file=name,
            row=1,
        )
    first = lines[0]
    if "," not in first and len(required) > 1:
        sep_hint = (
            " (it looks tab- or semicolon-separated)" if ("\t" in first or ";" in first) else ""
        )
        raise DataError(
            f"{name}, row 1: not a comma-separated CSV file{sep_hint}; expected a header row "
            f"naming columns such as {', '.join(required)}",
            file=name,
            row=1,
        )
    try:
        df = pd.read_csv(
            StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        # Only the parser's field counts are repeated: its other messages may
        # quote a cell of the file.
        detail = str(exc).splitlines()[0] if str(exc) else ""
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
        row = int(match.group(2)) if match else None
        where = f", row {row}" if row else ""
        why = (
            f"expected {match.group(1)} fields, found {match.group(3)}"
            if match
            else "the CSV parser could not split it into rows and columns"
        )
        raise DataError(
            f"{name}{where}: not a readable CSV file: {why}", file=name, row=row
        ) from None
    df.columns = [str(c).strip().upper() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            _header_problem(name, kind, required, missing, df.columns), file=name, row=1
        )
    if df.empty:
        raise DataError(f"{name}: the {kind} file has a header but no rows", file=name, row=2)
    # Line numbers: pandas skips blank lines, so count them from the text.
    data_lines = [i + 1 for i, line in enumerate(lines) if line.strip()][1:]
    df = df.loc[:, ~df.columns.duplicated()].copy()
    for c in df.columns:
        df[c] = df[c].astype(str).str.strip()
    df["_row"] = data_lines[: len(df)] if len(data_lines) >= len(df) else np.arange(2, len(df) + 2)
    return df


def _header_problem(
    name: str, kind: str, required: Sequence[str], missing: Sequence[str], columns: pd.Index
) -> str:
    """Say what is wrong with a header row without echoing any of its cells.

    A first line that names no known column is a record, not a header, and
    its cells may be a child's id, date of birth, UPN or postcode; a column
    name we do not know may be one too. Only known column names are shown.
    """
    recognised = [c for c in columns if c in KNOWN_COLUMNS]
    if not recognised:
        return (
            f"{name}, row 1: no header row (the first line names none of the SSDA903 "
            f"columns); expected a {kind} header row naming {', '.join(required)}"
        )
    others = len(columns) - len(recognised)
    other_text = f" and {others} other column name(s), not shown" if others else ""
    return (
        f"{name}, row 1 (header): required column(s) missing: {', '.join(missing)}; "
        f"this does not look like an SSDA903 {kind} file (recognised columns: "
        f"{', '.join(recognised[:15])}{other_text})"
    )


#: Two-digit years below this are 20yy, the others 19yy (Python's and POSIX's
#: ``%y`` rule): ``15`` is 2015, ``99`` is 1999, ``68`` is 2068, ``69`` is 1969.
CENTURY_PIVOT = 69

#: How a date cell may be written; see :func:`_parse_dates`.
DATE_FORMATS = "dd/mm/yyyy, dd/mm/yy or yyyy-mm-dd"

_DMY_RE = r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4}|\d{2})$"
_ISO_RE = r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]00:00(?::00)?)?$"


@dataclass
class _DateCounts:
    """How many date cells of a file were read in each tolerated form."""

    two_digit_year: int = 0
    iso: int = 0


def _parse_dates(values: pd.Series, counts: _DateCounts | None = None) -> pd.Series:
    """Parse date cells; blanks and impossible dates (31/02/2016) become NaT.

    Accepted, cell by cell (a file may mix them): ``dd/mm/yyyy``, ``dd/mm/yy``
    and ISO ``yyyy-mm-dd`` (optionally followed by a midnight time, as some
    spreadsheets export it). A two-digit year ``yy`` is ``20yy`` when below
    :data:`CENTURY_PIVOT` (69) and ``19yy`` otherwise. ``counts``, when given,
    is incremented by the cells read as two-digit years and as ISO dates.
    """
    text = values.astype(str).str.strip()
    dmy = text.str.extract(_DMY_RE)
    iso = text.str.extract(_ISO_RE)
    use_iso = dmy["y"].isna() & iso["y"].notna()
    parts = dmy.where(~use_iso, iso[["d", "m", "y"]].set_axis(["d", "m", "y"], axis=1))
    found = parts["y"].notna()
    year = pd.to_numeric(parts["y"], errors="coerce")
    short = found & (parts["y"].str.len() == 2)
    year = year.where(~short, np.where(year < CENTURY_PIVOT, 2000 + year, 1900 + year))
    month = pd.to_numeric(parts["m"], errors="coerce")
    day = pd.to_numeric(parts["d"], errors="coerce")
    valid = found & month.between(1, 12) & day.between(1, 31)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if valid.any():
        frame = pd.DataFrame({"year": year[valid], "month": month[valid], "day": day[valid]})
        out[valid] = pd.to_datetime(frame, errors="coerce")
    if counts is not None:
        ok = out.notna()
        counts.two_digit_year += int((ok & short).sum())
        counts.iso += int((ok & use_iso).sum())
    return out


class _Problems:
    def __init__(self) -> None:
        self.items: list[RowProblem] = []

    def add(self, file: str, rows: pd.Series, problem: str) -> None:
        for r in rows.tolist():
            self.items.append(RowProblem(file, int(r), problem))


def check_max_bad_row_share(share: float) -> float:
    """Return ``share`` if it is a share (0 to 1), else raise :class:`DataError`."""
    if not 0.0 <= share <= 1.0:
        raise DataError(
            f"the largest share of bad rows to skip (--max-bad-rows) must be between 0 and 1, "
            f"e.g. 0.05 for 5%; got {share}"
        )
    return share


def _check_share(
    name: str, n_rows: int, bad: list[RowProblem], *, max_share: float, strict: bool, kind: str
) -> None:
    if not bad:
        return
    bad = sorted(bad, key=lambda p: p.row)
    if strict:
        raise DataError(
            str(bad[0])
            + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
            + f"; strict mode: the {kind} file is rejected (0 of {n_rows} rows kept)",
            file=name,
            row=bad[0].row,
            problems=tuple(bad),
        )
    if len(bad) > max_share * n_rows:
        listed = "\n  ".join(str(p) for p in bad[:_MAX_LISTED])
        more = f"\n  ... and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
        hint = ""
        if any("date" in p.problem for p in bad):
            hint = f" Dates must be written {DATE_FORMATS} (mm/dd/yyyy is not read)."
        raise DataError(
            f"{name}: {len(bad)} of {n_rows} {kind} rows are bad ({len(bad) / n_rows:.1%}), "
            f"more than the {max_share:.1%} that can be skipped safely, so the file is "
            f"rejected (0 rows kept, {n_rows} dropped); --max-bad-rows SHARE (e.g. 0.05) "
            f"skips more knowingly:\n  {listed}{more}\n{hint}".rstrip(),
            file=name,
            row=bad[0].row,
            problems=tuple(bad),
        )


#: Share of a file's dates its collection year must hold (see :func:`_collection_year`).
_MIN_YEAR_SHARE = 0.02


def _collection_year(dates: pd.Series) -> int:
    """Collection year (year of the 31 March that ends it) of an Episodes file.

    Every episode in a return was open during its collection year, so its dates
    run up to the 31 March that ends the year, and many of them (starts, moves,
    exits) fall inside it. A few wrong dates past that day (an end date typed a
    few days too late, which the cleaning later cuts) must not move the whole
    file into the next year and shift the data window: the year is the latest
    one holding at least 2% of the file's dates (any share when the file has
    under 50 dates).
    """
    years = dates.dt.year + (dates.dt.month >= 4).astype(int)
    counts = years.value_counts()
    enough = counts[counts >= max(1.0, _MIN_YEAR_SHARE * len(years))]
    return int(enough.index.max())


def _date_problem(col: str, required: bool) -> str:
    what = "is missing or not a date" if required else "is not a date"
    return f"{col} {what}; expected {DATE_FORMATS} (value not shown)"


def _read_headers(
    paths: Sequence[str | Path],
    problems: _Problems,
    dates: _DateCounts,
    *,
    max_share: float,
    strict: bool,
) -> tuple[pd.DataFrame, list[dict[str, object]], int]:
    frames = []
    files: list[dict[str, object]] = []
    for i, path in enumerate(paths):
        df = read_table(path, HEADER_REQUIRED, kind="Header")
        name = str(path)
        local = _Problems()
        child_blank = df["CHILD"] == ""
        local.add(name, df.loc[child_blank, "_row"], "CHILD is blank; expected the child's id")
        dob = _parse_dates(df["DOB"], dates)
        bad_dob = dob.isna() & ~child_blank
        local.add(name, df.loc[bad_dob, "_row"], _date_problem("DOB", required=True))
        sex = df["SEX"] if "SEX" in df.columns else pd.Series("", index=df.index)
        bad_sex = ~sex.isin(["1", "2", ""]) & ~child_blank & ~bad_dob
        local.add(
            name, df.loc[bad_sex, "_row"], "SEX is not a code; expected 1 or 2 (value not shown)"
        )
        _check_share(name, len(df), local.items, max_share=max_share, strict=strict, kind="Header")
        problems.items.extend(local.items)
        keep = ~(child_blank | bad_dob | bad_sex)
        frames.append(
            pd.DataFrame(
                {
                    "CHILD": df.loc[keep, "CHILD"],
                    "dob": dob[keep],
                    "sex": pd.to_numeric(sex[keep], errors="coerce"),
                    "order": i,
                }
            )
        )
        files.append(_file_row(name, "header", np.nan, len(df), int(keep.sum())))
    header = pd.concat(frames, ignore_index=True)
    n_dob = header.groupby("CHILD")["dob"].nunique()
    conflicts = int((n_dob > 1).sum())
    header = header.sort_values("order").drop_duplicates("CHILD", keep="last")
    return header.set_index("CHILD"), files, conflicts


def _file_row(name: str, kind: str, year: float, read: int, kept: int) -> dict[str, object]:
    return {
        "file": name,
        "kind": kind,
        "year_ending": year,
        "rows_read": read,
        "rows_kept": kept,
        "rows_dropped": read - kept,
    }


def _check_codes(
    df: pd.DataFrame,
    name: str,
    local: _Problems,
    legacy: dict[str, int],
    dates: _DateCounts,
    tolerated: dict[str, int],
) -> pd.Series:
    """Validate codes, map legacy ones in place; return the mask of bad rows.

    A REC (reason episode ceased) on an open episode (DEC blank) says nothing
    the data can use (the episode has not ceased): it is blanked and counted
    in ``tolerated["rec_on_open_episode"]``, not rejected.
    """
    bad = pd.Series(False, index=df.index)

    def flag(mask: pd.Series, problem_for: pd.Series | str) -> None:
        nonlocal bad
        mask = mask & ~bad
        if not mask.any():
            return
        if isinstance(problem_for, str):
            local.add(name, df.loc[mask, "_row"], problem_for)
        else:
            for row, text in zip(df.loc[mask, "_row"], problem_for[mask], strict=True):
                local.items.append(RowProblem(name, int(row), text))
        bad = bad | mask

    flag(df["CHILD"] == "", "CHILD is blank; expected the child's id")
    decom = _parse_dates(df["DECOM"], dates)
    flag(decom.isna(), _date_problem("DECOM", required=True))
    dec = _parse_dates(df["DEC"], dates)
    flag((df["DEC"] != "") & dec.isna(), _date_problem("DEC", required=False))
    flag(
        dec.notna() & decom.notna() & (dec < decom),
        "DEC (episode end) is before DECOM (episode start)",
    )
    open_rec = (df["DEC"] == "") & (df["REC"] != "")
    if open_rec.any():
        tolerated["rec_on_open_episode"] = tolerated.get("rec_on_open_episode", 0) + int(
            open_rec.sum()
        )
        df.loc[open_rec, "REC"] = ""
    for col, legacy_map in (("PLACE", LEGACY_PLACE), ("REC", LEGACY_REC)):
        for old, new in legacy_map.items():
            hit = df[col] == old
            if hit.any():
                legacy[f"{col} {old}->{new}"] = legacy.get(f"{col} {old}->{new}", 0) + int(
                    hit.sum()
                )
                df.loc[hit, col] = new
    checks: tuple[tuple[str, frozenset[str] | set[str], bool], ...] = (
        ("RNE", RNE_CODES, False),
        ("LS", LS_CODES, False),
        ("PLACE", frozenset(PLACE_CATEGORY), False),
        ("PLACE_PROVIDER", PLACE_PROVIDERS, True),
        ("CIN", CIN_CODES, True),
        ("REASON_PLACE_CHANGE", REASON_PLACE_CHANGE_CODES, True),
    )
    for col, allowed, blank_ok in checks:
        values = df[col]
        unknown = ~values.isin(allowed) & ~((values == "") & blank_ok)
        # The value is never shown: an unknown value may be an identifier in
        # the wrong column (a postcode under PLACE, a child id under LS).
        flag(unknown & (values == ""), f"{col} is blank; expected an SSDA903 code")
        flag(unknown, f"{col} is not a known SSDA903 code (value not shown)")
    rec = df["REC"]
    rec_ok = rec.isin(set(REC_ROUTE) | {"X1"})
    flag((rec != "") & ~rec_ok, "REC is not a known SSDA903 code (value not shown)")
    flag(
        (df["DEC"] != "") & (rec == ""),
        "DEC is given but REC (reason episode ceased) is blank; expected an SSDA903 REC code",
    )
    df["_decom"] = decom
    df["_dec"] = dec
    return bad


def load_903(
    episodes: Sequence[str | Path],
    header: Sequence[str | Path],
    *,
    max_bad_row_share: float = 0.01,
    strict: bool = False,
) -> Loaded903:
    """Read and check SSDA903 Episodes and Header files of one or several years.

    Parameters
    ----------
    episodes
        Episodes CSVs (any order; one per collection year is usual).
    header
        Header CSVs giving each child's date of birth and sex.
    max_bad_row_share
        Largest share of bad rows a file may have before it is rejected
        (default 1%); bad rows below that share are skipped and reported.
    strict
        Raise on the first bad row instead of skipping it.

    Returns
    -------
    Loaded903
        Identifier-free episodes with ages, plus what was skipped, mapped and
        tolerated (two-digit years, ISO dates, REC on open episodes).

    Raises
    ------
    DataError
        Naming the file, the row and the problem.

    """
    if not episodes:
        raise DataError("no Episodes file given")
    if not header:
        raise DataError("no Header file given: dates of birth are needed to compute ages")
    check_max_bad_row_share(max_bad_row_share)
    problems = _Problems()
    dates = _DateCounts()
    tolerated: dict[str, int] = {}
    heads, files, conflicts = _read_headers(
        header, problems, dates, max_share=max_bad_row_share, strict=strict
    )
    legacy: dict[str, int] = {}
    frames = []
    for i, path in enumerate(episodes):
        name = str(path)
        df = read_table(path, EPISODE_REQUIRED, kind="Episodes")
        for col in ("CIN", "PLACE_PROVIDER", "REASON_PLACE_CHANGE"):
            if col not in df.columns:
                df[col] = ""
        for col in ("RNE", "LS", "PLACE", "PLACE_PROVIDER", "REC", "CIN", "REASON_PLACE_CHANGE"):
            df[col] = df[col].str.upper()
        local = _Problems()
        bad = _check_codes(df, name, local, legacy, dates, tolerated)
        known = df["CHILD"].isin(heads.index)
        no_head = ~known & ~bad
        local.add(
            name,
            df.loc[no_head, "_row"],
            "no Header row with a valid DOB for this CHILD; expected one in a Header file",
        )
        bad = bad | no_head
        dob = df["CHILD"].map(heads["dob"])
        age_days = (df["_decom"] - dob).dt.days
        too_old = ~bad & ((age_days < 0) | (age_days >= 18 * _DAYS_PER_YEAR))
        local.add(
            name,
            df.loc[too_old, "_row"],
            "age at DECOM is outside 0-18 (check DECOM and the child's DOB)",
        )
        bad = bad | too_old
        _check_share(
            name, len(df), local.items, max_share=max_bad_row_share, strict=strict, kind="Episodes"
        )
        problems.items.extend(local.items)
        ok = df[~bad]
        used = pd.concat([ok["_decom"], ok["_dec"]]).dropna()
        if used.empty:
            raise DataError(f"{name}: no usable Episodes rows (0 of {len(df)} kept)", file=name)
        year_ending = _collection_year(used)
        dob_ok = dob[~bad]
        birthday18 = [_add_years(d.date(), 18) for d in dob_ok]
        frame = pd.DataFrame(
            {
                "CHILD": ok["CHILD"],
                "decom": ok["_decom"],
                "dec": ok["_dec"],
                "rne": ok["RNE"],
                "ls": ok["LS"],
                "cin": ok["CIN"],
                "place": ok["PLACE"],
                "place_provider": ok["PLACE_PROVIDER"],
                "rec": ok["REC"],
                "reason_place_change": ok["REASON_PLACE_CHANGE"],
                "age_at_decom_years": age_days[~bad] / _DAYS_PER_YEAR,
                "days_to_18_at_decom": (
                    pd.to_datetime(pd.Series(birthday18, index=ok.index)) - ok["_decom"]
                ).dt.days,
                "sex": ok["CHILD"].map(heads["sex"]),
                "file_index": i,
                "year_ending": year_ending,
                "row": ok["_row"],
            }
        )
        frames.append(frame)
        files.append(_file_row(name, "episodes", year_ending, len(df), len(frame)))
    eps = pd.concat(frames, ignore_index=True)
    # Integer keys in order of each child's first episode: no trace of the identifier.
    first = eps.groupby("CHILD")["decom"].min().sort_values(kind="stable")
    keys = pd.Series(np.arange(len(first)), index=first.index)
    eps.insert(0, "child_key", eps["CHILD"].map(keys).astype(int))
    eps = eps.drop(columns=["CHILD"])
    return Loaded903(
        episodes=eps,
        files=pd.DataFrame(files),
        problems=tuple(sorted(problems.items, key=lambda p: (p.file, p.row))),
        legacy_mapped=legacy,
        header_conflicts=conflicts,
        tolerated=_tolerated(dates, tolerated),
        max_bad_row_share=max_bad_row_share,
    )


def _tolerated(dates: _DateCounts, other: dict[str, int]) -> dict[str, int]:
    out = {"two_digit_year": dates.two_digit_year, "iso_date": dates.iso}
    out.update(other)
    return {k: v for k, v in out.items() if v}


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # born on 29 February
        return dt.date(day.year + years, 3, 1)


# ---------------------------------------------------------------------- CIN

_CIN_REQUIRED = ("CHILD", "REFERRAL_DATE")


def load_cin(
    paths: Sequence[str | Path],
    *,
    max_bad_row_share: float = 0.01,
    strict: bool = False,
) -> CinData:
    """Read CIN-census-like referral files (one row per referral).

    Columns: CHILD and REFERRAL_DATE (required); DOB, REFERRAL_SOURCE,
    REFERRAL_NFA (1/0), ASSESSMENT_START, ASSESSMENT_AUTHORISED, CLOSURE_DATE,
    CLOSURE_REASON (optional).

    Raises
    ------
    DataError
        Naming the file, the row and the problem.

    """
    check_max_bad_row_share(max_bad_row_share)
    frames = []
    problems = _Problems()
    for path in paths:
        name = str(path)
        df = read_table(path, _CIN_REQUIRED, kind="CIN referrals")
        for col in (
            "DOB",
            "REFERRAL_SOURCE",
            "REFERRAL_NFA",
            "ASSESSMENT_START",
            "ASSESSMENT_AUTHORISED",
            "CLOSURE_DATE",
            "CLOSURE_REASON",
        ):
            if col not in df.columns:
                df[col] = ""
        local = _Problems()
        bad = df["CHILD"] == ""
        local.add(name, df.loc[bad, "_row"], "CHILD is blank; expected the child's id")
        ref = _parse_dates(df["REFERRAL_DATE"])
        m = ref.isna() & ~bad
        local.add(name, df.loc[m, "_row"], _date_problem("REFERRAL_DATE", required=True))
        bad |= m
        parsed = {}
        for col in ("DOB", "ASSESSMENT_START", "ASSESSMENT_AUTHORISED", "CLOSURE_DATE"):
            parsed[col] = _parse_dates(df[col])
            m = (df[col] != "") & parsed[col].isna() & ~bad
            local.add(name, df.loc[m, "_row"], _date_problem(col, required=False))
            bad |= m
        m = (parsed["ASSESSMENT_AUTHORISED"] < parsed["ASSESSMENT_START"]) & ~bad
        local.add(name, df.loc[m, "_row"], "ASSESSMENT_AUTHORISED is before ASSESSMENT_START")
        bad |= m
        m = ~df["REFERRAL_NFA"].isin(["0", "1", "", "TRUE", "FALSE", "true", "false"]) & ~bad
        local.add(
            name, df.loc[m, "_row"], "REFERRAL_NFA is not a code; expected 1 or 0 (value not shown)"
        )
        bad |= m
        reason = df["CLOSURE_REASON"].str.upper()
        m = (reason != "") & ~reason.isin(CLOSURE_REASONS) & ~bad
        local.add(
            name,
            df.loc[m, "_row"],
            "CLOSURE_REASON is not a known code; expected RC1-RC9 (value not shown)",
        )
        bad |= m
        _check_share(
            name,
            len(df),
            local.items,
            max_share=max_bad_row_share,
            strict=strict,
            kind="CIN referrals",
        )
        problems.items.extend(local.items)
        ok = ~bad
        age = (ref - parsed["DOB"]).dt.days / _DAYS_PER_YEAR
        frames.append(
            pd.DataFrame(
                {
                    "CHILD": df.loc[ok, "CHILD"],
                    "referral_date": ref[ok],
                    "age_at_referral_years": age[ok].where(age[ok] >= 0),
                    "source": df.loc[ok, "REFERRAL_SOURCE"],
                    "nfa": df.loc[ok, "REFERRAL_NFA"].isin(["1", "TRUE", "true"]),
                    "assessment_start": parsed["ASSESSMENT_START"][ok],
                    "assessment_authorised": parsed["ASSESSMENT_AUTHORISED"][ok],
                    "closure_date": parsed["CLOSURE_DATE"][ok],
                    "closure_reason": reason[ok],
                }
            )
        )
    if not frames:
        raise DataError("no CIN referrals file given")
    refs = pd.concat(frames, ignore_index=True).drop_duplicates()
    keys = {c: i for i, c in enumerate(pd.unique(refs.sort_values("referral_date")["CHILD"]))}
    refs.insert(0, "child_key", refs["CHILD"].map(keys).astype(int))
    refs = refs.drop(columns=["CHILD"]).reset_index(drop=True)
    return CinData(referrals=refs, problems=tuple(problems.items))
