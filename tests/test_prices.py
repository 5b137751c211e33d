"""Prices and budgets: index compounding, cash and real terms, config errors, spend vs budget."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from model_configs import build, small_baseline

from sim.analysis.budgets import budget_frame
from sim.config import load_config
from sim.config.schema import PricesConfig, RunConfig
from sim.errors import ConfigError
from sim.model import simulate
from sim.results.run_result import RunResult
from sim.results.tables import price_factors, price_line, summary_frame, timeseries_frame

RUN = RunConfig(name="t", start_date="2016-04-01", years=5)
LINES = ("total", "placements", "in_house_placements", "external_placements")
LINES += ("allowances", "staff", "other")


# ------------------------------------------------------------------ indexes


def test_rates_compound_by_financial_year_and_the_last_rate_carries_on() -> None:
    p = PricesConfig(price_base="2016-17", staff={"2017-18": 0.10, "2018-19": 0.20})
    assert p.index("staff", 2016, RUN) == 1.0
    assert p.index("staff", 2017, RUN) == pytest.approx(1.10)
    assert p.index("staff", 2018, RUN) == pytest.approx(1.10 * 1.20)
    assert p.index("staff", 2020, RUN) == pytest.approx(1.10 * 1.20**3)
    # A later base deflates the earlier years by the same rates.
    later = PricesConfig(price_base="2017-18", staff={"2017-18": 0.10, "2018-19": 0.20})
    assert later.index("staff", 2016, RUN) == pytest.approx(1 / 1.10)
    # Lines without a table use `default`; with neither, prices stay at the base.
    q = PricesConfig(price_base="2016-17", default={"2017-18": 0.05})
    assert q.index("allowances", 2018, RUN) == pytest.approx(1.05**2)
    assert PricesConfig().index("staff", 2019, RUN) == 1.0


def test_index_levels_are_divided_by_the_base_year_level() -> None:
    p = PricesConfig(
        price_base="2017-18",
        given_as="index",
        other={"2016-17": 100.0, "2017-18": 103.0, "2018-19": 106.09},
    )
    assert p.index("other", 2017, RUN) == 1.0
    assert p.index("other", 2016, RUN) == pytest.approx(100 / 103)
    assert p.index("other", 2018, RUN) == pytest.approx(1.03)
    assert p.index("other", 2019, RUN) == pytest.approx(1.03**2)  # the last growth carries on


def test_external_placements_can_inflate_by_category() -> None:
    p = PricesConfig(
        price_base="2016-17",
        placements_external={"2017-18": 0.02},
        placements_external_by_category={"residential": {"2017-18": 0.08}},
    )
    assert p.index("placements_external", 2017, RUN, "residential") == pytest.approx(1.08)
    assert p.index("placements_external", 2017, RUN, "fostering") == pytest.approx(1.02)


# ------------------------------------------------------------ cash and real


def _priced(data: dict[str, Any], scale: float) -> dict[str, Any]:
    out = copy.deepcopy(data)
    years = ("2017-18", "2018-19")
    out["prices"] = {
        "price_base": "2016-17",
        "default": {y: 0.02 * scale for y in years},
        "staff": {y: 0.03 * scale for y in years},
        "placements_external": {y: 0.05 * scale for y in years},
        "placements_external_by_category": {"residential": {y: 0.08 * scale for y in years}},
    }
    out["budgets"] = {}
    return out


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    base = small_baseline(years=3)
    low, high = build(_priced(base, 1.0)), build(_priced(base, 2.0))
    out_low, out_high = simulate(low, seed=7), simulate(high, seed=7)  # the same seed: CRN
    return {
        "low": (low, summary_frame(out_low, low), timeseries_frame(out_low, low)),
        "high": (high, summary_frame(out_high, high), timeseries_frame(out_high, high)),
    }


def _values(summary: pd.DataFrame, measure: str) -> pd.Series:
    return summary[summary["measure"] == measure].set_index("period")["value"]


def test_real_terms_equal_cash_deflated_by_each_lines_index(runs) -> None:
    cfg, s, ts = runs["low"]
    staff_cash, staff_real = _values(s, "cost_staff_gbp"), _values(s, "cost_staff_real_gbp")
    for year, cash in staff_cash.items():
        idx = cfg.prices.index("staff", int(year[:4]), cfg.run)
        assert cash == pytest.approx(staff_real[year] * idx, rel=1e-12)
    assert staff_cash["2018-19"] > staff_real["2018-19"] * 1.06  # 1.03² compounded
    # Every monthly category: cash = real × its line's index in the month's year.
    cash = ts[ts["measure"] == "cost_gbp"].set_index(["date", "category"])["value"]
    real = ts[ts["measure"] == "cost_real_gbp"].set_index(["date", "category"])["value"]
    assert set(cash.index) == set(real.index)
    months = sorted({d.date() for d in pd.to_datetime(cash.index.get_level_values(0))})
    factors = price_factors(months, cfg)
    for (date, cat), value in cash.items():
        if cat == "all":
            continue
        f = factors[price_line(str(cat), cfg)][months.index(pd.Timestamp(date).date())]
        assert value == pytest.approx(real[(date, cat)] * f, rel=1e-12, abs=1e-9)
    # The cash total is the sum of the cash parts, monthly and yearly.
    parts = cash.drop("all", level=1).groupby(level=0).sum()
    assert np.allclose(cash.xs("all", level=1).sort_index(), parts.sort_index())
    total = _values(s, "cost_total_gbp")
    summed = sum(
        _values(s, f"cost_{k}_gbp")
        for k in ("placements", "allowances", "staff", "other", "front_door")
    )
    assert np.allclose(total, summed)


def test_higher_inflation_raises_cash_spend_and_leaves_real_spend_unchanged(runs) -> None:
    _, low, _ = runs["low"]
    _, high, _ = runs["high"]
    for line in LINES:
        real_low = _values(low, f"cost_{line}_real_gbp")
        real_high = _values(high, f"cost_{line}_real_gbp")
        assert (real_low == real_high).all(), line  # bit for bit: the model is untouched
        cash_low, cash_high = _values(low, f"cost_{line}_gbp"), _values(high, f"cost_{line}_gbp")
        assert cash_low["2016-17"] == cash_high["2016-17"], line  # the price base
        if real_low["2017-18"] > 0:
            assert cash_high["2017-18"] > cash_low["2017-18"] > real_low["2017-18"], line
            assert cash_high["2018-19"] > cash_low["2018-19"], line


def test_without_prices_cash_equals_real() -> None:
    data = small_baseline(years=1)
    data.pop("prices", None)
    cfg = build(data)
    s = summary_frame(simulate(cfg, seed=3), cfg)
    for line in LINES:
        assert (_values(s, f"cost_{line}_gbp") == _values(s, f"cost_{line}_real_gbp")).all()


# ------------------------------------------------------------- config errors


def _with(baseline_raw: dict[str, Any], section: str, value: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(baseline_raw)
    data[section] = value
    return data


@pytest.mark.parametrize(
    ("section", "value", "message"),
    [
        (
            "prices",
            {"given_as": "index", "price_base": "2016-17", "staff": {"2016-17": 100, "2017-18": 0}},
            r"prices\.staff\.2017-18 = 0: an index level must be > 0",
        ),
        (
            "prices",
            {"given_as": "index", "price_base": "2016-17", "other": {"2016-17": -5}},
            r"prices\.other\.2016-17 = -5: an index level must be > 0",
        ),
        (
            "prices",
            {"price_base": "2016-17", "placements_external": {"2017-18": 0.02, "2019-20": 0.02}},
            r"prices\.placements_external\.2019-20: financial years must be contiguous, but "
            r"2018-19 is missing",
        ),
        (
            "prices",
            {"price_base": "2016-17", "allowances": {"2017-18": -1.0}},
            r"prices\.allowances\.2017-18 = -1: an inflation rate must be > -1",
        ),
        (
            "prices",
            {"price_base": "2016-17", "staff": {"2017-18": float("nan")}},
            r"prices\.staff\.2017-18 = nan: Input should be a finite number",
        ),
        (
            "prices",
            {"price_base": "2012-13", "staff": {"2017-18": 0.02}},
            r"prices\.staff: price_base 2012-13 is outside the table",
        ),
        (
            "prices",
            {"price_base": "2016-17", "placements_external_by_category": {"secure": {"2017": 1}}},
            r"prices\.placements_external_by_category\.secure\.2017: '2017' is not a financial",
        ),
        (
            "prices",
            {"price_base": "2016/17"},
            r"prices\.price_base: '2016/17' is not a financial year",
        ),
        (
            "budgets",
            {"total_gbp": {"2016-17": 40e6, "2022-23": 45e6}},
            r"budgets\.total_gbp\.2022-23: financial year outside the run \(2016-17 to 2020-21\)",
        ),
        (
            "budgets",
            {"placements_gbp": {"2016-17": 0}},
            r"budgets\.placements_gbp\.2016-17 = 0: a budget must be > 0",
        ),
    ],
)
def test_a_bad_price_or_budget_names_its_key_path(
    baseline_raw: dict[str, Any], section: str, value: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build(_with(baseline_raw, section, value))


def test_budgets_can_come_from_a_csv_next_to_the_config(
    baseline_path: Path, write_toml: Any, tmp_path: Path
) -> None:
    (tmp_path / "budgets.csv").write_text(
        "line,financial_year,budget_gbp\ntotal,2016-17,4.0e7\ntotal,2017-18,4.2e7\n"
        "staff,2016-17,1.1e7\n",
        encoding="utf-8",
    )
    path = write_toml(
        "la.toml", {"extends": str(baseline_path), "budgets": {"file": "budgets.csv"}}
    )
    cfg = load_config(path)
    assert cfg.budgets.by_measure() == {
        "cost_total_gbp": {"2016-17": 4.0e7, "2017-18": 4.2e7},
        "cost_placements_gbp": {"2016-17": 38.0e6},
        "cost_staff_gbp": {"2016-17": 1.1e7},
    }
    (tmp_path / "budgets.csv").write_text(
        "line,financial_year,budget_gbp\nplacements,2016-17,1\n", encoding="utf-8"
    )
    path = write_toml(
        "la2.toml",
        {"budgets": {"file": "budgets.csv", "placements_gbp": {"2016-17": 2.0}}}
        | {"extends": str(baseline_path)},
    )
    with pytest.raises(ConfigError, match=r"budgets\.placements_gbp\.2016-17 is given twice"):
        load_config(path)


def test_a_scenario_removes_the_bases_budget_with_an_empty_table(
    baseline_path: Path, write_toml: Any
) -> None:
    path = write_toml(
        "s.toml",
        {
            "extends": str(baseline_path),
            "run": {"start_date": "2019-04-01"},
            "budgets": {"placements_gbp": {}},
        },
    )
    assert load_config(path).budgets.by_measure() == {}


# ------------------------------------------------------------------ budgets


def _hand_made(values: dict[str, list[float]], cfg: Any) -> RunResult:
    rows = [
        ("baseline", rep, measure_period.split("@")[0], measure_period.split("@")[1], v)
        for measure_period, vs in values.items()
        for rep, v in enumerate(vs)
    ]
    summary = pd.DataFrame(rows, columns=["scenario", "replication", "measure", "period", "value"])
    return RunResult(summary, pd.DataFrame(), cfg, seed=1)


def test_budget_table_gives_the_share_of_replications_overspending(baseline_raw) -> None:
    data = _with(baseline_raw, "budgets", {"total_gbp": {"2016-17": 10.0, "2017-18": 10.0}})
    cfg = build(data)
    res = _hand_made(
        {
            "cost_total_gbp@2016-17": [8.0, 9.0, 11.0, 12.0],  # 2 of 4 over
            "cost_total_gbp@2017-18": [10.0, 10.0, 10.5, 9.0],  # equal is not over: 1 of 4
            "cost_total_gbp@2018-19": [99.0, 99.0, 99.0, 99.0],  # no budget: left out
        },
        cfg,
    )
    frame = budget_frame(res).set_index("period")
    assert list(frame.index) == ["2016-17", "2017-18"]
    assert frame.loc["2016-17", "p_over"] == 0.5
    assert frame.loc["2017-18", "p_over"] == 0.25
    assert frame.loc["2016-17", "median_gbp"] == 10.0
    assert frame.loc["2016-17", "median_over_gbp"] == 0.0
    assert frame.loc["2017-18", "median_over_gbp"] == 0.0
    assert (frame["replications"] == 4).all()
    # A flat budget replaces the config's, for every year of the run.
    flat = budget_frame(res, flat_total_gbp=9.5).set_index("period")
    assert list(flat.index) == ["2016-17", "2017-18", "2018-19"]
    assert flat.loc["2016-17", "p_over"] == 0.5 and flat.loc["2018-19", "p_over"] == 1.0
    assert math.isclose(flat.loc["2018-19", "median_over_gbp"], 89.5)


def test_the_reports_budget_table_uses_the_configs_budgets_unless_overridden(baseline_raw) -> None:
    from sim.report.html import budget_table

    cfg = build(_with(baseline_raw, "budgets", {"placements_gbp": {"2016-17": 10.0}}))
    res = _hand_made(
        {
            "cost_placements_gbp@2016-17": [8.0, 9.0, 11.0, 12.0],
            "cost_total_gbp@2016-17": [20.0, 21.0, 22.0, 23.0],
        },
        cfg,
    )
    table = budget_table(res)
    assert list(table["cost line"]) == ["Placement spend"]
    assert list(table["replications over budget"]) == ["50%"]
    flat = budget_table(res, 21.5)
    assert list(flat["cost line"]) == ["Total spend"]
    assert list(flat["replications over budget"]) == ["50%"]


def test_every_reported_cost_group_can_carry_a_budget() -> None:
    from sim.config.outputs import COST_GROUPS
    from sim.config.schema import BudgetsConfig

    budgets = BudgetsConfig(**{f"{g}_gbp": {"2016-17": 1.0} for g in COST_GROUPS})
    assert set(budgets.by_measure()) == {f"cost_{g}_gbp" for g in COST_GROUPS}
