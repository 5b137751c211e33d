"""The whole config: its sections, cross-section rules and its description in words."""

from __future__ import annotations

import datetime as dt

from pydantic import (
    Field,
    model_validator,
)

from sim.config.distributions import Distribution
from sim.config.schedule import Schedule
from sim.config.schema.base import (
    CATEGORIES,
    RunConfig,
    _Model,
)
from sim.config.schema.exits import (
    ExitsConfig,
)
from sim.config.schema.front_door import (
    AssessmentConfig,
    CasePlanConfig,
    EdgeOfCareConfig,
    FrontDoorConfig,
    ReferralsConfig,
)
from sim.config.schema.placements import (
    PlacementPolicy,
    PlacementType,
)
from sim.config.schema.population import (
    InitialPopulation,
)
from sim.config.schema.prices import (
    BudgetsConfig,
    PricesConfig,
    run_financial_years,
)
from sim.config.schema.uasc import (
    UascConfig,
)
from sim.config.schema.uncertainty import (
    UncertainParameter,
)
from sim.config.schema.workforce import (
    WorkforceConfig,
)
from sim.config.targets import Target


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
