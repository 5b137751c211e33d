"""Text tables the commands print: key measures by financial year, paired differences."""

from __future__ import annotations

from typing import Any

from sim.analysis.measures import KEY_MEASURES, format_range, format_value, label_of

__all__ = ["budget_text", "difference_table", "summary_table", "year_of"]


def year_of(period: str) -> str:
    """Financial-year column of a period: ``2017-03-31`` (a 31 March snapshot) -> ``2016-17``."""
    if len(period) == 10 and period.endswith("-03-31"):
        start = int(period[:4]) - 1
        return f"{start}-{(start + 1) % 100:02d}"
    return period


def summary_table(stats: Any) -> str:
    """Key measures by financial year: the median, with P10–P90 on the line below.

    Snapshots on 31 March sit in the column of the financial year they end.
    """
    years: list[str] = []
    rows: list[tuple[str, dict[str, tuple[str, str]]]] = []
    for m in KEY_MEASURES:
        measure, kind = m.name, m.style
        label = "  " + m.label if m.indent else label_of(m.name)
        sel = stats[stats["measure"] == measure]
        if sel.empty:
            continue
        cells: dict[str, tuple[str, str]] = {}
        for _, r in sel.iterrows():
            year = year_of(str(r["period"]))
            if year not in years:
                years.append(year)
            spread = format_range(r["p10"], r["p90"], kind)
            cells[year] = (format_value(r["p50"], kind), f"({spread})" if spread else "")
        rows.append((label, cells))
    years.sort()
    width = max([len(c) for _, cells in rows for pair in cells.values() for c in pair] + [7]) + 2
    label_w = max(len(label) for label, _ in rows) + 2
    out = [" " * label_w + "".join(y.rjust(width) for y in years)]
    for label, cells in rows:
        out.append(
            label.ljust(label_w) + "".join(cells.get(y, ("-", ""))[0].rjust(width) for y in years)
        )
        out.append(" " * label_w + "".join(cells.get(y, ("", ""))[1].rjust(width) for y in years))
    return "\n".join(out)


def difference_table(diffs: Any) -> str:
    """Mean paired difference and its 95% CI for the key measures."""
    lines = []
    for scenario, by_scenario in diffs.groupby("scenario", sort=False):
        lines.append(f"{scenario} − base")
        for m in KEY_MEASURES:
            measure, label, kind = m.name, label_of(m.name), m.style
            rows = by_scenario[by_scenario["measure"] == measure]
            for _, r in rows.iterrows():
                lines.append(
                    f"  {label.strip():<38} {r['period']:<11} "
                    f"{format_value(r['mean'], kind, signed=True):>9} "
                    f"(95% CI {format_value(r['ci95_low'], kind, signed=True)} to "
                    f"{format_value(r['ci95_high'], kind, signed=True)})"
                )
    return "\n".join(lines)


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
