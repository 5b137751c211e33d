"""The runner: identical results on every backend, chunking, failures, precision, uncertainty."""

from __future__ import annotations

import io
import math
import sys
from pathlib import Path

import pandas as pd
import pytest
from model_configs import build, care_queue

import sim
import sim.experiment.runner
from sim.errors import CaresimError, ConfigError
from sim.experiment.backends import DaskBackend, make_backend
from sim.experiment.batch import ReplicationError
from sim.experiment.precision import PrecisionTarget, run_to_precision
from sim.experiment.progress import Progress
from sim.experiment.runner import MemorySink, default_chunk_size, plan_chunks
from sim.experiment.uncertainty import draw_parameters

REPS = 4
BASELINE = Path(__file__).resolve().parent.parent / "configs" / "worcestershire-2016.toml"


@pytest.fixture(scope="module")
def one_year() -> sim.Config:
    return sim.load_config(BASELINE, {"run.years": 1})


@pytest.fixture(scope="module")
def serial_result(one_year: sim.Config) -> sim.RunResult:
    return sim.run(one_year, replications=REPS, seed=7, backend="serial")


def _same(a: sim.RunResult, b: sim.RunResult) -> None:
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


@pytest.mark.parametrize(
    ("workers", "chunk_size"),
    [(1, None), (2, None), (2, 1)],
    ids=["1-worker", "2-workers", "2-workers-chunks-of-1"],
)
def test_process_pool_gives_the_serial_results(one_year, serial_result, workers, chunk_size):
    res = sim.run(
        one_year,
        replications=REPS,
        seed=7,
        backend="process",
        workers=workers,
        chunk_size=chunk_size,
    )
    _same(res, serial_result)


def test_dask_local_cluster_gives_the_serial_results(one_year, serial_result):
    pytest.importorskip("distributed")
    with DaskBackend(workers=2, processes=True) as backend:
        res = sim.run(one_year, replications=REPS, seed=7, backend=backend, chunk_size=1)
    _same(res, serial_result)


def test_a_replication_run_alone_equals_the_same_replication_in_a_batch(one_year, serial_result):
    alone = sim.run(one_year, seed=7, replication_indices=[2])
    expected = serial_result.summary[serial_result.summary["replication"] == 2]
    pd.testing.assert_frame_equal(alone.summary, expected.reset_index(drop=True))


def test_different_seeds_give_different_results(one_year, serial_result):
    other = sim.run(one_year, replications=1, seed=8)
    first = serial_result.summary[serial_result.summary["replication"] == 0]
    assert not other.summary["value"].equals(first["value"].reset_index(drop=True))


def test_plan_chunks_keeps_consecutive_replications_together():
    assert plan_chunks(range(7), 3) == [(0, 1, 2), (3, 4, 5), (6,)]
    assert plan_chunks([4, 0, 1, 9, 8], 10) == [(0, 1), (4,), (8, 9)]
    with pytest.raises(CaresimError, match="chunk size"):
        plan_chunks([1], 0)


def test_default_chunk_size_gives_about_four_tasks_per_worker_up_to_16():
    assert default_chunk_size(80, 2) == 10
    assert default_chunk_size(10_000, 16) == 16
    assert default_chunk_size(3, 8) == 1


def test_a_failing_replication_is_reported_with_its_index_and_seed_and_the_rest_kept(
    one_year, serial_result, monkeypatch
):
    real = sim.experiment.runner.simulate

    def flaky(cfg, *, seed, replication):
        if replication == 1:
            raise RuntimeError("boom")
        return real(cfg, seed=seed, replication=replication)

    monkeypatch.setattr(sim.experiment.runner, "simulate", flaky)
    with pytest.raises(ReplicationError, match=r"replication 1 \(root seed 7") as info:
        sim.run(one_year, replications=3, seed=7)
    assert [f.replication for f in info.value.failures] == [1]
    assert "RuntimeError: boom" in info.value.failures[0].error
    kept = info.value.result
    assert kept is not None and sorted(kept.summary["replication"].unique()) == [0, 2]
    expected = serial_result.summary[serial_result.summary["replication"].isin([0, 2])]
    pd.testing.assert_frame_equal(kept.summary, expected.reset_index(drop=True))


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(CaresimError, match="unknown backend 'gpu'"):
        make_backend("gpu")


def test_unreachable_dask_scheduler_is_a_clear_error_after_the_timeout():
    pytest.importorskip("distributed")
    backend = make_backend("dask", scheduler="tcp://127.0.0.1:9", connect_timeout=1)
    with pytest.raises(CaresimError, match="could not reach the Dask scheduler"), backend:
        pass


# --------------------------------------------------------------- precision


def _queue() -> sim.Config:
    # M/M/∞: children in care on 31 March are Poisson with mean 20 (sd √20).
    return build(
        care_queue(
            entries_per_day=2.0,
            stay_days={"distribution": "exponential", "mean": 10.0},
            in_house_places=None,
            years=0.25,
            warmup_days=80,
            start_date="2021-01-01",
        )
    )


def test_precision_stop_reaches_the_requested_half_width():
    target = PrecisionTarget(("looked_after",), 0.05, max_replications=400)
    sink = MemorySink()
    with make_backend("serial") as backend:
        n, table, failures = run_to_precision(
            _queue(), target=target, seed=5, sink=sink, backend=backend
        )
    assert not failures and bool(table["met"].all())
    assert (table["ci95_half_width"] <= 0.05 * table["mean"].abs()).all()
    assert len(sink.done()) == n
    # Theory: n ≈ (1.96 √20 / (0.05 × 20))² ≈ 77.
    theory = (1.96 * math.sqrt(20) / (0.05 * 20)) ** 2
    assert 0.6 * theory <= n <= 2.0 * theory


def test_precision_gives_up_at_the_maximum():
    target = PrecisionTarget(("looked_after",), 0.001, max_replications=12)
    with make_backend("serial") as backend:
        n, table, _ = run_to_precision(
            _queue(), target=target, seed=5, sink=MemorySink(), backend=backend
        )
    assert n == 12 and not bool(table["met"].all())


def test_precision_target_rejects_unknown_measures():
    with pytest.raises(CaresimError, match=r"unknown measure 'cost_totl'.*cost_total_gbp"):
        PrecisionTarget(("cost_totl",), 0.02)


# ------------------------------------------------------------- uncertainty


def _uncertain(one_year: sim.Config) -> sim.Config:
    return sim.with_overrides(
        one_year,
        {
            "parameter_uncertainty": {
                "referrals.rate_per_year": {"distribution": "choice", "values": [3000, 9000]},
                "workforce.fte": {
                    "distribution": "uniform",
                    "low": 180,
                    "high": 230,
                    "integer": True,
                },
            }
        },
    )


def test_uncertain_parameters_are_drawn_reproducibly_per_replication(one_year):
    cfg = _uncertain(one_year)
    draws = [draw_parameters(cfg, 7, k) for k in range(12)]
    assert draws == [draw_parameters(cfg, 7, k) for k in range(12)]
    rates = {d["referrals.rate_per_year"] for d in draws}
    assert rates == {3000, 9000}
    assert all(180 <= d["workforce.fte"] <= 230 and d["workforce.fte"] % 1 == 0 for d in draws)
    # A key's draw does not depend on which other keys are uncertain (CRN across scenarios).
    alone = sim.with_overrides(
        one_year,
        {
            "parameter_uncertainty": {
                "workforce.fte": {
                    "distribution": "uniform",
                    "low": 180,
                    "high": 230,
                    "integer": True,
                }
            }
        },
    )
    assert [draw_parameters(alone, 7, k)["workforce.fte"] for k in range(12)] == [
        d["workforce.fte"] for d in draws
    ]


def test_uncertain_parameters_are_applied_and_reported(one_year):
    cfg = _uncertain(one_year)
    res = sim.run(cfg, replications=4, seed=7, timeseries=())
    params = res.parameters.pivot(index="replication", columns="parameter", values="value")
    referrals = res.summary[res.summary["measure"] == "referrals"].set_index("replication")["value"]
    low = referrals[params["referrals.rate_per_year"] == 3000]
    high = referrals[params["referrals.rate_per_year"] == 9000]
    assert len(low) and len(high) and low.max() < high.min()
    assert set(res.manifest["parameter_uncertainty"]) == {
        "referrals.rate_per_year",
        "workforce.fte",
    }


def test_an_uncertain_key_that_does_not_exist_is_a_config_error(one_year):
    cfg = sim.with_overrides(
        one_year,
        {
            "parameter_uncertainty": {
                "referrals.rate": {"distribution": "normal", "mean": 1, "sd": 1}
            }
        },
    )
    with pytest.raises(ConfigError, match=r"'referrals\.rate' is not a key of the config"):
        sim.run(cfg, replications=1)


def test_an_uncertainty_distribution_needs_its_parameters(one_year):
    with pytest.raises(ConfigError, match="triangular needs mode"):
        sim.with_overrides(
            one_year,
            {
                "parameter_uncertainty": {
                    "workforce.fte": {"distribution": "triangular", "low": 1, "high": 2}
                }
            },
        )


# ---------------------------------------------------------------- progress


def test_progress_prints_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    with Progress(3, desc="demo", stream=out, interval=0) as p:
        for _ in range(3):
            p.update()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("demo: 3/3 replications (100%)")
    assert "ETA" in lines[0]


def test_quiet_progress_prints_nothing():
    out = io.StringIO()
    with Progress(3, stream=out, mode="quiet", interval=0) as p:
        p.update(3)
    assert out.getvalue() == ""


def test_a_missing_dask_install_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(CaresimError, match=r"needs dask\[distributed\]"), make_backend("dask"):
        pass


def test_parameter_draws_use_the_config_layer_distributions():
    from sim.config.distributions import Normal, Triangular
    from sim.config.schema import UncertainParameter
    from sim.experiment.uncertainty import quantile

    spec = UncertainParameter(distribution="normal", mean=6000, sd=300, low=5500)
    assert isinstance(spec.as_distribution(), Normal)
    for u in (0.001, 0.2, 0.5, 0.9):
        assert quantile(spec, u) == spec.as_distribution().ppf(u)
    assert quantile(spec, 0.0001) == 5500  # clipped
    tri = UncertainParameter(distribution="triangular", low=1, mode=2, high=5)
    assert isinstance(tri.as_distribution(), Triangular)
    assert tri.as_distribution().cdf(quantile(tri, 0.3)) == pytest.approx(0.3)
