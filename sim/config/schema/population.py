"""The starting population: children looked after and families on allowances on day 0."""

from __future__ import annotations

from pydantic import (
    Field,
    model_validator,
)

from sim.config.schema.base import (
    MAX_COUNT,
    MAX_RATE_PER_YEAR,
    ExitRouteName,
    _Model,
)


class InitialLookedAfter(_Model):
    """Children already looked after on the first simulated day."""

    placement: str = Field(description="Placement type (a key of placement_types) they are in.")
    count: int = Field(
        ge=0, le=MAX_COUNT, description="Number of children in the group (at most 1,000,000)."
    )
    min_age_years: float = Field(
        default=0, ge=0, lt=18, description="Youngest age; ages are uniform in the range."
    )
    max_age_years: float = Field(default=18, gt=0, le=18, description="Oldest age (exclusive).")
    min_days_in_care: float = Field(
        default=0,
        ge=0,
        le=7000,
        description="Shortest time already in care; uniform in the range (at most 7,000 days).",
    )
    max_days_in_care: float = Field(
        default=730, ge=0, le=7000, description="Longest time already in care (at most 7,000 days)."
    )

    @model_validator(mode="after")
    def _ranges(self) -> InitialLookedAfter:
        if self.max_age_years <= self.min_age_years:
            raise ValueError("max_age_years must exceed min_age_years")
        if self.max_days_in_care < self.min_days_in_care:
            raise ValueError("max_days_in_care must be at least min_days_in_care")
        return self


class AllowanceGroup(_Model):
    """Children who left care by an order and still receive an allowance."""

    route: ExitRouteName = Field(description="Exit route whose allowance they receive.")
    count: int = Field(
        ge=0, le=MAX_COUNT, description="Number of children in the group (at most 1,000,000)."
    )
    min_age_years: float = Field(
        default=0, ge=0, lt=25, description="Youngest age; ages are uniform in the range."
    )
    max_age_years: float = Field(default=18, gt=0, le=25, description="Oldest age (exclusive).")


class InitialPopulation(_Model):
    """Who is in the system on the first simulated day."""

    looked_after: tuple[InitialLookedAfter, ...] = Field(
        default=(), description="Groups of children looked after on the first day."
    )
    allowances: tuple[AllowanceGroup, ...] = Field(
        default=(), description="Groups of former looked-after children still on allowances."
    )
    assessments: int = Field(
        default=0,
        ge=0,
        le=200_000,
        description="Children in a social care assessment on the first day (at most 200,000; "
        "England has about 50,000).",
    )
    rereferrals_per_year: float = Field(
        default=0.0,
        ge=0,
        le=MAX_RATE_PER_YEAR,
        description="Re-referrals a year of cases closed before the first day: they return over "
        "the following months as front_door.rereferral_days says, so the re-referral stream "
        "does not start from nothing.",
    )
    child_in_need: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="Open CIN cases (at most 1,000,000)."
    )
    child_protection: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="Open CP plans (at most 1,000,000)."
    )


# --------------------------------------------------------------------- uasc
