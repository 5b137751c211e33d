"""Front-door activity costs: assessments, s47 enquiries, CIN and CP plans.

Hand-sized configs send every referral down one path (an assessment that ends
at once in a CIN plan of fixed length, or in an s47 enquiry and a CP plan of
fixed length), so the costs can be worked out from the referral times alone
and compared with what the recorder booked. On the baseline each part is
checked against the count or plan-days it is the price of, and the parts
against the totals.
"""

from __future__ import annotations

import copy
import re
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from model_configs import BASELINE, build, care_queue, small_baseline

from sim.config import raw_config
from sim.errors import ConfigError
from sim.model import ReplicationOutput, simulate
from sim.model.simulation import Simulation
from sim.results.tables import summary_frame, timeseries_frame

DAYS_PER_MONTH = 365.25 / 12
ASSESSMENT_GBP = 300.0
S47_GBP = 530.0
CIN_PER_MONTH_GBP = 155.0
CP_PER_MONTH_GBP = 390.0
CIN_DAYS = 45.0
S47_DAYS = 10.0
CP_DAYS = 60.0
SEED = 7


def _fixed(value: float) -> dict[str, Any]:
    return {"distribution": "fixed", "value": value}


def one_path(kind: str) -> dict[str, Any]:
    """Every referral is one child, assessed at once, then on a plan of fixed length.

    ``kind`` "cin": the assessment ends the day it starts in a CIN plan of
    ``CIN_DAYS``. "cp": it ends in an s47 enquiry of ``S47_DAYS`` and then a CP
    plan of ``CP_DAYS``. No plan escalates and nobody comes back.
    """
    data = care_queue(entries_per_day=2.0, stay_days=_fixed(10.0), in_house_places=None, years=1)
    data["assessment"].update(
        cin_above_percentile=0.0,
        cp_above_percentile=1.0 if kind == "cin" else 0.0,
        care_above_percentile=1.0,
        section47_days=_fixed(S47_DAYS),
    )
    data["child_in_need"] = {"duration_days": _fixed(CIN_DAYS)}
    data["child_protection"] = {"duration_days": _fixed(CP_DAYS)}
    data["workforce"].update(
        assessment_cost_gbp=ASSESSMENT_GBP,
        s47_enquiry_cost_gbp=S47_GBP,
        cin_plan_cost_per_month_gbp=CIN_PER_MONTH_GBP,
        cp_plan_cost_per_month_gbp=CP_PER_MONTH_GBP,
    )
    return data


def overlap_days(starts: np.ndarray, days: float, lo: float, hi: float) -> float:
    """Days of the spans [start, start + days) that fall in [lo, hi)."""
    return float(np.clip(np.minimum(starts + days, hi) - np.maximum(starts, lo), 0, None).sum())


def column(out: ReplicationOutput, kind: str, measure: str, category: str) -> np.ndarray:
    a = out.arrays
    if kind == "flow":
        return a.flows[:, a.flow_names.index((measure, category))]
    return a.level_integral[:, a.level_names.index((measure, category))]


@pytest.mark.parametrize("kind", ["cin", "cp"])
def test_each_cost_part_is_its_unit_cost_times_its_work_worked_out_by_hand(kind: str) -> None:
    cfg = build(one_path(kind))
    # The referral times, from a replication with the same seed (the arrivals stream).
    times = Simulation(cfg, SEED)._arrival_times()
    out = simulate(cfg, seed=SEED)
    edges = out.arrays.month_days.cumsum()
    edges = np.concatenate([[0.0], edges])
    n_months = len(edges) - 1
    assert len(times) > 500
    referred = np.array([((times >= lo) & (times < hi)).sum() for lo, hi in pairwise(edges)])

    assessments = column(out, "flow", "cost_gbp", "assessment")
    assert np.array_equal(assessments, referred * ASSESSMENT_GBP)
    assert assessments.sum() == len(times) * ASSESSMENT_GBP

    if kind == "cin":
        plan, per_month, starts, days = "cin_plan", CIN_PER_MONTH_GBP, times, CIN_DAYS
        assert column(out, "flow", "cost_gbp", "s47_enquiry").sum() == 0
        assert column(out, "level", "cost_rate_gbp_per_day", "cp_plan").sum() == 0
    else:
        plan, per_month, starts, days = "cp_plan", CP_PER_MONTH_GBP, times + S47_DAYS, CP_DAYS
        s47 = column(out, "flow", "cost_gbp", "s47_enquiry")
        assert np.array_equal(s47, referred * S47_GBP)  # enquiries start with the assessment
        assert column(out, "level", "cost_rate_gbp_per_day", "cin_plan").sum() == 0
    booked = column(out, "level", "cost_rate_gbp_per_day", plan)
    expected = np.array(
        [
            overlap_days(starts, days, edges[m], edges[m + 1]) * per_month / DAYS_PER_MONTH
            for m in range(n_months)
        ]
    )
    assert np.allclose(booked, expected, rtol=1e-9, atol=1e-6)
    # A month of plan costs the monthly figure: one child on a plan for the whole run.
    plan_days = overlap_days(starts, days, 0.0, edges[-1])
    assert booked.sum() == pytest.approx(plan_days / DAYS_PER_MONTH * per_month, rel=1e-9)


@pytest.fixture(scope="module")
def baseline_out() -> tuple[ReplicationOutput, Any]:
    data = small_baseline(years=2)
    cfg = build(data)
    return simulate(cfg, seed=SEED), cfg


def test_on_the_baseline_each_part_is_its_count_or_plan_days_times_its_rate(
    baseline_out: tuple[ReplicationOutput, Any],
) -> None:
    out, cfg = baseline_out
    w = cfg.workforce
    counts = {
        "assessment": (("triage", "assessment"), w.assessment_cost_gbp),
        "s47_enquiry": (("assessment_outcomes", "cp"), w.s47_enquiry_cost_gbp),
        "early_help": (("triage", "early_help"), w.early_help_cost_gbp),
    }
    for category, ((measure, cat), unit) in counts.items():
        assert unit > 0, category
        cost = column(out, "flow", "cost_gbp", category)
        assert np.allclose(cost, column(out, "flow", measure, cat) * unit, rtol=1e-12), category
    for category, open_kind, per_month in (
        ("cin_plan", "cin", w.cin_plan_cost_per_month_gbp),
        ("cp_plan", "cp", w.cp_plan_cost_per_month_gbp),
    ):
        assert per_month > 0, category
        cost = column(out, "level", "cost_rate_gbp_per_day", category)
        plan_days = column(out, "level", "open_cases", open_kind)
        assert plan_days.min() > 0
        # Plans open at the start, new ones, escalations to CP and to care: all of it.
        assert np.allclose(cost, plan_days * per_month / DAYS_PER_MONTH, rtol=1e-9, atol=1e-6)


def test_the_front_door_parts_add_up_to_their_total_and_the_total_spend(
    baseline_out: tuple[ReplicationOutput, Any],
) -> None:
    out, cfg = baseline_out
    s = summary_frame(out, cfg).pivot(index="period", columns="measure", values="value")
    parts = [
        "cost_early_help_gbp",
        "cost_assessments_gbp",
        "cost_s47_enquiries_gbp",
        "cost_cin_plans_gbp",
        "cost_cp_plans_gbp",
    ]
    years = [p for p in s.index if re.fullmatch(r"\d{4}-\d{2}", p)]
    s = s.loc[years]
    assert (s[parts] > 0).all().all()
    assert np.allclose(s[parts].sum(axis=1), s["cost_front_door_gbp"], rtol=1e-12)
    top = [
        "cost_placements_gbp",
        "cost_allowances_gbp",
        "cost_staff_gbp",
        "cost_other_gbp",
        "cost_front_door_gbp",
    ]
    assert np.allclose(s[top].sum(axis=1), s["cost_total_gbp"], rtol=1e-12)
    # The monthly series carries the same money, month by month, by its own categories.
    ts = timeseries_frame(out, cfg)
    cost = ts[ts["measure"] == "cost_gbp"]
    by_cat = cost.groupby("category", observed=True)["value"].sum()
    for category, measure in (
        ("assessment", "cost_assessments_gbp"),
        ("s47_enquiry", "cost_s47_enquiries_gbp"),
        ("cin_plan", "cost_cin_plans_gbp"),
        ("cp_plan", "cost_cp_plans_gbp"),
    ):
        assert by_cat[category] == pytest.approx(s[measure].sum(), rel=1e-12), category
    assert by_cat["all"] == pytest.approx(s["cost_total_gbp"].sum(), rel=1e-9)


def test_zero_unit_costs_book_nothing() -> None:
    data = small_baseline(years=0.5)
    data["workforce"].update(
        s47_enquiry_cost_gbp=0, cin_plan_cost_per_month_gbp=0, cp_plan_cost_per_month_gbp=0
    )
    out = simulate(build(data), seed=SEED)
    assert column(out, "flow", "cost_gbp", "s47_enquiry").sum() == 0
    assert column(out, "level", "cost_rate_gbp_per_day", "cin_plan").sum() == 0
    assert column(out, "level", "cost_rate_gbp_per_day", "cp_plan").sum() == 0


@pytest.mark.parametrize(
    "key",
    [
        "assessment_cost_gbp",
        "s47_enquiry_cost_gbp",
        "cin_plan_cost_per_month_gbp",
        "cp_plan_cost_per_month_gbp",
    ],
)
def test_a_negative_unit_cost_is_a_config_error_naming_the_key(key: str) -> None:
    data = copy.deepcopy(raw_config(BASELINE))
    data["workforce"][key] = -1
    with pytest.raises(ConfigError, match=re.escape(f"workforce.{key} = -1")):
        build(data, source="neg.toml")
