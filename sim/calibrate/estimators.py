"""All estimates a calibrated config needs, from clean tables and an as-at date.

:func:`estimate` gathers the counting estimators (:mod:`sim.calibrate.rates`),
the exit model (:mod:`sim.calibrate.survival`), the stock on the as-at date
(:mod:`sim.calibrate.population`) and, when given, front-door figures
(:mod:`sim.calibrate.cin`). Each estimate carries its uncertainty; the exit
model's come from a bootstrap over children.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.calibrate.cin import CinEstimates, estimate_cin
from sim.calibrate.cleaning import CleanData, CleaningReport
from sim.calibrate.codes import ROUTE_ORDER
from sim.calibrate.loader import CinData
from sim.calibrate.population import stock_at
from sim.calibrate.rates import (
    Trend,
    band_index,
    band_labels,
    entry_mix,
    entry_rates,
    entry_trend,
    in_house_shares,
    move_rates,
    reentry_share,
)
from sim.calibrate.survival import (
    FAMILIES,
    ExitData,
    ExitMixtureFit,
    ParametricFit,
    fit_best,
    fit_exit_mixture,
)

__all__ = ["DEFAULT_BANDS_YEARS", "Estimates", "estimate", "exit_data"]

#: Age bands (edges, years) used when the caller gives none.
DEFAULT_BANDS_YEARS: tuple[float, ...] = (0, 1, 5, 10, 16, 18)


@dataclass(frozen=True)
class Estimates:
    """Everything estimated from the data, with uncertainty.

    Tables are tidy DataFrames; see the functions that make them in
    :mod:`sim.calibrate.rates`. ``exit_shares`` has band, route, share, lower,
    upper (bootstrap 95%), n (periods in the band), events (exits seen by the
    route). ``exit_durations`` has route, family, median_days, lower, upper
    (bootstrap 95%), mean_days, n_events and the AIC of every family tried.
    """

    as_at: pd.Timestamp
    window_start: pd.Timestamp
    data_end: pd.Timestamp
    entry_edges_years: tuple[float, ...]
    exit_edges_years: tuple[float, ...]
    entries_by_year: pd.DataFrame
    entry_rates: pd.DataFrame
    trend: Trend
    entry_age_mix: pd.DataFrame
    entry_mix: pd.DataFrame
    moves: pd.DataFrame
    teen_multiplier: dict[str, float]
    in_house: pd.DataFrame
    exits: ExitMixtureFit
    exit_shares: pd.DataFrame
    exit_durations: pd.DataFrame
    exit_input: ExitData
    reentry: dict[str, float]
    adoption_pre_exit: ParametricFit | None
    adoption_pre_exit_n: int
    stock: pd.DataFrame
    cleaning: CleaningReport
    entry_ages_years: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Age at entry of every entry in the window (for re-banding; never written out)."""
    orders_under_18: dict[str, int] = field(default_factory=dict)
    """Children who left by adoption, SGO or CAO inside the window and are under 18 on the
    as-at date: a lower bound on those receiving allowances."""
    cin: CinEstimates | None = None
    n_bootstrap: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def observed_years(self) -> float:
        """Length of the data window up to the as-at date, in years."""
        return ((self.as_at - self.window_start).days + 1) / 365.25

    def entries_per_year(self) -> float:
        """Entries per year the calibrated run should reproduce.

        The fitted rate in the last year when the trend is significant,
        otherwise the mean over the window.
        """
        if self.trend.significant:
            return self.trend.fitted_rate_at_end
        row = self.entry_rates[self.entry_rates["band"] == "all"].iloc[0]
        return float(row["rate_per_year"])

    def summary(self) -> pd.DataFrame:
        """One tidy table of the headline estimates.

        Columns: quantity, group, value, lower, upper, n, method.
        """
        rows: list[dict[str, object]] = []
        for r in self.entry_rates.itertuples():
            rows.append(
                dict(
                    quantity="entries_per_year",
                    group=r.band,
                    value=r.rate_per_year,
                    lower=r.lower,
                    upper=r.upper,
                    n=r.entries,
                    method="count / years, exact Poisson 95% CI",
                )
            )
        t = self.trend
        rows.append(
            dict(
                quantity="entry_growth_per_year",
                group="all",
                value=t.growth_per_year,
                lower=t.lower,
                upper=t.upper,
                n=t.n_years,
                method="quasi-Poisson log-linear regression on yearly entries",
            )
        )
        for r in self.entry_mix[self.entry_mix["provider"] == "all"].itertuples():
            if r.count:
                rows.append(
                    dict(
                        quantity="entry_category_share",
                        group=f"{r.band} {r.category}",
                        value=r.share,
                        lower=r.lower,
                        upper=r.upper,
                        n=r.n,
                        method="proportion, Wilson 95% CI",
                    )
                )
        for r in self.moves.itertuples():
            rows.append(
                dict(
                    quantity="breakdown_per_year",
                    group=r.category,
                    value=r.breakdown_per_year,
                    lower=r.lower,
                    upper=r.upper,
                    n=r.breakdowns,
                    method="Poisson regression (category + teen), under-13 rate",
                )
            )
        m = self.teen_multiplier
        rows.append(
            dict(
                quantity="teen_breakdown_multiplier",
                group="13+",
                value=m["value"],
                lower=m["lower"],
                upper=m["upper"],
                n=int(self.moves["breakdowns"].sum()),
                method="Poisson regression (category + teen)",
            )
        )
        for r in self.in_house.itertuples():
            rows.append(
                dict(
                    quantity="in_house_share",
                    group=r.category,
                    value=r.share,
                    lower=r.lower,
                    upper=r.upper,
                    n=r.n_placements,
                    method="share of placement-years; Wilson CI on placements started",
                )
            )
        for r in self.exit_shares.itertuples():
            rows.append(
                dict(
                    quantity="exit_route_share",
                    group=f"{r.band} {r.route}",
                    value=r.share,
                    lower=r.lower,
                    upper=r.upper,
                    n=r.n,
                    method="EM mixture competing risks; bootstrap 95% CI",
                )
            )
        for r in self.exit_durations.itertuples():
            rows.append(
                dict(
                    quantity="exit_median_days",
                    group=r.route,
                    value=r.median_days,
                    lower=r.lower,
                    upper=r.upper,
                    n=r.n_events,
                    method=f"{r.family} chosen by AIC; bootstrap 95% CI",
                )
            )
        re = self.reentry
        rows.append(
            dict(
                quantity="reentry_within_1y_share",
                group="return_home",
                value=re["share"],
                lower=re["lower"],
                upper=re["upper"],
                n=re["n"],
                method="Wilson 95% CI",
            )
        )
        return pd.DataFrame(rows)


def exit_data(
    periods: pd.DataFrame, window_start: pd.Timestamp, as_at: pd.Timestamp, edges: Sequence[float]
) -> ExitData:
    """Periods of care for the exit model, censored at ``as_at``.

    Periods that began in the window (with RNE S), and periods already under
    way at the window start whose start is known (their first episode is an
    RNE S one): these are left-truncated, observed from their days in care at
    the window start (``entry_days``), and carry what the window shows of long
    stays. Periods whose start is not known (first episode seen is not RNE S)
    are left out.
    """
    known_start = periods["start_known"]
    p = periods[
        known_start
        & (periods["start"] <= as_at)
        & (periods["end"].isna() | (periods["end"] >= window_start))
    ]
    open_ = p["end"].isna() | (p["end"] > as_at)
    end = p["end"].where(~open_, as_at)
    time = (end - p["start"]).dt.days.to_numpy(float)
    entry = np.maximum((window_start - p["start"]).dt.days.to_numpy(float), 0.0)
    route_idx = p["route_model"].map({r: i for i, r in enumerate(ROUTE_ORDER)}).fillna(-1)
    status = np.where(open_, -1, route_idx).astype(int)
    return ExitData(
        time_days=time,
        status=status,
        tau_days=p["days_to_18_at_entry"].to_numpy(float),
        band=band_index(p["age_at_entry_years"], edges),
        group=p["child_key"].to_numpy(),
        routes=ROUTE_ORDER,
        n_bands=len(edges) - 1,
        entry_days=entry,
    )


def _bootstrap(
    data: ExitData, point: ExitMixtureFit, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    groups, inverse = np.unique(data.group, return_inverse=True)
    members = [np.nonzero(inverse == g)[0] for g in range(len(groups))]
    shares = np.full((n_boot, *point.shares.shape), np.nan)
    medians = {r: np.full(n_boot, np.nan) for r in point.fits}
    for b in range(n_boot):
        pick = rng.integers(0, len(groups), len(groups))
        idx = np.concatenate([members[g] for g in pick])
        try:
            fit = fit_exit_mixture(data.take(idx), start=point, tol=1e-5, max_iter=100)
        except (ValueError, FloatingPointError):
            continue
        shares[b] = fit.shares
        for r, f in fit.fits.items():
            if r in medians:
                medians[r][b] = f.median_days()
    return shares, medians


def estimate(
    clean: CleanData,
    as_at: dt.date | pd.Timestamp | None = None,
    *,
    cin: CinData | None = None,
    entry_edges_years: Sequence[float] = DEFAULT_BANDS_YEARS,
    exit_edges_years: Sequence[float] = DEFAULT_BANDS_YEARS,
    families: Sequence[str] = FAMILIES,
    n_bootstrap: int = 50,
    seed: int = 0,
) -> Estimates:
    """Estimate every calibrated quantity at ``as_at``.

    Parameters
    ----------
    clean
        Output of :func:`sim.calibrate.clean_episodes`.
    as_at
        The day the estimates describe (default: the end of the data). Events
        after it are ignored and periods still open then are censored.
    cin
        Optional CIN referrals (front-door estimates).
    entry_edges_years, exit_edges_years
        Age-band edges for the entry mix and for the exit model (years, 0 to 18).
    families
        Duration families tried for each exit route (chosen by AIC).
    n_bootstrap
        Bootstrap replicates (resampling children) for the exit model's
        intervals; 0 gives point estimates with no interval.
    seed
        Seed of the bootstrap's :class:`numpy.random.Generator`.

    Returns
    -------
    Estimates

    """
    as_at_ts = pd.Timestamp(as_at) if as_at is not None else clean.data_end
    if as_at_ts > clean.data_end:
        raise ValueError(
            f"as_at {as_at_ts.date()} is after the end of the data ({clean.data_end.date()})"
        )
    ws = clean.window_start
    if as_at_ts < ws:
        raise ValueError(f"as_at {as_at_ts.date()} is before the data start ({ws.date()})")
    periods, placements = clean.periods, clean.placements
    by_year, rates = entry_rates(periods, ws, as_at_ts, entry_edges_years)
    trend = entry_trend(by_year)
    age_mix = entry_rates(periods, ws, as_at_ts, exit_edges_years)[1]
    mix = entry_mix(periods, ws, as_at_ts, entry_edges_years)
    moves, mult = move_rates(placements, ws, as_at_ts)
    inh = in_house_shares(placements, ws, as_at_ts)

    data = exit_data(periods, ws, as_at_ts, exit_edges_years)
    if len(data.time_days) < 20 or int((data.status >= 0).sum()) < 10:
        raise ValueError(
            f"only {len(data.time_days)} periods of care began in the data window before "
            f"{as_at_ts.date()} ({int((data.status >= 0).sum())} ended): too few to estimate exits"
        )
    fit = fit_exit_mixture(data, families=families)
    rng = np.random.default_rng(seed)
    boot_shares, boot_medians = (
        _bootstrap(data, fit, n_bootstrap, rng) if n_bootstrap > 0 else (None, {})
    )
    labels = band_labels(exit_edges_years)
    share_rows = []
    for b, label in enumerate(labels):
        for j, route in enumerate(ROUTE_ORDER):
            lo = hi = math.nan
            if boot_shares is not None:
                vals = boot_shares[:, b, j]
                vals = vals[np.isfinite(vals)]
                if len(vals):
                    lo, hi = np.percentile(vals, [2.5, 97.5])
            share_rows.append(
                {
                    "band": label,
                    "route": route,
                    "share": float(fit.shares[b, j]),
                    "lower": float(lo),
                    "upper": float(hi),
                    "n": int(fit.n_by_band[b]),
                    "events": int(fit.events_by_band[b, j]),
                    "pooled": b in fit.pooled_bands,
                }
            )
    dur_rows = []
    for route, f in fit.fits.items():
        lo = hi = math.nan
        got = boot_medians.get(route)
        if got is not None:
            vals = got[np.isfinite(got)]
            if len(vals):
                lo, hi = np.percentile(vals, [2.5, 97.5])
        row = {
            "route": route,
            "family": f.family,
            "median_days": f.median_days(),
            "lower": float(lo),
            "upper": float(hi),
            "mean_days": f.mean_days(),
            "n_events": round(f.n_events),
        }
        for fam, aic in fit.aic_table.get(route, {}).items():
            row[f"aic_{fam}"] = aic
        dur_rows.append(row)

    pre, n_pre = _adoption_pre_exit(placements, periods, ws, as_at_ts)
    entries = periods[
        (periods["start"] >= ws) & (periods["start"] <= as_at_ts) & periods["start_known"]
    ]
    left = periods[periods["end"].notna() & (periods["end"] >= ws) & (periods["end"] <= as_at_ts)]
    age_now = left["age_at_entry_years"] + (as_at_ts - left["start"]).dt.days / 365.25
    orders = {
        r: int(((left["route_model"] == r) & (age_now < 18)).sum())
        for r in ("adoption", "special_guardianship", "child_arrangements")
    }
    notes = list(fit.notes)
    return Estimates(
        as_at=as_at_ts,
        window_start=ws,
        data_end=clean.data_end,
        entry_edges_years=tuple(entry_edges_years),
        exit_edges_years=tuple(exit_edges_years),
        entries_by_year=by_year,
        entry_rates=rates,
        trend=trend,
        entry_age_mix=age_mix,
        entry_mix=mix,
        moves=moves,
        teen_multiplier=mult,
        in_house=inh,
        exits=fit,
        exit_shares=pd.DataFrame(share_rows),
        exit_durations=pd.DataFrame(dur_rows),
        exit_input=data,
        reentry=reentry_share(periods[periods["start"] <= as_at_ts], as_at_ts),
        adoption_pre_exit=pre,
        adoption_pre_exit_n=n_pre,
        stock=stock_at(placements, periods, as_at_ts),
        cleaning=clean.report,
        entry_ages_years=entries["age_at_entry_years"].to_numpy(float),
        orders_under_18=orders,
        cin=estimate_cin(cin, ws, as_at_ts) if cin is not None else None,
        n_bootstrap=n_bootstrap,
        notes=tuple(notes),
    )


def _adoption_pre_exit(
    placements: pd.DataFrame, periods: pd.DataFrame, window_start: pd.Timestamp, as_at: pd.Timestamp
) -> tuple[ParametricFit | None, int]:
    """Days from the move into an adoption placement to the adoption order."""
    adopted = periods[
        (periods["route_model"] == "adoption")
        & periods["end"].notna()
        & (periods["end"] >= window_start)
        & (periods["end"] <= as_at)
    ]
    last = placements.sort_values("start").drop_duplicates("period_key", keep="last")
    last = last[last["period_key"].isin(adopted["period_key"]) & (last["category"] == "adoption")]
    days = (last["end"] - last["start"]).dt.days.to_numpy(float)
    days = days[days > 0]
    if len(days) < 10:
        return None, len(days)
    best, _ = fit_best(days, families=("gamma",))
    return best, len(days)
