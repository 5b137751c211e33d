"""Sensitivity analysis: Morris and Sobol rank a dominant parameter first (common random numbers).

The test case is a queue: children enter care at a Poisson rate and need
fostering, first in-house (finite places) else external at almost twice the
price. Placement spend then depends strongly on the number of in-house places
and only a little on a ±2% change of the in-house weekly cost.
"""

from __future__ import annotations

import argparse
import doctest
import json
from pathlib import Path

import pytest
from model_configs import build, care_queue

from sim.analysis import sensitivity
from sim.analysis.sensitivity import Parameter, check_key, parse_parameter, run_sensitivity
from sim.cli.analysis import add_sensitivity_arguments, sensitivity_command
from sim.errors import CaresimError

CAPACITY = "placement_types.foster_in_house.capacity"
WEEKLY = "placement_types.foster_in_house.weekly_cost_gbp"

PARAMS = [Parameter(CAPACITY, 4, 20), Parameter(WEEKLY, 441, 459)]


def _queue() -> dict:
    return care_queue(
        entries_per_day=1.0,
        stay_days={"distribution": "exponential", "mean": 10},
        in_house_places=10,
        years=1,
        warmup_days=60,
    )


@pytest.fixture(scope="module")
def cfg():
    return build(_queue())


def test_morris_ranks_the_dominant_parameter_first(cfg) -> None:
    res = run_sensitivity(
        cfg, PARAMS, output="cost_placements_gbp", method="morris", trajectories=6,
        replications=3, seed=1,
    )  # fmt: skip
    assert res.ranking() == [CAPACITY, WEEKLY]
    mu_star = res.indices.query("index == 'mu_star'").set_index("parameter")["value"]
    assert mu_star[CAPACITY] > 5 * mu_star[WEEKLY] > 0
    assert len(res.samples) == 6 * (len(PARAMS) + 1)
    assert res.runs <= len(res.samples)  # repeated points come from the cache


def test_sobol_gives_the_dominant_parameter_most_of_the_variance(cfg) -> None:
    res = run_sensitivity(
        cfg, PARAMS, output="cost_placements_gbp", method="sobol", trajectories=8,
        replications=2, seed=1,
    )  # fmt: skip
    assert res.ranking() == [CAPACITY, WEEKLY]
    st = res.indices.query("index == 'ST'").set_index("parameter")["value"]
    assert st[CAPACITY] > 0.8
    assert st[WEEKLY] < 0.2
    assert len(res.samples) == 8 * (len(PARAMS) + 2)
    # N = 8 is far below what a Sobol estimate needs: the result says so.
    assert any("N = 8" in w for w in res.warnings)


def test_points_share_random_numbers_so_a_repeat_gives_identical_indices(cfg) -> None:
    kwargs = {"output": "cost_placements_gbp", "trajectories": 4, "replications": 2, "seed": 3}
    a = run_sensitivity(cfg, PARAMS, **kwargs)
    b = run_sensitivity(cfg, PARAMS, **kwargs)
    assert a.indices.equals(b.indices)
    assert a.samples.equals(b.samples)


def test_a_parameter_with_no_effect_has_zero_elementary_effects(cfg) -> None:
    # With common random numbers the staff cost per FTE cannot move placement spend at all.
    params = [Parameter(CAPACITY, 4, 20), Parameter("workforce.annual_cost_per_fte_gbp", 1, 2)]
    res = run_sensitivity(
        cfg, params, output="cost_placements_gbp", trajectories=4, replications=2, seed=1
    )
    mu_star = res.indices.query("index == 'mu_star'").set_index("parameter")["value"]
    assert mu_star["workforce.annual_cost_per_fte_gbp"] == 0


def test_capacities_are_run_at_whole_values(cfg) -> None:
    params = [Parameter(CAPACITY, 4.5, 20.5), Parameter(WEEKLY, 440.5, 459.5)]
    res = run_sensitivity(cfg, params, output="cost_placements_gbp", trajectories=3, seed=1)
    assert (res.samples[CAPACITY] == res.samples[CAPACITY].round()).all()
    assert not (res.samples[WEEKLY] == res.samples[WEEKLY].round()).all()


def test_a_schedule_key_can_be_varied() -> None:
    data = _queue()
    data["placement_types"]["foster_in_house"]["capacity"] = {"2020-04-01": 8, "2020-10-01": 12}
    cfg = build(data)
    assert check_key(cfg, CAPACITY) == {"2020-04-01": 8.0, "2020-10-01": 12.0}
    res = run_sensitivity(
        cfg, PARAMS, output="cost_placements_gbp", trajectories=2, replications=1, seed=1
    )
    assert res.ranking()[0] == CAPACITY
    with pytest.raises(CaresimError, match="is a table, not a single value"):
        check_key(cfg, "placement_types.foster_in_house")


def test_parse_parameter_and_its_errors() -> None:
    p = parse_parameter("referrals.rate_per_year=5000:7000")
    assert (p.key, p.low, p.high, p.integer) == ("referrals.rate_per_year", 5000, 7000, False)
    with pytest.raises(CaresimError, match="expected KEY=LOW:HIGH"):
        parse_parameter("referrals.rate_per_year=5000")
    with pytest.raises(CaresimError, match="LOW and HIGH must be numbers"):
        parse_parameter("referrals.rate_per_year=a:b")
    with pytest.raises(CaresimError, match=r"high \(1\) must exceed low \(2\)"):
        parse_parameter("x=2:1")


def test_unknown_key_method_or_measure_is_a_caresim_error(cfg) -> None:
    with pytest.raises(CaresimError, match=r"unknown config key 'referrals\.rate'.*rate_per_year"):
        run_sensitivity(cfg, [Parameter("referrals.rate", 1, 2)], output="entries")
    with pytest.raises(CaresimError, match="--method 'fast'"):
        run_sensitivity(cfg, PARAMS, output="entries", method="fast")
    with pytest.raises(CaresimError, match="Sobol indices need at least two parameters"):
        run_sensitivity(cfg, PARAMS[:1], output="entries", method="sobol")
    with pytest.raises(CaresimError, match="unknown summary measure 'spend'"):
        run_sensitivity(cfg, PARAMS, output="spend", trajectories=2, replications=1)
    with pytest.raises(CaresimError, match="has no period '2030-31'"):
        run_sensitivity(cfg, PARAMS, output="entries:2030-31", trajectories=2, replications=1)


def test_command_prints_the_ranking_and_writes_table_samples_and_chart(
    tmp_path: Path, write_toml, capsys
) -> None:
    path = write_toml("queue.toml", _queue())
    parser = argparse.ArgumentParser()
    add_sensitivity_arguments(parser)
    args = parser.parse_args(
        [
            str(path),
            "--param", f"{CAPACITY}=4:20",
            "--param", f"{WEEKLY}=441:459",
            "--output", "cost_placements_gbp:2020-21",
            "--trajectories", "3", "-n", "2", "--seed", "1", "--backend", "serial",
            "--out", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    assert sensitivity_command(args) == 0
    printed = capsys.readouterr().out
    assert f"Most influential first: {CAPACITY}, {WEEKLY}" in printed
    for name in ("indices.csv", "samples.csv", "sensitivity.png", "sensitivity.svg"):
        assert (tmp_path / "out" / name).exists(), name
    meta = json.loads((tmp_path / "out" / "sensitivity.json").read_text())
    assert meta["ranking"] == [CAPACITY, WEEKLY]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert meta["manifest"] == manifest and manifest["command"] == "sensitivity"
    assert manifest["git_commit"] and "simpy" in manifest["versions"]


def test_docstring_examples_run() -> None:
    result = doctest.testmod(sensitivity)
    assert result.failed == 0 and result.attempted > 0


def test_sobol_warnings_name_small_samples_and_impossible_indices() -> None:
    import pandas as pd

    from sim.analysis.sensitivity import sobol_warnings

    good = pd.DataFrame(
        {"parameter": ["a", "a"], "index": ["S1", "ST"], "value": [0.6, 0.7], "conf": [0.02, 0.03]}
    )
    assert sobol_warnings(good, 1024) == ()
    bad = good.assign(value=[1.78, 0.7])
    assert any("outside 0 to 1" in w and "a S1 = 1.78" in w for w in sobol_warnings(bad, 1024))
