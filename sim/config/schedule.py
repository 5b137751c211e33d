"""Step-function parameters that change on given dates.

A schedule is written in TOML either as a plain number (constant)::

    capacity = 230

or as a table from ISO dates to values, the value holding from its date until
the next one (before the first date the first value holds)::

    capacity = { "2016-04-01" = 230, "2017-10-01" = 250, "2018-04-01" = 270 }

:func:`is_schedule` tells whether a table in a config is such a schedule; the
loader (merging ``extends`` chains), the key checks of the analyses and the
calibrated-config writer all use it.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import types
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_serializer, model_validator

__all__ = ["Schedule", "is_schedule"]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

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
            return {"steps": ((_CONSTANT_DATE, _as_float(data)),)}
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
                steps.append((day, _as_float(value)))
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


def _as_float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"schedule value {value} is too large for a number") from None


def is_schedule(value: Any, path: Sequence[str | int] | None = None) -> bool:
    """Whether ``value``, at ``path`` in a config, is a schedule written as a dated table.

    ``path`` holds table names, keys and array indices, from the top of the config.

    Where the schema (:class:`sim.config.schema.Config`) types the key at
    ``path`` (e.g. ``("placement_types", "foster_in_house", "capacity")``), it
    decides: a table is a schedule if the key takes only a :class:`Schedule`
    or a number; where the key also takes another table (a distribution, as
    ``weekly_cost_gbp`` does), if the table's keys are ISO dates (YYYY-MM-DD).
    For keys the schema does not know, or without ``path``, a table is taken
    for a schedule when it has entries and all its keys are ISO dates.

    >>> is_schedule({"2016-04-01": 230, "2017-04-01": 270})
    True
    >>> is_schedule({"2016-4-1": 230}, ("workforce", "fte"))
    True
    >>> is_schedule({"fostering": 0.7}, ("placement_policy", "entry", 0, "shares"))
    False
    """
    if not isinstance(value, Mapping):
        return False
    field = _field_type(tuple(path)) if path else None
    if field is None:
        return _dated(value)
    members = _members(field)
    if Schedule not in members:
        return False
    other_tables = any(
        m is not Schedule
        and ((isinstance(m, type) and issubclass(m, BaseModel)) or get_origin(m) in (dict, Mapping))
        for m in members
    )
    return _dated(value) if other_tables else True


def _dated(value: Mapping[Any, Any]) -> bool:
    """Whether a table has entries and all its keys are ISO dates."""
    return bool(value) and all(
        isinstance(k, dt.date) or (isinstance(k, str) and _ISO_DATE.fullmatch(k)) for k in value
    )


def _members(tp: Any) -> list[Any]:
    """The types a field annotation allows: unions and ``Annotated`` unwrapped."""
    if get_origin(tp) is Annotated:
        return _members(get_args(tp)[0])
    if get_origin(tp) in (Union, types.UnionType):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


@functools.cache
def _field_type(path: tuple[str | int, ...]) -> Any | None:
    """Annotation of the config key at ``path``; None where the schema does not say."""
    from sim.config.schema import Config  # the schema imports this module

    tp: Any = Config
    for part in path:
        tp = _child_type(tp, part)
        if tp is None or tp is Any:
            return None
    return tp


def _child_type(tp: Any, part: str | int) -> Any | None:
    for member in _members(tp):
        origin = get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel) and member is not Schedule:
            field = member.model_fields.get(part) if isinstance(part, str) else None
            if field is not None:
                return field.annotation
        elif origin in (dict, Mapping) and isinstance(part, str):
            return get_args(member)[1]
        elif origin in (list, tuple, Sequence) and isinstance(part, int):
            return get_args(member)[0]
    return None
