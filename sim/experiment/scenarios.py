"""Scenario comparison with common random numbers, and parameter sweeps.

Every scenario runs replications ``0 .. n-1`` of the same root seed, so
replication ``k`` of each sees the same families arriving with the same needs
and the same luck (see :mod:`sim.model.streams`). The difference
``scenario − base`` is then taken replication by replication, and its spread
is the effect of the change alone, not of two different draws of chance:
the 95% confidence interval of a paired difference is typically many times
narrower than that of two independent runs.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sim.config.schema import Config
from sim.errors import CaresimError
from sim.experiment.backends import Backend
from sim.experiment.progress import Progress
from sim.experiment.runner import MemorySink, Task, default_chunk_size, execute, plan_chunks
from sim.experiment.uncertainty import check_uncertainty
from sim.results.run_result import ReplicationFailure, ReplicationTables
from sim.results.stats import describe

__all__ = [
    "paired_differences",
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
) -> tuple[pd.DataFrame, list[ReplicationFailure]]:
    """Run every config with the same seed and replication indices.

    All scenarios' chunks are submitted together, so the workers stay busy
    across scenarios. Returns the combined summary (scenario = the mapping's
    key) in scenario then replication order, and any failures.
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
    return summary, sorted(failures, key=lambda f: (f.scenario, f.replication))


def paired_differences(summary: pd.DataFrame, base: str) -> pd.DataFrame:
    """Paired differences ``scenario − base`` per scenario, measure and period.

    Parameters
    ----------
    summary
        Tidy summary of several scenarios run with the same seed.
    base
        Label of the base scenario.

    Returns
    -------
    pandas.DataFrame
        scenario, measure, period, n, base_mean, scenario_mean, and of the
        difference: mean, sd, ci95_low, ci95_high (t-interval of the mean
        difference), p10 and p90 (the spread of the difference across
        replications), plus relative = mean difference / base mean.

    """
    if base not in set(summary["scenario"]):
        raise CaresimError(f"base scenario {base!r} is not in the results")
    keys = ["replication", "measure", "period"]
    b = summary[summary["scenario"] == base][[*keys, "value"]]
    others = summary[summary["scenario"] != base]
    paired = others.merge(b, on=keys, suffixes=("", "_base"), how="inner", validate="m:1")
    paired["diff"] = paired["value"] - paired["value_base"]
    stats = describe(paired, ["scenario", "measure", "period"], value="diff")
    means = (
        paired.groupby(["scenario", "measure", "period"], observed=True, sort=False)[
            ["value", "value_base"]
        ]
        .mean()
        .rename(columns={"value": "scenario_mean", "value_base": "base_mean"})
        .reset_index()
    )
    out = stats.merge(means, on=["scenario", "measure", "period"], how="left")
    out = out.rename(
        columns={
            "mean": "diff_mean",
            "sd": "diff_sd",
            "ci95_low": "diff_ci95_low",
            "ci95_high": "diff_ci95_high",
            "p10": "diff_p10",
            "p90": "diff_p90",
        }
    )
    base_mean = out["base_mean"].where(out["base_mean"] != 0)
    out["relative"] = out["diff_mean"] / base_mean
    return out[
        [
            "scenario",
            "measure",
            "period",
            "n",
            "base_mean",
            "scenario_mean",
            "diff_mean",
            "diff_sd",
            "diff_ci95_low",
            "diff_ci95_high",
            "diff_p10",
            "diff_p90",
            "relative",
        ]
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
