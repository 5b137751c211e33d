"""Placement types (capacity, costs, step-downs) and the placement policy."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.config.distributions import Distribution
from sim.config.schedule import Schedule
from sim.config.schema.base import (
    ENTRY_CATEGORY_ORDER,
    MAX_ANNUAL_GBP,
    MAX_COUNT,
    MAX_MULTIPLIER,
    MAX_ONE_OFF_GBP,
    MAX_WEEKLY_GBP,
    Category,
    _check_bands,
    _check_sum,
    _Model,
    schedule_within,
)


class PlacementType(_Model):
    """One kind of placement supply (SSDA903 PLACE codes grouped), in-house or external."""

    category: Category = Field(description="Placement category the type serves.")
    provider: Literal["in_house", "external"] = Field(
        description="Who provides the places: the authority itself or an external provider."
    )
    place_codes: tuple[str, ...] = Field(default=(), description="SSDA903 PLACE codes (label).")
    capacity: Schedule | None = Field(
        default=None, description="Places (children); omitted = unlimited; at most 1,000,000."
    )
    weekly_cost_gbp: Schedule | Distribution = Field(
        description="Weekly cost per child: a number/schedule, or a distribution drawn per stay; "
        "at most 1,000,000 (a distribution's mean and maximum too)."
    )
    cost_multiplier: Schedule = Field(
        default=Schedule.model_validate(1.0),
        description="Multiplies the weekly cost from given dates (e.g. a price negotiation); "
        "at most 100.",
    )
    min_age_years: float = Field(
        default=0, ge=0, le=18, description="Youngest age the type accepts."
    )
    max_age_years: float = Field(
        default=18, ge=0, le=25, description="Age from which the type no longer accepts a child."
    )
    min_complexity: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Lowest complexity accepted; a child's complexity is the uniform draw that "
        "picked its entry category.",
    )
    max_complexity: float = Field(
        default=1.0, ge=0, le=1, description="Highest complexity accepted (see min_complexity)."
    )
    breakdown_per_year: float = Field(
        default=0.0,
        ge=0,
        le=365,
        description="Hazard of an unplanned ending (per child per year; at most 365, once a day).",
    )
    fixed_cost_per_place_per_year_gbp: Schedule = Field(
        default=Schedule.model_validate(0),
        description="In-house types with a capacity only: fixed cost of each place a year (staff "
        "rotas, buildings, carers' fees and retainers), paid while the place exists, filled or "
        "not; weekly_cost_gbp is then the variable cost of an occupied place. At most "
        "50,000,000.",
    )
    opening_cost_per_place_gbp: float = Field(
        default=0.0,
        ge=0,
        le=MAX_ONE_OFF_GBP,
        description="In-house types with a capacity only: one-off cost of each place added on a "
        "capacity change date (set-up, recruitment); not charged for the first day's places.",
    )
    closing_cost_per_place_gbp: float = Field(
        default=0.0,
        ge=-MAX_ONE_OFF_GBP,
        le=MAX_ONE_OFF_GBP,
        description="In-house types with a capacity only: one-off cost of each place removed on "
        "a capacity change date (redundancy, decommissioning); negative is a saving (e.g. the "
        "sale of a building), the only cost that may be negative.",
    )

    @field_validator("weekly_cost_gbp")
    @classmethod
    def _weekly_cap(cls, v: Schedule | Distribution) -> Schedule | Distribution:
        if isinstance(v, Schedule):
            return schedule_within(v, MAX_WEEKLY_GBP, "weekly_cost_gbp")
        for what, x in (("mean", v.expected()), ("maximum", v.maximum or 0.0)):
            if not x <= MAX_WEEKLY_GBP:
                raise ValueError(
                    f"weekly_cost_gbp: the distribution's {what} must be at most "
                    f"{MAX_WEEKLY_GBP:,.0f}, got {x:g}"
                )
        return v

    @field_validator("cost_multiplier")
    @classmethod
    def _multiplier_cap(cls, v: Schedule) -> Schedule:
        return schedule_within(v, MAX_MULTIPLIER, "cost_multiplier")

    @field_validator("fixed_cost_per_place_per_year_gbp")
    @classmethod
    def _fixed_cap(cls, v: Schedule) -> Schedule:
        return schedule_within(v, MAX_ANNUAL_GBP, "fixed_cost_per_place_per_year_gbp")

    @field_validator("capacity")
    @classmethod
    def _integer_capacity(cls, v: Schedule | None) -> Schedule | None:
        schedule_within(v, MAX_COUNT, "capacity")
        if v is not None:
            for d, x in v.steps:
                if x != int(x):
                    when = "" if d == v.steps[0][0] else f" from {d}"
                    raise ValueError(f"capacity must be a whole number of places, got {x:g}{when}")
        return v

    @model_validator(mode="after")
    def _ages(self) -> PlacementType:
        if self.max_age_years <= self.min_age_years:
            raise ValueError("max_age_years must exceed min_age_years")
        if self.max_complexity < self.min_complexity:
            raise ValueError("max_complexity must be at least min_complexity")
        capacity_costs = (
            self.fixed_cost_per_place_per_year_gbp.maximum() > 0
            or self.opening_cost_per_place_gbp != 0
            or self.closing_cost_per_place_gbp != 0
        )
        if capacity_costs and (self.capacity is None or self.provider != "in_house"):
            raise ValueError(
                "fixed_cost_per_place_per_year_gbp, opening_cost_per_place_gbp and "
                "closing_cost_per_place_gbp apply only to in-house types with a capacity"
            )
        return self

    @property
    def finite(self) -> bool:
        """True when the type has a capacity limit."""
        return self.capacity is not None


class StepDown(_Model):
    """A planned move from one category to another, after a time or at an age."""

    from_category: Category = Field(description="Category of the placement the child leaves.")
    to_category: Category = Field(description="Category the child moves to.")
    probability: float = Field(ge=0, le=1, description="Chance the rule applies to a placement.")
    after_days: Distribution | None = Field(
        default=None, description="Time in the placement before the move (instead of at_age_years)."
    )
    at_age_years: float | None = Field(
        default=None, gt=0, lt=18, description="Age at the move (instead of after_days)."
    )

    @model_validator(mode="after")
    def _when(self) -> StepDown:
        if (self.after_days is None) == (self.at_age_years is None):
            raise ValueError("give exactly one of after_days or at_age_years")
        if self.from_category == self.to_category:
            raise ValueError("from_category and to_category must differ")
        return self


class EntryPlacementBand(_Model):
    """Placement category needed on entry to care, for children entering at these ages.

    Shares follow ENTRY_CATEGORY_ORDER (least to most complex); a child's
    complexity draw picks the category.
    """

    min_age_years: float = Field(ge=0, lt=18, description="Youngest age at entry in the band.")
    max_age_years: float = Field(
        gt=0, le=18, description="Age at entry at which the band ends (exclusive)."
    )
    shares: dict[str, float] = Field(
        description="Share of entrants needing each entry category (see ENTRY_CATEGORY_ORDER); "
        "categories left out have share 0; shares sum to 1."
    )

    @field_validator("shares")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if k not in ENTRY_CATEGORY_ORDER:
                raise ValueError(
                    f"unknown entry category {k!r}; expected one of "
                    + ", ".join(ENTRY_CATEGORY_ORDER)
                )
            if x < 0:
                raise ValueError(f"share for {k} must be >= 0")
        _check_sum(v, "shares")
        return v


class PlacementPolicy(_Model):
    """How a needed category is turned into a placement."""

    entry: tuple[EntryPlacementBand, ...] = Field(
        min_length=1,
        description="Category needed on entry by age at entry: contiguous bands from 0 to 18.",
    )
    order: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Placement types (names) tried for a category (the key), in order; default: "
        "in-house types of that category in file order, then external ones.",
    )
    fallback: str | None = Field(
        default=None,
        description="Placement type (a name) used when nothing suitable is free (e.g. emergency).",
    )
    waiting_list: bool = Field(
        default=False,
        description="Children in the fallback wait for a place of their category, first come "
        "first served, and move when one frees.",
    )
    bring_back_in_house: bool = Field(
        default=False,
        description="When an in-house place frees and nobody waits, move the longest-placed "
        "external child of that category into it (counted as a move).",
    )
    teen_breakdown_multiplier: float = Field(
        default=1.0,
        ge=0,
        le=MAX_MULTIPLIER,
        description="Breakdown hazard multiplier for children aged 13+.",
    )
    step_downs: tuple[StepDown, ...] = Field(
        default=(), description="Planned moves between categories while in care."
    )

    @model_validator(mode="after")
    def _bands(self) -> PlacementPolicy:
        _check_bands([(b.min_age_years, b.max_age_years) for b in self.entry], "entry")
        return self


# -------------------------------------------------------------------- exits
