"""Estimators: unit checks against theory and libraries, and the round trip on synthetic data.

Round trip: synthetic returns drawn from known parameters are cleaned and
calibrated; the estimates must land within the tolerances stated beside each
assertion (about three standard errors for the sample sizes involved).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from calibrate_data import calibration, synthetic
from lifelines import ExponentialFitter, LogNormalFitter, WeibullFitter

from sim.calibrate.codes import ROUTE_ORDER
from sim.calibrate.rates import entry_trend, move_rates, poisson_ci, wilson_ci
from sim.calibrate.survival import ExitData, fit_best, fit_censored, fit_exit_mixture

# ------------------------------------------------------------ unit checks


def _censored_sample(rng, draw, n=2000, censor_days=900.0):
    t = draw(n)
    c = rng.uniform(0, censor_days * 2, n)
    return np.minimum(t, c), t <= c


@pytest.mark.parametrize(
    ("family", "fitter", "draw"),
    [
        ("exponential", ExponentialFitter, lambda r, n: r.exponential(300.0, n)),
        ("weibull", WeibullFitter, lambda r, n: 400.0 * r.weibull(0.7, n)),
        ("lognormal", LogNormalFitter, lambda r, n: np.exp(r.normal(5.0, 1.3, n))),
    ],
)
def test_censored_fit_matches_lifelines(family, fitter, draw):
    rng = np.random.default_rng(11)
    t, observed = _censored_sample(rng, lambda n: draw(rng, n))
    t = np.maximum(t, 0.5)
    ours = fit_censored(t[observed], t[~observed], family=family)
    theirs = fitter().fit(t, event_observed=observed)
    assert ours.loglik == pytest.approx(theirs.log_likelihood_, rel=1e-5)
    assert ours.median_days() == pytest.approx(float(theirs.median_survival_time_), rel=2e-3)


def test_gamma_fit_recovers_mean_and_cv_under_censoring():
    rng = np.random.default_rng(12)
    t, observed = _censored_sample(rng, lambda n: rng.gamma(1 / 0.35**2, 700 * 0.35**2, n), n=4000)
    fit = fit_censored(t[observed], t[~observed], family="gamma")
    d = fit.distribution()
    assert d.mean == pytest.approx(700, rel=0.03)  # SE of the mean ~1% at n=4000
    assert d.cv == pytest.approx(0.35, rel=0.06)


def test_aic_prefers_the_family_the_data_came_from():
    rng = np.random.default_rng(13)
    t = np.exp(rng.normal(5.0, 1.4, 3000))
    best, fits = fit_best(t)
    assert best.family == "lognormal"
    assert set(fits) == {"exponential", "weibull", "lognormal", "gamma"}


def test_weights_act_like_repeated_observations():
    a = fit_censored([10, 20, 20, 40], [50, 50], family="weibull")
    b = fit_censored(
        [10, 20, 40], [50], family="weibull", event_weights=[1, 2, 1], censored_weights=[2]
    )
    assert a.theta == pytest.approx(b.theta, rel=1e-4)


def test_exit_mixture_recovers_shares_and_durations_with_censoring_and_age_18():
    rng = np.random.default_rng(14)
    n = 6000
    band = rng.integers(0, 2, n)
    shares = np.array([[0.5, 0.3, 0.2], [0.3, 0.1, 0.6]])  # return_home, adoption, leaving_care
    route = np.array([rng.choice(3, p=shares[b]) for b in band])
    tau = np.where(band == 0, rng.uniform(3000, 6000, n), rng.uniform(200, 1500, n))
    t = np.where(
        route == 0, np.exp(rng.normal(np.log(150), 1.2, n)), rng.gamma(1 / 0.3**2, 600 * 0.3**2, n)
    )
    t = np.where(route == 2, tau, np.minimum(t, tau))
    status = np.where((route < 2) & (t < tau), route, 2)
    cens = rng.uniform(0, 2500, n)
    status = np.where(t > cens, -1, status)
    t = np.minimum(t, cens)
    data = ExitData(
        t,
        status.astype(int),
        tau,
        band,
        np.arange(n),
        ("return_home", "adoption", "leaving_care"),
        2,
    )
    fit = fit_exit_mixture(data)
    assert fit.shares == pytest.approx(shares, abs=0.03)
    assert fit.fits["return_home"].family == "lognormal"
    assert fit.fits["return_home"].median_days() == pytest.approx(150, rel=0.08)
    assert fit.fits["adoption"].mean_days() == pytest.approx(600, rel=0.05)


def test_exit_mixture_uses_left_truncated_periods_with_a_known_start():
    # Periods start over 4000 days before a window [0, 1000]; those still in care at
    # the window start are seen from their days in care then (left truncation).
    rng = np.random.default_rng(15)
    n = 12000
    band = rng.integers(0, 2, n)
    shares = np.array([[0.5, 0.3, 0.2], [0.3, 0.1, 0.6]])
    route = np.array([rng.choice(3, p=shares[b]) for b in band])
    tau = np.where(band == 0, rng.uniform(3000, 6000, n), rng.uniform(200, 1500, n))
    t = np.where(
        route == 0, np.exp(rng.normal(np.log(150), 1.2, n)), rng.gamma(1 / 0.3**2, 600 * 0.3**2, n)
    )
    t = np.where(route == 2, tau, np.minimum(t, tau))
    status = np.where((route < 2) & (t < tau), route, 2)
    start = rng.uniform(-4000, 1000, n)
    seen = start + t >= 0
    cens = 1000 - start
    status = np.where(t > cens, -1, status)[seen]
    t = np.minimum(t, cens)[seen]
    entry = np.maximum(-start, 0.0)[seen]
    data = ExitData(
        t,
        status.astype(int),
        tau[seen],
        band[seen],
        np.arange(int(seen.sum())),
        ("return_home", "adoption", "leaving_care"),
        2,
        entry_days=entry,
    )
    fit = fit_exit_mixture(data)
    assert fit.shares == pytest.approx(shares, abs=0.03)
    assert fit.fits["return_home"].median_days() == pytest.approx(150, rel=0.08)
    assert fit.fits["adoption"].mean_days() == pytest.approx(600, rel=0.05)
    # Ignoring the truncation (treating the survivors as if seen from entry) is biased.
    naive = fit_exit_mixture(
        ExitData(data.time_days, data.status, data.tau_days, data.band, data.group, data.routes, 2)
    )
    assert abs(naive.shares[0, 2] - 0.2) > 0.05


def test_wilson_and_exact_poisson_intervals_match_known_values():
    assert wilson_ci(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_ci(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert poisson_ci(0, 1.0) == pytest.approx((0.0, 3.6889), abs=1e-4)
    assert poisson_ci(10, 2.0) == pytest.approx((4.7954 / 2, 18.3904 / 2), abs=1e-4)


def test_trend_is_found_when_entries_grow_and_not_when_they_do_not():
    rng = np.random.default_rng(15)
    years = np.arange(2010, 2020)

    def table(growth):
        counts = rng.poisson(300 * (1 + growth) ** (years - years[0]))
        return pd.DataFrame(
            {"year_ending": years, "band": "all", "entries": counts, "exposure_years": 1.0}
        )

    up = entry_trend(table(0.10))
    assert up.significant and up.growth_per_year == pytest.approx(0.10, abs=0.03)
    flat = entry_trend(table(0.0))
    assert flat.lower < 0 < flat.upper


def test_move_rates_separate_the_category_rate_from_the_teenage_multiplier():
    rng = np.random.default_rng(16)
    rows = []
    for cat, base in (("fostering", 0.3), ("residential", 0.6)):
        for teen in (False, True):
            rate = base * (2.0 if teen else 1.0)
            for _ in range(3000):
                d = rng.exponential(365.25 / rate)
                c = rng.uniform(0, 1500)
                rows.append((cat, 14.0 if teen else 6.0, min(d, c), d <= c))
    start = pd.Timestamp("2012-04-01")
    pl = pd.DataFrame(rows, columns=["category", "age_at_start_years", "days", "moved"])
    pl["start"] = start
    pl["end"] = start + pd.to_timedelta(pl["days"].round(), unit="D")
    pl["end_reason"] = np.where(pl["moved"], "move", "exit")
    pl["planned"] = False
    rates, mult = move_rates(pl, start, pd.Timestamp("2030-01-01"))
    rates = rates.set_index("category")
    assert rates.loc["fostering", "breakdown_per_year"] == pytest.approx(0.3, rel=0.06)
    assert rates.loc["residential", "breakdown_per_year"] == pytest.approx(0.6, rel=0.06)
    assert mult["value"] == pytest.approx(2.0, rel=0.06)


# ------------------------------------------------------------- round trip


def test_entries_per_year_are_exactly_the_entries_in_the_data():
    data = synthetic()
    est = calibration().report.estimates
    true = data.entries_by_year().groupby("band")["entries"].sum() / data.parameters.n_years
    got = est.entry_rates.set_index("band")["rate_per_year"]
    for band in data.parameters.band_labels:
        assert got[band] == pytest.approx(true[band], abs=1e-9)


def test_entry_rates_recover_the_parameters():
    data = synthetic()
    est = calibration().report.estimates
    got = est.entry_rates.set_index("band")
    total = sum(data.parameters.entries_per_year)
    # Poisson over 5 years: SD 2.7% of the total; re-entries add about 3%.
    assert got.loc["all", "rate_per_year"] == pytest.approx(total, rel=0.10)
    for band, rate in zip(
        data.parameters.band_labels, data.parameters.entries_per_year, strict=True
    ):
        # Per band SD is 4-7%; 20% is about 3 SD.
        assert got.loc[band, "rate_per_year"] == pytest.approx(rate, rel=0.20)
        assert got.loc[band, "lower"] < got.loc[band, "rate_per_year"] < got.loc[band, "upper"]


def test_exit_route_shares_recover_the_parameters():
    data = synthetic()
    est = calibration().report.estimates
    got = est.exit_shares.pivot(index="band", columns="route", values="share")
    for band, shares in zip(data.parameters.band_labels, data.parameters.exit_shares, strict=True):
        for route in ROUTE_ORDER:
            # About 230-450 periods a band: 3 SE of a share near 0.3 is 0.06-0.09.
            assert got.loc[band, route] == pytest.approx(shares.get(route, 0.0), abs=0.08), (
                band,
                route,
            )
        assert got.loc[band].sum() == pytest.approx(1.0)


def test_exit_route_shares_match_the_routes_actually_drawn_in_the_sample():
    data = synthetic()
    est = calibration().report.estimates
    got = est.exit_shares.pivot(index="band", columns="route", values="share")
    p = data.periods[~data.periods["short_break"]]
    p = p[p["start"] >= pd.Timestamp(data.parameters.window_start)]
    drawn = pd.crosstab(p["band"], p["route_drawn"], normalize="index")
    for band in drawn.index:
        for route in drawn.columns:
            # Only the censored periods' routes are unknown: a tighter tolerance.
            assert got.loc[band, route] == pytest.approx(drawn.loc[band, route], abs=0.05), (
                band,
                route,
            )


@pytest.mark.parametrize(
    ("route", "tolerance"),
    [
        # Relative SE of a median is about 1.25 sigma / sqrt(n) (lognormal) or
        # 1.2 cv / sqrt(n) (gamma); tolerances are about 3 SE.
        ("return_home", 0.20),
        ("adoption", 0.10),
        ("special_guardianship", 0.15),
        ("child_arrangements", 0.30),
        ("other", 0.30),
    ],
)
def test_median_time_to_exit_by_route_recovers_the_parameters(route, tolerance):
    data = synthetic()
    est = calibration().report.estimates
    got = est.exit_durations.set_index("route").loc[route]
    true = data.parameters.exit_durations_days[route].ppf(0.5)
    assert got["median_days"] == pytest.approx(true, rel=tolerance)
    assert got["family"] in {"exponential", "weibull", "lognormal", "gamma"}


def test_breakdown_rates_and_teen_multiplier_recover_the_parameters():
    data = synthetic()
    est = calibration().report.estimates
    got = est.moves.set_index("category")["breakdown_per_year"]
    truth = data.parameters.breakdown_per_year
    # Thousands of placement-years: fostering SE ~4%, kinship/residential ~10%.
    assert got["fostering"] == pytest.approx(truth["fostering"], rel=0.12)
    assert got["kinship"] == pytest.approx(truth["kinship"], rel=0.30)
    assert got["residential"] == pytest.approx(truth["residential"], rel=0.30)
    assert got["adoption"] == 0.0
    assert est.teen_multiplier["value"] == pytest.approx(
        data.parameters.teen_breakdown_multiplier, abs=0.3
    )


def test_in_house_shares_recover_the_parameters():
    data = synthetic()
    est = calibration().report.estimates
    got = est.in_house.set_index("category")["share"]
    for cat in ("fostering", "residential", "supported"):
        # Share of placement-years; SE 2-5 points.
        assert got[cat] == pytest.approx(data.parameters.in_house_share[cat], abs=0.12), cat
    assert got["kinship"] == 1.0 and got["secure"] == 0.0


def test_placement_mix_at_entry_recovers_the_parameters():
    data = synthetic()
    est = calibration().report.estimates
    mix = est.entry_mix[est.entry_mix["provider"] == "all"].set_index(["band", "category"])["share"]
    for band, shares in zip(data.parameters.band_labels, data.parameters.entry_mix, strict=True):
        for cat, share in shares.items():
            assert mix[(band, cat)] == pytest.approx(share, abs=0.08), (band, cat)


def test_reentry_share_is_near_the_share_expected_within_a_year():
    p = synthetic().parameters
    est = calibration().report.estimates
    expected = p.reentry_share * (1 - math.exp(-365 / p.reentry_mean_days))
    # About 400 returns home followed for a year: SE 1.2 points.
    assert est.reentry["share"] == pytest.approx(expected, abs=0.035)


def test_every_estimate_in_the_summary_carries_an_interval_and_n():
    summary = calibration().report.estimates.summary()
    assert {"quantity", "group", "value", "lower", "upper", "n", "method"} <= set(summary.columns)
    shown = summary[summary["value"].notna()]
    assert shown["lower"].notna().all() and shown["upper"].notna().all()
    assert (shown["n"] >= 0).all()


def test_exit_model_predicts_the_exits_of_the_children_in_care_on_the_as_at_date():
    """The warm start's remaining time in care: the calibrated exit model, asked as the
    simulator asks it (route weighted by share x survival at the days in care, time
    conditional on them, leaving at 18), expects as many exits in the next two years
    from the children in care on the as-at date as the true parameters do.

    With a three-year window, long stays are seen only in periods already under way
    at the window start; leaving them out of the exit model underestimated the
    leaving-care shares of younger entrants and gave ~7% too many exits here
    (+18 children on average over six synthetic seeds).
    """
    from sim.calibrate import clean_episodes, load_903
    from sim.calibrate.estimators import estimate
    from sim.calibrate.loader import truncate

    data = synthetic()
    par = data.parameters
    as_at = pd.Timestamp("2014-03-31")
    horizon = 730.0
    clean = clean_episodes(truncate(load_903(data.episodes, data.header), as_at))
    est = estimate(clean, as_at, n_bootstrap=0)
    fit = est.exits
    edges = est.exit_edges_years
    p = data.periods[~data.periods["short_break"]]
    stock = p[(p["start"] <= as_at) & (p["end"].isna() | (p["end"] > as_at))]
    days = (as_at - stock["start"]).dt.days.to_numpy(float)
    age_entry = stock["age_at_entry_years"].to_numpy(float)
    to18 = (18 - age_entry) * 365.25 - days

    def expected_exits(shares_of_band, dist_of_route) -> float:
        total = 0.0
        for a, d, left in zip(age_entry, days, to18, strict=True):
            if left <= horizon:
                total += 1.0
                continue
            b = min(int(np.searchsorted(edges, a, side="right")) - 1, len(edges) - 2)
            sh = shares_of_band(b)
            num, den = 0.0, sh.get("leaving_care", 0.0)
            for r, pi in sh.items():
                if r == "leaving_care" or pi == 0:
                    continue
                dist = dist_of_route(r)
                s_d = 1 - dist.cdf(d)
                den += pi * s_d
                num += pi * (s_d - (1 - dist.cdf(d + horizon)))
            total += num / den if den > 0 else 0.0
        return total

    fitted = expected_exits(
        lambda b: {r: float(fit.shares[b, j]) for j, r in enumerate(fit.routes)},
        lambda r: fit.fits[r].distribution(),
    )
    truth = expected_exits(lambda b: dict(par.exit_shares[b]), lambda r: par.exit_durations_days[r])
    assert fitted == pytest.approx(truth, rel=0.05)
