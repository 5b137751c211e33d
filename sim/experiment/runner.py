"""Replications of a config: seeds, chunks, backends, and the tables they produce.

The runner knows nothing of placements or children: it calls
:func:`sim.model.simulate` for replication ``k`` of root seed ``s`` and turns
the output into tidy tables with ``scenario`` and ``replication`` columns.
Replication ``k`` gives the same numbers whatever backend, chunking or worker
count runs it, because its random streams depend only on ``(s, k)``; results
are always put back in replication order.

Work travels in :class:`Task` chunks of consecutive replications, so the
per-task overhead of a backend (pickling, scheduling) is paid once per chunk.
A replication that raises is returned as a :class:`ReplicationFailure`
naming its index and seed; the rest of its chunk still runs.

Results flow into a *sink*: :class:`MemorySink` keeps them (what
:func:`run` returns), :class:`sim.results.store.ResultStore` writes them to disk as
they arrive (what ``caresim run --out`` uses).
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import pandas as pd

from sim.config.schema import Config
from sim.errors import CaresimError
from sim.experiment.backends import Backend, make_backend
from sim.experiment.progress import Progress
from sim.experiment.uncertainty import apply_uncertainty
from sim.model.simulation import simulate
from sim.results.run_result import (
    ReplicationFailure,
    ReplicationTables,
)
from sim.results.tables import summary_frame, timeseries_frame

__all__ = [
    "BackendName",
    "MemorySink",
    "Sink",
    "Task",
    "concat_frames",
    "default_chunk_size",
    "execute",
    "open_backend",
    "plan_chunks",
    "replication_tables",
    "run_batch",
    "run_task",
]

BackendName = Literal["serial", "process", "dask"]


# ------------------------------------------------------------ one replication


def replication_tables(
    cfg: Config,
    seed: int,
    replication: int,
    scenario: str = "baseline",
    *,
    timeseries: Sequence[str] | None = None,
) -> ReplicationTables:
    """Run replication ``replication`` of ``cfg`` under root ``seed`` and tabulate it.

    Parameters
    ----------
    cfg
        The config; uncertain parameters are drawn and substituted first.
    seed
        Root seed of the batch.
    replication
        Replication index.
    scenario
        Label written in the ``scenario`` column.
    timeseries
        Time-series measures to keep (``None``: all; empty: none).

    """
    run_cfg, params = apply_uncertainty(cfg, seed, replication)
    out = simulate(run_cfg, seed=seed, replication=replication)
    summary = summary_frame(out, run_cfg)
    ts = timeseries_frame(out, run_cfg)
    if timeseries is not None:
        ts = ts[ts["measure"].isin(list(timeseries))].reset_index(drop=True)
    for frame in (summary, ts):
        frame.insert(0, "replication", replication)
        frame.insert(0, "scenario", scenario)
    return ReplicationTables(replication, summary, ts, out.events, params, scenario)


@dataclass(frozen=True)
class Task:
    """A chunk of replications of one config, the unit of work sent to a backend."""

    config: Config
    seed: int
    replications: tuple[int, ...]
    scenario: str = "baseline"
    timeseries: tuple[str, ...] | None = None


def run_task(task: Task) -> list[ReplicationTables | ReplicationFailure]:
    """Run every replication of a task; one that raises becomes a failure record."""
    out: list[ReplicationTables | ReplicationFailure] = []
    for k in task.replications:
        try:
            out.append(
                replication_tables(
                    task.config, task.seed, k, task.scenario, timeseries=task.timeseries
                )
            )
        except Exception as exc:
            out.append(
                ReplicationFailure(
                    task.scenario,
                    k,
                    task.seed,
                    f"{type(exc).__name__}: {exc}",
                    traceback.format_exc(),
                )
            )
    return out


def default_chunk_size(n: int, workers: int) -> int:
    """Replications per task: about four tasks per worker, at most 16 per task.

    Four tasks per worker keeps workers busy to the end; the cap of 16 keeps
    progress and the result store current (a chunk is saved when it ends).
    """
    return max(1, min(16, math.ceil(n / (4 * max(workers, 1)))))


def plan_chunks(indices: Iterable[int], size: int) -> list[tuple[int, ...]]:
    """Split replication indices into chunks of consecutive indices, at most ``size`` each.

    >>> plan_chunks([0, 1, 2, 5, 6, 9], 2)
    [(0, 1), (2,), (5, 6), (9,)]
    """
    if size < 1:
        raise CaresimError(f"chunk size must be >= 1, got {size}")
    chunks: list[tuple[int, ...]] = []
    run: list[int] = []
    for k in sorted(set(indices)):
        if run and (k != run[-1] + 1 or len(run) == size):
            chunks.append(tuple(run))
            run = []
        run.append(k)
    if run:
        chunks.append(tuple(run))
    return chunks


# ------------------------------------------------------------------ sinks


class Sink(Protocol):
    """Where results go as they complete."""

    def done(self) -> set[int]:
        """Replication indices already complete."""
        ...

    def add(self, items: Sequence[ReplicationTables | ReplicationFailure]) -> None:
        """Take the results of one task."""
        ...

    def summary(self, upto: int | None = None) -> pd.DataFrame:
        """Summary rows of complete replications (those below ``upto``), in order."""
        ...


class MemorySink:
    """Keeps every replication's tables in memory, for :func:`run`."""

    def __init__(self) -> None:
        self.tables: dict[int, ReplicationTables] = {}
        self.failures: dict[int, ReplicationFailure] = {}

    def done(self) -> set[int]:
        """Replication indices already complete."""
        return set(self.tables)

    def add(self, items: Sequence[ReplicationTables | ReplicationFailure]) -> None:
        """Keep the tables (or failures) of one task."""
        for item in items:
            if isinstance(item, ReplicationFailure):
                self.failures[item.replication] = item
            else:
                self.tables[item.replication] = item
                self.failures.pop(item.replication, None)

    def ordered(self) -> list[ReplicationTables]:
        """Tables in replication order."""
        return [self.tables[k] for k in sorted(self.tables)]

    def summary(self, upto: int | None = None) -> pd.DataFrame:
        """Summary of complete replications, in replication order."""
        frames = [t.summary for t in self.ordered() if upto is None or t.replication < upto]
        return concat_frames(frames)


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate summary tables (an empty tidy summary when there are none)."""
    if not frames:
        return pd.DataFrame(columns=["scenario", "replication", "measure", "period", "value"])
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------ engine


def open_backend(backend: BackendName | Backend, workers: int | None, scheduler: str | None) -> Any:
    """A backend from its name (made here) or as given (already made by the caller)."""
    if isinstance(backend, str):
        return make_backend(backend, workers=workers, scheduler=scheduler)
    return backend


def execute(
    tasks: Sequence[Task],
    backend: Backend,
    on_result: Callable[[Sequence[ReplicationTables | ReplicationFailure]], None],
) -> None:
    """Run ``tasks`` on an open backend, handing each task's results to ``on_result``."""
    for items in backend.imap(run_task, tasks):
        on_result(items)


def run_batch(
    config: Config,
    *,
    seed: int,
    indices: Iterable[int],
    sink: Sink,
    backend: Backend,
    chunk_size: int | None = None,
    scenario: str = "baseline",
    timeseries: tuple[str, ...] | None = None,
    progress: Progress | None = None,
    on_done: Callable[[ReplicationTables], None] | None = None,
) -> list[ReplicationFailure]:
    """Run the replications in ``indices`` that ``sink`` does not hold yet.

    Returns the failures of this call (their replications stay missing).
    """
    todo = sorted(set(indices) - sink.done())
    size = chunk_size or default_chunk_size(len(todo), backend.workers)
    if backend.name == "serial" and chunk_size is None:
        size = 1  # no per-task overhead in-process; save each replication at once
    tasks = [Task(config, seed, c, scenario, timeseries) for c in plan_chunks(todo, size)]
    failures: list[ReplicationFailure] = []

    def take(items: Sequence[ReplicationTables | ReplicationFailure]) -> None:
        sink.add(items)
        for item in items:
            if isinstance(item, ReplicationFailure):
                failures.append(item)
            elif on_done is not None:
                on_done(item)
        if progress is not None:
            progress.update(len(items))

    execute(tasks, backend, take)
    return sorted(failures, key=lambda f: f.replication)


# --------------------------------------------------------------- precision
