"""Fixed and one-off costs of finite in-house capacity, booked ahead from the schedules.

A place of in-house provision costs money whether or not a child is in it (staff
rotas, buildings, registration, foster carers' fees and retainers). For each
in-house placement type with a capacity, and for the edge-of-care service, this
module books:

* a **level** ``cost_rate_gbp_per_day/<name>_fixed``: capacity ×
  ``fixed_cost_per_place_per_year_gbp`` / 365.25, in £ a day, changing on the
  dates either schedule changes (its integral over a month is the month's fixed
  spend);
* a **flow** ``cost_gbp/<name>_one_off``: on each date the capacity changes
  (the first day excluded), places added × ``opening_cost_per_place_gbp`` or
  places removed × ``closing_cost_per_place_gbp`` (negative: a saving).

Both schedules are known before the run, so every change is booked on day 0
with :meth:`Recorder.add_at` and :meth:`Recorder.count_at`: no event is needed.
The variable cost of an occupied place (``weekly_cost_gbp``, ``daily_cost_gbp``)
stays where it was, in :mod:`sim.model.placements` and the edge-of-care service.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sim.config.schedule import Schedule
from sim.model.entities import DAYS_PER_YEAR

if TYPE_CHECKING:
    from sim.config.schema import Config
    from sim.model.recorder import Recorder

__all__ = ["EDGE_OF_CARE", "book_capacity_costs", "capacity_cost_steps", "one_off_steps"]

#: Name under which the edge-of-care service's capacity costs are recorded.
EDGE_OF_CARE = "edge_of_care"


def capacity_cost_steps(
    capacity: Schedule, fixed_per_year: Schedule, start: dt.date
) -> list[tuple[dt.date, float]]:
    """The fixed cost rate (£ a day) from ``start`` and at each later change, as (date, rate).

    The first pair is ``(start, rate on start)``; a later one is given whenever
    the capacity or the fixed cost per place changes.
    """
    dates = sorted(
        {d for d, _ in capacity.changes_after(start)}
        | {d for d, _ in fixed_per_year.changes_after(start)}
    )
    return [
        (d, capacity.value_at(d) * fixed_per_year.value_at(d) / DAYS_PER_YEAR)
        for d in (start, *dates)
    ]


def one_off_steps(
    capacity: Schedule, opening: float, closing: float, start: dt.date
) -> list[tuple[dt.date, float]]:
    """One-off costs (£) on each capacity change date after ``start``, as (date, amount)."""
    out: list[tuple[dt.date, float]] = []
    before = capacity.value_at(start)
    for d, places in capacity.changes_after(start):
        change = places - before
        amount = change * opening if change > 0 else -change * closing
        if amount != 0:
            out.append((d, amount))
        before = places
    return out


def _book(
    rec: Recorder,
    name: str,
    capacity: Schedule,
    fixed: Schedule,
    opening: float,
    closing: float,
    start: dt.date,
) -> None:
    lv = rec.level_index("cost_rate_gbp_per_day", f"{name}_fixed")
    fl = rec.flow_index("cost_gbp", f"{name}_one_off")
    before = 0.0
    for d, rate in capacity_cost_steps(capacity, fixed, start):
        if rate != before:
            rec.add_at(lv, rate - before, float((d - start).days))
            before = rate
    for d, amount in one_off_steps(capacity, opening, closing, start):
        rec.count_at(fl, amount, float((d - start).days))


def book_capacity_costs(rec: Recorder, cfg: Config) -> None:
    """Register and book, on day 0, the capacity costs of every finite in-house type.

    Rows are registered for every in-house type with a capacity and for the
    edge-of-care service, whatever their costs, so that a scenario and its
    base have the same rows.
    """
    start = cfg.sim_start_date
    for name, t in cfg.placement_types.items():
        if t.capacity is None or t.provider != "in_house":
            continue
        _book(
            rec,
            name,
            t.capacity,
            t.fixed_cost_per_place_per_year_gbp,
            t.opening_cost_per_place_gbp,
            t.closing_cost_per_place_gbp,
            start,
        )
    eoc = cfg.edge_of_care
    _book(
        rec,
        EDGE_OF_CARE,
        eoc.capacity,
        eoc.fixed_cost_per_place_per_year_gbp,
        eoc.opening_cost_per_place_gbp,
        eoc.closing_cost_per_place_gbp,
        start,
    )
