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

import math
import zlib
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

import numpy as np

from sim.config.loader import with_overrides
from sim.config.schema import Config, UncertainParameter
from sim.errors import ConfigError
from sim.model.streams import purpose_seed, replication_seed

__all__ = ["apply_uncertainty", "check_uncertainty", "draw_parameters", "quantile"]

_STD_NORMAL = NormalDist()


def quantile(spec: UncertainParameter, u: float) -> float:
    """Value of ``spec`` at cumulative probability ``u`` in (0, 1)."""
    u = min(max(u, 1e-12), 1.0 - 1e-12)
    kind = spec.distribution
    if kind == "uniform":
        assert spec.low is not None and spec.high is not None
        x = spec.low + u * (spec.high - spec.low)
    elif kind == "triangular":
        a, c, b = spec.low, spec.mode, spec.high
        assert a is not None and b is not None and c is not None
        if b == a:
            x = a
        elif u < (c - a) / (b - a):
            x = a + math.sqrt(u * (b - a) * (c - a))
        else:
            x = b - math.sqrt((1.0 - u) * (b - a) * (b - c))
    elif kind == "normal":
        assert spec.mean is not None and spec.sd is not None
        x = spec.mean + spec.sd * _STD_NORMAL.inv_cdf(u)
        if spec.low is not None:
            x = max(x, spec.low)
        if spec.high is not None:
            x = min(x, spec.high)
    elif kind == "lognormal":
        assert spec.median is not None and spec.sigma is not None
        x = spec.median * math.exp(spec.sigma * _STD_NORMAL.inv_cdf(u))
    else:  # choice
        assert spec.values is not None
        x = spec.values[min(int(u * len(spec.values)), len(spec.values) - 1)]
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
