"""Typed, immutable description of one simulated local authority.

The TOML file maps one to one onto these models; ``docs/configuration.md``
lists every key. Every model forbids unknown keys and is frozen. Cross-field
rules (shares summing to 1, contiguous age bands, every needed placement
category having somewhere to go) are checked here, so the model can trust
what it is given.

Times are in days, ages in years, money in pounds (GBP), rates per year.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.config.distributions import Distribution, ParameterDistribution
from sim.config.schedule import Schedule
from sim.config.targets import Target

__all__ = [
    "BUDGET_LINES",
    "CATEGORIES",
    "ENTRY_CATEGORY_ORDER",
    "EXIT_ROUTES",
    "PRICE_LINES",
    "AgeBandShare",
    "AllowanceGroup",
    "AssessmentConfig",
    "BudgetsConfig",
    "CasePlanConfig",
    "Config",
    "EdgeOfCareConfig",
    "EntryPlacementBand",
    "ExitAgeBand",
    "ExitRoute",
    "ExitsConfig",
    "FrontDoorConfig",
    "InitialLookedAfter",
    "InitialPopulation",
    "PlacementPolicy",
    "PlacementType",
    "PricesConfig",
    "ReferralsConfig",
    "RunConfig",
    "StepDown",
    "UascAgeBand",
    "UascConfig",
    "UascGrantBand",
    "UncertainParameter",
    "WorkforceConfig",
    "financial_year_label",
    "parse_financial_year",
    "run_financial_years",
]

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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    start_date: dt.date = Field(description="First day reported (ISO date); a 1 April is usual.")
    years: float = Field(default=5, gt=0, le=100, description="Reported horizon in years.")
    warmup_days: int = Field(
        default=0, ge=0, description="Days simulated before start_date and excluded from results."
    )
    description: str = Field(default="", description="Free text shown by `caresim validate`.")

    @field_validator("start_date")
    @classmethod
    def _month_start(cls, v: dt.date) -> dt.date:
        if v.day != 1:
            raise ValueError(f"start_date must be the first day of a month, got {v}")
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


class ReferralsConfig(_Model):
    """New referrals arriving at the Family Front Door (children, not families)."""

    rate_per_year: Schedule = Field(description="Referrals per year (children).")
    trend_per_year: float = Field(
        default=0.0, gt=-1, le=1, description="Compound growth of the rate per year (0.02 = +2%)."
    )
    seasonality: tuple[float, ...] | None = Field(
        default=None,
        description="Twelve monthly multipliers, January first, mean 1 (optional).",
    )
    age_bands: tuple[AgeBandShare, ...] = Field(
        min_length=1,
        description="Age mix of referred children: contiguous bands from 0 to 18 whose shares "
        "sum to 1.",
    )
    sibling_group_shares: tuple[float, ...] = Field(
        default=(1.0,),
        description="Share of families referred with 1, 2, 3... children; children of a "
        "family share their pathway and are placed together where possible.",
    )

    @field_validator("seasonality")
    @classmethod
    def _season(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is None:
            return v
        if len(v) != 12:
            raise ValueError(f"seasonality needs 12 monthly factors, got {len(v)}")
        if any(x < 0 for x in v):
            raise ValueError("seasonality factors must be >= 0")
        if abs(sum(v) / 12 - 1.0) > 1e-3:
            raise ValueError(f"seasonality factors must average 1, average {sum(v) / 12:.4g}")
        return v

    @field_validator("sibling_group_shares")
    @classmethod
    def _siblings(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(x < 0 for x in v):
            raise ValueError("sibling_group_shares must be >= 0")
        _check_sum(list(v), "sibling_group_shares")
        return v

    @model_validator(mode="after")
    def _bands(self) -> ReferralsConfig:
        _check_bands([(b.min_age_years, b.max_age_years) for b in self.age_bands], "age_bands")
        _check_sum([b.share for b in self.age_bands], "age_bands shares")
        return self

    @property
    def mean_family_size(self) -> float:
        """Expected children per referred family."""
        return sum((i + 1) * s for i, s in enumerate(self.sibling_group_shares))


# -------------------------------------------------------------- front door


class FrontDoorConfig(_Model):
    """Triage on an observed, noisy need score.

    Each child has a latent need z ~ N(0, 1). The front door sees
    z + N(0, observation_noise_sd²) and compares its percentile with the
    thresholds below (percentiles of the observed score among referrals).
    """

    observation_noise_sd: float = Field(
        default=0.5,
        ge=0,
        le=5,
        description="SD of the triage error added to latent need (need is N(0, 1)).",
    )
    early_help_above_percentile: Schedule = Field(
        description="Observed-score percentile above which a referral gets at least early help."
    )
    assessment_above_percentile: Schedule = Field(
        description="Observed-score percentile above which a referral is assessed."
    )
    statutory_need_percentile: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="True-need percentile above which a child needs statutory help; children "
        "above it routed to no further action or early help are 'under-served'.",
    )
    decision_days: float = Field(
        default=1.0,
        ge=0,
        description="Days from the triage decision (made at referral) to the start of early "
        "help or an assessment.",
    )
    early_help_days: Distribution | None = Field(
        default=None, description="Duration of an early-help episode (days); none = not tracked."
    )
    rereferral_probability: float = Field(
        default=0.1, ge=0, le=1, description="Chance a closed, adequately served case returns."
    )
    underserved_rereferral_probability: float = Field(
        default=0.5, ge=0, le=1, description="Chance an under-served case returns."
    )
    rereferral_days: Distribution = Field(
        description="Time from closure to re-referral, for those who return (days)."
    )
    need_drift_sd: float = Field(
        default=0.2, ge=0, description="SD of the change in latent need between referrals."
    )

    @model_validator(mode="after")
    def _order(self) -> FrontDoorConfig:
        for s in (self.early_help_above_percentile, self.assessment_above_percentile):
            if s.maximum() > 1:
                raise ValueError("threshold percentiles must be in [0, 1]")
        first = min(
            self.assessment_above_percentile.steps[0][0],
            self.early_help_above_percentile.steps[0][0],
        )
        for d, _ in self.assessment_above_percentile.steps + self.early_help_above_percentile.steps:
            assess = self.assessment_above_percentile.value_at(d)
            early = self.early_help_above_percentile.value_at(d)
            if assess < early:
                when = "from the start" if d == first else f"from {d}"
                raise ValueError(
                    f"assessment_above_percentile ({assess:g}) is below "
                    f"early_help_above_percentile ({early:g}) {when}; the assessment "
                    "threshold must be at least the early-help threshold"
                )
        return self


class AssessmentConfig(_Model):
    """Statutory social care assessment and its outcome.

    The assessment sees true need with a smaller error (``noise_sd``); the
    percentiles below are of that assessed score among all referrals.
    """

    duration_days: Distribution = Field(description="Time from triage to assessment outcome.")
    noise_sd: float = Field(
        default=0.3,
        ge=0,
        le=5,
        description="SD of the assessment's error on latent need (need is N(0, 1)).",
    )
    cin_above_percentile: float = Field(ge=0, le=1, description="Below: not in need (closed).")
    cp_above_percentile: float = Field(ge=0, le=1, description="Above: s47 enquiry and CP plan.")
    care_above_percentile: float = Field(ge=0, le=1, description="Above: entry to care.")
    section47_days: Distribution | None = Field(
        default=None, description="Extra days of a section 47 enquiry before a CP plan."
    )

    @model_validator(mode="after")
    def _order(self) -> AssessmentConfig:
        if not (
            self.cin_above_percentile <= self.cp_above_percentile <= self.care_above_percentile
        ):
            raise ValueError(
                "assessment percentiles must satisfy cin_above_percentile <= "
                "cp_above_percentile <= care_above_percentile"
            )
        return self


class CasePlanConfig(_Model):
    """A child in need or child protection plan and its escalation."""

    duration_days: Distribution = Field(description="Length of the plan if it does not escalate.")
    escalate_to_cp_probability: float = Field(
        default=0.0, ge=0, le=1, description="Chance the plan escalates to a child protection plan."
    )
    escalate_to_care_probability: float = Field(
        default=0.0, ge=0, le=1, description="Chance the plan escalates to entry to care."
    )
    escalation_fraction_of_duration: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Escalations happen at a uniform point up to this fraction of the plan.",
    )

    @model_validator(mode="after")
    def _sum(self) -> CasePlanConfig:
        if self.escalate_to_cp_probability + self.escalate_to_care_probability > 1 + _SHARE_TOL:
            raise ValueError("escalation probabilities must sum to at most 1")
        return self


class EdgeOfCareConfig(_Model):
    """A finite family-support service for children about to enter care."""

    capacity: Schedule = Field(default=Schedule.model_validate(0), description="Families at once.")
    min_age_years: float = Field(
        default=0, ge=0, le=18, description="Youngest age the service accepts."
    )
    max_age_years: float = Field(
        default=18, ge=0, le=18, description="Age from which the service no longer accepts."
    )
    eligible_share: float = Field(
        default=1.0, ge=0, le=1, description="Share of care-bound children the service accepts."
    )
    support_days: Distribution | None = Field(
        default=None, description="Length of support; required when capacity is above 0."
    )
    enter_care_later_share: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Share of supported children who enter care at the end.",
    )
    daily_cost_gbp: float = Field(
        default=0.0, ge=0, description="Cost per supported child per day."
    )
    fixed_cost_per_place_per_year_gbp: Schedule = Field(
        default=Schedule.model_validate(0),
        description="Fixed cost of each place (staff, premises) a year, paid while the place "
        "exists, filled or not; daily_cost_gbp is then the variable cost of a supported child.",
    )
    opening_cost_per_place_gbp: float = Field(
        default=0.0,
        ge=0,
        description="One-off cost of each place added on a capacity change date (set-up, "
        "recruitment).",
    )
    closing_cost_per_place_gbp: float = Field(
        default=0.0,
        description="One-off cost of each place removed on a capacity change date; negative is "
        "a saving (e.g. a sale).",
    )

    @model_validator(mode="after")
    def _needs_duration(self) -> EdgeOfCareConfig:
        if self.capacity.maximum() > 0 and self.support_days is None:
            raise ValueError("support_days is required when the service has capacity")
        return self


# --------------------------------------------------------------- placements


class PlacementType(_Model):
    """One kind of placement supply (SSDA903 PLACE codes grouped), in-house or external."""

    category: Category = Field(description="Placement category the type serves.")
    provider: Literal["in_house", "external"] = Field(
        description="Who provides the places: the authority itself or an external provider."
    )
    place_codes: tuple[str, ...] = Field(default=(), description="SSDA903 PLACE codes (label).")
    capacity: Schedule | None = Field(
        default=None, description="Places (children); omitted = unlimited."
    )
    weekly_cost_gbp: Schedule | Distribution = Field(
        description="Weekly cost per child: a number/schedule, or a distribution drawn per stay."
    )
    cost_multiplier: Schedule = Field(
        default=Schedule.model_validate(1.0),
        description="Multiplies the weekly cost from given dates (e.g. a price negotiation).",
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
        default=0.0, ge=0, description="Hazard of an unplanned ending (per child per year)."
    )
    fixed_cost_per_place_per_year_gbp: Schedule = Field(
        default=Schedule.model_validate(0),
        description="In-house types with a capacity only: fixed cost of each place a year (staff "
        "rotas, buildings, carers' fees and retainers), paid while the place exists, filled or "
        "not; weekly_cost_gbp is then the variable cost of an occupied place.",
    )
    opening_cost_per_place_gbp: float = Field(
        default=0.0,
        ge=0,
        description="In-house types with a capacity only: one-off cost of each place added on a "
        "capacity change date (set-up, recruitment); not charged for the first day's places.",
    )
    closing_cost_per_place_gbp: float = Field(
        default=0.0,
        description="In-house types with a capacity only: one-off cost of each place removed on "
        "a capacity change date (redundancy, decommissioning); negative is a saving (e.g. the "
        "sale of a building), the only cost that may be negative.",
    )

    @field_validator("capacity")
    @classmethod
    def _integer_capacity(cls, v: Schedule | None) -> Schedule | None:
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
        default=1.0, ge=0, description="Breakdown hazard multiplier for children aged 13+."
    )
    step_downs: tuple[StepDown, ...] = Field(
        default=(), description="Planned moves between categories while in care."
    )

    @model_validator(mode="after")
    def _bands(self) -> PlacementPolicy:
        _check_bands([(b.min_age_years, b.max_age_years) for b in self.entry], "entry")
        return self


# -------------------------------------------------------------------- exits


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
        default=0.0, ge=0, description="Allowance paid after exit until allowance_until_age_years."
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
        default=0.0, ge=0, description="Cost per staying-put young person per week."
    )
    leaving_care_weekly_gbp: float = Field(
        default=0.0, ge=0, description="Leaving-care support per care leaver per week."
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


class WorkforceConfig(_Model):
    """Case-holding social workers and the effect of caseload on practice."""

    fte: Schedule = Field(description="Case-holding social workers (full-time equivalent).")
    annual_cost_per_fte_gbp: float = Field(
        default=0.0, ge=0, description="Salary and on-costs per FTE per year."
    )
    caseload_threshold: float = Field(
        default=18.0, gt=0, description="Cases per FTE above which delays start."
    )
    assessment_delay_elasticity: float = Field(
        default=0.0, ge=0, description="Relative increase of assessment time per relative excess."
    )
    permanence_delay_elasticity: float = Field(
        default=0.0, ge=0, description="Relative increase of time to exit per relative excess."
    )
    early_help_cost_gbp: float = Field(default=0.0, ge=0, description="Cost per early-help case.")
    assessment_cost_gbp: float = Field(
        default=0.0,
        ge=0,
        description="Variable cost per child assessed, beyond the FTE cost (at the start).",
    )
    s47_enquiry_cost_gbp: float = Field(
        default=0.0,
        ge=0,
        description="Variable cost per child of a section 47 enquiry and its initial conference.",
    )
    cin_plan_cost_per_month_gbp: float = Field(
        default=0.0,
        ge=0,
        description="Variable cost per child per month on a child in need plan (a month is "
        "365.25 / 12 days; accrued by the day).",
    )
    cp_plan_cost_per_month_gbp: float = Field(
        default=0.0,
        ge=0,
        description="Variable cost per child per month on a child protection plan (a month is "
        "365.25 / 12 days; accrued by the day).",
    )

    @field_validator("fte")
    @classmethod
    def _fte_positive(cls, v: Schedule) -> Schedule:
        for d, x in v.steps:
            if x <= 0:
                when = "from the start" if d.year == 1900 else f"from {d}"
                raise ValueError(f"fte must be > 0 ({when} it is {x:g}): caseloads divide by it")
        return v


# --------------------------------------------------------- initial population


class InitialLookedAfter(_Model):
    """Children already looked after on the first simulated day."""

    placement: str = Field(description="Placement type (a key of placement_types) they are in.")
    count: int = Field(ge=0, description="Number of children in the group.")
    min_age_years: float = Field(
        default=0, ge=0, lt=18, description="Youngest age; ages are uniform in the range."
    )
    max_age_years: float = Field(default=18, gt=0, le=18, description="Oldest age (exclusive).")
    min_days_in_care: float = Field(
        default=0, ge=0, description="Shortest time already in care; uniform in the range."
    )
    max_days_in_care: float = Field(default=730, ge=0, description="Longest time already in care.")

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
    count: int = Field(ge=0, description="Number of children in the group.")
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
        default=0, ge=0, description="Children in a social care assessment on the first day."
    )
    rereferrals_per_year: float = Field(
        default=0.0,
        ge=0,
        description="Re-referrals a year of cases closed before the first day: they return over "
        "the following months as front_door.rereferral_days says, so the re-referral stream "
        "does not start from nothing.",
    )
    child_in_need: int = Field(default=0, ge=0, description="Open CIN cases.")
    child_protection: int = Field(default=0, ge=0, description="Open CP plans.")


# --------------------------------------------------------------------- uasc


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
        "schedule (the funding instructions change each financial year)."
    )


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
        description="UASC arriving into the authority's care per year (children); 0 = none.",
    )
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


_PARAMETER_DISTRIBUTION: TypeAdapter[ParameterDistribution] = TypeAdapter(ParameterDistribution)


class UncertainParameter(_Model):
    """Distribution of one uncertain parameter, drawn once per replication.

    The drawn value replaces the parameter's value for the whole replication,
    as ``--set KEY=VALUE`` would. Which fields are needed depends on
    ``distribution``: ``uniform`` (``low``, ``high``), ``triangular`` (``low``,
    ``mode``, ``high``), ``normal`` (``mean``, ``sd``; optionally clipped to
    ``low``/``high``), ``lognormal`` (``median``, ``sigma``) or ``choice``
    (``values``, equally likely).
    """

    distribution: Literal["uniform", "triangular", "normal", "lognormal", "choice"] = Field(
        description="Family of the distribution the value is drawn from."
    )
    low: float | None = Field(
        default=None, description="Lower bound (uniform, triangular; clip for normal)."
    )
    high: float | None = Field(
        default=None, description="Upper bound (uniform, triangular; clip for normal)."
    )
    mode: float | None = Field(default=None, description="Most likely value (triangular).")
    mean: float | None = Field(default=None, description="Mean (normal).")
    sd: float | None = Field(default=None, gt=0, description="Standard deviation (normal).")
    median: float | None = Field(default=None, gt=0, description="Median (lognormal).")
    sigma: float | None = Field(default=None, gt=0, description="SD of the log (lognormal).")
    values: tuple[float, ...] | None = Field(
        default=None, min_length=1, description="Equally likely values (choice)."
    )
    integer: bool = Field(
        default=False, description="Round the draw to the nearest whole number (e.g. places)."
    )

    @model_validator(mode="after")
    def _fields_for_family(self) -> UncertainParameter:
        needed = {
            "uniform": {"low", "high"},
            "triangular": {"low", "mode", "high"},
            "normal": {"mean", "sd"},
            "lognormal": {"median", "sigma"},
            "choice": {"values"},
        }[self.distribution]
        allowed = needed | ({"low", "high"} if self.distribution == "normal" else set())
        given = {
            k
            for k in ("low", "high", "mode", "mean", "sd", "median", "sigma", "values")
            if getattr(self, k) is not None
        }
        if missing := sorted(needed - given):
            raise ValueError(f"{self.distribution} needs {', '.join(missing)}")
        if extra := sorted(given - allowed):
            raise ValueError(f"{self.distribution} does not take {', '.join(extra)}")
        lo, hi = self.low, self.high
        if lo is not None and hi is not None and hi < lo:
            raise ValueError(f"high ({hi}) must be >= low ({lo})")
        mode = self.mode
        if mode is not None and lo is not None and hi is not None and not lo <= mode <= hi:
            raise ValueError(f"mode ({self.mode}) must lie between low ({lo}) and high ({hi})")
        try:
            self.as_distribution()
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise ValueError(f"{self.distribution}: {where}: {first['msg']}") from None
        return self

    def as_distribution(self) -> ParameterDistribution:
        """The family as a :mod:`sim.config.distributions` object, whose ``ppf`` draws it."""
        fields = {
            k: getattr(self, k)
            for k in ("low", "high", "mode", "mean", "sd", "median", "sigma", "values")
            if getattr(self, k) is not None
        }
        return _PARAMETER_DISTRIBUTION.validate_python(
            {"distribution": self.distribution, **fields}
        )


# ------------------------------------------------------ prices and budgets

#: Cost lines that carry their own inflation in ``[prices]``.
PRICE_LINES: tuple[str, ...] = (
    "placements_in_house",
    "placements_external",
    "allowances",
    "staff",
    "other",
)

#: Cost lines a budget can be set for in ``[budgets]`` (key ``<line>_gbp``), each the
#: summary measure ``cost_<line>_gbp``.
BUDGET_LINES: tuple[str, ...] = (
    "total",
    "placements",
    "in_house_placements",
    "external_placements",
    "allowances",
    "staff",
    "other",
)


def parse_financial_year(label: str) -> int:
    """First calendar year of a financial-year label: ``"2016-17"`` -> 2016.

    >>> parse_financial_year("2019-20")
    2019
    """
    ok = (
        isinstance(label, str)
        and len(label) == 7
        and label[4] == "-"
        and label[:4].isdigit()
        and label[5:].isdigit()
        and (int(label[:4]) + 1) % 100 == int(label[5:])
    )
    if not ok:
        raise ValueError(f"{label!r} is not a financial year such as '2016-17'")
    return int(label[:4])


def financial_year_label(start_year: int) -> str:
    """Label of the financial year starting 1 April ``start_year``: 2016 -> ``"2016-17"``."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def _year_keys(table: dict[str, float]) -> dict[str, float]:
    for key in table:
        parse_financial_year(key)
    return table


class PricesConfig(_Model):
    """Inflation of unit costs, by cost line and financial year.

    The unit costs of the config (weekly costs, allowances, the FTE cost, the
    other services' costs) are in the prices of `price_base`. The model spends
    in those prices; the results turn each cost line into cash terms by the
    line's price index for the financial year the spend falls in (the index is
    1 in `price_base` and steps on each 1 April), and keep the price-base value
    as the real-terms measures (`cost_*_real_gbp`, `cost_real_gbp`).

    Each cost line is a table from financial years (`"2017-18"`) to numbers:
    annual inflation rates when `given_as = "rates"` (the rate keyed
    `"2017-18"` is the rise in prices from 2016-17 to 2017-18; `0.03` is 3%),
    or price-index levels when `given_as = "index"` (any scale: each is divided
    by the level of `price_base`). The years of a table must be contiguous;
    `price_base` must be one of them, or, for rates, the year before the
    first. Outside a table's years the nearest given rate carries on (for an
    index, the growth between its last two levels, or its first two before it;
    a one-year index is flat). A line left out uses `default`; with neither,
    its prices stay at `price_base` (index 1). Without a `[prices]` table cash
    equals real terms.
    """

    price_base: str | None = Field(
        default=None,
        description='Financial year whose prices the unit costs are in, e.g. `"2016-17"`; '
        "default: the run's first financial year.",
    )
    given_as: Literal["rates", "index"] = Field(
        default="rates",
        description="Whether the year tables hold annual inflation rates or index levels.",
    )
    default: dict[str, float] = Field(
        default_factory=dict,
        description="Rates (or index) for every cost line not given below, e.g. CPIH.",
    )
    placements_in_house: dict[str, float] = Field(
        default_factory=dict, description="In-house placements (all categories)."
    )
    placements_external: dict[str, float] = Field(
        default_factory=dict, description="External placements (categories not given below)."
    )
    placements_external_by_category: dict[Category, dict[str, float]] = Field(
        default_factory=dict,
        description="External placements of one placement category (the key), replacing "
        "`placements_external` for it.",
    )
    allowances: dict[str, float] = Field(
        default_factory=dict, description="SGO, child arrangements and adoption allowances."
    )
    staff: dict[str, float] = Field(
        default_factory=dict, description="Social workers (salary and on-costs)."
    )
    other: dict[str, float] = Field(
        default_factory=dict,
        description="Edge of care, early help, assessments, staying put and leaving care.",
    )

    def tables(self) -> dict[str, dict[str, float]]:
        """Every year table given, by its dotted key under ``prices``."""
        out = {"default": self.default}
        out.update({line: getattr(self, line) for line in PRICE_LINES})
        for cat, table in self.placements_external_by_category.items():
            out[f"placements_external_by_category.{cat}"] = table
        return {k: v for k, v in out.items() if v}

    def base_year(self, run: RunConfig) -> int:
        """First calendar year of ``price_base`` (the run's first financial year by default)."""
        if self.price_base is not None:
            return parse_financial_year(self.price_base)
        s = run.start_date
        return s.year if s.month >= 4 else s.year - 1

    def table_for(self, line: str, category: str | None = None) -> dict[str, float]:
        """The year table that applies to a cost line (and placement category)."""
        if line == "placements_external" and category in self.placements_external_by_category:
            return self.placements_external_by_category[category]
        table: dict[str, float] = getattr(self, line)
        return table or self.default

    def index(self, line: str, year: int, run: RunConfig, category: str | None = None) -> float:
        """Price index of a cost line in the financial year starting in ``year`` (1 at the base).

        >>> p = PricesConfig(price_base="2016-17", staff={"2017-18": 0.1, "2018-19": 0.1})
        >>> run = RunConfig(name="x", start_date="2016-04-01")
        >>> round(p.index("staff", 2018, run), 6), round(p.index("staff", 2020, run), 6)
        (1.21, 1.4641)
        """
        return _index(self.table_for(line, category), self.given_as, self.base_year(run), year)

    def problems(self) -> list[str]:
        """What is wrong with the tables (each message names its dotted key path)."""
        out: list[str] = []
        if self.price_base is not None:
            try:
                parse_financial_year(self.price_base)
            except ValueError as exc:
                return [f"prices.price_base: {exc}"]
        for key, table in self.tables().items():
            where = f"prices.{key}"
            years: list[int] = []
            for label, value in table.items():
                try:
                    years.append(parse_financial_year(label))
                except ValueError as exc:
                    out.append(f"{where}.{label}: {exc}")
                    continue
                if self.given_as == "index" and value <= 0:
                    out.append(f"{where}.{label} = {value:g}: an index level must be > 0")
                if self.given_as == "rates" and value <= -1:
                    out.append(
                        f"{where}.{label} = {value:g}: an inflation rate must be > -1 "
                        "(prices cannot fall to zero)"
                    )
            if len(years) != len(table):
                continue
            ordered = sorted(years)
            for a, b in itertools.pairwise(ordered):
                if b != a + 1:
                    out.append(
                        f"{where}.{financial_year_label(b)}: financial years must be contiguous, "
                        f"but {financial_year_label(a + 1)} is missing"
                    )
                    break
            if self.price_base is not None and ordered:
                base = parse_financial_year(self.price_base)
                low = ordered[0] - (1 if self.given_as == "rates" else 0)
                if not low <= base <= ordered[-1]:
                    out.append(
                        f"{where}: price_base {self.price_base} is outside the table "
                        f"({financial_year_label(ordered[0])} to "
                        f"{financial_year_label(ordered[-1])})"
                    )
        return out


def _index(table: dict[str, float], given_as: str, base: int, year: int) -> float:
    """Compounded index of ``year`` relative to ``base`` from a table of rates or levels."""
    if not table:
        return 1.0
    by_year = {parse_financial_year(k): float(v) for k, v in table.items()}
    first, last = min(by_year), max(by_year)
    if given_as == "index":
        if len(by_year) == 1:
            return 1.0

        def level(y: int) -> float:
            if y > last:
                growth = by_year[last] / by_year[last - 1]
                return by_year[last] * growth ** (y - last)
            if y < first:
                growth = by_year[first + 1] / by_year[first]
                return by_year[first] / growth ** (first - y)
            return by_year[y]

        return level(year) / level(base)

    def rate(y: int) -> float:  # rise in prices from year y - 1 to year y
        return by_year[min(max(y, first), last)]

    factor = 1.0
    for y in range(base + 1, year + 1):
        factor *= 1.0 + rate(y)
    for y in range(year + 1, base + 1):
        factor /= 1.0 + rate(y)
    return factor


class BudgetsConfig(_Model):
    """Budgets by financial year and cost line, compared with the simulated spend.

    Each `<line>_gbp` key is a table from financial years (`"2016-17"`) to the
    budget in cash (£ of that year), compared with the summary measure
    `cost_<line>_gbp`; years without a budget are not compared. Budgets can
    also come from a CSV file (`file`, relative to the config file naming it)
    with columns `line` (e.g. `total`, `placements`), `financial_year` and
    `budget_gbp`; a year given both in the file and here is an error. Every
    budget year must be a financial year of the run and every budget positive.
    """

    file: str | None = Field(
        default=None,
        description="CSV file of budgets (columns line, financial_year, budget_gbp), read "
        "when the config is loaded; relative to the config file.",
    )
    total_gbp: dict[str, float] = Field(default_factory=dict, description="All spend.")
    placements_gbp: dict[str, float] = Field(default_factory=dict, description="Placements.")
    in_house_placements_gbp: dict[str, float] = Field(
        default_factory=dict, description="In-house placements."
    )
    external_placements_gbp: dict[str, float] = Field(
        default_factory=dict, description="External placements."
    )
    allowances_gbp: dict[str, float] = Field(default_factory=dict, description="Allowances.")
    staff_gbp: dict[str, float] = Field(default_factory=dict, description="Social workers.")
    other_gbp: dict[str, float] = Field(default_factory=dict, description="Other services.")

    def by_measure(self) -> dict[str, dict[str, float]]:
        """Budgets by summary measure (``cost_total_gbp``) and financial year (none: left out)."""
        return {
            f"cost_{line}_gbp": dict(getattr(self, f"{line}_gbp"))
            for line in BUDGET_LINES
            if getattr(self, f"{line}_gbp")
        }

    def problems(self, run_years: list[str]) -> list[str]:
        """What is wrong with the budgets (each message names its dotted key path)."""
        out: list[str] = []
        for line in BUDGET_LINES:
            for label, value in getattr(self, f"{line}_gbp").items():
                where = f"budgets.{line}_gbp.{label}"
                try:
                    parse_financial_year(label)
                except ValueError as exc:
                    out.append(f"{where}: {exc}")
                    continue
                if value <= 0:
                    out.append(f"{where} = {value:g}: a budget must be > 0")
                if label not in run_years:
                    out.append(
                        f"{where}: financial year outside the run "
                        f"({run_years[0]} to {run_years[-1]})"
                    )
        return out


def run_financial_years(run: RunConfig) -> list[str]:
    """Financial years the reported period touches, in order."""
    first = run.start_date
    last = first + dt.timedelta(days=run.horizon_days - 1)
    y0 = first.year if first.month >= 4 else first.year - 1
    y1 = last.year if last.month >= 4 else last.year - 1
    return [financial_year_label(y) for y in range(y0, y1 + 1)]


# ------------------------------------------------------------------- config


class Config(_Model):
    """A complete, validated description of one authority for one run."""

    run: RunConfig = Field(description="Name and period of the run.")
    referrals: ReferralsConfig = Field(description="Arrival of new referrals.")
    front_door: FrontDoorConfig = Field(description="Triage of referrals and re-referrals.")
    assessment: AssessmentConfig = Field(description="Statutory assessment and its outcome.")
    child_in_need: CasePlanConfig = Field(description="Child in need plans.")
    child_protection: CasePlanConfig = Field(description="Child protection plans.")
    edge_of_care: EdgeOfCareConfig = Field(
        default=EdgeOfCareConfig(), description="Edge-of-care family support (none by default)."
    )
    placement_types: dict[str, PlacementType] = Field(
        min_length=1, description="Placement supply, one table per type, named as you choose."
    )
    placement_policy: PlacementPolicy = Field(
        description="Category needed on entry, search order, fallback and step-downs."
    )
    exits: ExitsConfig = Field(description="Exit routes from care and their durations.")
    workforce: WorkforceConfig = Field(description="Social workers, caseloads and their costs.")
    initial_population: InitialPopulation = Field(
        default=InitialPopulation(), description="Children in the system on the first day."
    )
    uasc: UascConfig | None = Field(
        default=None,
        description="Optional: unaccompanied asylum-seeking children arriving straight into "
        "care, and the Home Office grant for them (none by default).",
    )
    parameter_uncertainty: dict[str, UncertainParameter] = Field(
        default_factory=dict,
        description=(
            "Optional: dotted config keys (e.g. `referrals.rate_per_year`) whose values are "
            "drawn once per replication from the given distribution (see docs/monte-carlo.md)."
        ),
    )
    targets: tuple[Target, ...] = Field(
        default=(),
        description="Optional: values the scenario aims at; the run's summary says whether and "
        "when the median run meets each (see docs/analysis.md).",
    )
    prices: PricesConfig = Field(
        default=PricesConfig(),
        description="Inflation by cost line and financial year (none by default: cash = real).",
    )
    budgets: BudgetsConfig = Field(
        default=BudgetsConfig(), description="Budgets by financial year and cost line (optional)."
    )

    @model_validator(mode="after")
    def _cross(self) -> Config:  # noqa: C901, PLR0912 - a flat list of independent rules
        types = self.placement_types
        pol = self.placement_policy
        for cat, names in pol.order.items():
            if cat not in CATEGORIES:
                raise ValueError(f"placement_policy.order: unknown category {cat!r}")
            for n in names:
                if n not in types:
                    raise ValueError(f"placement_policy.order.{cat}: unknown placement type {n!r}")
        if pol.fallback is not None and pol.fallback not in types:
            raise ValueError(f"placement_policy.fallback: unknown placement type {pol.fallback!r}")
        if pol.fallback is not None and types[pol.fallback].capacity is not None:
            raise ValueError(
                f"placement_policy.fallback: {pol.fallback!r} has a capacity limit; the fallback "
                "is where children go when nothing else is free, so it must be unlimited"
            )
        if self.child_protection.escalate_to_cp_probability > 0:
            raise ValueError(
                "child_protection.escalate_to_cp_probability must be 0: a CP plan cannot "
                "escalate to another CP plan"
            )
        # Every category some child can need must have at least one type.
        needed: set[str] = set()
        for band in pol.entry:
            needed.update(k for k, v in band.shares.items() if v > 0)
        needed.update(s.to_category for s in pol.step_downs)
        # A child moved to a pre-exit placement (e.g. placed for adoption) needs its category
        # to have somewhere to go too, should that placement break down or close.
        needed.update(
            types[r.pre_exit_placement].category
            for r in self.exits.routes.values()
            if r.pre_exit_placement is not None and r.pre_exit_placement in types
        )
        for cat in sorted(needed):
            if not self.types_for(cat) and pol.fallback is None:
                raise ValueError(
                    f"placement category {cat!r} is needed (placement_policy) but no placement "
                    "type serves it and there is no fallback"
                )
            if pol.fallback is None and all(
                types[n].capacity is not None for n in self.types_for(cat)
            ):
                raise ValueError(
                    f"placement category {cat!r} is needed but all its placement types have "
                    "finite capacity and there is no fallback: give one type no capacity limit "
                    "or set placement_policy.fallback"
                )
        for i, allowance in enumerate(self.initial_population.allowances):
            if allowance.route not in self.exits.routes:
                raise ValueError(
                    f"initial_population.allowances[{i}].route: route {allowance.route!r} is not "
                    "in exits.routes"
                )
        for name, route in self.exits.routes.items():
            if route.pre_exit_placement is not None and route.pre_exit_placement not in types:
                raise ValueError(
                    f"exits.routes.{name}.pre_exit_placement: unknown placement type "
                    f"{route.pre_exit_placement!r}"
                )
        for i, group in enumerate(self.initial_population.looked_after):
            if group.placement not in types:
                raise ValueError(
                    f"initial_population.looked_after[{i}].placement: unknown placement type "
                    f"{group.placement!r}"
                )
        occupied: dict[str, int] = {}
        for g in self.initial_population.looked_after:
            occupied[g.placement] = occupied.get(g.placement, 0) + g.count
        for type_name, n_children in occupied.items():
            cap = types[type_name].capacity
            start = self.run.start_date - dt.timedelta(days=self.run.warmup_days)
            if cap is not None and n_children > cap.value_at(start):
                raise ValueError(
                    f"initial_population puts {n_children} children in {type_name!r} whose "
                    "capacity on "
                    f"{start} is {cap.value_at(start):g}"
                )
        if self.uasc is not None:
            self._check_uasc(self.uasc)
        return self

    @model_validator(mode="after")
    def _prices_and_budgets(self) -> Config:
        problems = self.prices.problems() + self.budgets.problems(run_financial_years(self.run))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _check_uasc(self, uasc: UascConfig) -> None:
        """Every category a UASC can need has a placement type (and somewhere unlimited)."""
        pol = self.placement_policy
        for i, band in enumerate(uasc.placement):
            for cat, share in band.shares.items():
                if share <= 0:
                    continue
                where = f"uasc.placement[{i}].shares.{cat}"
                names = self.types_for(cat)
                if not names:
                    raise ValueError(
                        f"{where}: no placement type serves category {cat!r}; add one to "
                        "placement_types or give its share to a category the config has"
                    )
                if pol.fallback is None and all(
                    self.placement_types[n].capacity is not None for n in names
                ):
                    raise ValueError(
                        f"{where}: all placement types of category {cat!r} have finite "
                        "capacity and there is no fallback: give one type no capacity limit "
                        "or set placement_policy.fallback"
                    )

    def types_for(self, category: str) -> tuple[str, ...]:
        """Placement types tried, in order, for a child needing ``category``."""
        if category in self.placement_policy.order:
            return self.placement_policy.order[category]
        inhouse = [
            n
            for n, t in self.placement_types.items()
            if t.category == category and t.provider == "in_house"
        ]
        external = [
            n
            for n, t in self.placement_types.items()
            if t.category == category and t.provider == "external"
        ]
        return tuple(inhouse + external)

    @property
    def sim_start_date(self) -> dt.date:
        """Calendar date of simulation time 0 (start_date less the warm-up)."""
        return self.run.start_date - dt.timedelta(days=self.run.warmup_days)

    @property
    def sim_length_days(self) -> float:
        """Days simulated, warm-up included."""
        return float(self.run.warmup_days + self.run.horizon_days)

    def describe(self) -> str:
        """Plain-language summary of what the config describes.

        Every dated schedule is given as its steps (``0 places until 2016-09-30,
        then 15``), in the words of :meth:`Schedule.describe`.
        """
        r = self.run
        fd = self.front_door
        lines = [
            f"{r.name}",
            f"  period: {r.start_date} for {r.years:g} years"
            + (f" after a {r.warmup_days}-day warm-up" if r.warmup_days else ""),
            f"  referrals: {self.referrals.rate_per_year.describe(_count, ' a year')}"
            f" (trend {self.referrals.trend_per_year:+.1%} a year)",
            f"  thresholds: early help above "
            f"{fd.early_help_above_percentile.describe(_percentile)}, "
            f"assessment above {fd.assessment_above_percentile.describe(_percentile)}"
            " of observed need",
            f"  edge of care: {self.edge_of_care.capacity.describe(unit=' places')}",
        ]
        if self.uasc is not None:
            u = self.uasc
            lines.append(
                f"  unaccompanied asylum-seeking children: "
                f"{u.arrivals_per_year.describe(_count, ' arrivals a year')}"
            )
            for band in u.grant_per_day_gbp:
                rate = band.gbp.describe(lambda v: f"£{v:,.0f}", " a day")
                lines.append(
                    f"    grant, ages {band.min_age_years:g} to {band.max_age_years:g}: {rate}"
                )
        lines.append("  placement types:")
        for name, t in self.placement_types.items():
            cap = "unlimited" if t.capacity is None else t.capacity.describe(unit=" places")
            dated = len(cap) > 16
            lines.append(
                f"    {name:<24} {t.category:<20} {t.provider:<9} "
                f"{'dated, below' if dated else cap:<16} {_weekly_cost(t)}"
            )
            if dated:
                lines.append(f"      places: {cap}")
        n_lac = sum(g.count for g in self.initial_population.looked_after)
        n_allow = sum(g.count for g in self.initial_population.allowances)
        lines.append(
            f"  starting population: {n_lac} looked after, {n_allow} on allowances, "
            f"{self.initial_population.child_in_need} CIN, "
            f"{self.initial_population.child_protection} CP"
        )
        lines.append(f"  social workers: {self.workforce.fte.describe(unit=' FTE')}")
        if self.targets:
            lines.append("  targets:")
            lines += [f"    {t.describe()}" for t in self.targets]
        return "\n".join(lines)


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _percentile(value: float) -> str:
    return f"P{round(100 * value, 2):g}"


def _gbp(value: float) -> str:
    return f"£{value:,.0f}"


def _capped_mean(dist: Distribution) -> float:
    """Mean of a distribution's draws after its ``maximum`` (by the quantile function)."""
    if dist.maximum is None:
        return dist.expected()
    n = 20_000
    return sum(dist.ppf((i + 0.5) / n) for i in range(n)) / n


def _weekly_cost(t: PlacementType) -> str:
    """A placement type's weekly cost per child, with its dated changes and any cap."""
    cost, mult = t.weekly_cost_gbp, t.cost_multiplier
    notes: list[str] = []
    if not isinstance(cost, Schedule):
        notes.append(cost.distribution)
        if cost.maximum is not None:
            notes.append(f"each stay capped at {_gbp(cost.maximum)}/week")
    if not (mult.is_constant and mult.initial() == 1):
        notes.append(f"price multiplier {mult.describe()}")
    if isinstance(cost, Schedule):
        text = cost.times(mult).describe(_gbp, "/week")
    else:
        mean = Schedule.model_validate(_capped_mean(cost)).times(mult)
        text = f"on average {mean.describe(_gbp, '/week')}"
    return f"{text} ({'; '.join(notes)})" if notes else text
