"""Specification of the config layer: TOML files to validated, immutable configs.

Each test states one behaviour: what loads, what is rejected and with which
message, how scenarios extend a base, how schedules and distributions behave,
and that the generated reference documentation is true.
"""

from __future__ import annotations

import copy
import datetime as dt
import inspect
import math
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from scipy import stats

from sim.config import (
    CATEGORIES,
    ENTRY_CATEGORY_ORDER,
    EXIT_ROUTES,
    Config,
    Distribution,
    Schedule,
    config_from_dict,
    deep_merge,
    is_schedule,
    load_config,
    parse_override,
    set_dotted,
    with_overrides,
)
from sim.config.distributions import Empirical, Exponential, Fixed, Gamma, LogNormal, Weibull
from sim.config.docs import configuration_markdown
from sim.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "worcestershire-2016.toml"
DOCS = ROOT / "docs" / "configuration.md"

Raw = dict[str, Any]
Writer = Callable[[str, Any], Path]

DISTRIBUTION = TypeAdapter(Distribution)


@pytest.fixture(scope="module")
def baseline() -> Config:
    return load_config(BASELINE)


# ------------------------------------------------------------------ baseline


def test_baseline_loads(baseline: Config) -> None:
    assert baseline.run.start_date == dt.date(2016, 4, 1)
    assert baseline.placement_types["foster_in_house"].finite
    assert baseline.placement_policy.fallback in baseline.placement_types


def test_baseline_dump_validates_back_to_an_equal_config(baseline: Config) -> None:
    dumped = baseline.model_dump(mode="json")
    assert Config.model_validate(dumped) == baseline
    assert config_from_dict(dumped) == baseline


def test_config_is_frozen(baseline: Config) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        baseline.run = baseline.run  # type: ignore[misc]


def test_nested_tables_are_frozen_too(baseline: Config) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        baseline.placement_types["foster_in_house"].capacity = None  # type: ignore[misc]


# ------------------------------------------------------ malformed configs


def _set(path: str, value: Any) -> Callable[[Raw], None]:
    """A mutation setting a dotted key (digits index into lists)."""

    def mutate(data: Raw) -> None:
        *parents, last = path.split(".")
        cur: Any = data
        for part in parents:
            cur = cur[int(part)] if part.isdigit() else cur[part]
        cur[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(path: str) -> Callable[[Raw], None]:
    def mutate(data: Raw) -> None:
        *parents, last = path.split(".")
        cur: Any = data
        for part in parents:
            cur = cur[int(part)] if part.isdigit() else cur[part]
        del cur[last]

    return mutate


def _both(*mutations: Callable[[Raw], None]) -> Callable[[Raw], None]:
    def mutate(data: Raw) -> None:
        for m in mutations:
            m(data)

    return mutate


def _no_fostering(data: Raw) -> None:
    del data["placement_types"]["foster_in_house"]
    del data["placement_types"]["foster_ifa"]
    del data["placement_policy"]["fallback"]


AGE_BANDS = "referrals.age_bands"

MALFORMED: list[tuple[str, Callable[[Raw], None], str]] = [
    ("unknown top-level key", _set("bogus", 1), r"bogus = 1: unknown key"),
    (
        "typo in a placement type",
        _set("placement_types.foster_in_house.capcity", 230),
        r"placement_types\.foster_in_house\.capcity = 230: unknown key",
    ),
    (
        "string for a number",
        _set("referrals.trend_per_year", "high"),
        r"referrals\.trend_per_year = 'high': expected a number",
    ),
    (
        "string for a schedule",
        _set("referrals.rate_per_year", "lots"),
        r"referrals\.rate_per_year = 'lots': expected a number or a table of ISO date",
    ),
    (
        "negative capacity",
        _set("placement_types.foster_in_house.capacity", -3),
        r"placement_types\.foster_in_house\.capacity = -3: schedule values must be >= 0",
    ),
    (
        "fractional capacity",
        _set("placement_types.resi_in_house.capacity", 22.5),
        r"placement_types\.resi_in_house\.capacity = 22\.5: capacity must be a whole number",
    ),
    (
        "infinite capacity",
        _set("placement_types.foster_in_house.capacity", math.inf),
        r"placement_types\.foster_in_house\.capacity = inf: schedule values must be finite",
    ),
    (
        "referral age-band shares not summing to 1",
        _set(f"{AGE_BANDS}.0.share", 0.5),
        r"referrals: age_bands shares must sum to 1, got \d",
    ),
    (
        "overlapping age bands",
        _set(f"{AGE_BANDS}.1.min_age_years", 0.5),
        r"referrals: age_bands\[1\] starts at age 0\.5 .*\(overlap\)",
    ),
    (
        "gapped age bands",
        _set(f"{AGE_BANDS}.1.min_age_years", 2),
        r"referrals: age_bands\[1\] starts at age 2\.0 .*\(gap\)",
    ),
    (
        "age bands stopping short of 18",
        _set(f"{AGE_BANDS}.4.max_age_years", 17),
        r"referrals: age_bands must end at age 18, ends at 17",
    ),
    (
        "entry placement shares not summing to 1",
        _set("placement_policy.entry.1.shares.fostering", 0.5),
        r"placement_policy\.entry\[1\]\.shares = .*: shares must sum to 1, got 0\.\d",
    ),
    (
        "unknown entry category",
        _set("placement_policy.entry.1.shares", {"fosterin": 0.72, "kinship": 0.28}),
        r"placement_policy\.entry\[1\]\.shares = .*unknown entry category 'fosterin'",
    ),
    (
        "not-a-number share",
        _set("placement_policy.entry.1.shares.fostering", math.nan),
        r"placement_policy\.entry\[1\]\.shares\.fostering = nan: .*finite number",
    ),
    (
        "placement_policy.order naming an unknown type",
        _set("placement_policy.order", {"fostering": ["foster_in_house", "foster_nowhere"]}),
        r"placement_policy\.order\.fostering: unknown placement type 'foster_nowhere'",
    ),
    (
        "placement_policy.order naming an unknown category",
        _set("placement_policy.order", {"fostring": ["foster_in_house"]}),
        r"placement_policy\.order: unknown category 'fostring'",
    ),
    (
        "fallback naming an unknown type",
        _set("placement_policy.fallback", "hotel"),
        r"placement_policy\.fallback: unknown placement type 'hotel'",
    ),
    (
        "a needed category that no type serves and no fallback",
        _no_fostering,
        r"placement category 'fostering' is needed \(placement_policy\) but no placement type "
        r"serves it and there is no fallback",
    ),
    (
        "step_down with both after_days and at_age_years",
        _set("placement_policy.step_downs.0.at_age_years", 15),
        r"placement_policy\.step_downs\[0\]: give exactly one of after_days or at_age_years",
    ),
    (
        "exit route shares not summing to 1",
        _set("exits.age_bands.0.shares.return_home", 1.0),
        r"exits\.age_bands\[0\]\.shares = .*: shares must sum to 1, got 1\.\d",
    ),
    (
        "unknown exit route in shares",
        _set("exits.age_bands.4.shares", {"return_home": 0.45, "runaway": 0.55}),
        r"exits\.age_bands\[4\]\.shares\.runaway.*: Input should be 'return_home'",
    ),
    (
        "a route used in shares with no duration",
        _delete("exits.routes.other.duration_days"),
        r"exits: route 'other' has no duration_days and age_bands\[0\] gives none",
    ),
    (
        "a route used in shares but not defined",
        _delete("exits.routes.special_guardianship"),
        r"exits: age_bands\[0\]\.shares names route 'special_guardianship' not in routes",
    ),
    (
        "pre_exit_placement without pre_exit_days",
        _delete("exits.routes.adoption.pre_exit_days"),
        r"exits\.routes\.adoption: give both pre_exit_placement and pre_exit_days",
    ),
    (
        "pre_exit_placement naming an unknown type",
        _set("exits.routes.adoption.pre_exit_placement", "adopters"),
        r"exits\.routes\.adoption\.pre_exit_placement: unknown placement type 'adopters'",
    ),
    (
        "initial population over an in-house capacity",
        _set("initial_population.looked_after.0.count", 10_000),
        r"initial_population puts 10000 children in 'foster_in_house' whose capacity on "
        r"2016-04-01 is \d+",
    ),
    (
        "initial population in an unknown placement type",
        _set("initial_population.looked_after.0.placement", "foster_nowhere"),
        r"initial_population\.looked_after\[0\]\.placement: unknown placement type",
    ),
    (
        "schedule with a non-ISO date key",
        _set("workforce.fte", {"2016-04-01": 170, "April 2017": 180}),
        r"workforce\.fte = .*schedule key 'April 2017' is not an ISO date \(expected YYYY-MM-DD\)",
    ),
    (
        "assessment threshold below early-help threshold",
        _both(
            _set("front_door.early_help_above_percentile", 0.1),
            _set("front_door.assessment_above_percentile", 0.05),
        ),
        r"front_door: assessment_above_percentile \(0\.05\) is below "
        r"early_help_above_percentile \(0\.1\) from the start",
    ),
    (
        "assessment threshold falling below early-help threshold on a date",
        _both(
            _set("front_door.early_help_above_percentile", 0.1),
            _set(
                "front_door.assessment_above_percentile",
                {"2016-04-01": 0.25, "2018-04-01": 0.05},
            ),
        ),
        r"front_door: assessment_above_percentile \(0\.05\) is below "
        r"early_help_above_percentile \(0\.1\) from 2018-04-01",
    ),
    (
        "threshold percentile above 1",
        _set("front_door.assessment_above_percentile", 25),
        r"front_door: threshold percentiles must be in \[0, 1\]",
    ),
    (
        "assessment percentiles out of order",
        _both(
            _set("assessment.cin_above_percentile", 0.5),
            _set("assessment.cp_above_percentile", 0.4),
        ),
        r"assessment: assessment percentiles must satisfy cin_above_percentile <= ",
    ),
    (
        "escalation probabilities above 1 in all",
        _both(
            _set("child_protection.escalate_to_cp_probability", 0.9),
            _set("child_protection.escalate_to_care_probability", 0.2),
        ),
        r"child_protection: escalation probabilities must sum to at most 1",
    ),
    (
        "edge-of-care capacity without a support duration",
        _both(_set("edge_of_care.capacity", 10), _delete("edge_of_care.support_days")),
        r"edge_of_care = .*: support_days is required when the service has capacity",
    ),
    (
        "a placement type whose age range is empty",
        _both(
            _set("placement_types.secure.min_age_years", 12),
            _set("placement_types.secure.max_age_years", 10),
        ),
        r"placement_types\.secure = .*: max_age_years must exceed min_age_years",
    ),
    (
        "seasonality not 12 values",
        _set("referrals.seasonality", [1.0] * 11),
        r"referrals\.seasonality = .*seasonality needs 12 monthly factors, got 11",
    ),
    (
        "unknown distribution name",
        _set("front_door.rereferral_days", {"distribution": "poisson", "mean": 150}),
        r"front_door\.rereferral_days = .*Input tag 'poisson' found using 'distribution' does "
        r"not match any of the expected tags",
    ),
    (
        "gamma with a negative mean",
        _set("front_door.early_help_days", {"distribution": "gamma", "mean": -3, "cv": 0.5}),
        r"front_door\.early_help_days\.mean = -3: Input should be greater than 0",
    ),
    (
        "empirical quantiles not increasing",
        _set(
            "assessment.duration_days",
            {
                "distribution": "empirical",
                "probabilities": [0, 0.6, 0.5, 1],
                "values": [1, 20, 30, 90],
            },
        ),
        r"assessment\.duration_days = .*probabilities must increase strictly",
    ),
    (
        "a distribution key its family does not take",
        _set("child_in_need.duration_days.cv", 0.5),
        r"child_in_need\.duration_days\.cv = 0\.5: unknown key",
    ),
    ("a missing required section", _delete("workforce"), r"workforce: required key is missing"),
    (
        "a missing required key",
        _delete("run.start_date"),
        r"run\.start_date: required key is missing",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [pytest.param(m, msg, id=name) for name, m, msg in MALFORMED],
)
def test_malformed_config_is_rejected_naming_the_key(
    baseline_raw: Raw, write_toml: Writer, mutate: Callable[[Raw], None], message: str
) -> None:
    mutate(baseline_raw)
    path = write_toml("broken.toml", baseline_raw)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_validation_error_names_file_key_value_and_expectation(
    baseline_raw: Raw, write_toml: Writer
) -> None:
    baseline_raw["placement_types"]["foster_in_house"]["capacity"] = -3
    path = write_toml("negative-capacity.toml", baseline_raw)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert re.search(
        re.escape(str(path)) + r": invalid config:\n  placement_types\.foster_in_house\.capacity"
        r" = -3: schedule values must be >= 0, got -3\.0",
        str(caught.value),
    )
    assert caught.value.path == str(path)
    assert caught.value.key == "placement_types.foster_in_house.capacity"


def test_unknown_key_error_names_the_file(baseline_raw: Raw, write_toml: Writer) -> None:
    baseline_raw["placement_types"]["kinship"]["capacity_places"] = 10
    path = write_toml("typo-scenario.toml", baseline_raw)
    with pytest.raises(
        ConfigError,
        match=r"typo-scenario\.toml: invalid config:\n  placement_types\.kinship\.capacity_places",
    ):
        load_config(path)


def test_every_error_is_reported_at_once(baseline_raw: Raw, write_toml: Writer) -> None:
    baseline_raw["run"]["years"] = -1
    baseline_raw["workforce"]["fte"] = -5
    path = write_toml("two-errors.toml", baseline_raw)
    with pytest.raises(ConfigError, match=r"(?s)run\.years = -1.*workforce\.fte = -5"):
        load_config(path)


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad-syntax.toml"
    path.write_text("[run]\nname = 'unterminated\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(path)) + ": not valid TOML"):
        load_config(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=re.escape(str(path)) + ": config file not found"):
        load_config(path)


# ------------------------------------------------------------------ extends


def _copy_baseline(tmp_path: Path) -> Path:
    base = tmp_path / "base.toml"
    base.write_text(BASELINE.read_text(encoding="utf-8"), encoding="utf-8")
    return base


def test_scenario_overriding_one_key_keeps_all_others(
    tmp_path: Path, write_toml: Writer, baseline: Config
) -> None:
    _copy_baseline(tmp_path)
    scenario = write_toml(
        "scenarios/more-foster-carers.toml",
        {"extends": "../base.toml", "placement_types": {"foster_in_house": {"capacity": 9999}}},
    )
    cfg = load_config(scenario)
    expected = with_overrides(baseline, {"placement_types.foster_in_house.capacity": 9999})
    assert cfg == expected
    assert cfg.placement_types["foster_in_house"].capacity != (
        baseline.placement_types["foster_in_house"].capacity
    )


def test_extends_chain_of_three_files_applies_each_change(
    tmp_path: Path, write_toml: Writer, baseline: Config
) -> None:
    _copy_baseline(tmp_path)
    write_toml(
        "middle.toml",
        {"extends": "base.toml", "placement_types": {"foster_in_house": {"capacity": 9999}}},
    )
    top = write_toml(
        "top.toml",
        {"extends": "middle.toml", "run": {"name": "Three files"}, "workforce": {"fte": 180}},
    )
    cfg = load_config(top)
    assert cfg.placement_types["foster_in_house"].capacity == Schedule.model_validate(9999)
    assert cfg.run.name == "Three files"
    assert cfg.workforce.fte.initial() == 180
    assert cfg.run.start_date == baseline.run.start_date
    assert cfg.workforce.annual_cost_per_fte_gbp == baseline.workforce.annual_cost_per_fte_gbp


def test_a_later_file_in_the_chain_wins(tmp_path: Path, write_toml: Writer) -> None:
    _copy_baseline(tmp_path)
    write_toml("middle.toml", {"extends": "base.toml", "workforce": {"fte": 180}})
    top = write_toml("top.toml", {"extends": "middle.toml", "workforce": {"fte": 190}})
    assert load_config(top).workforce.fte.initial() == 190


def test_extends_cycle_is_an_error(write_toml: Writer) -> None:
    write_toml("a.toml", {"extends": "b.toml"})
    b = write_toml("b.toml", {"extends": "a.toml"})
    with pytest.raises(ConfigError, match=r"'extends' forms a cycle: .*b\.toml -> .*a\.toml"):
        load_config(b)


def test_a_file_extending_itself_is_a_cycle(write_toml: Writer) -> None:
    a = write_toml("a.toml", {"extends": "a.toml"})
    with pytest.raises(ConfigError, match="cycle"):
        load_config(a)


def test_extends_of_a_missing_file_is_an_error(write_toml: Writer) -> None:
    path = write_toml("orphan.toml", {"extends": "nowhere.toml"})
    with pytest.raises(
        ConfigError, match=r"orphan\.toml: extends = 'nowhere\.toml': no such file .*nowhere\.toml"
    ):
        load_config(path)


def test_extends_must_be_a_path_string(write_toml: Writer) -> None:
    path = write_toml("odd.toml", {"extends": 3})
    with pytest.raises(
        ConfigError, match=r"odd\.toml: extends = 3: expected the path of the base TOML file"
    ):
        load_config(path)


def test_lists_in_a_scenario_replace_rather_than_merge(tmp_path: Path, write_toml: Writer) -> None:
    _copy_baseline(tmp_path)
    path = write_toml(
        "twins.toml", {"extends": "base.toml", "referrals": {"sibling_group_shares": [0.9, 0.1]}}
    )
    assert load_config(path).referrals.sibling_group_shares == (0.9, 0.1)


def test_arrays_of_tables_in_a_scenario_replace_the_base_bands(
    tmp_path: Path, write_toml: Writer
) -> None:
    _copy_baseline(tmp_path)
    one_band = {"min_age_years": 0, "max_age_years": 18, "shares": {"fostering": 1.0}}
    path = write_toml(
        "one-band.toml", {"extends": "base.toml", "placement_policy": {"entry": [one_band]}}
    )
    entry = load_config(path).placement_policy.entry
    assert len(entry) == 1
    assert entry[0].shares == {"fostering": 1.0}


def test_schedule_table_in_a_scenario_replaces_the_base_number(
    tmp_path: Path, write_toml: Writer
) -> None:
    _copy_baseline(tmp_path)
    growth = {"2016-04-01": 500, "2017-04-01": 600}
    path = write_toml(
        "growth.toml",
        {"extends": "base.toml", "placement_types": {"foster_in_house": {"capacity": growth}}},
    )
    capacity = load_config(path).placement_types["foster_in_house"].capacity
    assert capacity is not None
    assert capacity.steps == ((dt.date(2016, 4, 1), 500.0), (dt.date(2017, 4, 1), 600.0))


def test_schedule_table_replaces_a_base_schedule_table_without_merging_dates() -> None:
    base = {"capacity": {"2016-04-01": 230, "2017-04-01": 260}}
    assert deep_merge(base, {"capacity": {"2018-04-01": 300}}) == {"capacity": {"2018-04-01": 300}}


def test_a_schedule_key_the_schema_knows_replaces_even_misdated_tables() -> None:
    # The schema, not the look of the keys, says fte is a schedule: never merged date by date.
    base = {"workforce": {"fte": {"2016-4-1": 150}}}
    change = {"workforce": {"fte": {"2017-4-1": 170}}}
    assert deep_merge(base, change) == change


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("workforce", "fte"), {"2016-04-01": 150}, True),
        (("placement_types", "kinship", "weekly_cost_gbp"), {"2016-04-01": 200}, True),
        (("placement_types", "kinship", "weekly_cost_gbp"), {"distribution": "fixed"}, False),
        # A scenario's change to one parameter of the base's distribution.
        (("placement_types", "kinship", "weekly_cost_gbp"), {"maximum": 15000}, False),
        (("placement_types", "kinship", "weekly_cost_gbp"), {"2016-4-1": 200}, False),
        (("exits", "age_bands", 0, "shares"), {"return_home": 1.0}, False),
        (("placement_types", "kinship"), {"capacity": 3}, False),
        (("not_in_the_schema",), {"2016-04-01": 1}, True),
        (None, {"2016-04-01": 1, "later": 2}, False),
        (("workforce", "fte"), 150, False),
    ],
)
def test_is_schedule_asks_the_schema_then_the_keys(path: Any, value: Any, expected: bool) -> None:
    assert is_schedule(value, path) is expected


def test_deep_merge_merges_tables_key_by_key() -> None:
    base = {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "b": 2}
    change = {"a": {"y": {"q": 3}}}
    assert deep_merge(base, change) == {"a": {"x": 1, "y": {"p": 1, "q": 3}}, "b": 2}


def test_deep_merge_leaves_its_inputs_unchanged() -> None:
    base = {"a": {"x": [1, 2]}}
    change = {"a": {"y": 1}}
    before = copy.deepcopy((base, change))
    merged = deep_merge(base, change)
    merged["a"]["x"].append(3)
    assert (base, change) == before


def test_distribution_of_the_same_family_merges_its_keys() -> None:
    base = {"d": {"distribution": "gamma", "mean": 100, "cv": 0.5}}
    assert deep_merge(base, {"d": {"mean": 200}}) == {
        "d": {"distribution": "gamma", "mean": 200, "cv": 0.5}
    }


def test_distribution_of_another_family_replaces_the_base_table(
    tmp_path: Path, write_toml: Writer
) -> None:
    _copy_baseline(tmp_path)
    path = write_toml(
        "memoryless.toml",
        {
            "extends": "base.toml",
            "assessment": {"duration_days": {"distribution": "exponential", "mean": 30}},
        },
    )
    assert load_config(path).assessment.duration_days == Exponential(
        distribution="exponential", mean=30
    )


# ---------------------------------------------------------------- overrides


def test_with_overrides_changes_only_the_named_key(baseline: Config) -> None:
    before = baseline.model_dump(mode="json")
    changed = with_overrides(baseline, {"placement_types.foster_in_house.capacity": 9999})
    expected = copy.deepcopy(before)
    expected["placement_types"]["foster_in_house"]["capacity"] = 9999.0
    assert changed.model_dump(mode="json") == expected
    assert baseline.model_dump(mode="json") == before


def test_bad_override_value_raises_naming_the_key(baseline: Config) -> None:
    with pytest.raises(
        ConfigError,
        match=r"overrides placement_types\.foster_in_house\.capacity: invalid config:\n"
        r"  placement_types\.foster_in_house\.capacity = -1: schedule values must be >= 0",
    ):
        with_overrides(baseline, {"placement_types.foster_in_house.capacity": -1})


def test_override_of_an_unknown_key_is_rejected(baseline: Config) -> None:
    with pytest.raises(
        ConfigError, match=r"placement_types\.foster_in_house\.capcity = 1: unknown"
    ):
        with_overrides(baseline, {"placement_types.foster_in_house.capcity": 1})


def test_load_config_applies_overrides_after_extends(baseline_path: Path) -> None:
    cfg = load_config(baseline_path, overrides={"run.years": 2, "workforce.fte": 150})
    assert cfg.run.years == 2
    assert cfg.workforce.fte.initial() == 150


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("placement_types.foster_in_house.capacity=240", 240),
        ("referrals.trend_per_year = 0.03", 0.03),
        ("run.start_date=2017-04-01", dt.date(2017, 4, 1)),
        ("placement_policy.waiting_list=true", True),
        ("placement_policy.fallback=emergency", "emergency"),
        ('run.name="Two words"', "Two words"),
        ("referrals.sibling_group_shares=[0.9, 0.1]", [0.9, 0.1]),
        (
            'workforce.fte={ "2016-04-01" = 170, "2018-04-01" = 190 }',
            {"2016-04-01": 170, "2018-04-01": 190},
        ),
    ],
)
def test_parse_override_reads_the_value_as_toml(text: str, expected: Any) -> None:
    key, value = parse_override(text)
    assert key == text.split("=", 1)[0].strip()
    assert value == expected


def test_parse_override_needs_an_equals_sign() -> None:
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_override("run.years")


def test_set_dotted_returns_a_changed_copy() -> None:
    data = {"a": {"b": 1, "c": 2}}
    assert set_dotted(data, "a.b", 5) == {"a": {"b": 5, "c": 2}}
    assert data == {"a": {"b": 1, "c": 2}}


def test_set_dotted_creates_missing_tables() -> None:
    assert set_dotted({}, "edge_of_care.capacity", 10) == {"edge_of_care": {"capacity": 10}}


def test_set_dotted_refuses_to_descend_into_a_value() -> None:
    with pytest.raises(ConfigError, match=r"override run\.years\.x: run\.years is not a table"):
        set_dotted({"run": {"years": 5}}, "run.years.x", 1)


# ----------------------------------------------------------------- schedules

STEPPED = Schedule.model_validate({"2016-04-01": 230, "2017-10-01": 250, "2018-04-01": 270})


@pytest.mark.parametrize(
    ("day", "value"),
    [
        (dt.date(2015, 1, 1), 230),  # before the first date: the first value
        (dt.date(2016, 4, 1), 230),
        (dt.date(2017, 9, 30), 230),
        (dt.date(2017, 10, 1), 250),  # a change takes effect on its date
        (dt.date(2018, 3, 31), 250),
        (dt.date(2018, 4, 1), 270),
        (dt.date(2030, 1, 1), 270),  # after the last date: the last value
    ],
)
def test_schedule_value_at_holds_each_value_from_its_date(day: dt.date, value: float) -> None:
    assert STEPPED.value_at(day) == value


def test_schedule_sorts_unsorted_dates() -> None:
    s = Schedule.model_validate({"2018-04-01": 270, "2016-04-01": 230, "2017-10-01": 250})
    assert s == STEPPED
    assert [d for d, _ in s.steps] == sorted(d for d, _ in s.steps)


def test_schedule_rejects_a_negative_value() -> None:
    with pytest.raises(ValidationError, match="schedule values must be >= 0, got -1"):
        Schedule.model_validate({"2016-04-01": 10, "2017-04-01": -1})


@pytest.mark.parametrize("value", [math.inf, math.nan])
def test_schedule_rejects_a_value_that_is_not_finite(value: float) -> None:
    with pytest.raises(ValidationError, match="schedule values must be finite"):
        Schedule.model_validate(value)


def test_schedule_rejects_an_empty_table() -> None:
    with pytest.raises(ValidationError, match="needs at least one"):
        Schedule.model_validate({})


def test_schedule_from_a_number_is_constant() -> None:
    s = Schedule.model_validate(12)
    assert s.is_constant
    assert s.value_at(dt.date(2016, 4, 1)) == s.value_at(dt.date(2099, 1, 1)) == 12
    assert s.to_toml_value() == 12


def test_schedule_with_one_date_equals_the_constant() -> None:
    assert Schedule.model_validate({"2017-01-01": 5}) == Schedule.model_validate(5)


@pytest.mark.parametrize("written", [5, {"2016-04-01": 1, "2017-04-01": 2}, {"2017-01-01": 5}])
def test_schedule_round_trips_through_its_toml_value(written: Any) -> None:
    s = Schedule.model_validate(written)
    assert Schedule.model_validate(s.to_toml_value()) == s


def test_schedule_changes_after_lists_later_steps_only() -> None:
    assert STEPPED.changes_after(dt.date(2017, 10, 1)) == [(dt.date(2018, 4, 1), 270.0)]


def test_schedule_scaled_multiplies_every_value() -> None:
    assert [v for _, v in STEPPED.scaled(2).steps] == [460, 500, 540]


# ------------------------------------------------------------ distributions

positive = st.floats(min_value=0.1, max_value=1e4, allow_nan=False, allow_infinity=False)
uniform = st.floats(min_value=1e-6, max_value=1 - 1e-6)


@st.composite
def _empirical(draw: st.DrawFn, *, strictly: bool) -> dict[str, Any]:
    n = draw(st.integers(min_value=0, max_value=5))
    inner = draw(
        st.lists(st.floats(min_value=0.01, max_value=0.99), min_size=n, max_size=n, unique=True)
    )
    probabilities = [0.0, *sorted(inner), 1.0]
    low = 0.5 if strictly else 0.0
    steps = draw(
        st.lists(
            st.floats(min_value=low, max_value=500),
            min_size=len(probabilities),
            max_size=len(probabilities),
        )
    )
    values = [sum(steps[: i + 1]) for i in range(len(steps))]
    return {"distribution": "empirical", "probabilities": probabilities, "values": values}


def _continuous_specs() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda m: {"distribution": "exponential", "mean": m}, positive),
        st.builds(
            lambda m, cv: {"distribution": "gamma", "mean": m, "cv": cv},
            positive,
            st.floats(min_value=0.05, max_value=3),
        ),
        st.builds(
            lambda k, s: {"distribution": "weibull", "shape": k, "scale": s},
            st.floats(min_value=0.2, max_value=5),
            positive,
        ),
        st.builds(
            lambda m, s: {"distribution": "lognormal", "median": m, "sigma": s},
            positive,
            st.floats(min_value=0.05, max_value=3),
        ),
        _empirical(strictly=True),
    )


def _any_specs() -> st.SearchStrategy[dict[str, Any]]:
    plain = st.one_of(
        st.builds(lambda v: {"distribution": "fixed", "value": v}, st.floats(0, 1e4)),
        _continuous_specs(),
        _empirical(strictly=False),
    )
    capped = st.builds(lambda spec, cap: {**spec, "maximum": cap}, plain, positive)
    return st.one_of(plain, capped)


@settings(max_examples=300, deadline=None)
@given(spec=_any_specs(), u1=uniform, u2=uniform)
def test_ppf_is_non_decreasing_in_u(spec: dict[str, Any], u1: float, u2: float) -> None:
    d = DISTRIBUTION.validate_python(spec)
    lo, hi = sorted((u1, u2))
    assert d.ppf(lo) <= d.ppf(hi) * (1 + 1e-12) + 1e-12


@settings(max_examples=300, deadline=None)
@given(spec=_continuous_specs(), u=uniform)
def test_cdf_inverts_ppf_for_continuous_distributions(spec: dict[str, Any], u: float) -> None:
    d = DISTRIBUTION.validate_python(spec)
    assert d.cdf(d.ppf(u)) == pytest.approx(u, abs=1e-7)


@settings(max_examples=300, deadline=None)
@given(spec=_any_specs(), u=uniform, at_least=st.floats(min_value=0, max_value=5e4))
def test_conditional_ppf_is_at_least_the_condition(
    spec: dict[str, Any], u: float, at_least: float
) -> None:
    d = DISTRIBUTION.validate_python(spec)
    assert d.conditional_ppf(u, at_least) >= at_least


@settings(max_examples=100, deadline=None)
@given(spec=_any_specs(), u=uniform)
def test_conditional_ppf_on_nothing_is_the_ppf(spec: dict[str, Any], u: float) -> None:
    d = DISTRIBUTION.validate_python(spec)
    assert d.conditional_ppf(u, 0) == d.ppf(u)


@settings(max_examples=100, deadline=None)
@given(mean=positive, u=uniform, means_elapsed=st.floats(min_value=0, max_value=10))
def test_exponential_is_memoryless(mean: float, u: float, means_elapsed: float) -> None:
    # Beyond a survival of 1e-9 conditional_ppf stops at the condition; stay well inside.
    d = Exponential(distribution="exponential", mean=mean)
    at_least = means_elapsed * mean
    assert d.conditional_ppf(u, at_least) == pytest.approx(at_least + d.ppf(u), rel=1e-6)


SCIPY_EQUIVALENTS: list[tuple[Any, Any]] = [
    (Exponential(distribution="exponential", mean=150), stats.expon(scale=150)),
    (Gamma(distribution="gamma", mean=33, cv=0.6), stats.gamma(a=1 / 0.36, scale=33 * 0.36)),
    (
        Gamma(distribution="gamma", mean=700, cv=0.35),
        stats.gamma(a=1 / 0.35**2, scale=700 * 0.35**2),
    ),
    (Weibull(distribution="weibull", shape=0.8, scale=400), stats.weibull_min(c=0.8, scale=400)),
    (Weibull(distribution="weibull", shape=2.5, scale=90), stats.weibull_min(c=2.5, scale=90)),
    (LogNormal(distribution="lognormal", median=130, sigma=1.4), stats.lognorm(s=1.4, scale=130)),
]


@pytest.mark.parametrize(("ours", "theirs"), SCIPY_EQUIVALENTS, ids=lambda x: str(x)[:40])
@pytest.mark.parametrize("u", [0.001, 0.1, 0.5, 0.9, 0.999])
def test_ppf_matches_scipy(ours: Any, theirs: Any, u: float) -> None:
    assert ours.ppf(u) == pytest.approx(theirs.ppf(u), rel=1e-8)


@pytest.mark.parametrize(("ours", "theirs"), SCIPY_EQUIVALENTS, ids=lambda x: str(x)[:40])
def test_expected_matches_the_scipy_mean(ours: Any, theirs: Any) -> None:
    assert ours.expected() == pytest.approx(theirs.mean(), rel=1e-9)


def test_maximum_caps_draws() -> None:
    capped = LogNormal(distribution="lognormal", median=3600, sigma=0.45, maximum=20000)
    uncapped = LogNormal(distribution="lognormal", median=3600, sigma=0.45)
    assert uncapped.ppf(0.9999999) > 20000
    assert capped.ppf(0.9999999) == 20000
    assert capped.ppf(0.5) == uncapped.ppf(0.5)
    assert capped.cdf(20000) == 1.0


@settings(max_examples=200, deadline=None)
@given(spec=_any_specs(), u=uniform)
def test_no_draw_exceeds_the_maximum(spec: dict[str, Any], u: float) -> None:
    d = DISTRIBUTION.validate_python(spec)
    if d.maximum is not None:
        assert d.ppf(u) <= d.maximum


def test_fixed_always_gives_its_value() -> None:
    d = Fixed(distribution="fixed", value=7)
    assert {d.ppf(u) for u in (1e-9, 0.3, 0.999)} == {7}
    assert d.expected() == 7


def test_empirical_interpolates_between_its_points() -> None:
    d = Empirical(distribution="empirical", probabilities=(0, 0.5, 1), values=(0, 10, 30))
    assert d.ppf(0.25) == pytest.approx(5)
    assert d.ppf(0.75) == pytest.approx(20)
    assert d.cdf(20) == pytest.approx(0.75)


def test_empirical_mean_is_the_area_under_its_quantile_function() -> None:
    d = Empirical(distribution="empirical", probabilities=(0, 0.5, 1), values=(0, 10, 30))
    # 0.5 × (0 + 10) / 2  +  0.5 × (10 + 30) / 2  =  2.5 + 10
    assert d.expected() == pytest.approx(12.5)


@pytest.mark.parametrize(
    ("probabilities", "values", "message"),
    [
        ((0.1, 1), (0, 10), "must start at 0 and end at 1"),
        ((0, 0.5, 1), (0, 10), "same length"),
        ((0, 0.5, 1), (0, 10, 5), "values must not decrease"),
    ],
)
def test_empirical_rejects_malformed_points(
    probabilities: tuple[float, ...], values: tuple[float, ...], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Empirical(distribution="empirical", probabilities=probabilities, values=values)


# ----------------------------------------------------------------------- docs


def _documented_models() -> list[type[BaseModel]]:
    """Every model reachable from Config, schedules aside (they are a value syntax)."""
    found: list[type[BaseModel]] = []

    def visit(tp: Any) -> None:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        if inspect.isclass(tp) and issubclass(tp, BaseModel):
            if tp is Schedule or tp in found:
                return
            found.append(tp)
            for info in tp.model_fields.values():
                visit(info.annotation)
        else:
            for arg in get_args(tp):
                visit(arg)

    visit(Config)
    return found


def _documented_keys(markdown: str) -> list[set[str]]:
    """The keys listed in the table of each ``###`` section."""
    sections = markdown.split("\n### ")[1:]
    return [set(re.findall(r"^\| `([a-z0-9_]+)` \|", s, flags=re.MULTILINE)) for s in sections]


def test_docs_file_is_the_generated_reference() -> None:
    assert DOCS.read_text(encoding="utf-8") == configuration_markdown(), (
        "docs/configuration.md is stale: run python -m sim.config.docs > docs/configuration.md"
    )


def test_docs_list_every_key_of_every_table() -> None:
    sections = _documented_keys(configuration_markdown())
    models = _documented_models()
    assert {Config, Gamma, Empirical} <= set(models)
    for model in models:
        keys = set(model.model_fields)
        assert any(keys <= documented for documented in sections), f"{model.__name__}: {keys}"


def test_docs_give_every_key_a_meaning() -> None:
    rows = re.findall(r"^\| `[a-z0-9_]+` \|.*\|$", configuration_markdown(), flags=re.MULTILINE)
    assert rows
    for row in rows:
        assert row.rstrip("|").split("|")[-1].strip(), f"no meaning in: {row}"


def test_docs_explain_every_category_and_exit_route() -> None:
    text = configuration_markdown()
    for name in (*CATEGORIES, *EXIT_ROUTES):
        assert re.search(rf"^\| `{name}` \| \S.* \|", text, flags=re.MULTILINE), name
    order = re.findall(r"^\d+\. `([a-z_]+)`$", text, flags=re.MULTILINE)
    assert tuple(order) == ENTRY_CATEGORY_ORDER


def test_docs_toml_examples_parse_as_the_types_they_illustrate() -> None:
    text = configuration_markdown()
    examples = re.findall(r"^Example: `(.*)`$", text, flags=re.MULTILINE)
    assert len(examples) == 6
    for example in examples:
        DISTRIBUTION.validate_python(tomllib.loads(f"v = {example}")["v"])


def test_docs_module_prints_the_reference() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sim.config.docs"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        encoding="utf-8",
    )
    assert done.stdout == configuration_markdown()
