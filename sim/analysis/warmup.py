"""Warm-up analysis for runs that start from empty: Welch's plot and MSER-5.

A run that starts with nobody in care under-counts children looked after
until entries and exits balance. :func:`analyse_warmup` averages the monthly
count across replications (Welch's method), and applies MSER-5
(:func:`sim.results.stats.mser5`) to the average to suggest how many months to
discard; :func:`plot_warmup` draws the cumulative mean of each replication
and of the average, with the suggested truncation marked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.loader import with_overrides
from sim.config.schema import Config
from sim.errors import CaresimError
from sim.results.stats import mser5

__all__ = ["WarmupResult", "analyse_warmup", "plot_warmup", "warmup_config"]


def warmup_config(cfg: Config, *, keep_initial_population: bool = False) -> Config:
    """Return the config to study: every month reported, nobody in the system at first.

    With ``keep_initial_population`` the starting population is kept.
    """
    overrides: dict[str, object] = {"run.warmup_days": 0}
    if not keep_initial_population:
        overrides["initial_population"] = {}
    return with_overrides(cfg, overrides)


@dataclass(frozen=True)
class WarmupResult:
    """Monthly series of one measure across replications, and the MSER-5 suggestion.

    Attributes
    ----------
    months
        First day of each month.
    series
        One row per replication, one column per month.
    truncate_months
        Months MSER-5 suggests discarding (on the mean across replications).
    per_replication
        MSER-5 truncation of each replication's own series, in months.
    warmup_days
        Days from the start to the first month kept: a value for ``run.warmup_days``.
    late
        True when the suggestion is in the second half of the searched range,
        which means the run is too short to show a steady state.

    """

    months: tuple[dt.date, ...]
    series: np.ndarray
    truncate_months: int
    per_replication: tuple[int, ...]
    warmup_days: int
    late: bool

    @property
    def mean(self) -> np.ndarray:
        """Mean across replications, month by month."""
        return np.asarray(self.series.mean(axis=0))

    def table(self) -> pd.DataFrame:
        """Month, mean across replications and its cumulative mean."""
        mean = self.mean
        return pd.DataFrame(
            {
                "month": list(self.months),
                "mean": mean,
                "cumulative_mean": np.cumsum(mean) / np.arange(1, len(mean) + 1),
                "kept": np.arange(len(mean)) >= self.truncate_months,
            }
        )


def analyse_warmup(
    timeseries: pd.DataFrame, *, measure: str = "looked_after", category: str = "all"
) -> WarmupResult:
    """MSER-5 warm-up suggestion for one monthly measure of several replications."""
    sel = timeseries[(timeseries["measure"] == measure) & (timeseries["category"] == category)]
    if sel.empty:
        raise CaresimError(f"no time series for {measure} ({category}) in the results")
    wide = sel.pivot_table(index="replication", columns="date", values="value", observed=True)
    months = tuple(pd.Timestamp(d).date() for d in wide.columns)
    series = wide.to_numpy(dtype=float)
    if series.shape[1] < 10:
        raise CaresimError(
            f"MSER-5 needs at least 10 months of output, got {series.shape[1]}; use more --years"
        )
    truncate, stat = mser5(series.mean(axis=0))
    per_rep = tuple(mser5(row)[0] for row in series)
    late = truncate // 5 == len(stat) - 1
    warmup_days = (months[truncate] - months[0]).days if truncate < len(months) else 0
    return WarmupResult(months, series, truncate, per_rep, warmup_days, late)


def plot_warmup(result: WarmupResult, path: str | Path, *, title: str = "") -> Path:
    """Save the cumulative-mean plot (PNG) with the MSER-5 truncation marked."""
    import matplotlib.pyplot as plt

    months = pd.to_datetime(list(result.months))
    steps = np.arange(1, result.series.shape[1] + 1)
    fig, ax = plt.subplots(figsize=(9, 5))
    for row in result.series:
        ax.plot(months, np.cumsum(row) / steps, color="0.75", linewidth=0.8)
    mean = result.mean
    ax.plot(months, mean, color="tab:blue", linewidth=1.2, label="mean across replications")
    ax.plot(
        months,
        np.cumsum(mean) / steps,
        color="black",
        linewidth=2,
        label="cumulative mean (grey: each replication)",
    )
    if result.truncate_months < len(months):
        cut = months[result.truncate_months]
        ax.axvline(cut, color="tab:red", linestyle="--", label="MSER-5 truncation")
        kept = mean[result.truncate_months :]
        ax.axhline(kept.mean(), color="tab:red", linewidth=0.8, alpha=0.6)
    ax.set_xlabel("month")
    ax.set_ylabel("children looked after")
    ax.set_title(title or "Warm-up: children looked after, started from empty")
    ax.legend(loc="lower right")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
