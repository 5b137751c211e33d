"""Backtest: calibrate on the past, simulate forward, compare month by month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from calibrate_data import backtest_at, backtest_result, synthetic

from sim.calibrate import DataError, backtest, clean_episodes, load_903
from sim.calibrate.backtest import _band, observed_monthly


class ReplayModel:
    """Stands in for sim.run: replays the observed months, +/- a few, as replications.

    Its ``calls`` record what it was asked; the referral-rate measurement runs
    (before the forward run) get a steady stream of entries.
    """

    def __init__(self, observed: pd.DataFrame):
        self.observed = observed
        self.calls: list[tuple[int, float]] = []

    def __call__(self, config, *, replications, seed):
        self.calls.append((replications, config.run.years))
        months = pd.date_range(config.run.start_date, periods=int(config.run.years * 12), freq="MS")
        rows = []
        for r in range(replications):
            shift = r - replications // 2
            for m in months:
                rows.append(("baseline", r, m, "entries", "all", 24.0 + shift))
                for row in self.observed[self.observed["date"] == m].itertuples():
                    if (row.measure, row.category) != ("entries", "all"):
                        rows.append(
                            ("baseline", r, m, row.measure, row.category, row.value + shift)
                        )
        frame = pd.DataFrame(
            rows, columns=["scenario", "replication", "date", "measure", "category", "value"]
        )
        return type("Result", (), {"timeseries": frame})()


def test_observed_months_count_stocks_at_month_end_and_flows_in_the_month():
    data = synthetic()
    clean = clean_episodes(load_903(data.episodes, data.header))
    months = [pd.Timestamp("2015-01-01")]
    obs = observed_monthly(clean, months).set_index(["measure", "category"])["value"]
    end = pd.Timestamp("2015-01-31")
    p = data.periods[~data.periods["short_break"]]
    assert obs[("looked_after", "all")] == int(
        ((p["start"] <= end) & (p["end"].isna() | (p["end"] > end))).sum()
    )
    started = (p["start"] >= months[0]) & (p["start"] <= end)
    assert obs[("entries", "all")] == int(started.sum())
    cats = obs[obs.index.get_level_values(0) == "looked_after_by_category"]
    # Children in 'other' placements (T0-T4, R2, R3, R5, Z1) have no simulator category.
    other = clean.placements
    other = other[(other["start"] <= end) & (other["end"].isna() | (other["end"] > end))]
    assert cats.sum() + int((other["category"] == "other").sum()) == obs[("looked_after", "all")]


def test_the_band_from_20_runs_holds_a_further_run_nine_times_in_ten():
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(4000, 21))
    inside = 0
    for row in draws:
        band = _band(pd.Series(row[:20]))
        inside += int(band["sim_p5"] <= row[20] <= band["sim_p95"])
    # Binomial SE 0.5%; linear interpolation between order statistics would give 81%.
    assert inside / len(draws) == pytest.approx(0.90, abs=0.015)


def test_the_error_table_compares_each_month_with_the_simulated_band(tmp_path):
    data = synthetic()
    clean = clean_episodes(load_903(data.episodes, data.header))
    months = list(pd.date_range("2015-04-01", "2016-03-01", freq="MS"))
    model = ReplayModel(observed_monthly(clean, months))
    result = backtest(
        data.episodes,
        data.header,
        "2015-03-31",
        horizon_years=1.0,
        replications=5,
        seed=1,
        out_dir=tmp_path,
        n_bootstrap=0,
        scale_years=1.0,
        runner=model,
    )
    errors = result.errors
    assert list(errors.columns) == [
        "measure",
        "category",
        "date",
        "observed",
        "sim_median",
        "sim_p5",
        "sim_p95",
        "error",
        "inside",
    ]
    lac = errors[(errors["measure"] == "looked_after") & (errors["category"] == "all")]
    assert len(lac) == 12
    assert (lac["error"] == 0).all() and lac["inside"].all()
    assert result.share_inside("looked_after", "all") == 1.0
    assert model.calls[-1] == (5, 1.0)
    assert {p.name for p in result.files} == {
        "backtest-errors.csv",
        "backtest-coverage.csv",
        "backtest.png",
        "backtest.md",
    }
    saved = pd.read_csv(tmp_path / "backtest-errors.csv")
    assert len(saved) == len(errors)


def test_a_backtest_needs_data_after_the_as_at_date():
    data = synthetic()
    with pytest.raises(DataError, match="no whole month after the as-at date"):
        backtest(
            data.episodes,
            data.header,
            "2016-03-31",
            horizon_years=1.0,
            replications=2,
            n_bootstrap=0,
            runner=ReplayModel(pd.DataFrame(columns=["date", "measure", "category", "value"])),
        )


@pytest.mark.slow
def test_a_stable_process_stays_inside_the_simulated_band():
    result = backtest_result()
    # Calibrated on three years, two years forward, 40 runs with parameter uncertainty.
    assert result.share_inside("looked_after", "all") >= 0.8
    assert result.share_inside("entries", "all") >= 0.8
    assert result.share_inside("exits", "all") >= 0.8
    lac = result.coverage.set_index(["measure", "category"]).loc[("looked_after", "all")]
    assert abs(lac["mean_error"]) / 680 < 0.05  # bias under 5% of the stock


#: Synthetic seeds of the multi-seed backtest, fixed before it was written: the three
#: (besides 2016) named when the single-seed backtest was found to pass by luck.
OTHER_SEEDS = (1, 4, 7)


@pytest.mark.slow
def test_backtests_at_other_seeds_track_the_flows_without_bias():
    """The same backtest on three more synthetic data sets, judged on what holds robustly.

    A backtest's share of months inside the band is one draw of a noisy statistic:
    for children looked after (a stock, autocorrelated month to month) even the
    model judged against its own runs is under 80% in more than one backtest in five.
    What a sound calibration does reliably is checked here: flows inside the band
    in 80% of the 72 months pooled over the seeds (with months independent and a
    90% chance each, a flow falls short once in 200 tries), and no bias in the
    stock: the mean error over the seeds under 5% of the stock and each seed's
    under 10% (over 13 seeds the errors spread by about 2.6% of the stock).
    """
    results = {seed: backtest_at(seed) for seed in OTHER_SEEDS}
    cov = pd.concat(
        [r.coverage.assign(seed=seed) for seed, r in results.items()], ignore_index=True
    )
    cov = cov[cov["category"] == "all"].set_index(["measure", "seed"])
    for measure in ("entries", "exits"):
        rows = cov.loc[measure]
        pooled = float((rows["share_inside"] * rows["months"]).sum() / rows["months"].sum())
        assert pooled >= 0.8, (measure, rows["share_inside"].to_dict())
    stock = {seed: len(r.calibration.report.estimates.stock) for seed, r in results.items()}
    bias = {seed: float(cov.loc[("looked_after", seed), "mean_error"]) for seed in OTHER_SEEDS}
    assert abs(np.mean([bias[s] / stock[s] for s in OTHER_SEEDS])) < 0.05, bias
    assert all(abs(bias[s]) / stock[s] < 0.10 for s in OTHER_SEEDS), bias


def test_the_calibration_behind_a_backtest_never_saw_the_later_data():
    result = backtest_result()
    est = result.calibration.report.estimates
    assert est.as_at == pd.Timestamp("2014-03-31")
    assert est.entries_by_year["year_ending"].max() == 2014
    assert result.calibration.config.run.start_date.isoformat() == "2014-04-01"
