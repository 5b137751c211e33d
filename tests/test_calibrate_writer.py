"""The calibrated config: valid, loadable, commented, faithful to the estimates."""

from __future__ import annotations

import datetime as dt
import tomllib

import pandas as pd
import pytest
from calibrate_data import TEMPLATE, calibration, calibration_outputs, synthetic, workdir

from sim.calibrate import DataError, calibrate, write_config
from sim.calibrate.mapping import INPUT_NOTE, run_start_after, warm_start_age_edges
from sim.calibrate.writer import render_config
from sim.config import load_config


class ProportionalModel:
    """Stands in for sim.run: entries to care are rate / 20 a year, every month alike.

    With ``noise``, a run's entries are off by that share, up with an odd seed and
    down with an even one (as short runs are, by chance). ``configs`` keeps what
    it was asked to run.
    """

    def __init__(self, per_referral: float = 1 / 20, noise: float = 0.0):
        self.per_referral = per_referral
        self.noise = noise
        self.calls = 0
        self.configs: list = []

    def __call__(self, config, *, replications, seed):
        self.calls += 1
        self.configs.append(config)
        rate = config.referrals.rate_per_year.initial()
        off = 1 + (self.noise if seed % 2 else -self.noise)
        months = pd.date_range(config.run.start_date, periods=int(config.run.years * 12), freq="MS")
        rows = [
            ("baseline", r, m, "entries", "all", rate * self.per_referral * off / 12)
            for r in range(replications)
            for m in months
        ]
        frame = pd.DataFrame(
            rows, columns=["scenario", "replication", "date", "measure", "category", "value"]
        )
        return type("Result", (), {"timeseries": frame})()


def test_written_config_loads_and_equals_the_calibrated_config():
    cal = calibration()
    path, _ = calibration_outputs()
    loaded = load_config(path)
    assert loaded == cal.config


def test_every_value_is_marked_estimated_derived_or_input():
    path, _ = calibration_outputs()
    text = path.read_text(encoding="utf-8")
    assert "[estimated]" in text and "[derived]" in text
    lines = text.splitlines()

    def comment_for(key: str, table: str) -> str:
        i = lines.index(f"[{table}]")
        for j in range(i + 1, len(lines)):
            if lines[j].startswith(f"{key} ="):
                k = j
                while lines[k - 1].startswith("#"):
                    k -= 1
                return " ".join(lines[k : j + 1])
        raise AssertionError(f"{table}.{key} not found")

    assert INPUT_NOTE in comment_for("weekly_cost_gbp", "placement_types.foster_in_house")
    assert INPUT_NOTE in comment_for("fte", "workforce")
    assert INPUT_NOTE in comment_for("early_help_above_percentile", "front_door")
    rate = comment_for("rate_per_year", "referrals")
    assert "[estimated]" in rate and "entries/yr" in rate
    duration = comment_for("duration_days", "exits.routes.return_home")
    assert "[estimated]" in duration and "95% CI" in duration and "exits" in duration


def test_the_referral_rate_makes_the_model_reproduce_the_observed_entries():
    report = calibration().report
    at_template, at_calibrated = report.model_entries
    assert at_template is not None and at_calibrated is not None
    # The rate is set from every measuring run pooled (entries / rate factor), so the
    # pooled estimate at the calibrated rate is the observed figure, with a small SE.
    assert at_calibrated.per_year == pytest.approx(report.observed_entries_per_year, rel=1e-9)
    assert at_calibrated.replications > at_template.replications
    assert at_calibrated.se / at_calibrated.per_year < 0.08
    # The front-door work under way at the start moves with the referral rate.
    template = load_config(TEMPLATE).initial_population
    init = calibration().config.initial_population
    assert init.child_in_need == round(template.child_in_need * report.referral_factor)
    assert init.child_protection == round(template.child_protection * report.referral_factor)
    assert init.assessments == round(template.assessments * report.referral_factor)


def test_the_referral_rate_pools_every_measuring_run():
    # Each run is 10% off, up or down by turns: the last run alone would leave the rate
    # 10% off; pooled, the errors cancel.
    data = synthetic()
    model = ProportionalModel(noise=0.10)
    cal = calibrate(
        data.episodes, data.header, template=TEMPLATE, n_bootstrap=0, runner=model, seed=0
    )
    assert model.calls == 4
    rate = cal.config.referrals.rate_per_year.initial()
    assert rate == pytest.approx(cal.report.observed_entries_per_year * 20, rel=1e-3)
    # Every run after the first was made with the front door scaled like the rate.
    template = load_config(TEMPLATE)
    for config in model.configs[1:]:
        factor = (
            config.referrals.rate_per_year.initial() / template.referrals.rate_per_year.initial()
        )
        assert config.initial_population.child_protection == round(
            template.initial_population.child_protection * factor
        )


def test_config_carries_the_estimated_shares_durations_and_breakdowns():
    cal = calibration()
    cfg, est = cal.config, cal.report.estimates
    shares = est.exit_shares.pivot(index="band", columns="route", values="share")
    for band in cfg.exits.age_bands:
        label = f"{band.min_age_years:g}-{band.max_age_years:g}"
        for route, share in band.shares.items():
            # Shares are written to 4 decimals, the largest nudged so they sum to 1.
            assert share == pytest.approx(shares.loc[label, route], abs=5e-4)
        assert band.durations_days == {}
    for route, fit in est.exits.fits.items():
        assert cfg.exits.routes[route].duration_days == fit.distribution()
    moves = est.moves.set_index("category")["breakdown_per_year"]
    assert cfg.placement_types["foster_ifa"].breakdown_per_year == pytest.approx(
        moves["fostering"], abs=1e-4
    )
    assert cfg.placement_policy.teen_breakdown_multiplier == pytest.approx(
        est.teen_multiplier["value"], abs=1e-3
    )
    # What the data cannot give stays as in the template.
    template = load_config(TEMPLATE)
    assert (
        cfg.placement_types["foster_ifa"].weekly_cost_gbp
        == template.placement_types["foster_ifa"].weekly_cost_gbp
    )
    assert cfg.workforce == template.workforce
    assert cfg.front_door == template.front_door


def test_the_warm_start_holds_every_child_in_care_on_the_as_at_date():
    data = synthetic()
    cal = calibration()
    groups = cal.config.initial_population.looked_after
    end = pd.Timestamp(data.parameters.data_end)
    truth = data.periods[~data.periods["short_break"]]
    in_care = int((truth["start"] <= end).sum() - (truth["end"] <= end).sum())
    assert sum(g.count for g in groups) == in_care
    for g in groups:
        assert 0 <= g.min_days_in_care <= g.max_days_in_care
        assert g.max_days_in_care <= g.max_age_years * 365.25 + 1
        # A year of age per group: the age sets when a child leaves care at 18.
        assert g.max_age_years - g.min_age_years <= 1
    assert cal.config.run.start_date == dt.date(2016, 4, 1)
    assert cal.config.run.warmup_days == 0


def test_warm_start_ages_are_whole_years_inside_the_exit_bands():
    assert warm_start_age_edges([0, 1, 5, 10, 16, 18]) == [float(a) for a in range(19)]
    assert warm_start_age_edges([0, 0.5, 2.5, 18]) == [0.0, 0.5, 1.0, 2.0, 2.5, *range(3, 19)]


@pytest.mark.parametrize(
    ("as_at", "start"),
    [
        (dt.date(2016, 3, 31), dt.date(2016, 4, 1)),
        (dt.date(2016, 3, 15), dt.date(2016, 4, 1)),
        (dt.date(2016, 12, 31), dt.date(2017, 1, 1)),
        (dt.date(2016, 12, 1), dt.date(2017, 1, 1)),
        (dt.date(2016, 2, 29), dt.date(2016, 3, 1)),
    ],
)
def test_the_run_starts_on_the_first_month_start_after_the_as_at_date(as_at, start):
    assert run_start_after(as_at) == start


def test_in_house_capacity_is_raised_to_the_occupancy_the_data_show(tmp_path):
    template = tmp_path / "small.toml"
    template.write_text(
        f'extends = "{TEMPLATE.as_posix()}"\n[placement_types.foster_in_house]\ncapacity = 10\n'
        "[initial_population]\nlooked_after = []\n",
        encoding="utf-8",
    )
    data = synthetic()
    model = ProportionalModel()
    cal = calibrate(
        data.episodes, data.header, template=template, n_bootstrap=0, runner=model, scale_years=1.0
    )
    occupancy = sum(
        g.count
        for g in cal.config.initial_population.looked_after
        if g.placement == "foster_in_house"
    )
    assert occupancy > 10
    assert cal.config.placement_types["foster_in_house"].capacity.initial() == occupancy
    assert cal.report.mapped.capacity_changes["foster_in_house"] == (10.0, occupancy)
    text = write_config(cal, tmp_path / "out.toml").read_text(encoding="utf-8")
    assert f"raised from the template's 10: {occupancy} children" in text
    # The proportional model: rate = observed entries x 20.
    rate = cal.config.referrals.rate_per_year.initial()
    assert rate == pytest.approx(cal.report.observed_entries_per_year * 20, rel=1e-3)
    assert model.calls == 2


def test_an_earlier_as_at_date_ignores_later_data(tmp_path):
    data = synthetic()
    cal = calibrate(
        data.episodes, data.header, as_at="2014-09-15", n_bootstrap=0, scale_referrals=False
    )
    est = cal.report.estimates
    assert est.as_at == pd.Timestamp("2014-09-15")
    assert cal.config.run.start_date == dt.date(2014, 10, 1)
    assert est.entries_by_year["year_ending"].max() == 2015
    assert any("not rescaled" in n for n in cal.report.notes)
    assert "[input]" in write_config(cal, tmp_path / "x.toml").read_text(encoding="utf-8")


def test_an_as_at_date_after_the_data_is_refused():
    data = synthetic()
    with pytest.raises(DataError, match="after the end of the data"):
        calibrate(
            data.episodes, data.header, as_at="2017-01-31", n_bootstrap=0, scale_referrals=False
        )


def test_the_written_toml_has_no_extends_and_is_plain_toml():
    path, _ = calibration_outputs()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert "extends" not in data
    assert data["run"]["start_date"] == dt.date(2016, 4, 1)


def test_the_report_has_the_charts_and_tables():
    _, report_dir = calibration_outputs()
    md = (report_dir / "calibration-report.md").read_text(encoding="utf-8")
    for chart in ("exit_routes.png", "time_in_care.png", "entries.png", "placement_mix.png"):
        assert (report_dir / chart).stat().st_size > 10_000
        assert chart in md
    for heading in ("## Cleaning", "## Entries to care", "## Exits", "## Summary of estimates"):
        assert heading in md
    assert "chosen by AIC" in md
    assert workdir().exists()


def test_estimation_uncertainty_can_be_written_for_runs_to_draw(tmp_path):
    data = synthetic()
    cal = calibrate(
        data.episodes,
        data.header,
        n_bootstrap=5,
        runner=ProportionalModel(),
        scale_years=1.0,
        uncertainty=True,
    )
    specs = cal.config.parameter_uncertainty
    rate = specs["referrals.rate_per_year"]
    assert rate.median == cal.config.referrals.rate_per_year.initial()
    # Poisson SE of ~1,400 entries: 2.7%.
    assert rate.sigma == pytest.approx(
        1 / cal.report.estimates.entry_rates["entries"].iloc[-1] ** 0.5, rel=0.35
    )
    assert "exits.routes.return_home.duration_days.median" in specs
    path = write_config(cal, tmp_path / "u.toml")
    assert load_config(path) == cal.config


def test_render_config_writes_comments_and_schedules_that_load_back():
    data = {
        "workforce": {"fte": {"2016-04-01": 150.0, "2017-04-01": 160.5}, "caseload": 18},
        "placement_types": {"kinship": {"capacity": 40, "category": "kinship"}},
        "exits": {"age_bands": [{"min_age_years": 0, "shares": {"return_home": 1.0}}]},
    }
    comments = {
        ("workforce", "fte"): "[input] from the template",
        ("workforce", "caseload"): "[estimated] " + "long " * 30,
        ("exits", "age_bands", 0): "[estimated] one band",
    }
    text = render_config(data, comments, header="Calibrated.", sections={})
    assert tomllib.loads(text) == data
    lines = text.splitlines()
    assert lines[0] == "# Calibrated."
    assert 'fte = {"2016-04-01" = 150, "2017-04-01" = 160.5}  # [input] from the template' in lines
    # A long comment goes on the lines above its key.
    assert lines[lines.index("caseload = 18") - 1].startswith("# ")
    assert "[[exits.age_bands]]  # [estimated] one band" in lines
    assert "[placement_types]" not in lines and "[placement_types.kinship]" in lines
