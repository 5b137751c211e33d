"""Social workers: FTE, caseload effects, and the unit costs of front-door work."""

from __future__ import annotations

from pydantic import (
    Field,
    field_validator,
)

from sim.config.schedule import Schedule
from sim.config.schema.base import (
    MAX_ANNUAL_GBP,
    MAX_FTE,
    MAX_MULTIPLIER,
    MAX_ONE_OFF_GBP,
    _Model,
    schedule_within,
)


class WorkforceConfig(_Model):
    """Case-holding social workers and the effect of caseload on practice."""

    fte: Schedule = Field(
        description="Case-holding social workers (full-time equivalent): above 0, at most "
        "1,000,000."
    )
    annual_cost_per_fte_gbp: float = Field(
        default=0.0, ge=0, le=MAX_ANNUAL_GBP, description="Salary and on-costs per FTE per year."
    )
    caseload_threshold: float = Field(
        default=18.0, gt=0, le=10_000, description="Cases per FTE above which delays start."
    )
    assessment_delay_elasticity: float = Field(
        default=0.0,
        ge=0,
        le=MAX_MULTIPLIER,
        description="Relative increase of assessment time per relative excess.",
    )
    permanence_delay_elasticity: float = Field(
        default=0.0,
        ge=0,
        le=MAX_MULTIPLIER,
        description="Relative increase of time to exit per relative excess.",
    )
    early_help_cost_gbp: float = Field(
        default=0.0, ge=0, le=MAX_ONE_OFF_GBP, description="Cost per early-help case."
    )
    assessment_cost_gbp: float = Field(
        default=0.0,
        ge=0,
        le=MAX_ONE_OFF_GBP,
        description="Variable cost per child assessed, beyond the FTE cost (at the start).",
    )
    s47_enquiry_cost_gbp: float = Field(
        default=0.0,
        ge=0,
        le=MAX_ONE_OFF_GBP,
        description="Variable cost per child of a section 47 enquiry and its initial conference.",
    )
    cin_plan_cost_per_month_gbp: float = Field(
        default=0.0,
        ge=0,
        le=MAX_ONE_OFF_GBP,
        description="Variable cost per child per month on a child in need plan (a month is "
        "365.25 / 12 days; accrued by the day).",
    )
    cp_plan_cost_per_month_gbp: float = Field(
        default=0.0,
        ge=0,
        le=MAX_ONE_OFF_GBP,
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
        return schedule_within(v, MAX_FTE, "fte", positive=True)


# --------------------------------------------------------- initial population
