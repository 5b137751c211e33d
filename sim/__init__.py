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
