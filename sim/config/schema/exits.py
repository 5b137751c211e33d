"""Exits from care: routes, their durations and the shares by age at entry."""

from __future__ import annotations

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.config.distributions import Distribution
from sim.config.schema.base import (
    MAX_WEEKLY_GBP,
    ExitRouteName,
    _check_bands,
    _check_sum,
    _Model,
)


class ExitRoute(_Model):
    """One way of leaving care (SSDA903 REC codes grouped)."""

    rec_codes: tuple[str, ...] = Field(default=(), description="SSDA903 REC codes (label).")
    duration_days: Distribution | None = Field(
        default=None, description="Time from entry to exit by this route (days)."
    )
    pre_exit_placement: str | None = Field(
        default=None, description="Placement type (a name) the child moves to before exiting."
    )
    pre_exit_days: Distribution | None = Field(
        default=None, description="Days before exit of the move to pre_exit_placement."
    )
    allowance_weekly_gbp: float = Field(
        default=0.0,
        ge=0,
        le=MAX_WEEKLY_GBP,
        description="Allowance paid after exit until allowance_until_age_years.",
    )
    allowance_share: float = Field(
        default=1.0, ge=0, le=1, description="Share of children leaving by this route paid it."
    )
    allowance_until_age_years: float = Field(
        default=18, gt=0, le=25, description="Age at which the allowance stops."
    )
    rereferral_probability: float = Field(
        default=0.0, ge=0, le=1, description="Chance the child is referred again after exit."
    )

    @model_validator(mode="after")
    def _pre_exit(self) -> ExitRoute:
        if (self.pre_exit_placement is None) != (self.pre_exit_days is None):
            raise ValueError("give both pre_exit_placement and pre_exit_days, or neither")
        return self


class ExitAgeBand(_Model):
    """Exit-route mix (and optional duration overrides) for children entering at these ages."""

    min_age_years: float = Field(ge=0, lt=18, description="Youngest age at entry in the band.")
    max_age_years: float = Field(
        gt=0, le=18, description="Age at entry at which the band ends (exclusive)."
    )
    shares: dict[ExitRouteName, float] = Field(
        description="Share of entrants leaving by each exit route; routes left out have share "
        "0; shares sum to 1."
    )
    durations_days: dict[ExitRouteName, Distribution] = Field(
        default_factory=dict,
        description="Time from entry to exit for this band, replacing the route's duration_days.",
    )

    @field_validator("shares")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        if any(x < 0 for x in v.values()):
            raise ValueError("route shares must be >= 0")
        _check_sum(v, "shares")
        return v


class ExitsConfig(_Model):
    """Competing exit routes: a route and a time are drawn on entry.

    A child whose drawn exit falls after the 18th birthday leaves care at 18
    (route ``leaving_care``). The ``leaving_care`` share is children expected
    to stay until 18.
    """

    routes: dict[ExitRouteName, ExitRoute] = Field(
        description="Exit routes by name; every route with a share needs a duration."
    )
    age_bands: tuple[ExitAgeBand, ...] = Field(
        min_length=1,
        description="Exit-route mix by age at entry: contiguous bands from 0 to 18.",
    )
    staying_put_share: float = Field(
        default=0.0, ge=0, le=1, description="Share of fostered 18-year-olds who stay put."
    )
    staying_put_until_age_years: float = Field(
        default=21, ge=18, le=25, description="Age at which staying put ends."
    )
    staying_put_weekly_gbp: float = Field(
        default=0.0,
        ge=0,
        le=MAX_WEEKLY_GBP,
        description="Cost per staying-put young person per week.",
    )
    leaving_care_weekly_gbp: float = Field(
        default=0.0,
        ge=0,
        le=MAX_WEEKLY_GBP,
        description="Leaving-care support per care leaver per week.",
    )
    leaving_care_until_age_years: float = Field(
        default=18, ge=18, le=25, description="Age at which leaving-care support ends."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ExitsConfig:
        _check_bands([(b.min_age_years, b.max_age_years) for b in self.age_bands], "age_bands")
        for i, band in enumerate(self.age_bands):
            for route, share in band.shares.items():
                if share <= 0 or route == "leaving_care":
                    continue
                if route not in self.routes:
                    raise ValueError(f"age_bands[{i}].shares names route {route!r} not in routes")
                has_default = self.routes[route].duration_days is not None
                if not has_default and route not in band.durations_days:
                    raise ValueError(
                        f"route {route!r} has no duration_days and age_bands[{i}] gives none"
                    )
        return self


# ---------------------------------------------------------------- workforce
