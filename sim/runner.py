"""Replications of a config: seeds, backends, and the tables they produce.

The runner knows nothing of placements or children: it calls
:func:`sim.model.simulate` for replication ``k`` of root seed ``s`` and turns
the output into tidy tables with ``scenario`` and ``replication`` columns.
Replication ``k`` gives the same numbers whatever backend or worker count
runs it, because its random streams depend only on ``(s, k)``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from sim.config.schema import Config
from sim.manifest import run_manifest
from sim.model.simulation import simulate
from sim.results import summary_frame, timeseries_frame
from sim.stats import describe

__all__ = ["RunResult", "replication_tables", "run"]

Backend = Literal["serial", "process"]


@dataclass
class ReplicationTables:
    """Tables of one replication."""

    replication: int
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    events: int = 0


def replication_tables(
    cfg: Config, seed: int, replication: int, scenario: str = "baseline"
) -> ReplicationTables:
    """Run replication ``replication`` of ``cfg`` under root ``seed`` and tabulate it."""
    out = simulate(cfg, seed=seed, replication=replication)
    summary = summary_frame(out, cfg)
    ts = timeseries_frame(out, cfg)
    for frame in (summary, ts):
        frame.insert(0, "replication", replication)
        frame.insert(0, "scenario", scenario)
    return ReplicationTables(replication, summary, ts, out.events)


def _chunk(cfg: Config, seed: int, reps: list[int], scenario: str) -> list[ReplicationTables]:
    return [replication_tables(cfg, seed, k, scenario) for k in reps]


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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

    """

    summary: pd.DataFrame
    timeseries: pd.DataFrame
    config: Config
    seed: int
    manifest: dict[str, Any] = field(default_factory=dict)

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


def run(
    config: Config,
    *,
    replications: int = 10,
    seed: int = 20160401,
    scenario: str = "baseline",
    backend: Backend = "serial",
    workers: int | None = None,
    chunk_size: int | None = None,
    on_done: Callable[[ReplicationTables], None] | None = None,
    replication_indices: Iterable[int] | None = None,
    source: str | None = None,
) -> RunResult:
    """Run replications of ``config`` and collect tidy tables.

    Parameters
    ----------
    config
        A validated config (see :func:`sim.load_config`).
    replications
        Number of replications (indices ``0 .. replications-1``).
    seed
        Root seed; replication ``k`` uses streams derived from ``(seed, k)``.
    scenario
        Label written in the ``scenario`` column.
    backend
        ``"serial"`` (one process) or ``"process"`` (a local process pool).
    workers
        Processes for the pool (default: all cores).
    chunk_size
        Replications per task sent to a worker (default: spread evenly, ≥ 1).
    on_done
        Called with each replication's tables as it completes (e.g. progress).
    replication_indices
        Run exactly these replication indices instead of ``range(replications)``.
    source
        Where the config came from, for the manifest.

    Examples
    --------
    >>> import sim
    >>> cfg = sim.load_config("configs/worcestershire-2016.toml")  # doctest: +SKIP
    >>> res = sim.run(cfg, replications=4, seed=1)                  # doctest: +SKIP
    >>> res.summary_stats().query("measure == 'looked_after'")       # doctest: +SKIP

    """
    if replications < 1 and replication_indices is None:
        raise ValueError(f"replications must be >= 1, got {replications}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    reps = (
        sorted(set(replication_indices))
        if replication_indices is not None
        else list(range(replications))
    )
    started = dt.datetime.now(dt.UTC)
    results: list[ReplicationTables] = []
    if backend == "serial" or len(reps) == 1:
        for k in reps:
            tables = replication_tables(config, seed, k, scenario)
            results.append(tables)
            if on_done:
                on_done(tables)
    elif backend == "process":
        n_workers = workers or os.cpu_count() or 1
        size = chunk_size or max(1, len(reps) // (4 * n_workers))
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(_chunk, config, seed, c, scenario) for c in _chunks(reps, size)]
            for fut in futures:
                for tables in fut.result():
                    results.append(tables)
                    if on_done:
                        on_done(tables)
    else:
        raise ValueError(f"unknown backend {backend!r}; expected 'serial' or 'process'")
    results.sort(key=lambda t: t.replication)
    summary = pd.concat([t.summary for t in results], ignore_index=True)
    timeseries = pd.concat([t.timeseries for t in results], ignore_index=True)
    for col in ("measure", "category"):
        if col in timeseries:
            timeseries[col] = timeseries[col].astype("category")
    finished = dt.datetime.now(dt.UTC)
    manifest = run_manifest(
        config,
        seed=seed,
        replications=len(reps),
        started=started,
        finished=finished,
        source=source,
        extra={"backend": backend, "scenario": scenario, "events": sum(t.events for t in results)},
    )
    return RunResult(
        summary=summary, timeseries=timeseries, config=config, seed=seed, manifest=manifest
    )
