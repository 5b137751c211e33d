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

import datetime as dt
import math
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from sim.config.schema import Config
from sim.errors import CaresimError
from sim.experiment.backends import Backend, make_backend
from sim.experiment.progress import Progress
from sim.experiment.uncertainty import apply_uncertainty, check_uncertainty
from sim.model.simulation import simulate
from sim.model.streams import DEFAULT_SEED
from sim.results.manifest import run_manifest
from sim.results.run_result import (
    ReplicationFailure,
    ReplicationTables,
    RunResult,
    parameters_frame,
)
from sim.results.stats import describe
from sim.results.tables import SUMMARY_MEASURES, summary_frame, timeseries_frame

__all__ = [
    "MemorySink",
    "PrecisionTarget",
    "ReplicationError",
    "Task",
    "default_chunk_size",
    "execute",
    "plan_chunks",
    "precision_table",
    "replication_tables",
    "run",
    "run_batch",
    "run_task",
    "run_to_precision",
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
        return _concat(frames)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=["scenario", "replication", "measure", "period", "value"])
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------ engine


def _open(backend: BackendName | Backend, workers: int | None, scheduler: str | None) -> Any:
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


@dataclass(frozen=True)
class PrecisionTarget:
    """Stop when the 95% CI half-width of each measure is within ``relative`` of its mean.

    Attributes
    ----------
    measures
        Summary measures that must be precise (every period of each).
    relative
        Largest half-width as a share of ``|mean|`` (0.02 is 2%).
    max_replications
        Give up at this many replications.
    min_replications
        First batch (a CI from fewer replications is not worth trusting).

    """

    measures: tuple[str, ...]
    relative: float
    max_replications: int = 1000
    min_replications: int = 10

    def __post_init__(self) -> None:
        unknown = [m for m in self.measures if m not in SUMMARY_MEASURES]
        if unknown:
            raise CaresimError(
                f"unknown measure {', '.join(map(repr, unknown))}; summary measures are: "
                + ", ".join(SUMMARY_MEASURES)
            )
        if not self.measures:
            raise CaresimError("a precision target needs at least one measure (--measure)")
        if not 0 < self.relative < 1:
            raise CaresimError(f"precision must be between 0 and 1, got {self.relative}")
        if self.min_replications < 2:
            raise CaresimError(f"at least 2 replications are needed, got {self.min_replications}")
        if self.max_replications < self.min_replications:
            raise CaresimError(
                f"--max-replications ({self.max_replications}) must be at least "
                f"{self.min_replications}"
            )


def precision_table(summary: pd.DataFrame, target: PrecisionTarget) -> pd.DataFrame:
    """Half-width / |mean| of each target measure and period, and whether it is met."""
    sel = summary[summary["measure"].isin(target.measures)]
    stats = describe(sel, ["measure", "period"])
    mean = stats["mean"].abs().to_numpy(dtype=float)
    half = stats["ci95_half_width"].to_numpy(dtype=float)
    sd = stats["sd"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(half == 0, 0.0, half / mean)
        # n needed if the SD is about right: (t·sd / (p·|mean|))², with t ≈ 2 from here on.
        need = np.where(sd == 0, 0.0, (2.0 * sd / (target.relative * mean)) ** 2)
    rel = np.where(np.isnan(rel), np.inf, rel)  # fewer than 2 replications
    stats["relative_half_width"] = rel
    stats["met"] = rel <= target.relative
    stats["n_needed"] = np.where(np.isnan(need), np.inf, need)
    return stats[
        [
            "measure",
            "period",
            "n",
            "mean",
            "ci95_half_width",
            "relative_half_width",
            "met",
            "n_needed",
        ]
    ]


def run_to_precision(
    config: Config,
    *,
    target: PrecisionTarget,
    seed: int,
    sink: Sink,
    backend: Backend,
    chunk_size: int | None = None,
    scenario: str = "baseline",
    progress: Progress | None = None,
) -> tuple[int, pd.DataFrame, list[ReplicationFailure]]:
    """Add batches of replications until ``target`` is met or its maximum is reached.

    Replications are always ``0 .. n-1``, and each decision uses only those,
    so the batch sizes (and the final ``n``) are a deterministic function of
    the seed: rerunning, or resuming an interrupted run from a store, makes
    the same decisions and ends at the same ``n``.

    Returns ``(n, precision table, failures)``.
    """
    n = min(target.min_replications, target.max_replications)
    while True:
        if progress is not None:
            progress.set_total(n)
        failures = run_batch(
            config,
            seed=seed,
            indices=range(n),
            sink=sink,
            backend=backend,
            chunk_size=chunk_size,
            scenario=scenario,
            progress=progress,
        )
        table = precision_table(sink.summary(upto=n), target)
        if failures or bool(table["met"].all()) or n >= target.max_replications:
            return n, table, failures
        needed = float(table.loc[~table["met"], "n_needed"].max())
        # Grow at most by doubling: early SD estimates are noisy.
        grow = int(min(max(math.ceil(needed) - n, target.min_replications // 2, 1), n))
        n = min(n + grow, target.max_replications)


# ------------------------------------------------------------------ result


class ReplicationError(CaresimError):
    """Some replications raised; the others' results are in ``result``."""

    def __init__(self, failures: Sequence[ReplicationFailure], result: RunResult | None):
        self.failures = list(failures)
        self.result = result
        lines = "\n  ".join(f.describe() for f in self.failures[:10])
        more = f"\n  ... and {len(self.failures) - 10} more" if len(self.failures) > 10 else ""
        super().__init__(
            f"{len(self.failures)} replication(s) failed:\n  {lines}{more}\n"
            "Re-run one alone with run(..., replication_indices=[k]) or "
            "`caresim run CONFIG --seed SEED --only-replication K`."
        )


def _result(
    sink: MemorySink,
    config: Config,
    seed: int,
    manifest: dict[str, Any],
) -> RunResult:
    ordered = sink.ordered()
    summary = _concat([t.summary for t in ordered])
    timeseries = (
        pd.concat([t.timeseries for t in ordered], ignore_index=True)
        if ordered
        else pd.DataFrame(
            columns=["scenario", "replication", "date", "measure", "category", "value"]
        )
    )
    for col in ("measure", "category"):
        if col in timeseries:
            timeseries[col] = timeseries[col].astype("category")
    return RunResult(
        summary=summary,
        timeseries=timeseries,
        config=config,
        seed=seed,
        manifest=manifest,
        parameters=parameters_frame(ordered),
    )


def run(
    config: Config,
    *,
    replications: int = 10,
    seed: int = DEFAULT_SEED,
    scenario: str = "baseline",
    backend: BackendName | Backend = "serial",
    workers: int | None = None,
    chunk_size: int | None = None,
    on_done: Callable[[ReplicationTables], None] | None = None,
    replication_indices: Iterable[int] | None = None,
    source: str | None = None,
    scheduler: str | None = None,
    precision: PrecisionTarget | None = None,
    timeseries: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run replications of ``config`` and collect tidy tables in memory.

    For large batches use ``caresim run --out DIR`` (or
    :class:`sim.results.store.ResultStore`), which writes each chunk to disk instead.

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
        ``"serial"`` (this process), ``"process"`` (a local process pool),
        ``"dask"`` (a Dask cluster), or an open backend from
        :func:`sim.experiment.backends.make_backend` to reuse across calls.
    workers
        Processes for the pool or LocalCluster (default: all cores).
    chunk_size
        Replications per task sent to a worker (default: see
        :func:`default_chunk_size`).
    on_done
        Called with each replication's tables as it completes (e.g. progress).
    replication_indices
        Run exactly these replication indices instead of ``range(replications)``.
    source
        Where the config came from, for the manifest.
    scheduler
        Dask scheduler address (``backend="dask"`` only; default: a LocalCluster).
    precision
        Instead of a fixed number, add replications until this target is met.
    timeseries
        Time-series measures to keep (``None``: all; empty: none).
    progress
        Progress display to update (default: none).

    Raises
    ------
    ReplicationError
        If any replication raised; ``.result`` holds the others.

    Examples
    --------
    >>> import sim
    >>> cfg = sim.load_config("configs/worcestershire-2016.toml")  # doctest: +SKIP
    >>> res = sim.run(cfg, replications=4, seed=1)                  # doctest: +SKIP
    >>> res.summary_stats().query("measure == 'looked_after'")       # doctest: +SKIP

    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if replication_indices is not None:
        reps = sorted(set(replication_indices))
        if not reps or reps[0] < 0:
            raise ValueError(f"replication indices must be >= 0, got {reps}")
    elif precision is None:
        if replications < 1:
            raise ValueError(f"replications must be >= 1, got {replications}")
        reps = list(range(replications))
    check_uncertainty(config)
    keep = None if timeseries is None else tuple(timeseries)
    sink = MemorySink()
    started = dt.datetime.now(dt.UTC)
    extra: dict[str, Any] = {"scenario": scenario}
    be = _open(backend, workers, scheduler)
    owned = isinstance(backend, str)
    if owned:
        be.__enter__()
    try:
        if precision is not None:
            n, table, failures = run_to_precision(
                config,
                target=precision,
                seed=seed,
                sink=sink,
                backend=be,
                chunk_size=chunk_size,
                scenario=scenario,
                progress=progress,
            )
            extra["precision"] = _precision_record(precision, n, table)
        else:
            failures = run_batch(
                config,
                seed=seed,
                indices=reps,
                sink=sink,
                backend=be,
                chunk_size=chunk_size,
                scenario=scenario,
                timeseries=keep,
                progress=progress,
                on_done=on_done,
            )
    except BaseException as exc:
        if owned:
            be.__exit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        if owned:
            be.__exit__(None, None, None)
    extra.update(
        backend=be.name,
        workers=be.workers,
        events=sum(t.events for t in sink.tables.values()),
        parameter_uncertainty={
            k: v.model_dump(mode="json", exclude_none=True)
            for k, v in config.parameter_uncertainty.items()
        },
    )
    manifest = run_manifest(
        config,
        seed=seed,
        replications=len(sink.tables),
        started=started,
        finished=dt.datetime.now(dt.UTC),
        source=source,
        extra=extra,
    )
    result = _result(sink, config, seed, manifest)
    if failures:
        raise ReplicationError(failures, result)
    return result


def _precision_record(target: PrecisionTarget, n: int, table: pd.DataFrame) -> dict[str, Any]:
    return {
        "measures": list(target.measures),
        "relative_half_width": target.relative,
        "max_replications": target.max_replications,
        "replications_needed": n,
        "met": bool(table["met"].all()),
        "worst": {
            f"{r.measure}[{r.period}]": float(r.relative_half_width) for r in table.itertuples()
        },
    }
