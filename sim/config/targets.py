"""Targets a scenario aims at, stated in its config (``[[targets]]``).

A target names a summary measure, a value and a direction, and optionally the
financial year by which it should be met::

    [[targets]]
    measure = "in_house_share_fostering"
    value = 0.66
    direction = "at_least"
    by = "2019-20"
    label = "66:34 in-house:agency fostering"

:func:`sim.analysis.targets.target_table` says whether and when the median
run meets each one.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sim.config.outputs import SUMMARY_MEASURES, financial_year

__all__ = ["Target"]

_FY = re.compile(r"^(\d{4})-(\d{2})$")


class Target(BaseModel):
    """A value a summary measure should reach, optionally by a financial year.

    The run's summary (``caresim run``) and its report say, for each target,
    the first financial year in which the median across replications meets
    it, or that none does, and the share of replications meeting it in the
    last year. ``measure`` names a summary measure (docs/analysis.md lists
    them); yearly measures are read per financial year, and 31 March stocks
    in the year that day closes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    measure: str = Field(
        description="Summary measure the target is on (a name from the summary table, e.g. "
        "`in_house_share_fostering`; see docs/analysis.md)."
    )
    value: float = Field(
        description="Target value, in the measure's unit (a share as a fraction: 0.66 = 66%)."
    )
    direction: Literal["at_least", "at_most"] = Field(
        default="at_least", description="Whether the measure should be at least or at most value."
    )
    by: str | None = Field(
        default=None,
        description="Financial year (`2019-20`) or ISO date (the financial year holding it) by "
        "which the target should be met; not set = by the end of the run.",
    )
    label: str = Field(default="", description="Name of the target shown in summaries.")

    @field_validator("measure")
    @classmethod
    def _known_measure(cls, v: str) -> str:
        if v not in SUMMARY_MEASURES:
            valid = ", ".join(SUMMARY_MEASURES)
            raise ValueError(f"unknown summary measure {v!r}; expected one of {valid}")
        return v

    @field_validator("by", mode="before")
    @classmethod
    def _year_or_date(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, dt.date):
            return v.isoformat()
        if not isinstance(v, str):
            raise ValueError(f"expected a financial year like '2019-20' or an ISO date, got {v!r}")
        m = _FY.match(v)
        if m:
            if int(m.group(2)) != (int(m.group(1)) + 1) % 100:
                raise ValueError(
                    f"{v!r} is not a financial year: the second part must be the year after "
                    f"the first (e.g. '{m.group(1)}-{(int(m.group(1)) + 1) % 100:02d}')"
                )
            return v
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(
                f"expected a financial year like '2019-20' or an ISO date, got {v!r}"
            ) from None
        return v

    @property
    def by_year(self) -> str | None:
        """The financial year by which the target should be met (None: the end of the run)."""
        if self.by is None or _FY.match(self.by):
            return self.by
        return financial_year(dt.date.fromisoformat(self.by))

    def describe(self) -> str:
        """The target in words: ``"in_house_share_fostering at least 0.66 by 2019-20"``."""
        words = "at least" if self.direction == "at_least" else "at most"
        text = f"{self.measure} {words} {self.value:,.4g}"
        if self.by is not None:
            text += f" by {self.by_year}"
        return f"{self.label}: {text}" if self.label else text

    def met_by(self, value: float) -> bool:
        """Whether ``value`` meets the target (NaN never does)."""
        if value != value:  # NaN
            return False
        return value >= self.value if self.direction == "at_least" else value <= self.value
