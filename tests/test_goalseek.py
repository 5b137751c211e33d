"""Goal-seek and optimisation against Erlang-B.

The test case is an Erlang loss system: children enter care as a Poisson
process (1 a day), stay an exponential time (mean 10 days) and need
fostering; in-house places come first and a child finding none goes to an
unlimited external provider. The offered load is a = 10 and the share of
children (and of fostering days) placed externally is the Erlang-B
probability B(c, a), so the in-house share of fostering days is 1 − B(c, a).
"""

from __future__ import annotations

import argparse
import doctest
import json
import math
from pathlib import Path

import pytest
from model_configs import build, care_queue

from sim.analysis import goalseek
from sim.analysis.goalseek import Target, goal_seek, optimise, parse_target
from sim.cli.analysis import add_goalseek_arguments, goalseek_command
from sim.errors import CaresimError

CAPACITY = "placement_types.foster_in_house.capacity"
LOAD = 10.0  # entries a day × mean stay in days
IN_HOUSE_WEEKLY, EXTERNAL_WEEKLY = 450.0, 850.0  # as in model_configs.care_queue


def erlang_b(servers: int, load: float) -> float:
    """Erlang-B blocking probability by the recursion B(k) = aB(k-1) / (k + aB(k-1))."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def _queue() -> dict:
    return care_queue(
        entries_per_day=1.0,
        stay_days={"distribution": "exponential", "mean": LOAD},
        in_house_places=10,
        years=1,
        warmup_days=60,
    )


@pytest.fixture(scope="module")
def cfg():
    return build(_queue())


@pytest.fixture
def counted(monkeypatch):
    """Count the configs goal-seek sends to be run."""
    calls: list[int] = []
    real = goalseek.evaluate

    def counting(configs, **kwargs):
        calls.append(len(configs))
        return real(configs, **kwargs)

    monkeypatch.setattr(goalseek, "evaluate", counting)
    return calls


def test_erlang_b_recursion_gives_the_textbook_value() -> None:
    assert erlang_b(1, 2.0) == pytest.approx(2 / 3)
    assert erlang_b(15, LOAD) == pytest.approx(0.0365, abs=1e-4)


def test_goal_seek_finds_the_erlang_b_capacity_within_one_place(cfg, counted) -> None:
    blocking = 0.05
    analytic = next(c for c in range(1, 100) if erlang_b(c, LOAD) <= blocking)
    assert analytic == 15
    res = goal_seek(
        cfg,
        CAPACITY,
        f"in_house_share_fostering>={1 - blocking}",
        probability=0.5,
        low=1,
        high=40,
        replications=20,
        seed=5,
    )
    assert res.value is not None
    assert abs(res.value - analytic) <= 1
    assert res.period == "2020-21"
    # Every value is run once: the search caches what it has run.
    assert sum(counted) == res.runs == len(res.points)
    # Bisection over 1..40 needs about log2(40) values, plus a few for the 80%/90% levels.
    assert res.runs <= 2 + math.ceil(math.log2(40)) + 4


def test_higher_required_probability_needs_at_least_as_many_places(cfg) -> None:
    res = goal_seek(
        cfg, CAPACITY, "in_house_share_fostering>=0.95", probability=0.5, low=1, high=40,
        replications=10, seed=5,
    )  # fmt: skip
    levels = res.levels.set_index("level")["value"]
    assert levels[0.5] <= levels[0.8] <= levels[0.9]
    lo, hi = res.interval
    assert lo <= res.value <= hi
    assert "Smallest placement_types.foster_in_house.capacity" in res.summary()


def test_a_target_out_of_reach_gives_no_answer_and_says_why(cfg) -> None:
    res = goal_seek(
        cfg, CAPACITY, "in_house_share_fostering>=0.99", probability=0.9, low=1, high=8,
        replications=4, seed=5,
    )  # fmt: skip
    assert res.value is None
    assert "raise --high" in res.notes[0]
    assert "No value of" in res.summary()


def test_a_target_met_at_low_returns_low(cfg) -> None:
    res = goal_seek(
        cfg, CAPACITY, "in_house_share_fostering>=0.1", low=5, high=40, replications=3, seed=5
    )
    assert res.value == 5
    assert "already met" in res.notes[0]


def test_by_a_date_names_the_financial_year_it_ends(cfg) -> None:
    res = goal_seek(
        cfg, CAPACITY, "in_house_share_fostering>=0.5", period="2021-03-31", low=1, high=20,
        replications=2, seed=5,
    )  # fmt: skip
    assert res.period == "2020-21"


def test_optimise_finds_the_capacity_with_the_lowest_expected_cost(cfg) -> None:
    place = 8000.0  # £ a year per place

    def expected(c: int) -> float:
        b = erlang_b(c, LOAD)
        weekly = IN_HOUSE_WEEKLY * (1 - b) + EXTERNAL_WEEKLY * b
        return LOAD * weekly / 7 * 365 + place * c

    analytic = min(range(1, 40), key=expected)
    res = optimise(
        cfg,
        [CAPACITY],
        cost_per_place_gbp=place,
        bounds=[(1, 30)],
        objective="cost_placements_gbp",
        replications=12,
        seed=5,
    )
    assert abs(res.best[CAPACITY] - analytic) <= 1
    near = res.near_best[CAPACITY]
    assert near.min() <= res.best[CAPACITY] <= near.max()
    assert "Lowest expected annual cost" in res.summary()


def test_optimise_two_capacities_searches_a_grid_and_refines(cfg) -> None:
    data = _queue()
    data["placement_types"]["foster_external"]["capacity"] = 30
    data["placement_types"]["emergency"] = {
        "category": "fostering",
        "provider": "external",
        "weekly_cost_gbp": 3000,
    }
    two = build(data)
    res = optimise(
        two,
        [CAPACITY, "placement_types.foster_external.capacity"],
        cost_per_place_gbp=[8000, 1000],
        bounds=[(1, 20), (0, 20)],
        objective="cost_placements_gbp",
        replications=3,
        seed=5,
        grid=5,
    )
    assert set(res.best) == {CAPACITY, "placement_types.foster_external.capacity"}
    assert len(res.points) >= 25


def test_parse_target() -> None:
    assert parse_target("in_house_share_fostering>=60%") == Target(
        "in_house_share_fostering", ">=", 0.6
    )
    assert parse_target(" external_residential < 40 ") == Target("external_residential", "<", 40)
    with pytest.raises(CaresimError, match="expected MEASURE>=VALUE"):
        parse_target("in_house_share_fostering=0.6")
    with pytest.raises(CaresimError, match="unknown summary measure 'share'"):
        parse_target("share>=0.6")


def test_goal_seek_argument_errors(cfg) -> None:
    with pytest.raises(CaresimError, match=r"--probability must be in \(0, 1\]"):
        goal_seek(cfg, CAPACITY, "entries>=1", probability=1.5)
    with pytest.raises(CaresimError, match="give --low and --high"):
        goal_seek(cfg, "referrals.rate_per_year", "entries>=1")
    with pytest.raises(CaresimError, match="unknown config key"):
        goal_seek(cfg, "placement_types.foster_in_house.places", "entries>=1")
    with pytest.raises(CaresimError, match="optimise one or two keys"):
        optimise(cfg, [], cost_per_place_gbp=1)


def test_an_invalid_value_in_the_range_names_the_key_and_the_fix() -> None:
    data = _queue()
    data["initial_population"] = {
        "looked_after": [{"placement": "foster_in_house", "count": 5, "max_days_in_care": 10}]
    }
    cfg = build(data)
    message = r"(?s)cannot run .*capacity = 2:.*puts 5 children.*narrow the range"
    with pytest.raises(CaresimError, match=message):
        goal_seek(cfg, CAPACITY, "entries>=1", low=2, high=20, replications=1)
    # Without --low, a capacity starts from the children already placed in the type.
    res = goal_seek(cfg, CAPACITY, "in_house_share_fostering>=0.1", high=20, replications=1)
    assert res.value == 5


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_goalseek_arguments(parser)
    return parser.parse_args(list(argv))


def test_command_reports_the_answer_and_writes_points_and_chart(
    tmp_path: Path, write_toml, capsys
) -> None:
    path = write_toml("queue.toml", _queue())
    args = _parse(
        str(path), "--vary", CAPACITY, "--target", "in_house_share_fostering>=0.9",
        "--probability", "0.5", "--low", "1", "--high", "30", "-n", "6", "--seed", "5",
        "--backend", "serial", "--out", str(tmp_path / "gs"),
    )  # fmt: skip
    assert goalseek_command(args) == 0
    assert "Smallest placement_types.foster_in_house.capacity" in capsys.readouterr().out
    meta = json.loads((tmp_path / "gs" / "goalseek.json").read_text())
    assert meta["value"] is not None and meta["target"] == "in_house_share_fostering >= 0.9"
    # Provenance: the resolved config, seed, versions and commit, also as manifest.json.
    manifest = meta["manifest"]
    assert manifest["seed"] == 5 and manifest["replications"] == 6
    assert manifest["command"] == "goalseek" and "simpy" in manifest["versions"]
    assert manifest["git_commit"] and manifest["config"]["run"]
    assert json.loads((tmp_path / "gs" / "manifest.json").read_text()) == manifest
    assert (tmp_path / "gs" / "goalseek.png").exists()


def test_command_needs_exactly_one_of_target_and_cost(write_toml) -> None:
    path = str(write_toml("queue.toml", _queue()))
    with pytest.raises(CaresimError, match="give --target"):
        goalseek_command(_parse(path, "--vary", CAPACITY))
    with pytest.raises(CaresimError, match="either --target"):
        goalseek_command(
            _parse(path, "--vary", CAPACITY, "--target", "entries>=1", "--cost-per-place-gbp", "1")
        )
    with pytest.raises(CaresimError, match="give --low and --high once for each --vary"):
        goalseek_command(_parse(path, "--vary", CAPACITY, "--target", "entries>=1", "--low", "1"))


def test_docstring_examples_run() -> None:
    result = doctest.testmod(goalseek)
    assert result.failed == 0 and result.attempted > 0
