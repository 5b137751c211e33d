"""Counting estimators: entry rates and trend, placement mix, moves, in-house shares, re-entry.

Every function returns a tidy DataFrame with the estimate, its uncertainty
(standard error and/or 95% interval) and the number of observations it rests
on. Intervals: exact Poisson (chi-square) for counts per unit exposure,
Wilson for proportions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.calibrate.codes import CATEGORY_ORDER

__all__ = [
    "Trend",
    "band_index",
    "band_labels",
    "entry_mix",
    "entry_rates",
    "entry_trend",
    "in_house_shares",
    "move_rates",
    "poisson_ci",
    "reentry_share",
    "wilson_ci",
]

_Z95 = 1.959963984540054
_DAYS_PER_YEAR = 365.25


def band_labels(edges: Sequence[float]) -> list[str]:
    """Labels ``"lo-hi"`` of the bands between consecutive ``edges`` (years)."""
    return [f"{lo:g}-{hi:g}" for lo, hi in pairwise(edges)]


def band_index(age_years: np.ndarray | pd.Series, edges: Sequence[float]) -> np.ndarray:
    """Index of the band of each age (ages at or above the last edge go in the last band)."""
    idx = np.searchsorted(np.asarray(edges), np.asarray(age_years, dtype=float), side="right") - 1
    return np.clip(idx, 0, len(edges) - 2)


def poisson_ci(count: float, exposure: float) -> tuple[float, float]:
    """Exact 95% interval of a Poisson rate ``count / exposure``."""
    if exposure <= 0:
        return (math.nan, math.nan)
    lo = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    hi = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return (lo / exposure, hi / exposure)


def wilson_ci(k: float, n: float) -> tuple[float, float]:
    """Wilson 95% interval of a proportion ``k / n`` (scipy's ``binomtest``)."""
    if n <= 0:
        return (math.nan, math.nan)
    ci = stats.binomtest(round(k), round(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return (float(ci.low), float(ci.high))


def _years_covered(window_start: pd.Timestamp, as_at: pd.Timestamp) -> list[tuple[int, float]]:
    """Collection years (year ending) in the window and the share of each covered."""
    out = []
    year = window_start.year + (1 if window_start.month >= 4 else 0)
    while True:
        y_start = pd.Timestamp(year - 1, 4, 1)
        y_end = pd.Timestamp(year, 3, 31)
        if y_start > as_at:
            break
        lo, hi = max(y_start, window_start), min(y_end, as_at)
        share = ((hi - lo).days + 1) / ((y_end - y_start).days + 1)
        if share > 0:
            out.append((year, share))
        year += 1
    return out


def entry_rates(
    periods: pd.DataFrame,
    window_start: pd.Timestamp,
    as_at: pd.Timestamp,
    edges: Sequence[float],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Entries to care per collection year and age band, and the rate per year by band.

    Only periods starting inside the data window with RNE S count as entries.

    Returns
    -------
    by_year
        year_ending, band, entries, exposure_years (share of the year covered).
    rates
        band, entries, exposure_years, rate_per_year, se, lower, upper
        (exact Poisson 95%), plus a row ``all``.

    """
    labels = band_labels(edges)
    p = periods[
        (periods["start"] >= window_start) & (periods["start"] <= as_at) & periods["start_known"]
    ]
    years = _years_covered(window_start, as_at)
    yidx = pd.Index([y for y, _ in years], name="year_ending")
    band = pd.Categorical.from_codes(band_index(p["age_at_entry_years"], edges), labels)
    counts = (
        pd.DataFrame({"year_ending": p["year_ending"].to_numpy(), "band": band})
        .groupby(["year_ending", "band"], observed=False)
        .size()
        .unstack("band")
        .reindex(index=yidx, columns=labels, fill_value=0)
        .fillna(0)
    )
    exposure = pd.Series({y: s for y, s in years})
    by_year = counts.stack().rename("entries").reset_index()
    by_year["exposure_years"] = by_year["year_ending"].map(exposure)
    total_exposure = float(exposure.sum())
    rows = []
    for label in [*labels, "all"]:
        n = float(counts.to_numpy().sum()) if label == "all" else float(counts[label].sum())
        lo, hi = poisson_ci(n, total_exposure)
        rows.append(
            {
                "band": label,
                "entries": int(n),
                "exposure_years": total_exposure,
                "rate_per_year": n / total_exposure if total_exposure else math.nan,
                "se": math.sqrt(n) / total_exposure if total_exposure else math.nan,
                "lower": lo,
                "upper": hi,
            }
        )
    return by_year, pd.DataFrame(rows)


@dataclass(frozen=True)
class Trend:
    """Log-linear trend of yearly entries: entries = exp(a + b (year - year0)) x exposure.

    Attributes
    ----------
    growth_per_year
        exp(b) - 1, the compound change per year.
    log_slope, log_slope_se
        b and its standard error (quasi-Poisson: inflated by the Pearson
        dispersion when above 1).
    lower, upper
        95% interval of the growth per year.
    dispersion
        Pearson chi-square / (years - 2); 1 when too few years.
    fitted_rate_at_end
        Fitted entries per year in the last year.
    n_years
        Years used.

    """

    growth_per_year: float
    log_slope: float
    log_slope_se: float
    lower: float
    upper: float
    dispersion: float
    fitted_rate_at_end: float
    n_years: int

    @property
    def significant(self) -> bool:
        """True when the 95% interval excludes no change."""
        return self.n_years >= 3 and (self.lower > 0 or self.upper < 0)


def entry_trend(by_year: pd.DataFrame) -> Trend:
    """Fit a Poisson log-linear trend to the yearly total entries.

    Parameters
    ----------
    by_year
        The first table of :func:`entry_rates`.

    """
    tot = by_year.groupby("year_ending").agg(
        entries=("entries", "sum"), exposure=("exposure_years", "first")
    )
    tot = tot[tot["exposure"] > 0.25]
    y = tot["entries"].to_numpy(float)
    e = tot["exposure"].to_numpy(float)
    x = tot.index.to_numpy(float) - float(tot.index.max())
    n = len(y)
    if n < 2 or y.sum() == 0:
        rate = float(y.sum() / e.sum()) if e.sum() else math.nan
        return Trend(0.0, 0.0, math.inf, -1.0, math.inf, 1.0, rate, n)

    def nll(theta: np.ndarray) -> float:
        eta = theta[0] + theta[1] * x
        return float(np.sum(e * np.exp(eta) - y * eta))

    a0 = math.log(max(y.sum() / e.sum(), 1e-9))
    res = optimize.minimize(nll, np.array([a0, 0.0]), method="BFGS")
    a, b = res.x
    mu = e * np.exp(a + b * x)
    info = np.array([[mu.sum(), (mu * x).sum()], [(mu * x).sum(), (mu * x * x).sum()]])
    cov = np.linalg.inv(info)
    dispersion = float(np.sum((y - mu) ** 2 / mu) / (n - 2)) if n > 2 else 1.0
    se = math.sqrt(cov[1, 1] * max(dispersion, 1.0))
    return Trend(
        growth_per_year=math.expm1(b),
        log_slope=float(b),
        log_slope_se=se,
        lower=math.expm1(b - _Z95 * se),
        upper=math.expm1(b + _Z95 * se),
        dispersion=dispersion,
        fitted_rate_at_end=math.exp(a),
        n_years=n,
    )


def entry_mix(
    periods: pd.DataFrame,
    window_start: pd.Timestamp,
    as_at: pd.Timestamp,
    edges: Sequence[float],
) -> pd.DataFrame:
    """Placement category and provider of the first placement, by age band at entry.

    Returns
    -------
    pandas.DataFrame
        band, category, provider, count, n (entries in the band), share,
        lower, upper (Wilson 95%); plus rows with provider ``all`` per category.

    """
    labels = band_labels(edges)
    p = periods[
        (periods["start"] >= window_start) & (periods["start"] <= as_at) & periods["start_known"]
    ]
    band = np.asarray(labels)[band_index(p["age_at_entry_years"], edges)]
    df = pd.DataFrame(
        {
            "band": band,
            "category": p["entry_category"].to_numpy(),
            "provider": p["entry_provider"].to_numpy(),
        }
    )
    rows = []
    for label in labels:
        sub = df[df["band"] == label]
        n = len(sub)
        for cat in CATEGORY_ORDER:
            in_cat = sub[sub["category"] == cat]
            for prov in ("all", "in_house", "external"):
                k = len(in_cat) if prov == "all" else int((in_cat["provider"] == prov).sum())
                if prov != "all" and k == 0:
                    continue
                lo, hi = wilson_ci(k, n)
                rows.append(
                    {
                        "band": label,
                        "category": cat,
                        "provider": prov,
                        "count": k,
                        "n": n,
                        "share": k / n if n else math.nan,
                        "lower": lo,
                        "upper": hi,
                    }
                )
    return pd.DataFrame(rows)


def move_rates(
    placements: pd.DataFrame,
    window_start: pd.Timestamp,
    as_at: pd.Timestamp,
    *,
    teen_age_years: float = 13.0,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Placement moves per placement-year by category, and the teenage multiplier.

    Exposure is placement time inside the window (left-truncated placements
    count from the window start). A breakdown is a move whose
    REASON_PLACE_CHANGE is not CARPL (care plan) or PLACE (status only);
    ``all_moves`` counts every move.

    The breakdown hazard is fitted as a Poisson model
    ``rate = exp(beta_category + gamma * teen)`` (teen: aged 13 or over at the
    placement's start), so ``breakdown_per_year`` is the under-13 rate and
    ``exp(gamma)`` the teenage multiplier, as the simulator uses them.

    Returns
    -------
    rates
        category, placement_years, all_moves, moves_per_year, breakdowns,
        breakdown_per_year (under-13 base), lower, upper, se_log.
    multiplier
        ``{"value", "lower", "upper", "se_log"}`` for the teenage multiplier.

    """
    pl = placements
    start = pl["start"].clip(lower=window_start)
    end = pl["end"].fillna(as_at).clip(upper=as_at)
    years = ((end - start).dt.days.clip(lower=0)) / _DAYS_PER_YEAR
    in_window = (pl["end"].notna()) & (pl["end"] >= window_start) & (pl["end"] <= as_at)
    move = in_window & (pl["end_reason"] == "move")
    brk = move & ~pl["planned"]
    teen = pl["age_at_start_years"] >= teen_age_years
    df = pd.DataFrame(
        {
            "category": pl["category"],
            "teen": teen,
            "years": years,
            "moves": move.astype(int),
            "breaks": brk.astype(int),
        }
    )
    agg = df.groupby(["category", "teen"]).agg(
        years=("years", "sum"), moves=("moves", "sum"), breaks=("breaks", "sum")
    )
    cats = [c for c in CATEGORY_ORDER if c in agg.index.get_level_values(0)]

    def get(cat: str, t: bool, col: str) -> float:
        return float(agg[col].get((cat, t), 0.0))

    m = {c: get(c, False, "breaks") + get(c, True, "breaks") for c in cats}
    e0 = {c: get(c, False, "years") for c in cats}
    e1 = {c: get(c, True, "years") for c in cats}
    usable = [c for c in cats if m[c] > 0 and e0[c] + e1[c] > 0]

    def profile(g: float) -> float:
        ll = 0.0
        for c in usable:
            n_c = e0[c] + math.exp(g) * e1[c]
            beta = math.log(m[c] / n_c)
            ll += m[c] * beta + get(c, True, "breaks") * g - math.exp(beta) * n_c
        return -ll

    has_both = any(e0[c] > 0 and e1[c] > 0 for c in usable)
    if has_both:
        res = optimize.minimize_scalar(profile, bounds=(-3, 3), method="bounded")
        g = float(res.x)
        h = 1e-3
        curv = (profile(g + h) - 2 * profile(g) + profile(g - h)) / (h * h)
        se_g = 1 / math.sqrt(curv) if curv > 0 else math.inf
    else:
        g, se_g = 0.0, math.inf
    multiplier = {
        "value": math.exp(g),
        "lower": math.exp(g - _Z95 * se_g),
        "upper": math.exp(g + _Z95 * se_g),
        "se_log": se_g,
    }
    rows = []
    for c in cats:
        yrs = e0[c] + e1[c]
        moves = get(c, False, "moves") + get(c, True, "moves")
        n_c = e0[c] + math.exp(g) * e1[c]
        base = m[c] / n_c if n_c > 0 else math.nan
        lo, hi = poisson_ci(m[c], n_c) if n_c > 0 else (math.nan, math.nan)
        rows.append(
            {
                "category": c,
                "placement_years": yrs,
                "all_moves": int(moves),
                "moves_per_year": moves / yrs if yrs else math.nan,
                "breakdowns": int(m[c]),
                "breakdown_per_year": base,
                "lower": lo,
                "upper": hi,
                "se_log": 1 / math.sqrt(m[c]) if m[c] > 0 else math.inf,
            }
        )
    return pd.DataFrame(rows), multiplier


def in_house_shares(
    placements: pd.DataFrame, window_start: pd.Timestamp, as_at: pd.Timestamp
) -> pd.DataFrame:
    """Share of placement-days that were in-house, by category, inside the window.

    Returns
    -------
    pandas.DataFrame
        category, in_house_years, placement_years, share, lower, upper (Wilson
        95% on placements starting in the window), n_placements.

    """
    pl = placements
    start = pl["start"].clip(lower=window_start)
    end = pl["end"].fillna(as_at).clip(upper=as_at)
    years = ((end - start).dt.days.clip(lower=0)) / _DAYS_PER_YEAR
    df = pd.DataFrame(
        {
            "category": pl["category"],
            "inh": pl["provider"] == "in_house",
            "years": years,
            "new": (pl["start"] >= window_start) & (pl["start"] <= as_at),
        }
    )
    rows = []
    for cat in CATEGORY_ORDER:
        sub = df[df["category"] == cat]
        if sub.empty:
            continue
        tot = float(sub["years"].sum())
        inh = float(sub.loc[sub["inh"], "years"].sum())
        new = sub[sub["new"]]
        lo, hi = wilson_ci(int(new["inh"].sum()), len(new))
        rows.append(
            {
                "category": cat,
                "in_house_years": inh,
                "placement_years": tot,
                "share": inh / tot if tot else math.nan,
                "lower": lo,
                "upper": hi,
                "n_placements": len(new),
            }
        )
    return pd.DataFrame(rows)


def reentry_share(
    periods: pd.DataFrame, as_at: pd.Timestamp, *, within_days: int = 365
) -> dict[str, float]:
    """Share of children returned home who come back into care within ``within_days``.

    Only returns home at least ``within_days`` before ``as_at`` count, so every
    child has been followed for the whole time.

    Returns
    -------
    dict
        ``{"share", "lower", "upper", "n", "reentered"}`` (Wilson 95%).

    """
    per = periods.sort_values(["child_key", "start"])
    nxt = per.groupby("child_key")["start"].shift(-1)
    home = (
        (per["route_model"] == "return_home")
        & per["end"].notna()
        & (per["end"] <= as_at - pd.Timedelta(days=within_days))
    )
    back = home & nxt.notna() & ((nxt - per["end"]).dt.days <= within_days)
    n, k = int(home.sum()), int(back.sum())
    lo, hi = wilson_ci(k, n)
    return {"share": k / n if n else math.nan, "lower": lo, "upper": hi, "n": n, "reentered": k}
