"""Run until precise: add replications until each target measure's 95% CI is narrow enough.

:class:`PrecisionTarget` names the measures and the relative half-width;
:func:`run_to_precision` grows the batch ``0 .. n-1`` (at most doubling) until
every period of every target measure meets it, or the maximum is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config.schema import Config
from sim.errors import CaresimError
from sim.experiment.backends import Backend
from sim.experiment.progress import Progress
from sim.experiment.runner import Sink, run_batch
from sim.results.run_result import (
    ReplicationFailure,
)
from sim.results.stats import describe
from sim.results.tables import SUMMARY_MEASURES

__all__ = ["PrecisionTarget", "precision_table", "run_to_precision"]


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
