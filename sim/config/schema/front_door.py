"""The front door: referrals, thresholds, assessments, plans, edge of care.

Referrals, triage thresholds, assessments, CIN and CP plans, and the
edge-of-care service.
"""

from __future__ import annotations

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.config.distributions import Distribution
from sim.config.schedule import Schedule
from sim.config.schema.base import (
    _SHARE_TOL,
    MAX_ANNUAL_GBP,
    MAX_COUNT,
    MAX_DAILY_GBP,
    MAX_ONE_OFF_GBP,
    MAX_RATE_PER_YEAR,
    AgeBandShare,
    _check_bands,
    _check_sum,
    _Model,
    schedule_within,
)


class ReferralsConfig(_Model):
    """New referrals arriving at the Family Front Door (children, not families)."""

    rate_per_year: Schedule = Field(
        description="Referrals per year (children); at most 2,000,000 (see the note on bounds)."
    )
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

    @field_validator("rate_per_year")
    @classmethod
    def _rate_cap(cls, v: Schedule) -> Schedule:
        return schedule_within(v, MAX_RATE_PER_YEAR, "rate_per_year")

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
        le=3650,
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
        default=0.2, ge=0, le=5, description="SD of the change in latent need between referrals."
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

    capacity: Schedule = Field(
        default=Schedule.model_validate(0), description="Families at once; at most 1,000,000."
    )
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
        default=0.0, ge=0, le=MAX_DAILY_GBP, description="Cost per supported child per day."
    )
    fixed_cost_per_place_per_year_gbp: Schedule = Field(
        default=Schedule.model_validate(0),
        description="Fixed cost of each place (staff, premises) a year, paid while the place "
        "exists, filled or not; daily_cost_gbp is then the variable cost of a supported child. "
        "At most 50,000,000.",
    )
    opening_cost_per_place_gbp: float = Field(
        default=0.0,
        ge=0,
        le=MAX_ONE_OFF_GBP,
        description="One-off cost of each place added on a capacity change date (set-up, "
        "recruitment).",
    )
    closing_cost_per_place_gbp: float = Field(
        default=0.0,
        ge=-MAX_ONE_OFF_GBP,
        le=MAX_ONE_OFF_GBP,
        description="One-off cost of each place removed on a capacity change date; negative is "
        "a saving (e.g. a sale).",
    )

    @field_validator("capacity")
    @classmethod
    def _capacity_cap(cls, v: Schedule) -> Schedule:
        return schedule_within(v, MAX_COUNT, "capacity")

    @field_validator("fixed_cost_per_place_per_year_gbp")
    @classmethod
    def _fixed_cap(cls, v: Schedule) -> Schedule:
        return schedule_within(v, MAX_ANNUAL_GBP, "fixed_cost_per_place_per_year_gbp")

    @model_validator(mode="after")
    def _needs_duration(self) -> EdgeOfCareConfig:
        if self.capacity.maximum() > 0 and self.support_days is None:
            raise ValueError("support_days is required when the service has capacity")
        return self


# --------------------------------------------------------------- placements
