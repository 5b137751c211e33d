"""Text tables the commands print: key measures by financial year, paired differences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.analysis.measures import (
    KEY_MEASURES,
    MEASURES,
    Measure,
    format_range,
    format_value,
    label_of,
)

__all__ = ["budget_text", "difference_table", "summary_table", "year_of"]


def year_of(period: str) -> str:
    """Financial-year column of a period: ``2017-03-31`` (a 31 March snapshot) -> ``2016-17``."""
    if len(period) == 10 and period.endswith("-03-31"):
        start = int(period[:4]) - 1
        return f"{start}-{(start + 1) % 100:02d}"
    return period


Cells = dict[str, tuple[str, str]]


def _year_table(rows: Sequence[tuple[str, Cells]]) -> str:
    """Rows of (label, {year: (first line, second line)}) as a table, years as columns."""
    # Periods that are not a financial year ("all": the whole reported run) go last.
    years = sorted({y for _, cells in rows for y in cells}, key=lambda y: (not y[:4].isdigit(), y))
    if not rows:
        return "(no rows)"
    width = max([len(c) for _, cells in rows for pair in cells.values() for c in pair] + [7]) + 2
    label_w = max(len(label) for label, _ in rows) + 2
    heads = {"all": "whole run"}
    out = [" " * label_w + "".join(heads.get(y, y).rjust(width) for y in years)]
    for label, cells in rows:
        out.append(
            label.ljust(label_w) + "".join(cells.get(y, ("-", ""))[0].rjust(width) for y in years)
        )
        out.append(" " * label_w + "".join(cells.get(y, ("", ""))[1].rjust(width) for y in years))
    return "\n".join(out)


def _measures(names: Sequence[str] | None) -> list[Measure]:
    if not names:
        return list(KEY_MEASURES)
    return [MEASURES.get(n) or Measure(n, label_of(n), "", "flow", "num") for n in names]


def summary_table(stats: Any) -> str:
    """Key measures by financial year: the median, with P10–P90 on the line below.

    Snapshots on 31 March sit in the column of the financial year they end.
    """
    rows: list[tuple[str, Cells]] = []
    for m in KEY_MEASURES:
        sel = stats[stats["measure"] == m.name]
        if sel.empty:
            continue
        cells: Cells = {}
        for _, r in sel.iterrows():
            spread = format_range(r["p10"], r["p90"], m.style)
            cells[year_of(str(r["period"]))] = (
                format_value(r["p50"], m.style),
                f"({spread})" if spread else "",
            )
        rows.append(("  " + m.label if m.indent else label_of(m.name), cells))
    return _year_table(rows)


def difference_table(diffs: Any, measures: Sequence[str] | None = None) -> str:
    """Per scenario: the mean paired difference by financial year, its 95% CI below.

    ``measures`` picks and orders the rows (default: the key measures).
    """
    blocks = []
    for scenario, by_scenario in diffs.groupby("scenario", sort=False):
        rows: list[tuple[str, Cells]] = []
        n = int(by_scenario["n"].max()) if len(by_scenario) else 0
        for m in _measures(measures):
            sel = by_scenario[by_scenario["measure"] == m.name]
            if sel.empty:
                continue
            cells: Cells = {}
            for _, r in sel.iterrows():
                lo = format_value(r["ci95_low"], m.style, signed=True)
                hi = format_value(r["ci95_high"], m.style, signed=True)
                cells[year_of(str(r["period"]))] = (
                    format_value(r["mean"], m.style, signed=True),
                    f"({lo} to {hi})",
                )
            rows.append(("  " + m.label if m.indent else label_of(m.name), cells))
        blocks.append(
            f"{scenario} − base: mean paired difference, 95% CI below ({n} replications)\n"
            + _year_table(rows)
        )
    return "\n\n".join(blocks)


def budget_text(frame: Any) -> str:
    """Spend against budget (a :func:`sim.analysis.budgets.budget_frame`) as a text table."""
    head = ("", "year", "budget", "median spend", "median over (+) / under (−)", "P(overspend)")
    rows = [head]
    for _, r in frame.iterrows():
        label = label_of(str(r["measure"]))
        if frame["scenario"].nunique() > 1:
            label = f"{r['scenario']}: {label}"
        rows.append(
            (
                label,
                str(r["period"]),
                format_value(r["budget_gbp"], "gbp"),
                format_value(r["median_gbp"], "gbp"),
                format_value(r["median_over_gbp"], "gbp", signed=True),
                f"{r['p_over']:.0%}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        row[0].ljust(widths[0])
        + "".join(cell.rjust(w + 2) for cell, w in zip(row[1:], widths[1:], strict=True))
        for row in rows
    )
