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
    """

    def __init__(self, grid: MonthGrid):
        self.grid = grid
        self.month = 0
        self._level_ids: dict[tuple[str, str], int] = {}
        self._flow_ids: dict[tuple[str, str], int] = {}
        self.value: list[float] = []
        self._last: list[float] = []
        self._acc: list[float] = []
        self._flow_acc: list[float] = []
        self._integrals: list[list[float]] = []
        self._ends: list[list[float]] = []
        self._flows: list[list[float]] = []

    # -- registration -----------------------------------------------------------
    def level_index(self, measure: str, category: str) -> int:
        """Index of a level measure, registering it (at 0) on first use."""
        key = (measure, category)
        idx = self._level_ids.get(key)
        if idx is None:
            idx = self._level_ids[key] = len(self.value)
            self.value.append(0.0)
            self._last.append(0.0)
            self._acc.append(0.0)
        return idx

    def flow_index(self, measure: str, category: str) -> int:
        """Index of a flow measure, registering it on first use."""
        key = (measure, category)
        idx = self._flow_ids.get(key)
        if idx is None:
            idx = self._flow_ids[key] = len(self._flow_acc)
            self._flow_acc.append(0.0)
        return idx

    # -- hot path -------------------------------------------------------------------
    def add(self, idx: int, delta: float, now: float) -> None:
        """Change level ``idx`` by ``delta`` at time ``now`` (days)."""
        self._acc[idx] += self.value[idx] * (now - self._last[idx])
        self._last[idx] = now
        self.value[idx] += delta

    def set(self, idx: int, value: float, now: float) -> None:
        """Set level ``idx`` to ``value`` at time ``now`` (days)."""
        self.add(idx, value - self.value[idx], now)

    def count(self, idx: int, amount: float = 1.0) -> None:
        """Add ``amount`` to flow ``idx`` in the current month."""
        self._flow_acc[idx] += amount

    # -- month ends -------------------------------------------------------------------
    def close_month(self, edge: float) -> None:
        """Finish the current month at time ``edge`` (days) and start the next."""
        value, last, acc = self.value, self._last, self._acc
        integ = []
        for i in range(len(value)):
            integ.append(acc[i] + value[i] * (edge - last[i]))
            last[i] = edge
            acc[i] = 0.0
        self._integrals.append(integ)
        self._ends.append(list(value))
        self._flows.append(self._flow_acc)
        self._flow_acc = [0.0] * len(self._flow_acc)
        self.month += 1

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
