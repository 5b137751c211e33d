"""Paired comparisons with common random numbers, and sweep grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.comparison import paired_stats
from sim.errors import CaresimError
from sim.experiment.backends import make_backend
from sim.experiment.scenarios import (
    parse_sweep,
    run_scenarios,
    sweep_grid,
    sweep_label,
)


def _summary(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        (scenario, k, "cost_total_gbp", "2016-17", v)
        for scenario, vs in values.items()
        for k, v in enumerate(vs)
    ]
    return pd.DataFrame(rows, columns=["scenario", "replication", "measure", "period", "value"])


def test_paired_difference_is_taken_replication_by_replication():
    summary = _summary({"base": [10, 20, 30, 40], "more": [11, 22, 33, 44]})
    row = paired_stats(summary, "base").iloc[0]
    diffs = np.array([1, 2, 3, 4])
    assert row["mean"] == 2.5 and row["sd"] == pytest.approx(diffs.std(ddof=1))
    assert row["base_mean"] == 25 and row["scenario_mean"] == 27.5
    assert row["relative_change"] == pytest.approx(0.1)
    assert row["p10"] == pytest.approx(np.quantile(diffs, 0.1))
    assert row["ci95_low"] < 2.5 < row["ci95_high"]
    assert row["share_above_zero"] == 1.0


def test_the_cli_path_and_the_notebook_path_give_the_same_comparison():
    from sim.analysis.comparison import _interval_stats, paired_table

    summary = _summary({"base": [10, 20, 30, 40], "more": [11, 19, 33, 44]})
    direct = paired_stats(summary, "base")
    again = _interval_stats(paired_table(summary, "base"), ["scenario", "measure", "period"])
    pd.testing.assert_frame_equal(direct, again)


def test_paired_difference_needs_the_base_in_the_results():
    with pytest.raises(CaresimError, match="base scenario 'nope'"):
        paired_stats(_summary({"base": [1.0]}), "nope")


def test_common_random_numbers_shrink_the_variance_of_a_capacity_effect(baseline_path):
    base = sim.load_config(baseline_path, {"run.years": 1})
    more = sim.with_overrides(base, {"placement_types.foster_in_house.capacity": 260})
    n = 6
    with make_backend("serial") as backend:
        paired, _, _ = run_scenarios(
            {"base": base, "more": more}, replications=n, seed=11, backend=backend
        )
        other_seed, _, _ = run_scenarios({"more": more}, replications=n, seed=12, backend=backend)

    def values(frame: pd.DataFrame, scenario: str) -> np.ndarray:
        sel = frame[(frame["scenario"] == scenario) & (frame["measure"] == "cost_total_gbp")]
        return sel.sort_values("replication")["value"].to_numpy()

    same_seed = np.var(values(paired, "more") - values(paired, "base"), ddof=1)
    independent = np.var(values(other_seed, "more") - values(paired, "base"), ddof=1)
    assert independent > 10 * same_seed, (same_seed, independent)


def test_parse_sweep_reads_toml_values_and_bare_words():
    assert parse_sweep("workforce.fte=190, 205.5") == ("workforce.fte", [190, 205.5])
    assert parse_sweep("placement_policy.fallback=emergency,foster_ifa") == (
        "placement_policy.fallback",
        ["emergency", "foster_ifa"],
    )
    with pytest.raises(CaresimError, match="expected KEY=V1,V2"):
        parse_sweep("workforce.fte")


def test_sweep_grid_is_every_combination():
    grid = sweep_grid([("a.x", [1, 2]), ("b.y", [3, 4, 5])])
    assert len(grid) == 6 and grid[0] == {"a.x": 1, "b.y": 3} and grid[-1] == {"a.x": 2, "b.y": 5}
    assert sweep_label(grid[0]) == "x=1, y=3"
    with pytest.raises(CaresimError, match="swept twice"):
        sweep_grid([("a", [1]), ("a", [2])])
