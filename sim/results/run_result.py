"""The result of a batch: tidy tables of each replication, and of the whole batch.

:class:`ReplicationTables` holds one replication's tables as they come back
from a worker; :class:`ReplicationFailure` one that raised; :class:`RunResult`
a whole batch (summary, monthly series, drawn parameters, config, seed and
provenance), as :func:`sim.run` returns it and :func:`sim.results.reader.load_results`
reads it back from a result folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.config.schema import Config
from sim.results.stats import describe

__all__ = ["ReplicationFailure", "ReplicationTables", "RunResult", "parameters_frame"]


@dataclass
class ReplicationTables:
    """Tables of one replication.

    Attributes
    ----------
    replication
        Replication index.
    summary
        Tidy summary: scenario, replication, measure, period, value.
    timeseries
        Tidy monthly series: scenario, replication, date, measure, category, value.
    events
        SimPy events processed.
    parameters
        Values drawn for the config's uncertain parameters (empty if none).
    scenario
        Scenario label.

    """

    replication: int
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    events: int = 0
    parameters: dict[str, float] = field(default_factory=dict)
    scenario: str = "baseline"


@dataclass(frozen=True)
class ReplicationFailure:
    """A replication that raised: enough to re-run it alone."""

    scenario: str
    replication: int
    seed: int
    error: str
    traceback: str = ""

    def describe(self) -> str:
        """One line naming the replication, its seed and the error."""
        return (
            f"replication {self.replication} (root seed {self.seed}, scenario "
            f"{self.scenario!r}) failed: {self.error}"
        )


@dataclass
class RunResult:
    """Results of a batch of replications.

    Attributes
    ----------
    summary
        Tidy: scenario, replication, measure, period, value.
    timeseries
        Tidy: scenario, replication, date, measure, category, value (monthly).
    config
        The resolved config that was run.
    seed
        Root seed.
    manifest
        Provenance (config, seed, versions, commit, times).
    parameters
        Tidy values drawn for uncertain parameters: scenario, replication,
        parameter, value (empty without ``[parameter_uncertainty]``).

    """

    summary: pd.DataFrame
    timeseries: pd.DataFrame
    config: Config
    seed: int
    manifest: dict[str, Any] = field(default_factory=dict)
    parameters: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["scenario", "replication", "parameter", "value"]
        )
    )

    @property
    def replications(self) -> int:
        """Number of replications in the result."""
        return int(self.summary["replication"].nunique())

    def summary_stats(self) -> pd.DataFrame:
        """Mean, SD, P5–P95 and 95% CI of the mean per scenario, measure and period."""
        return describe(self.summary, ["scenario", "measure", "period"])

    def timeseries_stats(self) -> pd.DataFrame:
        """Quantiles per scenario, date, measure and category across replications."""
        return describe(self.timeseries, ["scenario", "date", "measure", "category"])

    def summary_wide(self) -> pd.DataFrame:
        """One row per replication, one column per ``measure[period]``."""
        s = self.summary
        wide = s.pivot_table(
            index=["scenario", "replication"],
            columns=["measure", "period"],
            values="value",
            observed=True,
        )
        wide.columns = [f"{m}[{p}]" for m, p in wide.columns]
        return wide.reset_index()


def parameters_frame(tables: Iterable[ReplicationTables]) -> pd.DataFrame:
    """Tidy table of the parameter values drawn in each replication."""
    rows = [
        (t.scenario, t.replication, key, value)
        for t in tables
        for key, value in t.parameters.items()
    ]
    return pd.DataFrame(rows, columns=["scenario", "replication", "parameter", "value"])
