"""Configuration: TOML files to validated, immutable :class:`Config` objects."""

from sim.config.distributions import Distribution
from sim.config.loader import (
    config_from_dict,
    deep_merge,
    load_config,
    parse_override,
    raw_config,
    set_dotted,
    with_overrides,
)
from sim.config.schedule import Schedule, is_schedule
from sim.config.schema import CATEGORIES, ENTRY_CATEGORY_ORDER, EXIT_ROUTES, Config

__all__ = [
    "CATEGORIES",
    "ENTRY_CATEGORY_ORDER",
    "EXIT_ROUTES",
    "Config",
    "Distribution",
    "Schedule",
    "config_from_dict",
    "deep_merge",
    "is_schedule",
    "load_config",
    "parse_override",
    "raw_config",
    "set_dotted",
    "with_overrides",
]
