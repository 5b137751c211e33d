"""Statistics across replications: quantiles, means and confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["QUANTILES", "describe"]

QUANTILES: tuple[float, ...] = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)


def describe(frame: pd.DataFrame, by: list[str], value: str = "value") -> pd.DataFrame:
    """Mean, SD, quantiles and a 95% t-interval of the mean per group.

    Parameters
    ----------
    frame
        Tidy table with one row per replication and group.
    by
        Grouping columns (e.g. ``["scenario", "measure", "period"]``).
    value
        Column to describe.

    """
    grouped = frame.groupby(by, observed=True, sort=False)[value]
    out = grouped.agg(n="count", mean="mean", sd="std")
    q = grouped.quantile(list(QUANTILES)).unstack()
    q.columns = [f"p{int(round(100 * c)):02d}" for c in q.columns]
    out = out.join(q)
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * out["sd"].to_numpy() / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    out["ci95_low"] = out["mean"] - half
    out["ci95_high"] = out["mean"] + half
    return out.reset_index()
