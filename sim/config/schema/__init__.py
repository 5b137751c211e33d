"""Typed, immutable description of one simulated local authority.

The TOML file maps one to one onto these models; ``docs/configuration.md``
lists every key. Every model forbids unknown keys and is frozen. Cross-field
rules (shares summing to 1, contiguous age bands, every needed placement
category having somewhere to go) are checked here, so the model can trust
what it is given.

Times are in days, ages in years, money in pounds (GBP), rates per year.

The schema is split by concern, one module each: :mod:`.base` (names, checks,
``[run]``), :mod:`.front_door`, :mod:`.placements`, :mod:`.exits`,
:mod:`.workforce`, :mod:`.population`, :mod:`.uasc`, :mod:`.uncertainty`,
:mod:`.prices` and :mod:`.config` (the whole ``Config``).
"""

from __future__ import annotations

from sim.config.schema.base import (
    CATEGORIES,
    ENTRY_CATEGORY_ORDER,
    EXIT_ROUTES,
    MAX_AGE_YEARS,
    AgeBandShare,
    Category,
    ExitRouteName,
    RunConfig,
)
from sim.config.schema.config import (
    Config,
)
from sim.config.schema.exits import (
    ExitAgeBand,
    ExitRoute,
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
    EntryPlacementBand,
    PlacementPolicy,
    PlacementType,
    StepDown,
)
from sim.config.schema.population import (
    AllowanceGroup,
    InitialLookedAfter,
    InitialPopulation,
)
from sim.config.schema.prices import (
    BUDGET_LINES,
    PRICE_LINES,
    BudgetsConfig,
    PricesConfig,
    financial_year_label,
    parse_financial_year,
    run_financial_years,
)
from sim.config.schema.uasc import (
    UascAgeBand,
    UascConfig,
    UascGrantBand,
)
from sim.config.schema.uncertainty import (
    UncertainParameter,
)
from sim.config.schema.workforce import (
    WorkforceConfig,
)

__all__ = [
    "BUDGET_LINES",
    "CATEGORIES",
    "ENTRY_CATEGORY_ORDER",
    "EXIT_ROUTES",
    "MAX_AGE_YEARS",
    "PRICE_LINES",
    "AgeBandShare",
    "AllowanceGroup",
    "AssessmentConfig",
    "BudgetsConfig",
    "CasePlanConfig",
    "Category",
    "Config",
    "EdgeOfCareConfig",
    "EntryPlacementBand",
    "ExitAgeBand",
    "ExitRoute",
    "ExitRouteName",
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
