"""Targets stated in a config (``[[targets]]``): validation, the table, the run summary."""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from model_configs import small_baseline
from tomlkit import dumps

from sim.analysis.targets import TARGET_COLUMNS, target_lines, target_table
from sim.cli.main import main as caresim
from sim.config import config_from_dict, load_config, raw_config
from sim.config.targets import Target
from sim.errors import ConfigError
from sim.report import html as report
from sim.results.run_result import RunResult

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "worcestershire-2016.toml"
FOSTERING = ROOT / "configs" / "scenarios" / "fostering-ratio-66-34.toml"


@pytest.fixture(scope="module")
def base_raw() -> dict[str, Any]:
    data = raw_config(BASELINE)
    data["run"]["years"] = 3  # 2016-17 to 2018-19, whole years
    return data


def _with_targets(raw: dict[str, Any], targets: list[dict[str, Any]]) -> Any:
    data = copy.deepcopy(raw)
    data["targets"] = targets
    return config_from_dict(data, source="t.toml")


# ------------------------------------------------------------------ config


def test_the_fostering_scenario_states_its_66_34_target() -> None:
    (target,) = load_config(FOSTERING).targets
    assert target.measure == "in_house_share_fostering"
    assert target.value == 0.66 and target.direction == "at_least"
    assert target.by_year == "2019-20"
    assert "66:34" in load_config(FOSTERING).describe()


def test_a_target_by_a_date_is_due_in_the_financial_year_holding_it() -> None:
    assert Target(measure="looked_after", value=700, by="2019-03-31").by_year == "2018-19"
    assert Target(measure="looked_after", value=700, by="2019-04-01").by_year == "2019-20"
    assert Target(measure="looked_after", value=700).by_year is None


def test_targets_default_to_none(base_raw: dict[str, Any]) -> None:
    assert config_from_dict(base_raw).targets == ()


BAD_TARGETS = [
    (
        "an unknown measure lists the valid ones",
        [{"measure": "in_house_share", "value": 0.66}],
        r"targets\[0\]\.measure = 'in_house_share': unknown summary measure 'in_house_share'; "
        r"expected one of cost_total_gbp, .*in_house_share_fostering, .*direct_financial_support",
    ),
    (
        "an unknown direction",
        [{"measure": "looked_after", "value": 700, "direction": "below"}],
        r"targets\[0\]\.direction = 'below': Input should be 'at_least' or 'at_most'",
    ),
    (
        "a by that is no financial year",
        [
            {"measure": "looked_after", "value": 700},
            {"measure": "looked_after", "value": 700, "by": "2019-21"},
        ],
        r"targets\[1\]\.by = '2019-21': '2019-21' is not a financial year.*'2019-20'",
    ),
    (
        "a by that is neither a year nor a date",
        [{"measure": "looked_after", "value": 700, "by": "next year"}],
        r"targets\[0\]\.by = 'next year': expected a financial year like '2019-20' or an ISO date",
    ),
    (
        "a missing value",
        [{"measure": "looked_after"}],
        r"targets\[0\]\.value: required key is missing",
    ),
    (
        "a misspelt key",
        [{"measure": "looked_after", "value": 700, "directon": "at_most"}],
        r"targets\[0\]\.directon = 'at_most': unknown key",
    ),
    (
        "a value that is not finite",
        [{"measure": "looked_after", "value": math.inf}],
        r"targets\[0\]\.value = inf",
    ),
]


@pytest.mark.parametrize(
    ("targets", "message"), [pytest.param(t, m, id=name) for name, t, m in BAD_TARGETS]
)
def test_a_bad_target_is_an_error_naming_its_key_path(
    base_raw: dict[str, Any], targets: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        _with_targets(base_raw, targets)
    assert str(caught.value).startswith("t.toml: invalid config:")
    assert caught.value.key is not None and caught.value.key.startswith("targets[")


def test_a_target_in_a_toml_file_loads(base_raw: dict[str, Any], tmp_path: Path) -> None:
    data = copy.deepcopy(base_raw)
    data["targets"] = [{"measure": "looked_after", "value": 700, "direction": "at_most"}]
    path = tmp_path / "t.toml"
    path.write_text(dumps(data))
    (target,) = load_config(path).targets
    assert target.describe() == "looked_after at most 700"


# ------------------------------------------------------------------- table


def _result(raw: dict[str, Any], targets: list[dict[str, Any]]) -> RunResult:
    """Five replications over 2016-17 to 2018-19: the median share is 50%, 70%, 68%."""
    share = {
        "2016-17": [0.40, 0.45, 0.50, 0.55, 0.60],
        "2017-18": [0.60, 0.65, 0.70, 0.75, 0.80],
        "2018-19": [0.60, 0.65, 0.68, 0.70, 0.72],
    }
    looked_after = {"2017-03-31": 700.0, "2018-03-31": 720.0, "2019-03-31": 740.0}
    rows = []
    for rep in range(5):
        for year, values in share.items():
            rows.append(("baseline", rep, "in_house_share_fostering", year, values[rep]))
        for day, value in looked_after.items():
            rows.append(("baseline", rep, "looked_after", day, value + rep))
    summary = pd.DataFrame(rows, columns=["scenario", "replication", "measure", "period", "value"])
    return RunResult(
        summary=summary,
        timeseries=pd.DataFrame(),
        config=_with_targets(raw, targets),
        seed=1,
    )


def test_the_median_meets_a_target_first_in_year_two(base_raw: dict[str, Any]) -> None:
    res = _result(base_raw, [{"measure": "in_house_share_fostering", "value": 0.66}])
    table = target_table(res)
    assert tuple(table.columns) == TARGET_COLUMNS
    (row,) = table.to_dict("records")
    assert row["first_year_met"] == "2017-18"
    assert row["met"]
    assert row["last_year"] == "2018-19"
    assert row["median_last_year"] == pytest.approx(0.68)
    assert row["share_meeting_last_year"] == pytest.approx(0.6)  # 0.68, 0.70, 0.72
    assert row["status"] == "met in 2017-18"


def test_a_target_never_met_says_so_with_the_last_median(base_raw: dict[str, Any]) -> None:
    res = _result(base_raw, [{"measure": "looked_after", "value": 650, "direction": "at_most"}])
    (row,) = target_table(res).to_dict("records")
    assert row["first_year_met"] is None
    assert not row["met"]
    assert row["last_year"] == "2018-19"  # the stock on 31 March 2019
    assert row["median_last_year"] == pytest.approx(742)
    assert row["share_meeting_last_year"] == 0
    assert row["status"].startswith("not met: the median is 742 in 2018-19")


def test_a_target_met_after_its_deadline_is_not_met(base_raw: dict[str, Any]) -> None:
    late = {"measure": "in_house_share_fostering", "value": 0.66, "by": "2016-17"}
    (row,) = target_table(_result(base_raw, [late])).to_dict("records")
    assert row["first_year_met"] == "2017-18"
    assert not row["met"]
    assert row["status"] == "not met by 2016-17: the median first meets it in 2017-18"


def test_a_deadline_after_the_run_is_named(base_raw: dict[str, Any]) -> None:
    far = {"measure": "in_house_share_fostering", "value": 0.9, "by": "2025-26"}
    (row,) = target_table(_result(base_raw, [far])).to_dict("records")
    assert "the run ends in 2018-19, before 2025-26" in row["status"]


def test_one_line_per_target_for_the_run_summary(base_raw: dict[str, Any]) -> None:
    res = _result(
        base_raw,
        [
            {"measure": "in_house_share_fostering", "value": 0.66, "label": "66:34"},
            {"measure": "looked_after", "value": 650, "direction": "at_most"},
        ],
    )
    lines = target_lines(target_table(res))
    assert lines[0] == (
        "66:34: in_house_share_fostering at least 0.66: met in 2017-18; "
        "60% of replications meet it in 2018-19"
    )
    assert lines[1].startswith("looked_after at most 650: not met")


def test_no_targets_give_an_empty_table(base_raw: dict[str, Any]) -> None:
    res = _result(base_raw, [])
    assert target_table(res).empty
    assert report._targets(res) == []


def test_the_report_shows_the_targets(base_raw: dict[str, Any]) -> None:
    res = _result(base_raw, [{"measure": "in_house_share_fostering", "value": 0.66}])
    html = "\n".join(report._targets(res))
    assert "<h3>Targets</h3>" in html and "met in 2017-18" in html


# ------------------------------------------------------------------- run


def test_caresim_run_says_whether_the_target_is_met(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = small_baseline(years=2, referral_scale=0.15, population_scale=0.15)
    data["targets"] = [
        {"measure": "in_house_share_fostering", "value": 1.0, "label": "all in-house"}
    ]
    path = tmp_path / "aim.toml"
    path.write_text(dumps(data))
    out_dir = tmp_path / "out"
    args = ["run", str(path), "-n", "2", "--seed", "3", "--out", str(out_dir)]
    assert caresim([*args, "--backend", "serial"]) == 0
    out = capsys.readouterr().out
    assert "Targets (median across replications)" in out
    assert re.search(
        r"all in-house: in_house_share_fostering at least 1: not met: the median is \d+% in "
        r"2017-18, the target 100%; 0% of replications meet it in 2017-18",
        out,
    )
