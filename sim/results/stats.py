"""Statistics across replications: quantiles, means and confidence intervals.

Replications are independent and identically distributed, so the 95%
confidence interval of a mean is the Student-t interval
``mean ± t(0.975, n-1) · sd / √n``. Quantiles use linear interpolation
between order statistics (numpy's and pandas' default), so they are exact
for the replications run, not estimates from a sketch.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["QUANTILES", "STAT_COLUMNS", "describe", "describe_matrix", "mser5", "t_half_width"]

QUANTILES: tuple[float, ...] = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)

#: Columns :func:`describe` adds after the grouping columns.
STAT_COLUMNS: tuple[str, ...] = (
    "n",
    "mean",
    "sd",
    *(f"p{round(100 * q):02d}" for q in QUANTILES),
    "ci95_low",
    "ci95_high",
    "ci95_half_width",
)


def t_half_width(sd: np.ndarray, n: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Half-width of the Student-t confidence interval of a mean (NaN where n < 2).

    >>> round(float(t_half_width(np.array([1.0]), np.array([4]))[0]), 4)
    1.5912
    """
    n = np.asarray(n, dtype=float)
    sd = np.asarray(sd, dtype=float)
    df = np.maximum(n - 1, 1)
    # scipy.special.stdtrit is the t quantile without importing scipy.stats (~1 s).
    t = special.stdtrit(df, 0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = t * sd / np.sqrt(n)
    return np.where(n > 1, half, np.nan)


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

    Returns
    -------
    pandas.DataFrame
        The grouping columns followed by :data:`STAT_COLUMNS`, in order of
        first appearance of each group. NaN values (e.g. a share with an
        empty denominator) are left out of ``n`` and of every statistic.

    """
    grouped = frame.groupby(by, observed=True, sort=False)[value]
    out = grouped.agg(n="count", mean="mean", sd="std")
    q = grouped.quantile(list(QUANTILES)).unstack()
    q.columns = [f"p{round(100 * c):02d}" for c in q.columns]
    out = out.join(q)
    half = t_half_width(out["sd"].to_numpy(), out["n"].to_numpy())
    out["ci95_low"] = out["mean"] - half
    out["ci95_high"] = out["mean"] + half
    out["ci95_half_width"] = half
    return out.reset_index()


def describe_matrix(values: np.ndarray) -> pd.DataFrame:
    """The statistics of :func:`describe` for each column of a replications × cells matrix.

    A lean path for large batches: one float per value and no grouping, so it
    needs a fraction of the memory of :func:`describe` on a tidy table. NaN
    values are left out, as in :func:`describe`.

    >>> describe_matrix(np.array([[1.0, 10.0], [3.0, 30.0]]))["mean"].tolist()
    [2.0, 20.0]
    """
    v = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN or single-value cells
        n = (~np.isnan(v)).sum(axis=0)
        has_nan = bool(np.isnan(v).any())
        mean = np.nanmean(v, axis=0) if has_nan else v.mean(axis=0)
        sd = np.nanstd(v, axis=0, ddof=1) if has_nan else v.std(axis=0, ddof=1)
        sd = np.where(n > 1, sd, np.nan)
        quant = (np.nanquantile if has_nan else np.quantile)(v, list(QUANTILES), axis=0)
    out = pd.DataFrame({"n": n, "mean": mean, "sd": sd})
    for q, row in zip(QUANTILES, quant, strict=True):
        out[f"p{round(100 * q):02d}"] = row
    half = t_half_width(sd, n)
    out["ci95_low"] = mean - half
    out["ci95_high"] = mean + half
    out["ci95_half_width"] = half
    return out


def mser5(series: np.ndarray, *, batch: int = 5) -> tuple[int, np.ndarray]:
    """MSER-5 truncation point of an output series (White 1997; Franklin & White 2008).

    The series is cut into batch means of ``batch`` observations (a trailing
    incomplete batch is dropped). For each candidate truncation ``d`` (in
    batches) the marginal standard error is

        MSER(d) = Σ_{j>d} (Z_j - Z̄_d)² / (m - d)²

    and the suggestion is the ``d`` that minimises it, searched over the first
    half of the batches only (a minimum later than that means the run is too
    short to show a steady state).

    Parameters
    ----------
    series
        One observation per period (e.g. children looked after each month),
        usually averaged across replications first.
    batch
        Batch size; 5 gives MSER-5.

    Returns
    -------
    tuple
        ``(truncate, mser)``: observations to delete from the start (a
        multiple of ``batch``) and the MSER statistic for each ``d`` searched.

    Examples
    --------
    >>> y = np.r_[np.zeros(50), np.full(100, 10.0)]
    >>> mser5(y)[0]
    50

    """
    y = np.asarray(series, dtype=float)
    m = len(y) // batch
    if m < 2:
        raise ValueError(f"MSER-{batch} needs at least {2 * batch} observations, got {len(y)}")
    z = y[: m * batch].reshape(m, batch).mean(axis=1)
    # Tail sums from each d to the end, computed once: O(m).
    tail_n = np.arange(m, 0, -1, dtype=float)
    tail_sum = np.cumsum(z[::-1])[::-1]
    tail_sq = np.cumsum((z * z)[::-1])[::-1]
    mean_d = tail_sum / tail_n
    sse = np.maximum(tail_sq - tail_n * mean_d * mean_d, 0.0)
    stat = sse / (tail_n * tail_n)
    half = stat[: m // 2 + 1] if m >= 2 else stat
    d = int(np.argmin(half))
    return d * batch, half
