"""Scenario comparison with common random numbers, and parameter sweeps.

Every scenario runs replications ``0 .. n-1`` of the same root seed, so
replication ``k`` of each sees the same families arriving with the same needs
and the same luck (see :mod:`sim.model.streams`). The difference
``scenario − base`` is then taken replication by replication
(:func:`sim.analysis.comparison.paired_stats`), and its spread is the effect
of the change alone, not of two different draws of chance: the 95%
confidence interval of a paired difference is typically many times narrower
than that of two independent runs. :func:`evaluate` runs many configs the
same way for sensitivity analysis and goal-seeking.
"""

from __future__ import annotations

import contextlib
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sim.config.schema import Config
from sim.errors import CaresimError
from sim.experiment.backends import Backend, make_backend
from sim.experiment.progress import Progress
from sim.experiment.runner import (
    MemorySink,
    Task,
    default_chunk_size,
    execute,
    plan_chunks,
)
from sim.experiment.uncertainty import check_uncertainty
from sim.results.run_result import ReplicationFailure, ReplicationTables

__all__ = [
    "evaluate",
    "parse_sweep",
    "run_scenarios",
    "sweep_grid",
    "sweep_label",
]


def run_scenarios(
    configs: Mapping[str, Config],
    *,
    replications: int,
    seed: int,
    backend: Backend,
    chunk_size: int | None = None,
    timeseries: tuple[str, ...] | None = (),
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[ReplicationFailure]]:
    """Run every config with the same seed and replication indices.

    All scenarios' chunks are submitted together, so the workers stay busy
    across scenarios. Returns the combined summary (scenario = the mapping's
    key) and the monthly time series, both in scenario then replication order,
    and any failures. ``timeseries`` names the monthly measures to keep
    (``()``: none, ``None``: all).
    """
    if replications < 1:
        raise CaresimError(f"--replications must be >= 1, got {replications}")
    for cfg in configs.values():
        check_uncertainty(cfg)
    size = chunk_size or default_chunk_size(replications * len(configs), backend.workers)
    tasks = [
        Task(cfg, seed, chunk, label, timeseries)
        for label, cfg in configs.items()
        for chunk in plan_chunks(range(replications), size)
    ]
    sinks = {label: MemorySink() for label in configs}
    failures: list[ReplicationFailure] = []

    def take(items: Sequence[ReplicationTables | ReplicationFailure]) -> None:
        for item in items:
            sinks[item.scenario].add([item])
            if isinstance(item, ReplicationFailure):
                failures.append(item)
        if progress is not None:
            progress.update(len(items))

    execute(tasks, backend, take)
    summary = pd.concat([sinks[label].summary() for label in configs], ignore_index=True)
    frames = [t.timeseries for label in configs for t in sinks[label].ordered()]
    series = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            columns=["scenario", "replication", "date", "measure", "category", "value"]
        )
    )
    return summary, series, sorted(failures, key=lambda f: (f.scenario, f.replication))


def evaluate(
    configs: Sequence[Config],
    *,
    replications: int,
    seed: int,
    backend: str | Backend = "serial",
    workers: int | None = None,
) -> list[pd.DataFrame]:
    """Summary tables of several configs, each run with the same seed and replications.

    This is the engine of sensitivity analysis and goal-seeking: every config
    gets replications ``0 .. replications-1`` of ``seed`` (common random
    numbers). All (config, replication) pairs go to one backend at once, so a
    process pool stays busy even when each config has few replications. Pass
    an open backend (``with make_backend("process") as be: ...``) to reuse its
    workers across calls.

    Returns
    -------
    list of pandas.DataFrame
        One tidy summary (scenario, replication, measure, period, value) per config.

    Raises
    ------
    CaresimError
        If a replication fails (naming the config's position and the replication).

    """
    if replications < 1:
        raise CaresimError(f"replications must be >= 1, got {replications}")
    if not configs:
        return []
    points = {str(i): c for i, c in enumerate(configs)}
    owned = isinstance(backend, str)
    if owned and (backend == "serial" or len(configs) * replications == 1):
        be: Backend = make_backend("serial")
    else:
        be = make_backend(backend, workers=workers) if isinstance(backend, str) else backend
    # One replication per task, so a pool stays busy with few replications per point.
    with be if owned else contextlib.nullcontext(be):
        summary, _series, failures = run_scenarios(
            points, replications=replications, seed=seed, backend=be, chunk_size=1
        )
    if failures:
        lines = [f"point {f.scenario}: {f.describe()}" for f in failures[:10]]
        raise CaresimError("some runs failed:\n  " + "\n  ".join(lines))
    return [
        summary[summary["scenario"] == label].assign(scenario="point").reset_index(drop=True)
        for label in points
    ]


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """Parse ``KEY=V1,V2,...`` where each value is a TOML value (bare words are strings).

    >>> parse_sweep("placement_types.foster_in_house.capacity=230,260")
    ('placement_types.foster_in_house.capacity', [230, 260])
    """
    if "=" not in text:
        raise CaresimError(f"--set {text!r}: expected KEY=V1,V2,...")
    key, raw = (s.strip() for s in text.split("=", 1))
    if not key or not raw:
        raise CaresimError(f"--set {text!r}: expected KEY=V1,V2,...")
    try:
        # A TOML array parses nested tables and quoted commas correctly.
        values = tomllib.loads(f"v = [{raw}]")["v"]
    except tomllib.TOMLDecodeError:
        values = [v.strip() for v in raw.split(",") if v.strip()]
    if not values:
        raise CaresimError(f"--set {text!r}: no values")
    return key, list(values)


def sweep_grid(settings: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
    """Every combination of the swept values, first key varying slowest.

    >>> sweep_grid([("a", [1, 2]), ("b", ["x"])])
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    keys = [k for k, _ in settings]
    if len(set(keys)) != len(keys):
        raise CaresimError(f"a key is swept twice: {', '.join(keys)}")
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(v for _, v in settings))
    ]


def sweep_label(point: Mapping[str, Any]) -> str:
    """Scenario label of a sweep point, e.g. ``capacity=230, fte=205``."""
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in point.items())
