"""A self-contained HTML report of a run, or of a scenario against a base.

The report is one file with its charts embedded (base64 PNG), so it can be
e-mailed or attached to a committee paper. It holds: the headline numbers
(median and P10–P90 per financial year, or for a comparison the paired
differences first), the standard charts, the config and its assumptions, and
a description of the run in the spirit of the STRESS-DES checklist (what was
simulated, replications, seed, warm-up, how intervals were computed,
versions and commit).

>>> from sim.report.html import write_report
>>> write_report("results/baseline", budget_gbp=50e6)               # doctest: +SKIP
PosixPath('results/baseline/report.html')
>>> write_report("results/baseline", compare_dir="results/fostering")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim._version import __version__
from sim.analysis.budgets import budget_frame, budgets_of
from sim.analysis.comparison import (
    compare,
    key_table,
    partial_years,
    share_in_words,
    trim_partial,
)
from sim.analysis.measures import (
    KEY_MEASURES,
    Measure,
    format_range,
    format_value,
    label_of,
)
from sim.analysis.targets import target_table
from sim.config.schedule import Schedule, is_schedule
from sim.errors import CaresimError
from sim.report import charts as plots
from sim.results.manifest import config_differences
from sim.results.reader import load_results, split_scenarios
from sim.results.run_result import RunResult
from sim.results.tables import SUMMARY_MEASURES, financial_year

__all__ = [
    "budget_table",
    "difference_table",
    "headlines",
    "load_report_inputs",
    "render_report",
    "summary_in_words",
    "write_report",
]

_CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 1000px; color: #1a1a1a; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f2f2f2; }
td:first-child, th:first-child { text-align: left; }
table.kv td { text-align: left; font-family: monospace; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #444; }
.note { background: #f6f9fc; border-left: 4px solid #56B4E9; padding: 0.5rem 0.8rem;
        font-size: 0.9rem; }
.headline { background: #fff8e6; border-left: 4px solid #E69F00; padding: 0.5rem 0.8rem; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
details summary { cursor: pointer; font-weight: bold; margin: 0.6rem 0; }
table.num td { white-space: nowrap; }
.wide { overflow-x: auto; }
.summary { font-size: 1.02rem; background: #f6f9fc; border-left: 4px solid #0072B2;
           padding: 0.6rem 0.9rem; }
@media print {
  @page { size: A4; margin: 15mm 12mm; }
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  h2 { break-before: page; page-break-before: always; margin-top: 0; }
  h1 + .sub + .summary + h2, .summary + h2 { break-before: auto; page-break-before: auto; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  figure, table, .headline, .summary { break-inside: avoid; page-break-inside: avoid; }
  figure img { border: none; max-height: 120mm; }
  details > summary { display: none; }
  details { display: none; }
  .wide { overflow: visible; }
  table { font-size: 7.5pt; }
  a { color: inherit; text-decoration: none; }
}
"""

_DPI = 110


# ------------------------------------------------------------------ tables


_fmt = format_value


def _year(period: str) -> str:
    # Snapshots on 31 March go in the column of the financial year they end.
    if len(period) == 10:
        return financial_year(dt.date.fromisoformat(period))
    return period


def difference_table(
    diff: pd.DataFrame,
    *,
    measures: Sequence[Measure] = KEY_MEASURES,
    detail: bool = False,
) -> pd.DataFrame:
    """Format a :func:`sim.analysis.comparison.compare` table for people.

    By default one row per measure and one column per financial year, each
    cell the mean paired difference with its 95% CI. With ``detail=True`` one
    row per measure and year with the base and scenario means, the P10–P90 of
    the per-replication difference and the share of replications in which the
    scenario is higher.
    """
    rows = []
    wide: dict[str, dict[str, str]] = {}
    for m in measures:
        measure, label, kind = m.name, m.label, m.style
        sel = diff[(diff["measure"] == measure) & (diff["period"].astype(str) != "all")]
        for r in sel.itertuples():
            mean = _fmt(float(r.mean), kind, signed=True)
            ci = (
                f"{_fmt(float(r.ci95_low), kind, signed=True)} to "
                f"{_fmt(float(r.ci95_high), kind, signed=True)}"
            )
            wide.setdefault(label.strip(), {"measure": label.strip()})[_year(str(r.period))] = (
                f"{mean} ({ci})"
            )
            rows.append(
                {
                    "measure": label.strip(),
                    "period": str(r.period),
                    "base": _fmt(float(r.base_mean), kind),
                    "scenario": _fmt(float(r.scenario_mean), kind),
                    "difference": mean,
                    "95% CI": ci,
                    "P10 to P90": f"{_fmt(float(r.p10), kind, signed=True)} to "
                    f"{_fmt(float(r.p90), kind, signed=True)}",
                    "replications": _share(r._asdict()),
                }
            )
    if detail:
        return pd.DataFrame(rows)
    return pd.DataFrame(list(wide.values())).fillna("")


def _size(difference: float, style: str) -> str:
    """The size of a difference, unsigned: "£868k", "21.8 percentage points"."""
    if style == "pct":
        return f"{100 * abs(difference):.1f} percentage points"
    return _fmt(abs(difference), style, signed=False)


def _share(row: Mapping[str, Any]) -> str:
    n = row.get("n")
    return share_in_words(
        float(row["mean"]),
        float(row["share_above_zero"]),
        None if row.get("share_below_zero") is None else float(row["share_below_zero"]),
        int(n) if n is not None and n == n else 0,
    )


def headlines(diff: pd.DataFrame, *, measures: Sequence[Measure] = KEY_MEASURES) -> list[str]:
    """Plain sentences on the last financial year of a comparison, one per key measure."""
    out = []
    for m in measures:
        measure, label, kind = m.name, m.label, m.style
        sel = diff[(diff["measure"] == measure) & (diff["period"].astype(str) != "all")]
        if sel.empty:
            continue
        r = sel.iloc[-1]
        mean, lo, hi = float(r["mean"]), float(r["ci95_low"]), float(r["ci95_high"])
        if not (lo <= 0 <= hi) and mean == mean:
            word = "higher" if mean > 0 else "lower"
            out.append(
                f"{label.strip()} ({r['period']}): {_size(mean, kind)} {word} on average "
                f"(95% CI {_fmt(lo, kind, signed=True)} to {_fmt(hi, kind, signed=True)}); "
                f"the scenario is {_share(r.to_dict())}."
            )
    return out


def _last_stat(res: RunResult, measure: str) -> tuple[str, float, float, float] | None:
    """(period, median, P10, P90) of ``measure`` in the last full year, or None."""
    st = trim_partial(res).summary_stats()
    sel = st[(st["measure"] == measure) & (st["period"].astype(str) != "all")]
    if sel.empty:
        return None
    r = sel.iloc[-1]
    return str(r["period"]), float(r["p50"]), float(r["p10"]), float(r["p90"])


def summary_in_words(
    result: RunResult,
    comparisons: Sequence[tuple[str, pd.DataFrame]] = (),
    *,
    budget_gbp: float | None = None,
) -> list[str]:
    """Two to four plain sentences for the top of a report.

    The median (P10–P90) of children looked after and of total spend in the
    last full financial year; with a budget, how many replications overspend
    it; for each comparison (label, :func:`compare` table) its largest clear
    effects (95% CI of the mean difference clear of zero), biggest relative
    change first.
    """
    out: list[str] = []
    lac = _last_stat(result, "looked_after")
    cost = _last_stat(result, "cost_total_gbp")
    if lac is not None and cost is not None:
        out.append(
            f"In {cost[0]}, the last full financial year, the model gives a median of "
            f"{format_value(lac[1], 'count')} children looked after on {lac[0]} "
            f"(P10–P90 {format_range(lac[2], lac[3], 'count')}) and total spend of "
            f"{format_value(cost[1], 'gbp')} (P10–P90 {format_range(cost[2], cost[3], 'gbp')})."
        )
    budgets = budgets_of(result, flat_total_gbp=budget_gbp)
    total_budget = budgets.get("cost_total_gbp") if budgets else None
    if cost is not None and total_budget:
        amount = total_budget.get(cost[0]) if isinstance(total_budget, Mapping) else None
        s = trim_partial(result).summary
        values = s[(s["measure"] == "cost_total_gbp") & (s["period"].astype(str) == cost[0])][
            "value"
        ]
        if amount is not None and amount == amount and len(values):
            over = int((values > float(amount)).sum())
            n = len(values)
            share = (
                "every replication"
                if over == n
                else "no replication"
                if over == 0
                else f"{over} of {n} replications"
            )
            out.append(
                f"Total spend in {cost[0]} is over its budget of "
                f"{format_value(float(amount), 'gbp')} in {share}."
            )
    for label, diff in comparisons:
        clear = []
        for m in KEY_MEASURES:
            sel = diff[(diff["measure"] == m.name) & (diff["period"].astype(str) != "all")]
            if sel.empty:
                continue
            r = sel.iloc[-1]
            lo, hi, mean = float(r["ci95_low"]), float(r["ci95_high"]), float(r["mean"])
            if lo <= 0 <= hi or mean != mean:
                continue
            rel = abs(float(r.get("relative_change", float("nan"))))
            clear.append((rel if rel == rel else 0.0, m, r))
        clear.sort(key=lambda x: -x[0])
        if not clear:
            out.append(
                f"{label} makes no clear difference to the key measures in the last year "
                "(every 95% CI includes zero)."
            )
            continue
        bits = []
        for _rel, m, r in clear[:2]:
            mean = float(r["mean"])
            word = "higher" if mean > 0 else "lower"
            bits.append(
                f"{m.label.strip()[0].lower()}{m.label.strip()[1:]} "
                f"{_size(mean, m.style)} {word} in {r['period']} "
                f"({_share(r.to_dict())})"
            )
        out.append(f"With {label}, the largest clear effects: " + "; ".join(bits) + ".")
    return out[:4]


def budget_table(
    result: RunResult, budget_gbp: float | None = None, *, measure: str | None = None
) -> pd.DataFrame:
    """Spend against budget per cost line and financial year, formatted for the page.

    The budgets are the config's ``[budgets]``, or ``budget_gbp`` (a flat
    budget for total spend in every year) when given. Partial financial years
    are left out. Columns: the median and P10–P90 spend, the budget, the
    median over- (+) or under-spend (−) and the share of replications over
    budget. ``measure`` keeps one cost measure only.
    """
    frame = budget_frame(trim_partial(result), flat_total_gbp=budget_gbp)
    if measure is not None:
        frame = frame[frame["measure"] == measure]
    rows = [
        {
            "scenario": r["scenario"],
            "cost line": label_of(str(r["measure"])),
            "financial year": r["period"],
            "median": _fmt(r["median_gbp"], "gbp"),
            "P10 to P90": f"{_fmt(r['p10_gbp'], 'gbp')} to {_fmt(r['p90_gbp'], 'gbp')}",
            "budget": _fmt(r["budget_gbp"], "gbp"),
            "median over (+) / under (−)": _fmt(r["median_over_gbp"], "gbp", signed=True),
            "replications over budget": f"{r['p_over']:.0%}",
        }
        for _, r in frame.iterrows()
    ]
    return pd.DataFrame(rows)


def _headline_list(diff: pd.DataFrame) -> str:
    lines = headlines(diff)
    if not lines:
        return (
            "<p class='headline'>No key measure differs clearly (every 95% CI of the mean "
            "difference in the last year includes zero).</p>"
        )
    items = "".join(f"<li>{html.escape(x)}</li>" for x in lines)
    return (
        "<div class='headline'><strong>Clear differences in the last year</strong>"
        f"<ul>{items}</ul></div>"
    )


def _table(frame: pd.DataFrame, cls: str = "num") -> str:
    # Number cells do not wrap mid-figure ("£32.4m (£31.2m–£32.9m)" stays on one line);
    # a table wider than the page scrolls on screen instead.
    if frame.empty:
        return "<p><em>No rows.</em></p>"
    body = frame.to_html(index=False, border=0, classes=cls or None, escape=True, na_rep="")
    return f"<div class='wide'>{body}</div>"


def _targets(res: RunResult) -> list[str]:
    """The config's targets, whether and when the median run meets them (none: nothing)."""
    if not res.config.targets:
        return []
    table = target_table(trim_partial(res))
    shown = pd.DataFrame(
        {
            "target": table["target"],
            "first year the median meets it": table["first_year_met"].fillna("none"),
            "outcome": table["status"],
            "replications meeting it in the last year": [
                "" if x != x else f"{x:.0%}" for x in table["share_meeting_last_year"]
            ],
        }
    )
    return [
        "<h3>Targets</h3>",
        "<p>Targets stated in the config (<code>[[targets]]</code>), against the median "
        "across replications per financial year.</p>",
        _table(shown),
    ]


# ------------------------------------------------------------------ charts


def _img(fig: Figure, caption: str, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _try(chart: Any, *args: Any, caption: str, alt: str, **kwargs: Any) -> str:
    # A chart whose data are absent (e.g. no finite in-house types) is skipped, not fatal.
    try:
        return _img(chart(*args, **kwargs), caption, alt)
    except CaresimError as exc:
        return f'<p class="note">Chart left out: {html.escape(str(exc))}</p>'


def _single_charts(res: RunResult, budget_gbp: float | None) -> list[str]:
    if res.timeseries.empty:
        out = ['<p class="note">No time series in these results: monthly charts left out.</p>']
    else:
        out = [
            _try(
                plots.fan_chart,
                res,
                "looked_after",
                caption="Children looked after at each month end: median, P25–P75 and P5–P95 "
                "across replications.",
                alt="fan chart of children looked after",
            ),
            _try(
                plots.placement_mix,
                res,
                by="category",
                caption="Children looked after by placement category (median of each).",
                alt="stacked area chart of placements by category",
            ),
            _try(
                plots.placement_mix,
                res,
                by="provider",
                share=True,
                caption="Share of children looked after in in-house and external placements.",
                alt="stacked area chart of in-house and external placements",
            ),
            _try(
                plots.fan_chart,
                res,
                "looked_after_by_category",
                "residential",
                caption="Children in residential care at each month end.",
                alt="fan chart of children in residential care",
            ),
            _try(
                plots.utilisation,
                res,
                caption="Occupied share of in-house places (place-days), median and P10–P90.",
                alt="utilisation of in-house placement types",
            ),
            _try(
                plots.capacity_demand,
                res,
                caption="Children in each finite in-house placement type (median, P10–P90 "
                "band) against its places (dashed).",
                alt="in-house occupancy against capacity",
            ),
            _try(
                plots.front_door,
                res,
                caption="The front door each month: referrals, completed assessments and "
                "child in need and child protection plans started (median, P10–P90 band).",
                alt="line chart of referrals, assessments and plan starts per month",
            ),
            _try(
                plots.exits_by_route,
                res,
                caption="Children leaving care per financial year by route (median of each).",
                alt="stacked bar chart of exits from care by route",
            ),
            _try(
                plots.spend_by_type,
                res,
                caption="Placement spend per financial year by placement type, cash (median "
                "of each type; fixed and one-off costs of in-house places included).",
                alt="stacked bar chart of placement spend by type",
            ),
            _try(
                plots.caseload,
                res,
                caption="Cases per social worker (case-days / FTE-days) with the caseload "
                "threshold of the config.",
                alt="fan chart of caseload per social worker",
            ),
        ]
    budgets = budgets_of(res, flat_total_gbp=budget_gbp)
    for measure in ["cost_total_gbp", *(m for m in budgets if m != "cost_total_gbp")]:
        per_year = _budget_per_year(res, budgets.get(measure))
        what = "Total spend" if measure == "cost_total_gbp" else label_of(measure)
        out.append(
            _try(
                plots.annual_distribution,
                res,
                measure,
                budget_gbp=per_year,
                caption=f"{what} per financial year (cash): boxes P25–P75 with the median, "
                "whiskers P5–P95"
                + (
                    "; dashed line: budget, with the share of replications over it."
                    if per_year is not None
                    else "."
                ),
                alt=f"box plot of {what.lower()} per financial year",
            )
        )
    out.append(
        _try(
            plots.annual_distribution,
            res,
            "cost_external_placements_gbp",
            caption="External placement spend per financial year (P5–P95 whiskers).",
            alt="box plot of external placement spend",
        )
    )
    return out


def _budget_per_year(res: RunResult, by_year: Mapping[str, float] | None) -> list[float] | None:
    """Budgets in the order of the chart's years (NaN for a year without one), or None."""
    if not by_year:
        return None
    s = res.summary
    years = dict.fromkeys(
        s.loc[(s["measure"] == "cost_total_gbp") & (s["period"].astype(str) != "all"), "period"]
        .astype(str)
        .tolist()
    )
    return [float(by_year.get(y, float("nan"))) for y in years]


def _combined(base: RunResult, other: RunResult) -> RunResult:
    return RunResult(
        summary=pd.concat([base.summary, other.summary], ignore_index=True),
        timeseries=pd.concat([base.timeseries, other.timeseries], ignore_index=True)
        if len(base.timeseries) and len(other.timeseries)
        else base.timeseries.iloc[0:0],
        config=base.config,
        seed=base.seed,
        manifest=base.manifest,
    )


def _comparison_charts(base: RunResult, other: RunResult, diff: pd.DataFrame) -> list[str]:
    out = [
        _try(
            plots.comparison,
            diff,
            caption="Paired difference per financial year (scenario − base): mean, 95% CI of "
            "the mean (thick) and P10–P90 of the per-replication difference (thin).",
            alt="paired differences per year",
        )
    ]
    if len(base.timeseries) and len(other.timeseries):
        both = _combined(base, other)
        out += [
            _try(
                plots.cost_change,
                base,
                other,
                caption="Change in spend over the reported horizon by cost category "
                "(mean paired difference with 95% CI).",
                alt="bar chart of change in spend by category",
            ),
            _try(
                plots.difference_over_time,
                base,
                other,
                "looked_after_by_provider",
                "external",
                caption="Children in external placements: monthly paired difference.",
                alt="difference over time of children in external placements",
            ),
            _try(
                plots.fan_chart,
                both,
                "looked_after",
                caption="Children looked after, base and scenario (median, P25–P75, P5–P95).",
                alt="fan chart of children looked after in both runs",
            ),
            _try(
                plots.fan_chart,
                both,
                "cost_gbp",
                caption="Monthly spend, base and scenario.",
                alt="fan chart of monthly spend in both runs",
            ),
        ]
    return out


# ------------------------------------------------------------ descriptions


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        if not value:
            return [(prefix, "{}")]
        rows: list[tuple[str, str]] = []
        for k, v in value.items():
            rows += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    if isinstance(value, list) and value and all(isinstance(x, Mapping) for x in value):
        rows = []
        for i, v in enumerate(value):
            rows += _flatten(v, f"{prefix}[{i}]")
        return rows
    return [(prefix, json.dumps(value, default=str))]


def _config_section(res: RunResult) -> str:
    cfg = res.config
    manifest = res.manifest
    parts = [
        "<h2>Config and assumptions</h2>",
        "<p>The resolved config (after <code>extends</code> and overrides), as stored with the "
        "results in <code>manifest.json</code>.</p>",
        f"<pre>{html.escape(cfg.describe())}</pre>",
    ]
    source = manifest.get("config_source")
    if source:
        path = Path(str(source))
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                text = ""
            if text:
                parts.append(
                    f"<details><summary>Config file as written, with its source notes "
                    f"({html.escape(str(source))})</summary><pre>{html.escape(text)}</pre>"
                    "</details>"
                )
                if "extends" in text:
                    parts.append(
                        '<p class="note">This file extends a base config; the table below '
                        "shows every value after merging.</p>"
                    )
    rows = _flatten(manifest.get("config") or cfg.model_dump(mode="json"))
    table = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    parts.append(
        "<details><summary>Every resolved value "
        f"({len(rows)} keys)</summary><table class='kv'>{table}</table></details>"
    )
    return "\n".join(parts)


def _run_section(results: Sequence[tuple[str, RunResult]]) -> str:
    first = results[0][1]
    cfg = first.config
    r = cfg.run
    reps = first.replications
    partial = partial_years(cfg)
    rows: list[tuple[str, str]] = [
        ("Purpose", f"{r.name}. {r.description}".strip()),
        (
            "What is simulated",
            "Individual children from referral through the front door (triage, early help), "
            "statutory assessment, child in need and child protection plans, edge-of-care "
            "support, entry to care, placements (finite in-house capacity first, then "
            "external providers or a fallback), moves and step-downs, and exits with their "
            "allowances; social-worker caseloads and spend. Discrete-event simulation (SimPy), "
            "recorded monthly.",
        ),
        (
            "Period",
            f"{r.start_date} for {r.years:g} years ({r.horizon_days:,} days)"
            + (
                "; part-covered financial years left out of yearly tables and charts: "
                + ", ".join(f"{k} ({v} days)" for k, v in partial.items())
                if partial
                else ""
            ),
        ),
        (
            "Warm-up",
            f"{r.warmup_days} days simulated before {r.start_date} and discarded"
            if r.warmup_days
            else "none: the run starts from the initial population in the config",
        ),
        ("Replications", f"{reps} independent replications per run"),
        (
            "Random numbers",
            f"root seed {first.seed}; replication k uses streams derived from (seed, k) with "
            "numpy SeedSequence, one stream per purpose",
        ),
        (
            "Intervals",
            "Ranges are quantiles across replications (median, P10–P90; charts P5–P95 and "
            "P25–P75): the spread of outcomes the model gives. A 95% CI of a mean is a "
            "t-interval (mean ± t(0.975, n−1)·sd/√n): the Monte Carlo precision of the "
            "average, not the spread. Ratios over a year are ratios of sums.",
        ),
    ]
    if len(results) > 1:
        rows.append(
            (
                "Comparison",
                "Common random numbers: each scenario ran with the same seed and replication "
                "indices as the base, so replication k of both faced the same referrals and "
                "draws until their decisions differ. Differences are taken per replication "
                "(scenario − base) and then summarised: mean with a 95% t-interval, and "
                "P10–P90 of the per-replication differences.",
            )
        )
    for label, res in results:
        m = res.manifest
        versions = m.get("versions") or {}
        rows += [
            (
                f"Provenance ({label})",
                f"config {m.get('config_source') or '(in memory)'}; caresim "
                f"{m.get('caresim_version', '?')}; git commit {m.get('git_commit', 'unknown')}; "
                f"backend {m.get('backend', '?')}; started {m.get('started', '?')}, "
                f"finished {m.get('finished', '?')}",
            ),
            (
                f"Software ({label})",
                ", ".join(f"{k} {v}" for k, v in versions.items()) or "not recorded",
            ),
        ]
    rows.append(("Report", f"written {dt.date.today()} by caresim {__version__}"))
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return (
        "<h2>About this run</h2><p>A description of the simulation study in the spirit of "
        "the STRESS-DES reporting checklist.</p>"
        f"<table>{body}</table>"
    )


def _changes(base: RunResult, other: RunResult) -> str:
    """List the config keys the scenario changes, with both values."""
    a = base.config.model_dump(mode="json")
    b = other.config.model_dump(mode="json")
    keys = [k for k in config_differences(a, b) if k not in {"run.name", "run.description"}]
    if not keys:
        return "<p class='note'>The scenario's config is the same as the base's.</p>"

    def pick(data: Any, key: str) -> str:
        cur = data
        for part in key.replace("]", "").replace("[", ".").split("."):
            if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
                cur = cur[int(part)]
            elif isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                return "(absent)"
        if isinstance(cur, dict) and is_schedule(cur):
            return Schedule.model_validate(cur).describe()  # in words, every step
        text = json.dumps(cur, default=str)
        return text if len(text) <= 120 else text[:117] + "..."

    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td style='text-align:left'>{html.escape(pick(a, k))}"
        f"</td><td style='text-align:left'>{html.escape(pick(b, k))}</td></tr>"
        for k in keys[:40]
    )
    more = f"<p>... and {len(keys) - 40} more keys.</p>" if len(keys) > 40 else ""
    return (
        "<h3>What the scenario changes</h3><table><tr><th>config key</th><th>base</th>"
        f"<th>scenario</th></tr>{rows}</table>{more}"
    )


def _measures_note() -> str:
    items = "".join(
        f"<tr><td>{html.escape(m)}</td><td style='text-align:left'>{html.escape(d)}</td></tr>"
        for m, d in SUMMARY_MEASURES.items()
    )
    return (
        "<details><summary>What the measures mean</summary>"
        f"<table><tr><th>measure</th><th>meaning</th></tr>{items}</table></details>"
    )


# ------------------------------------------------------------------ report


def render_report(
    result: RunResult,
    *,
    scenarios: Iterable[RunResult] = (),
    budget_gbp: float | None = None,
    title: str | None = None,
) -> str:
    """Return the HTML of a report on ``result`` (and its comparison with ``scenarios``).

    Parameters
    ----------
    result
        The base run (or the only run).
    scenarios
        Runs to compare with ``result``; each needs the same seed and
        replication indices. With scenarios the report leads with the
        differences.
    budget_gbp
        Annual budget for total spend, replacing the config's ``[budgets]``:
        drawn on the cost chart and tabulated. Without it the config's budgets
        (if any) are drawn and tabulated.
    title
        Heading (default: the config's name).

    """
    others = list(scenarios)
    base_label = _only_label(result)
    labelled = [(base_label, result)]
    for o in others:
        label = _only_label(o)
        if label in {lbl for lbl, _ in labelled}:
            label = f"{label} ({len(labelled)})"
        labelled.append((label, o))
    # Label every run by its name so that charts drawing two runs tell them apart.
    labelled = [(lbl, _relabel(r, lbl)) for lbl, r in labelled]
    result = labelled[0][1]
    heading = title or (
        result.config.run.name
        if not others
        else f"{', '.join(lbl for lbl, _ in labelled[1:])} compared with {base_label}"
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(heading)}</h1>",
        f"<p class='sub'>{result.replications} replications, seed {result.seed}, "
        f"from {result.config.run.start_date} for {result.config.run.years:g} years. "
        f"caresim {html.escape(str(result.manifest.get('caresim_version', __version__)))}.</p>",
    ]
    diffs = [
        (label, other, compare(trim_partial(result), trim_partial(other)))
        for label, other in labelled[1:]
    ]
    words = summary_in_words(result, [(label, d) for label, _o, d in diffs], budget_gbp=budget_gbp)
    if words:
        parts.append(
            "<p class='summary'><strong>In short.</strong> " + html.escape(" ".join(words)) + "</p>"
        )
    for label, other, diff in diffs:
        parts += [
            f"<h2>What changes: {html.escape(label)} − {html.escape(base_label)}</h2>",
            _changes(result, other),
            "<p>Differences are paired: each replication of the scenario is compared with "
            "the replication of the base that shared its random numbers.</p>",
            _headline_list(diff),
            "<p>Mean paired difference with its 95% CI, per financial year "
            "(stocks on 31 March):</p>",
            _table(difference_table(diff)),
            "<details><summary>Details: means, P10–P90 of the difference, share of "
            "replications in which the scenario is higher</summary>"
            + _table(difference_table(diff, detail=True))
            + "</details>",
            *_comparison_charts(result, other, diff),
        ]
    if others:
        parts.append(f"<h2>Base: {html.escape(base_label)}</h2>")
    else:
        parts.append("<h2>Key results</h2>")
    parts += [
        "<p>Median across replications, with P10–P90 in brackets, per financial year "
        "(stocks on 31 March, flows and spend over the year).</p>",
        _table(key_table(result).drop(columns="key")),
        *_targets(result),
    ]
    frames = [budget_table(r, budget_gbp) for _, r in labelled]
    if any(not f.empty for f in frames):
        source = (
            "a flat budget for total spend (--budget-gbp)"
            if budget_gbp is not None
            else "the config's [budgets]"
        )
        parts += [
            "<h3>Spend against budget</h3>",
            f"<p>Cash spend against {html.escape(source)}, per financial year and cost line.</p>",
            _table(pd.concat(frames, ignore_index=True)),
        ]
    parts += _single_charts(result, budget_gbp)
    for label, other in labelled[1:]:
        parts += [
            f"<h2>Scenario: {html.escape(label)}</h2>",
            _table(key_table(other).drop(columns="key")),
            *_targets(other),
            *_single_charts(other, budget_gbp),
        ]
    parts.append(_measures_note())
    parts.append(_config_section(result))
    for label, other in labelled[1:]:
        parts.append(f"<h3>Scenario config: {html.escape(label)}</h3>")
        parts.append(f"<pre>{html.escape(other.config.describe())}</pre>")
    parts.append(_run_section(labelled))
    parts.append("</body></html>")
    return "\n".join(parts)


def _only_label(res: RunResult) -> str:
    names = list(dict.fromkeys(res.summary["scenario"].astype(str)))
    label = names[0] if len(names) == 1 else ", ".join(names)
    if label == "baseline" and res.manifest.get("config_source"):
        return Path(str(res.manifest["config_source"])).stem
    return label


def load_report_inputs(
    results_dir: str | Path, compare_dir: str | Path | None = None
) -> tuple[RunResult, list[RunResult]]:
    """Load the base and scenario results a report is about.

    Accepts a results folder (``caresim run``), a folder holding several
    scenarios in one summary (the first is the base), a folder of results
    folders (one per scenario; a ``base``/``baseline`` one is the base, else
    the first by name), or a base folder with ``compare_dir`` naming the
    scenario's folder.
    """
    root = Path(results_dir)
    if not (root / "manifest.json").exists() and root.is_dir():
        subs = sorted(p for p in root.iterdir() if (p / "manifest.json").exists())
        if subs and compare_dir is None:
            base_dir = next((p for p in subs if p.name in {"base", "baseline"}), subs[0])
            base = load_results(base_dir)
            others = [load_results(p) for p in subs if p != base_dir]
            return _relabel(base, base_dir.name), [
                _relabel(o, p.name)
                for o, p in zip(others, [p for p in subs if p != base_dir], strict=True)
            ]
    base = load_results(root)
    if compare_dir is not None:
        other = load_results(compare_dir)
        if _only_label(other) == _only_label(base):
            other = _relabel(other, Path(compare_dir).name)
        return base, [other]
    parts = split_scenarios(base)
    if len(parts) > 1:
        wanted = base.manifest.get("base_scenario") or base.manifest.get("base")
        names = list(parts)
        first = wanted if isinstance(wanted, str) and wanted in parts else names[0]
        ordered = [first, *(n for n in names if n != first)]
        # A compare folder labels scenarios by file name; the report uses each config's name.
        titles = [parts[n].config.run.name or n for n in ordered]
        if len(set(titles)) == len(titles):
            ordered_parts = [_relabel(parts[n], t) for n, t in zip(ordered, titles, strict=True)]
        else:
            ordered_parts = [parts[n] for n in ordered]
        return ordered_parts[0], ordered_parts[1:]
    return base, []


def _relabel(res: RunResult, label: str) -> RunResult:
    s = res.summary.assign(scenario=label)
    ts = res.timeseries.assign(scenario=label) if len(res.timeseries) else res.timeseries
    return dataclasses.replace(res, summary=s, timeseries=ts)


def write_report(
    results_dir: str | Path,
    *,
    out: str | Path | None = None,
    budget_gbp: float | None = None,
    compare_dir: str | Path | None = None,
    title: str | None = None,
) -> Path:
    """Write the HTML report of a results folder and return its path.

    Parameters
    ----------
    results_dir
        A folder written by ``caresim run`` (or a comparison folder, see
        :func:`load_report_inputs`).
    out
        Where to write (default ``RESULTS_DIR/report.html``).
    budget_gbp
        Annual budget for total spend, drawn and tabulated when given.
    compare_dir
        A second results folder: the report compares it with ``results_dir``.
    title
        Heading of the report.

    """
    if budget_gbp is not None and budget_gbp <= 0:
        raise CaresimError(f"--budget-gbp must be positive, got {budget_gbp:g}")
    base, others = load_report_inputs(results_dir, compare_dir)
    text = render_report(base, scenarios=others, budget_gbp=budget_gbp, title=title)
    target = Path(out) if out is not None else Path(results_dir) / "report.html"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CaresimError(f"cannot write report to {target}: {exc.strerror}") from None
    return target
