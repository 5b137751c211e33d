"""Turn one replication's arrays into tidy tables: a monthly time series and a summary.

Time series columns: ``date`` (first day of the month), ``measure``,
``category``, ``value``. Summary columns: ``measure``, ``period`` (a UK
financial year such as ``2016-17``, a date such as ``2017-03-31``, or
``all``), ``value``. The runner adds ``scenario`` and ``replication``.

Ratios over a window are ratios of sums (utilisation = occupied place-days /
available place-days; caseload = case-days / FTE-days), never means of ratios.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.config.schema import Config
from sim.model.simulation import ReplicationOutput

__all__ = [
    "SUMMARY_MEASURES",
    "TIMESERIES_MEASURES",
    "financial_year",
    "summary_frame",
    "timeseries_frame",
]

#: Monthly measures: name -> meaning (stocks are at month end, flows are month totals).
TIMESERIES_MEASURES: dict[str, str] = {
    "referrals": "children referred in the month (new, re_referral)",
    "triage": "front-door decisions (no_further_action, early_help, assessment), children",
    "assessment_outcomes": "completed assessments by outcome (not_in_need, cin, cp, care)",
    "cin_starts": "children starting a child in need plan",
    "cp_starts": "children starting a child protection plan",
    "escalations_to_care": "children escalated from a CIN or CP plan towards care",
    "edge_of_care": "edge-of-care starts and outcomes (started, diverted, entered_care)",
    "entries": "children starting to be looked after (all, and by category needed)",
    "exits": "children ceasing to be looked after (all, and by route)",
    "moves": "placement moves (all, and by reason)",
    "children_3plus_placements": "children reaching their third placement of the financial year",
    "looked_after": "children looked after at month end (all, and by placement type)",
    "looked_after_by_category": "children looked after at month end by placement category",
    "looked_after_by_provider": "children looked after at month end by provider",
    "in_house_occupancy": "children in each finite in-house type at month end",
    "capacity": "places of each finite type at month end",
    "in_house_utilisation": "occupied / available place-days in the month, per finite type",
    "open_cases": "open cases at month end (assessment, cin, cp, edge_of_care, looked_after, all)",
    "caseload_per_fte": "case-days / FTE-days in the month",
    "fte": "social workers (FTE) at month end",
    "allowances": "children on an allowance after leaving care, by route (and all)",
    "staying_put": "care leavers staying put with former foster carers",
    "early_help": "children in early help at month end",
    "edge_of_care_children": "children supported by the edge-of-care service at month end",
    "waiting": "children in a fallback placement waiting for a suitable place",
    "cost_gbp": "spend in the month by category (placement types, allowances, staff, ...) and all",
    "entries_uasc": "unaccompanied asylum-seeking children (UASC) starting to be looked after "
    "(only in runs where UASC arrive)",
    "looked_after_uasc": "UASC looked after at month end (also counted in looked_after)",
    "income_gbp": "income in the month: the Home Office grant for UASC (uasc_grant); not "
    "netted off cost_gbp",
}

#: Summary measures: name -> meaning.
SUMMARY_MEASURES: dict[str, str] = {
    "cost_total_gbp": "all spend in the financial year",
    "cost_placements_gbp": "placement spend in the financial year",
    "cost_in_house_placements_gbp": "in-house placement spend in the financial year",
    "cost_external_placements_gbp": "external placement spend in the financial year",
    "cost_allowances_gbp": "SGO, CAO and adoption allowances in the financial year",
    "cost_staff_gbp": "social-worker cost in the financial year",
    "cost_other_gbp": "edge of care, early help, assessment, staying put, leaving care",
    "looked_after": "children looked after on 31 March",
    "external_residential": "children in external residential placements on 31 March",
    "in_house_share_fostering": "in-house share of fostering days in the financial year",
    "entries": "children starting to be looked after in the financial year",
    "exits": "children ceasing to be looked after in the financial year",
    "referrals": "referrals in the financial year",
    "assessments": "assessments started in the financial year",
    "caseload_mean": "case-days / FTE-days in the financial year",
    "caseload_peak": "highest monthly caseload per FTE in the financial year",
    "moves_per_child": "moves / children looked after at any time in the reported period",
    "share_3plus_placements": "share of children looked after in the year with 3+ placements",
    "direct_financial_support": "children on allowances on 31 March",
    "looked_after_uasc": "UASC looked after on 31 March (also counted in looked_after)",
    "entries_uasc": "UASC starting to be looked after in the financial year (also in entries)",
    "income_uasc_grant_gbp": "Home Office grant for UASC looked after in the financial year",
    "cost_net_gbp": "cost_total_gbp less income_uasc_grant_gbp",
    "supported_accommodation": "children in supported accommodation on 31 March (all children)",
}


def financial_year(day: dt.date) -> str:
    """UK financial year label of a date: 1 April 2016 to 31 March 2017 is ``2016-17``."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


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
    rows.append(("looked_after_uasc", "all", v.lv_end("looked_after_uasc", "all")))
    rows.append(("income_gbp", "uasc_grant", v.lv_int("income_rate_gbp_per_day", "uasc_grant")))
    # Costs: integrals of £/day rates plus one-off flows, all in £ per month.
    total = np.zeros_like(lac_all)
    cost_rows = []
    for measure, category in v.level_names:
        if measure == "cost_rate_gbp_per_day":
            x = v.lv_int(measure, category)
            cost_rows.append(("cost_gbp", category, x))
            total = total + x
    for r in rows:
        if r[0] == "cost_gbp":
            total = total + r[2]
    rows = (
        [r for r in rows if r[0] != "cost_gbp"]
        + cost_rows
        + [("cost_gbp", c, v.flow("cost_gbp", c)) for (m, c) in v.flow_names if m == "cost_gbp"]
    )
    rows.append(("cost_gbp", "all", total))
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

    cost_parts: dict[str, np.ndarray] = {}
    zero = np.zeros(len(v.months))
    placements = zero.copy()
    in_house = zero.copy()
    external = zero.copy()
    for name, t in types.items():
        x = v.lv_int("cost_rate_gbp_per_day", name)
        placements = placements + x
        if t.provider == "in_house":
            in_house = in_house + x
        else:
            external = external + x
    allowances = sum(
        (v.lv_int("cost_rate_gbp_per_day", f"allowance_{r}") for r in cfg.exits.routes), zero
    )
    staff = v.lv_int("cost_rate_gbp_per_day", "staff")
    other = (
        v.lv_int("cost_rate_gbp_per_day", "edge_of_care")
        + v.lv_int("cost_rate_gbp_per_day", "staying_put")
        + v.lv_int("cost_rate_gbp_per_day", "leaving_care")
        + v.flow("cost_gbp", "early_help")
        + v.flow("cost_gbp", "assessment")
    )
    cost_parts = {
        "cost_placements_gbp": placements,
        "cost_in_house_placements_gbp": in_house,
        "cost_external_placements_gbp": external,
        "cost_allowances_gbp": allowances,
        "cost_staff_gbp": staff,
        "cost_other_gbp": other,
    }
    per_year("cost_total_gbp", placements + allowances + staff + other)
    for k, x in cost_parts.items():
        per_year(k, x)
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
    # UASC (zeros in a run without them): income is its own line; gross spend stays gross.
    snapshot("looked_after_uasc", v.lv_end("looked_after_uasc", "all"))
    per_year("entries_uasc", v.flow("entries_uasc", "all"))
    grant = v.lv_int("income_rate_gbp_per_day", "uasc_grant")
    per_year("income_uasc_grant_gbp", grant)
    per_year("cost_net_gbp", placements + allowances + staff + other - grant)
    supported = sum(
        (v.lv_end("looked_after", n) for n, t in types.items() if t.category == "supported"), zero
    )
    snapshot("supported_accommodation", supported)
    return pd.DataFrame.from_records(records, columns=["measure", "period", "value"])
