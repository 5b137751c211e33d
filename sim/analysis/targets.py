"""Whether and when a run meets the targets its config states (``[[targets]]``).

:func:`target_table` takes a :class:`~sim.results.run_result.RunResult` and
returns one row per scenario and target: the first financial year in which
the median across replications meets the target (or none), the median and
the share of replications meeting it in the last reported year, and a
sentence saying so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import pandas as pd

from sim.analysis.comparison import partial_years
from sim.analysis.measures import MEASURES, format_value
from sim.config.targets import Target
from sim.results.run_result import RunResult
from sim.results.tables import financial_year

__all__ = ["TARGET_COLUMNS", "target_lines", "target_table"]

#: Columns of :func:`target_table`, in order.
TARGET_COLUMNS: tuple[str, ...] = (
    "scenario",
    "target",
    "measure",
    "direction",
    "value",
    "by",
    "first_year_met",
    "met",
    "last_year",
    "median_last_year",
    "share_meeting_last_year",
    "status",
)

_FY = re.compile(r"^\d{4}-\d{2}$")


def _year_of(period: str) -> str:
    """Financial year of a summary period (a year label, a 31 March date or ``all``)."""
    if _FY.match(period) or period == "all":
        return period
    return financial_year(dt.date.fromisoformat(period))


def _fmt(measure: str, value: float) -> str:
    m = MEASURES.get(measure)
    return format_value(value, m.style) if m is not None else f"{value:,.4g}"


def _row(scenario: str, target: Target, rows: pd.DataFrame) -> dict[str, object]:
    """One target against one scenario's summary rows of its measure."""
    by = target.by_year
    median = rows.groupby("year", sort=True)["value"].median().dropna()
    years = list(median.index)
    first = next((y for y in years if target.met_by(float(median[y]))), None)
    last = years[-1] if years else None
    if last is None:
        last_median, share = float("nan"), float("nan")
    else:
        at_last = rows.loc[rows["year"] == last, "value"].dropna()
        last_median = float(median[last])
        share = float(at_last.map(target.met_by).mean()) if len(at_last) else float("nan")
    in_time = first is not None and (by is None or first == "all" or first <= by)
    if not years:
        status = "not met: the run reports no value of the measure"
    elif first is None:
        status = (
            f"not met: the median is {_fmt(target.measure, last_median)} in {last}, "
            f"the target {_fmt(target.measure, target.value)}"
        )
        if by is not None and last is not None and by > last:
            status += f" (the run ends in {last}, before {by})"
    elif in_time:
        status = "met" if first == "all" else f"met in {first}"
    else:
        status = f"not met by {by}: the median first meets it in {first}"
    return {
        "scenario": scenario,
        "target": target.describe(),
        "measure": target.measure,
        "direction": target.direction,
        "value": target.value,
        "by": by,
        "first_year_met": first,
        "met": in_time,
        "last_year": last,
        "median_last_year": last_median,
        "share_meeting_last_year": share,
        "status": status,
    }


def target_table(result: RunResult, targets: Sequence[Target] | None = None) -> pd.DataFrame:
    """Whether and when the median run meets each target, per scenario.

    Parameters
    ----------
    result
        A batch's results; its summary may hold several scenarios.
    targets
        The targets to check (default: the result's ``config.targets``).

    Returns
    -------
    pandas.DataFrame
        One row per scenario and target, columns :data:`TARGET_COLUMNS`:
        ``first_year_met`` is the first financial year whose median across
        replications meets the target (None if none does; ``all`` for a
        measure of the whole period), ``met`` whether that is by ``by`` (any
        year when ``by`` is not set), and ``share_meeting_last_year`` the share
        of replications meeting it in the last reported year. Financial years
        the run covers only in part are left out.

    """
    targets = tuple(result.config.targets if targets is None else targets)
    if not targets:
        return pd.DataFrame(columns=list(TARGET_COLUMNS))
    summary = result.summary
    partial = set(partial_years(result.config))
    measures = {t.measure for t in targets}
    s = summary[summary["measure"].isin(measures)].copy()
    s["year"] = s["period"].astype(str).map(_year_of)
    s = s[~s["year"].isin(partial)]
    scenarios = list(dict.fromkeys(summary["scenario"])) if "scenario" in summary else ["baseline"]
    records = []
    for scenario in scenarios:
        mine = s[s["scenario"] == scenario] if "scenario" in s else s
        for target in targets:
            records.append(_row(str(scenario), target, mine[mine["measure"] == target.measure]))
    return pd.DataFrame.from_records(records, columns=list(TARGET_COLUMNS))


def target_lines(table: pd.DataFrame) -> list[str]:
    """One sentence per row of :func:`target_table`, for a run summary."""
    several = table["scenario"].nunique() > 1 if len(table) else False
    lines = []
    for row in table.itertuples(index=False):
        where = f"[{row.scenario}] " if several else ""
        share = row.share_meeting_last_year
        tail = "" if share != share else f"; {share:.0%} of replications meet it in {row.last_year}"
        lines.append(f"{where}{row.target}: {row.status}{tail}")
    return lines
