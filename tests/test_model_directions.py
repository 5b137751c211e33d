"""Levers move the outputs the way a planner expects.

Each test runs the baseline and the baseline with one lever pulled, with the
same seed, so both see the same families at the same moments with the same
needs and luck (common random numbers). The difference is then the lever's
effect alone, and it must have the expected sign in every replication, not
just on average.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from model_configs import BASELINE

import sim
from sim.config import Config, with_overrides

SEED = 42
REPLICATIONS = 3
YEARS = 2
FIRST_YEAR = "2016-17"


@pytest.fixture(scope="module")
def baseline() -> Config:
    return with_overrides(sim.load_config(BASELINE), {"run.years": YEARS})


@pytest.fixture(scope="module")
def baseline_result(baseline: Config) -> sim.RunResult:
    return sim.run(baseline, replications=REPLICATIONS, seed=SEED)


def run_with(baseline: Config, overrides: dict[str, Any]) -> sim.RunResult:
    return sim.run(with_overrides(baseline, overrides), replications=REPLICATIONS, seed=SEED)


def summary(result: sim.RunResult, measure: str, period: str) -> np.ndarray:
    """One value per replication, in replication order."""
    s = result.summary
    rows = s[(s["measure"] == measure) & (s["period"] == period)].sort_values("replication")
    assert len(rows) == REPLICATIONS, f"no {measure}[{period}]"
    return rows["value"].to_numpy()


def monthly(result: sim.RunResult, measure: str, category: str) -> pd.DataFrame:
    """Months × replications table of one time series."""
    ts = result.timeseries
    rows = ts[(ts["measure"] == measure) & (ts["category"] == category)]
    assert len(rows) > 0, f"no time series {measure}/{category}"
    return rows.pivot(index="date", columns="replication", values="value").sort_index()


def total(result: sim.RunResult, measure: str, category: str) -> np.ndarray:
    """A monthly flow summed over the horizon, per replication."""
    return monthly(result, measure, category).sum().to_numpy()


@pytest.fixture(scope="module")
def more_fostering(baseline: Config) -> sim.RunResult:
    places = baseline.placement_types["foster_in_house"].capacity
    assert places is not None
    return run_with(baseline, {"placement_types.foster_in_house.capacity": places.initial() + 50})


def test_more_in_house_fostering_places_mean_fewer_children_in_independent_fostering(
    baseline_result: sim.RunResult, more_fostering: sim.RunResult
) -> None:
    more = more_fostering
    before = monthly(baseline_result, "looked_after", "foster_ifa").mean().to_numpy()
    after = monthly(more, "looked_after", "foster_ifa").mean().to_numpy()
    assert (after < before).all(), f"mean children in IFA: {before} -> {after}"


def test_more_in_house_fostering_places_cost_less(
    baseline_result: sim.RunResult, more_fostering: sim.RunResult
) -> None:
    more = more_fostering
    for year in ("2016-17", "2017-18"):
        before = summary(baseline_result, "cost_placements_gbp", year)
        after = summary(more, "cost_placements_gbp", year)
        assert (after < before).all(), f"{year} placement cost: {before} -> {after}"


@pytest.fixture(scope="module")
def higher_threshold(baseline: Config) -> sim.RunResult:
    current = baseline.front_door.assessment_above_percentile.initial()
    return run_with(baseline, {"front_door.assessment_above_percentile": current + 0.15})


def test_a_higher_assessment_threshold_means_fewer_assessments_in_the_first_year(
    baseline_result: sim.RunResult, higher_threshold: sim.RunResult
) -> None:
    before = summary(baseline_result, "assessments", FIRST_YEAR)
    after = summary(higher_threshold, "assessments", FIRST_YEAR)
    assert (after < before).all(), f"assessments: {before} -> {after}"


def test_a_higher_assessment_threshold_brings_more_children_back_as_re_referrals(
    baseline_result: sim.RunResult, higher_threshold: sim.RunResult
) -> None:
    # Children turned away with a statutory need come back more often than
    # those whose needs were assessed and met.
    before = total(baseline_result, "referrals", "re_referral")
    after = total(higher_threshold, "referrals", "re_referral")
    assert (after > before).all(), f"re-referrals: {before} -> {after}"


def test_a_higher_assessment_threshold_lowers_assessment_cost_in_the_first_year(
    baseline_result: sim.RunResult, higher_threshold: sim.RunResult
) -> None:
    # The children no longer assessed go to early help: its cost rises as assessments' falls.
    before = summary(baseline_result, "cost_assessments_gbp", FIRST_YEAR)
    after = summary(higher_threshold, "cost_assessments_gbp", FIRST_YEAR)
    assert before.min() > 0
    assert (after < before).all(), f"assessment cost: {before} -> {after}"
    eh_before = summary(baseline_result, "cost_early_help_gbp", FIRST_YEAR)
    eh_after = summary(higher_threshold, "cost_early_help_gbp", FIRST_YEAR)
    assert (eh_after > eh_before).all(), f"early-help cost: {eh_before} -> {eh_after}"
    # New referrals are the same families under common random numbers.
    np.testing.assert_array_equal(
        total(higher_threshold, "referrals", "new"), total(baseline_result, "referrals", "new")
    )


def test_an_edge_of_care_service_means_fewer_entries_to_care(
    baseline: Config, baseline_result: sim.RunResult
) -> None:
    assert baseline.edge_of_care.capacity.maximum() == 0
    service = run_with(baseline, {"edge_of_care.capacity": 40})
    before = total(baseline_result, "entries", "all")
    after = total(service, "entries", "all")
    assert (after < before).all(), f"entries: {before} -> {after}"
    assert (total(service, "edge_of_care", "diverted") > 0).all()


def test_more_social_workers_mean_lower_caseloads(
    baseline: Config, baseline_result: sim.RunResult
) -> None:
    more = run_with(baseline, {"workforce.fte": baseline.workforce.fte.initial() * 1.5})
    for year in ("2016-17", "2017-18"):
        before = summary(baseline_result, "caseload_mean", year)
        after = summary(more, "caseload_mean", year)
        assert (after < before).all(), f"{year} caseload: {before} -> {after}"


def test_fewer_social_workers_slow_assessments_only_through_the_elasticity(
    baseline: Config, baseline_result: sim.RunResult
) -> None:
    assert baseline.workforce.assessment_delay_elasticity > 0
    fewer = {"workforce.fte": baseline.workforce.fte.initial() * 0.6}
    stretched = run_with(baseline, fewer)
    before = monthly(baseline_result, "open_cases", "assessment").mean().to_numpy()
    after = monthly(stretched, "open_cases", "assessment").mean().to_numpy()
    assert (after > before * 1.02).all(), f"open assessments: {before} -> {after}"
    # With no caseload elasticity the FTE changes caseloads but not how long work takes.
    inert = {
        "workforce.assessment_delay_elasticity": 0.0,
        "workforce.permanence_delay_elasticity": 0.0,
    }
    a = run_with(baseline, inert)
    b = run_with(baseline, {**inert, **fewer})
    pd.testing.assert_frame_equal(
        monthly(a, "open_cases", "assessment"), monthly(b, "open_cases", "assessment")
    )
    assert (summary(b, "caseload_mean", FIRST_YEAR) > summary(a, "caseload_mean", FIRST_YEAR)).all()


@pytest.fixture(scope="module")
def bring_back(baseline: Config) -> sim.RunResult:
    assert not baseline.placement_policy.bring_back_in_house
    return run_with(baseline, {"placement_policy.bring_back_in_house": True})


def test_bringing_children_back_in_house_means_more_moves(
    baseline_result: sim.RunResult, bring_back: sim.RunResult
) -> None:
    before = summary(baseline_result, "moves_per_child", "all")
    after = summary(bring_back, "moves_per_child", "all")
    assert (after > before).all(), f"moves per child: {before} -> {after}"
    assert (total(bring_back, "moves", "bring_back") > 0).all()


def test_bringing_children_back_in_house_raises_the_in_house_share_of_fostering(
    baseline_result: sim.RunResult, bring_back: sim.RunResult
) -> None:
    def share(result: sim.RunResult) -> np.ndarray:
        inside = monthly(result, "looked_after", "foster_in_house").sum()
        outside = monthly(result, "looked_after", "foster_ifa").sum()
        return (inside / (inside + outside)).to_numpy()

    before, after = share(baseline_result), share(bring_back)
    assert (after > before).all(), f"in-house share of fostering: {before} -> {after}"


CLOSURE = "2016-10-01"
PLACES_AFTER = 8


@pytest.fixture(scope="module")
def home_closure(baseline: Config) -> sim.RunResult:
    places = baseline.placement_types["resi_in_house"].capacity
    assert places is not None and places.initial() > PLACES_AFTER
    schedule = {"2016-04-01": places.initial(), CLOSURE: PLACES_AFTER}
    return run_with(baseline, {"placement_types.resi_in_house.capacity": schedule})


def test_closing_homes_moves_children_out_in_the_month_of_the_closure(
    baseline_result: sim.RunResult, home_closure: sim.RunResult
) -> None:
    moved = monthly(home_closure, "moves", "capacity_reduced")
    assert (moved.loc[pd.Timestamp(CLOSURE)] > 0).all()
    assert (moved.drop(index=pd.Timestamp(CLOSURE)) == 0).all().all()
    ts = baseline_result.timeseries
    assert (
        ts.loc[(ts["measure"] == "moves") & (ts["category"] == "capacity_reduced"), "value"].sum()
        == 0
    )


def test_after_closing_homes_in_house_residential_stays_within_the_new_places(
    home_closure: sim.RunResult,
) -> None:
    occupied = monthly(home_closure, "in_house_occupancy", "resi_in_house")
    places = monthly(home_closure, "capacity", "resi_in_house")
    after = occupied.index >= pd.Timestamp(CLOSURE)
    assert (places.loc[after] == PLACES_AFTER).all().all()
    assert (occupied.loc[after] <= PLACES_AFTER).all().all()
    assert (occupied.loc[~after] > PLACES_AFTER).any().all()  # the cut did bind


def test_closing_homes_sends_more_children_to_external_residential(
    baseline_result: sim.RunResult, home_closure: sim.RunResult
) -> None:
    after = pd.Timestamp(CLOSURE)
    before_cut = monthly(baseline_result, "looked_after", "resi_external").loc[after:].mean()
    with_cut = monthly(home_closure, "looked_after", "resi_external").loc[after:].mean()
    assert (with_cut.to_numpy() > before_cut.to_numpy()).all()
