"""The front of the system: referral, triage, assessment, CIN and CP plans, edge of care.

A referred family moves through the front door as a chain of timeout
callbacks (no SimPy process per family: a process costs two extra events and
a generator). Decisions compare a need score with thresholds; every random
quantity comes from the family's own block of uniforms (see
:class:`sim.model.entities.U`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from sim.model.entities import DAYS_PER_YEAR, Family
from sim.model.entities import U as S

if TYPE_CHECKING:
    from sim.model.simulation import Simulation

__all__ = [
    "care_bound",
    "close_case",
    "refer",
    "resume_assessment",
    "start_assessment",
    "start_plan",
]

_N = NormalDist()
_inv = _N.inv_cdf
_cdf = _N.cdf


def _clip(u: float) -> float:
    return min(max(u, 1e-12), 1.0 - 1e-12)


def refer(sim: Simulation, fam: Family, *, rereferral: bool) -> None:
    """A family is referred now: count it and triage it.

    Triage is immediate; ``decision_days`` delays what follows (early help or
    an assessment). Families closed at triage need no SimPy process at all,
    which keeps the event count low.
    """
    env, p, rec, ix = sim.env, sim.p, sim.rec, sim.ix
    u = fam.u
    n = fam.size
    rec.count(ix.fl_ref_re if rereferral else ix.fl_ref_new, n)
    if fam.triage_pct < 0:
        fam.need_pct, fam.triage_pct, fam.assessed_pct = scores(sim, fam.need, u)
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
        rec.add(ix.lv_eh, n, env.now)

        def _end(_ev: Any) -> None:
            rec.add(ix.lv_eh, -n, env.now)
            close_case(sim, fam, underserved=underserved)

        env.timeout(p.decision_days + p.early_help_days.ppf(u[S.EARLY_HELP_DAYS])).callbacks.append(
            _end
        )
        return
    start_assessment(sim, fam, underserved)


def _after(sim: Simulation, delay: float, fn: Callable[[], None]) -> None:
    """Call ``fn`` after ``delay`` days: one timeout event, no process."""
    sim.env.timeout(delay).callbacks.append(lambda _ev: fn())


def start_assessment(sim: Simulation, fam: Family, underserved: bool) -> None:
    """Start a statutory assessment; slower when caseloads are high."""
    p, rec, ix = sim.p, sim.rec, sim.ix
    n = fam.size
    rec.count(ix.fl_triage_as, n)
    rec.count(ix.fl_cost_as, n * p.assessment_cost)
    sim.open_cases(ix.lv_open_as, n)
    factor = sim.caseload_factor(p.assess_elasticity)
    delay = p.decision_days + p.assessment_days.ppf(fam.u[S.ASSESSMENT_DAYS]) * factor
    if delay > 0:
        _after(sim, delay, lambda: finish_assessment(sim, fam, underserved))
    else:
        finish_assessment(sim, fam, underserved)


def resume_assessment(sim: Simulation, fam: Family, elapsed_days: float) -> None:
    """An assessment already under way at the start of a run (open for ``elapsed_days``)."""
    p, ix = sim.p, sim.ix
    sim.open_cases(ix.lv_open_as, fam.size)
    total = p.assessment_days.conditional_ppf(fam.u[S.ASSESSMENT_DAYS], elapsed_days)
    underserved = _cdf(fam.need) > p.statutory_pct
    fam.need_pct, fam.triage_pct, fam.assessed_pct = scores(sim, fam.need, fam.u)
    _after(sim, max(total - elapsed_days, 0.0), lambda: finish_assessment(sim, fam, underserved))


def finish_assessment(sim: Simulation, fam: Family, underserved: bool) -> None:
    """Outcome of an assessment: closure, CIN plan, s47 and CP plan, or care."""
    p, rec, ix = sim.p, sim.rec, sim.ix
    u = fam.u
    n = fam.size
    sim.open_cases(ix.lv_open_as, -n)
    assessed = fam.assessed_pct
    if assessed < p.cin_pct:
        rec.count(ix.fl_outcome["not_in_need"], n)
        close_case(sim, fam, underserved=underserved)
    elif assessed < p.cp_pct:
        rec.count(ix.fl_outcome["cin"], n)
        start_plan(sim, fam, "cin")
    elif assessed < p.care_pct:
        rec.count(ix.fl_outcome["cp"], n)
        if p.s47_days is None:
            start_plan(sim, fam, "cp")
            return
        sim.open_cases(ix.lv_open_as, n)

        def _s47_done() -> None:
            sim.open_cases(ix.lv_open_as, -n)
            start_plan(sim, fam, "cp")

        _after(sim, p.s47_days.ppf(u[S.SECTION47_DAYS]), _s47_done)
    else:
        rec.count(ix.fl_outcome["care"], n)
        care_bound(sim, fam)


def start_plan(
    sim: Simulation, fam: Family, kind: str, *, elapsed_days: float | None = None
) -> None:
    """A CIN or CP plan: lasts a drawn time, may escalate part-way, then closes.

    ``elapsed_days`` is given for plans already open at the start of a run:
    the plan's length is drawn conditional on having lasted that long, it is
    not counted as a start, and any escalation falls in the remaining time.
    A CP plan never escalates to another CP plan.
    """
    p, rec, ix = sim.p, sim.rec, sim.ix
    u = fam.u
    n = fam.size
    new = elapsed_days is None
    if kind == "cin":
        plan, lv = p.cin, ix.lv_open_cin
        u_days, u_esc, u_when = S.CIN_DAYS, S.CIN_ESCALATION, S.CIN_ESCALATION_TIME
        to_cp = plan.escalate_to_cp_probability
        if new:
            rec.count(ix.fl_cin_start, n)
    else:
        plan, lv = p.cp, ix.lv_open_cp
        u_days, u_esc, u_when = S.CP_DAYS, S.CP_ESCALATION, S.CP_ESCALATION_TIME
        to_cp = 0.0
        if new:
            rec.count(ix.fl_cp_start, n)
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
    sim.open_cases(lv, n)
    if esc < to_cp + to_care:

        def _escalate() -> None:
            sim.open_cases(lv, -n)
            if esc < to_cp:
                start_plan(sim, fam, "cp")
            else:
                rec.count(ix.fl_escalation_care, n)
                care_bound(sim, fam)

        _after(sim, escalate_after, _escalate)
        return

    def _end() -> None:
        sim.open_cases(lv, -n)
        close_case(sim, fam, underserved=False)

    _after(sim, days, _end)


def care_bound(sim: Simulation, fam: Family) -> None:
    """A family heading for care: edge-of-care support if a place is free, else care."""
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
    sim.edge_busy += 1
    rec.count(ix.fl_edge_start, n)
    sim.open_cases(ix.lv_open_edge, n)
    rec.add(ix.lv_edge, n, now)
    rec.add(ix.lv_edge_cost, n * p.edge_daily_cost, now)

    def _end() -> None:
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

    _after(sim, p.edge_days.ppf(u[S.EDGE_DAYS]), _end)


def close_case(
    sim: Simulation, fam: Family, *, underserved: bool, probability: float | None = None
) -> None:
    """Close a family's case; it may come back as a re-referral later."""
    p = sim.p
    u = fam.u
    if probability is None:
        probability = p.underserved_rereferral if underserved else p.rereferral
    if probability <= 0 or u[S.REREFERRAL] >= probability:
        return
    delay = p.rereferral_days.ppf(u[S.REREFERRAL_DAYS])
    now = sim.env.now
    # Only children still under 18 at the re-referral come back.
    births = [b for b in fam.births if (now + delay - b) < 18 * DAYS_PER_YEAR]
    if not births or now + delay >= sim.length_days:
        return
    sim.schedule_rereferral(fam, births, delay)


def scores(sim: Simulation, need: float, u: Sequence[float]) -> tuple[float, float, float]:
    """Percentiles of a family's true need, triage score and assessed score.

    Scores are need plus independent normal noise, standardised so that the
    percentile is of the score among all referrals (the thresholds' scale).
    :meth:`Simulation._arrivals` computes the same for new families in bulk.
    """
    p = sim.p
    triage = (need + p.obs_sd * _inv(_clip(u[S.TRIAGE_NOISE]))) / p.obs_scale
    assessed = (need + p.assess_sd * _inv(_clip(u[S.ASSESSMENT_NOISE]))) / p.assess_scale
    return _cdf(need), _cdf(triage), _cdf(assessed)


def drifted_need(need: float, u_drift: float, sd: float) -> float:
    """Latent need after time passes: a normal step of ``sd``."""
    if sd <= 0:
        return need
    return need + sd * _inv(_clip(u_drift))


def conditional_need(lo_pct: float, hi_pct: float, u: float) -> float:
    """A latent need whose percentile is uniform in [lo_pct, hi_pct)."""
    q = lo_pct + (hi_pct - lo_pct) * u
    return _inv(_clip(q))


def scale(sd: float) -> float:
    """SD of a standard normal plus independent noise of SD ``sd``."""
    return math.sqrt(1.0 + sd * sd)
