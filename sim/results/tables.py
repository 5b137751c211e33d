"""Turn one replication's arrays into tidy tables: a monthly time series and a summary.

Time series columns: ``date`` (first day of the month), ``measure``,
``category``, ``value``. Summary columns: ``measure``, ``period`` (a UK
financial year such as ``2016-17``, a date such as ``2017-03-31``, or
``all``), ``value``. The runner adds ``scenario`` and ``replication``.

Money is in cash terms: the model spends in the prices of ``[prices] price_base``
and each cost line is multiplied by its price index for the financial year the
spend falls in (:func:`price_factors`). The same spend at price-base prices is
kept as the real-terms measures (``cost_*_real_gbp`` in the summary,
``cost_real_gbp`` in the monthly series). Without ``[prices]`` the two agree.

Ratios over a window are ratios of sums (utilisation = occupied place-days /
available place-days; caseload = case-days / FTE-days), never means of ratios.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.config.outputs import SUMMARY_MEASURES, TIMESERIES_MEASURES, financial_year
from sim.config.schema import PRICE_LINES, Config
from sim.model.simulation import ReplicationOutput

__all__ = [
    "SUMMARY_MEASURES",
    "TIMESERIES_MEASURES",
    "financial_year",
    "price_factors",
    "summary_frame",
    "timeseries_frame",
]

#: Cost categories of the monthly ``cost_gbp`` series that are not placement types or
#: allowances, by the ``[prices]`` cost line they belong to.
_OTHER_COSTS = ("edge_of_care", "staying_put", "leaving_care", "early_help", "assessment")


def price_line(category: str, cfg: Config) -> tuple[str, str | None]:
    """The ``[prices]`` cost line (and placement category) of a ``cost_gbp`` category."""
    t = cfg.placement_types.get(category)
    if t is not None:
        line = "placements_in_house" if t.provider == "in_house" else "placements_external"
        return line, t.category
    if category.startswith("allowance_"):
        return "allowances", None
    if category == "staff":
        return "staff", None
    return "other", None


def price_factors(months: list[dt.date], cfg: Config) -> dict[tuple[str, str | None], np.ndarray]:
    """Cash / real multiplier of each month, per ``(cost line, placement category)``.

    A month's multiplier is its line's price index in the month's financial
    year (:meth:`sim.config.schema.PricesConfig.index`); all ones without
    ``[prices]``.
    """
    years = [int(financial_year(m)[:4]) for m in months]
    keys: set[tuple[str, str | None]] = {(line, None) for line in PRICE_LINES}
    keys |= {price_line(name, cfg) for name in cfg.placement_types}
    out: dict[tuple[str, str | None], np.ndarray] = {}
    for line, cat in keys:
        by_year = {y: cfg.prices.index(line, y, cfg.run, cat) for y in set(years)}
        out[(line, cat)] = np.array([by_year[y] for y in years], dtype=float)
    return out


class _View:
    """Columns of one replication's arrays by (measure, category), reported months only."""

    def __init__(self, out: ReplicationOutput):
        a = out.arrays
        r = out.report_from
        self.months = list(out.month_starts[r : r + a.level_end.shape[0] - r])
        self.end = a.level_end[r:]
        self.integral = a.level_integral[r:]
        self.flows = a.flows[r:]
        self.days = a.month_days[r:]
        self.levels = {k: i for i, k in enumerate(a.level_names)}
        self.flow_ids = {k: i for i, k in enumerate(a.flow_names)}
        self.level_names = a.level_names
        self.flow_names = a.flow_names

    def lv_end(self, measure: str, category: str) -> np.ndarray:
        i = self.levels.get((measure, category))
        return np.zeros(len(self.months)) if i is None else self.end[:, i]

    def lv_int(self, measure: str, category: str) -> np.ndarray:
        i = self.levels.get((measure, category))
        return np.zeros(len(self.months)) if i is None else self.integral[:, i]

    def flow(self, measure: str, category: str) -> np.ndarray:
        i = self.flow_ids.get((measure, category))
        return np.zeros(len(self.months)) if i is None else self.flows[:, i]


def timeseries_frame(out: ReplicationOutput, cfg: Config) -> pd.DataFrame:
    """Monthly tidy time series of one replication (reported months only)."""
    v = _View(out)
    rows: list[tuple[str, str, np.ndarray]] = []
    types = cfg.placement_types
    for measure, category in v.flow_names:
        rows.append((measure, category, v.flow(measure, category)))
    lac_all = v.lv_end("looked_after_total", "all")
    rows.append(("looked_after", "all", lac_all))
    by_cat: dict[str, np.ndarray] = {}
    by_prov: dict[str, np.ndarray] = {
        "in_house": np.zeros_like(lac_all),
        "external": np.zeros_like(lac_all),
    }
    for name, t in types.items():
        occ = v.lv_end("looked_after", name)
        rows.append(("looked_after", name, occ))
        by_cat[t.category] = by_cat.get(t.category, np.zeros_like(occ)) + occ
        by_prov[t.provider] = by_prov[t.provider] + occ
        if t.capacity is not None:
            rows.append(("capacity", name, v.lv_end("capacity", name)))
            if t.provider == "in_house":
                rows.append(("in_house_occupancy", name, occ))
                cap_days = v.lv_int("capacity", name)
                occ_days = v.lv_int("looked_after", name)
                with np.errstate(divide="ignore", invalid="ignore"):
                    util = np.where(cap_days > 0, occ_days / cap_days, np.nan)
                rows.append(("in_house_utilisation", name, util))
    rows += [("looked_after_by_category", c, x) for c, x in by_cat.items()]
    rows += [("looked_after_by_provider", c, x) for c, x in by_prov.items()]
    for kind in ("assessment", "cin", "cp", "edge_of_care", "looked_after", "all"):
        rows.append(("open_cases", kind, v.lv_end("open_cases", kind)))
    with np.errstate(divide="ignore", invalid="ignore"):
        fte_days = v.lv_int("fte", "all")
        caseload = np.where(fte_days > 0, v.lv_int("open_cases", "all") / fte_days, np.nan)
    rows.append(("caseload_per_fte", "all", caseload))
    rows.append(("fte", "all", v.lv_end("fte", "all")))
    allow_all = np.zeros_like(lac_all)
    for route in cfg.exits.routes:
        x = v.lv_end("allowances", route)
        if route != "leaving_care" and route != "return_home":
            rows.append(("allowances", route, x))
        allow_all = allow_all + x
    rows.append(("allowances", "all", allow_all))
    for measure in ("staying_put", "early_help", "edge_of_care_children", "waiting"):
        rows.append((measure, "all", v.lv_end(measure, "all")))
    # Costs: integrals of £/day rates plus one-off flows, all in £ per month, at
    # price-base prices (real terms); cash terms multiply each by its price index.
    real_rows = [
        ("cost_real_gbp", category, v.lv_int(measure, category))
        for measure, category in v.level_names
        if measure == "cost_rate_gbp_per_day"
    ]
    real_rows += [
        ("cost_real_gbp", c, v.flow("cost_gbp", c)) for (m, c) in v.flow_names if m == "cost_gbp"
    ]
    factors = price_factors(v.months, cfg)
    cash_rows = [("cost_gbp", c, x * factors[price_line(c, cfg)]) for _, c, x in real_rows]
    zero_cost = np.zeros_like(lac_all)
    real_rows.append(("cost_real_gbp", "all", sum((r[2] for r in real_rows), zero_cost)))
    cash_rows.append(("cost_gbp", "all", sum((r[2] for r in cash_rows), zero_cost)))
    rows = [r for r in rows if r[0] != "cost_gbp"] + cash_rows + real_rows
    n = len(v.months)
    dates = np.array(v.months, dtype="datetime64[D]")
    frame = pd.DataFrame(
        {
            "date": np.tile(dates, len(rows)),
            "measure": np.repeat([r[0] for r in rows], n),
            "category": np.repeat([r[1] for r in rows], n),
            "value": np.concatenate([np.asarray(r[2], dtype=float) for r in rows]) if rows else [],
        }
    )
    frame["measure"] = frame["measure"].astype("category")
    frame["category"] = frame["category"].astype("category")
    return frame


def summary_frame(out: ReplicationOutput, cfg: Config) -> pd.DataFrame:
    """Per-financial-year and snapshot summary of one replication (tidy)."""
    v = _View(out)
    fy = np.array([financial_year(m) for m in v.months])
    is_march = np.array([m.month == 3 for m in v.months])
    types = cfg.placement_types
    records: list[tuple[str, str, float]] = []

    def per_year(measure: str, monthly: np.ndarray) -> None:
        for year in dict.fromkeys(fy):
            records.append((measure, year, float(monthly[fy == year].sum())))

    def snapshot(measure: str, monthly_end: np.ndarray) -> None:
        for m, month in enumerate(v.months):
            if is_march[m]:
                records.append((measure, f"{month.year}-03-31", float(monthly_end[m])))

    zero = np.zeros(len(v.months))
    factors = price_factors(v.months, cfg)
    for terms in ("cash", "real"):

        def priced(x: np.ndarray, category: str, terms: str = terms) -> np.ndarray:
            return x * factors[price_line(category, cfg)] if terms == "cash" else x

        placements = zero.copy()
        in_house = zero.copy()
        external = zero.copy()
        for name, t in types.items():
            x = priced(v.lv_int("cost_rate_gbp_per_day", name), name)
            placements = placements + x  # summed in type order, as the parts
            if t.provider == "in_house":
                in_house = in_house + x
            else:
                external = external + x
        allowances = sum(
            (
                priced(v.lv_int("cost_rate_gbp_per_day", f"allowance_{r}"), f"allowance_{r}")
                for r in cfg.exits.routes
            ),
            zero,
        )
        staff = priced(v.lv_int("cost_rate_gbp_per_day", "staff"), "staff")
        other = sum(
            (
                priced(
                    v.flow("cost_gbp", c)
                    if c in ("early_help", "assessment")
                    else v.lv_int("cost_rate_gbp_per_day", c),
                    c,
                )
                for c in _OTHER_COSTS
            ),
            zero,
        )
        cost_parts = {
            "total": placements + allowances + staff + other,
            "placements": placements,
            "in_house_placements": in_house,
            "external_placements": external,
            "allowances": allowances,
            "staff": staff,
            "other": other,
        }
        suffix = "_gbp" if terms == "cash" else "_real_gbp"
        for k, x in cost_parts.items():
            per_year(f"cost_{k}{suffix}", x)
    snapshot("looked_after", v.lv_end("looked_after_total", "all"))
    ext_resi = sum(
        (
            v.lv_end("looked_after", n)
            for n, t in types.items()
            if t.category == "residential" and t.provider == "external"
        ),
        zero,
    )
    snapshot("external_residential", ext_resi)
    allow = sum((v.lv_end("allowances", r) for r in cfg.exits.routes), zero)
    snapshot("direct_financial_support", allow)
    fost_in = sum(
        (
            v.lv_int("looked_after", n)
            for n, t in types.items()
            if t.category == "fostering" and t.provider == "in_house"
        ),
        zero,
    )
    fost_all = sum(
        (v.lv_int("looked_after", n) for n, t in types.items() if t.category == "fostering"), zero
    )
    for year in dict.fromkeys(fy):
        sel = fy == year
        denom = fost_all[sel].sum()
        records.append(
            (
                "in_house_share_fostering",
                year,
                float(fost_in[sel].sum() / denom) if denom > 0 else float("nan"),
            )
        )
    lac_end = v.lv_end("looked_after_total", "all")
    three = v.flow("children_3plus_placements", "all")
    exits_m = v.flow("exits", "all")
    for year in dict.fromkeys(fy):
        sel = np.flatnonzero(fy == year)
        during = lac_end[sel[-1]] + exits_m[sel].sum()  # looked after at some time in the year
        records.append(
            (
                "share_3plus_placements",
                year,
                float(three[sel].sum() / during) if during > 0 else float("nan"),
            )
        )
    per_year("entries", v.flow("entries", "all"))
    per_year("exits", v.flow("exits", "all"))
    per_year("referrals", v.flow("referrals", "new") + v.flow("referrals", "re_referral"))
    per_year("assessments", v.flow("triage", "assessment"))
    case_days = v.lv_int("open_cases", "all")
    fte_days = v.lv_int("fte", "all")
    with np.errstate(divide="ignore", invalid="ignore"):
        monthly = np.where(fte_days > 0, case_days / fte_days, np.nan)
    for year in dict.fromkeys(fy):
        sel = fy == year
        d = fte_days[sel].sum()
        records.append(
            ("caseload_mean", year, float(case_days[sel].sum() / d) if d > 0 else float("nan"))
        )
        records.append(
            ("caseload_peak", year, float(np.nanmax(monthly[sel])) if sel.any() else float("nan"))
        )
    records.append(
        (
            "moves_per_child",
            "all",
            out.moves_in_window / out.children_in_care if out.children_in_care else 0.0,
        )
    )
    return pd.DataFrame.from_records(records, columns=["measure", "period", "value"])
