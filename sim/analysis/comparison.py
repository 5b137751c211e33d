"""Analysis for notebooks and reports: load results, compare scenarios, tabulate.

Everything here works on the tidy tables of :class:`sim.RunResult`:
``summary`` (scenario, replication, measure, period, value) and
``timeseries`` (scenario, replication, date, measure, category, value).

Typical use in a notebook::

    import sim
    from sim.analysis import comparison as analysis
    from sim.report import charts as plots

    cfg = sim.load_config("configs/worcestershire-2016.toml")
    base = sim.run(cfg, replications=20, seed=1)
    more = sim.run(sim.load_config("configs/scenarios/fostering-ratio-66-34.toml"),
                   replications=20, seed=1, scenario="fostering")
    analysis.compare(base, more)            # paired differences, one row per measure and period
    plots.fan_chart(base, "looked_after")   # a matplotlib Figure

Runs in notebooks may use ``backend="process"``: the worker function lives in
:mod:`sim.experiment.runner`, so it can be imported by child processes whether they are
forked (Linux) or spawned (macOS, Windows).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.measures import KEY_MEASURES, Measure, format_range, format_value, label_of
from sim.config.schema import Config
from sim.errors import CaresimError
from sim.results.run_result import RunResult
from sim.results.tables import financial_year

__all__ = [
    "compare",
    "compare_costs",
    "compare_timeseries",
    "key_table",
    "measure_values",
    "paired_differences",
    "paired_stats",
    "paired_table",
    "partial_years",
    "reported_window",
    "resolve_period",
    "select_series",
    "share_in_words",
    "trim_partial",
]


# --------------------------------------------------------------- comparing


def _check_common_random_numbers(base: RunResult, other: RunResult) -> None:
    if base.seed != other.seed:
        raise CaresimError(
            f"cannot pair replications: the results used different seeds ({base.seed} and "
            f"{other.seed}); rerun both with the same --seed so that they share common "
            "random numbers"
        )
    reps_a = {int(k) for k in base.summary["replication"].unique()}
    reps_b = {int(k) for k in other.summary["replication"].unique()}
    if reps_a != reps_b:
        only_a = sorted(reps_a - reps_b)[:5]
        only_b = sorted(reps_b - reps_a)[:5]
        raise CaresimError(
            "cannot pair replications: the results hold different replication indices "
            f"(only in base: {only_a}; only in scenario: {only_b}); run both with the same "
            "number of replications"
        )


def _label(result: RunResult) -> str:
    names = result.summary["scenario"].astype(str).unique()
    if len(names) != 1:
        raise CaresimError(
            f"expected one scenario in a result, found {len(names)}: {list(names)}; "
            "use sim.results.reader.split_scenarios first"
        )
    return str(names[0])


def paired_differences(
    base: RunResult,
    other: RunResult,
    *,
    measures: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Per-replication differences ``other − base`` of every summary measure and period.

    Replication ``k`` of both results used the same random numbers (same seed
    and index), so their difference removes most of the noise shared by the two
    runs. Raises :class:`CaresimError` if the seeds or replication indices differ.

    Returns
    -------
    pandas.DataFrame
        Columns: scenario, measure, period, replication, base, value (the
        scenario's), difference.

    """
    _check_common_random_numbers(base, other)
    name = _label(other)
    key = f"{name} base" if name == _label(base) else _label(base)
    both = pd.concat(
        [base.summary.assign(scenario=key), other.summary.assign(scenario=name)],
        ignore_index=True,
    )
    return paired_table(both, key, measures=measures)


def paired_table(
    summary: pd.DataFrame, base: str, *, measures: Iterable[str] | None = None
) -> pd.DataFrame:
    """Per-replication differences ``scenario − base`` from a tidy summary of several scenarios.

    ``summary`` holds every scenario's rows (as ``caresim compare`` runs them,
    with one seed); replication ``k`` of each scenario is paired with
    replication ``k`` of ``base``.

    Returns
    -------
    pandas.DataFrame
        Columns: scenario, measure, period, replication, base, value, difference.

    """
    if base not in set(summary["scenario"].astype(str)):
        raise CaresimError(f"base scenario {base!r} is not in the results")
    cols = ["scenario", "replication", "measure", "period", "value"]
    s = summary[cols]
    if measures is not None:
        s = s[s["measure"].isin(list(measures))]
    keys = ["replication", "measure", "period"]
    b = s[s["scenario"].astype(str) == base][[*keys, "value"]]
    others = s[s["scenario"].astype(str) != base]
    merged = others.merge(b, on=keys, suffixes=("", "_base"), how="inner", validate="m:1")
    merged = merged.rename(columns={"value_base": "base"})
    merged["scenario"] = merged["scenario"].astype(str)
    merged["period"] = merged["period"].map(str)  # plain str, not numpy's str_
    merged["difference"] = merged["value"] - merged["base"]
    return merged[
        ["scenario", "measure", "period", "replication", "base", "value", "difference"]
    ].reset_index(drop=True)


def paired_stats(
    summary: pd.DataFrame, base: str, *, measures: Iterable[str] | None = None
) -> pd.DataFrame:
    """The paired comparison of every scenario in ``summary`` with ``base``.

    The same columns as :func:`compare` (one row per scenario, measure and
    period), from a tidy summary of several scenarios run with one seed.
    """
    return _interval_stats(
        paired_table(summary, base, measures=measures), ["scenario", "measure", "period"]
    )


def _interval_stats(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    g = frame.groupby(by, sort=False, observed=True)
    out = g.agg(
        n=("difference", "count"),
        base_mean=("base", "mean"),
        scenario_mean=("value", "mean"),
        mean=("difference", "mean"),
        sd=("difference", "std"),
        p10=("difference", lambda x: x.quantile(0.10)),
        p50=("difference", "median"),
        p90=("difference", lambda x: x.quantile(0.90)),
        share_above_zero=("difference", lambda x: float((x > 0).mean())),
        share_below_zero=("difference", lambda x: float((x < 0).mean())),
    )
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * out["sd"].to_numpy() / np.sqrt(n)
        rel = out["mean"].to_numpy() / out["base_mean"].abs().to_numpy()
    out["ci95_low"] = out["mean"] - np.where(n > 1, half, np.nan)
    out["ci95_high"] = out["mean"] + np.where(n > 1, half, np.nan)
    out["relative_change"] = np.where(np.isfinite(rel), rel, np.nan)
    return out.reset_index()


def share_in_words(mean: float, higher: float, lower: float | None, n: int) -> str:
    """How many replications move the way the mean difference does, in plain words.

    ``higher`` and ``lower`` are the shares of replications in which the
    scenario is above and below the base (``lower`` None: ``1 - higher``).

    >>> share_in_words(-3.0, 0.0, 1.0, 20), share_in_words(2.0, 0.85, 0.15, 20)
    ('lower in every replication', 'higher in 17 of 20 replications')
    >>> share_in_words(0.0, 0.0, 0.0, 20)
    'the same in every replication'
    """
    below = 1.0 - higher if lower is None or lower != lower else lower
    if n <= 0 or (higher == 0 and below == 0) or mean != mean:
        return "the same in every replication"
    word, share = ("higher", higher) if mean > 0 else ("lower", below)
    if mean == 0:
        word, share = ("higher", higher) if higher >= below else ("lower", below)
    k = round(share * n)
    if k >= n:
        return f"{word} in every replication"
    if k == 0:
        return f"{word} in none of the {n} replications"
    return f"{word} in {k} of {n} replications"


def compare(
    base: RunResult,
    other: RunResult,
    *,
    measures: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Paired comparison of a scenario with a base, one row per summary measure and period.

    Both results must come from the same seed and replication indices, so that
    replication ``k`` of each shares its random numbers (common random numbers).

    Parameters
    ----------
    base
        The reference run.
    other
        The scenario run.
    measures
        Restrict to these summary measures (default: all).

    Returns
    -------
    pandas.DataFrame
        Columns: scenario, measure, period, n (replications), base_mean,
        scenario_mean, mean (mean difference), sd, p10, p50, p90 (quantiles of
        the per-replication difference), share_above_zero, ci95_low,
        ci95_high (t-interval of the mean difference), relative_change (mean
        difference / |base mean|).

    Raises
    ------
    CaresimError
        If the runs used different seeds or replication indices.

    Examples
    --------
    >>> import sim
    >>> from sim.analysis.comparison import compare
    >>> cfg = sim.load_config("configs/worcestershire-2016.toml", {"run.years": 1})
    >>> base = sim.run(cfg, replications=3, seed=7)
    >>> more = sim.run(sim.with_overrides(cfg, {"placement_types.foster_in_house.capacity": 260}),
    ...                replications=3, seed=7, scenario="more carers")
    >>> d = compare(base, more, measures=["in_house_share_fostering"])
    >>> d[["scenario", "measure", "period", "n"]].astype(str).values.tolist()
    [['more carers', 'in_house_share_fostering', '2016-17', '3']]
    >>> bool((d["mean"] > 0).all())
    True

    """
    diffs = paired_differences(base, other, measures=measures)
    return _interval_stats(diffs, ["scenario", "measure", "period"])


def compare_timeseries(
    base: RunResult,
    other: RunResult,
    measure: str,
    category: str = "all",
) -> pd.DataFrame:
    """Paired differences ``other − base`` of one monthly measure, summarised per month.

    Returns
    -------
    pandas.DataFrame
        Columns: date, n, base_mean, scenario_mean, mean, sd, p10, p50, p90,
        share_above_zero, ci95_low, ci95_high, relative_change.

    """
    _check_common_random_numbers(base, other)
    if not len(base.timeseries) or not len(other.timeseries):
        raise CaresimError("both results need a time-series table to compare months")

    def pick(res: RunResult) -> pd.DataFrame:
        return select_series(res.timeseries, measure, category)[["replication", "date", "value"]]

    merged = pick(base).merge(pick(other), on=["replication", "date"], suffixes=("_base", ""))
    merged = merged.rename(columns={"value_base": "base"})
    merged["difference"] = merged["value"] - merged["base"]
    return _interval_stats(merged, ["date"])


def select_series(ts: pd.DataFrame, measure: str, category: str) -> pd.DataFrame:
    """Rows of one time series (``measure``, ``category``) of a tidy time-series table.

    An unknown measure or category raises a :class:`CaresimError` that lists
    what the table has.
    """
    sel = ts[(ts["measure"] == measure) & (ts["category"] == category)]
    if not sel.empty:
        return sel
    measures = sorted(set(ts["measure"].astype(str)))
    if measure not in measures:
        raise CaresimError(
            f"unknown time-series measure {measure!r}; available: {', '.join(measures)}"
        )
    cats = sorted(set(ts.loc[ts["measure"] == measure, "category"].astype(str)))
    raise CaresimError(
        f"time-series measure {measure!r} has no category {category!r}; available: "
        f"{', '.join(cats)}"
    )


# ----------------------------------------------------------------- tables


# Days a period may lack and still count as whole (years are 365.25 days in the model).
_SLACK_DAYS = 1


def reported_window(config: Config) -> tuple[dt.date, dt.date]:
    """First reported day and the day after the last one (``run.start_date`` + horizon)."""
    start = config.run.start_date
    return start, start + dt.timedelta(days=config.run.horizon_days)


def partial_years(config: Config) -> dict[str, int]:
    """Financial years the run covers only in part, with the days it covers.

    A horizon that is not a whole number of years reports a stub of the next
    year; its yearly totals are not comparable with full years. (Whole years
    end on the same calendar date, so they leave no stub.)

    >>> import sim
    >>> cfg = sim.load_config("configs/worcestershire-2016.toml", {"run.years": 2.5})
    >>> partial_years(cfg)
    {'2018-19': 183}
    >>> partial_years(sim.load_config("configs/worcestershire-2016.toml", {"run.years": 3}))
    {}

    """
    start, end = reported_window(config)
    out: dict[str, int] = {}
    day = start
    while day < end:
        fy = financial_year(day)
        fy_start = dt.date(int(fy[:4]), 4, 1)
        fy_end = dt.date(int(fy[:4]) + 1, 4, 1)
        covered = (min(end, fy_end) - max(start, fy_start)).days
        # A year of 365.25 days leaves 31 March of a leap year out; that is still a full year.
        if covered < (fy_end - fy_start).days - _SLACK_DAYS:
            out[fy] = covered
        day = fy_end
    return out


def trim_partial(result: RunResult) -> RunResult:
    """Drop part-covered financial years (summary) and part-covered months (time series).

    Yearly totals and monthly flows of a period the run covers only in part
    look like sudden drops; charts and report tables leave them out.
    """
    _start, end = reported_window(result.config)
    partial = set(partial_years(result.config))
    s = result.summary
    s = s[~s["period"].astype(str).isin(partial)].reset_index(drop=True)
    ts = result.timeseries
    if len(ts):
        months = pd.to_datetime(ts["date"])
        month_end = months + pd.offsets.MonthBegin(1)
        slack = pd.Timedelta(days=_SLACK_DAYS)
        ts = ts[month_end <= pd.Timestamp(end) + slack].reset_index(drop=True)
    return dataclasses.replace(result, summary=s, timeseries=ts)


def resolve_period(summary: pd.DataFrame, measure: str, period: str | None) -> str:
    """Return the summary period of ``measure`` meant by ``period``.

    ``None`` means the last period reported. A date that ends a financial year
    (``2019-03-31``) names that year (``2018-19``) for yearly measures, and a
    financial year (``2018-19``) names its 31 March for snapshot measures.
    """
    if measure not in set(summary["measure"]):
        known = sorted(set(summary["measure"]))
        raise CaresimError(f"unknown summary measure {measure!r}; available: {', '.join(known)}")
    periods = list(dict.fromkeys(summary.loc[summary["measure"] == measure, "period"]))
    if period is None:
        return str(periods[-1])
    if period in periods:
        return period
    alt = None
    try:
        alt = financial_year(dt.date.fromisoformat(period) - dt.timedelta(days=1))
    except ValueError:
        if len(period) == 7 and period[4] == "-" and period[:4].isdigit():
            alt = f"{int(period[:4]) + 1}-03-31"
    if alt in periods:
        return str(alt)
    raise CaresimError(
        f"measure {measure!r} has no period {period!r}; available: {', '.join(map(str, periods))}"
    )


def measure_values(result: RunResult, measure: str, period: str | None = None) -> pd.Series:
    """Per-replication values of one summary measure, indexed by replication.

    ``period`` may be a financial year (``2018-19``), a 31 March date, ``all``
    or ``mean`` (the mean over the measure's periods); None means the last.
    """
    s = result.summary
    if period == "mean":
        if measure not in set(s["measure"]):
            resolve_period(s, measure, None)
        sel = s[s["measure"] == measure]
        return sel.groupby("replication")["value"].mean()
    p = resolve_period(s, measure, period)
    sel = s[(s["measure"] == measure) & (s["period"] == p)]
    return sel.set_index("replication")["value"].sort_index()


def key_table(result: RunResult, *, measures: Sequence[Measure] = KEY_MEASURES) -> pd.DataFrame:
    """Median (P10–P90) across replications of the key measures, one column per year.

    Snapshot periods (``2018-03-31``) are shown in the column of the financial
    year they end (``2017-18``). Cells are formatted text, ready to print.
    """
    st = trim_partial(result).summary_stats()
    rows = []
    for m in measures:
        measure, label, kind = m.name, label_of(m.name), m.style
        sel = st[st["measure"] == measure]
        if sel.empty:
            continue
        row: dict[str, str] = {"measure": label.strip(), "": measure}
        for _, r in sel.iterrows():
            period = str(r["period"])
            if period == "all":
                continue
            if len(period) == 10:
                period = financial_year(pd.Timestamp(period).date())
            row[period] = (
                f"{format_value(r['p50'], kind)} ({format_range(r['p10'], r['p90'], kind)})"
            )
        rows.append(row)
    frame = pd.DataFrame(rows).fillna("")
    return frame.rename(columns={"": "key"})


def compare_costs(
    base: RunResult,
    other: RunResult,
    *,
    period: str | None = None,
) -> pd.DataFrame:
    """Paired differences of spend by cost category (placement type, allowances, staff, ...).

    Monthly ``cost_gbp`` by category is summed per replication over a
    financial year (``period="2018-19"``) or the whole reported horizon
    (``period=None``), then compared as in :func:`compare`. Categories with
    no spend in either run are dropped.

    Returns
    -------
    pandas.DataFrame
        Columns: category, n, base_mean, scenario_mean, mean, sd, p10, p50, p90,
        share_above_zero, ci95_low, ci95_high, relative_change (£ over the period).

    """
    _check_common_random_numbers(base, other)
    if not len(base.timeseries) or not len(other.timeseries):
        raise CaresimError("both results need a time-series table to compare costs by category")

    def totals(res: RunResult) -> pd.DataFrame:
        ts = res.timeseries
        ts = ts[(ts["measure"] == "cost_gbp") & (ts["category"] != "all")]
        if period is not None:
            years = ts["date"].map(lambda d: financial_year(pd.Timestamp(d).date()))
            if period not in set(years):
                raise CaresimError(
                    f"no months in financial year {period!r}; available: "
                    f"{', '.join(sorted(set(years)))}"
                )
            ts = ts[years == period]
        out = ts.groupby(["replication", "category"], observed=True)["value"].sum().reset_index()
        out["category"] = out["category"].astype(str)
        return out

    merged = totals(base).merge(
        totals(other), on=["replication", "category"], how="outer", suffixes=("_base", "")
    )
    merged = merged.fillna({"value_base": 0.0, "value": 0.0}).rename(columns={"value_base": "base"})
    merged["difference"] = merged["value"] - merged["base"]
    out = _interval_stats(merged, ["category"])
    spent = (out["base_mean"].abs() + out["scenario_mean"].abs()) > 0
    return out[spent].reset_index(drop=True)
