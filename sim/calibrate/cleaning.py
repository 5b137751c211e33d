"""Clean loaded SSDA903 episodes into periods of care and placements.

Each rule is applied in the order below and counted in a
:class:`CleaningReport` (rule, rows affected, description); nothing is dropped
without being counted. The report begins with what happened while reading
(legacy codes mapped, two-digit years and ISO dates read, REC on open episodes
ignored, bad rows skipped; see :mod:`sim.calibrate.loader`).

1. ``exact_duplicates``: identical rows in the same file are dropped.
2. ``duplicates_across_years``: an episode (same child, same DECOM) read from
   several collection years is kept once, from the latest year (which knows
   its DEC and REC).
3. ``conflicting_duplicates``: two different rows for the same child and
   DECOM in one file: the one ending latest (open counts as latest) is kept.
4. ``short_breaks_excluded``: episodes with legal status V3/V4 (short breaks)
   are removed unless ``keep_short_breaks``.
5. ``overlapping_episodes``: an episode still running when the child's next
   episode starts is cut at that start (and chained to it with REC X1, unless
   the next one starts a new period with RNE S).
6. ``x1_gap_bridged`` / ``x1_chain_broken``: REC X1 promises a new episode the
   same day. A gap of up to 7 days before a non-S episode is bridged; a longer
   gap, or no next episode, ends the period there with route ``other``.
   ``exit_rejoined``: an episode with RNE other than S starting at most 7 days
   after the previous one ended with an exit continues that period.
7. ``periods_of_care``: the joined episodes form periods of care. A period
   starts where the child was not looked after the day before; its start is
   known (``start_known``, see :func:`start_known`) when it begins more than 7
   days into the window whatever its first RNE, or with RNE S.
8. ``legal_status_only``: episodes with RNE L (legal status change only)
   continue the current placement and are not counted as moves.
9. ``exit_at_18_as_leaving_care`` / ``early_leaving_care_as_other``: the
   simulator lets children leave care "by leaving care" only at 18. An exit on
   or within 7 days before the 18th birthday counts as ``leaving_care`` whatever
   its REC; an E5/E6/E7/E17 exit before that counts as ``other``.

Periods and placements open at the end of the data are censored there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibrate.codes import (
    PLACE_CATEGORY,
    PLANNED_CHANGE_REASONS,
    REC_ROUTE,
    SHORT_BREAK_LS,
    provider_group,
)
from sim.calibrate.errors import RowProblem
from sim.calibrate.loader import CENTURY_PIVOT, Loaded903

__all__ = [
    "CleanData",
    "CleaningReport",
    "CleaningRule",
    "clean_episodes",
    "start_known",
]

_BRIDGE_DAYS = 7
_AT_18_TOLERANCE_DAYS = 7


@dataclass(frozen=True)
class CleaningRule:
    """One cleaning rule and how many rows it touched."""

    rule: str
    rows_affected: int
    description: str


@dataclass(frozen=True)
class CleaningReport:
    """Every cleaning rule applied, with counts, and every row skipped while reading."""

    rules: tuple[CleaningRule, ...]
    skipped_rows: tuple[RowProblem, ...] = ()

    def count(self, rule: str) -> int:
        """Rows affected by ``rule`` (0 if the rule is unknown)."""
        return sum(r.rows_affected for r in self.rules if r.rule == rule)

    def to_frame(self) -> pd.DataFrame:
        """The rules as a table: rule, rows_affected, description."""
        return pd.DataFrame(
            [(r.rule, r.rows_affected, r.description) for r in self.rules],
            columns=["rule", "rows_affected", "description"],
        )

    def to_markdown(self) -> str:
        """The rules and skipped rows as Markdown."""
        lines = ["| rule | rows affected | description |", "|---|---:|---|"]
        lines += [f"| {r.rule} | {r.rows_affected} | {r.description} |" for r in self.rules]
        if self.skipped_rows:
            lines += ["", f"Rows skipped while reading ({len(self.skipped_rows)}):", ""]
            lines += [f"- {p}" for p in self.skipped_rows[:200]]
            if len(self.skipped_rows) > 200:
                lines.append(f"- ... and {len(self.skipped_rows) - 200} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class CleanData:
    """Clean, identifier-free tables.

    Attributes
    ----------
    episodes
        Episodes after cleaning, with ``period_key``, ``placement_key``,
        ``category`` and ``provider``.
    placements
        One row per placement (episodes joined over RNE L): ``placement_key``,
        ``period_key``, ``child_key``, ``start``, ``end`` (NaT while open),
        ``place``, ``place_provider``, ``category``, ``provider``,
        ``age_at_start_years``, ``ls_at_start``, ``end_reason`` (move, exit,
        open), ``reason_place_change``, ``planned`` (the move implemented the
        care plan or changed status only).
    periods
        One row per period of care: ``period_key``, ``child_key``, ``start``,
        ``end`` (NaT while open), ``open`` (censored at the data end), ``rec``,
        ``route`` (from REC), ``route_model`` (with the age-18 rule),
        ``age_at_entry_years``, ``days_to_18_at_entry``, ``duration_days``
        (to the end, or to the data end while open), ``first_rne``,
        ``start_known`` (a start of care: :func:`start_known`),
        ``left_truncated`` (started before the data window or not known to start),
        ``entry_category``, ``entry_provider``, ``entry_place``,
        ``n_placements``, ``year_ending`` (collection year of the start),
        ``reentry`` (the child had an earlier period in the data).
    report
        The cleaning report.
    window_start, data_end
        First and last day the data cover.

    """

    episodes: pd.DataFrame
    placements: pd.DataFrame
    periods: pd.DataFrame
    report: CleaningReport
    window_start: pd.Timestamp
    data_end: pd.Timestamp


_CONTENT = [
    "child_key",
    "decom",
    "dec",
    "rne",
    "ls",
    "cin",
    "place",
    "place_provider",
    "rec",
    "reason_place_change",
]


def clean_episodes(loaded: Loaded903, *, keep_short_breaks: bool = False) -> CleanData:
    """Apply the cleaning rules and build periods of care and placements.

    Parameters
    ----------
    loaded
        Output of :func:`sim.calibrate.load_903` (or :func:`~sim.calibrate.loader.truncate`).
    keep_short_breaks
        Keep short-break episodes (legal status V3/V4); excluded by default.

    Returns
    -------
    CleanData
        Episodes, placements, periods of care and the cleaning report.

    """
    rules: list[CleaningRule] = []
    for name, n in sorted(loaded.legacy_mapped.items()):
        rules.append(CleaningRule("legacy_codes_mapped", n, f"legacy code {name} (same category)"))
    rules += _reading_rules(loaded)
    if loaded.header_conflicts:
        rules.append(
            CleaningRule(
                "header_conflicts",
                loaded.header_conflicts,
                "children whose DOB differs between Header files; the latest file's is used",
            )
        )
    eps = loaded.episodes.copy()
    data_end = loaded.data_end

    # 1. Exact duplicates within one file.
    dup = eps.duplicated(subset=[*_CONTENT, "file_index"], keep="first")
    rules.append(
        CleaningRule("exact_duplicates", int(dup.sum()), "identical rows in the same file dropped")
    )
    eps = eps[~dup]

    # 2. The same episode in several collection years: keep the latest year's.
    eps = eps.assign(_zero=(eps["dec"] == eps["decom"]))
    eps = eps.sort_values(["child_key", "decom", "_zero", "year_ending", "file_index", "row"])
    key = ["child_key", "decom", "_zero"]
    n_files = eps.groupby(key)["file_index"].transform("nunique")
    latest = eps.groupby(key)["file_index"].transform("last")
    across = (n_files > 1) & (eps["file_index"] != latest)
    rules.append(
        CleaningRule(
            "duplicates_across_years",
            int(across.sum()),
            "episodes repeated in several collection years; the latest year's row kept",
        )
    )
    eps = eps[~across]

    # 3. Different rows for the same child and DECOM in one file.
    end_rank = eps["dec"].fillna(pd.Timestamp.max)
    eps = eps.assign(_end=end_rank).sort_values([*key, "_end", "row"])
    conflict = eps.duplicated(subset=key, keep="last")
    rules.append(
        CleaningRule(
            "conflicting_duplicates",
            int(conflict.sum()),
            "different rows for the same child and DECOM in one file; the one ending latest kept",
        )
    )
    eps = eps[~conflict]

    # 4. Short breaks.
    short = eps["ls"].isin(SHORT_BREAK_LS)
    if keep_short_breaks:
        rules.append(
            CleaningRule(
                "short_breaks_kept", int(short.sum()), "short-break episodes (LS V3/V4) kept"
            )
        )
    else:
        rules.append(
            CleaningRule(
                "short_breaks_excluded", int(short.sum()), "short-break episodes (LS V3/V4) removed"
            )
        )
        eps = eps[~short]

    eps = eps.sort_values(
        ["child_key", "decom", "_zero", "row"], ascending=[True, True, False, True]
    )
    eps = eps.drop(columns=["_end"]).reset_index(drop=True)

    # 5. Overlapping episodes.
    eps, n_overlap = _resolve_overlaps(eps)
    rules.append(
        CleaningRule(
            "overlapping_episodes",
            n_overlap,
            "episode still running (or left open) when the next one starts: cut at that start",
        )
    )

    # 6-7. Periods of care from X1 chains.
    eps, counts = _periods(eps, loaded.window_start)
    rules.append(
        CleaningRule(
            "x1_gap_bridged",
            counts["bridged"],
            f"REC X1 followed by a gap of 1-{_BRIDGE_DAYS} days: treated as continuous",
        )
    )
    rules.append(
        CleaningRule(
            "exit_rejoined",
            counts["rejoined"],
            f"episode (RNE other than S) starting at most {_BRIDGE_DAYS} days after the "
            "previous one ended with an exit: the same period of care, the exit dropped",
        )
    )
    rules.append(
        CleaningRule(
            "x1_chain_broken",
            counts["broken"],
            "REC X1 with no episode starting soon after: period ended, route 'other'",
        )
    )
    rules.append(
        CleaningRule(
            "period_start_not_s",
            counts["not_s"],
            "period of care (inside the data window) whose first episode has RNE other than "
            f"S; an entry all the same when it starts more than {_BRIDGE_DAYS} days into the "
            "window (the child was not looked after the day before)",
        )
    )

    # 8. Placements (RNE L continues the placement).
    eps["category"] = eps["place"].map(PLACE_CATEGORY).fillna("other")
    eps["provider"] = eps["place_provider"].map(provider_group)
    new_placement = eps["_new_period"] | (eps["rne"] != "L")
    legal_only = int((~new_placement).sum())
    rules.append(
        CleaningRule(
            "legal_status_only",
            legal_only,
            "RNE L episodes joined to the placement they continue (not a move)",
        )
    )
    eps["placement_key"] = np.cumsum(new_placement.to_numpy()) - 1
    placements = _placements(eps, data_end)
    periods = _period_table(eps, placements, data_end, loaded.window_start)

    at18 = periods["_at18"].sum()
    early = periods["_early_lc"].sum()
    rules.append(
        CleaningRule("periods_of_care", len(periods), "periods of care built from X1 chains")
    )
    rules.append(
        CleaningRule(
            "exit_at_18_as_leaving_care",
            int(at18),
            f"exits on or up to {_AT_18_TOLERANCE_DAYS} days before the 18th birthday "
            "counted as leaving care whatever the REC",
        )
    )
    rules.append(
        CleaningRule(
            "early_leaving_care_as_other",
            int(early),
            "E5/E6/E7/E17 exits before 18 counted as route 'other' (the simulator "
            "leaves care by that route only at 18)",
        )
    )
    periods = periods.drop(columns=["_at18", "_early_lc"])
    eps = eps.drop(columns=["_zero", "_new_period"])
    return CleanData(
        episodes=eps,
        placements=placements,
        periods=periods,
        report=CleaningReport(tuple(rules), loaded.problems),
        window_start=loaded.window_start,
        data_end=data_end,
    )


def _reading_rules(loaded: Loaded903) -> list[CleaningRule]:
    """The rules applied while reading, each with its count (0 when it found nothing)."""
    tol = loaded.tolerated
    return [
        CleaningRule(
            "two_digit_years_read",
            tol.get("two_digit_year", 0),
            f"date cells written dd/mm/yy read as 20yy when yy < {CENTURY_PIVOT}, else 19yy",
        ),
        CleaningRule(
            "iso_dates_read", tol.get("iso_date", 0), "date cells written yyyy-mm-dd read as such"
        ),
        CleaningRule(
            "rec_on_open_episode_ignored",
            tol.get("rec_on_open_episode", 0),
            "REC (reason episode ceased) given on an episode without DEC: treated as blank "
            "(the episode is open)",
        ),
        CleaningRule(
            "bad_rows_skipped",
            len(loaded.problems),
            "rows with a bad date, unknown code or other problem, skipped and listed below "
            f"(a file with more than {loaded.max_bad_row_share:.1%} bad rows is rejected)",
        ),
    ]


def _resolve_overlaps(eps: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    same = eps["child_key"].eq(eps["child_key"].shift(-1))
    next_start = eps["decom"].shift(-1)
    next_rne = eps["rne"].shift(-1)
    end = eps["dec"].fillna(pd.Timestamp.max)
    overlap = same & (end > next_start)
    if overlap.any():
        eps = eps.copy()
        was_exit = overlap & (eps["rec"] != "X1")
        chain = was_exit & (next_rne != "S")
        eps.loc[chain, "rec"] = "X1"
        eps.loc[chain & (eps["reason_place_change"] == ""), "reason_place_change"] = "OTHER"
        # An open episode superseded by a new period: it ended when the new one began.
        open_new = overlap & eps["dec"].isna() & (next_rne == "S")
        eps.loc[open_new, "rec"] = "X1"
        eps.loc[overlap, "dec"] = next_start[overlap]
    return eps, int(overlap.sum())


def _periods(eps: pd.DataFrame, window_start: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, int]]:
    first = ~eps["child_key"].eq(eps["child_key"].shift(1))
    prev_rec = eps["rec"].shift(1)
    prev_dec = eps["dec"].shift(1)
    gap = (eps["decom"] - prev_dec).dt.days
    prev_x1 = ~first & (prev_rec == "X1")
    not_s_start = eps["rne"] != "S"
    near = ~first & (gap <= _BRIDGE_DAYS)
    # Looked after the day before (or within the bridge): the same period of care.
    continues = (prev_x1 & (gap <= 0)) | (near & not_s_start)
    bridged = prev_x1 & (gap > 0) & (gap <= _BRIDGE_DAYS) & not_s_start
    rejoined = continues & ~prev_x1
    new_period = ~continues
    last = ~eps["child_key"].eq(eps["child_key"].shift(-1))
    broken_mid = (prev_x1 & ~continues).shift(-1, fill_value=False)
    broken_last = last & (eps["rec"] == "X1")
    broken = broken_mid | broken_last
    eps = eps.copy()
    eps["_new_period"] = new_period
    eps["_broken_end"] = broken
    eps["period_key"] = np.cumsum(new_period.to_numpy()) - 1
    not_s = new_period & (eps["rne"] != "S") & (eps["decom"] >= window_start)
    return eps, {
        "rejoined": int(rejoined.sum()),
        "bridged": int(bridged.sum()),
        "broken": int(broken.sum()),
        "not_s": int(not_s.sum()),
    }


def start_known(periods: pd.DataFrame, window_start: pd.Timestamp) -> pd.Series:
    """Whether each period's start is a start of care (the one definition of an entry).

    A period starts where the child was not looked after the day before. Every
    episode open during the window is in the data, so a period beginning more
    than the bridge (7 days) after the window start began then, whatever its
    first RNE (after short breaks, for instance, care often begins with RNE P
    or L); one beginning earlier is known to start there only when its first
    episode has RNE S.
    """
    late = periods["start"] > window_start + pd.Timedelta(days=_BRIDGE_DAYS)
    return late | (periods["first_rne"] == "S")


def _placements(eps: pd.DataFrame, data_end: pd.Timestamp) -> pd.DataFrame:
    g = eps.groupby("placement_key", sort=True)
    pl = g.agg(
        period_key=("period_key", "first"),
        child_key=("child_key", "first"),
        start=("decom", "first"),
        place=("place", "first"),
        place_provider=("place_provider", "first"),
        category=("category", "first"),
        provider=("provider", "first"),
        age_at_start_years=("age_at_decom_years", "first"),
        ls_at_start=("ls", "first"),
    ).reset_index()
    # GroupBy "last" skips missing values; an open last episode must stay open.
    last = eps.drop_duplicates("placement_key", keep="last").set_index("placement_key")
    pl["end"] = last["dec"].reindex(pl["placement_key"]).to_numpy()
    pl["reason_place_change"] = last["reason_place_change"].reindex(pl["placement_key"]).to_numpy()
    same_period_next = pl["period_key"].eq(pl["period_key"].shift(-1))
    pl["end_reason"] = np.where(
        same_period_next, "move", np.where(pl["end"].isna(), "open", "exit")
    )
    pl["planned"] = pl["reason_place_change"].isin(PLANNED_CHANGE_REASONS) & (
        pl["end_reason"] == "move"
    )
    pl["duration_days"] = (pl["end"].fillna(data_end) - pl["start"]).dt.days
    return pl


def _period_table(
    eps: pd.DataFrame, placements: pd.DataFrame, data_end: pd.Timestamp, window_start: pd.Timestamp
) -> pd.DataFrame:
    g = eps.groupby("period_key", sort=True)
    per = g.agg(
        child_key=("child_key", "first"),
        start=("decom", "first"),
        age_at_entry_years=("age_at_decom_years", "first"),
        days_to_18_at_entry=("days_to_18_at_decom", "first"),
        first_rne=("rne", "first"),
        entry_place=("place", "first"),
        entry_category=("category", "first"),
        entry_provider=("provider", "first"),
    ).reset_index()
    last = eps.drop_duplicates("period_key", keep="last").set_index("period_key")
    for col, src in (("end", "dec"), ("rec", "rec"), ("broken", "_broken_end")):
        per[col] = last[src].reindex(per["period_key"]).to_numpy()
    per["broken"] = per["broken"].astype(bool)
    per["n_placements"] = (
        placements.groupby("period_key").size().reindex(per["period_key"]).to_numpy()
    )
    per["open"] = per["end"].isna()
    per["route"] = per["rec"].map(REC_ROUTE)
    per.loc[per["broken"], "route"] = "other"
    per.loc[per["open"], "route"] = ""
    per["route"] = per["route"].fillna("other")
    per["duration_days"] = (per["end"].fillna(data_end) - per["start"]).dt.days
    days_left_at_exit = per["days_to_18_at_entry"] - per["duration_days"]
    at18 = ~per["open"] & (days_left_at_exit <= _AT_18_TOLERANCE_DAYS)
    early_lc = ~per["open"] & ~at18 & (per["route"] == "leaving_care")
    per["route_model"] = per["route"].where(~at18, "leaving_care").where(~early_lc, "other")
    per["_at18"] = at18
    per["_early_lc"] = early_lc
    per["start_known"] = start_known(per, window_start)
    per["left_truncated"] = (per["start"] < window_start) | ~per["start_known"]
    start = per["start"]
    per["year_ending"] = (start.dt.year + (start.dt.month >= 4).astype(int)).astype(int)
    per["reentry"] = per.groupby("child_key").cumcount() > 0
    return per.drop(columns=["broken"])
