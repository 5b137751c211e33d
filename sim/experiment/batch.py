"""A batch in memory: :func:`run`, the public entry point behind :func:`sim.run`.

It runs replications of one config on a backend (optionally until a
:class:`~sim.experiment.precision.PrecisionTarget` is met) and returns a
:class:`~sim.results.run_result.RunResult`; :class:`ReplicationError` says
which replications raised. Writing to a folder instead is
:func:`sim.experiment.folder.run_to_folder`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd

from sim.config.schema import Config
from sim.defaults import DEFAULT_SEED
from sim.errors import CaresimError
from sim.experiment.backends import Backend
from sim.experiment.precision import PrecisionTarget, run_to_precision
from sim.experiment.progress import Progress
from sim.experiment.runner import (
    BackendName,
    MemorySink,
    concat_frames,
    open_backend,
    run_batch,
)
from sim.experiment.uncertainty import check_uncertainty
from sim.results.manifest import run_manifest
from sim.results.run_result import (
    ReplicationFailure,
    ReplicationTables,
    RunResult,
    parameters_frame,
)

__all__ = ["ReplicationError", "run"]


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
    summary = concat_frames([t.summary for t in ordered])
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
    be = open_backend(backend, workers, scheduler)
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
