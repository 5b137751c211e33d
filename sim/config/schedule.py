"""Step-function parameters that change on given dates.

A schedule is written in TOML either as a plain number (constant)::

    capacity = 230

or as a table from ISO dates to values, the value holding from its date until
the next one (before the first date the first value holds)::

    capacity = { "2016-04-01" = 230, "2017-10-01" = 250, "2018-04-01" = 270 }
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, model_serializer, model_validator

__all__ = ["Schedule"]

# Date given to the single step of a constant: before any date a config uses.
_CONSTANT_DATE = dt.date(1900, 1, 1)


class Schedule(BaseModel):
    """A value that is constant between change dates.

    Attributes
    ----------
    steps
        ``(date, value)`` pairs sorted by date; at least one.

    Examples
    --------
    >>> s = Schedule.model_validate({"2016-04-01": 10, "2017-04-01": 12})
    >>> s.value_at(dt.date(2016, 12, 1)), s.value_at(dt.date(2017, 4, 1))
    (10.0, 12.0)

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: tuple[tuple[dt.date, float], ...]

    @model_validator(mode="before")
    @classmethod
    def _from_toml(cls, data: Any) -> Any:
        if isinstance(data, bool):
            raise ValueError("expected a number or a table of ISO date = number")
        if isinstance(data, int | float):
            return {"steps": ((_CONSTANT_DATE, float(data)),)}
        if isinstance(data, dict) and "steps" not in data:
            if not data:
                raise ValueError("a schedule table needs at least one 'YYYY-MM-DD = value' entry")
            steps = []
            for key, value in data.items():
                try:
                    day = key if isinstance(key, dt.date) else dt.date.fromisoformat(str(key))
                except ValueError:
                    raise ValueError(
                        f"schedule key {key!r} is not an ISO date (expected YYYY-MM-DD)"
                    ) from None
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"schedule value for {key} must be a number, got {value!r}")
                steps.append((day, float(value)))
            steps.sort()
            if len(steps) == 1:
                # One value is a constant whatever its date; store it as a number would be.
                steps = [(_CONSTANT_DATE, steps[0][1])]
            return {"steps": tuple(steps)}
        if not isinstance(data, dict | Schedule):
            raise ValueError("expected a number or a table of ISO date = number")
        return data

    @model_validator(mode="after")
    def _check(self) -> Schedule:
        if not self.steps:
            raise ValueError("a schedule needs at least one value")
        for _, value in self.steps:
            if not math.isfinite(value):
                raise ValueError(f"schedule values must be finite numbers, got {value}")
            if value < 0:
                raise ValueError(f"schedule values must be >= 0, got {value}")
        return self

    @property
    def is_constant(self) -> bool:
        """True when the value never changes."""
        return len({v for _, v in self.steps}) == 1

    def value_at(self, day: dt.date) -> float:
        """Value in force on ``day``."""
        dates = [d for d, _ in self.steps]
        i = bisect_right(dates, day)
        return self.steps[max(i - 1, 0)][1]

    def initial(self) -> float:
        """Value before any change date."""
        return self.steps[0][1]

    def maximum(self) -> float:
        """Largest value the schedule takes."""
        return max(v for _, v in self.steps)

    def changes_after(self, day: dt.date) -> list[tuple[dt.date, float]]:
        """Steps that take effect strictly after ``day``, in date order."""
        return [(d, v) for d, v in self.steps if d > day]

    def scaled(self, factor: float) -> Schedule:
        """Return a copy with every value multiplied by ``factor``."""
        return Schedule(steps=tuple((d, v * factor) for d, v in self.steps))

    def describe(self, fmt: Callable[[float], str] = "{:g}".format, unit: str = "") -> str:
        """Say the schedule in words, every step: ``"0 places until 2016-09-30, then 15"``.

        ``fmt`` writes one value; ``unit`` follows the first value only. A step
        that repeats the value before it is left out; a constant is its value.

        >>> s = Schedule.model_validate({"2016-04-01": 0, "2016-10-01": 15})
        >>> s.describe(unit=" places")
        '0 places until 2016-09-30, then 15'
        >>> Schedule.model_validate(0.22).describe(lambda v: f"P{100 * v:.0f}")
        'P22'
        """
        steps: list[tuple[dt.date, float]] = []
        for day, value in self.steps:
            if not steps or value != steps[-1][1]:
                steps.append((day, value))
        words = fmt(steps[0][1]) + unit
        for day, value in steps[1:]:
            until = day - dt.timedelta(days=1)
            words += f" until {until.isoformat()}, then {fmt(value)}"
        return words

    def times(self, other: Schedule) -> Schedule:
        """The product of two schedules, changing on the dates of either.

        >>> cost = Schedule.model_validate(100)
        >>> cost.times(Schedule.model_validate({"2016-04-01": 1, "2017-04-01": 0.9})).describe()
        '100 until 2017-03-31, then 90'
        """
        dates = sorted({d for d, _ in self.steps} | {d for d, _ in other.steps})
        return Schedule(steps=tuple((d, self.value_at(d) * other.value_at(d)) for d in dates))

    @model_serializer
    def _to_plain(self) -> float | dict[str, float]:
        return self.to_toml_value()

    def to_toml_value(self) -> float | dict[str, float]:
        """Inverse of parsing: a number or a ``{date: value}`` table."""
        if len(self.steps) == 1:
            return self.steps[0][1]
        return {d.isoformat(): v for d, v in self.steps}
