"""caresim: discrete-event Monte Carlo simulation of children's social care.

The public API for notebooks and scripts:

>>> import sim
>>> cfg = sim.load_config("configs/worcestershire-2016.toml")   # doctest: +SKIP
>>> result = sim.run(cfg, replications=20, seed=1)                # doctest: +SKIP
>>> result.summary_stats()                                        # doctest: +SKIP
"""

from sim._version import __version__
from sim.config import Config, load_config, with_overrides
from sim.errors import CaresimError, ConfigError
from sim.model import ModelError, simulate
from sim.runner import PrecisionTarget, ReplicationError, RunResult, run
from sim.store import ResultStore

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
    "run",
    "simulate",
    "with_overrides",
]
