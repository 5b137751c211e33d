"""Front-door estimates from CIN-census-like referrals.

Referral volume, the share closed with no further action, assessment
duration (censored while an assessment is open) and re-referrals within a
year. The simulator's front-door thresholds cannot be read off these counts
(they are percentiles of an unobserved need score), so the writer uses them
for comments and for ``assessment.duration_days`` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from sim.calibrate.loader import CinData
from sim.calibrate.rates import poisson_ci, wilson_ci
from sim.calibrate.survival import ParametricFit, fit_best

__all__ = ["CinEstimates", "estimate_cin"]

_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class CinEstimates:
    """Front-door figures with 95% intervals.

    Attributes
    ----------
    referrals_per_year
        ``{"value", "lower", "upper", "n", "years"}``.
    nfa_share
        Share of referrals with no further action, ``{"value", "lower", "upper", "n"}``.
    rereferral_share
        Share of referrals of a child referred in the previous 12 months.
    assessment_days
        Best fit (by AIC) of assessment duration, or None with too few.
    assessment_aic
        AIC of each family tried.
    assessments
        Number of assessments started (n behind the fit).

    """

    referrals_per_year: dict[str, float]
    nfa_share: dict[str, float]
    rereferral_share: dict[str, float]
    assessment_days: ParametricFit | None
    assessment_aic: dict[str, float] = field(default_factory=dict)
    assessments: int = 0


def estimate_cin(cin: CinData, window_start: pd.Timestamp, as_at: pd.Timestamp) -> CinEstimates:
    """Estimate front-door figures from referrals between ``window_start`` and ``as_at``."""
    r = cin.referrals
    r = r[(r["referral_date"] >= window_start) & (r["referral_date"] <= as_at)]
    years = ((as_at - window_start).days + 1) / _DAYS_PER_YEAR
    n = len(r)
    lo, hi = poisson_ci(n, years)
    per_year = {"value": n / years, "lower": lo, "upper": hi, "n": n, "years": years}
    k = int(r["nfa"].sum())
    lo, hi = wilson_ci(k, n)
    nfa = {"value": k / n if n else math.nan, "lower": lo, "upper": hi, "n": n}
    s = r.sort_values(["child_key", "referral_date"])
    gap = s.groupby("child_key")["referral_date"].diff().dt.days
    eligible = s["referral_date"] >= window_start + pd.Timedelta(days=365)
    k = int(((gap <= 365) & eligible).sum())
    m = int(eligible.sum())
    lo, hi = wilson_ci(k, m)
    rerefs = {"value": k / m if m else math.nan, "lower": lo, "upper": hi, "n": m}
    a = r[r["assessment_start"].notna() & (r["assessment_start"] <= as_at)]
    done = a["assessment_authorised"].notna() & (a["assessment_authorised"] <= as_at)
    ev = (a.loc[done, "assessment_authorised"] - a.loc[done, "assessment_start"]).dt.days
    cens = (as_at - a.loc[~done, "assessment_start"]).dt.days
    fit: ParametricFit | None = None
    aic: dict[str, float] = {}
    if len(ev) >= 20:
        fit, fits = fit_best(ev.to_numpy(float), cens.to_numpy(float))
        aic = {f: v.aic for f, v in fits.items()}
    return CinEstimates(per_year, nfa, rerefs, fit, aic, len(a))
