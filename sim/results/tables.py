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
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.config.outputs import (
    COST_GROUPS,
    SUMMARY_MEASURES,
    TIMESERIES_MEASURES,
    financial_year,
)
from sim.config.schema import PRICE_LINES, Config
from sim.model.simulation import ReplicationOutput

__all__ = [
    "SUMMARY_MEASURES",
    "TIMESERIES_MEASURES",
    "UTILISATION_CATEGORIES",
    "financial_year",
    "price_factors",
    "summary_frame",
    "timeseries_frame",
]

#: Cost categories of the monthly ``cost_gbp`` series that are not placement types or
#: allowances, by the ``[prices]`` cost line they belong to.

#: In-house categories with a summary utilisation measure of their own.
UTILISATION_CATEGORIES: tuple[str, ...] = ("fostering", "residential", "supported")


def price_line(category: str, cfg: Config) -> tuple[str, str | None]:
    """The ``[prices]`` cost line (and placement category) of a ``cost_gbp`` category."""
    name, _part = _placement_of(category, cfg)
    t = cfg.placement_types.get(name) if name is not None else None
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


def cost_categories(v: _View) -> dict[str, np.ndarray]:
    """Monthly spend (£, price-base prices) of every cost category the model records.

    A category's £/day level integrated over each month, plus its one-off
    flows; categories are placement types, ``<type>_fixed`` and
    ``<type>_one_off`` (capacity costs), ``allowance_<route>``, ``staff`` and
    the services (edge of care, early help, assessment, ...).
    """
    out: dict[str, np.ndarray] = {}
    for measure, category in v.level_names:
        if measure == "cost_rate_gbp_per_day":
            out[category] = out.get(category, 0) + v.lv_int(measure, category)
    for measure, category in v.flow_names:
        if measure == "cost_gbp":
            out[category] = out.get(category, 0) + v.flow(measure, category)
    return out


#: Cost groups reported in both cash and real terms (with ``total``).
REAL_TERMS_GROUPS = COST_GROUPS

#: Front-door activity costs (beyond the FTE line) and their summary measures.
FRONT_DOOR_COSTS = {
    "early_help": "cost_early_help_gbp",
    "assessment": "cost_assessments_gbp",
    "s47_enquiry": "cost_s47_enquiries_gbp",
    "cin_plan": "cost_cin_plans_gbp",
    "cp_plan": "cost_cp_plans_gbp",
}


def _placement_of(category: str, cfg: Config) -> tuple[str | None, str]:
    """The placement type a cost category belongs to, and its part (variable, fixed, one_off)."""
    if category in cfg.placement_types:
        return category, "variable"
    for part in ("fixed", "one_off"):
        base = category.removesuffix(f"_{part}")
        if base != category and base in cfg.placement_types:
            return base, part
    return None, ""


def cost_groups(
    costs: dict[str, np.ndarray], cfg: Config, zero: np.ndarray
) -> dict[str, np.ndarray]:
    """Monthly spend by reporting group, and their total.

    Groups: placements (in-house, external), allowances, staff, front-door
    activity (early help, assessments, s47 enquiries, CIN and CP plans) and
    other services (edge of care, staying put, leaving care). Every cost category
    counts in exactly one group.
    """
    groups = {k: zero.copy() for k in ("total", *REAL_TERMS_GROUPS)}
    for category in sorted(costs, key=lambda c: (_placement_of(c, cfg)[0] is None, c)):
        x = costs[category]
        name, _part = _placement_of(category, cfg)
        if name is not None:
            groups["placements"] = groups["placements"] + x
            side = cfg.placement_types[name].provider
            key = "in_house_placements" if side == "in_house" else "external_placements"
            groups[key] = groups[key] + x
        elif category.startswith("allowance_"):
            groups["allowances"] = groups["allowances"] + x
        elif category == "staff":
            groups["staff"] = groups["staff"] + x
        elif category in FRONT_DOOR_COSTS:
            groups["front_door"] = groups["front_door"] + x
        else:
            groups["other"] = groups["other"] + x
    groups["total"] = (
        groups["placements"]
        + groups["allowances"]
        + groups["staff"]
        + groups["other"]
        + groups["front_door"]
    )
    return groups


def _in_house_parts(costs: dict[str, np.ndarray], cfg: Config) -> dict[str, np.ndarray]:
    """Monthly in-house placement spend split into fixed, variable and one-off parts (£)."""
    zero = np.zeros(len(next(iter(costs.values()))) if costs else 0)
    parts = {"fixed": zero, "variable": zero, "one_off": zero}
    for category, x in costs.items():
        name, part = _placement_of(category, cfg)
        if name is not None and cfg.placement_types[name].provider == "in_house":
            parts[part] = parts[part] + x
    return parts


def _empty_place_cost(v: _View, cfg: Config, costs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Monthly fixed cost of unused places, per finite in-house type (£).

    The month's fixed cost times its unused share of place-days
    (1 - occupied / available place-days): exact when the fixed cost per place
    does not change inside the month (schedules that change on the 1st).
    """
    out: dict[str, np.ndarray] = {}
    for name, t in cfg.placement_types.items():
        if t.provider != "in_house" or not t.finite or f"{name}_fixed" not in costs:
            continue
        fixed = costs[f"{name}_fixed"]
        cap_days = v.lv_int("capacity", name)
        occ_days = v.lv_int("looked_after", name)
        with np.errstate(divide="ignore", invalid="ignore"):
            unused = np.where(cap_days > 0, 1.0 - occ_days / cap_days, 0.0)
        out[name] = fixed * np.clip(unused, 0.0, 1.0)
    return out


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
    rows.append(("looked_after_uasc", "all", v.lv_end("looked_after_uasc", "all")))
    rows.append(("income_gbp", "uasc_grant", v.lv_int("income_rate_gbp_per_day", "uasc_grant")))
    # Costs: integrals of £/day rates plus one-off flows, all in £ per month, at
    # price-base prices (real terms); cash terms multiply each by its price index.
    factors = price_factors(v.months, cfg)
    real_costs = cost_categories(v)
    cash_costs = {c: x * factors[price_line(c, cfg)] for c, x in real_costs.items()}
    zero_cost = np.zeros_like(lac_all)
    cash_rows = [("cost_gbp", c, x) for c, x in cash_costs.items()]
    real_rows = [("cost_real_gbp", c, x) for c, x in real_costs.items()]
    real_rows.append(("cost_real_gbp", "all", sum((r[2] for r in real_rows), zero_cost)))
    cash_rows.append(("cost_gbp", "all", sum((r[2] for r in cash_rows), zero_cost)))
    rows = [r for r in rows if r[0] != "cost_gbp"] + cash_rows + real_rows
    parts = _in_house_parts(cash_costs, cfg)
    for part in ("fixed", "variable", "one_off"):
        rows.append(("in_house_cost_gbp", part, parts[part]))
    rows.append(("in_house_cost_gbp", "all", parts["fixed"] + parts["variable"] + parts["one_off"]))
    empty_all = np.zeros(len(v.months))
    for name, x in _empty_place_cost(v, cfg, cash_costs).items():
        rows.append(("empty_place_cost_gbp", name, x))
        empty_all = empty_all + x
    rows.append(("empty_place_cost_gbp", "all", empty_all))
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


def _cost_summary(
    per_year: Callable[[str, np.ndarray], None], v: _View, cfg: Config, zero: np.ndarray
) -> np.ndarray:
    """Record the cost measures of every financial year; return the monthly cash total."""
    types = cfg.placement_types
    cash_total = zero
    factors = price_factors(v.months, cfg)
    real_costs = cost_categories(v)
    for terms in ("cash", "real"):
        costs = (
            {c: x * factors[price_line(c, cfg)] for c, x in real_costs.items()}
            if terms == "cash"
            else real_costs
        )
        groups = cost_groups(costs, cfg, zero)
        if terms == "cash":
            cash_total = groups["total"]
        suffix = "_gbp" if terms == "cash" else "_real_gbp"
        for k in ("total", *REAL_TERMS_GROUPS):
            per_year(f"cost_{k}{suffix}", groups[k])
        if terms == "cash":
            parts = _in_house_parts(costs, cfg)
            per_year("cost_in_house_fixed_gbp", parts["fixed"])
            per_year("cost_in_house_variable_gbp", parts["variable"])
            per_year("cost_in_house_one_off_gbp", parts["one_off"])
            per_year(
                "cost_external_residential_gbp",
                sum(
                    (
                        costs.get(n, zero)
                        for n, t in types.items()
                        if t.category == "residential" and t.provider == "external"
                    ),
                    zero,
                ),
            )
            per_year("cost_empty_places_gbp", sum(_empty_place_cost(v, cfg, costs).values(), zero))
            for category, measure in FRONT_DOOR_COSTS.items():
                per_year(measure, costs.get(category, zero))
    return cash_total


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
    cash_total = _cost_summary(per_year, v, cfg, zero)
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
    finite_in_house = [
        (n, t.category) for n, t in types.items() if t.provider == "in_house" and t.finite
    ]
    for measure, cats in (
        ("in_house_utilisation", None),
        *((f"in_house_utilisation_{c}", (c,)) for c in UTILISATION_CATEGORIES),
    ):
        chosen = [n for n, c in finite_in_house if cats is None or c in cats]
        occ_days = sum((v.lv_int("looked_after", n) for n in chosen), zero)
        cap_days = sum((v.lv_int("capacity", n) for n in chosen), zero)
        for year in dict.fromkeys(fy):
            sel = fy == year
            d = cap_days[sel].sum()
            records.append(
                (measure, year, float(occ_days[sel].sum() / d) if d > 0 else float("nan"))
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
    # UASC (zeros in a run without them): income is its own line; gross spend stays gross.
    snapshot("looked_after_uasc", v.lv_end("looked_after_uasc", "all"))
    per_year("entries_uasc", v.flow("entries_uasc", "all"))
    grant = v.lv_int("income_rate_gbp_per_day", "uasc_grant")
    per_year("income_uasc_grant_gbp", grant)
    per_year("cost_net_gbp", cash_total - grant)
    supported = sum(
        (v.lv_end("looked_after", n) for n, t in types.items() if t.category == "supported"), zero
    )
    snapshot("supported_accommodation", supported)
    return pd.DataFrame.from_records(records, columns=["measure", "period", "value"])
