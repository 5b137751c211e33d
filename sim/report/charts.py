"""Standard charts of results, in one style with a colour-blind-safe palette.

Every function takes a :class:`sim.RunResult` (or the tidy DataFrame named in
its docstring), draws on a new :class:`matplotlib.figure.Figure` (or on
``ax`` when given) and returns the Figure. Figures are built without
``pyplot``, so they work under any backend (Agg on servers) and do not pile up
in notebooks; Jupyter displays a returned Figure. :func:`save` writes PNG
and SVG.

Colours are the Okabe–Ito palette (Okabe & Ito, 2008), distinguishable with
the common forms of colour blindness. Bands are quantiles across
replications: fan charts shade P5–P95 and P25–P75 around the median.

Examples
--------
>>> import sim
>>> from sim.report import charts
>>> cfg = sim.load_config("configs/worcestershire-2016.toml")   # doctest: +SKIP
>>> res = sim.run(cfg, replications=4)                           # doctest: +SKIP
>>> fig = charts.fan_chart(res, "looked_after")                  # doctest: +SKIP
>>> charts.save(fig, "looked-after")   # .png and .svg           # doctest: +SKIP

"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from sim.analysis.comparison import (
    compare,
    compare_costs,
    compare_timeseries,
    select_series,
    trim_partial,
)
from sim.analysis.measures import KEY_MEASURES, label_of
from sim.errors import CaresimError
from sim.results.run_result import RunResult
from sim.results.tables import SUMMARY_MEASURES

__all__ = [
    "OKABE_ITO",
    "PALETTE",
    "annual_distribution",
    "capacity_demand",
    "caseload",
    "comparison",
    "cost_change",
    "difference_over_time",
    "exits_by_route",
    "fan_chart",
    "front_door",
    "optimisation",
    "placement_mix",
    "probability_curve",
    "save",
    "sensitivity",
    "spend_by_type",
    "utilisation",
]

#: The Okabe–Ito colour-blind-safe palette.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Order in which series take colours (strong colours first; greys after the eight).
PALETTE: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["yellow"],
    OKABE_ITO["black"],
    "#999999",
    "#555555",
    "#CCCCCC",
    "#333333",
)

_STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "axes.prop_cycle": cycler(color=PALETTE),
    "legend.frameon": False,
    "legend.fontsize": 9,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "svg.fonttype": "none",
}

_SIZE = (8.0, 4.2)


def _styled(extra: dict[str, Any] | None = None) -> Any:
    """Return a context in which new artists take the caresim style."""
    style: Any = {**_STYLE, **(extra or {})}
    return mpl.rc_context(style)


# Monthly measures that are flows (totals in the month), for axis labels.
_FLOWS = {
    "referrals",
    "triage",
    "assessment_outcomes",
    "cin_starts",
    "cp_starts",
    "escalations_to_care",
    "edge_of_care",
    "entries",
    "exits",
    "moves",
}


def _unit(measure: str, *, yearly: bool = False) -> tuple[str, str]:
    """Axis label and number kind (``gbp``, ``pct``, ``num``, ``count``) of a measure."""
    if measure.startswith("cost") and measure.endswith("gbp"):
        return ("£ per financial year" if yearly else "£ per month"), "gbp"
    if measure in {"in_house_utilisation", "in_house_share_fostering"}:
        return "share", "pct"
    if measure.startswith("caseload"):
        return "cases per social worker (FTE)", "num"
    if measure == "fte":
        return "social workers (FTE)", "num"
    if measure == "moves_per_child":
        return "moves per child", "num"
    if measure == "capacity":
        return "places", "count"
    if measure in _FLOWS:
        return ("children per year" if yearly else "children per month"), "count"
    return "children", "count"


def _gbp(x: float, _pos: Any = None) -> str:
    a = abs(x)
    if a >= 1e6:
        return f"£{x / 1e6:,.1f}m"
    if a >= 1e3:
        return f"£{x / 1e3:,.0f}k"
    return f"£{x:,.0f}"


def _format_y(ax: Axes, kind: str) -> None:
    if kind == "gbp":
        ax.yaxis.set_major_formatter(FuncFormatter(_gbp))
    elif kind == "pct":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    elif kind == "count":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:,.0f}"))


def _zero_based(ax: Axes, kind: str, *, headroom: float = 0.0) -> None:
    """Start a count or money axis at zero (levels, not differences), with room on top."""
    if kind not in {"count", "gbp"}:
        return
    high = ax.get_ylim()[1]
    if ax.dataLim.y0 < 0:
        return  # the data go below zero (a saving, a difference): keep the automatic limits
    ax.set_ylim(0.0, high * (1 + headroom) if high > 0 else 1.0)


def _format_dates(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _new(ax: Axes | None, size: tuple[float, float] = _SIZE) -> tuple[Figure, Axes]:
    if ax is not None:
        fig = ax.get_figure()
        assert isinstance(fig, Figure)
        return fig, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


_LABELS = {m.name: label_of(m.name) for m in KEY_MEASURES} | {
    "looked_after": "Children looked after",
    "cost_gbp": "Spend",
    "looked_after_by_category": "Children looked after",
    "looked_after_by_provider": "Children looked after",
    "caseload_per_fte": "Cases per social worker (FTE)",
}


def _title(measure: str, category: str | None = None) -> str:
    text = _LABELS.get(measure) or measure.replace("_", " ").replace(" gbp", "").capitalize()
    text = text[0].upper() + text[1:]
    if category and category != "all":
        text += f": {category.replace('_', ' ')}"
    return text


def _timeseries(data: RunResult | pd.DataFrame) -> pd.DataFrame:
    ts = trim_partial(data).timeseries if isinstance(data, RunResult) else data
    needed = {"replication", "date", "measure", "category", "value"}
    if not isinstance(ts, pd.DataFrame) or not needed <= set(ts.columns):
        raise CaresimError(
            f"expected a RunResult or a tidy time-series DataFrame with columns {sorted(needed)}"
        )
    if ts.empty:
        raise CaresimError("the result holds no time series (was timeseries.* saved?)")
    return ts


def _summary(data: RunResult | pd.DataFrame) -> pd.DataFrame:
    s = trim_partial(data).summary if isinstance(data, RunResult) else data
    needed = {"replication", "measure", "period", "value"}
    if not isinstance(s, pd.DataFrame) or not needed <= set(s.columns):
        raise CaresimError(
            f"expected a RunResult or a tidy summary DataFrame with columns {sorted(needed)}"
        )
    return s


def _scenarios(frame: pd.DataFrame, scenario: str | Sequence[str] | None) -> list[str]:
    names = (
        list(dict.fromkeys(frame["scenario"].astype(str))) if "scenario" in frame else ["(result)"]
    )
    if scenario is None:
        return names
    wanted = [scenario] if isinstance(scenario, str) else list(scenario)
    for w in wanted:
        if w not in names:
            raise CaresimError(f"no scenario {w!r} in the data; available: {', '.join(names)}")
    return wanted


def _quantiles(sel: pd.DataFrame, qs: Sequence[float]) -> pd.DataFrame:
    q = sel.groupby("date", observed=True)["value"].quantile(list(qs)).unstack()
    q.index = pd.to_datetime(q.index)
    return q.sort_index()


def _of_scenario(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    if "scenario" not in frame:
        return frame
    return frame[frame["scenario"].astype(str) == name]


# ------------------------------------------------------------------ charts


def fan_chart(
    data: RunResult | pd.DataFrame,
    measure: str,
    category: str = "all",
    *,
    scenario: str | Sequence[str] | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    reference: float | None = None,
    reference_label: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Fan chart of a monthly measure: median with P25–P75 and P5–P95 bands.

    With several scenarios each gets its colour: the median, a P25–P75 band
    and dotted P5 and P95 lines (shaded fans on top of each other are unreadable).

    Parameters
    ----------
    data
        A RunResult, or its tidy ``timeseries`` DataFrame.
    measure, category
        The series, e.g. ``("looked_after", "all")`` or
        ``("looked_after_by_category", "residential")``; see
        :data:`sim.results.tables.TIMESERIES_MEASURES`.
    scenario
        One scenario or several (drawn over each other); default all.
    title, ylabel
        Override the defaults.
    reference, reference_label
        Draw a dashed horizontal line (a target or a limit).
    ax
        Draw here instead of on a new figure.

    """
    ts = _timeseries(data)
    with _styled():
        fig, ax = _new(ax)
        names = _scenarios(ts, scenario)
        for i, name in enumerate(names):
            sel = select_series(_of_scenario(ts, name), measure, category)
            q = _quantiles(sel, (0.05, 0.25, 0.5, 0.75, 0.95))
            colour = PALETTE[i % len(PALETTE)]
            x = q.index.to_numpy()
            if len(names) == 1:
                ax.fill_between(x, q[0.05], q[0.95], color=colour, alpha=0.15, lw=0)
                ax.fill_between(x, q[0.25], q[0.75], color=colour, alpha=0.3, lw=0)
            else:
                # Overlapping shaded fans mix into mud: one light band and dotted outer lines.
                ax.fill_between(x, q[0.25], q[0.75], color=colour, alpha=0.2, lw=0)
                ax.plot(x, q[0.05], color=colour, lw=0.8, ls=":")
                ax.plot(x, q[0.95], color=colour, lw=0.8, ls=":")
            label = "median" if len(names) == 1 else name
            ax.plot(x, q[0.5], color=colour, lw=2, label=label)
        if len(names) == 1:
            ax.fill_between([], [], [], color=PALETTE[0], alpha=0.3, lw=0, label="P25–P75")
            ax.fill_between([], [], [], color=PALETTE[0], alpha=0.15, lw=0, label="P5–P95")
        else:
            ax.fill_between([], [], [], color="#999999", alpha=0.3, lw=0, label="P25–P75")
            ax.plot([], [], color="#555555", lw=0.8, ls=":", label="P5 and P95")
        if reference is not None:
            ax.axhline(reference, color=OKABE_ITO["black"], ls="--", lw=1.2, label=reference_label)
        unit, kind = _unit(measure)
        _format_y(ax, kind)
        _zero_based(ax, kind)
        _format_dates(ax)
        ax.set_ylabel(ylabel or unit)
        ax.set_title(title or _title(measure, category))
        ax.legend(loc="best")
    return fig


def placement_mix(
    data: RunResult | pd.DataFrame,
    *,
    by: str = "category",
    scenario: str | None = None,
    share: bool = False,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Children looked after over time, stacked by placement category, provider or type.

    Each band is the median across replications of that group (so the stack
    is close to, not exactly, the median total).

    Parameters
    ----------
    data
        A RunResult, or its tidy ``timeseries`` DataFrame.
    by
        ``"category"`` (fostering, residential, ...), ``"provider"``
        (in-house vs external) or ``"type"`` (each placement type).
    scenario
        The scenario to draw when ``data`` holds several.
    share
        Show shares of all children looked after instead of numbers.
    title
        Override the default title.
    ax
        Draw here instead of on a new figure.

    """
    ts = _timeseries(data)
    measures = {
        "category": "looked_after_by_category",
        "provider": "looked_after_by_provider",
        "type": "looked_after",
    }
    if by not in measures:
        raise CaresimError(f"by={by!r}: expected one of {', '.join(measures)}")
    names = _scenarios(ts, scenario)
    if len(names) > 1:
        raise CaresimError(
            f"placement_mix draws one scenario; pick one of {', '.join(names)} with scenario="
        )
    sel = _of_scenario(ts, names[0])
    sel = sel[(sel["measure"] == measures[by]) & (sel["category"] != "all")]
    if sel.empty:
        raise CaresimError(f"no {measures[by]} series in the data")
    med = sel.groupby(["date", "category"], observed=True)["value"].median().unstack().sort_index()
    med.index = pd.to_datetime(med.index)
    med = med.loc[:, med.max() > 0]
    med = med[med.mean().sort_values(ascending=False).index]
    if by == "provider":
        med = med[[c for c in ("in_house", "external") if c in med.columns]]
    if share:
        med = med.div(med.sum(axis=1).replace(0, np.nan), axis=0)
    with _styled():
        fig, ax = _new(ax)
        colours = [PALETTE[i % len(PALETTE)] for i in range(med.shape[1])]
        labels = [str(c).replace("_", " ") for c in med.columns]
        ax.stackplot(
            med.index.to_numpy(),
            med.to_numpy().T,
            labels=labels,
            colors=colours,
            alpha=0.9,
            lw=0.3,
            edgecolor="white",
        )
        _format_y(ax, "pct" if share else "count")
        _format_dates(ax)
        ax.set_ylabel("share of children looked after" if share else "children (median)")
        what = {"category": "placement category", "provider": "provider", "type": "type"}[by]
        ax.set_title(title or f"Children looked after by {what}")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
        ax.margins(x=0)
    return fig


def _over_labels(
    ax: Axes, values: Sequence[np.ndarray], pos: np.ndarray, budgets: Sequence[float]
) -> list[float]:
    """Write "N% over" above each year's P95 whisker; return the whiskers' heights."""
    tops = []
    for j, v in enumerate(values):
        if len(v) and budgets[j] == budgets[j]:  # a NaN budget: none that year
            over = float(np.mean(v > budgets[j]))
            # Above the P95 whisker (what is drawn), not the largest value.
            top = float(np.percentile(v, 95))
            tops.append(top)
            ax.annotate(
                f"{over:.0%} over",
                (pos[j], top),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                annotation_clip=False,
            )
    return tops


def annual_distribution(
    data: RunResult | pd.DataFrame,
    measure: str = "cost_total_gbp",
    *,
    budget_gbp: float | Sequence[float] | None = None,
    kind: str = "box",
    scenario: str | Sequence[str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Distribution across replications of a yearly summary measure, by financial year.

    Boxes span P25–P75 with the median marked and whiskers at P5–P95
    (``kind="violin"`` draws violins). With ``budget_gbp`` (one number, or one
    per year, NaN for a year without one) a dashed budget line is drawn and the
    share of replications over budget is printed above each year.

    Parameters
    ----------
    data
        A RunResult or its tidy ``summary`` DataFrame.
    measure
        A summary measure with financial-year periods (default total spend).
    budget_gbp
        A budget per year (one number, or one per year), drawn as a dashed line.
    kind
        ``"box"`` or ``"violin"``.
    scenario
        One scenario or several (side by side); default all.
    title
        Override the default title.
    ax
        Draw here instead of on a new figure.

    """
    s = _summary(data)
    if measure not in set(s["measure"]):
        raise CaresimError(
            f"unknown summary measure {measure!r}; available: {', '.join(SUMMARY_MEASURES)}"
        )
    if kind not in {"box", "violin"}:
        raise CaresimError(f"kind={kind!r}: expected 'box' or 'violin'")
    names = _scenarios(s, scenario)
    sel = s[(s["measure"] == measure) & (s["period"].astype(str) != "all")]
    periods = list(dict.fromkeys(sel["period"].astype(str)))
    budgets: list[float] | None = None
    if budget_gbp is not None:
        budgets = (
            [float(budget_gbp)] * len(periods)
            if isinstance(budget_gbp, int | float)
            else [float(b) for b in budget_gbp]
        )
        if len(budgets) != len(periods):
            raise CaresimError(
                f"budget_gbp has {len(budgets)} values but there are {len(periods)} years"
            )
    label_tops: list[float] = []
    with _styled():
        fig, ax = _new(ax)
        width = 0.7 / len(names)
        for i, name in enumerate(names):
            own = _of_scenario(sel, name)
            values = [
                own.loc[own["period"].astype(str) == p, "value"].dropna().to_numpy()
                for p in periods
            ]
            pos = np.arange(len(periods)) + (i - (len(names) - 1) / 2) * width
            colour = PALETTE[i % len(PALETTE)]
            if kind == "box":
                parts = ax.boxplot(
                    values,
                    positions=pos,
                    widths=width * 0.85,
                    whis=(5, 95),
                    showfliers=False,
                    patch_artist=True,
                    medianprops={"color": OKABE_ITO["black"], "lw": 1.5},
                )
                for box in parts["boxes"]:
                    box.set(facecolor=colour, alpha=0.6, edgecolor=colour)
            else:
                nonempty = [v if len(v) else np.array([np.nan]) for v in values]
                violins: Any = ax.violinplot(
                    nonempty, positions=pos, widths=width * 0.9, showmedians=True
                )
                for body in violins["bodies"]:
                    body.set(facecolor=colour, alpha=0.5, edgecolor=colour)
            if len(names) > 1:
                ax.plot([], [], color=colour, lw=6, alpha=0.6, label=name)
            if budgets is not None:
                label_tops += _over_labels(ax, values, pos, budgets)
        if budgets is not None:
            xs = np.arange(len(periods))
            ax.step(
                np.r_[xs - 0.5, xs[-1] + 0.5],
                np.r_[budgets, budgets[-1]],
                where="post",
                color=OKABE_ITO["vermillion"],
                ls="--",
                lw=1.5,
                label="budget",
            )
        ax.set_xticks(np.arange(len(periods)), periods)
        unit, num = _unit(measure, yearly=True)
        _format_y(ax, num)
        _zero_based(ax, num)
        if label_tops:
            # Room above the highest whisker for its "% over" label (about 8% of the axis).
            low, high = ax.get_ylim()
            need = max(label_tops) + 0.1 * (max(label_tops) - low)
            if need > high:
                ax.set_ylim(low, need)
        ax.set_xlabel("financial year" if periods and len(periods[0]) == 7 else "period")
        ax.set_ylabel(unit)
        ax.set_title(title or _title(measure))
        if len(names) > 1 or budgets is not None:
            ax.legend(loc="best")
    return fig


def caseload(
    data: RunResult | pd.DataFrame,
    *,
    target: float | None = None,
    scenario: str | Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Monthly cases per social worker (case-days / FTE-days) as a fan chart, with a target.

    ``target`` defaults to the config's ``workforce.caseload_threshold`` when
    ``data`` is a RunResult.
    """
    if target is None and isinstance(data, RunResult):
        target = float(data.config.workforce.caseload_threshold)
    return fan_chart(
        data,
        "caseload_per_fte",
        "all",
        scenario=scenario,
        title="Cases per social worker (FTE)",
        reference=target,
        reference_label=None if target is None else f"target {target:g}",
        ax=ax,
    )


def utilisation(
    data: RunResult | pd.DataFrame,
    *,
    types: Iterable[str] | None = None,
    scenario: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Monthly utilisation of finite in-house placement types: median and P10–P90."""
    ts = _timeseries(data)
    names = _scenarios(ts, scenario)
    if len(names) > 1:
        raise CaresimError(
            f"utilisation draws one scenario; pick one of {', '.join(names)} with scenario="
        )
    sel = _of_scenario(ts, names[0])
    sel = sel[sel["measure"] == "in_house_utilisation"]
    available = list(dict.fromkeys(sel["category"].astype(str)))
    wanted = list(types) if types is not None else available
    for t in wanted:
        if t not in available:
            raise CaresimError(
                f"no utilisation series for {t!r}; finite in-house types: {', '.join(available)}"
            )
    with _styled():
        fig, ax = _new(ax)
        drawn = 0
        for t in wanted:
            one = sel[sel["category"] == t].dropna(subset=["value"])
            if one.empty:
                continue  # no places at all in the period (e.g. capacity 0)
            q = _quantiles(one, (0.1, 0.5, 0.9))
            colour = PALETTE[drawn % len(PALETTE)]
            x = q.index.to_numpy()
            ax.fill_between(x, q[0.1], q[0.9], color=colour, alpha=0.2, lw=0)
            ax.plot(x, q[0.5], color=colour, lw=2, label=t.replace("_", " "))
            drawn += 1
        ax.set_ylim(0, 1.05)
        _format_y(ax, "pct")
        _format_dates(ax)
        ax.set_ylabel("occupied place-days / available")
        ax.set_title("In-house utilisation (median, P10–P90 band)")
        if drawn:
            ax.legend(loc="lower left")
    return fig


# ------------------------------------------------- flows, spend and places


def _one_scenario(ts: pd.DataFrame, scenario: str | None, what: str) -> pd.DataFrame:
    names = _scenarios(ts, scenario)
    if len(names) > 1:
        raise CaresimError(
            f"{what} draws one scenario; pick one of {', '.join(names)} with scenario="
        )
    return _of_scenario(ts, names[0])


def _fy(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    start = np.where(d.dt.month >= 4, d.dt.year, d.dt.year - 1)
    return pd.Series([f"{y}-{(y + 1) % 100:02d}" for y in start], index=dates.index)


def _yearly_median(sel: pd.DataFrame, group: pd.Series) -> pd.DataFrame:
    """Sum each replication's months per financial year and group; median across replications.

    Returns financial years as rows and groups as columns. Only whole
    financial years (12 months) are kept.
    """
    frame = sel.assign(year=_fy(sel["date"]).to_numpy(), group=group.to_numpy())
    months = frame.groupby("year")["date"].nunique()
    whole = months[months >= 12].index
    frame = frame[frame["year"].isin(whole)]
    if frame.empty:
        raise CaresimError("no whole financial year in the time series")
    sums = frame.groupby(["year", "group", "replication"], observed=True)["value"].sum()
    return sums.groupby(["year", "group"], observed=True).median().unstack(fill_value=0.0)


def _stacked_bars(ax: Axes, table: pd.DataFrame) -> None:
    bottom = np.zeros(len(table))
    x = np.arange(len(table))
    for i, col in enumerate(table.columns):
        values = table[col].to_numpy(dtype=float)
        ax.bar(
            x,
            values,
            0.7,
            bottom=bottom,
            color=PALETTE[i % len(PALETTE)],
            label=str(col).replace("_", " "),
            edgecolor="white",
            lw=0.5,
        )
        bottom += values
    ax.set_xticks(x, [str(y) for y in table.index])
    ax.set_xlabel("financial year")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))


def _largest(table: pd.DataFrame, keep: int) -> pd.DataFrame:
    """The ``keep`` largest columns, in size order, and the rest summed as "other"."""
    order = table.sum().sort_values(ascending=False).index
    table = table[order]
    table = table.loc[:, table.sum() > 0]
    if table.shape[1] <= keep:
        return table
    head = table.iloc[:, :keep].copy()
    head["other"] = table.iloc[:, keep:].sum(axis=1)
    return head


def spend_by_type(
    data: RunResult | pd.DataFrame,
    *,
    scenario: str | None = None,
    keep: int = 8,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Placement spend per financial year, stacked by placement type (cash, median).

    Each type's fixed and one-off costs (``foster_in_house_fixed``, ...) count
    with it. Each band is the median across replications of that type's
    spend; the ``keep`` largest types are drawn and the rest summed as "other".
    With a RunResult the placement types come from its config; with a
    DataFrame every ``cost_gbp`` category that is not an allowance, staff or a
    front-door service counts.
    """
    ts = _one_scenario(_timeseries(data), scenario, "spend_by_type")
    sel = ts[(ts["measure"] == "cost_gbp") & (ts["category"].astype(str) != "all")]
    cats = sel["category"].astype(str)
    base = cats.str.replace(r"_(fixed|one_off)$", "", regex=True)
    if isinstance(data, RunResult):
        types = set(data.config.placement_types)
    else:
        others = {"assessment", "cin_plan", "cp_plan", "early_help", "s47_enquiry", "staff"}
        types = {c for c in base if not c.startswith(("allowance_", "edge_of_care"))} - others
        types -= {"leaving_care", "staying_put"}
    mask = base.isin(types)
    if not mask.any():
        raise CaresimError("no placement spend (cost_gbp by placement type) in the time series")
    table = _largest(_yearly_median(sel[mask], base[mask]), keep)
    with _styled():
        fig, ax = _new(ax)
        _stacked_bars(ax, table)
        _format_y(ax, "gbp")
        ax.set_ylabel("£ per financial year (median)")
        ax.set_title(title or "Placement spend by placement type")
    return fig


def exits_by_route(
    data: RunResult | pd.DataFrame,
    *,
    scenario: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Children leaving care per financial year, stacked by route (median of each route)."""
    ts = _one_scenario(_timeseries(data), scenario, "exits_by_route")
    sel = ts[(ts["measure"] == "exits") & (ts["category"].astype(str) != "all")]
    if sel.empty:
        raise CaresimError("no exits by route in the time series")
    table = _largest(_yearly_median(sel, sel["category"].astype(str)), 8)
    with _styled():
        fig, ax = _new(ax)
        _stacked_bars(ax, table)
        _format_y(ax, "count")
        ax.set_ylabel("children per year (median)")
        ax.set_title(title or "Children leaving care by route")
    return fig


#: The front door's monthly flows: (measure, label); categories are summed.
_FRONT_DOOR: tuple[tuple[str, str], ...] = (
    ("referrals", "referrals"),
    ("assessment_outcomes", "assessments completed"),
    ("cin_starts", "child in need plans started"),
    ("cp_starts", "child protection plans started"),
)


def front_door(
    data: RunResult | pd.DataFrame,
    *,
    scenario: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Referrals, assessments and CIN and CP plan starts per month: median and P10–P90."""
    ts = _one_scenario(_timeseries(data), scenario, "front_door")
    with _styled():
        fig, ax = _new(ax)
        drawn = 0
        for i, (measure, label) in enumerate(_FRONT_DOOR):
            sel = ts[(ts["measure"] == measure) & (ts["category"].astype(str) != "all")]
            if sel.empty:
                sel = ts[ts["measure"] == measure]
            if sel.empty:
                continue
            total = sel.groupby(["replication", "date"], observed=True)["value"].sum()
            q = _quantiles(total.reset_index(), (0.1, 0.5, 0.9))
            x = q.index.to_numpy()
            colour = PALETTE[i % len(PALETTE)]
            ax.fill_between(x, q[0.1], q[0.9], color=colour, alpha=0.2, lw=0)
            ax.plot(x, q[0.5], color=colour, lw=2, label=label)
            drawn += 1
        if not drawn:
            raise CaresimError("no front-door series (referrals, ...) in the time series")
        _format_y(ax, "count")
        _zero_based(ax, "count")
        _format_dates(ax)
        ax.set_ylabel("children per month")
        ax.set_title(title or "The front door (median, P10–P90 band)")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def capacity_demand(
    data: RunResult | pd.DataFrame,
    *,
    scenario: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Children in each finite in-house type against its places, at month end.

    Solid lines are the median occupancy with a P10–P90 band; dashed lines of
    the same colour are the places (capacity). A type with no places in the
    run is left out.
    """
    ts = _one_scenario(_timeseries(data), scenario, "capacity_demand")
    occ = ts[ts["measure"] == "in_house_occupancy"]
    cap = ts[ts["measure"] == "capacity"]
    if occ.empty or cap.empty:
        raise CaresimError("no in_house_occupancy and capacity series in the time series")
    types = [t for t in dict.fromkeys(cap["category"].astype(str)) if t != "all"]
    with _styled():
        fig, ax = _new(ax)
        drawn = 0
        for t in types:
            places = cap[cap["category"].astype(str) == t]
            if float(places["value"].max()) <= 0:
                continue
            colour = PALETTE[drawn % len(PALETTE)]
            q = _quantiles(occ[occ["category"].astype(str) == t], (0.1, 0.5, 0.9))
            x = q.index.to_numpy()
            ax.fill_between(x, q[0.1], q[0.9], color=colour, alpha=0.2, lw=0)
            ax.plot(x, q[0.5], color=colour, lw=2, label=f"{t.replace('_', ' ')}: children")
            c = _quantiles(places, (0.5,))
            ax.plot(
                c.index.to_numpy(),
                c[0.5],
                color=colour,
                lw=1.3,
                ls="--",
                drawstyle="steps-post",
                label=f"{t.replace('_', ' ')}: places",
            )
            drawn += 1
        if not drawn:
            raise CaresimError("no finite in-house placement type with places")
        _format_y(ax, "count")
        _zero_based(ax, "count", headroom=0.05)
        _format_dates(ax)
        ax.set_ylabel("children / places")
        ax.set_title(title or "In-house places and the children in them")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def _differences(data: RunResult | pd.DataFrame, other: RunResult | None) -> pd.DataFrame:
    if isinstance(data, RunResult):
        if other is None:
            raise CaresimError("pass two RunResults (base, other) or a compare() table")
        return compare(trim_partial(data), trim_partial(other))
    needed = {"measure", "period", "mean", "ci95_low", "ci95_high", "p10", "p90"}
    if not needed <= set(data.columns):
        raise CaresimError(
            f"expected a sim.analysis.comparison.compare() table with {sorted(needed)}"
        )
    return data


def comparison(
    data: RunResult | pd.DataFrame,
    other: RunResult | None = None,
    *,
    measures: Sequence[str] = (
        "cost_total_gbp",
        "looked_after",
        "external_residential",
        "in_house_share_fostering",
    ),
    title: str | None = None,
) -> Figure:
    """Paired difference (scenario − base) per year: mean with 95% CI and P10–P90.

    One panel per measure. A dot is the mean difference across replications,
    the thick bar its 95% confidence interval and the thin bar P10–P90 of the
    per-replication differences.

    Parameters
    ----------
    data
        A :func:`sim.analysis.comparison.compare` table, or the base RunResult
        (then pass ``other``).
    other
        The scenario RunResult when ``data`` is the base.
    measures
        Summary measures to show, one panel each.
    title
        Override the overall title.

    """
    diff = _differences(data, other)
    present = [m for m in measures if m in set(diff["measure"])]
    if not present:
        raise CaresimError(
            f"none of {list(measures)} is in the comparison; "
            f"available: {', '.join(sorted(set(diff['measure'])))}"
        )
    scen = list(dict.fromkeys(diff["scenario"].astype(str))) if "scenario" in diff else [""]
    with _styled():
        fig = Figure(figsize=(8.0, 2.3 * len(present) + 0.6), layout="constrained")
        axes = fig.subplots(len(present), 1, squeeze=False)[:, 0]
        for ax, measure in zip(axes, present, strict=True):
            sel = diff[(diff["measure"] == measure) & (diff["period"].astype(str) != "all")]
            periods = list(dict.fromkeys(sel["period"].astype(str)))
            width = 0.6 / max(len(scen), 1)
            for i, name in enumerate(scen):
                own = sel if name == "" else sel[sel["scenario"].astype(str) == name]
                own = own.set_index(own["period"].astype(str)).reindex(periods)
                x = np.arange(len(periods)) + (i - (len(scen) - 1) / 2) * width
                colour = PALETTE[i % len(PALETTE)]
                ax.vlines(x, own["p10"], own["p90"], color=colour, lw=1.2, alpha=0.7)
                ax.vlines(x, own["ci95_low"], own["ci95_high"], color=colour, lw=5)
                ax.plot(
                    x,
                    own["mean"],
                    "o",
                    color="white",
                    mec=colour,
                    mew=2,
                    ms=6,
                    label=name or None,
                )
            ax.axhline(0, color=OKABE_ITO["black"], lw=0.8)
            ax.set_xticks(np.arange(len(periods)), periods)
            unit, kind = _unit(measure, yearly=True)
            _format_y(ax, "num" if kind == "count" else kind)
            ax.set_ylabel(f"difference\n({unit})")
            ax.set_title(_title(measure) + ": scenario − base", fontsize=10)
        if len(scen) > 1:
            axes[0].legend(loc="best")
        fig.suptitle(
            title or "Paired difference: mean (●), 95% CI (thick), P10–P90 (thin)",
            x=0.01,
            ha="left",
            fontsize=11,
        )
    return fig


def difference_over_time(
    base: RunResult,
    other: RunResult,
    measure: str,
    category: str = "all",
    *,
    ax: Axes | None = None,
) -> Figure:
    """Monthly paired difference ``other − base``: mean, 95% CI and P10–P90 bands."""
    d = compare_timeseries(trim_partial(base), trim_partial(other), measure, category)
    x = pd.to_datetime(d["date"]).to_numpy()
    with _styled():
        fig, ax = _new(ax)
        colour = PALETTE[0]
        ax.fill_between(x, d["p10"], d["p90"], color=colour, alpha=0.15, lw=0, label="P10–P90")
        ax.fill_between(
            x, d["ci95_low"], d["ci95_high"], color=colour, alpha=0.4, lw=0, label="95% CI of mean"
        )
        ax.plot(x, d["mean"], color=colour, lw=2, label="mean difference")
        ax.axhline(0, color=OKABE_ITO["black"], lw=0.8)
        unit, kind = _unit(measure)
        _format_y(ax, "num" if kind == "count" else kind)
        _format_dates(ax)
        ax.set_ylabel(f"difference ({unit})")
        ax.set_title(_title(measure, category) + ": scenario − base")
        ax.legend(loc="best")
    return fig


def cost_change(
    data: RunResult | pd.DataFrame,
    other: RunResult | None = None,
    *,
    period: str | None = None,
    top: int = 12,
    ax: Axes | None = None,
) -> Figure:
    """Change in spend by cost category (scenario − base): mean with 95% CI.

    Parameters
    ----------
    data
        A :func:`sim.analysis.comparison.compare_costs` table, or the base
        RunResult (then pass ``other``).
    other
        The scenario RunResult when ``data`` is the base.
    period
        A financial year (``"2018-19"``); default the whole reported horizon.
    top
        Show the categories with the largest absolute mean change.
    ax
        Draw here instead of on a new figure.

    """
    if isinstance(data, RunResult):
        if other is None:
            raise CaresimError("pass two RunResults (base, other) or a compare_costs() table")
        d = compare_costs(trim_partial(data), trim_partial(other), period=period)
    else:
        d = data
    scale = float(d["mean"].abs().max()) if len(d) else 0.0
    d = d[d["mean"].abs() > 1e-9 * max(scale, 1.0)]
    d = d.assign(_abs=d["mean"].abs()).sort_values("_abs", ascending=False).head(top)
    d = d.iloc[::-1]
    with _styled({"axes.grid.axis": "x"}):
        fig, ax = _new(ax, size=(8.0, 0.35 * len(d) + 1.4))
        y = np.arange(len(d))
        colours = [
            OKABE_ITO["vermillion"] if m > 0 else OKABE_ITO["bluish_green"] for m in d["mean"]
        ]
        err = np.vstack([d["mean"] - d["ci95_low"], d["ci95_high"] - d["mean"]])
        ax.barh(y, d["mean"], color=colours, alpha=0.85)
        ax.errorbar(d["mean"], y, xerr=np.nan_to_num(err), fmt="none", ecolor="black", lw=1)
        ax.set_yticks(y, [str(c).replace("_", " ") for c in d["category"]])
        ax.axvline(0, color=OKABE_ITO["black"], lw=0.8)
        ax.xaxis.set_major_formatter(FuncFormatter(_gbp))
        ax.set_xlabel(
            f"change in spend, £ in {period}" if period else "change in spend, £ over the horizon"
        )
        ax.set_title("Spend by category: scenario − base (mean, 95% CI)")
    return fig


def sensitivity(data: Any, *, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Bar chart of sensitivity indices with 95% confidence intervals.

    Parameters
    ----------
    data
        A :class:`sim.analysis.sensitivity.SensitivityResult` or its ``indices``
        DataFrame (columns parameter, index, value, conf).
    title
        Override the default title.
    ax
        Draw here instead of on a new figure.

    """
    meta = None if isinstance(data, pd.DataFrame) else data
    frame = getattr(meta, "indices", data)
    if not isinstance(frame, pd.DataFrame) or not {"parameter", "index", "value"} <= set(
        frame.columns
    ):
        raise CaresimError("expected a SensitivityResult or its indices DataFrame")
    method = getattr(meta, "method", None)
    shown = ["mu_star", "sigma"] if "mu_star" in set(frame["index"]) else ["S1", "ST"]
    shown = [s for s in shown if s in set(frame["index"])]
    order = (
        frame[frame["index"] == shown[0]]
        .sort_values("value", ascending=False)["parameter"]
        .tolist()
    )
    labels = {
        "mu_star": "μ* (mean |elementary effect|)",
        "sigma": "σ (interaction / non-linearity)",
        "S1": "S1 (first order)",
        "ST": "ST (total order)",
    }
    with _styled():
        fig, ax = _new(ax, size=(8.0, 0.5 * len(order) + 1.6))
        height = 0.8 / len(shown)
        y0 = np.arange(len(order))[::-1]
        for i, idx in enumerate(shown):
            own = frame[frame["index"] == idx].set_index("parameter").reindex(order)
            y = y0 + (len(shown) - 1) / 2 * height - i * height
            conf = own["conf"].to_numpy(dtype=float) if "conf" in own else None
            if conf is not None and not np.isfinite(conf).any():
                conf = None
            ax.barh(
                y,
                own["value"],
                height=height * 0.9,
                color=PALETTE[i],
                alpha=0.85,
                label=labels.get(idx, idx),
                xerr=None if conf is None else np.nan_to_num(conf),
                error_kw={"ecolor": "black", "lw": 1, "capsize": 2},
            )
        ax.set_yticks(y0, order)
        ax.axvline(0, color=OKABE_ITO["black"], lw=0.8)
        ax.grid(axis="x", color="#DDDDDD")
        ax.grid(axis="y", visible=False)
        output = getattr(meta, "output", None)
        ax.set_xlabel(f"index for {output}" if output else "index")
        if output and method == "morris":
            _unit_label, kind = _unit(str(output).split(":")[0], yearly=True)
            if kind == "gbp":
                ax.xaxis.set_major_formatter(FuncFormatter(_gbp))
            elif kind == "pct":
                ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        name = {"morris": "Morris screening", "sobol": "Sobol indices"}.get(str(method), "")
        ax.set_title(title or f"Sensitivity {('— ' + name) if name else ''} (bars: 95% CI)")
        ax.legend(loc="lower right")
    return fig


def probability_curve(
    data: Any,
    *,
    probability: float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Share of replications meeting a target at each value tried by a goal-seek.

    Parameters
    ----------
    data
        A :class:`sim.analysis.goalseek.GoalSeekResult` or its ``points`` DataFrame
        (columns value, probability).
    probability
        Required share, drawn as a dashed line (default the result's own).
    ax
        Draw here instead of on a new figure.

    """
    meta = None if isinstance(data, pd.DataFrame) else data
    points = getattr(meta, "points", data)
    if not isinstance(points, pd.DataFrame) or not {"value", "probability"} <= set(points):
        raise CaresimError("expected a GoalSeekResult or its points DataFrame")
    if probability is None:
        probability = getattr(meta, "probability", None)
    p = points.sort_values("value")
    with _styled():
        fig, ax = _new(ax)
        ax.step(p["value"], p["probability"], where="post", color=PALETTE[0], lw=1, alpha=0.5)
        ax.plot(p["value"], p["probability"], "o", color=PALETTE[0], label="values run")
        if probability is not None:
            ax.axhline(
                probability,
                color=OKABE_ITO["vermillion"],
                ls="--",
                label=f"required {probability:.0%}",
            )
        answer = getattr(meta, "value", None)
        if answer is not None:
            ax.axvline(answer, color=OKABE_ITO["black"], ls=":", label=f"answer {answer:g}")
        ax.set_ylim(-0.02, 1.02)
        _format_y(ax, "pct")
        ax.set_xlabel(getattr(meta, "key", None) or "value")
        ax.set_ylabel("replications meeting the target")
        target = getattr(meta, "target", None)
        ax.set_title(f"Goal-seek: {target}" if target else "Goal-seek")
        ax.legend(loc="lower right")
    return fig


def optimisation(data: Any, *, ax: Axes | None = None) -> Figure:
    """Chart the expected annual cost of the points an optimisation ran.

    One key: expected cost (spend + running cost of places) against the
    value, with the 95% CI of the paired difference from the best as a band.
    Two keys: a map of the points coloured by expected cost, the best marked.

    Parameters
    ----------
    data
        A :class:`sim.analysis.goalseek.OptimiseResult`.
    ax
        Draw here instead of on a new figure.

    """
    points = getattr(data, "points", None)
    keys = getattr(data, "keys", None)
    if not isinstance(points, pd.DataFrame) or not keys:
        raise CaresimError("expected an OptimiseResult")
    best = data.best
    with _styled():
        fig, ax = _new(ax)
        if len(keys) == 1:
            k = keys[0]
            p = points.sort_values(k)
            best_cost = float(p["expected_cost"].min())
            ax.fill_between(
                p[k],
                best_cost + p["diff_ci95_low"],
                best_cost + p["diff_ci95_high"],
                color=PALETTE[0],
                alpha=0.2,
                lw=0,
                label="95% CI (paired, vs best)",
            )
            ax.plot(p[k], p["expected_cost"], "o-", color=PALETTE[0], label="expected cost")
            ax.plot(p[k], p["spend"], ".--", color=PALETTE[1], label="spend (model)")
            ax.axvline(best[k], color=OKABE_ITO["black"], ls=":", label=f"best {best[k]:g}")
            ax.set_xlabel(k)
            ax.set_ylabel("£ per year")
            _format_y(ax, "gbp")
        else:
            k1, k2 = keys
            sc = ax.scatter(points[k1], points[k2], c=points["expected_cost"], cmap="cividis", s=60)
            ax.plot(best[k1], best[k2], "*", color=OKABE_ITO["vermillion"], ms=16, label="best")
            cbar = fig.colorbar(sc, ax=ax)
            cbar.ax.yaxis.set_major_formatter(FuncFormatter(_gbp))
            cbar.set_label("expected cost, £ per year")
            ax.set_xlabel(k1)
            ax.set_ylabel(k2)
        ax.set_title("Expected annual cost (spend + running cost of places)")
        ax.legend(loc="best")
    return fig


def save(
    fig: Figure,
    path: str | Path,
    *,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = 150,
) -> list[Path]:
    """Write ``fig`` as ``path.png`` and ``path.svg`` (or other ``formats``); return the paths.

    A suffix on ``path`` is replaced. Folders are created as needed.
    """
    stem = Path(path)
    if stem.suffix.lstrip(".") in {"png", "svg", "pdf"}:
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        target = stem.with_suffix(f".{fmt}")
        fig.savefig(target, dpi=dpi, format=fmt, metadata=_metadata(fmt))
        out.append(target)
    return out


def _metadata(fmt: str) -> dict[str, Any] | None:
    # A fixed date keeps SVG output byte-stable across runs.
    if fmt == "svg":
        return {"Date": None}
    if fmt == "png":
        return {"Software": f"caresim / matplotlib {mpl.__version__}"}
    return None
