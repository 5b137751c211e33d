"""Charts: each returns a Figure drawn in the house style, with units, and saves PNG and SVG."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from model_configs import build, small_baseline

import sim
from sim.errors import CaresimError
from sim.report import charts as plots

SEED = 11
REPS = 4


def _small(in_house_places: object) -> dict:
    # A small county whose in-house fostering is full, so that places matter.
    data = small_baseline(years=2, referral_scale=0.15, population_scale=0.15)
    data["placement_types"]["foster_in_house"]["capacity"] = in_house_places
    return data


@pytest.fixture(scope="module")
def base() -> sim.RunResult:
    return sim.run(build(_small(35)), replications=REPS, seed=SEED)


@pytest.fixture(scope="module")
def more_carers() -> sim.RunResult:
    """Twice the in-house foster places from the second year."""
    data = _small({"2016-04-01": 35, "2017-04-01": 70})
    return sim.run(build(data), replications=REPS, seed=SEED, scenario="more carers")


def _lines(fig: Figure) -> list:
    return [line for ax in fig.axes for line in ax.get_lines()]


def _hex(colour: object) -> str:
    return mcolors.to_hex(colour).upper()  # type: ignore[arg-type]


# ------------------------------------------------------------------ style


def test_the_first_eight_colours_are_the_okabe_ito_palette() -> None:
    assert {c.upper() for c in plots.PALETTE[:8]} == {c.upper() for c in plots.OKABE_ITO.values()}


def test_fan_chart_draws_median_in_the_first_palette_colour_with_two_bands(base) -> None:
    fig = plots.fan_chart(base, "looked_after")
    ax = fig.axes[0]
    median = ax.get_lines()[0]
    assert _hex(median.get_color()) == plots.PALETTE[0].upper()
    assert len(ax.collections) >= 2  # P5–P95 and P25–P75 bands
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["median", "P25–P75", "P5–P95"]
    assert ax.get_ylabel() == "children"


def test_fan_chart_median_is_the_median_across_replications(base) -> None:
    fig = plots.fan_chart(base, "looked_after")
    y = fig.axes[0].get_lines()[0].get_ydata()
    ts = base.timeseries
    sel = ts[(ts["measure"] == "looked_after") & (ts["category"] == "all")]
    expected = sel.groupby("date")["value"].median().sort_index().to_numpy()
    assert np.allclose(y, expected)


def test_fan_chart_has_dates_on_the_x_axis(base) -> None:
    fig = plots.fan_chart(base, "cost_gbp")
    ax = fig.axes[0]
    assert "Date" in type(ax.xaxis.get_major_formatter()).__name__
    assert ax.get_ylabel() == "£ per month"
    assert ax.yaxis.get_major_formatter()(2_500_000, 0) == "£2.5m"


def test_fan_chart_overlays_scenarios_in_distinct_colours(base, more_carers) -> None:
    both = sim.RunResult(
        pd.concat([base.summary, more_carers.summary]),
        pd.concat([base.timeseries, more_carers.timeseries]),
        base.config,
        base.seed,
    )
    fig = plots.fan_chart(both, "looked_after_by_provider", "in_house")
    medians = [line for line in fig.axes[0].get_lines() if line.get_linewidth() == 2]
    assert [_hex(line.get_color()) for line in medians] == [
        plots.PALETTE[0].upper(),
        plots.PALETTE[1].upper(),
    ]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "baseline",
        "more carers",
        "P25–P75",
        "P5 and P95",
    ]


def test_fan_chart_accepts_a_tidy_dataframe(base) -> None:
    fig = plots.fan_chart(base.timeseries, "open_cases", "cp")
    assert isinstance(fig, Figure)


def test_unknown_measure_or_category_is_a_caresim_error_naming_the_choices(base) -> None:
    with pytest.raises(CaresimError, match=r"unknown time-series measure 'lac'.*looked_after"):
        plots.fan_chart(base, "lac")
    with pytest.raises(CaresimError, match=r"no category 'castle'.*residential"):
        plots.fan_chart(base, "looked_after_by_category", "castle")


def test_placement_mix_stacks_in_house_and_external(base) -> None:
    fig = plots.placement_mix(base, by="provider")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["in house", "external"]
    assert len(ax.collections) == 2


def test_placement_mix_shares_sum_to_one(base) -> None:
    fig = plots.placement_mix(base, by="category", share=True)
    polys = fig.axes[0].collections
    top = polys[-1].get_paths()[0].vertices[:, 1]
    assert top.max() == pytest.approx(1.0)


def test_placement_mix_rejects_an_unknown_grouping(base) -> None:
    with pytest.raises(CaresimError, match="by='colour'"):
        plots.placement_mix(base, by="colour")


def test_annual_cost_draws_a_budget_line_and_the_chance_of_overspending(base) -> None:
    s = base.summary
    costs = s[(s["measure"] == "cost_total_gbp")]["value"]
    budget = float(costs.median())
    fig = plots.annual_distribution(base, "cost_total_gbp", budget_gbp=budget)
    ax = fig.axes[0]
    budget_lines = [line for line in ax.get_lines() if line.get_label() == "budget"]
    assert len(budget_lines) == 1
    assert set(budget_lines[0].get_ydata()) == {budget}
    notes = [t.get_text() for t in ax.texts]
    assert len(notes) == 2 and all(n.endswith("over") for n in notes)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2016-17", "2017-18"]
    assert ax.get_ylabel() == "£ per financial year"


def test_annual_distribution_violins(base) -> None:
    fig = plots.annual_distribution(base, "cost_external_placements_gbp", kind="violin")
    assert fig.axes[0].collections


def test_annual_distribution_needs_one_budget_per_year(base) -> None:
    with pytest.raises(CaresimError, match="budget_gbp has 3 values but there are 2 years"):
        plots.annual_distribution(base, budget_gbp=[1, 2, 3])


def test_caseload_draws_the_configs_threshold(base) -> None:
    fig = plots.caseload(base)
    ax = fig.axes[0]
    target = base.config.workforce.caseload_threshold
    refs = [line for line in ax.get_lines() if line.get_label() == f"target {target:g}"]
    assert len(refs) == 1
    assert ax.get_ylabel() == "cases per social worker (FTE)"


def test_utilisation_is_a_share_between_zero_and_one(base) -> None:
    fig = plots.utilisation(base)
    ax = fig.axes[0]
    assert ax.get_ylim() == (0, 1.05)
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.nanmin(y) >= 0 and np.nanmax(y) <= 1


def test_comparison_shows_mean_ci_and_p10_p90_per_measure(base, more_carers) -> None:
    fig = plots.comparison(base, more_carers, measures=["in_house_share_fostering"])
    ax = fig.axes[0]
    assert len(ax.collections) == 2  # P10–P90 and 95% CI bars
    mean_points = ax.get_lines()[0].get_ydata()
    assert np.all(np.asarray(mean_points) >= 0)  # more carers: never a lower in-house share


def test_cost_change_bars_are_the_mean_paired_difference(base, more_carers) -> None:
    from sim.analysis.comparison import compare_costs

    expected = compare_costs(base, more_carers)
    fig = plots.cost_change(base, more_carers)
    bars = fig.axes[0].patches
    widths = sorted(round(b.get_width()) for b in bars)
    means = expected["mean"][expected["mean"].abs() > 1e-9 * expected["mean"].abs().max()]
    assert widths == sorted(round(m) for m in means.head(12))


def test_difference_over_time_is_zero_before_the_change(base, more_carers) -> None:
    fig = plots.difference_over_time(base, more_carers, "looked_after_by_provider", "in_house")
    mean = np.asarray(fig.axes[0].get_lines()[0].get_ydata())
    assert np.all(mean[:12] == 0)  # common random numbers: identical until April 2017
    assert mean[-1] > 0


def test_sensitivity_chart_orders_parameters_by_influence() -> None:
    indices = pd.DataFrame(
        {
            "parameter": ["a", "a", "b", "b"],
            "index": ["mu_star", "sigma", "mu_star", "sigma"],
            "value": [1.0, 0.5, 3.0, 0.2],
            "conf": [0.1, np.nan, 0.4, np.nan],
        }
    )
    fig = plots.sensitivity(indices)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    assert len(ax.patches) == 4


def test_probability_curve_marks_the_required_share() -> None:
    points = pd.DataFrame({"value": [1, 2, 3], "probability": [0.0, 0.6, 1.0]})
    fig = plots.probability_curve(points, probability=0.8)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "required 80%" in labels


def test_save_writes_png_and_svg(base, tmp_path: Path) -> None:
    fig = plots.fan_chart(base, "looked_after")
    paths = plots.save(fig, tmp_path / "charts" / "lac.png")
    assert [p.name for p in paths] == ["lac.png", "lac.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    root = ET.parse(paths[1]).getroot()
    assert root.tag.endswith("svg")
    assert "Children looked after" in paths[1].read_text()


def test_plots_never_import_pyplot() -> None:
    # Figures are made without pyplot, so charts work on a server (Agg) and in notebooks.
    code = (
        "import sys, sim.report.charts, sim.report.html; print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------ axes and labels


def _inside(fig: Figure, artist: object, ax: object) -> bool:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = artist.get_window_extent(renderer)  # type: ignore[attr-defined]
    frame = ax.get_window_extent(renderer)  # type: ignore[attr-defined]
    return bool(box.y1 <= frame.y1 + 1 and box.y0 >= frame.y0 - 1)


def test_over_budget_labels_stay_inside_the_axes_when_far_over(base) -> None:
    s = base.summary
    low = float(s[s["measure"] == "cost_total_gbp"]["value"].min())
    fig = plots.annual_distribution(base, "cost_total_gbp", budget_gbp=0.5 * low)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["100% over", "100% over"]
    assert all(_inside(fig, t, ax) for t in ax.texts)


def test_count_and_money_axes_start_at_zero(base) -> None:
    assert plots.fan_chart(base, "looked_after").axes[0].get_ylim()[0] == 0
    assert plots.fan_chart(base, "cost_gbp").axes[0].get_ylim()[0] == 0
    assert plots.annual_distribution(base, "cost_total_gbp").axes[0].get_ylim()[0] == 0
    assert plots.annual_distribution(base, "entries").axes[0].get_ylim()[0] == 0


# ---------------------------------------------- spend, front door, exits, places


def _yearly(base: sim.RunResult, measure: str, keep) -> pd.Series:
    ts = base.timeseries
    sel = ts[(ts["measure"] == measure) & ts["category"].astype(str).map(keep)]
    sel = sel[(sel["date"] >= "2016-04-01") & (sel["date"] < "2017-04-01")]
    return sel.groupby("replication")["value"].sum()


def test_spend_by_type_stacks_placement_spend_per_financial_year(base) -> None:
    fig = plots.spend_by_type(base)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2016-17", "2017-18"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "foster in house" in labels and "staff" not in labels
    heights = sum(p.get_height() for p in ax.patches if p.get_x() < 0.5)
    types = set(base.config.placement_types)
    total = _yearly(
        base, "cost_gbp", lambda c: c.removesuffix("_fixed").removesuffix("_one_off") in types
    )
    # Medians of the parts are close to (not exactly) the median of the total.
    assert heights == pytest.approx(float(total.median()), rel=0.05)


def test_exits_by_route_stacks_routes_per_year(base) -> None:
    ax = plots.exits_by_route(base).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "return home" in labels and "all" not in labels
    assert ax.get_ylabel() == "children per year (median)"


def test_front_door_draws_referrals_assessments_and_plan_starts(base) -> None:
    ax = plots.front_door(base).axes[0]
    assert [line.get_label() for line in ax.get_lines()] == [
        "referrals",
        "assessments completed",
        "child in need plans started",
        "child protection plans started",
    ]
    ts = base.timeseries
    refs = ts[ts["measure"] == "referrals"].groupby(["replication", "date"])["value"].sum()
    assert np.allclose(ax.get_lines()[0].get_ydata(), refs.groupby("date").median().to_numpy())
    assert ax.get_ylim()[0] == 0


def test_capacity_demand_draws_children_and_places_per_finite_type(base) -> None:
    ax = plots.capacity_demand(base).axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "foster in house: children" in labels and "foster in house: places" in labels
    places = next(x for x in ax.get_lines() if x.get_label() == "foster in house: places")
    assert set(np.asarray(places.get_ydata())) == {35}


def test_new_charts_need_one_scenario(base, more_carers) -> None:
    both = pd.concat([base.timeseries.assign(scenario="a"), more_carers.timeseries])
    with pytest.raises(CaresimError, match="pick one of"):
        plots.front_door(both)
