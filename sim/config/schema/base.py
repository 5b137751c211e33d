"""Shared pieces of the config schema, and the run's period (``[run]``).

The base model, the category and route names, and the share and band checks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from sim.config.strict import check_numbers

Category = Literal[
    "placed_with_parents",
    "kinship",
    "parent_and_child",
    "fostering",
    "supported",
    "residential",
    "secure",
    "adoption",
    "emergency",
]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]

#: Categories a child can need on entry, from least to most complex. A child's
#: complexity draw picks along this order by the cumulative shares.
ENTRY_CATEGORY_ORDER: tuple[str, ...] = (
    "placed_with_parents",
    "kinship",
    "parent_and_child",
    "fostering",
    "supported",
    "residential",
    "secure",
)

ExitRouteName = Literal[
    "return_home",
    "adoption",
    "special_guardianship",
    "child_arrangements",
    "other",
    "leaving_care",
]
EXIT_ROUTES: tuple[str, ...] = ExitRouteName.__args__  # type: ignore[attr-defined]

MAX_AGE_YEARS = 18.0
_SHARE_TOL = 1e-6

# Plausible bounds: limits no real council reaches, which keep every run finite and
# quick (a value beyond them is a typing slip, not a scenario).
MAX_COUNT = 1_000_000  # children, cases, places: England has ~400k children in need, 83k in care
MAX_RATE_PER_YEAR = 2_000_000.0  # referrals, arrivals, re-referrals a year: England ~650k
MAX_WEEKLY_GBP = 1_000_000.0  # a week's cost of one child
MAX_DAILY_GBP = 150_000.0  # a day's cost or grant of one child
MAX_ANNUAL_GBP = 50_000_000.0  # a year's cost of one place or one FTE
MAX_ONE_OFF_GBP = 10_000_000.0  # a one-off cost per place or per case
MAX_MULTIPLIER = 100.0  # cost and hazard multipliers
MAX_FTE = 1_000_000.0
MIN_START_YEAR, MAX_START_YEAR = 1990, 2100


def schedule_within(v: Any, hi: float, what: str, *, positive: bool = False) -> Any:
    """Check a :class:`Schedule` (or None) has every value in [0, hi] (or (0, hi])."""
    if v is None or not hasattr(v, "steps"):
        return v
    for d, x in v.steps:
        when = "" if d.year == 1900 else f" from {d}"
        if x > hi:
            raise ValueError(f"{what} must be at most {hi:,.10g}{when}, got {x:g}")
        if positive and x <= 0:
            raise ValueError(f"{what} must be > 0{when}, got {x:g}")
    return v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _strict_numbers(cls, data: Any) -> Any:
        return check_numbers(cls, data)


def _check_sum(shares: dict[str, float] | list[float], what: str) -> None:
    total = sum(shares.values()) if isinstance(shares, dict) else sum(shares)
    if abs(total - 1.0) > _SHARE_TOL:
        raise ValueError(f"{what} must sum to 1, got {total:.6g}")


def _check_bands(bands: list[tuple[float, float]], what: str) -> None:
    """Age bands must cover [0, 18) in order, without gaps or overlaps."""
    expected_start = 0.0
    for i, (lo, hi) in enumerate(bands):
        if hi <= lo:
            raise ValueError(f"{what}[{i}]: max_age_years ({hi}) must exceed min_age_years ({lo})")
        if abs(lo - expected_start) > 1e-9:
            kind = "gap" if lo > expected_start else "overlap"
            raise ValueError(
                f"{what}[{i}] starts at age {lo} but the previous band ends at "
                f"{expected_start}: age bands must be contiguous ({kind})"
            )
        expected_start = hi
    if abs(expected_start - MAX_AGE_YEARS) > 1e-9:
        raise ValueError(f"{what} must end at age 18, ends at {expected_start}")


# --------------------------------------------------------------------- run


class RunConfig(_Model):
    """What period to simulate."""

    name: str = Field(description="Human-readable name of the authority or scenario.")
    start_date: dt.date = Field(
        description=f"First day reported (ISO date, the first of a month, in the years "
        f"{MIN_START_YEAR}–{MAX_START_YEAR}); a 1 April is usual."
    )
    years: float = Field(
        default=5,
        ge=1 / 12,
        le=50,
        description="Reported horizon in years: one month (1/12) to 50 years.",
    )
    warmup_days: int = Field(
        default=0,
        ge=0,
        le=3650,
        description="Days simulated before start_date and excluded from results (at most ten "
        "years).",
    )
    description: str = Field(default="", description="Free text shown by `caresim validate`.")

    @field_validator("start_date")
    @classmethod
    def _month_start(cls, v: dt.date) -> dt.date:
        if v.day != 1:
            raise ValueError(f"start_date must be the first day of a month, got {v}")
        if not MIN_START_YEAR <= v.year <= MAX_START_YEAR:
            raise ValueError(
                f"start_date must fall in the years {MIN_START_YEAR}–{MAX_START_YEAR}, got {v}"
            )
        return v

    @property
    def horizon_days(self) -> int:
        """Reported horizon in whole days.

        Whole years end on the same calendar date (5 years from 1 April 2016
        end on 31 March 2021, with no stub of the next financial year); other
        horizons are ``years`` × 365.25 days, rounded.
        """
        if float(self.years).is_integer():
            start = self.start_date
            return (start.replace(year=start.year + int(self.years)) - start).days
        return round(self.years * 365.25)


# --------------------------------------------------------------- referrals


class AgeBandShare(_Model):
    """Share of new referrals whose age falls in a band (uniform inside it)."""

    min_age_years: float = Field(ge=0, lt=18, description="Youngest age in the band (inclusive).")
    max_age_years: float = Field(
        gt=0, le=18, description="Age at which the band ends (exclusive); the next one starts here."
    )
    share: float = Field(ge=0, le=1, description="Share of referred children in this band.")
