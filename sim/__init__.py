"""caresim: discrete-event Monte Carlo simulation of children's social care.

The public API for notebooks and scripts:

>>> import sim
>>> cfg = sim.load_config("configs/worcestershire-2016.toml")   # doctest: +SKIP
>>> result = sim.run(cfg, replications=20, seed=1)                # doctest: +SKIP
>>> result.summary_stats()                                        # doctest: +SKIP

The names below are imported when first used, so that ``import sim`` (and
the ``caresim`` command, whose modules live in this package) start quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim._version import __version__

if TYPE_CHECKING:
    from sim.config import Config, load_config, with_overrides
    from sim.errors import CaresimError, ConfigError
    from sim.experiment.batch import ReplicationError, run
    from sim.experiment.precision import PrecisionTarget
    from sim.model import ModelError, simulate
    from sim.results.reader import load_results
    from sim.results.run_result import RunResult
    from sim.results.store import ResultStore

__all__ = [
    "CaresimError",
    "Config",
    "ConfigError",
    "ModelError",
    "PrecisionTarget",
    "ReplicationError",
    "ResultStore",
    "RunResult",
    "__version__",
    "load_config",
    "load_results",
    "run",
    "simulate",
    "with_overrides",
]

#: Where each public name is defined.
_HOME = {
    "CaresimError": "sim.errors",
    "Config": "sim.config",
    "ConfigError": "sim.errors",
    "ModelError": "sim.model",
    "PrecisionTarget": "sim.experiment.precision",
    "ReplicationError": "sim.experiment.batch",
    "ResultStore": "sim.results.store",
    "RunResult": "sim.results.run_result",
    "load_config": "sim.config",
    "load_results": "sim.results.reader",
    "run": "sim.experiment.batch",
    "simulate": "sim.model",
    "with_overrides": "sim.config",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
