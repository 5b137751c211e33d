"""One replication: build the SimPy environment from a Config and a seed, run it.

This module wires the pieces together (streams, recorder, allocator, the
front-door and in-care processes, schedules) and holds the state they share.
It never reads or writes files and never prints.
"""

from __future__ import annotations

import datetime as dt
import gc
import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import simpy
from scipy import special, stats

from sim.config.schedule import Schedule
from sim.config.schema import Config
from sim.model import care, pathway, uasc
from sim.model.capacity_costs import book_capacity_costs
from sim.model.entities import DAYS_PER_YEAR, Child, Family
from sim.model.entities import U as S
from sim.model.params import build_params, register
from sim.model.placements import Allocator, ModelError
from sim.model.recorder import MonthGrid, Recorder, RecorderArrays
from sim.model.renewal import equilibrium_age_sampler
from sim.model.streams import (
    UniformBlocks,
    purpose_generator,
    purpose_seed,
    replication_seed,
    row_array,
)

__all__ = ["ReplicationOutput", "Simulation", "simulate"]


@dataclass
class ReplicationOutput:
    """Everything one replication produced, as plain arrays and numbers.

    Attributes
    ----------
    arrays
        Monthly levels and flows (see :class:`RecorderArrays`).
    month_starts
        Calendar month of each row of the arrays.
    report_from
        Index of the first reported month (after the warm-up).
    children_in_care
        Children looked after at some time in the reported window.
    moves_in_window
        Placement moves in the reported window.
    counts
        Conservation counts: entered, left, present, initial (children in care).
    events
        SimPy events processed (for benchmarks).

    """

    arrays: RecorderArrays
    month_starts: tuple[dt.date, ...]
    report_from: int
    children_in_care: int
    moves_in_window: int
    counts: dict[str, int] = field(default_factory=dict)
    events: int = 0


class Simulation:
    """State shared by the processes of one replication."""

    def __init__(self, cfg: Config, seed: int, replication: int = 0):
        self.cfg = cfg
        self.seed = seed
        self.replication = replication
        self.env = simpy.Environment()
        self.start_date = cfg.sim_start_date
        self.length_days = cfg.sim_length_days
        self.report_from_day = float(cfg.run.warmup_days)
        self.grid = MonthGrid.build(self.start_date, self.length_days)
        self.rec = Recorder(self.grid)
        root = replication_seed(seed, replication)
        self.rng_arrivals = purpose_generator(root, "arrivals")
        self.rng_families = purpose_generator(root, "families")
        self.rereferral_u = UniformBlocks(
            purpose_generator(root, "rereferrals"), width=S.WIDTH, block=512
        )
        self.placement_u = UniformBlocks(purpose_generator(root, "placement"))
        self.placement_key = int(purpose_seed(root, "placement").generate_state(1, np.uint64)[0])
        self.initial_u = UniformBlocks(purpose_generator(root, "initial"), width=S.WIDTH, block=512)
        self.fy_start_days = _financial_year_starts(self.start_date, self.length_days)
        self.p = build_params(cfg)
        self.ix = register(self.rec, cfg)
        self.alloc = Allocator(
            cfg, self.rec, self.fy_start_days, key=self.placement_key, wake=self.wake
        )
        # Unaccompanied asylum-seeking children: built (and their rows registered) only
        # when some can arrive, so a run without them is unchanged bit for bit.
        self.uasc: uasc.UascProcess | None = (
            uasc.UascProcess(self, cfg.uasc, root)
            if cfg.uasc is not None and cfg.uasc.enabled
            else None
        )
        self.edge_busy = 0
        self.edge_capacity = cfg.edge_of_care.capacity.value_at(self.start_date)
        self.eh_threshold = cfg.front_door.early_help_above_percentile.value_at(self.start_date)
        self.as_threshold = cfg.front_door.assessment_above_percentile.value_at(self.start_date)
        self.fte = cfg.workforce.fte.value_at(self.start_date)
        self.open_total = 0  # open cases of every kind now (the caseload numerator)
        self.stepping: Child | None = None  # the child whose own step is running
        self._open_times: list[float] = []  # heap of days with open-case changes booked ahead
        self._open_later: dict[float, int] = {}  # day -> net change booked for it
        self._next_child = 0
        self._next_family = 0
        self.entered = 0
        self.left = 0
        self.initial_in_care = 0
        self.in_care_at_report = -1
        self.entered_in_window = 0

    # -------------------------------------------------------------- helpers
    def day_of(self, date: dt.date) -> float:
        """Simulation day of a calendar date."""
        return float((date - self.start_date).days)

    def open_cases(self, idx: int, delta: int) -> None:
        """Change an open-case count now, and the running total used for caseloads."""
        self.rec.add(idx, delta, self.env.now)
        self.open_total += delta

    def open_cases_at(self, idx: int, delta: int, at: float) -> None:
        """Book a change of an open-case count at a time ``at`` (days, now or later).

        No event is needed: the recorder books it into its month, and the
        running total takes it up when a caseload is next read at or after ``at``.
        """
        if at <= self.env.now:
            self.open_cases(idx, delta)
            return
        self.rec.add_at(idx, delta, at)
        # Times in a heap of floats (cheap to compare), changes summed per time.
        later = self._open_later
        old = later.get(at)
        if old is None:
            later[at] = delta
            heapq.heappush(self._open_times, at)
        else:
            later[at] = old + delta

    def caseload(self) -> float:
        """Open cases per FTE now."""
        times = self._open_times
        if times and times[0] <= self.env.now:
            now = self.env.now
            later = self._open_later
            total = self.open_total
            while times and times[0] <= now:
                total += later.pop(heapq.heappop(times))
            self.open_total = total
        return self.open_total / self.fte if self.fte > 0 else math.inf

    def caseload_factor(self, elasticity: float) -> float:
        """Multiplier on a duration when caseloads exceed the threshold (1 otherwise)."""
        if elasticity <= 0:
            return 1.0
        excess = self.caseload() / self.p.caseload_threshold - 1.0
        return 1.0 + elasticity * excess if excess > 0 else 1.0

    def wake(self, child: Child) -> None:
        """Replan a child's next step after someone else moved it (not during its own step)."""
        if child.token >= 0 and child is not self.stepping:
            care.plan_next(self, child)

    def new_child(self, fam: Family, birth: float, u: Sequence[float]) -> Child:
        """Create a child record."""
        child = Child(self._next_child, fam, birth, u)
        self._next_child += 1
        return child

    def _age_from_u(self, u: float) -> float:
        """Age (years) from a uniform: band by cumulative share, then uniform inside the band."""
        for lo, hi, prev, c in self.p.age_table:
            if u < c:
                return lo + (hi - lo) * (u - prev) / (c - prev)
        return self.p.age_table[-1][1] - 1e-6

    # ---------------------------------------------------------- front door
    def _arrival_times(self) -> np.ndarray:
        """Family arrival times (days) of a non-homogeneous Poisson process.

        The rate is piecewise constant by day (schedule × trend × season);
        arrivals are unit-rate Poisson points mapped through the inverse of the
        cumulative rate, which is exact for a piecewise-constant rate.
        """
        cfg = self.cfg
        ref = cfg.referrals
        n_days = math.ceil(self.length_days)
        days = np.arange(n_days)
        steps = ref.rate_per_year.steps
        step_days = np.array([(d - self.start_date).days for d, _ in steps])
        step_values = np.array([v for _, v in steps])
        base = step_values[np.maximum(np.searchsorted(step_days, days, side="right") - 1, 0)]
        years_from_report = (days - self.report_from_day) / DAYS_PER_YEAR
        rate = base * (1.0 + ref.trend_per_year) ** years_from_report
        if ref.seasonality is not None:
            start = np.datetime64(self.start_date, "D")
            months = (start + days).astype("datetime64[M]").astype(int) % 12
            rate = rate * np.asarray(ref.seasonality)[months]
        rate_per_day = rate / DAYS_PER_YEAR / ref.mean_family_size
        cum = np.concatenate([[0.0], np.cumsum(rate_per_day)])
        total = cum[-1]
        gen = self.rng_arrivals
        points: list[np.ndarray] = []
        last = 0.0
        while last < total:
            chunk = last + np.cumsum(gen.exponential(1.0, size=max(1024, int(total - last) + 64)))
            points.append(chunk)
            last = float(chunk[-1])
        pts = np.concatenate(points) if points else np.empty(0)
        pts = pts[pts < total]
        k = np.searchsorted(cum, pts, side="right") - 1
        frac = (pts - cum[k]) / np.maximum(rate_per_day[k], 1e-300)
        return k + frac

    def _ages_from_u(self, u: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`_age_from_u`."""
        table = self.p.age_table
        cum = np.array([c for _, _, _, c in table])
        k = np.minimum(np.searchsorted(cum, u, side="right"), len(table) - 1)
        lo, hi, prev, c = (np.array(col)[k] for col in zip(*table, strict=True))
        return lo + (hi - lo) * (u - prev) / (c - prev)

    def _arrivals(self, times: np.ndarray) -> Iterator[float]:
        """Refer each new family at its arrival time.

        Families' uniform blocks are drawn from the families stream in chunks
        (the same numbers as one big draw, without holding them all); size,
        ages and latent need are computed per chunk with numpy, and the loop
        only creates records and triages them.
        """
        p = self.p
        gen = self.rng_families
        sibling_cum = np.asarray(p.sibling_cum)
        n_max = len(p.sibling_cum)
        last = 0.0
        chunk = 4096
        for start in range(0, len(times), chunk):
            t_chunk = times[start : start + chunk]
            blocks = gen.random((len(t_chunk), S.WIDTH))
            sizes = np.minimum(
                np.searchsorted(sibling_cum, blocks[:, S.N_CHILDREN], side="right") + 1, n_max
            ).tolist()
            ages = self._ages_from_u(blocks[:, S.AGE : S.AGE + 3].ravel()).reshape(-1, 3)
            births = (t_chunk[:, None] - ages * DAYS_PER_YEAR).tolist()
            need = special.ndtri(np.clip(blocks[:, S.NEED], 1e-12, 1 - 1e-12))
            score_rows = np.column_stack(
                pathway.scores_many(
                    p, need, blocks[:, S.TRIAGE_NOISE], blocks[:, S.ASSESSMENT_NOISE]
                )
            ).tolist()
            needs = need.tolist()
            assess_days = p.assessment_days.ppf_many(blocks[:, S.ASSESSMENT_DAYS])
            raw = blocks.tobytes()  # each family's row becomes its own array('d')
            for j, t in enumerate(t_chunk.tolist()):
                yield t - last  # the driver (_drive) resumes this at time t
                last = t
                n = sizes[j]
                b = births[j][: min(n, 3)]
                for _ in range(3, n):  # families larger than three: extra ages
                    b.append(t - self._age_from_u(self.placement_u.next()) * DAYS_PER_YEAR)
                u = row_array(raw, j, S.WIDTH)
                fam = Family(self._next_family, b, needs[j], u, score_rows[j], assess_days[j])
                self._next_family += 1
                pathway.refer(self, fam, rereferral=False)

    def _drive(self, steps: Iterator[float]) -> None:
        """Run a generator of delays (days) as a chain of timeout callbacks.

        Each delay is waited for with one timeout; when it fires the generator is
        resumed to do that step's work and give the next delay. Cheaper than a
        SimPy process (no process event, no ``Process._resume``).
        """
        env = self.env

        def _next(_ev: Any) -> None:
            delay = next(steps, None)
            if delay is not None:
                env.timeout(delay).callbacks.append(_next)

        _next(None)

    def schedule_rereferral(self, fam: Family, births: list[float], delay: float) -> None:
        """Bring a family (its children under 18) back to the front door after ``delay`` days."""
        u = self.rereferral_u.row()
        need = pathway.drifted_need(fam.need, u[S.NEED_DRIFT], self.p.need_drift)
        new = Family(fam.fid, births, need, u)

        def _go(_ev: Any) -> None:
            pathway.refer(self, new, rereferral=True)

        self.env.timeout(delay).callbacks.append(_go)

    # --------------------------------------------------------------- care
    def enter_care(self, fam: Family) -> None:
        """The family's children (under 18) start to be looked after now."""
        now = self.env.now
        children = []
        for b in fam.births:
            age = (now - b) / DAYS_PER_YEAR
            if age >= 18:
                continue
            child = self.new_child(fam, b, fam.u)
            child.complexity = fam.u[S.COMPLEXITY]
            child.category = care.choose_category(self, age, child.complexity)
            care.start_child(self, child, now)
            children.append(child)
        if not children:
            return
        self._place_siblings(children, now)
        for child in children:
            self._begin_care(child, now, entering=True)

    def _place_siblings(self, children: list[Child], now: float) -> None:
        alloc = self.alloc
        by_cat: dict[str, list[Child]] = {}
        for c in children:
            by_cat.setdefault(c.category, []).append(c)
        for group in by_cat.values():
            if len(group) > 1:
                i = -1
                for j in alloc.order.get(group[0].category, ()):
                    if alloc.free(j) >= len(group) and all(
                        alloc.eligible(j, c, now) for c in group
                    ):
                        i = j
                        break
                if i >= 0:
                    for c in group:
                        alloc.occupy(c, i, now)
                    continue
            for c in group:
                alloc.place(c, now)

    def _begin_care(self, child: Child, now: float, *, entering: bool) -> None:
        rec, ix = self.rec, self.ix
        rec.add(ix.lv_lac, 1, now)
        self.open_cases(ix.lv_open_lac, 1)
        if entering:
            self.entered += 1
            if now >= self.report_from_day:
                self.entered_in_window += 1
            rec.count(ix.fl_entries)
            idx = ix.fl_entries_cat.get(child.category)
            if idx is None:
                idx = ix.fl_entries_cat[child.category] = rec.flow_index("entries", child.category)
            rec.count(idx)
        care.plan_next(self, child)

    def begin_care(self, child: Child, now: float) -> None:
        """A child who entered care by no front door (a UASC) starts to be looked after."""
        self._begin_care(child, now, entering=True)

    def leave_care(self, child: Child) -> None:
        """The child stops being looked after by its planned route."""
        now = self.env.now
        rec, ix, p = self.rec, self.ix, self.p
        was_fostered = child.type >= 0 and self.alloc.category[child.type] in (
            "fostering",
            "kinship",
        )
        self.alloc.vacate(child, now)
        if self.uasc is not None and self.uasc.is_uasc(child):
            self.uasc.left(child, now)
        self.left += 1
        rec.add(ix.lv_lac, -1, now)
        self.open_cases(ix.lv_open_lac, -1)
        rec.count(ix.fl_exits)
        rec.count(ix.fl_exits_route[child.route])
        u = child.u
        age = child.age(now)
        exits = self.cfg.exits
        if child.route == "leaving_care":
            if was_fostered and u[S.STAYING_PUT] < exits.staying_put_share:
                self._for_a_while(
                    ix.lv_stay,
                    ix.lv_stay_cost,
                    exits.staying_put_weekly_gbp / 7.0,
                    (exits.staying_put_until_age_years - age) * DAYS_PER_YEAR,
                )
            elif exits.leaving_care_weekly_gbp > 0:
                self._for_a_while(
                    ix.lv_leaver,
                    ix.lv_leaver_cost,
                    exits.leaving_care_weekly_gbp / 7.0,
                    (exits.leaving_care_until_age_years - age) * DAYS_PER_YEAR,
                )
            return
        route = p.routes.get(child.route)
        if route is None:
            return
        if route.allowance_weekly_gbp > 0 and u[S.ALLOWANCE] < route.allowance_share:
            self._for_a_while(
                ix.lv_allow[child.route],
                ix.lv_allow_cost[child.route],
                route.allowance_weekly_gbp / 7.0,
                (route.allowance_until_age_years - age) * DAYS_PER_YEAR,
            )
        if route.rereferral_probability > 0:
            fam = Family(child.family.fid, [child.birth], child.family.need, u)
            pathway.close_case(
                self, fam, underserved=False, probability=route.rereferral_probability
            )

    def _for_a_while(self, lv: int, lv_cost: int, daily_gbp: float, days: float) -> None:
        """A level (and its daily cost) that lasts ``days`` from now (its end booked ahead)."""
        if days <= 0:
            return
        now = self.env.now
        rec = self.rec
        rec.add(lv, 1, now)
        rec.add(lv_cost, daily_gbp, now)
        rec.add_at(lv, -1, now + days)
        rec.add_at(lv_cost, -daily_gbp, now + days)

    # ------------------------------------------------------ initial state
    def _initial_population(self) -> None:
        cfg = self.cfg
        init = cfg.initial_population
        alloc = self.alloc
        for group in init.looked_after:
            i = alloc.index[group.placement]
            t = cfg.placement_types[group.placement]
            for _ in range(group.count):
                u = self.initial_u.row()
                age = group.min_age_years + (group.max_age_years - group.min_age_years) * u[S.AGE]
                max_days = min(group.max_days_in_care, age * DAYS_PER_YEAR)
                min_days = min(group.min_days_in_care, max_days)
                in_care = min_days + (max_days - min_days) * u[S.AGE + 1]
                need = pathway.conditional_need(self.p.care_pct, 1.0, u[S.NEED])
                fam = Family(self._next_family, [-age * DAYS_PER_YEAR], need, u)
                self._next_family += 1
                child = self.new_child(fam, -age * DAYS_PER_YEAR, u)
                child.complexity = u[S.COMPLEXITY]
                child.category = t.category
                forced = "adoption" if t.category == "adoption" else None
                alloc.occupy(child, i, 0.0)
                care.start_child(self, child, 0.0, days_in_care=in_care, route=forced)
                self.initial_in_care += 1
                self._begin_care(child, 0.0, entering=False)
        for allowance in init.allowances:
            route = cfg.exits.routes.get(allowance.route)
            if route is None:
                continue
            span = allowance.max_age_years - allowance.min_age_years
            for _ in range(allowance.count):
                u = self.initial_u.row()
                age = allowance.min_age_years + span * u[S.AGE]
                self._for_a_while(
                    self.ix.lv_allow[allowance.route],
                    self.ix.lv_allow_cost[allowance.route],
                    route.allowance_weekly_gbp / 7.0,
                    (route.allowance_until_age_years - age) * DAYS_PER_YEAR,
                )
        # Cases closed before the start that will come back: a Poisson number of re-referrals,
        # arriving after the residual delays of closures spread evenly over the past.
        if init.rereferrals_per_year > 0:
            delay = cfg.front_door.rereferral_days
            residual = equilibrium_age_sampler(delay)
            mean_pending = init.rereferrals_per_year / DAYS_PER_YEAR * delay.expected()
            count = int(stats.poisson.ppf(self.initial_u.row()[0], mean_pending))
            for _ in range(count):
                u = self.initial_u.row()
                wait = residual(u[S.REREFERRAL_DAYS])
                if wait >= self.length_days:
                    continue
                age = self._age_from_u(u[S.AGE]) + wait / DAYS_PER_YEAR
                if age >= 18:
                    continue
                # Returning families' needs spread much like all referrals' (measured in a
                # running baseline: percentiles P10 0.12, P50 0.47, P90 0.87).
                need = pathway.conditional_need(0.0, 1.0, u[S.NEED])
                fam = Family(self._next_family, [-(age * DAYS_PER_YEAR) + wait], need, u)
                self._next_family += 1
                self.env.timeout(wait).callbacks.append(partial(self._pending_rereferral, fam))
        # Assessments under way: needs above the assessment threshold, elapsed times at equilibrium.
        elapsed_as = equilibrium_age_sampler(cfg.assessment.duration_days)
        for _ in range(init.assessments):
            u = self.initial_u.row()
            age = self._age_from_u(u[S.AGE])
            need = pathway.conditional_need(self.as_threshold, 1.0, u[S.NEED])
            fam = Family(self._next_family, [-age * DAYS_PER_YEAR], need, u)
            self._next_family += 1
            pathway.resume_assessment(self, fam, elapsed_as(u[S.AGE + 1]))
        for kind, count, lo, hi, plan in (
            ("cin", init.child_in_need, self.p.cin_pct, self.p.cp_pct, cfg.child_in_need),
            ("cp", init.child_protection, self.p.cp_pct, self.p.care_pct, cfg.child_protection),
        ):
            elapsed = equilibrium_age_sampler(plan.duration_days)
            for _ in range(count):
                u = self.initial_u.row()
                age = self._age_from_u(u[S.AGE])
                fam = Family(
                    self._next_family,
                    [-age * DAYS_PER_YEAR],
                    pathway.conditional_need(lo, hi, u[S.NEED]),
                    u,
                )
                self._next_family += 1
                pathway.start_plan(self, fam, kind, elapsed_days=elapsed(u[S.AGE + 1]))

    # ---------------------------------------------------------- schedules
    def _at(self, date: dt.date, fn: Callable[[], None]) -> None:
        day = self.day_of(date)
        if 0 < day < self.length_days:
            self.env.timeout(day).callbacks.append(lambda _ev: fn())

    def _schedules(self) -> None:
        cfg = self.cfg
        alloc = self.alloc
        start = self.start_date
        for name, t in cfg.placement_types.items():
            i = alloc.index[name]
            if t.capacity is not None:
                for d, v in t.capacity.changes_after(start):
                    self._at(d, partial(self._capacity_change, i, v))
            cost = t.weekly_cost_gbp
            mult = t.cost_multiplier
            dates = set(d for d, _ in mult.changes_after(start))
            if isinstance(cost, Schedule):
                dates |= {d for d, _ in cost.changes_after(start)}
            for d in sorted(dates):
                unit = cost.value_at(d) if isinstance(cost, Schedule) else 1.0
                price = unit * mult.value_at(d)
                self._at(d, partial(self._price_change, i, price))
        fd = cfg.front_door
        for d, v in fd.early_help_above_percentile.changes_after(start):
            self._at(d, partial(setattr, self, "eh_threshold", v))
        for d, v in fd.assessment_above_percentile.changes_after(start):
            self._at(d, partial(setattr, self, "as_threshold", v))
        for d, v in cfg.edge_of_care.capacity.changes_after(start):
            self._at(d, partial(setattr, self, "edge_capacity", v))
        w = cfg.workforce
        self.rec.set(self.ix.lv_fte, self.fte, 0.0)
        self.rec.set(
            self.ix.lv_staff_cost, self.fte * w.annual_cost_per_fte_gbp / DAYS_PER_YEAR, 0.0
        )
        for d, v in w.fte.changes_after(start):
            self._at(d, partial(self._set_fte, v))
        # Fixed and one-off costs of in-house capacity follow the schedules alone: booked now.
        book_capacity_costs(self.rec, cfg)

    def _pending_rereferral(self, fam: Family, _event: Any) -> None:
        pathway.refer(self, fam, rereferral=True)

    def _capacity_change(self, i: int, capacity: float) -> None:
        self.alloc.set_capacity(i, capacity, self.env.now)

    def _price_change(self, i: int, price: float) -> None:
        self.alloc.set_price(i, price, self.env.now)

    def _month_end_event(self, edge: float, _event: Any) -> None:
        self._close_month(edge)

    def _set_fte(self, fte: float) -> None:
        now = self.env.now
        self.fte = fte
        self.rec.set(self.ix.lv_fte, fte, now)
        self.rec.set(
            self.ix.lv_staff_cost,
            fte * self.cfg.workforce.annual_cost_per_fte_gbp / DAYS_PER_YEAR,
            now,
        )

    def _month_ends(self) -> None:
        for edge in self.grid.edges_days[1:]:
            if edge < self.length_days:
                self.env.timeout(edge).callbacks.append(partial(self._month_end_event, edge))

    def _close_month(self, edge: float) -> None:
        if edge == self.report_from_day:
            self._mark_window()
        self.rec.close_month(edge)

    def _mark_window(self) -> None:
        self.in_care_at_report = round(self.rec.value[self.ix.lv_lac])

    # ----------------------------------------------------------------- run
    def run(self) -> ReplicationOutput:
        """Run the replication to the end of the horizon."""
        # Millions of records make the cyclic garbage collector rescan every
        # live object again and again; nothing here needs it during the run
        # (reference counting frees the records), so it is paused.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _run(self) -> ReplicationOutput:
        arrival_times = self._arrival_times()
        # Month ends are registered before the schedules so that, at the same
        # instant, a month closes before a change dated the 1st of the next one
        # (a capacity cut from 1 October belongs to October, not September).
        self._month_ends()
        self._schedules()
        self._initial_population()
        if self.report_from_day == 0:
            self._mark_window()
        self._drive(self._arrivals(arrival_times))
        if self.uasc is not None:
            self._drive(self.uasc.arrivals())
        self.env.run(until=self.length_days)
        # Close months not closed by an event (the last one ends at the horizon).
        while self.rec.month < self.grid.n_months:
            self.rec.close_month(self.grid.edges_days[self.rec.month + 1])
        self.alloc.check_invariants(round(self.rec.value[self.ix.lv_lac]))
        arrays = self.rec.arrays()
        present = round(self.rec.value[self.ix.lv_lac])
        if self.entered + self.initial_in_care != self.left + present:
            raise ModelError(
                f"children lost: {self.initial_in_care} initial + {self.entered} entered != "
                f"{self.left} left + {present} present"
            )
        report_from = _first_month_at_or_after(self.grid, self.report_from_day)
        moves_window = int(
            arrays.flows[report_from:, arrays.flow_names.index(("moves", "all"))].sum()
        )
        return ReplicationOutput(
            arrays=arrays,
            month_starts=self.grid.month_starts,
            report_from=report_from,
            children_in_care=max(self.in_care_at_report, 0) + self.entered_in_window,
            moves_in_window=moves_window,
            counts={
                "initial": self.initial_in_care,
                "entered": self.entered,
                "left": self.left,
                "present": present,
            },
            events=_event_count(self.env),
        )


def _financial_year_starts(start: dt.date, length_days: float) -> list[float]:
    """Simulation days of each 1 April from the one on or before ``start`` to the horizon."""
    year = start.year if start.month >= 4 else start.year - 1
    out: list[float] = []
    while True:
        day = float((dt.date(year, 4, 1) - start).days)
        if day >= length_days:
            return out
        out.append(day)
        year += 1


def _first_month_at_or_after(grid: MonthGrid, day: float) -> int:
    for m, edge in enumerate(grid.edges_days[:-1]):
        if edge >= day - 1e-9:
            return m
    return grid.n_months


def _event_count(env: simpy.Environment) -> int:
    # simpy numbers scheduled events with an itertools.count; read it without advancing twice.
    counter = getattr(env, "_eid", None)
    return int(next(counter)) if counter is not None else 0


def simulate(cfg: Config, *, seed: int, replication: int = 0) -> ReplicationOutput:
    """Run one replication of ``cfg``.

    Parameters
    ----------
    cfg
        A validated configuration.
    seed
        Root seed of the batch.
    replication
        Index of the replication; with ``seed`` it fixes every random number.

    """
    return Simulation(cfg, seed, replication).run()
