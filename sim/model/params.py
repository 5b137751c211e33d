"""Typed records of a replication's parameters and recorder indices.

:class:`Params` holds the numbers the model's processes read on every
step, taken once from the :class:`~sim.config.schema.Config` (so a hot path
reads one attribute, not a chain through the config). :class:`RecorderIndex`
holds the recorder rows the front door and the entry and exit code write to.
Both are frozen slotted dataclasses: reading a field is as cheap as reading
an attribute of a plain object. :func:`build_params` and :func:`register`
make them; this module imports no other part of the model but the recorder and
the entities' year length, so every process module can import it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.config.distributions import Distribution
from sim.config.schema import (
    CATEGORIES,
    ENTRY_CATEGORY_ORDER,
    EXIT_ROUTES,
    CasePlanConfig,
    Config,
    ExitRoute,
)
from sim.model.entities import DAYS_PER_YEAR
from sim.model.recorder import Recorder

__all__ = [
    "EntryBand",
    "ExitBand",
    "Params",
    "RecorderIndex",
    "build_params",
    "cumulative_entry_bands",
    "cumulative_exit_bands",
    "register",
    "scale",
]

#: (min age, max age (years, exclusive), [(category, cumulative share), ...]).
EntryBand = tuple[float, float, list[tuple[str, float]]]
#: (min age, max age (years, exclusive), ([(route, cumulative share), ...], {route: duration})).
ExitBand = tuple[float, float, tuple[list[tuple[str, float]], dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters of one replication, read by the front door and the in-care steps.

    Percentiles are shares in [0, 1] of the need-score distribution of all
    referrals; scores are on the standard normal scale of latent need.
    """

    # ---------------------------------------------------------- front door
    decision_days: float
    """Days from the triage decision to the start of early help or an assessment."""
    obs_sd: float
    """SD of the noise on the need score triage sees (latent-need units)."""
    obs_scale: float
    """SD of the triage score, ``sqrt(1 + obs_sd²)`` (standardises it)."""
    statutory_pct: float
    """Need percentile above which a family closed before statutory help is under-served."""
    early_help_days: Distribution | None
    """Length of early help (days); None: early help closes the case at once."""
    rereferral: float
    """Probability a closed case is referred again."""
    underserved_rereferral: float
    """Probability an under-served closed case is referred again."""
    rereferral_days: Distribution
    """Days from closure to re-referral."""
    need_drift: float
    """SD of the normal step in latent need between closure and re-referral."""
    # ---------------------------------------------------------- assessment
    assessment_days: Distribution
    """Days from triage to the outcome of an assessment (before caseload delays)."""
    assess_sd: float
    """SD of the noise on the assessed need score (latent-need units)."""
    assess_scale: float
    """SD of the assessed score, ``sqrt(1 + assess_sd²)``."""
    cin_pct: float
    """Assessed percentile from which a family is in need (a CIN plan)."""
    cp_pct: float
    """Assessed percentile from which a family goes to s47 enquiries and a CP plan."""
    care_pct: float
    """Assessed percentile from which a family heads for care."""
    s47_days: Distribution | None
    """Days of s47 enquiries before a CP plan starts; None: the plan starts at once."""
    cin: CasePlanConfig
    """Child in need plans: length (days) and escalation."""
    cp: CasePlanConfig
    """Child protection plans: length (days) and escalation."""
    # -------------------------------------------------------- edge of care
    edge_min_age: float
    """Youngest age (years) the edge-of-care service accepts."""
    edge_max_age: float
    """Age (years) from which the edge-of-care service no longer accepts."""
    edge_eligible: float
    """Share of care-bound families the edge-of-care service accepts."""
    edge_days: Distribution | None
    """Length of edge-of-care support (days); set whenever the service has capacity."""
    edge_enter_later: float
    """Share of supported families who enter care at the end of support."""
    edge_daily_cost: float
    """Cost of edge-of-care support (GBP per child per day)."""
    # ----------------------------------------------------------- workforce
    caseload_threshold: float
    """Open cases per FTE above which assessments and permanence slow down."""
    assess_elasticity: float
    """Relative lengthening of an assessment per unit of relative caseload excess."""
    perm_elasticity: float
    """Relative lengthening of a permanence exit per unit of relative caseload excess."""
    early_help_cost: float
    """Cost of an early-help case (GBP per child)."""
    assessment_cost: float
    """Cost of an assessment (GBP per child)."""
    s47_cost: float
    """Cost of a section 47 enquiry and its initial conference (GBP per child)."""
    cin_daily_cost: float
    """Cost of a child in need plan (GBP per child per day)."""
    cp_daily_cost: float
    """Cost of a child protection plan (GBP per child per day)."""
    # --------------------------------------------------------------- care
    entry_bands: tuple[EntryBand, ...]
    """Placement category needed on entry, by age band (see :func:`cumulative_entry_bands`)."""
    exit_bands: tuple[ExitBand, ...]
    """Exit route and its duration, by age band at entry (see :func:`cumulative_exit_bands`)."""
    route_default_duration: Mapping[str, Distribution]
    """Time from entry to exit (days) of each route that gives one."""
    routes: Mapping[str, ExitRoute]
    """Exit routes by name (allowances, re-referral after exit)."""
    pre_exit: Mapping[str, tuple[int, Distribution]]
    """Route -> (placement type index, days before exit) of its pre-exit move."""
    # ---------------------------------------------------------- referrals
    age_cum: tuple[float, ...]
    """Cumulative shares of the referral age bands."""
    age_bands: tuple[tuple[float, float], ...]
    """Referral age bands (min, max age in years)."""
    sibling_cum: tuple[float, ...]
    """Cumulative shares of sibling-group sizes 1, 2, ..."""
    age_table: tuple[tuple[float, float, float, float], ...]
    """Non-empty age bands as (min age, max age, cumulative share below, cumulative share)."""
    # -------------------------------------------------------------- cache
    pre_exit_points: dict[str, list[float]] = field(default_factory=dict)
    """Route -> midpoint quantiles of its pre-exit time (days), filled by ``care``."""


@dataclass(frozen=True, slots=True)
class RecorderIndex:
    """Recorder rows written by the front door and by entries to and exits from care.

    ``fl_*`` are flows (counts or GBP in a month), ``lv_*`` levels (counts or
    GBP per day); the ``*_cost`` levels are daily cost rates in GBP.
    """

    fl_ref_new: int
    fl_ref_re: int
    fl_triage_nfa: int
    fl_triage_eh: int
    fl_triage_as: int
    fl_outcome_nin: int
    """Assessments ending 'not in need'."""
    fl_outcome_cin: int
    fl_outcome_cp: int
    fl_outcome_care: int
    fl_cin_start: int
    fl_cp_start: int
    fl_escalation_care: int
    fl_edge_start: int
    fl_edge_diverted: int
    fl_edge_failed: int
    fl_entries: int
    fl_entries_cat: dict[str, int]
    """Entries by category; registered up front, an unknown one is added when first seen."""
    fl_exits: int
    fl_exits_route: Mapping[str, int]
    fl_cost_eh: int
    fl_cost_as: int
    fl_cost_s47: int
    lv_cin_cost: int
    """Daily cost rate of the CIN plans open (booked ahead with the plans)."""
    lv_cp_cost: int
    """Daily cost rate of the CP plans open (booked ahead with the plans)."""
    lv_lac: int
    lv_open_as: int
    lv_open_cin: int
    lv_open_cp: int
    lv_open_edge: int
    lv_open_lac: int
    lv_open_all: int
    lv_fte: int
    lv_staff_cost: int
    lv_eh: int
    lv_edge: int
    lv_edge_cost: int
    lv_allow: Mapping[str, int]
    lv_allow_cost: Mapping[str, int]
    lv_stay: int
    lv_stay_cost: int
    lv_leaver: int
    lv_leaver_cost: int


def scale(sd: float) -> float:
    """SD of a standard normal plus independent noise of SD ``sd``."""
    return math.sqrt(1.0 + sd * sd)


def cumulative_entry_bands(cfg: Config) -> list[EntryBand]:
    """Entry bands as (lo, hi, [(category, cumulative share)...]) in complexity order."""
    out = []
    for band in cfg.placement_policy.entry:
        cum, acc = [], 0.0
        for cat in ENTRY_CATEGORY_ORDER:
            share = band.shares.get(cat, 0.0)
            if share > 0:
                acc += share
                cum.append((cat, acc))
        out.append((band.min_age_years, band.max_age_years, cum))
    return out


def cumulative_exit_bands(cfg: Config) -> list[ExitBand]:
    """Exit bands as (lo, hi, ([(route, cumulative share)...], {route: duration}))."""
    out = []
    routes = cfg.exits.routes
    for band in cfg.exits.age_bands:
        cum, acc = [], 0.0
        durations: dict[str, Any] = {}
        for r in EXIT_ROUTES:
            share = band.shares.get(r, 0.0)  # type: ignore[call-overload]
            if share > 0:
                acc += share
                cum.append((r, acc))
            d = band.durations_days.get(r)  # type: ignore[call-overload]
            if d is None and r in routes and r != "leaving_care":
                d = routes[r].duration_days
            if d is not None and r != "leaving_care":
                durations[r] = d
        out.append((band.min_age_years, band.max_age_years, (cum, durations)))
    return out


def build_params(cfg: Config) -> Params:
    """The parameters of a replication of ``cfg``."""
    fd, a = cfg.front_door, cfg.assessment
    eoc, w, ref = cfg.edge_of_care, cfg.workforce, cfg.referrals
    routes = cfg.exits.routes
    type_index = {n: i for i, n in enumerate(cfg.placement_types)}
    age_cum: list[float] = np.cumsum([b.share for b in ref.age_bands]).tolist()
    age_bands = [(b.min_age_years, b.max_age_years) for b in ref.age_bands]
    return Params(
        decision_days=fd.decision_days,
        obs_sd=fd.observation_noise_sd,
        obs_scale=scale(fd.observation_noise_sd),
        statutory_pct=fd.statutory_need_percentile,
        early_help_days=fd.early_help_days,
        rereferral=fd.rereferral_probability,
        underserved_rereferral=fd.underserved_rereferral_probability,
        rereferral_days=fd.rereferral_days,
        need_drift=fd.need_drift_sd,
        assessment_days=a.duration_days,
        assess_sd=a.noise_sd,
        assess_scale=scale(a.noise_sd),
        cin_pct=a.cin_above_percentile,
        cp_pct=a.cp_above_percentile,
        care_pct=a.care_above_percentile,
        s47_days=a.section47_days,
        cin=cfg.child_in_need,
        cp=cfg.child_protection,
        edge_min_age=eoc.min_age_years,
        edge_max_age=eoc.max_age_years,
        edge_eligible=eoc.eligible_share,
        edge_days=eoc.support_days,
        edge_enter_later=eoc.enter_care_later_share,
        edge_daily_cost=eoc.daily_cost_gbp,
        caseload_threshold=w.caseload_threshold,
        assess_elasticity=w.assessment_delay_elasticity,
        perm_elasticity=w.permanence_delay_elasticity,
        early_help_cost=w.early_help_cost_gbp,
        assessment_cost=w.assessment_cost_gbp,
        s47_cost=w.s47_enquiry_cost_gbp,
        cin_daily_cost=w.cin_plan_cost_per_month_gbp * 12 / DAYS_PER_YEAR,
        cp_daily_cost=w.cp_plan_cost_per_month_gbp * 12 / DAYS_PER_YEAR,
        entry_bands=tuple(cumulative_entry_bands(cfg)),
        exit_bands=tuple(cumulative_exit_bands(cfg)),
        route_default_duration={
            r: route.duration_days for r, route in routes.items() if route.duration_days is not None
        },
        routes={r: route for r, route in routes.items()},
        pre_exit={
            r: (type_index[route.pre_exit_placement], route.pre_exit_days)
            for r, route in routes.items()
            if route.pre_exit_placement is not None and route.pre_exit_days is not None
        },
        age_cum=tuple(age_cum),
        age_bands=tuple(age_bands),
        sibling_cum=tuple(np.cumsum(ref.sibling_group_shares).tolist()),
        age_table=tuple(
            (lo, hi, prev, c)
            for (lo, hi), prev, c in zip(age_bands, [0.0, *age_cum[:-1]], age_cum, strict=True)
            if c > prev
        ),
    )


def register(rec: Recorder, cfg: Config) -> RecorderIndex:
    """Register the front door's and care's rows in ``rec`` (always in the same order)."""
    flow, level = rec.flow_index, rec.level_index
    routes = cfg.exits.routes
    # Registered in this order: it fixes the order of the output's rows.
    fl_ref_new = flow("referrals", "new")
    fl_ref_re = flow("referrals", "re_referral")
    fl_triage_nfa = flow("triage", "no_further_action")
    fl_triage_eh = flow("triage", "early_help")
    fl_triage_as = flow("triage", "assessment")
    fl_outcome_nin = flow("assessment_outcomes", "not_in_need")
    fl_outcome_cin = flow("assessment_outcomes", "cin")
    fl_outcome_cp = flow("assessment_outcomes", "cp")
    fl_outcome_care = flow("assessment_outcomes", "care")
    fl_cin_start = flow("cin_starts", "all")
    fl_cp_start = flow("cp_starts", "all")
    fl_escalation_care = flow("escalations_to_care", "all")
    fl_edge_start = flow("edge_of_care", "started")
    fl_edge_diverted = flow("edge_of_care", "diverted")
    fl_edge_failed = flow("edge_of_care", "entered_care")
    fl_entries = flow("entries", "all")
    # Registered up front so that every replication has the same rows.
    fl_entries_cat = {c: flow("entries", c) for c in CATEGORIES}
    fl_exits = flow("exits", "all")
    fl_exits_route: dict[str, int] = {r: flow("exits", r) for r in (*routes, "leaving_care")}
    fl_cost_eh = flow("cost_gbp", "early_help")
    fl_cost_as = flow("cost_gbp", "assessment")
    fl_cost_s47 = flow("cost_gbp", "s47_enquiry")
    lv_lac = level("looked_after_total", "all")
    lv_open_as = level("open_cases", "assessment")
    lv_open_cin = level("open_cases", "cin")
    lv_open_cp = level("open_cases", "cp")
    lv_open_edge = level("open_cases", "edge_of_care")
    lv_open_lac = level("open_cases", "looked_after")
    lv_open_all = rec.sum_index(
        "open_cases", "all", (lv_open_as, lv_open_cin, lv_open_cp, lv_open_edge, lv_open_lac)
    )
    lv_fte = level("fte", "all")
    lv_staff_cost = level("cost_rate_gbp_per_day", "staff")
    lv_eh = level("early_help", "all")
    lv_edge = level("edge_of_care_children", "all")
    lv_edge_cost = level("cost_rate_gbp_per_day", "edge_of_care")
    lv_cin_cost = level("cost_rate_gbp_per_day", "cin_plan")
    lv_cp_cost = level("cost_rate_gbp_per_day", "cp_plan")
    lv_allow: dict[str, int] = {r: level("allowances", r) for r in routes}
    lv_allow_cost: dict[str, int] = {
        r: level("cost_rate_gbp_per_day", f"allowance_{r}") for r in routes
    }
    lv_stay = level("staying_put", "all")
    lv_stay_cost = level("cost_rate_gbp_per_day", "staying_put")
    lv_leaver = level("care_leavers_supported", "all")
    lv_leaver_cost = level("cost_rate_gbp_per_day", "leaving_care")
    return RecorderIndex(
        fl_ref_new=fl_ref_new,
        fl_ref_re=fl_ref_re,
        fl_triage_nfa=fl_triage_nfa,
        fl_triage_eh=fl_triage_eh,
        fl_triage_as=fl_triage_as,
        fl_outcome_nin=fl_outcome_nin,
        fl_outcome_cin=fl_outcome_cin,
        fl_outcome_cp=fl_outcome_cp,
        fl_outcome_care=fl_outcome_care,
        fl_cin_start=fl_cin_start,
        fl_cp_start=fl_cp_start,
        fl_escalation_care=fl_escalation_care,
        fl_edge_start=fl_edge_start,
        fl_edge_diverted=fl_edge_diverted,
        fl_edge_failed=fl_edge_failed,
        fl_entries=fl_entries,
        fl_entries_cat=fl_entries_cat,
        fl_exits=fl_exits,
        fl_exits_route=fl_exits_route,
        fl_cost_eh=fl_cost_eh,
        fl_cost_as=fl_cost_as,
        fl_cost_s47=fl_cost_s47,
        lv_cin_cost=lv_cin_cost,
        lv_cp_cost=lv_cp_cost,
        lv_lac=lv_lac,
        lv_open_as=lv_open_as,
        lv_open_cin=lv_open_cin,
        lv_open_cp=lv_open_cp,
        lv_open_edge=lv_open_edge,
        lv_open_lac=lv_open_lac,
        lv_open_all=lv_open_all,
        lv_fte=lv_fte,
        lv_staff_cost=lv_staff_cost,
        lv_eh=lv_eh,
        lv_edge=lv_edge,
        lv_edge_cost=lv_edge_cost,
        lv_allow=lv_allow,
        lv_allow_cost=lv_allow_cost,
        lv_stay=lv_stay,
        lv_stay_cost=lv_stay_cost,
        lv_leaver=lv_leaver,
        lv_leaver_cost=lv_leaver_cost,
    )
