"""Unaccompanied asylum-seeking children (UASC): arrivals straight into care, grant, exit at 18.

Hand-sized configs check the grant (children × days × rate) and the exit at
18 exactly; the shrunk baseline checks, with common random numbers, that more
UASC means more supported accommodation and more grant while the front door
sees nothing of them; and a run with ``[uasc]`` but no arrivals is the run
without it, bit for bit.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import numpy as np
import pytest
from model_configs import build, care_queue, small_baseline

import sim
from sim.config.schedule import Schedule
from sim.errors import ConfigError
from sim.model.simulation import simulate
from sim.model.streams import PURPOSES
from sim.model.uasc import arrival_times
from sim.results.tables import summary_frame

DAYS_PER_YEAR = 365.25
SEED = 7


def _queue_with_uasc(uasc: dict[str, Any], *, years: float = 4) -> dict[str, Any]:
    """A care system with no referrals at all: every child in it is a UASC."""
    data = care_queue(
        entries_per_day=0.0,
        stay_days={"distribution": "fixed", "value": 100.0},
        in_house_places=5,
        years=years,
    )
    data["uasc"] = {
        "placement": [{"min_age_years": 0, "max_age_years": 18, "shares": {"fostering": 1.0}}],
        **uasc,
    }
    return data


def _total(out: Any, kind: str, name: tuple[str, str]) -> float:
    a = out.arrays
    if kind == "flow":
        return float(a.flows[:, a.flow_names.index(name)].sum())
    return float(a.level_integral[:, a.level_names.index(name)].sum())


def _end(out: Any, name: tuple[str, str]) -> float:
    a = out.arrays
    return float(a.level_end[-1, a.level_names.index(name)])


# ------------------------------------------------------------------ grant and exit


def test_grant_is_children_times_days_times_the_daily_rate() -> None:
    # Every UASC arrives aged 17 (to a millionth of a year), so it is looked after for
    # 365.25 days, all of them at £91 a day; all arrive in the first year, all leave in time.
    cfg = build(
        _queue_with_uasc(
            {
                "arrivals_per_year": {"2020-04-01": 30, "2021-04-01": 0},
                "age_bands": [{"min_age_years": 17, "max_age_years": 17.000001, "share": 1.0}],
                "grant_per_day_gbp": [
                    {"min_age_years": 0, "max_age_years": 16, "gbp": 114},
                    {"min_age_years": 16, "max_age_years": 18, "gbp": 91},
                ],
            },
            years=3,
        )
    )
    out = simulate(cfg, seed=SEED, replication=0)
    n = _total(out, "flow", ("entries_uasc", "all"))
    assert n > 10
    child_days = _total(out, "level", ("looked_after_uasc", "all"))
    assert child_days == pytest.approx(n * DAYS_PER_YEAR, rel=1e-6)
    income = _total(out, "level", ("income_rate_gbp_per_day", "uasc_grant"))
    assert income == pytest.approx(n * DAYS_PER_YEAR * 91, rel=1e-6)
    # The summary reports it as income, and gross spend stays gross.
    s = summary_frame(out, cfg)
    by = s.groupby("measure")["value"]
    fy = s[s["period"].str.match(r"^\d{4}-\d{2}$")]
    per_year = fy.groupby("measure")["value"].sum()
    assert per_year["income_uasc_grant_gbp"] == pytest.approx(income, rel=1e-9)
    assert per_year["cost_net_gbp"] == pytest.approx(
        per_year["cost_total_gbp"] - per_year["income_uasc_grant_gbp"], rel=1e-9
    )
    assert by.max()["entries_uasc"] > 0


def test_grant_follows_the_age_band_and_its_dated_rate() -> None:
    # Arriving at 15 exactly: one year at the under-16 rate, then two at the 16-17 rate,
    # then (below) with a dated rate for ages 16-17. Children arriving in 2020-21 are 16
    # on some day in 2021-22 and leave in 2022-23 or 2023-24.
    cfg = build(
        _queue_with_uasc(
            {
                "arrivals_per_year": {"2020-04-01": 30, "2021-04-01": 0},
                "age_bands": [{"min_age_years": 15, "max_age_years": 15.000001, "share": 1.0}],
                "grant_per_day_gbp": [
                    {"min_age_years": 0, "max_age_years": 16, "gbp": 100},
                    {"min_age_years": 16, "max_age_years": 18, "gbp": 50},
                ],
            },
            years=4,
        )
    )
    out = simulate(cfg, seed=SEED, replication=0)
    n = _total(out, "flow", ("entries_uasc", "all"))
    income = _total(out, "level", ("income_rate_gbp_per_day", "uasc_grant"))
    assert income == pytest.approx(n * DAYS_PER_YEAR * (100 + 2 * 50), rel=1e-6)

    dated = copy.deepcopy(cfg.model_dump(mode="json"))
    dated["uasc"]["grant_per_day_gbp"][1]["gbp"] = {"2020-04-01": 50, "2100-01-01": 80}
    out_dated = simulate(build(dated), seed=SEED, replication=0)
    # A change after the horizon changes nothing; one inside it raises the income.
    assert _total(out_dated, "level", ("income_rate_gbp_per_day", "uasc_grant")) == income
    # A change inside the stays: from April 2022 every child still looked after is 16-17
    # (they turned 16 in 2021-22), so each month's grant is £80 a child-day from then.
    dated["uasc"]["grant_per_day_gbp"][1]["gbp"] = {"2020-04-01": 50, "2022-04-01": 80}
    out_dated = simulate(build(dated), seed=SEED, replication=0)
    a = out_dated.arrays
    grant = a.level_integral[:, a.level_names.index(("income_rate_gbp_per_day", "uasc_grant"))]
    days = a.level_integral[:, a.level_names.index(("looked_after_uasc", "all"))]
    months = out_dated.month_starts[: len(days)]
    before = np.array([m < dt.date(2021, 4, 1) for m in months])
    after = np.array([m >= dt.date(2022, 4, 1) for m in months])
    assert days[after].sum() > 0 and days[before].sum() > 0
    np.testing.assert_allclose(grant[before], 100 * days[before], rtol=1e-9)
    np.testing.assert_allclose(grant[after], 80 * days[after], rtol=1e-9)
    assert income < grant.sum() < n * DAYS_PER_YEAR * (100 + 2 * 80)


def test_uasc_leave_care_at_18_by_the_leaving_care_route() -> None:
    cfg = build(
        _queue_with_uasc(
            {
                "arrivals_per_year": {"2020-04-01": 40, "2021-04-01": 0},
                "age_bands": [{"min_age_years": 16, "max_age_years": 16.000001, "share": 1.0}],
            },
            years=4,
        )
    )
    out = simulate(cfg, seed=SEED, replication=0)
    n = _total(out, "flow", ("entries_uasc", "all"))
    assert n > 20
    assert _total(out, "flow", ("entries", "all")) == n  # nobody else enters
    # Two years each, to the day: they leave on the 18th birthday, not by return_home.
    assert _total(out, "level", ("looked_after_uasc", "all")) == pytest.approx(
        n * 2 * DAYS_PER_YEAR, rel=1e-6
    )
    assert _total(out, "flow", ("exits", "leaving_care")) == n
    assert _total(out, "flow", ("exits", "return_home")) == 0
    assert _end(out, ("looked_after_uasc", "all")) == 0
    assert _end(out, ("looked_after_total", "all")) == 0
    # No grant configured: no income row is filled.
    assert _total(out, "level", ("income_rate_gbp_per_day", "uasc_grant")) == 0


# --------------------------------------------------------------------- arrivals


def test_arrivals_are_poisson_at_the_scheduled_rate_and_none_when_it_is_zero() -> None:
    start = dt.date(2020, 4, 1)
    sched = Schedule.model_validate({"2020-04-01": 3652.5, "2020-10-01": 0, "2021-01-01": 3652.5})
    gen = np.random.Generator(np.random.PCG64(1))
    t = arrival_times(sched, start, 366.0, gen)
    off_from, off_to = (dt.date(2020, 10, 1) - start).days, (dt.date(2021, 1, 1) - start).days
    assert not ((t >= off_from) & (t < off_to)).any()
    expected = 10.0 * (366 - (off_to - off_from))  # 10 a day while on
    assert abs(len(t) - expected) < 5 * expected**0.5
    assert np.all(np.diff(t) >= 0) and t.min() >= 0 and t.max() < 366
    zero = arrival_times(Schedule.model_validate(0), start, 366.0, gen)
    assert len(zero) == 0


def test_new_random_purposes_are_appended_after_the_existing_ones() -> None:
    assert PURPOSES[:6] == (
        "arrivals",
        "families",
        "rereferrals",
        "placement",
        "initial",
        "parameters",
    )
    assert "uasc" in PURPOSES[6:] and "uasc_arrivals" in PURPOSES[6:]


# ------------------------------------------------------ against the (shrunk) baseline


def _small(arrivals: float | None, **workforce: float) -> sim.Config:
    data = small_baseline(years=2)
    data["workforce"].update(workforce)
    if arrivals is not None:
        data["uasc"] = {
            "arrivals_per_year": arrivals,
            "age_bands": [
                {"min_age_years": 14, "max_age_years": 16, "share": 0.15},
                {"min_age_years": 16, "max_age_years": 18, "share": 0.85},
            ],
            "placement": [
                {"min_age_years": 0, "max_age_years": 16, "shares": {"fostering": 1.0}},
                {
                    "min_age_years": 16,
                    "max_age_years": 18,
                    "shares": {"fostering": 0.2, "supported": 0.8},
                },
            ],
            "grant_per_day_gbp": [{"min_age_years": 0, "max_age_years": 18, "gbp": 114}],
        }
    return build(data)


def test_uasc_section_with_no_arrivals_changes_nothing_bit_for_bit() -> None:
    for k in (0, 1):
        a = simulate(_small(None), seed=SEED, replication=k)
        b = simulate(_small(0.0), seed=SEED, replication=k)
        assert a.arrays.level_names == b.arrays.level_names
        assert a.arrays.flow_names == b.arrays.flow_names
        for name in ("level_integral", "level_end", "flows", "month_days"):
            x, y = getattr(a.arrays, name), getattr(b.arrays, name)
            assert x.tobytes() == y.tobytes(), name
        assert (a.counts, a.events, a.children_in_care) == (b.counts, b.events, b.children_in_care)


def _summary(result: sim.RunResult, measure: str) -> np.ndarray:
    s = result.summary
    rows = s[s["measure"] == measure].sort_values(["replication", "period"])
    return rows["value"].to_numpy()


def _mean_monthly(result: sim.RunResult, measure: str, category: str) -> np.ndarray:
    ts = result.timeseries
    rows = ts[(ts["measure"] == measure) & (ts["category"] == category)]
    return rows.groupby("replication", observed=True)["value"].mean().to_numpy()


@pytest.fixture(scope="module")
def three_levels() -> dict[float, sim.RunResult]:
    return {
        level: sim.run(_small(level), replications=3, seed=SEED, backend="serial")
        for level in (0.0, 20.0, 60.0)
    }


def test_more_uasc_raise_supported_accommodation_and_grant(
    three_levels: dict[float, sim.RunResult],
) -> None:
    none, some, more = (three_levels[k] for k in (0.0, 20.0, 60.0))
    sup = [_mean_monthly(r, "looked_after_by_category", "supported") for r in (none, some, more)]
    assert np.all(sup[1] > sup[0]) and np.all(sup[2] > sup[1])
    on_31_march = [_summary(r, "supported_accommodation") for r in (none, more)]
    assert on_31_march[1].sum() > on_31_march[0].sum()
    income = [_summary(r, "income_uasc_grant_gbp") for r in (none, some, more)]
    assert np.all(income[0] == 0)
    assert np.all(income[1] > 0) and np.all(income[2] > income[1])
    uasc = [_summary(r, "entries_uasc") for r in (none, some, more)]
    assert np.all(uasc[0] == 0) and uasc[2].sum() > uasc[1].sum() > 0
    # Gross spend stays gross (more children placed cost more); net is gross less the grant.
    gross = [_summary(r, "cost_total_gbp") for r in (none, some, more)]
    assert np.all(gross[2] > gross[0])
    net = _summary(more, "cost_net_gbp")
    np.testing.assert_allclose(net, gross[2] - income[2], rtol=1e-12)


def test_uasc_need_no_front_door() -> None:
    # With no caseload effects, everything at the front door is the same child for child.
    base = sim.run(_small(None, **_NO_CASELOAD), replications=2, seed=SEED, backend="serial")
    more = sim.run(_small(60.0, **_NO_CASELOAD), replications=2, seed=SEED, backend="serial")
    for measure in ("referrals", "assessments"):
        np.testing.assert_array_equal(_summary(base, measure), _summary(more, measure))
    for measure in ("referrals", "triage", "assessment_outcomes", "cin_starts", "cp_starts"):
        a, b = base.timeseries, more.timeseries
        x = a[a["measure"] == measure].sort_values(["replication", "category", "date"])
        y = b[b["measure"] == measure].sort_values(["replication", "category", "date"])
        np.testing.assert_array_equal(x["value"].to_numpy(), y["value"].to_numpy())
    # Children entering by the front door are the same too: the extra entries are the UASC.
    entries_uasc = _summary(more, "entries_uasc")
    assert entries_uasc.sum() > 0
    np.testing.assert_array_equal(
        _summary(more, "entries") - entries_uasc, _summary(base, "entries")
    )


_NO_CASELOAD = {"assessment_delay_elasticity": 0.0, "permanence_delay_elasticity": 0.0}


# ------------------------------------------------------------------- config errors


def _error(uasc: dict[str, Any]) -> str:
    data = _queue_with_uasc({"arrivals_per_year": 10})
    data["uasc"].update(uasc)
    with pytest.raises(ConfigError) as info:
        build(data, source="uasc.toml")
    return str(info.value)


def test_age_shares_must_sum_to_one() -> None:
    msg = _error(
        {
            "age_bands": [
                {"min_age_years": 16, "max_age_years": 17, "share": 0.5},
                {"min_age_years": 17, "max_age_years": 18, "share": 0.6},
            ]
        }
    )
    assert "uasc" in msg and "age_bands shares must sum to 1" in msg


def test_age_bands_must_not_overlap() -> None:
    msg = _error(
        {
            "age_bands": [
                {"min_age_years": 15, "max_age_years": 17, "share": 0.5},
                {"min_age_years": 16, "max_age_years": 18, "share": 0.5},
            ]
        }
    )
    assert "age_bands[1]" in msg and "overlap" in msg


def test_placement_shares_must_sum_to_one() -> None:
    msg = _error(
        {
            "placement": [
                {"min_age_years": 0, "max_age_years": 18, "shares": {"fostering": 0.7}},
            ]
        }
    )
    assert "uasc.placement[0].shares" in msg and "must sum to 1" in msg


def test_unknown_placement_category_is_rejected_with_its_key_path() -> None:
    msg = _error(
        {"placement": [{"min_age_years": 0, "max_age_years": 18, "shares": {"hostel": 1.0}}]}
    )
    assert "uasc.placement[0].shares" in msg and "unknown entry category 'hostel'" in msg


def test_category_without_a_placement_type_is_rejected_with_its_key_path() -> None:
    # The queue config has fostering types only: supported accommodation has nowhere to go.
    msg = _error(
        {
            "placement": [
                {"min_age_years": 0, "max_age_years": 16, "shares": {"fostering": 1.0}},
                {
                    "min_age_years": 16,
                    "max_age_years": 18,
                    "shares": {"fostering": 0.4, "supported": 0.6},
                },
            ]
        }
    )
    assert re.search(r"uasc\.placement\[1\]\.shares\.supported: no placement type serves", msg)


def test_grant_bands_must_cover_all_ages() -> None:
    msg = _error({"grant_per_day_gbp": [{"min_age_years": 16, "max_age_years": 18, "gbp": 91}]})
    assert "grant_per_day_gbp" in msg and "contiguous" in msg
