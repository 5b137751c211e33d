"""Children looked after: entry, placement, moves, step-downs and exits.

On entry each child draws, from its family's uniforms, the placement
category it needs (by age and complexity), an exit route (by age at entry)
and a time to exit for that route. Its next step is then scheduled (a
timeout callback, see :func:`plan_next`) for the earliest of: exit, move to a
pre-exit placement (adoption), placement breakdown, step-down, or the 18th
birthday. Moves made by others (a capacity cut, a waiting list, bringing a
child back in-house) replan it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sim.model.entities import DAYS_PER_YEAR, Child
from sim.model.entities import U as S
from sim.model.renewal import equilibrium_age_sampler

if TYPE_CHECKING:
    import simpy

    from sim.config.distributions import _Dist
    from sim.model.params import Params
    from sim.model.placements import Allocator

__all__ = ["CareContext", "choose_category", "choose_route", "plan_next", "start_child"]


class CareContext(Protocol):
    """What the in-care steps read and change of the replication they run in."""

    @property
    def env(self) -> simpy.Environment:
        """The SimPy environment (time in days)."""

    @property
    def p(self) -> Params:
        """The replication's parameters."""

    @property
    def alloc(self) -> Allocator:
        """The placement allocator."""

    stepping: Child | None
    """The child whose own step is running (others' moves replan a child, not this one)."""

    def caseload_factor(self, elasticity: float) -> float:
        """Multiplier on a duration from the caseload now."""

    def leave_care(self, child: Child) -> None:
        """The child stops being looked after by its planned route."""


_PERMANENCE = frozenset({"adoption", "special_guardianship", "child_arrangements"})


def _band(bands: Sequence[tuple[float, float, Any]], age: float) -> Any:
    for lo, hi, value in bands:
        if lo <= age < hi:
            return value
    return bands[-1][2]


def choose_category(sim: CareContext, age_years: float, u: float) -> str:
    """Placement category needed on entry, from the age band's cumulative shares."""
    cum = _band(sim.p.entry_bands, age_years)
    for cat, c in cum:
        if u < c:
            return cat
    return cum[-1][0]


def choose_route(
    sim: CareContext,
    age_years: float,
    u: float,
    days_in_care: float = 0.0,
    child_type: int = -1,
) -> tuple[str, _Dist | None]:
    """Exit route and its duration distribution for a child entering at ``age_years``.

    For a child already in care for ``days_in_care`` days, routes are weighted
    by the chance of still being in care by each route (share × survival), so
    a starting population is not biased towards short stays. A route with a
    pre-exit placement (adoption) that the child (in placement type
    ``child_type``) is not yet in needs the pre-exit time still to come, so its
    survival is taken at ``days_in_care`` plus that time (averaged over its
    distribution).
    """
    cum, durations = _band(sim.p.exit_bands, age_years)
    if days_in_care > 0:
        pre_exit = sim.p.pre_exit
        weights = []
        prev = 0.0
        for r, c in cum:
            dist = durations.get(r)
            pre = pre_exit.get(r)
            if dist is None:
                survive = 1.0
            elif pre is not None and pre[0] != child_type:
                leads = _lead_points(sim.p, r)
                survive = sum(1.0 - dist.cdf(days_in_care + g) for g in leads) / len(leads)
            else:
                survive = 1.0 - dist.cdf(days_in_care)
            weights.append((r, (c - prev) * survive))
            prev = c
        total = sum(w for _, w in weights)
        if total > 0:
            acc = 0.0
            for r, w in weights:
                acc += w / total
                if u < acc:
                    return r, durations.get(r)
    route = cum[-1][0]
    for r, c in cum:
        if u < c:
            route = r
            break
    return route, durations.get(route)


_LEAD_POINTS = 8


def _lead_points(p: Params, route: str) -> list[float]:
    """Midpoint quantiles of a route's pre-exit time (days), cached per run."""
    cache = p.pre_exit_points
    points = cache.get(route)
    if points is None:
        dist = p.pre_exit[route][1]
        points = cache[route] = [dist.ppf((i + 0.5) / _LEAD_POINTS) for i in range(_LEAD_POINTS)]
    return points


def _lead_given_in_care(p: Params, route: str, dist: _Dist, days_in_care: float, u: float) -> float:
    """Pre-exit lead time (days) of a child in care for ``days_in_care`` and not yet moved.

    A child still in care after ``days_in_care`` days with a lead ``g`` still ahead
    has a stay longer than ``days_in_care + g``, so long leads are less likely
    among such children: the lead is drawn from its distribution tilted by the
    stay's survival ``S(days_in_care + g)``. The tilt is applied to the eight
    equal-probability slices of the lead distribution (as in :func:`choose_route`);
    ``u`` picks a slice by its weight, then a point inside the slice.
    """
    points = _lead_points(p, route)
    k = len(points)
    weights = [1.0 - dist.cdf(days_in_care + g) for g in points]
    total = sum(weights)
    pre_dist = p.pre_exit[route][1]
    if total <= 0:
        return pre_dist.ppf(u)
    target = u * total
    acc = 0.0
    for i, w in enumerate(weights):
        if w > 0 and target < acc + w:
            within = (target - acc) / w
            return pre_dist.ppf((i + within) / k)
        acc += w
    return pre_dist.ppf((k - 1 + 0.5) / k)


def _pre_exit_residual(p: Params, route: str, u: float) -> float:
    """Days left in a pre-exit placement open at the start of a run (renewal equilibrium)."""
    return equilibrium_age_sampler(p.pre_exit[route][1])(u)


def start_child(
    sim: CareContext,
    child: Child,
    now: float,
    *,
    days_in_care: float = 0.0,
    route: str | None = None,
) -> None:
    """Plan a child's exit (route, time, pre-exit move) on entry to care.

    For a child already in care at the start of a run, ``days_in_care`` > 0
    and the time to exit is drawn conditional on having stayed that long.
    """
    p = sim.p
    u = child.u
    entry = now - days_in_care
    child.entry_day = entry
    age_entry = max((entry - child.birth) / DAYS_PER_YEAR, 0.0)
    drawn_route, dist = choose_route(sim, age_entry, u[S.EXIT_ROUTE], days_in_care, child.type)
    if route is not None and route != drawn_route:
        band_durations = _band(p.exit_bands, age_entry)[1]
        drawn_route = route
        dist = band_durations.get(route, p.route_default_duration.get(route))
    child.route = drawn_route
    pre = p.pre_exit.get(drawn_route)
    lead: float | None = None  # pre-exit lead time (days), when drawn for a starting child
    if dist is None:
        exit_at = math.inf
    elif days_in_care > 0 and pre is not None and child.type == pre[0]:
        # Already in the pre-exit placement (placed for adoption): what is left is the
        # rest of that placement, not of the whole stay.
        exit_at = now + _pre_exit_residual(p, drawn_route, u[S.EXIT_DAYS])
    else:
        # A child already in care who still has the pre-exit placement ahead of it stays
        # at least that much longer (the same lead time places the move below).
        at_least = days_in_care
        if days_in_care > 0 and pre is not None:
            lead = _lead_given_in_care(p, drawn_route, dist, days_in_care, u[S.PRE_EXIT_DAYS])
            at_least += lead
        d = dist.conditional_ppf(u[S.EXIT_DAYS], at_least)
        if drawn_route in _PERMANENCE:
            d = days_in_care + (d - days_in_care) * sim.caseload_factor(p.perm_elasticity)
        exit_at = entry + d
    at18 = child.birth + 18 * DAYS_PER_YEAR
    if exit_at >= at18:
        exit_at = at18
        child.route = "leaving_care"
    child.exit_at = max(exit_at, now)
    child.pre_exit_at = math.inf
    pre = p.pre_exit.get(child.route)
    if pre is not None:
        type_index, pre_dist = pre
        if child.type != type_index:
            if lead is None:
                lead = pre_dist.ppf(u[S.PRE_EXIT_DAYS])
            pre_at = child.exit_at - lead
            if pre_at <= now and days_in_care == 0:
                # A new entrant whose pre-exit lead time exceeds its time to exit goes
                # straight to the pre-exit placement (no zero-length first placement).
                child.category = sim.alloc.category[type_index]
                return
            if pre_at < now:
                # A child already in care whose move is overdue: spread the moves over
                # the time left rather than moving every such child on day 0.
                pre_at = now + u[S.PRE_EXIT_DAYS] * (child.exit_at - now)
            child.pre_exit_at = max(pre_at, now)


def plan_next(sim: CareContext, child: Child) -> None:
    """Schedule a child's next step: the earliest of exit, pre-exit move, breakdown, step-down.

    A child in care is a chain of timeout callbacks, not a SimPy process (a
    process costs an extra event and a generator resume a step). Each plan
    carries a token; replanning (after someone else moved the child) bumps the
    token, so the callback of the superseded plan finds itself stale and does
    nothing.
    """
    token = child.token + 1
    child.token = token
    t_next = min(child.exit_at, child.pre_exit_at, child.break_at, child.step_at)
    env = sim.env
    env.timeout(max(t_next - env.now, 0.0)).callbacks.append(
        lambda _ev: _care_step(sim, child, token, t_next)
    )


def _care_step(sim: CareContext, child: Child, token: int, t_next: float) -> None:
    """The step planned for ``t_next``, unless the plan was superseded."""
    if child.token != token:
        return
    now = sim.env.now
    if t_next == child.exit_at:
        child.token = -1  # no more steps: wake() leaves it alone
        sim.leave_care(child)
        return
    sim.stepping = child
    try:
        _do_step(sim, child, now, t_next)
    finally:
        sim.stepping = None
    plan_next(sim, child)


def _do_step(sim: CareContext, child: Child, now: float, t_next: float) -> None:
    """Carry out a child's pre-exit move, breakdown or step-down now."""
    alloc = sim.alloc
    if t_next == child.pre_exit_at:
        type_index = sim.p.pre_exit[child.route][0]
        child.pre_exit_at = math.inf
        if alloc.free(type_index) >= 1:
            child.category = alloc.category[type_index]
            old = child.type
            alloc.vacate(child, now, refill=False)
            alloc.occupy(child, type_index, now)
            alloc.count_move(child, "pre_exit")
            alloc.refill(old, now)
        # else the pre-exit type is full: the child stays where it is until exit
    elif t_next == child.break_at:
        alloc.place(child, now, reason="breakdown")
    else:
        child.category = child.step_to
        alloc.place(child, now, reason="step_down")
