"""What ``caresim validate`` (and the report's "Config and assumptions") says about a config.

Every dated schedule must be shown as its steps, not its start value: a planner
reading the edge-of-care scenario must see the places it opens, and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel

from sim.cli.main import main as caresim
from sim.config import Config, Schedule, load_config, with_overrides
from sim.report import html as report
from sim.results.run_result import RunResult

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "worcestershire-2016.toml"
SCENARIOS = sorted((ROOT / "configs" / "scenarios").glob("*.toml"))


# ------------------------------------------------------------ the wording


def test_a_constant_schedule_is_its_value() -> None:
    assert Schedule.model_validate(230).describe(unit=" places") == "230 places"
    assert Schedule.model_validate({"2016-04-01": 230}).describe() == "230"


def test_a_dated_schedule_gives_every_step_until_the_day_before_the_next() -> None:
    s = Schedule.model_validate(
        {"2016-04-01": 230, "2017-04-01": 270, "2018-04-01": 310, "2019-04-01": 345}
    )
    assert s.describe(unit=" places") == (
        "230 places until 2017-03-31, then 270 until 2018-03-31, then 310 until 2019-03-31, "
        "then 345"
    )


def test_the_formatter_writes_every_value_and_the_unit_follows_the_first() -> None:
    s = Schedule.model_validate({"2016-04-01": 0.22, "2017-10-01": 0.3})
    assert s.describe(lambda v: f"P{100 * v:.0f}") == "P22 until 2017-09-30, then P30"
    money = Schedule.model_validate({"2016-04-01": 3984, "2017-04-01": 3665})
    assert money.describe(lambda v: f"£{v:,.0f}", "/week") == (
        "£3,984/week until 2017-03-31, then £3,665"
    )


def test_a_step_repeating_the_value_before_it_is_left_out() -> None:
    s = Schedule.model_validate({"2016-04-01": 0, "2017-01-01": 0, "2017-04-01": 12})
    assert s.describe(unit=" places") == "0 places until 2017-03-31, then 12"


def test_the_product_of_two_schedules_changes_on_the_dates_of_either() -> None:
    cost = Schedule.model_validate({"2016-04-01": 100, "2018-04-01": 200})
    mult = Schedule.model_validate({"2016-04-01": 1, "2017-04-01": 0.5})
    assert cost.times(mult).describe() == "100 until 2017-03-31, then 50 until 2018-03-31, then 100"


# ------------------------------------------------- every scenario, every schedule


def _schedules(model: BaseModel, path: str = "") -> Iterator[tuple[str, Schedule]]:
    """Every schedule in a config, with its dotted key path."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        here = f"{path}.{name}" if path else name
        items: list[tuple[str, object]]
        if isinstance(value, dict):
            items = [(f"{here}.{k}", v) for k, v in value.items()]
        elif isinstance(value, tuple):
            items = [(f"{here}[{i}]", v) for i, v in enumerate(value)]
        else:
            items = [(here, value)]
        for key, item in items:
            if isinstance(item, Schedule):
                yield key, item
            elif isinstance(item, BaseModel):
                yield from _schedules(item, key)


def _format_for(key: str) -> Callable[[float], str]:
    """How describe() writes a value of the schedule at ``key``."""
    name = key.rsplit(".", 1)[-1]
    if name in {"rate_per_year", "arrivals_per_year"}:
        return lambda v: f"{v:,.0f}"
    if name == "gbp":  # the UASC grant per day of an age band
        return lambda v: f"£{v:,.0f}"
    if name.endswith("_percentile"):
        return lambda v: f"P{round(100 * v, 2):g}"
    if name == "weekly_cost_gbp":
        return lambda v: f"£{v:,.0f}"
    if name in {"capacity", "fte", "cost_multiplier"}:
        return lambda v: f"{v:g}"
    raise AssertionError(f"{key}: a schedule this test does not know; say how describe() shows it")


def _shown(cfg: Config, key: str, schedule: Schedule) -> Schedule:
    """The schedule describe() words: a scheduled weekly cost times its price multiplier."""
    if key.endswith(".weekly_cost_gbp"):
        type_name = key.split(".")[1]
        return schedule.times(cfg.placement_types[type_name].cost_multiplier)
    return schedule


def _validate_output(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert caresim(["validate", str(path)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_validate_shows_every_step_of_every_dated_schedule(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = load_config(path)
    out = _validate_output(path, capsys)
    assert out.startswith(f"{path}: valid")
    assert cfg.describe() in out
    for key, schedule in _schedules(cfg):
        shown = _shown(cfg, key, schedule)
        if shown.is_constant:
            continue
        fmt = _format_for(key)
        # The unit follows the first value only, so look for what comes after it.
        steps = shown.describe(fmt).split(" until ", 1)[1]
        assert f" until {steps}" in out, f"{path.name}: {key} is not shown as its steps"
        assert fmt(shown.initial()) in out
        for day, value in shown.steps[1:]:
            until = (day - dt.timedelta(days=1)).isoformat()
            assert f"until {until}" in out, f"{path.name}: {key} hides its change on {day}"
            assert fmt(value) in out, f"{path.name}: {key} hides its value {value:g}"


def test_most_scenarios_have_a_dated_lever_for_the_test_above_to_check() -> None:
    # The test above is only as good as the scenarios it reads: most levers are dated.
    dated = [p for p in SCENARIOS if any(not s.is_constant for _, s in _schedules(load_config(p)))]
    assert len(dated) >= 6


@pytest.mark.parametrize(
    ("scenario", "line"),
    [
        ("edge-of-care", "  edge of care: 0 places until 2016-09-30, then 15"),
        ("revised-thresholds", "assessment above P22 until 2016-12-31, then P32 of observed need"),
        ("lower-caseloads", "  social workers: 205 FTE until 2017-03-31, then 235"),
        ("homes-closure-6-to-2", "      places: 22 places until 2019-03-31, then 8"),
        ("intensive-fostering", "      places: 0 places until 2016-09-30, then 4"),
    ],
)
def test_validate_lines_of_the_scenarios(
    scenario: str, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _validate_output(ROOT / "configs" / "scenarios" / f"{scenario}.toml", capsys)
    assert any(line in x for x in out.splitlines()), out


def test_the_high_cost_panel_shows_its_price_cut_and_its_cap(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _validate_output(ROOT / "configs" / "scenarios" / "high-cost-panel.toml", capsys)
    (line,) = [x for x in out.splitlines() if x.strip().startswith("resi_external")]
    assert "until 2017-03-31, then £" in line
    assert "each stay capped at £15,000/week" in line
    assert "price multiplier 1 until 2017-03-31, then 0.92" in line


def test_the_mean_of_a_capped_cost_is_below_the_uncapped_mean() -> None:
    cfg = load_config(BASELINE)
    capped = with_overrides(cfg, {"placement_types.resi_external.weekly_cost_gbp.maximum": 4000})
    (line,) = [x for x in capped.describe().splitlines() if "resi_external" in x]
    mean = float(line.split("on average £")[1].split("/week")[0].replace(",", ""))
    assert mean < 4000 < cfg.placement_types["resi_external"].weekly_cost_gbp.expected() + 100


def test_the_report_shows_the_same_description() -> None:
    cfg = load_config(ROOT / "configs" / "scenarios" / "edge-of-care.toml")
    empty = pd.DataFrame(columns=["scenario", "replication", "measure", "period", "value"])
    res = RunResult(summary=empty, timeseries=pd.DataFrame(), config=cfg, seed=1)
    section = report._config_section(res)
    assert "edge of care: 0 places until 2016-09-30, then 15" in section
