"""Unaccompanied asylum-seeking children (UASC): arrivals straight into care, and their grant.

UASC come through no front door: each arrives alone (a one-child family) at a
time of a Poisson process whose rate is ``uasc.arrivals_per_year``, starts to
be looked after at once, needs a placement category drawn from
``uasc.placement`` for its age at arrival, and is placed by the same
:class:`~sim.model.placements.Allocator` search as every other child (so it
competes for in-house places). It stays until its 18th birthday and leaves by
route ``leaving_care``, into the staying-put or leaving-care support of
``exits``. While it is looked after the council receives the Home Office grant
for its age band (``uasc.grant_per_day_gbp``), recorded as income, never as
negative spend.

Randomness comes from two purposes of their own (``uasc_arrivals``: the
arrival times; ``uasc``: one row of uniforms per arriving child), appended to
:data:`~sim.model.streams.PURPOSES`, and UASC children are numbered apart from
other children (from :data:`CID_BASE`), so their placement draws do not shift
anyone else's. With no arrivals nothing here is built or registered, and a run
is the same, bit for bit, as one of a config without ``[uasc]``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from sim.config.schema import ENTRY_CATEGORY_ORDER, UascConfig
from sim.model.entities import DAYS_PER_YEAR, Child, Family
from sim.model.entities import U as S
from sim.model.streams import UniformBlocks, purpose_generator

if TYPE_CHECKING:
    import simpy

    from sim.config.schedule import Schedule
    from sim.model.placements import Allocator
    from sim.model.recorder import Recorder

__all__ = ["CID_BASE", "UascContext", "UascProcess", "arrival_times"]

#: Ids of UASC children (and their one-child families) start here, far above any other
#: child's, so that a run with more UASC numbers every other child as before.
CID_BASE = 1 << 40


class UascContext(Protocol):
    """What the UASC process reads and changes of the replication it runs in."""

    @property
    def env(self) -> simpy.Environment:
        """The SimPy environment (time in days)."""

    @property
    def rec(self) -> Recorder:
        """The replication's recorder."""

    @property
    def alloc(self) -> Allocator:
        """The placement allocator."""

    start_date: dt.date
    length_days: float

    def begin_care(self, child: Child, now: float) -> None:
        """Count the child as entering care now and plan its first step."""


def arrival_times(
    schedule: Schedule, start: dt.date, length_days: float, gen: np.random.Generator
) -> np.ndarray:
    """Times (days from ``start``) of a Poisson process with a dated rate (per year).

    The rate is constant between the schedule's change dates, so unit-rate
    Poisson points (cumulated exponential gaps from ``gen``) mapped through the
    inverse of the cumulative rate are exact. The same points serve any rate:
    with a higher rate the same seed gives the same first arrivals, earlier,
    and more of them.
    """
    bounds = [0.0]
    rates = [schedule.value_at(start) / DAYS_PER_YEAR]
    for d, v in schedule.changes_after(start):
        day = float((d - start).days)
        if day >= length_days:
            break
        bounds.append(day)
        rates.append(v / DAYS_PER_YEAR)
    bounds.append(float(length_days))
    widths = np.diff(bounds)
    rate = np.asarray(rates)
    cum = np.concatenate([[0.0], np.cumsum(rate * widths)])
    total = float(cum[-1])
    points: list[np.ndarray] = []
    last = 0.0
    while last < total:
        chunk = last + np.cumsum(gen.exponential(1.0, size=max(64, int(total - last) + 16)))
        points.append(chunk)
        last = float(chunk[-1])
    pts = np.concatenate(points) if points else np.empty(0)
    pts = pts[pts < total]
    # A segment of rate 0 has the same cumulative value at both ends: side="right"
    # skips it to the next segment that has arrivals.
    k = np.minimum(np.searchsorted(cum, pts, side="right") - 1, len(rate) - 1)
    return np.asarray(bounds)[k] + (pts - cum[k]) / np.maximum(rate[k], 1e-300)


def _cumulative(bands: Sequence[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """(lo, hi, share) sorted by age -> (lo, hi, cumulative share), empty bands dropped."""
    out, acc = [], 0.0
    for lo, hi, share in sorted(bands):
        if share > 0:
            acc += share
            out.append((lo, hi, acc))
    return out


class UascProcess:
    """The arrivals, entry, exit and grant of UASC in one replication."""

    def __init__(self, sim: UascContext, cfg: UascConfig, root: np.random.SeedSequence):
        self.sim = sim
        self.cfg = cfg
        self.rng_arrivals = purpose_generator(root, "uasc_arrivals")
        self.child_u = UniformBlocks(purpose_generator(root, "uasc"), width=S.WIDTH, block=256)
        self.ages = _cumulative(
            [(b.min_age_years, b.max_age_years, b.share) for b in cfg.age_bands]
        )
        self.categories: list[tuple[float, float, list[tuple[str, float]]]] = []
        for band in cfg.placement:
            cum, acc = [], 0.0
            for cat in ENTRY_CATEGORY_ORDER:
                share = band.shares.get(cat, 0.0)
                if share > 0:
                    acc += share
                    cum.append((cat, acc))
            self.categories.append((band.min_age_years, band.max_age_years, cum))
        self.grant = [(b.min_age_years, b.max_age_years, b.gbp) for b in cfg.grant_per_day_gbp]
        rec = sim.rec
        # Registered only when UASC can arrive, after every other row.
        self.lv_lac = rec.level_index("looked_after_uasc", "all")
        self.fl_entries = rec.flow_index("entries_uasc", "all")
        self.lv_income = rec.level_index("income_rate_gbp_per_day", "uasc_grant")
        self.arrived = 0

    def is_uasc(self, child: Child) -> bool:
        """Whether ``child`` arrived as a UASC."""
        return child.cid >= CID_BASE

    # ------------------------------------------------------------ arrivals
    def arrivals(self) -> Iterator[float]:
        """Delays between arrivals; each resume is one UASC arriving (see Simulation._drive)."""
        sim = self.sim
        times = arrival_times(
            self.cfg.arrivals_per_year, sim.start_date, sim.length_days, self.rng_arrivals
        )
        last = 0.0
        for t in times.tolist():
            yield t - last
            last = t
            self.arrive(t)

    def _age(self, u: float) -> float:
        """Age at arrival (years): band by cumulative share, then uniform inside the band."""
        prev = 0.0
        for lo, hi, c in self.ages:
            if u < c:
                return lo + (hi - lo) * (u - prev) / (c - prev)
            prev = c
        return self.ages[-1][1] - 1e-6

    def _category(self, age: float, u: float) -> str:
        cum = self.categories[-1][2]
        for lo, hi, band in self.categories:
            if lo <= age < hi:
                cum = band
                break
        for cat, c in cum:
            if u < c:
                return cat
        return cum[-1][0]

    def arrive(self, now: float) -> None:
        """A UASC arrives now and starts to be looked after."""
        sim = self.sim
        k = self.arrived
        self.arrived += 1
        u = self.child_u.row()
        age = self._age(u[S.AGE])
        birth = now - age * DAYS_PER_YEAR
        fam = Family(CID_BASE + k, [birth], 0.0, u)
        child = Child(CID_BASE + k, fam, birth, u)
        child.complexity = u[S.COMPLEXITY]
        child.category = self._category(age, child.complexity)
        child.entry_day = now
        child.route = "leaving_care"
        child.exit_at = max(birth + 18 * DAYS_PER_YEAR, now)
        child.pre_exit_at = math.inf
        sim.alloc.place(child, now)
        rec = sim.rec
        rec.add(self.lv_lac, 1, now)
        rec.count(self.fl_entries)
        self._book_grant(child, now)
        sim.begin_care(child, now)

    def left(self, child: Child, now: float) -> None:
        """A UASC stops being looked after (its grant's end was booked on arrival)."""
        self.sim.rec.add(self.lv_lac, -1, now)

    # --------------------------------------------------------------- grant
    def grant_pieces(self, birth: float, start: float, end: float) -> list[tuple[float, float]]:
        """(from day, GBP a day) of the grant over a stay from ``start`` to ``end`` (days).

        The rate changes when the child enters another age band and on the
        schedules' change dates.
        """
        sim = self.sim
        day0 = sim.start_date
        pieces: list[tuple[float, float]] = []
        for lo, hi, sched in self.grant:
            a = max(start, birth + lo * DAYS_PER_YEAR)
            b = min(end, birth + hi * DAYS_PER_YEAR)
            if b <= a:
                continue
            cuts = [a]
            for d, _ in sched.changes_after(day0):
                day = float((d - day0).days)
                if a < day < b:
                    cuts.append(day)
            for t in cuts:
                date = day0 + dt.timedelta(days=math.floor(t))
                pieces.append((t, sched.value_at(date)))
        return pieces

    def _book_grant(self, child: Child, now: float) -> None:
        if not self.grant:
            return
        rec = self.sim.rec
        idx = self.lv_income
        rate = 0.0
        for t, value in self.grant_pieces(child.birth, now, child.exit_at):
            if value != rate:
                if t <= now:
                    rec.add(idx, value - rate, now)
                else:
                    rec.add_at(idx, value - rate, t)
                rate = value
        if rate:
            rec.add_at(idx, -rate, child.exit_at)
