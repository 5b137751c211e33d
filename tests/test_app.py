"""The planner's page: its pure functions, and the page itself driven in headless Chromium.

The browser test starts ``caresim app`` in a subprocess on a free local port
and drives it with Playwright's sync API through Debian's ``/usr/bin/chromium``
(Playwright's own browser download is not used). It takes a screenshot of
each step into ``results/app-screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.app import levers as lv
from sim.defaults import DEFAULT_SEED
from sim.errors import ConfigError
from sim.results.manifest import config_json

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "configs" / "worcestershire-2016.toml"
SHOTS = ROOT / "results" / "app-screenshots"
FOSTER = "placement_types.foster_in_house.capacity"


@pytest.fixture(scope="module")
def cfg() -> sim.Config:
    return sim.load_config(BASE)


# ------------------------------------------------------------ pure functions


def test_levers_cover_the_planner_groups(cfg):
    levers = lv.levers_of(cfg)
    keys = {x.key for x in levers}
    assert {x.group for x in levers} == set(lv.GROUPS)
    # Capacity for each finite type, none for unlimited ones.
    finite = {n for n, p in cfg.placement_types.items() if p.capacity is not None}
    assert {k.split(".")[1] for k in keys if k.endswith(".capacity") and "placement" in k} == finite
    assert "placement_types.foster_ifa.capacity" not in keys
    # A cost distribution has no lever; a number does.
    assert "placement_types.resi_external.weekly_cost_gbp" not in keys
    assert "placement_types.foster_ifa.weekly_cost_gbp" in keys
    for key in (
        "front_door.early_help_above_percentile",
        "front_door.assessment_above_percentile",
        "edge_of_care.capacity",
        "workforce.fte",
    ):
        assert key in keys
    foster = next(x for x in levers if x.key == FOSTER)
    assert (foster.now, foster.unit, foster.step_date) == (230, "places", None)
    assert foster.baseline_text == "230 places"


def test_baseline_form_gives_no_overrides(cfg):
    levers = lv.levers_of(cfg)
    assert lv.overrides_from_form(cfg, levers, lv.baseline_form(levers)) == {}
    assert lv.run_overrides(cfg, years=5) == {}
    assert lv.run_overrides(cfg, years=1) == {"run.years": 1}


def test_form_to_overrides_to_config(cfg):
    levers = lv.levers_of(cfg)
    form = lv.baseline_form(levers)
    form[FOSTER] = lv.LeverValue(240, "2017-04-01", 270)
    form["workforce.fte"] = lv.LeverValue(215)
    form["front_door.assessment_above_percentile"] = lv.LeverValue(0.22, "", 0.5)  # no date
    ov = lv.overrides_from_form(cfg, levers, form)
    assert ov == {FOSTER: {"2016-04-01": 240, "2017-04-01": 270}, "workforce.fte": 215}
    base, scen = lv.scenario_configs(cfg, {"run.years": 2}, ov)
    assert base.run.years == 2 and scen is not None and scen.run.years == 2
    assert scen.placement_types["foster_in_house"].capacity.describe() == (
        "240 until 2017-03-31, then 270"
    )
    assert scen.workforce.fte.initial() == 215
    assert lv.scenario_configs(cfg, {}, {}) == (cfg, None)


def test_invalid_values_raise_the_config_layers_error(cfg):
    levers = lv.levers_of(cfg)
    form = lv.baseline_form(levers)
    form[FOSTER] = lv.LeverValue(-5)
    ov = lv.overrides_from_form(cfg, levers, form)
    with pytest.raises(ConfigError, match="must be >= 0") as info:
        lv.scenario_configs(cfg, {}, ov)
    errors = lv.lever_errors(levers, [FOSTER], info.value)
    foster_id = "lv_placement_types__foster_in_house__capacity"
    assert errors == {
        foster_id: f"{FOSTER} = -5: schedule values must be >= 0, got -5.0",
    }
    # An empty field, and a step date without its value, are refused here, naming the key.
    form[FOSTER] = lv.LeverValue(None)
    with pytest.raises(ConfigError, match="enter a number") as info:
        lv.overrides_from_form(cfg, levers, form)
    assert info.value.key == FOSTER
    form[FOSTER] = lv.LeverValue(230, "2017-04-01", None)
    with pytest.raises(ConfigError, match="enter the value from 2017-04-01"):
        lv.overrides_from_form(cfg, levers, form)
    # A rule across a section goes beside the changed levers of that section.
    form = lv.baseline_form(levers)
    form["front_door.early_help_above_percentile"] = lv.LeverValue(0.5)
    ov = lv.overrides_from_form(cfg, levers, form)
    with pytest.raises(ConfigError) as info:
        lv.scenario_configs(cfg, {}, ov)
    changed = lv.changed_keys(levers, form)
    assert list(lv.lever_errors(levers, changed, info.value)) == [
        "lv_front_door__early_help_above_percentile"
    ]


def test_scenario_toml_holds_only_the_changes_and_validates(cfg, tmp_path):
    ov = {FOSTER: {"2016-04-01": 230, "2017-04-01": 260}, "edge_of_care.capacity": 10}
    path = lv.save_scenario(
        {**ov, "run.years": 1}, baseline=BASE, folder=tmp_path / "scen", name="More carers!"
    )
    assert path.name == "more-carers.toml"
    data = tomllib.loads(path.read_text())
    assert data == {
        "extends": os.path.relpath(BASE, tmp_path / "scen"),
        "placement_types": {"foster_in_house": {"capacity": ov[FOSTER]}},
        "edge_of_care": {"capacity": 10},
        "run": {"years": 1},
    }
    loaded = sim.load_config(path)
    _base, expected = lv.scenario_configs(cfg, {"run.years": 1}, ov)
    assert config_json(loaded) == config_json(expected)
    with pytest.raises(sim.CaresimError, match="nothing to save"):
        lv.save_scenario({}, baseline=BASE, folder=tmp_path, name="x")


def test_results_cache_and_tables(cfg):
    from sim.app import results as rs

    base, scen = lv.scenario_configs(cfg, {"run.years": 1}, {FOSTER: 300})
    cache, progress = rs.RunCache(), rs.Progress()
    o = rs.compute(base, scen, seed=3, replications=2, cache=cache, progress=progress)
    assert o.error is None and (progress.done, progress.total) == (4, 4)
    again = rs.compute(base, scen, seed=3, replications=2, cache=cache)
    assert again.cached == 2 and again.base is o.base
    d = rs.difference_frame(o)
    row = d[(d["measure"] == "cost_external_placements_gbp") & (d["period"] == "2016-17")].iloc[0]
    assert row["mean"] < 0 and row["share_lower"] == 1.0
    assert "lower in 100% of 2 replications" in rs.difference_meaning(o)
    wide = rs.wide_stats(o.base)
    assert "Total spend: median (£ a financial year)" in wide.columns
    assert rs.compute(base, None, seed=3, replications=0, cache=cache).error


def test_missing_shiny_gives_the_install_message(monkeypatch, capsys):
    from sim.cli import main as cli

    real = __import__

    def fake(name, *args, **kwargs):
        if name == "uvicorn" or name.startswith("shiny"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr("builtins.__import__", fake)
    assert cli.main(["app", "--port", str(_free_port())]) == 2
    err = capsys.readouterr().err
    assert "caresim[app]" in err and "Traceback" not in err


def test_app_command_prints_its_address_and_warns_off_localhost(monkeypatch, capsys):
    pytest.importorskip("uvicorn", reason="the app needs shiny: pip install 'caresim[app]'")
    import uvicorn

    from sim.cli.main import main

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw))
    port = _free_port()
    assert main(["app", "--port", str(port)]) == 0
    out = capsys.readouterr()
    assert f"http://127.0.0.1:{port}" in out.out and out.err == ""
    assert served == [{"host": "127.0.0.1", "port": port, "log_level": "warning"}]
    assert main(["app", "--host", "0.0.0.0", "--port", str(port)]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "no login" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert main(["app", "--port", str(taken)]) == 2
    assert "choose another --port" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["app", "--help"])
    assert info.value.code == 0 and "--host" in capsys.readouterr().out


# ------------------------------------------------------------------ browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chromium() -> str | None:
    for path in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if path and Path(path).exists():
            return path
    return None


@contextmanager
def _serve(folder: Path) -> Iterator[tuple[str, Path]]:
    """``caresim app`` on a free port, saving scenarios under ``folder``; yields (url, folder)."""
    pytest.importorskip("shiny", reason="the app needs shiny: pip install 'caresim[app]'")
    pytest.importorskip("openpyxl", reason="downloads need openpyxl: pip install 'caresim[app]'")
    port = _free_port()
    logfile = (folder / "server.log").open("w")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "sim.cli.main", "app", "--port", str(port)),
            *("--scenarios", str(folder / "scenarios"), "--backend", "serial"),
        ],
        cwd=ROOT,
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("caresim app did not start:\n" + (folder / "server.log").read_text())
            time.sleep(0.3)
    try:
        yield url, folder
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        logfile.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with _serve(tmp_path_factory.mktemp("app")) as served:
        yield served


@pytest.fixture
def fresh_server(tmp_path):
    with _serve(tmp_path) as served:
        yield served


def _playwright() -> tuple[object, str]:
    """Playwright's sync API and the chromium to drive, or skip saying what is missing."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs playwright: pip install 'caresim[dev]'"
    )
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium at /usr/bin/chromium (apt-get install chromium); CI installs it")
    return sync_api, chromium


def _shot(page, name: str, *, whole: bool = False) -> None:
    """Screenshot the window, or with ``whole`` the page grown to show all the main column."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    if whole:
        height = page.evaluate("document.querySelector('.main').scrollHeight")
        page.set_viewport_size({"width": size["width"], "height": int(height) + 80})
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def test_page_end_to_end(server):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs playwright: pip install 'caresim[dev]'"
    )
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium at /usr/bin/chromium (apt-get install chromium); CI installs it")
    url, folder = server
    foster = "#lv_placement_types__foster_in_house__capacity"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)

        # 1. The page opens with the baseline's levers.
        page.goto(url)
        page.wait_for_selector(f"{foster}_now")
        assert page.input_value(f"{foster}_now") == "230"
        assert "baseline: 230 places" in page.inner_text("#levers")
        _shot(page, "1-page")

        # 2. Levers: more in-house foster places; a short run.
        page.fill("#years", "1")
        page.fill("#replications", "3")
        page.fill(f"{foster}_now", "300")
        expect = sync_api.expect
        expect(page.locator("#plan_text")).to_contain_text(f"{FOSTER} = 300")
        expect(page.locator("#plan_text")).to_contain_text("run.years = 1")
        _shot(page, "2-levers")

        # 3. Run: the fan chart and the paired difference appear.
        page.click("#run")
        page.wait_for_selector("#fan img")
        page.wait_for_selector("#difference img")
        page.wait_for_selector("#difference_meaning")
        meaning = page.inner_text("#difference_meaning")
        assert "lower in" in meaning and "of 3 replications" in meaning
        _shot(page, "3-results", whole=True)
        scenario_table = page.inner_text("#key_tables")

        # 4. An invalid value: the config layer's message beside the field, no traceback.
        page.fill(f"{foster}_now", "-5")
        err = page.locator(
            '.lever-error[data-lever="lv_placement_types__foster_in_house__capacity"]'
        )
        expect(err).to_contain_text("schedule values must be >= 0")
        assert "Traceback" not in page.content()
        _shot(page, "4-invalid")
        page.fill(f"{foster}_now", "300")
        expect(err).to_have_text("")

        # 5. Save the scenario; download the Excel workbook.
        page.fill("#scenario_name", "More in-house carers")
        page.click("#save")
        page.wait_for_selector("#saved_path")
        saved = Path(page.inner_text("#saved_path"))
        with page.expect_download() as dl:
            page.click("#dl_xlsx")
        xlsx = folder / "results.xlsx"
        dl.value.save_as(xlsx)
        _shot(page, "5-saved", whole=True)

        # An uploaded baseline: its levers replace the bundled one's; a bad file says why.
        own = folder / "my-county.toml"
        own.write_text(BASE.read_text().replace("capacity = 230 ", "capacity = 250 ", 1))
        page.set_input_files("#upload", str(own))
        expect(page.locator(f"{foster}_now")).to_have_value("250")
        bad = folder / "broken.toml"
        bad.write_text("[run\nname = 1")
        page.set_input_files("#upload", str(bad))
        expect(page.locator("#baseline_info")).to_contain_text("broken.toml: not valid TOML")
        assert "Traceback" not in page.content() and "caresim-upload-" not in page.content()
        browser.close()

    log = (folder / "server.log").read_text()
    assert "Traceback" not in log, log

    # The saved file holds only the changes, validates, and reproduces the page.
    assert saved.parent == folder / "scenarios"
    data = tomllib.loads(saved.read_text())
    assert data["placement_types"] == {"foster_in_house": {"capacity": 300}}
    assert data["run"] == {"years": 1}
    cfg = sim.load_config(saved)
    again = sim.run(cfg, replications=3, seed=DEFAULT_SEED)
    st = again.summary_stats()
    total = st[(st["measure"] == "cost_total_gbp") & (st["period"] == "2016-17")].iloc[0]

    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert {"about", "baseline", "scenario", "difference", "replications"} <= set(sheets)
    row = sheets["scenario"].set_index("financial year").loc["2016-17"]
    assert row["Total spend: median (£ a financial year)"] == pytest.approx(total["p50"])
    from sim.analysis.measures import format_value

    assert format_value(total["p50"], "gbp") in scenario_table


def _table(page, selector: str) -> pd.DataFrame:
    """An HTML table on the page, read back as text cells."""
    rows = page.evaluate(
        "s => [...document.querySelectorAll(s + ' tr')].map("
        "r => [...r.children].map(c => c.innerText.trim()))",
        selector,
    )
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_saved_scenarios_ranked_and_budget_in_browser(fresh_server):
    sync_api, chromium = _playwright()
    from sim.analysis.comparison import compare, trim_partial
    from sim.analysis.measures import format_value

    url, folder = fresh_server
    foster = "#lv_placement_types__foster_in_house__capacity"
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_selector(f"{foster}_now")
        expect(page.locator("#saved_list")).to_contain_text("No scenario saved")
        page.fill("#years", "1")
        page.fill("#replications", "3")

        # The results show spend against the baseline's [budgets] (placements, 2016-17).
        page.click("#run")
        page.wait_for_selector("#budget_table")
        budget = _table(page, "#budget_table")
        assert list(budget["cost line"]) == ["Placement spend"]
        assert list(budget["budget"]) == ["£38.0m"] and list(budget["year"]) == ["2016-17"]
        page.locator("#budget_block").scroll_into_view_if_needed()
        _shot(page, "6-budget")

        # Save two scenarios; the list shows them.
        for places in (260, 300):
            page.fill(f"{foster}_now", str(places))
            expect(page.locator("#plan_text")).to_contain_text(f"{FOSTER} = {places}")
            page.fill("#scenario_name", f"foster {places}")
            page.click("#save")
            expect(page.locator("#saved_path")).to_contain_text(f"foster-{places}.toml")
        expect(page.locator("#saved_files")).to_contain_text("foster-300.toml")
        expect(page.locator("#saved_files")).to_contain_text("foster-260.toml")

        page.click("#rank")
        page.wait_for_selector("#rank_table")
        shown = _table(page, "#rank_table")
        with page.expect_download() as dl:
            page.click("#dl_rank")
        ranking_csv = folder / "ranking.csv"
        dl.value.save_as(ranking_csv)
        page.locator("#rank_block").scroll_into_view_if_needed()
        page.evaluate("document.activeElement.blur()")
        page.mouse.move(5, 5)
        _shot(page, "7-ranked")
        browser.close()
    assert "Traceback" not in (folder / "server.log").read_text()

    # More places cost less: 300 ranks first by total spend.
    assert list(shown["scenario"]) == ["foster-300", "foster-260"]
    assert list(shown["total spend: rank"]) == ["1", "2"]
    got = pd.read_csv(ranking_csv).set_index("scenario")

    # Every number is compare() of sim.run on the saved files, same seed and n.
    base = sim.run(sim.load_config(BASE, {"run.years": 1}), replications=3, seed=DEFAULT_SEED)
    for name in ("foster-260", "foster-300"):
        cfg = sim.load_config(folder / "scenarios" / f"{name}.toml")
        scen = sim.run(cfg, replications=3, seed=DEFAULT_SEED, scenario=name)
        d = compare(trim_partial(base), trim_partial(scen))
        row = shown.set_index("scenario").loc[name]
        for measure, stem, what, period in (
            ("cost_total_gbp", "spend", "total spend", "2016-17"),
            ("looked_after", "looked_after", "looked after", "2017-03-31"),
        ):
            r = d[(d["measure"] == measure) & (d["period"] == period)].iloc[0]
            style = "gbp" if stem == "spend" else "count"
            assert got.loc[name, f"{stem}_period"] == period
            assert got.loc[name, f"{stem}_mean"] == pytest.approx(r["mean"])
            assert got.loc[name, f"{stem}_ci95_low"] == pytest.approx(r["ci95_low"])
            assert got.loc[name, f"{stem}_ci95_high"] == pytest.approx(r["ci95_high"])
            assert row[f"{what}: difference"] == format_value(r["mean"], style, signed=True)
            pairs = scen.summary.merge(
                base.summary, on=["measure", "period", "replication"], suffixes=("", "_b")
            )
            pairs = pairs[(pairs["measure"] == measure) & (pairs["period"].astype(str) == period)]
            lower = float((pairs["value"] < pairs["value_b"]).mean())
            assert got.loc[name, f"{stem}_share_lower"] == pytest.approx(lower)
            assert row[f"{what}: lower in"] == f"{lower:.0%}"


def test_a_running_batch_can_be_cancelled_in_browser(fresh_server):
    sync_api, chromium = _playwright()
    url, folder = fresh_server
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_selector("#lv_placement_types__foster_in_house__capacity_now")
        page.fill("#years", "1")
        page.fill("#replications", "500")  # minutes of work: long enough to cancel
        page.click("#run")
        expect(page.locator("#run_progress")).to_contain_text(" of 500 replications")
        started = time.monotonic()
        page.click("#cancel")
        expect(page.locator("#run_cancelled")).to_contain_text("Run cancelled")
        assert time.monotonic() - started < 30
        page.evaluate("document.activeElement.blur()")
        _shot(page, "8-cancelled")
        # The page stays usable: a short run goes through.
        page.fill("#replications", "2")
        page.click("#run")
        expect(page.locator("#run_done")).to_contain_text("2 replications of the baseline")
        page.wait_for_selector("#fan img")
        browser.close()
    assert "Traceback" not in (folder / "server.log").read_text()


def test_cancel_stops_a_batch_between_replications(cfg):
    from sim.app import results as rs

    base, _ = lv.scenario_configs(cfg, {"run.years": 1}, {})
    progress, cache = rs.Progress(), rs.RunCache()
    progress.reset(5)
    progress.cancel()
    with pytest.raises(rs.RunCancelled):
        progress.step()
    # A cancel asked for before the worker starts holds; one during the batch stops it.
    assert rs.compute(base, None, seed=1, replications=2, cache=cache, progress=progress).cancelled
    r = rs.rank_scenarios(base, [], seed=1, replications=2, cache=cache, progress=progress)
    assert r.cancelled
    progress.reset(2)
    assert not progress.cancelled
    calls = []

    class Stopper(rs.Progress):
        def step(self, _item=None):
            calls.append(1)
            self.cancel()
            super().step()

    o = rs.compute(base, None, seed=1, replications=4, cache=cache, progress=Stopper())
    assert o.cancelled and o.base is None and len(calls) == 1
    assert rs.compute(base, None, seed=1, replications=1, cache=cache).base is not None


def test_budget_and_target_tables(cfg):
    from sim.analysis.budgets import budget_frame
    from sim.analysis.measures import format_range, format_value
    from sim.app import results as rs

    base, _ = lv.scenario_configs(cfg, {"run.years": 1}, {})
    o = rs.compute(base, None, seed=2, replications=2, cache=rs.RunCache())
    table = rs.budget_table(o)
    raw = budget_frame(o.base).iloc[0]
    assert table.to_dict("records") == [
        {
            "run": "baseline",
            "cost line": "Placement spend",
            "year": "2016-17",
            "budget": "£38.0m",
            "spend: median": format_value(raw["median_gbp"], "gbp"),
            "spend: P10–P90": format_range(raw["p10_gbp"], raw["p90_gbp"], "gbp"),
            "median over budget": format_value(raw["median_over_gbp"], "gbp", signed=True),
            "over budget in": f"{raw['p_over']:.0%} of 2",
        }
    ]
    assert rs.target_text(o) == []
    # A scenario with [[targets]] gets target_lines' sentences; a budget-free one no table.
    fostering = sim.load_config(
        ROOT / "configs" / "scenarios" / "fostering-ratio-66-34.toml", {"run.years": 1}
    )
    o2 = rs.compute(base, fostering, seed=2, replications=2, cache=rs.RunCache())
    from sim.analysis.targets import target_lines, target_table

    assert rs.target_text(o2) == target_lines(target_table(o2.scenario))
    assert rs.target_text(o2) and "66" in rs.target_text(o2)[0]
    no_budget = sim.with_overrides(base, {"budgets": {}})
    o3 = rs.compute(no_budget, None, seed=2, replications=1, cache=rs.RunCache())
    assert rs.budget_table(o3).empty


def test_saved_scenarios_are_listed_and_ranked(cfg, tmp_path):
    from sim.app import results as rs

    base, _ = lv.scenario_configs(cfg, {"run.years": 1}, {})
    for places in (300, 260):
        lv.save_scenario(
            {FOSTER: places, "run.years": 1}, baseline=BASE, folder=tmp_path, name=f"f{places}"
        )
    (tmp_path / "mine-baseline.toml").write_text(BASE.read_text())
    (tmp_path / "broken.toml").write_text("[run")
    paths = rs.saved_scenarios(tmp_path)
    assert [p.name for p in paths] == ["broken.toml", "f260.toml", "f300.toml"]
    assert rs.saved_scenarios(tmp_path / "none") == []
    cache = rs.RunCache()
    r = rs.rank_scenarios(base, paths, seed=4, replications=2, cache=cache)
    assert list(r.frame["scenario"]) == ["f300", "f260"] and list(r.frame["spend_rank"]) == [1, 2]
    assert list(r.errors) == ["broken.toml"] and "not valid TOML" in r.errors["broken.toml"]
    assert set(r.frame["looked_after_period"]) == {"2017-03-31"}
    shown = rs.rank_table(r)
    assert list(shown.columns[:3]) == ["scenario", "total spend: rank", "total spend: year"]
    # Cached: ranking again runs nothing.
    again = rs.rank_scenarios(base, paths[1:], seed=4, replications=2, cache=cache)
    assert again.seconds < 1.0
    pd.testing.assert_frame_equal(again.frame, r.frame)
