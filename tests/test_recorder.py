"""The recorder: monthly integrals and ends of levels, flows, and changes booked ahead."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.recorder import MonthGrid, Recorder

START = dt.date(2020, 4, 1)
DAYS = 365.0  # April 2020 to March 2021: twelve months


def _grid() -> MonthGrid:
    return MonthGrid.build(START, DAYS)


def _replay_in_time_order(changes: list[tuple[float, float]]) -> Recorder:
    """Apply each change at its own time, closing months as time passes (as events would)."""
    grid = _grid()
    rec = Recorder(grid)
    lv = rec.level_index("x", "all")
    fl = rec.flow_index("n", "all")
    edges = grid.edges_days
    for t, delta in sorted(changes):
        while rec.month < grid.n_months and t >= edges[rec.month + 1]:
            rec.close_month(edges[rec.month + 1])
        rec.add(lv, delta, t)
        rec.count(fl, 1.0)
    while rec.month < grid.n_months:
        rec.close_month(edges[rec.month + 1])
    return rec


def _book_at_start(changes: list[tuple[float, float]]) -> Recorder:
    """Book every change at time 0, in the given (unsorted) order."""
    grid = _grid()
    rec = Recorder(grid)
    lv = rec.level_index("x", "all")
    fl = rec.flow_index("n", "all")
    for t, delta in changes:
        rec.add_at(lv, delta, t)
        rec.count_at(fl, 1.0, t)
    edges = grid.edges_days
    while rec.month < grid.n_months:
        rec.close_month(edges[rec.month + 1])
    return rec


def test_a_level_integrates_to_level_times_days_in_each_month():
    rec = Recorder(_grid())
    lv = rec.level_index("x", "all")
    rec.add(lv, 2.0, 0.0)
    rec.add(lv, 1.0, 15.0)  # 3 from 15 April
    for edge in rec.grid.edges_days[1:]:
        rec.close_month(edge)
    arr = rec.arrays()
    assert arr.level_integral[0, lv] == 2.0 * 15 + 3.0 * 15  # April has 30 days
    assert arr.level_end[0, lv] == 3.0
    assert arr.level_integral[1, lv] == 3.0 * 31  # May
    np.testing.assert_allclose(arr.level_integral[:, lv] / arr.month_days, [2.5] + [3.0] * 11)


def test_a_change_booked_for_a_later_month_lands_in_that_month():
    rec = Recorder(_grid())
    lv = rec.level_index("x", "all")
    fl = rec.flow_index("n", "all")
    rec.add(lv, 1.0, 0.0)
    rec.add_at(lv, -1.0, 40.0)  # 10 May
    rec.count_at(fl, 5.0, 40.0)
    rec.add_at(lv, 7.0, DAYS + 10)  # after the horizon: dropped
    rec.count_at(fl, 9.0, DAYS)
    for edge in rec.grid.edges_days[1:]:
        rec.close_month(edge)
    arr = rec.arrays()
    assert list(arr.flows[:, fl]) == [0.0, 5.0] + [0.0] * 10
    assert arr.level_end[0, lv] == 1.0
    assert arr.level_end[1, lv] == 0.0
    assert arr.level_integral[1, lv] == 10.0  # 1 May to 10 May
    assert arr.level_end[-1, lv] == 0.0


def test_a_sum_level_is_the_sum_of_its_parts():
    rec = Recorder(_grid())
    a = rec.level_index("open", "a")
    b = rec.level_index("open", "b")
    total = rec.sum_index("open", "all", (a, b))
    rec.add(a, 3.0, 0.0)
    rec.add_at(b, 2.0, 45.0)
    rec.add_at(a, -1.0, 100.0)
    for edge in rec.grid.edges_days[1:]:
        rec.close_month(edge)
    arr = rec.arrays()
    np.testing.assert_allclose(
        arr.level_integral[:, total], arr.level_integral[:, a] + arr.level_integral[:, b]
    )
    np.testing.assert_allclose(arr.level_end[:, total], arr.level_end[:, a] + arr.level_end[:, b])
    assert arr.level_end[-1, total] == 4.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=DAYS + 30, allow_nan=False),
            st.floats(min_value=-5.0, max_value=5.0, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_booking_ahead_gives_what_events_at_those_times_would(changes):
    inside = [(t, d) for t, d in changes if t < DAYS]
    events = _replay_in_time_order(inside).arrays()
    booked = _book_at_start(changes).arrays()
    np.testing.assert_allclose(booked.level_integral, events.level_integral, atol=1e-6)
    np.testing.assert_allclose(booked.level_end, events.level_end, atol=1e-9)
    np.testing.assert_array_equal(booked.flows, events.flows)
