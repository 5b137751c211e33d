"""Statistics across replications: t-intervals, quantiles, MSER-5, and CI coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from model_configs import build, care_queue
from scipy import stats as sps

import sim
from sim.results.stats import STAT_COLUMNS, describe, mser5, t_half_width


def test_t_half_width_matches_scipy_student_t():
    sd = np.array([1.0, 2.5, 10.0])
    n = np.array([2, 5, 40])
    expected = sps.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    np.testing.assert_allclose(t_half_width(sd, n), expected, rtol=1e-12)


def test_t_half_width_is_undefined_for_one_replication():
    assert np.isnan(t_half_width(np.array([1.0]), np.array([1]))[0])


def test_describe_gives_mean_sd_quantiles_and_interval_per_group():
    frame = pd.DataFrame({"measure": ["a"] * 5 + ["b"] * 3, "value": [1, 2, 3, 4, 5, 10, 10, 40]})
    out = describe(frame, ["measure"]).set_index("measure")
    assert list(out.columns) == list(STAT_COLUMNS)
    a = out.loc["a"]
    assert a["n"] == 5 and a["mean"] == 3 and a["sd"] == pytest.approx(math.sqrt(2.5))
    assert a["p50"] == 3 and a["p25"] == 2 and a["p05"] == pytest.approx(1.2)
    low, high = sps.t.interval(0.95, 4, loc=3, scale=math.sqrt(2.5) / math.sqrt(5))
    assert (a["ci95_low"], a["ci95_high"]) == (pytest.approx(low), pytest.approx(high))
    assert out.loc["b", "mean"] == 20


def test_describe_leaves_nan_out_of_counts_and_statistics():
    frame = pd.DataFrame({"g": ["x"] * 4, "value": [1.0, np.nan, 3.0, 5.0]})
    row = describe(frame, ["g"]).iloc[0]
    assert row["n"] == 3 and row["mean"] == 3


def test_mser5_finds_the_end_of_a_step_transient():
    y = np.r_[np.zeros(50), np.full(150, 10.0)]
    assert mser5(y)[0] == 50


def test_mser5_truncates_an_exponential_transient_once_it_has_decayed():
    rng = np.random.default_rng(3)
    t = np.arange(240)
    y = 100 * (1 - np.exp(-t / 12)) + rng.normal(0, 2, len(t))
    d, _ = mser5(y)
    # The bias 100·exp(-d/12) falls below the noise (SD 2) at d ≈ 47; after
    # that MSER is flat, so the minimum may land anywhere in the first half.
    assert 30 <= d <= 120


def test_mser5_keeps_almost_everything_of_a_stationary_series():
    y = np.random.default_rng(4).normal(50, 5, 300)
    assert mser5(y)[0] <= 30


def test_mser5_needs_two_batches():
    with pytest.raises(ValueError, match="at least 10 observations"):
        mser5(np.ones(9))


# ----------------------------------------------------------- CI coverage

# M/M/∞ from empty: entries Poisson at 2 a day, exponential stays of mean 10
# days. After a warm-up of 8 mean stays the number in care is Poisson with
# mean 2 × 10 × (1 − e^(−t/10)) ≈ 20.
ENTRIES_PER_DAY = 2.0
MEAN_STAY_DAYS = 10.0
WARMUP_DAYS = 80


def _queue() -> sim.Config:
    return build(
        care_queue(
            entries_per_day=ENTRIES_PER_DAY,
            stay_days={"distribution": "exponential", "mean": MEAN_STAY_DAYS},
            in_house_places=None,
            years=0.25,
            warmup_days=WARMUP_DAYS,
            start_date="2021-01-01",
        )
    )


def _truth(cfg: sim.Config) -> float:
    # Snapshot at the end of 31 March 2021: days from the start of the simulation.
    t = (pd.Timestamp("2021-04-01").date() - cfg.sim_start_date).days
    return ENTRIES_PER_DAY * MEAN_STAY_DAYS * (1 - math.exp(-t / MEAN_STAY_DAYS))


@pytest.mark.slow
def test_95pct_interval_of_the_mean_covers_the_known_answer_about_95pct_of_the_time():
    cfg = _queue()
    batches, per_batch = 150, 5
    res = sim.run(cfg, replications=batches * per_batch, seed=2024, timeseries=())
    lac = res.summary[res.summary["measure"] == "looked_after"].copy()
    lac["batch"] = lac["replication"] // per_batch
    ci = describe(lac, ["batch"])
    truth = _truth(cfg)
    covered = ((ci["ci95_low"] <= truth) & (truth <= ci["ci95_high"])).mean()
    # Binomial SD of the coverage over 150 batches is 1.8 points; a normal (z)
    # interval with 5 replications would cover only ~88%.
    assert 0.90 <= covered <= 0.99, f"coverage {covered:.3f} over {batches} batches"
    assert lac["value"].mean() == pytest.approx(truth, rel=0.03)
