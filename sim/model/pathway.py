"""The front of the system: referral, triage, assessment, CIN and CP plans, edge of care.

A referred family's path through the front door is planned when it is
referred, as far as it depends on the family alone: the ends of early help,
assessments and plans are booked ahead in the recorder, so they need no
events. Steps that depend on the state of the system when they happen (a
re-referral meeting the thresholds and caseloads of its day, heading for care
meeting the edge-of-care service and placements) are SimPy timeouts with
callbacks (no process per family: a process costs two extra events and a
generator). Decisions compare a need score with thresholds; every random
quantity comes from the family's own block of uniforms (see
:class:`sim.model.entities.U`).
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from scipy import special

from sim.model.entities import DAYS_PER_YEAR, Family
from sim.model.entities import U as S

if TYPE_CHECKING:
    import simpy

    from sim.model.params import Params, RecorderIndex
    from sim.model.recorder import Recorder

__all__ = [
    "FrontDoorContext",
    "care_bound",
    "care_bound_at",
    "close_case",
    "refer",
    "resume_assessment",
    "scores",
    "scores_many",
    "start_assessment",
    "start_plan",
]

_N = NormalDist()
_inv = _N.inv_cdf
_cdf = _N.cdf


_ndtri = special.ndtri
_ndtr = special.ndtr
_LO, _HI = 1e-12, 1.0 - 1e-12  # uniforms are clipped to these before a normal quantile


def _clip(u: float) -> float:
    return min(max(u, _LO), _HI)


class FrontDoorContext(Protocol):
    """What the front door reads and changes of the replication it runs in."""

    @property
    def env(self) -> simpy.Environment:
        """The SimPy environment (time in days)."""

    @property
    def p(self) -> Params:
        """The replication's parameters."""

    @property
    def rec(self) -> Recorder:
        """The monthly recorder."""

    @property
    def ix(self) -> RecorderIndex:
        """The recorder rows the front door writes."""

    @property
    def length_days(self) -> float:
        """The horizon (days)."""

    @property
    def eh_threshold(self) -> float:
        """Triage percentile from which a family gets early help, now."""

    @property
    def as_threshold(self) -> float:
        """Triage percentile from which a family gets an assessment, now."""

    @property
    def edge_capacity(self) -> float:
        """Families the edge-of-care service can support at once, now."""

    edge_busy: int
    """Families supported by the edge-of-care service now."""

    def open_cases(self, idx: int, delta: int) -> None:
        """Change an open-case count now."""

    def open_cases_at(self, idx: int, delta: int, at: float) -> None:
        """Book a change of an open-case count at day ``at``."""

    def caseload_factor(self, elasticity: float) -> float:
        """Multiplier on a duration from the caseload now."""

    def enter_care(self, fam: Family) -> None:
        """The family's children under 18 start to be looked after now."""

    def schedule_rereferral(self, fam: Family, births: list[float], delay: float) -> None:
        """Bring the family back to the front door after ``delay`` days."""


def refer(sim: FrontDoorContext, fam: Family, *, rereferral: bool) -> None:
    """A family is referred now: count it and triage it.

    Triage is immediate; ``decision_days`` delays what follows (early help or
    an assessment). What happens to the family is then planned ahead as far as
    it depends on the family alone: the ends of early help, assessments and
    plans are booked in the recorder rather than waited for with events. Only
    steps that depend on the state of the system at the time (a re-referral,
    heading for care) are events.
    """
    env, p, rec, ix = sim.env, sim.p, sim.rec, sim.ix
    u = fam.u
    n = fam.size
    rec.count(ix.fl_ref_re if rereferral else ix.fl_ref_new, n)
    if fam.triage_pct < 0:
        fam.need_pct, fam.triage_pct, fam.assessed_pct = scores(p, fam.need, u)
    pct = fam.triage_pct
    underserved = fam.need_pct > p.statutory_pct
    if pct < sim.eh_threshold:
        rec.count(ix.fl_triage_nfa, n)
        close_case(sim, fam, underserved=underserved)
        return
    if pct < sim.as_threshold:
        rec.count(ix.fl_triage_eh, n)
        rec.count(ix.fl_cost_eh, n * p.early_help_cost)
        if p.early_help_days is None:
            close_case(sim, fam, underserved=underserved)
            return
        now = env.now
        end = now + p.decision_days + p.early_help_days.ppf(u[S.EARLY_HELP_DAYS])
        rec.add(ix.lv_eh, n, now)
        rec.add_at(ix.lv_eh, -n, end)
        close_case(sim, fam, underserved=underserved, at=end)
        return
    start_assessment(sim, fam, underserved)


def start_assessment(sim: FrontDoorContext, fam: Family, underserved: bool) -> None:
    """Start a statutory assessment now; slower when caseloads are high."""
    p, rec, ix = sim.p, sim.rec, sim.ix
    n = fam.size
    rec.count(ix.fl_triage_as, n)
    rec.count(ix.fl_cost_as, n * p.assessment_cost)
    sim.open_cases(ix.lv_open_as, n)
    factor = sim.caseload_factor(p.assess_elasticity)
    days = fam.assess_days
    if days < 0:
        days = p.assessment_days.ppf(fam.u[S.ASSESSMENT_DAYS])
    delay = p.decision_days + days * factor
    finish_assessment(sim, fam, underserved, sim.env.now + delay)


def resume_assessment(sim: FrontDoorContext, fam: Family, elapsed_days: float) -> None:
    """An assessment already under way at the start of a run (open for ``elapsed_days``)."""
    p, ix = sim.p, sim.ix
    sim.open_cases(ix.lv_open_as, fam.size)
    total = p.assessment_days.conditional_ppf(fam.u[S.ASSESSMENT_DAYS], elapsed_days)
    underserved = _cdf(fam.need) > p.statutory_pct
    fam.need_pct, fam.triage_pct, fam.assessed_pct = scores(p, fam.need, fam.u)
    finish_assessment(sim, fam, underserved, sim.env.now + max(total - elapsed_days, 0.0))


def finish_assessment(sim: FrontDoorContext, fam: Family, underserved: bool, at: float) -> None:
    """Outcome of an assessment ending at day ``at``: closure, CIN plan, s47 and CP plan, or care.

    A case that goes on to s47 enquiries or a plan stays open, so the total of
    open cases (the caseload) does not change at the hand-over.
    """
    p, rec, ix = sim.p, sim.rec, sim.ix
    u = fam.u
    n = fam.size
    assessed = fam.assessed_pct
    if assessed < p.cin_pct:
        sim.open_cases_at(ix.lv_open_as, -n, at)
        rec.count_at(ix.fl_outcome_nin, n, at)
        close_case(sim, fam, underserved=underserved, at=at)
    elif assessed < p.cp_pct:
        rec.add_at(ix.lv_open_as, -n, at)
        rec.count_at(ix.fl_outcome_cin, n, at)
        start_plan(sim, fam, "cin", at=at, handed_over=True)
    elif assessed < p.care_pct:
        rec.count_at(ix.fl_outcome_cp, n, at)
        if p.s47_cost:
            rec.count_at(ix.fl_cost_s47, n * p.s47_cost, at)
        if p.s47_days is None:
            rec.add_at(ix.lv_open_as, -n, at)
            start_plan(sim, fam, "cp", at=at, handed_over=True)
            return
        # The assessment's open case carries on as the s47 enquiry.
        done = at + p.s47_days.ppf(u[S.SECTION47_DAYS])
        rec.add_at(ix.lv_open_as, -n, done)
        start_plan(sim, fam, "cp", at=done, handed_over=True)
    else:
        sim.open_cases_at(ix.lv_open_as, -n, at)
        rec.count_at(ix.fl_outcome_care, n, at)
        care_bound_at(sim, fam, at)


def start_plan(
    sim: FrontDoorContext,
    fam: Family,
    kind: str,
    *,
    at: float | None = None,
    elapsed_days: float | None = None,
    handed_over: bool = False,
) -> None:
    """A CIN or CP plan starting at day ``at`` (default now): lasts a drawn time, may escalate.

    ``handed_over`` says the case was already open (an assessment or a CIN plan
    becomes this plan), so the total of open cases does not change at the start.

    ``elapsed_days`` is given for plans already open at the start of a run:
    the plan's length is drawn conditional on having lasted that long, it is
    not counted as a start, and any escalation falls in the remaining time.
    A CP plan never escalates to another CP plan. The plan's end (or its
    escalation to a CP plan) is booked ahead; an escalation to care is an event.
    """
    p, rec, ix = sim.p, sim.rec, sim.ix
    if at is None:
        at = sim.env.now
    u = fam.u
    n = fam.size
    new = elapsed_days is None
    if kind == "cin":
        plan, lv = p.cin, ix.lv_open_cin
        lv_cost, daily = ix.lv_cin_cost, p.cin_daily_cost
        u_days, u_esc, u_when = S.CIN_DAYS, S.CIN_ESCALATION, S.CIN_ESCALATION_TIME
        to_cp = plan.escalate_to_cp_probability
        if new:
            rec.count_at(ix.fl_cin_start, n, at)
    else:
        plan, lv = p.cp, ix.lv_open_cp
        lv_cost, daily = ix.lv_cp_cost, p.cp_daily_cost
        u_days, u_esc, u_when = S.CP_DAYS, S.CP_ESCALATION, S.CP_ESCALATION_TIME
        to_cp = 0.0
        if new:
            rec.count_at(ix.fl_cp_start, n, at)
    if elapsed_days is None:
        days = plan.duration_days.ppf(u[u_days])
        escalate_after = days * plan.escalation_fraction_of_duration * u[u_when]
    else:
        # A plan already open: its escalation point is drawn as for a new plan; if it
        # lies in the past the plan did not escalate (it is still open) and runs to its end.
        total = plan.duration_days.conditional_ppf(u[u_days], elapsed_days)
        days = max(total - elapsed_days, 0.0)
        escalate_after = total * plan.escalation_fraction_of_duration * u[u_when] - elapsed_days
    esc = u[u_esc]
    to_care = plan.escalate_to_care_probability
    if elapsed_days is not None and escalate_after <= 0:
        to_cp = to_care = 0.0
    if handed_over:
        rec.add_at(lv, n, at)
    else:
        sim.open_cases_at(lv, n, at)
    # The plan's cost is a daily rate for exactly as long as the children are on it.
    cost = n * daily
    if cost:
        rec.add_at(lv_cost, cost, at)
    if esc < to_cp + to_care:
        when = at + escalate_after
        if cost:
            rec.add_at(lv_cost, -cost, when)
        if esc < to_cp:
            rec.add_at(lv, -n, when)
            start_plan(sim, fam, "cp", at=when, handed_over=True)
        else:
            sim.open_cases_at(lv, -n, when)
            rec.count_at(ix.fl_escalation_care, n, when)
            care_bound_at(sim, fam, when)
        return
    end = at + days
    if cost:
        rec.add_at(lv_cost, -cost, end)
    sim.open_cases_at(lv, -n, end)
    close_case(sim, fam, underserved=False, at=end)


def care_bound_at(sim: FrontDoorContext, fam: Family, at: float) -> None:
    """The family heads for care at day ``at``: an event then (it depends on the state)."""
    env = sim.env
    if at <= env.now:
        care_bound(sim, fam)
    elif at < sim.length_days:
        env.timeout(at - env.now).callbacks.append(lambda _ev: care_bound(sim, fam))


def care_bound(sim: FrontDoorContext, fam: Family) -> None:
    """A family heading for care now: edge-of-care support if a place is free, else care."""
    env, p, rec, ix = sim.env, sim.p, sim.rec, sim.ix
    u = fam.u
    n = fam.size
    now = env.now
    oldest = max(fam.ages_years(now))
    if not (
        sim.edge_busy < sim.edge_capacity
        and p.edge_min_age <= oldest < p.edge_max_age
        and u[S.EDGE_ELIGIBLE] < p.edge_eligible
    ):
        sim.enter_care(fam)
        return
    edge_days = p.edge_days
    assert edge_days is not None  # the config requires it when the service has capacity
    sim.edge_busy += 1
    rec.count(ix.fl_edge_start, n)
    sim.open_cases(ix.lv_open_edge, n)
    rec.add(ix.lv_edge, n, now)
    rec.add(ix.lv_edge_cost, n * p.edge_daily_cost, now)

    def _end(_ev: Any) -> None:
        t = env.now
        sim.edge_busy -= 1
        sim.open_cases(ix.lv_open_edge, -n)
        rec.add(ix.lv_edge, -n, t)
        rec.add(ix.lv_edge_cost, -n * p.edge_daily_cost, t)
        if u[S.EDGE_OUTCOME] >= p.edge_enter_later:
            rec.count(ix.fl_edge_diverted, n)
            close_case(sim, fam, underserved=False)
        else:
            rec.count(ix.fl_edge_failed, n)
            sim.enter_care(fam)

    env.timeout(edge_days.ppf(u[S.EDGE_DAYS])).callbacks.append(_end)


def close_case(
    sim: FrontDoorContext,
    fam: Family,
    *,
    underserved: bool,
    probability: float | None = None,
    at: float | None = None,
) -> None:
    """Close a family's case at day ``at`` (default now); it may come back as a re-referral."""
    p = sim.p
    u = fam.u
    if probability is None:
        probability = p.underserved_rereferral if underserved else p.rereferral
    if probability <= 0 or u[S.REREFERRAL] >= probability:
        return
    now = sim.env.now
    if at is None:
        at = now
    back = at + p.rereferral_days.ppf(u[S.REREFERRAL_DAYS])
    # Only children still under 18 at the re-referral come back.
    births = [b for b in fam.births if (back - b) < 18 * DAYS_PER_YEAR]
    if not births or back >= sim.length_days:
        return
    sim.schedule_rereferral(fam, births, back - now)


def scores(p: Params, need: float, u: Sequence[float]) -> tuple[float, float, float]:
    """Percentiles of a family's true need, triage score and assessed score.

    Scores are need plus independent normal noise, standardised so that the
    percentile is of the score among all referrals (the thresholds' scale).
    :func:`scores_many` computes the same for new families in bulk, with the
    same operations in the same order, so both give the same bits.
    """
    triage = (need + p.obs_sd * float(_ndtri(_clip(u[S.TRIAGE_NOISE])))) / p.obs_scale
    assessed = (need + p.assess_sd * float(_ndtri(_clip(u[S.ASSESSMENT_NOISE])))) / p.assess_scale
    return float(_ndtr(need)), float(_ndtr(triage)), float(_ndtr(assessed))


def scores_many(
    p: Params, need: np.ndarray, u_triage: np.ndarray, u_assessment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`scores` for arrays of needs and of the two noise uniforms (element by element)."""
    triage = (need + p.obs_sd * _ndtri(np.clip(u_triage, _LO, _HI))) / p.obs_scale
    assessed = (need + p.assess_sd * _ndtri(np.clip(u_assessment, _LO, _HI))) / p.assess_scale
    return _ndtr(need), _ndtr(triage), _ndtr(assessed)


def drifted_need(need: float, u_drift: float, sd: float) -> float:
    """Latent need after time passes: a normal step of ``sd``."""
    if sd <= 0:
        return need
    return need + sd * _inv(_clip(u_drift))


def conditional_need(lo_pct: float, hi_pct: float, u: float) -> float:
    """A latent need whose percentile is uniform in [lo_pct, hi_pct)."""
    q = lo_pct + (hi_pct - lo_pct) * u
    return _inv(_clip(q))
