"""Parameter uncertainty: values drawn once per replication from the "parameters" stream.

A config may name dotted keys under ``[parameter_uncertainty]``::

    [parameter_uncertainty]
    "referrals.rate_per_year" = { distribution = "normal", mean = 6000, sd = 300 }
    "workforce.fte" = { distribution = "uniform", low = 190, high = 215, integer = true }

Replication ``k`` of root seed ``s`` draws each value by inverse transform
from one uniform, and substitutes the values as ``with_overrides`` would
before simulating. Each key has its own child of the replication's
``parameters`` stream (keyed by a stable hash of the key name), so a key
gets the same uniform in every scenario and whatever other keys are
uncertain: scenarios compared with one seed share their parameter draws too.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.config.loader import with_overrides
from sim.config.schema import Config, UncertainParameter
from sim.errors import ConfigError
from sim.model.streams import purpose_seed, replication_seed

__all__ = ["apply_uncertainty", "check_uncertainty", "draw_parameters", "quantile"]


def quantile(spec: UncertainParameter, u: float) -> float:
    """Value of ``spec`` at cumulative probability ``u`` in (0, 1).

    The family's quantile function is the config layer's
    (:mod:`sim.config.distributions`); ``integer`` rounds it.
    """
    x = spec.as_distribution().ppf(u)
    return float(round(x)) if spec.integer else float(x)


def _key_uniform(seed: int, replication: int, key: str) -> float:
    parent = purpose_seed(replication_seed(seed, replication), "parameters")
    child = np.random.SeedSequence(
        parent.entropy, spawn_key=(*parent.spawn_key, zlib.crc32(key.encode("utf-8")))
    )
    return float(np.random.Generator(np.random.PCG64(child)).random())


def draw_parameters(cfg: Config, seed: int, replication: int) -> dict[str, float]:
    """Values of the uncertain parameters for replication ``replication`` of root ``seed``."""
    return {
        key: quantile(spec, _key_uniform(seed, replication, key))
        for key, spec in cfg.parameter_uncertainty.items()
    }


def apply_uncertainty(cfg: Config, seed: int, replication: int) -> tuple[Config, dict[str, float]]:
    """Return the config replication ``replication`` simulates, and the values drawn for it."""
    if not cfg.parameter_uncertainty:
        return cfg, {}
    values = draw_parameters(cfg, seed, replication)
    return _substitute(cfg, values), values


def _substitute(cfg: Config, values: Mapping[str, Any]) -> Config:
    try:
        return with_overrides(cfg, values)
    except ConfigError as exc:
        raise ConfigError(
            f"parameter_uncertainty: substituting {', '.join(values)} gives an invalid "
            f"config: {exc}",
            key="parameter_uncertainty",
        ) from None


def check_uncertainty(cfg: Config) -> None:
    """Raise :class:`ConfigError` now if any uncertain key cannot be substituted.

    Every key must name an existing value of the config, and the lowest,
    middle and highest draws must each give a valid config.
    """
    if not cfg.parameter_uncertainty:
        return
    data = cfg.model_dump(mode="json")
    for key in cfg.parameter_uncertainty:
        cur: Any = data
        for part in key.split("."):
            if not isinstance(cur, dict) or part not in cur:
                raise ConfigError(
                    f"parameter_uncertainty: {key!r} is not a key of the config "
                    "(use the dotted path of an existing value, e.g. 'referrals.rate_per_year')",
                    key="parameter_uncertainty",
                )
            cur = cur[part]
    for u in (1e-6, 0.5, 1.0 - 1e-6):
        _substitute(cfg, {k: quantile(s, u) for k, s in cfg.parameter_uncertainty.items()})
