"""Unaccompanied asylum-seeking children: arrivals, ages, placement needs, the grant."""

from __future__ import annotations

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.config.schedule import Schedule
from sim.config.schema.base import (
    MAX_DAILY_GBP,
    MAX_RATE_PER_YEAR,
    _check_bands,
    _check_sum,
    _Model,
    schedule_within,
)
from sim.config.schema.placements import (
    EntryPlacementBand,
)


class UascAgeBand(_Model):
    """Share of unaccompanied asylum-seeking children (UASC) arriving at ages in a band."""

    min_age_years: float = Field(
        ge=0, lt=18, description="Youngest age at arrival in the band (inclusive)."
    )
    max_age_years: float = Field(
        gt=0,
        le=18,
        description="Age at arrival at which the band ends (exclusive); one year of age is "
        "a band one year wide (16 to 17).",
    )
    share: float = Field(ge=0, le=1, description="Share of arriving UASC in this band.")


class UascGrantBand(_Model):
    """The Home Office grant for a UASC looked after, for the ages in a band."""

    min_age_years: float = Field(ge=0, lt=18, description="Youngest age in the band (inclusive).")
    max_age_years: float = Field(
        gt=0, le=18, description="Age at which the band ends (exclusive); the next one starts here."
    )
    gbp: Schedule = Field(
        description="Grant per child per day looked after (GBP, income): a number or a dated "
        "schedule (the funding instructions change each financial year); at most 150,000."
    )

    @field_validator("gbp")
    @classmethod
    def _grant_cap(cls, v: Schedule) -> Schedule:
        return schedule_within(v, MAX_DAILY_GBP, "gbp")


class UascConfig(_Model):
    """Unaccompanied asylum-seeking children (UASC), e.g. through the National Transfer Scheme.

    They arrive straight into care (no referral, triage or assessment), one child
    at a time, as a Poisson process at ``arrivals_per_year``; are placed through
    the same placement search as other children (so they compete for in-house
    places); and leave care on their 18th birthday into the care-leaver support of
    ``exits``. While looked after, each brings in the Home Office grant for its age.
    """

    arrivals_per_year: Schedule = Field(
        default=Schedule.model_validate(0),
        description="UASC arriving into the authority's care per year (children); 0 = none; "
        "at most 2,000,000.",
    )

    @field_validator("arrivals_per_year")
    @classmethod
    def _arrivals_cap(cls, v: Schedule) -> Schedule:
        return schedule_within(v, MAX_RATE_PER_YEAR, "arrivals_per_year")

    age_bands: tuple[UascAgeBand, ...] = Field(
        default=(UascAgeBand(min_age_years=16, max_age_years=18, share=1.0),),
        min_length=1,
        description="Age mix at arrival: non-overlapping bands (single years or wider) whose "
        "shares sum to 1; ages are uniform inside a band.",
    )
    placement: tuple[EntryPlacementBand, ...] = Field(
        default=(
            EntryPlacementBand(min_age_years=0, max_age_years=16, shares={"fostering": 1.0}),
            EntryPlacementBand(min_age_years=16, max_age_years=18, shares={"supported": 1.0}),
        ),
        min_length=1,
        description="Placement category needed on arrival, by age at arrival: contiguous bands "
        "from 0 to 18 whose shares over the entry categories sum to 1 (a uniform draw picks "
        "the category, as for other entrants); each category must have a placement type.",
    )
    grant_per_day_gbp: tuple[UascGrantBand, ...] = Field(
        default=(),
        description="Home Office grant per UASC per day looked after, by age band (contiguous "
        "from 0 to 18); none = no income is counted.",
    )

    @model_validator(mode="after")
    def _bands(self) -> UascConfig:
        prev_hi = -1.0
        bands = self.age_bands
        for i in sorted(range(len(bands)), key=lambda j: bands[j].min_age_years):
            b = bands[i]
            if b.max_age_years <= b.min_age_years:
                raise ValueError(
                    f"age_bands[{i}]: max_age_years ({b.max_age_years}) must exceed "
                    f"min_age_years ({b.min_age_years})"
                )
            if b.min_age_years < prev_hi - 1e-9:
                raise ValueError(
                    f"age_bands[{i}] starts at age {b.min_age_years}, before another band "
                    f"ends at {prev_hi}: UASC age bands must not overlap"
                )
            prev_hi = b.max_age_years
        _check_sum([b.share for b in self.age_bands], "age_bands shares")
        _check_bands([(b.min_age_years, b.max_age_years) for b in self.placement], "placement")
        if self.grant_per_day_gbp:
            _check_bands(
                [(b.min_age_years, b.max_age_years) for b in self.grant_per_day_gbp],
                "grant_per_day_gbp",
            )
        return self

    @property
    def enabled(self) -> bool:
        """True when any UASC can arrive (a schedule value above 0)."""
        return self.arrivals_per_year.maximum() > 0


# ---------------------------------------------------------- uncertainty
