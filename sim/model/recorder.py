"""Event-driven accumulation of monthly measures, with no polling of children.

Two kinds of measure:

* **levels** (children in a state, cost rates in £/day, FTE): the model calls
  :meth:`Recorder.add` whenever a level changes; the recorder integrates the
  level over time into the current calendar month and snapshots it at each
  month end. A month's integral divided by its length is the time-weighted
  mean; the integral of a cost rate is the money spent.
* **flows** (referrals, entries, exits, moves, one-off costs): counted into the
  current month by :meth:`Recorder.count`.

Each update is O(1); closing a month is O(number of measures).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

__all__ = ["MonthGrid", "Recorder", "RecorderArrays"]


@dataclass(frozen=True)
class MonthGrid:
    """Calendar months covering a simulation, in simulation days.

    Attributes
    ----------
    month_starts
        First day of each month (calendar dates), the last entry being the
        first day after the simulation.
    edges_days
        The same instants in simulation days (day 0 = ``sim_start``); the first
        edge is 0 even when ``sim_start`` is mid-month.

    """

    month_starts: tuple[dt.date, ...]
    edges_days: tuple[float, ...]

    @classmethod
    def build(cls, sim_start: dt.date, length_days: float) -> MonthGrid:
        """Grid of the calendar months from ``sim_start`` for ``length_days``."""
        end = sim_start + dt.timedelta(days=length_days)
        starts = [dt.date(sim_start.year, sim_start.month, 1)]
        while starts[-1] < end:
            y, m = starts[-1].year, starts[-1].month
            starts.append(dt.date(y + (m == 12), m % 12 + 1, 1))
        edges = [max(0.0, float((d - sim_start).days)) for d in starts]
        edges[-1] = min(edges[-1], float(length_days))
        return cls(tuple(starts), tuple(edges))

    @property
    def n_months(self) -> int:
        """Number of (possibly partial) months."""
        return len(self.month_starts) - 1


@dataclass
class RecorderArrays:
    """What a recorder holds at the end of a run (plain numpy arrays).

    Attributes
    ----------
    level_names, flow_names
        ``(measure, category)`` pairs naming the columns.
    level_integral
        ``[month, level]``: integral of the level over the month (level × days).
    level_end
        ``[month, level]``: the level at the end of the month.
    flows
        ``[month, flow]``: total of the flow in the month.
    month_days
        Length of each month inside the simulation (days).

    """

    level_names: list[tuple[str, str]]
    flow_names: list[tuple[str, str]]
    level_integral: np.ndarray
    level_end: np.ndarray
    flows: np.ndarray
    month_days: np.ndarray


class Recorder:
    """Collects levels and flows by calendar month.

    Measures are registered before the run (:meth:`level_index`,
    :meth:`flow_index`) and then updated by integer index, which keeps the
    hot path free of dictionary look-ups.

    A level's monthly integral is kept in a form that does not depend on the
    order of its changes: the integral over a month is the level at the start
    of the month times the month's length, plus, for each change inside the
    month, the change times the time from it to the month's end. So a change
    can be booked ahead of time (:meth:`add_at`, :meth:`count_at`): a step
    whose end is already known (an assessment, a plan, an allowance) needs no
    event at its end.
    """

    def __init__(self, grid: MonthGrid):
        self.grid = grid
        self.month = 0
        self._edges = grid.edges_days
        self._edge = self._edges[1] if len(self._edges) > 1 else 0.0  # end of this month
        self._horizon = self._edges[-1]
        self._level_ids: dict[tuple[str, str], int] = {}
        self._flow_ids: dict[tuple[str, str], int] = {}
        #: Level now, for levels changed only by :meth:`add`/:meth:`set`; levels booked
        #: ahead with :meth:`add_at` are exact here only at month ends.
        self.value: list[float] = []
        self._start: list[float] = []  # level at the start of this month
        self._acc: list[float] = []  # sum of change x (month end - time of change)
        self._delta: list[float] = []  # sum of changes this month
        self._flow_acc: list[float] = []
        # Changes booked for later months: month -> [(index, change x time to month end,
        # change)], and month -> [(flow index, amount)].
        self._later: dict[int, list[tuple[int, float, float]]] = {}
        self._later_flow: dict[int, list[tuple[int, float]]] = {}
        self._integrals: list[list[float]] = []
        self._ends: list[list[float]] = []
        self._flows: list[list[float]] = []
        self._sums: list[tuple[int, tuple[int, ...]]] = []

    # -- registration -----------------------------------------------------------
    def level_index(self, measure: str, category: str) -> int:
        """Index of a level measure, registering it (at 0) on first use."""
        key = (measure, category)
        idx = self._level_ids.get(key)
        if idx is None:
            idx = self._level_ids[key] = len(self.value)
            self.value.append(0.0)
            self._start.append(0.0)
            self._acc.append(0.0)
            self._delta.append(0.0)
        return idx

    def flow_index(self, measure: str, category: str) -> int:
        """Index of a flow measure, registering it on first use."""
        key = (measure, category)
        idx = self._flow_ids.get(key)
        if idx is None:
            idx = self._flow_ids[key] = len(self._flow_acc)
            self._flow_acc.append(0.0)
        return idx

    def sum_index(self, measure: str, category: str, parts: tuple[int, ...]) -> int:
        """Register a level that is the sum of levels ``parts``, computed at month ends.

        Its monthly integral and end value are the sums of its parts'; it is never
        updated during the run (its :attr:`value` stays 0), which saves an update
        on every change of a part. Callers that need the running total keep it.
        """
        idx = self.level_index(measure, category)
        self._sums.append((idx, tuple(parts)))
        return idx

    # -- hot path -------------------------------------------------------------------
    def add(self, idx: int, delta: float, now: float) -> None:
        """Change level ``idx`` by ``delta`` at time ``now`` (days, the current time)."""
        self._acc[idx] += delta * (self._edge - now)
        self._delta[idx] += delta
        self.value[idx] += delta

    def set(self, idx: int, value: float, now: float) -> None:
        """Set level ``idx`` to ``value`` at time ``now`` (days)."""
        self.add(idx, value - self.value[idx], now)

    def count(self, idx: int, amount: float = 1.0) -> None:
        """Add ``amount`` to flow ``idx`` in the current month."""
        self._flow_acc[idx] += amount

    def add_at(self, idx: int, delta: float, at: float) -> None:
        """Book a change of level ``idx`` by ``delta`` at a time ``at`` (days, now or later).

        Changes at or after the horizon are dropped. :attr:`value` is not
        updated (see there).
        """
        if at < self._edge:
            self._acc[idx] += delta * (self._edge - at)
            self._delta[idx] += delta
            return
        if at >= self._horizon:
            return
        m = bisect_right(self._edges, at) - 1
        booked = self._later.get(m)
        if booked is None:
            booked = self._later[m] = []
        booked.append((idx, delta * (self._edges[m + 1] - at), delta))

    def count_at(self, idx: int, amount: float, at: float) -> None:
        """Book ``amount`` of flow ``idx`` at a time ``at`` (days, now or later)."""
        if at < self._edge:
            self._flow_acc[idx] += amount
            return
        if at >= self._horizon:
            return
        m = bisect_right(self._edges, at) - 1
        booked = self._later_flow.get(m)
        if booked is None:
            booked = self._later_flow[m] = []
        booked.append((idx, amount))

    # -- month ends -------------------------------------------------------------------
    def close_month(self, edge: float) -> None:
        """Finish the current month at time ``edge`` (days) and start the next."""
        length = edge - self._edges[self.month]
        short = self._edge - edge  # > 0 only if the month is cut short of its grid edge
        start, acc, delta, value = self._start, self._acc, self._delta, self.value
        integ = []
        ends = []
        for i in range(len(start)):
            integ.append(start[i] * length + acc[i] - delta[i] * short)
            end = start[i] + delta[i]
            ends.append(end)
            start[i] = end
            value[i] = end
            acc[i] = 0.0
            delta[i] = 0.0
        for idx, parts in self._sums:
            integ[idx] = sum(integ[j] for j in parts)
            ends[idx] = sum(ends[j] for j in parts)
        self._integrals.append(integ)
        self._ends.append(ends)
        self._flows.append(self._flow_acc)
        self._flow_acc = [0.0] * len(self._flow_acc)
        self.month += 1
        m = self.month
        self._edge = self._edges[m + 1] if m + 1 < len(self._edges) else self._horizon
        for idx, weighted, change in self._later.pop(m, ()):
            acc[idx] += weighted
            delta[idx] += change
        flow_acc = self._flow_acc
        for idx, amount in self._later_flow.pop(m, ()):
            flow_acc[idx] += amount

    def arrays(self) -> RecorderArrays:
        """Freeze what was recorded into arrays (call after the last month closed)."""
        n_levels, n_flows = len(self.value), len(self._flow_acc)

        def pad(rows: list[list[float]], width: int) -> np.ndarray:
            out = np.zeros((len(rows), width))
            for i, row in enumerate(rows):
                out[i, : len(row)] = row
            return out

        edges = np.asarray(self.grid.edges_days)
        return RecorderArrays(
            level_names=list(self._level_ids),
            flow_names=list(self._flow_ids),
            level_integral=pad(self._integrals, n_levels),
            level_end=pad(self._ends, n_levels),
            flows=pad(self._flows, n_flows),
            month_days=np.diff(edges)[: len(self._integrals)],
        )
