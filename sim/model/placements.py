"""Placement supply: finite in-house capacity, external overflow, moves.

Capacity is a pair of counters per placement type (occupied, capacity), not a
SimPy ``Resource``: placement is immediate (a child never queues without a
roof), and a counter is O(1) where ``Resource.release`` scans its users.
Occupants are kept per type in insertion-ordered dicts so that the
longest-placed child, or the most recently placed one, is found in O(1).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sim.config.schedule import Schedule
from sim.model.entities import DAYS_PER_YEAR, Child

if TYPE_CHECKING:
    from sim.config.schema import Config
    from sim.model.recorder import Recorder

__all__ = ["MOVE_REASONS", "Allocator", "ModelError"]

#: Why a child changes placement.
MOVE_REASONS: tuple[str, ...] = (
    "breakdown",
    "step_down",
    "pre_exit",
    "waiting_list",
    "bring_back",
    "capacity_reduced",
)

_SCAN_LIMIT = 64  # how far to look down a queue for an eligible child
_MASK64 = (1 << 64) - 1
_TWO_POW_MINUS_53 = 2.0**-53


def _splitmix64(x: int) -> int:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014): a well-mixed 64-bit hash of ``x``."""
    z = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _needed_categories(cfg: Config) -> set[str]:
    out: set[str] = set()
    for band in cfg.placement_policy.entry:
        out.update(band.shares)
    out.update(s.to_category for s in cfg.placement_policy.step_downs)
    return out


class ModelError(RuntimeError):
    """The model reached a state its config does not allow for."""


class Allocator:
    """Assigns children to placement types and keeps occupancy within capacity.

    Parameters
    ----------
    cfg
        The configuration (placement types and policy).
    rec
        The recorder its occupancy, capacity, cost and move rows go to.
    fy_starts
        Simulation days of each 1 April (placements per financial year).
    key
        The replication's key of per-child placement draws.
    wake
        Called with a child that it moved on someone else's behalf, to replan it.

    """

    def __init__(
        self,
        cfg: Config,
        rec: Recorder,
        fy_starts: Sequence[float],
        *,
        key: int,
        wake: Callable[[Child], None],
    ):
        self.rec = rec
        self.wake = wake
        self.names = list(cfg.placement_types)
        types = [cfg.placement_types[n] for n in self.names]
        idx = {n: i for i, n in enumerate(self.names)}
        self.index = idx
        self.category = [t.category for t in types]
        self.in_house = [t.provider == "in_house" for t in types]
        self.min_age = [t.min_age_years for t in types]
        self.max_age = [t.max_age_years for t in types]
        self.min_cx = [t.min_complexity for t in types]
        self.max_cx = [t.max_complexity for t in types]
        self.breakdown_per_day = [t.breakdown_per_year / DAYS_PER_YEAR for t in types]
        start = cfg.sim_start_date
        self.cap: list[float] = [
            math.inf if t.capacity is None else t.capacity.value_at(start) for t in types
        ]
        self.occ = [0] * len(types)
        self.occupants: list[dict[Child, None]] = [{} for _ in types]
        self.sum_base = [0.0] * len(types)
        self.cost_dist = [
            None if isinstance(t.weekly_cost_gbp, Schedule) else t.weekly_cost_gbp for t in types
        ]
        self.price = [0.0] * len(types)
        for i, t in enumerate(types):
            unit = (
                t.weekly_cost_gbp.value_at(start)
                if isinstance(t.weekly_cost_gbp, Schedule)
                else 1.0
            )
            self.price[i] = unit * t.cost_multiplier.value_at(start)
        self.order: dict[str, tuple[int, ...]] = {}
        for cat in {*self.category, *_needed_categories(cfg)}:
            self.order[cat] = tuple(idx[n] for n in cfg.types_for(cat))
        self.fallback = (
            -1 if cfg.placement_policy.fallback is None else idx[cfg.placement_policy.fallback]
        )
        self.waiting_list = cfg.placement_policy.waiting_list
        self.bring_back = cfg.placement_policy.bring_back_in_house
        self.teen_mult = cfg.placement_policy.teen_breakdown_multiplier
        # One insertion-ordered entry per waiting child (first come, first served);
        # a child leaves its queue when it leaves the fallback placement.
        self.queues: dict[str, dict[Child, None]] = {c: {} for c in self.order}
        self.step_rules: dict[str, list[tuple[float, object, float | None, str]]] = {}
        for rule in cfg.placement_policy.step_downs:
            self.step_rules.setdefault(rule.from_category, []).append(
                (rule.probability, rule.after_days, rule.at_age_years, rule.to_category)
            )
        # Recorder measures.
        self.lv_occ = [self.rec.level_index("looked_after", n) for n in self.names]
        self.lv_cap = [
            self.rec.level_index("capacity", n) if t.capacity is not None else -1
            for n, t in zip(self.names, types, strict=True)
        ]
        self.lv_cost = [self.rec.level_index("cost_rate_gbp_per_day", n) for n in self.names]
        # Registered up front so that every replication has the same rows.
        self.fl_move: dict[str, int] = {
            reason: self.rec.flow_index("moves", reason) for reason in MOVE_REASONS
        }
        self.fl_move_all = self.rec.flow_index("moves", "all")
        self.lv_waiting = self.rec.level_index("waiting", "all")
        self.fl_3plus = self.rec.flow_index("children_3plus_placements", "all")
        self.fy_starts = fy_starts
        for i, c in enumerate(self.cap):
            if self.lv_cap[i] >= 0:
                self.rec.set(self.lv_cap[i], c, 0.0)
        # Per-child draws (stay costs, breakdowns, step-downs) come from a counter-based
        # hash of (replication key, child, draw number), not a shared sequential stream:
        # a scenario that moves one child differently leaves every other child's draws
        # unchanged, so common random numbers hold in placements too.
        self._key = key

    def _draw(self, child: Child) -> float:
        """The child's next uniform in (0, 1), from a SplitMix64 hash of its identity."""
        child.draws += 1
        z = _splitmix64(_splitmix64(self._key ^ child.cid) ^ child.draws)
        return ((z >> 11) + 0.5) * _TWO_POW_MINUS_53

    # ------------------------------------------------------------------ queries
    def eligible(self, i: int, child: Child, now: float) -> bool:
        """Whether type ``i`` accepts ``child`` at ``now`` (age and complexity)."""
        age = (now - child.birth) / DAYS_PER_YEAR
        return (
            self.min_age[i] <= age < self.max_age[i]
            and self.min_cx[i] <= child.complexity <= self.max_cx[i]
        )

    def free(self, i: int) -> float:
        """Free places in type ``i`` (inf when unlimited)."""
        return self.cap[i] - self.occ[i]

    def choose(self, child: Child, category: str, now: float, room: int = 1) -> int:
        """First type of the category with ``room`` free places that accepts the child, or -1."""
        for i in self.order.get(category, ()):
            if self.occ[i] + room <= self.cap[i] and self.eligible(i, child, now):
                return i
        return -1

    # ------------------------------------------------------------------ changes
    def place(self, child: Child, now: float, *, reason: str | None = None) -> None:
        """Place ``child`` in its needed category (a move when ``reason`` is given)."""
        i = self.choose(child, child.category, now)
        waiting = False
        if i < 0:
            if self.fallback >= 0:
                i = self.fallback
                waiting = self.waiting_list
            else:
                i = self._last_resort(child)
        old = child.type
        if old >= 0:
            self.vacate(child, now, refill=False)
        self.occupy(child, i, now)
        if waiting:
            child.waiting = True
            self.queues.setdefault(child.category, {})[child] = None
            self.rec.add(self.lv_waiting, 1, now)
        if reason is not None:
            self.count_move(child, reason)
        if old >= 0:
            # The place just left is offered to others, never straight back to this child.
            self.refill(old, now, exclude=child)

    def _last_resort(self, child: Child) -> int:
        """An unlimited type of the category, ignoring age and complexity limits."""
        for i in self.order.get(child.category, ()):
            if self.cap[i] == math.inf:
                return i
        raise ModelError(
            f"no placement for a child needing {child.category!r}: every type is full or "
            "ineligible and placement_policy.fallback is not set"
        )

    def count_move(self, child: Child, reason: str) -> None:
        """Record one placement move."""
        child.moves += 1
        idx = self.fl_move.get(reason)
        if idx is None:
            idx = self.fl_move[reason] = self.rec.flow_index("moves", reason)
        self.rec.count(idx)
        self.rec.count(self.fl_move_all)

    def occupy(self, child: Child, i: int, now: float) -> None:
        """Put ``child`` in type ``i`` and plan its breakdown and step-down times."""
        rec = self.rec
        self.occ[i] += 1
        self.occupants[i][child] = None
        child.type = i
        # Placement stability: placements per child per financial year (DfE counts the
        # placement held on 1 April as the first of the year).
        fy = bisect_right(self.fy_starts, now) - 1
        if fy != child.fy:
            child.fy = fy
            child.fy_placements = 1 if child.entry_day < self.fy_starts[max(fy, 0)] else 0
        child.fy_placements += 1
        if child.fy_placements == 3:
            rec.count(self.fl_3plus)
        rec.add(self.lv_occ[i], 1, now)
        dist = self.cost_dist[i]
        base = 1.0 if dist is None else dist.ppf(self._draw(child))
        child.base_cost = base
        self.sum_base[i] += base
        rec.set(self.lv_cost[i], self.price[i] * self.sum_base[i] / 7.0, now)
        # Breakdown: exponential hazard, higher for teenagers.
        rate = self.breakdown_per_day[i]
        if rate > 0:
            if (now - child.birth) >= 13 * DAYS_PER_YEAR:
                rate *= self.teen_mult
            child.break_at = now - math.log1p(-self._draw(child)) / rate
        else:
            child.break_at = math.inf
        # Step-down: the earliest rule that applies to this placement's category.
        child.step_at = math.inf
        child.step_to = ""
        for prob, after, at_age, to_cat in self.step_rules.get(self.category[i], ()):
            if self._draw(child) >= prob:
                continue
            if after is not None:
                t = now + after.ppf(self._draw(child))  # type: ignore[attr-defined]
            else:
                t = child.birth + at_age * DAYS_PER_YEAR  # type: ignore[operator]
                if t <= now:
                    continue
            if t < child.step_at:
                child.step_at, child.step_to = t, to_cat

    def vacate(self, child: Child, now: float, *, refill: bool = True) -> None:
        """Take ``child`` out of its placement; offer the freed place to others."""
        i = child.type
        if i < 0:
            return
        rec = self.rec
        self.occ[i] -= 1
        del self.occupants[i][child]
        child.type = -1
        rec.add(self.lv_occ[i], -1, now)
        self.sum_base[i] -= child.base_cost
        if self.occ[i] == 0:
            self.sum_base[i] = 0.0  # no drift from float round-off
        rec.set(self.lv_cost[i], self.price[i] * self.sum_base[i] / 7.0, now)
        if child.waiting:
            child.waiting = False
            for queue in self.queues.values():
                queue.pop(child, None)
            rec.add(self.lv_waiting, -1, now)
        if refill:
            self.refill(i, now)

    def refill(self, i: int, now: float, exclude: Child | None = None) -> None:
        """Offer free places of type ``i`` to waiting children, else bring one back in-house.

        ``exclude`` is a child that has just left type ``i`` and must not be moved back.
        """
        while self.occ[i] < self.cap[i]:
            mover = self._waiting_for(i, now, exclude)
            reason = "waiting_list"
            if mover is None and self.bring_back and self.in_house[i]:
                mover = self._external_for(i, now, exclude)
                reason = "bring_back"
            if mover is None:
                return
            self.move_into(mover, i, now, reason)

    def _waiting_for(self, i: int, now: float, exclude: Child | None = None) -> Child | None:
        cat = self.category[i]
        queue = self.queues.get(cat)
        if not queue:
            return None
        for n, child in enumerate(queue):
            if n >= _SCAN_LIMIT:
                break
            if child is not exclude and child.category == cat and self.eligible(i, child, now):
                return child  # leaves the queue in vacate() as it moves
        return None

    def _external_for(self, i: int, now: float, exclude: Child | None = None) -> Child | None:
        cat = self.category[i]
        for j in self.order.get(cat, ()):
            if self.in_house[j]:
                continue
            for n, child in enumerate(self.occupants[j]):
                if n >= _SCAN_LIMIT:
                    break
                if child is not exclude and child.category == cat and self.eligible(i, child, now):
                    return child
        return None

    def move_into(self, child: Child, i: int, now: float, reason: str) -> None:
        """Move ``child`` into type ``i`` now (a counted move) and wake its process."""
        old = child.type
        self.vacate(child, now, refill=False)
        self.occupy(child, i, now)
        self.count_move(child, reason)
        self.wake(child)
        if old >= 0:
            self.refill(old, now, exclude=child)

    def set_capacity(self, i: int, capacity: float, now: float) -> None:
        """Change the capacity of type ``i``; children above a reduced capacity move out."""
        self.cap[i] = capacity
        if self.lv_cap[i] >= 0:
            self.rec.set(self.lv_cap[i], capacity, now)
        excess = self.occ[i] - capacity
        while excess > 0:
            # The most recently placed child leaves first (least disruption to settled children).
            child = next(reversed(self.occupants[i]))
            self.place(child, now, reason="capacity_reduced")
            self.wake(child)
            excess -= 1
        self.refill(i, now)

    def set_price(self, i: int, price: float, now: float) -> None:
        """Change the unit price (weekly cost × multiplier) of type ``i``."""
        self.price[i] = price
        self.rec.set(self.lv_cost[i], price * self.sum_base[i] / 7.0, now)

    def check_invariants(self, in_care: int) -> None:
        """Raise if occupancy exceeds capacity or counters disagree with occupants.

        Also checks that every child looked after is in exactly one placement:
        the sum of occupancies equals ``in_care``, the looked-after count.
        """
        if sum(self.occ) != in_care:
            raise ModelError(f"{sum(self.occ)} children in placements but {in_care} looked after")
        seen: set[int] = set()
        for occupants in self.occupants:
            for child in occupants:
                if child.cid in seen:
                    raise ModelError(f"child {child.cid} is in two placements")
                seen.add(child.cid)
        for i, name in enumerate(self.names):
            if self.occ[i] > self.cap[i]:
                raise ModelError(f"{name}: occupancy {self.occ[i]} exceeds capacity {self.cap[i]}")
            if self.occ[i] != len(self.occupants[i]):
                raise ModelError(f"{name}: occupancy counter disagrees with occupants")
            if self.sum_base[i] < -1e-6:
                raise ModelError(f"{name}: negative cost base")
