"""Fixed and one-off costs of in-house capacity (issue 11, item 1).

An in-house place costs its fixed part whether or not a child is in it; a
capacity change books a one-off opening or closing cost on its date; the
parts add up to the totals; and closing homes saves exactly the fixed cost of
the places closed, while the children who would have had them cost more
outside.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from model_configs import BASELINE, build, care_queue, small_baseline

import sim
from sim.config import raw_config, with_overrides
from sim.errors import ConfigError
from sim.model.capacity_costs import capacity_cost_steps, one_off_steps

SEED = 7
#: £100 a place a day.
FIXED = 36525.0


def _queue(capacity: Any, **costs: Any) -> dict[str, Any]:
    data = care_queue(
        entries_per_day=0.0,
        stay_days={"distribution": "fixed", "value": 30},
        in_house_places=0,
        years=2,
    )
    data["placement_types"]["foster_in_house"].update(capacity=capacity, **costs)
    return data


def _summary(result: sim.RunResult, measure: str, period: str) -> np.ndarray:
    s = result.summary
    rows = s[(s["measure"] == measure) & (s["period"] == period)].sort_values("replication")
    assert len(rows) > 0, f"no {measure}[{period}]"
    return rows["value"].to_numpy()


def _monthly(result: sim.RunResult, measure: str, category: str) -> pd.Series:
    ts = result.timeseries
    rows = ts[(ts["measure"] == measure) & (ts["category"] == category)]
    assert len(rows) > 0, f"no time series {measure}/{category}"
    return rows[rows["replication"] == 0].set_index("date")["value"].sort_index()


def test_fixed_cost_accrues_over_empty_capacity() -> None:
    cfg = build(_queue(10, fixed_cost_per_place_per_year_gbp=FIXED))
    result = sim.run(cfg, replications=1, seed=SEED, backend="serial")
    # Nobody is referred, so nobody is placed: 10 empty places at £100 a day each.
    assert _summary(result, "entries", "2020-21")[0] == 0
    for measure in ("cost_in_house_fixed_gbp", "cost_empty_places_gbp"):
        assert _summary(result, measure, "2020-21")[0] == pytest.approx(10 * 100 * 365)
    assert _summary(result, "cost_in_house_variable_gbp", "2020-21")[0] == 0
    assert _summary(result, "in_house_utilisation", "2020-21")[0] == 0
    total = _summary(result, "cost_total_gbp", "2020-21")[0]
    staff = _summary(result, "cost_staff_gbp", "2020-21")[0]
    assert total - staff == pytest.approx(10 * 100 * 365)
    fixed = _monthly(result, "in_house_cost_gbp", "fixed")
    assert fixed.loc[np.datetime64("2020-06-01")] == pytest.approx(10 * 100 * 30)


def test_closing_capacity_stops_the_fixed_cost_and_books_the_one_off_on_its_date() -> None:
    capacity = {"2020-04-01": 10, "2020-10-01": 4, "2021-01-01": 6}
    cfg = build(
        _queue(
            capacity,
            fixed_cost_per_place_per_year_gbp=FIXED,
            closing_cost_per_place_gbp=5000,
            opening_cost_per_place_gbp=2000,
        )
    )
    result = sim.run(cfg, replications=1, seed=SEED, backend="serial")
    fixed = _monthly(result, "cost_gbp", "foster_in_house_fixed")
    assert fixed.loc[np.datetime64("2020-09-01")] == pytest.approx(10 * 100 * 30)
    assert fixed.loc[np.datetime64("2020-10-01")] == pytest.approx(4 * 100 * 31)
    assert fixed.loc[np.datetime64("2021-01-01")] == pytest.approx(6 * 100 * 31)
    one_off = _monthly(result, "cost_gbp", "foster_in_house_one_off")
    expected = pd.Series(0.0, index=one_off.index)
    expected.loc[np.datetime64("2020-10-01")] = 6 * 5000  # six places closed
    expected.loc[np.datetime64("2021-01-01")] = 2 * 2000  # two opened; none on the first day
    pd.testing.assert_series_equal(one_off, expected, check_names=False)
    assert _summary(result, "cost_in_house_one_off_gbp", "2020-21")[0] == 30000 + 4000
    # A negative closing cost is a saving (a sale) on the same date.
    sale = build(_queue(capacity, closing_cost_per_place_gbp=-20000))
    sold = sim.run(sale, replications=1, seed=SEED, backend="serial")
    one_off = _monthly(sold, "cost_gbp", "foster_in_house_one_off")
    assert one_off.loc[np.datetime64("2020-10-01")] == -6 * 20000
    assert one_off.sum() == -6 * 20000


def test_steps_follow_both_schedules() -> None:
    cap = sim.config.Schedule.model_validate({"2016-04-01": 22, "2019-04-01": 8})
    fixed = sim.config.Schedule.model_validate({"2016-04-01": 36525, "2018-04-01": 73050})
    start = dt.date(2016, 4, 1)
    assert capacity_cost_steps(cap, fixed, start) == [
        (start, 2200.0),
        (dt.date(2018, 4, 1), 4400.0),
        (dt.date(2019, 4, 1), 1600.0),
    ]
    assert one_off_steps(cap, 10.0, -3.0, start) == [(dt.date(2019, 4, 1), 14 * -3.0)]


def test_cost_parts_add_up_to_the_totals() -> None:
    data = small_baseline(years=2)
    resi = data["placement_types"]["resi_in_house"]
    resi["capacity"] = {"2016-04-01": 22, "2017-01-01": 12}
    resi["closing_cost_per_place_gbp"] = 15000
    data["edge_of_care"]["capacity"] = {"2016-04-01": 0, "2016-10-01": 5}
    data["edge_of_care"]["opening_cost_per_place_gbp"] = 1000
    result = sim.run(build(data), replications=2, seed=SEED, backend="serial")
    s = result.summary
    wide = s[s["period"].str.match(r"^\d{4}-\d{2}$")].pivot_table(
        index=["replication", "period"], columns="measure", values="value"
    )
    assert (wide["cost_in_house_one_off_gbp"].xs("2016-17", level="period") == 10 * 15000).all()
    np.testing.assert_allclose(
        wide["cost_total_gbp"],
        wide["cost_placements_gbp"]
        + wide["cost_allowances_gbp"]
        + wide["cost_staff_gbp"]
        + wide["cost_other_gbp"]
        + wide["cost_front_door_gbp"],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        wide["cost_placements_gbp"],
        wide["cost_in_house_placements_gbp"] + wide["cost_external_placements_gbp"],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        wide["cost_in_house_placements_gbp"],
        wide["cost_in_house_fixed_gbp"]
        + wide["cost_in_house_variable_gbp"]
        + wide["cost_in_house_one_off_gbp"],
        rtol=1e-12,
    )
    assert (wide["cost_empty_places_gbp"] <= wide["cost_in_house_fixed_gbp"]).all()
    assert (wide["cost_empty_places_gbp"] >= 0).all()
    # The monthly series add up to the same totals.
    ts = result.timeseries
    ts = ts.assign(period=[sim.results.tables.financial_year(d.date()) for d in ts["date"]])
    monthly = ts.groupby(["measure", "category", "replication", "period"], observed=True)["value"]
    sums = monthly.sum()
    for measure, category, summary_measure in (
        ("cost_gbp", "all", "cost_total_gbp"),
        ("in_house_cost_gbp", "all", "cost_in_house_placements_gbp"),
        ("in_house_cost_gbp", "fixed", "cost_in_house_fixed_gbp"),
        ("empty_place_cost_gbp", "all", "cost_empty_places_gbp"),
    ):
        got = sums.loc[(measure, category)].sort_index()
        np.testing.assert_allclose(got, wide[summary_measure].sort_index(), rtol=1e-9)


def test_closing_homes_saves_their_fixed_cost_and_costs_more_outside() -> None:
    base = with_overrides(sim.load_config(BASELINE), {"run.years": 4})
    closure = sim.load_config(BASELINE.parent / "scenarios" / "homes-closure-6-to-2.toml")
    closure = with_overrides(closure, {"run.years": 4})
    fixed = base.placement_types["resi_in_house"].fixed_cost_per_place_per_year_gbp.initial()
    assert fixed > 0
    b = sim.run(base, replications=3, seed=SEED, backend="serial")
    c = sim.run(closure, replications=3, seed=SEED, backend="serial")
    # Before the closure (1 April 2019) the two runs are the same.
    for measure in ("cost_total_gbp", "cost_in_house_fixed_gbp"):
        np.testing.assert_array_equal(
            _summary(b, measure, "2018-19"), _summary(c, measure, "2018-19")
        )
    # 2019-20 has 366 days: 14 places x fixed x 366 / 365.25 less fixed spend, exactly,
    # at price-base prices; in cash terms times the in-house placements' price index.
    saving = _summary(b, "cost_in_house_fixed_gbp", "2019-20") - _summary(
        c, "cost_in_house_fixed_gbp", "2019-20"
    )
    index = base.prices.index("placements_in_house", 2019, base.run, "residential")
    np.testing.assert_allclose(saving, 14 * fixed * 366 / 365.25 * index, rtol=1e-12)
    extra = _summary(c, "cost_external_residential_gbp", "2019-20") - _summary(
        b, "cost_external_residential_gbp", "2019-20"
    )
    assert (extra > 0).all(), extra
    assert (_summary(c, "in_house_utilisation_residential", "2019-20") <= 1).all()


@pytest.mark.parametrize(
    ("place", "key", "value", "message"),
    [
        (
            "resi_in_house",
            "fixed_cost_per_place_per_year_gbp",
            -1,
            r"placement_types\.resi_in_house\.fixed_cost_per_place_per_year_gbp = -1: "
            r"schedule values must be >= 0",
        ),
        (
            "resi_in_house",
            "fixed_cost_per_place_per_year_gbp",
            {"2016-04-01": 1000, "2018-04-01": -5},
            r"placement_types\.resi_in_house\.fixed_cost_per_place_per_year_gbp.*"
            r"schedule values must be >= 0",
        ),
        (
            "resi_in_house",
            "opening_cost_per_place_gbp",
            -10,
            r"placement_types\.resi_in_house\.opening_cost_per_place_gbp = -10",
        ),
        (
            "kinship",
            "fixed_cost_per_place_per_year_gbp",
            5000,
            r"placement_types\.kinship\b.*apply only to in-house types with a capacity",
        ),
        (
            "resi_external",
            "closing_cost_per_place_gbp",
            -1000,
            r"placement_types\.resi_external\b.*apply only to in-house types with a capacity",
        ),
    ],
)
def test_bad_capacity_costs_are_rejected_naming_the_key(
    tmp_path: Path, place: str, key: str, value: Any, message: str
) -> None:
    data = copy.deepcopy(raw_config(BASELINE))
    data["placement_types"][place][key] = value
    with pytest.raises(ConfigError, match=message):
        build(data, source=str(tmp_path / "bad.toml"))


def test_edge_of_care_fixed_cost_rejects_a_negative_value() -> None:
    data = copy.deepcopy(raw_config(BASELINE))
    data["edge_of_care"]["fixed_cost_per_place_per_year_gbp"] = -3
    with pytest.raises(
        ConfigError, match=re.escape("edge_of_care.fixed_cost_per_place_per_year_gbp = -3")
    ):
        build(data)
