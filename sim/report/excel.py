"""An Excel workbook of a run's (or a comparison's) statistics, for people who work in Excel.

:func:`write_excel` writes one sheet each of:

``Summary``
    One row per scenario and financial year; for every summary measure its
    median, P10, P90 and mean across replications, headed with the measure's
    label and unit (``Total spend (£ a financial year): median``). Snapshots
    on 31 March sit in the row of the financial year they end.
``Monthly``
    One row per scenario and month; for every monthly measure (its
    ``all`` category, or the sum of its categories where it has none) the
    median, P10 and P90 across replications, headed with its unit.
``Comparison``
    For a comparison only: the paired difference of each scenario from the
    base per measure and year (:func:`sim.analysis.comparison.compare`), with
    the measure's label and unit.

>>> from sim.report.excel import write_excel
>>> write_excel("results/compare", "results/compare/report.xlsx")   # doctest: +SKIP
PosixPath('results/compare/report.xlsx')
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from sim.analysis.comparison import compare, share_in_words, trim_partial
from sim.analysis.measures import MEASURES, label_of
from sim.errors import CaresimError
from sim.report.charts import _unit
from sim.results.run_result import RunResult
from sim.results.stats import describe
from sim.results.tables import financial_year

__all__ = ["excel_sheets", "write_excel"]

#: Names of monthly measures whose summary label does not fit (a flow per month, not a year).
_MONTHLY_LABELS = {
    "looked_after": "Children looked after",
    "cost_gbp": "Spend",
    "cost_real_gbp": "Spend at base-year prices",
    "entries": "Children starting care",
    "exits": "Children leaving care",
    "referrals": "Referrals",
    "assessment_outcomes": "Assessments completed",
    "cin_starts": "Child in need plans started",
    "cp_starts": "Child protection plans started",
    "caseload_per_fte": "Cases per social worker (FTE)",
    "in_house_utilisation": "In-house utilisation",
    "in_house_occupancy": "Children in in-house places",
    "capacity": "In-house places",
}

_STATS = (("p50", "median"), ("p10", "P10"), ("p90", "P90"), ("mean", "mean"))


def _summary_unit(measure: str) -> str:
    if measure in MEASURES:
        return MEASURES[measure].unit
    if measure.endswith("_gbp"):
        return "£ a financial year"
    return _unit(measure, yearly=True)[0]


def _header(label: str, unit: str, stat: str) -> str:
    return f"{label} ({unit}): {stat}" if unit else f"{label}: {stat}"


def _year(period: str) -> str:
    return financial_year(dt.date.fromisoformat(period)) if len(period) == 10 else period


def _summary_sheet(results: list[RunResult]) -> pd.DataFrame:
    frame = pd.concat([trim_partial(r).summary for r in results], ignore_index=True)
    frame = frame[frame["period"].astype(str) != "all"].assign(
        period=lambda f: f["period"].astype(str).map(_year)
    )
    st = describe(frame, ["scenario", "period", "measure"])
    wide = st.pivot_table(
        index=["scenario", "period"],
        columns="measure",
        values=[s for s, _ in _STATS],
        sort=False,
    )
    columns = {}
    for measure in dict.fromkeys(st["measure"]):
        for stat, name in _STATS:
            if (stat, measure) in wide.columns:
                columns[(stat, measure)] = _header(label_of(measure), _summary_unit(measure), name)
    out = wide[list(columns)]
    out.columns = list(columns.values())
    out = out.reset_index().rename(columns={"period": "financial year"})
    order = list(dict.fromkeys(frame["scenario"].astype(str)))
    out["scenario"] = pd.Categorical(out["scenario"], order, ordered=True)
    return out.sort_values(["scenario", "financial year"]).reset_index(drop=True)


def _monthly_sheet(results: list[RunResult]) -> pd.DataFrame:
    frames = [trim_partial(r).timeseries for r in results if len(r.timeseries)]
    if not frames:
        return pd.DataFrame({"scenario": [], "month": []})
    ts = pd.concat(frames, ignore_index=True)
    ts = ts.assign(
        scenario=ts["scenario"].astype(str),
        measure=ts["measure"].astype(str),
        category=ts["category"].astype(str),
    )
    has_all = set(ts.loc[ts["category"] == "all", "measure"])
    alls = ts[ts["category"] == "all"]
    sums = (
        ts[~ts["measure"].isin(has_all)]
        .groupby(["scenario", "replication", "date", "measure"], observed=True, sort=False)["value"]
        .sum(min_count=1)
        .reset_index()
    )
    series = pd.concat([alls.drop(columns="category"), sums], ignore_index=True)
    grouped = series.groupby(["scenario", "date", "measure"], observed=True, sort=False)["value"]
    q = grouped.quantile([0.5, 0.1, 0.9]).unstack()
    q.columns = ["median", "P10", "P90"]
    wide = q.unstack("measure")
    columns = {}
    for measure in dict.fromkeys(series["measure"]):
        unit = _unit(measure)[0]
        label = _MONTHLY_LABELS.get(measure) or label_of(measure)
        for stat in ("median", "P10", "P90"):
            if (stat, measure) in wide.columns:
                columns[(stat, measure)] = _header(label, unit, stat)
    out = wide[list(columns)]
    out.columns = list(columns.values())
    out = out.reset_index().rename(columns={"date": "month"})
    out["month"] = pd.to_datetime(out["month"]).dt.date
    order = list(dict.fromkeys(series["scenario"]))
    out["scenario"] = pd.Categorical(out["scenario"], order, ordered=True)
    return out.sort_values(["scenario", "month"]).reset_index(drop=True)


def _comparison_sheet(base: RunResult, others: list[RunResult]) -> pd.DataFrame:
    rows = []
    for other in others:
        diff = compare(trim_partial(base), trim_partial(other))
        diff = diff[diff["period"].astype(str) != "all"]
        for _, r in diff.iterrows():
            measure = str(r["measure"])
            rows.append(
                {
                    "scenario": str(r["scenario"]),
                    "measure": label_of(measure),
                    "unit": _summary_unit(measure),
                    "financial year": _year(str(r["period"])),
                    "base: mean": float(r["base_mean"]),
                    "scenario: mean": float(r["scenario_mean"]),
                    "difference (scenario − base): mean": float(r["mean"]),
                    "difference: 95% CI low": float(r["ci95_low"]),
                    "difference: 95% CI high": float(r["ci95_high"]),
                    "difference: P10": float(r["p10"]),
                    "difference: P90": float(r["p90"]),
                    "relative change (share of the base)": float(r["relative_change"]),
                    "replications": share_in_words(
                        float(r["mean"]),
                        float(r["share_above_zero"]),
                        float(r.get("share_below_zero", float("nan"))),
                        int(r["n"]),
                    ),
                    "paired replications (n)": int(r["n"]),
                }
            )
    return pd.DataFrame(rows)


def _inputs(source: RunResult | str | Path) -> tuple[RunResult, list[RunResult]]:
    if isinstance(source, RunResult):
        from sim.results.reader import split_scenarios

        parts = list(split_scenarios(source).values())
        return parts[0], parts[1:]
    from sim.report.html import load_report_inputs

    return load_report_inputs(source)


def excel_sheets(source: RunResult | str | Path) -> dict[str, pd.DataFrame]:
    """The workbook's sheets as DataFrames, by sheet name (see the module's docstring)."""
    base, others = _inputs(source)
    results = [base, *others]
    sheets = {"Summary": _summary_sheet(results), "Monthly": _monthly_sheet(results)}
    if others:
        sheets["Comparison"] = _comparison_sheet(base, others)
    return sheets


def write_excel(source: RunResult | str | Path, path: str | Path) -> Path:
    """Write the statistics of a result (or results folder) to an ``.xlsx`` workbook.

    Parameters
    ----------
    source
        A RunResult, or a folder written by ``caresim run`` or ``caresim compare``.
    path
        The workbook to write.

    Returns
    -------
    Path
        Where the workbook is.

    """
    sheets = excel_sheets(source)
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(target, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                frame.to_excel(writer, sheet_name=name, index=False, freeze_panes=(1, 2))
                sheet = writer.sheets[name]
                for i, column in enumerate(frame.columns, start=1):
                    width = min(max(len(str(column)), 10) + 2, 48)
                    sheet.column_dimensions[sheet.cell(1, i).column_letter].width = width
    except OSError as exc:
        raise CaresimError(f"cannot write workbook {target}: {exc.strerror}") from None
    return target
