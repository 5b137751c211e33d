"""Loading results, paired comparison, and the HTML report (contents and a browser render)."""

from __future__ import annotations

import argparse
import doctest
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from model_configs import small_baseline
from tomlkit import dumps

import sim
from sim.analysis import comparison as analysis
from sim.cli.analysis import add_report_arguments, report_command
from sim.cli.main import main as caresim
from sim.errors import CaresimError
from sim.report import html as report
from sim.results.reader import load_results

SEED = 11
REPS = 4


def _small(in_house_places: object, name: str) -> dict:
    data = small_baseline(years=2, referral_scale=0.15, population_scale=0.15)
    data["placement_types"]["foster_in_house"]["capacity"] = in_house_places
    data["run"]["name"] = name
    return data


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Configs and the results folders `caresim run` and `caresim compare` write for them."""
    root = tmp_path_factory.mktemp("results")
    base_toml = root / "small-county.toml"
    base_toml.write_text(dumps(_small(35, "Small county")))
    scen_toml = root / "more-carers.toml"
    scen_toml.write_text(
        dumps(_small({"2016-04-01": 35, "2017-04-01": 70}, "More carers from April 2017"))
    )
    out = {"base_toml": base_toml, "scen_toml": scen_toml}
    for name, toml in (("base", base_toml), ("scenario", scen_toml)):
        out[name] = root / name
        args = ["run", str(toml), "-n", str(REPS), "--seed", str(SEED), "--out", str(out[name])]
        assert caresim([*args, "--backend", "serial", "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def base(folders) -> sim.RunResult:
    return load_results(folders["base"])


@pytest.fixture(scope="module")
def scenario(folders) -> sim.RunResult:
    return load_results(folders["scenario"])


# ------------------------------------------------------------------ loading


def test_load_results_gives_the_numbers_of_an_in_memory_run(folders, base) -> None:
    again = sim.run(sim.load_config(folders["base_toml"]), replications=REPS, seed=SEED)
    key = ["replication", "measure", "period"]
    a = base.summary.sort_values(key).reset_index(drop=True)
    b = again.summary.sort_values(key).reset_index(drop=True)
    assert a[key].astype(str).equals(b[key].astype(str))
    assert np.allclose(a["value"], b["value"], equal_nan=True)
    assert base.seed == SEED and base.replications == REPS
    assert base.config.run.name == "Small county"
    assert len(base.timeseries) == len(again.timeseries)


def test_load_results_reads_csv_tables(base, tmp_path: Path) -> None:
    base.summary.to_csv(tmp_path / "summary.csv", index=False)
    base.timeseries.to_csv(tmp_path / "timeseries.csv", index=False)
    (tmp_path / "manifest.json").write_text(json.dumps(base.manifest, default=str))
    loaded = load_results(tmp_path)
    assert set(loaded.summary["period"]) == set(base.summary["period"])
    assert "2016-17" in set(loaded.summary["period"])
    assert str(loaded.timeseries["date"].dtype).startswith("datetime64")
    assert np.allclose(loaded.timeseries["value"], base.timeseries["value"], equal_nan=True)


def test_load_results_reads_per_chunk_parts_when_no_combined_table(base, tmp_path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for a, b in ((0, 1), (2, 3)):
        sel = base.summary["replication"].between(a, b)
        base.summary[sel].to_parquet(parts / f"summary-{a:06d}-{b:06d}.parquet")
    (tmp_path / "manifest.json").write_text(json.dumps(base.manifest, default=str))
    loaded = load_results(tmp_path)
    assert loaded.replications == REPS
    assert loaded.timeseries.empty


def test_load_results_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(CaresimError, match="no such results folder"):
        load_results(tmp_path / "nowhere")
    with pytest.raises(CaresimError, match=r"no manifest\.json"):
        load_results(tmp_path)
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(CaresimError, match=r"no summary\.parquet or summary\.csv"):
        load_results(tmp_path)


# --------------------------------------------------------------- comparing


def test_compare_is_the_mean_of_per_replication_differences(base, scenario) -> None:
    diff = analysis.compare(base, scenario, measures=["in_house_share_fostering"])
    row = diff[diff["period"] == "2017-18"].iloc[0]
    s_a = base.summary.query("measure == 'in_house_share_fostering' and period == '2017-18'")
    s_b = scenario.summary.query("measure == 'in_house_share_fostering' and period == '2017-18'")
    d = s_b.set_index("replication")["value"] - s_a.set_index("replication")["value"]
    assert row["n"] == REPS
    assert row["mean"] == pytest.approx(d.mean())
    assert row["p10"] == pytest.approx(d.quantile(0.1))
    assert row["ci95_low"] < row["mean"] < row["ci95_high"]
    assert row["mean"] > 0


def test_common_random_numbers_make_differences_zero_before_a_change(base, scenario) -> None:
    diff = analysis.compare(base, scenario)
    first_year = diff[diff["period"] == "2016-17"]
    assert (first_year["mean"] == 0).all() and (first_year["sd"] == 0).all()


def test_compare_refuses_runs_with_different_seeds(base, folders) -> None:
    other = sim.run(sim.load_config(folders["base_toml"]), replications=REPS, seed=SEED + 1)
    with pytest.raises(CaresimError, match=r"different seeds \(11 and 12\).*same --seed"):
        analysis.compare(base, other)


def test_compare_refuses_runs_with_different_replications(base, folders) -> None:
    other = sim.run(sim.load_config(folders["base_toml"]), replications=2, seed=SEED)
    with pytest.raises(CaresimError, match=r"only in base: \[2, 3\]"):
        analysis.compare(base, other)


def test_compare_costs_sums_categories_over_the_horizon(base, scenario) -> None:
    costs = analysis.compare_costs(base, scenario)
    assert "foster_in_house" in set(costs["category"])
    in_house = costs.set_index("category").loc["foster_in_house", "mean"]
    assert in_house > 0  # more in-house places, more spent on them


def test_partial_years_names_the_stub_of_a_part_year_run() -> None:
    cfg = sim.load_config("configs/worcestershire-2016.toml", {"run.years": 2.5})
    # 2.5 × 365.25 = 913 days from 1 April 2016: 183 days of 2018-19.
    assert analysis.partial_years(cfg) == {"2018-19": 183}
    for whole in (2, 3):
        cfg = sim.load_config("configs/worcestershire-2016.toml", {"run.years": whole})
        assert analysis.partial_years(cfg) == {}


def test_key_table_has_one_column_per_financial_year(base) -> None:
    table = analysis.key_table(base)
    assert list(table.columns[:2]) == ["measure", "key"]
    assert list(table.columns[2:]) == ["2016-17", "2017-18"]
    cell = table.set_index("key").loc["looked_after", "2017-18"]
    assert re.fullmatch(r"[\d,]+ \([\d,]+–[\d,]+\)", cell)


def test_docstring_examples_run() -> None:
    for module in (analysis,):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0


# ------------------------------------------------------------------- report


def _imgs(text: str) -> list[str]:
    return re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)


def test_report_embeds_charts_and_tables(folders, tmp_path: Path) -> None:
    path = report.write_report(folders["base"], out=tmp_path / "r.html", budget_gbp=4e6)
    text = path.read_text()
    assert len(_imgs(text)) == 12  # with spend by type, front door, exits and places
    assert text.count("<table") >= 4
    assert "Key results" in text and "Spend against budget" in text
    assert "replications over budget" in text
    assert "<th>2016-17</th>" in text and "<th>2017-18</th>" in text
    assert "Small county" in text


def test_report_describes_the_run_stress_des_style(folders, tmp_path: Path) -> None:
    text = report.write_report(folders["base"], out=tmp_path / "r.html").read_text()
    for phrase in (
        "STRESS-DES",
        f"{REPS} independent replications",
        f"root seed {SEED}",
        "Warm-up",
        "t-interval",
        "git commit",
        "numpy",
        "placement_types.foster_in_house.capacity",  # the resolved config
        "Config file as written",  # with its source notes
    ):
        assert phrase in text, phrase


def test_report_of_a_comparison_leads_with_the_difference(folders, tmp_path: Path) -> None:
    path = report.write_report(
        folders["base"], compare_dir=folders["scenario"], out=tmp_path / "c.html"
    )
    text = path.read_text()
    assert text.index("What changes") < text.index("Base:") < text.index("Scenario:")
    assert "What the scenario changes" in text
    assert "placement_types.foster_in_house.capacity" in text
    assert "35 until 2017-03-31, then 70" in text  # a schedule in words, not JSON
    assert "Common random numbers" in text
    assert "In-house share of fostering days (2017-18)" in text  # a headline sentence
    assert len(_imgs(text)) >= 8 + 8 + 5


def test_report_of_unpaired_runs_is_an_error(folders, tmp_path: Path) -> None:
    other = tmp_path / "other"
    args = ["run", str(folders["base_toml"]), "-n", "2", "--seed", "5", "--out", str(other)]
    assert caresim([*args, "--backend", "serial", "-q"]) == 0
    with pytest.raises(CaresimError, match="different seeds"):
        report.write_report(folders["base"], compare_dir=other, out=tmp_path / "x.html")


def test_report_of_a_compare_folder(folders, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    args = [
        "compare",
        str(folders["base_toml"]),
        str(folders["scen_toml"]),
        "-n",
        "3",
        "--seed",
        str(SEED),
        "--out",
        str(out),
    ]
    try:
        code = caresim([*args, "--backend", "serial", "-q"])
    except SystemExit:
        pytest.skip("this caresim has no `compare` command")
    assert code == 0
    text = report.write_report(out).read_text()
    assert "What changes: More carers from April 2017 − Small county" in text
    assert "No time series in these results" not in text  # compare keeps the time series
    assert "Children looked after, base and scenario" in text
    assert len(_imgs(text)) >= 8
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(ts["scenario"]) == {"small-county", "more-carers"}
    assert {"looked_after", "cost_gbp", "in_house_utilisation", "entries", "exits"} <= set(
        ts["measure"]
    )
    assert "higher in 0%" not in text and "% of replications" not in text


def test_report_command_writes_the_file_and_says_where(folders, tmp_path, capsys) -> None:
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    out = tmp_path / "deep" / "report.html"
    args = parser.parse_args([str(folders["base"]), "--out", str(out), "--budget-gbp", "4e6"])
    assert report_command(args) == 0
    assert out.exists()
    assert f"Report written to {out}" in capsys.readouterr().out


def test_the_three_commands_fit_one_caresim_parser() -> None:
    from sim.cli.analysis import (
        add_goalseek_arguments,
        add_sensitivity_arguments,
        goalseek_command,
        sensitivity_command,
    )

    parser = argparse.ArgumentParser(prog="caresim")
    sub = parser.add_subparsers(dest="command")
    for name, add, run in (
        ("report", add_report_arguments, report_command),
        ("sensitivity", add_sensitivity_arguments, sensitivity_command),
        ("goalseek", add_goalseek_arguments, goalseek_command),
    ):
        p = sub.add_parser(name)
        add(p)
        p.set_defaults(func=run)
    args = parser.parse_args(["report", "results/x", "--budget-gbp", "5e7"])
    assert args.func is report_command and args.budget_gbp == 5e7
    args = parser.parse_args(
        ["sensitivity", "c.toml", "--param", "a.b=1:2", "--output", "entries", "--method", "sobol"]
    )
    assert args.func is sensitivity_command and args.param == ["a.b=1:2"]
    args = parser.parse_args(
        ["goalseek", "c.toml", "--vary", "k", "--target", "entries>=1", "--by", "2018-19"]
    )
    assert args.func is goalseek_command and args.probability == 0.8


def test_report_rejects_a_negative_budget(folders) -> None:
    with pytest.raises(CaresimError, match="--budget-gbp must be positive"):
        report.write_report(folders["base"], budget_gbp=-1)


def test_difference_table_formats_signed_values_with_units() -> None:
    diff = pd.DataFrame(
        {
            "scenario": ["s"],
            "measure": ["cost_total_gbp"],
            "period": ["2017-18"],
            "n": [10],
            "base_mean": [5e7],
            "scenario_mean": [4.9e7],
            "mean": [-1.25e6],
            "sd": [1e5],
            "p10": [-1.4e6],
            "p50": [-1.2e6],
            "p90": [-1.1e6],
            "share_above_zero": [0.0],
            "ci95_low": [-1.3e6],
            "ci95_high": [-1.2e6],
            "relative_change": [-0.025],
        }
    )
    table = report.difference_table(diff)
    assert table.loc[0, "2017-18"] == "−£1.25m (−£1.30m to −£1.20m)"
    assert report.headlines(diff) == [
        "Total spend (2017-18): £1.25m lower on average (95% CI −£1.30m to −£1.20m); "
        "the scenario is lower in every replication."
    ]


# ------------------------------------------------------ rendered in a browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _screenshot(browser: str, html: Path, png: Path, profile: Path) -> np.ndarray:
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            "--window-size=1000,2600",
            f"--screenshot={png}",
            html.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return mpimg.imread(png)[:, :, :3]


def test_report_shows_its_charts_in_a_browser(folders, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium binary (apt-get install chromium); CI installs it")
    html = report.write_report(folders["base"], out=tmp_path / "report.html")
    text = html.read_text()
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<img [^>]*>", "", text))
    with_charts = _screenshot(browser, html, tmp_path / "with.png", tmp_path / "p1")
    without = _screenshot(browser, bare, tmp_path / "without.png", tmp_path / "p2")
    # The charts' lines and bands are in the palette's blue (#0072B2); text is near black.
    blue = np.array([0x00, 0x72, 0xB2]) / 255
    bands = np.abs(with_charts - blue).max(axis=2) < 0.35
    blue_without = np.abs(without - blue).max(axis=2) < 0.35
    assert bands.sum() > 20_000
    assert bands.sum() > 10 * max(blue_without.sum(), 1)
    # A chart in the first screen: many non-white pixels where the bare page has few.
    nonwhite = (with_charts < 0.95).any(axis=2)
    nonwhite_bare = (without < 0.95).any(axis=2)
    assert nonwhite.sum() - nonwhite_bare.sum() > 50_000


# ------------------------------------------------- summary, layout and print


def test_report_opens_with_a_summary_in_words(folders, tmp_path: Path) -> None:
    text = report.write_report(folders["base"], out=tmp_path / "r.html", budget_gbp=1e6).read_text()
    short = re.search(r"<p class='summary'>(.*?)</p>", text, re.S)
    assert short is not None and text.index("class='summary'") < text.index("<h2>")
    words = short.group(1)
    assert "In 2017-18, the last full financial year" in words
    assert "children looked after on 2018-03-31 (P10–P90" in words
    assert "Total spend in 2017-18 is over its budget of £1.00m in every replication." in words


def test_summary_of_a_comparison_names_its_largest_clear_effects(base, scenario) -> None:
    diff = analysis.compare(analysis.trim_partial(base), analysis.trim_partial(scenario))
    words = report.summary_in_words(base, [("More carers", diff)])
    assert 2 <= len(words) <= 4
    assert words[1].startswith("With More carers, the largest clear effects: ")
    assert re.search(r"(higher|lower) in (every replication|\d+ of \d+ replications)", words[1])


def test_number_cells_do_not_wrap_and_the_page_prints_on_a4(folders, tmp_path: Path) -> None:
    text = report.write_report(folders["base"], out=tmp_path / "r.html").read_text()
    assert "table.num td { white-space: nowrap; }" in text
    assert '<table class="dataframe num">' in text
    css = text[text.index("@media print") :]
    assert "size: A4" in css and "break-before: page" in css and "details { display: none; }" in css


# ------------------------------------------------------------ Excel export


@pytest.fixture(scope="module")
def compare_folder(folders, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "cmp"
    args = ["compare", str(folders["base_toml"]), str(folders["scen_toml"]), "-n", str(REPS)]
    args += ["--seed", str(SEED), "--out", str(out), "--backend", "serial", "-q"]
    assert caresim(args) == 0
    return out


def test_excel_of_a_run_has_summary_and_monthly_sheets_with_units(base, tmp_path) -> None:
    from sim.report.excel import write_excel

    path = write_excel(base, tmp_path / "book.xlsx")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["Summary", "Monthly"]
    summary = sheets["Summary"]
    assert list(summary["financial year"]) == ["2016-17", "2017-18"]
    column = "Total spend (£ a financial year): median"
    assert column in summary.columns
    assert "Children looked after on 31 March (children): P90" in summary.columns
    s = base.summary
    spend = s[(s["measure"] == "cost_total_gbp") & (s["period"] == "2017-18")]["value"]
    assert summary.loc[1, column] == pytest.approx(float(spend.median()))
    monthly = sheets["Monthly"]
    assert "Children looked after (children): median" in monthly.columns
    assert "Spend (£ per month): P10" in monthly.columns
    assert len(monthly) == 24


def test_report_command_writes_a_workbook_of_a_comparison(compare_folder, capsys) -> None:
    assert caresim(["report", str(compare_folder), "--excel"]) == 0
    book = compare_folder / "report.xlsx"
    assert f"Workbook written to {book}" in capsys.readouterr().out
    sheets = pd.read_excel(book, sheet_name=None)
    assert list(sheets) == ["Summary", "Monthly", "Comparison"]
    assert set(sheets["Summary"]["scenario"]) == {"Small county", "More carers from April 2017"}
    assert set(sheets["Monthly"]["scenario"]) == {"Small county", "More carers from April 2017"}
    cmp = sheets["Comparison"]
    assert {"unit", "difference (scenario − base): mean", "difference: 95% CI low"} <= set(
        cmp.columns
    )
    first = cmp[(cmp["measure"] == "Total spend") & (cmp["financial year"] == "2016-17")].iloc[0]
    # Before the change in April 2017 the paired runs are the same: no difference.
    assert first["difference (scenario − base): mean"] == 0
    assert first["unit"] == "£ a financial year"
    assert first["replications"] == "the same in every replication"
    diffs = pd.read_csv(compare_folder / "compare.csv")
    want = diffs[(diffs["measure"] == "cost_total_gbp") & (diffs["period"] == "2017-18")]
    got = cmp[(cmp["measure"] == "Total spend") & (cmp["financial year"] == "2017-18")]
    assert float(got["difference (scenario − base): mean"].iloc[0]) == pytest.approx(
        float(want["mean"].iloc[0])
    )


# ------------------------------------- budget chart and compare page, in a browser

DOC_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def _budget_page(text: str) -> str:
    """The report's head, summary, budget table and budget chart alone, as a page."""
    head = text[: text.index("<body>") + len("<body>")]
    short = re.search(r"<p class='summary'>.*?</p>", text, re.S)
    table = re.search(r"<h3>Spend against budget</h3>.*?</table></div>", text, re.S)
    chart = re.search(r'<figure><img [^>]*alt="box plot of total spend[^>]*>.*?</figure>', text)
    assert short and table and chart
    return head + short.group(0) + table.group(0) + chart.group(0) + "</body></html>"


def _small_png(shot: Path, target: Path, height: int) -> None:
    from PIL import Image

    with Image.open(shot) as image:
        image.crop((0, 0, image.width, min(height, image.height))).convert("RGB").quantize(
            colors=64
        ).save(target, optimize=True)


def test_budget_chart_and_compare_page_in_a_browser(folders, compare_folder, tmp_path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium binary (apt-get install chromium); CI installs it")
    text = report.write_report(
        folders["base"], out=tmp_path / "r.html", budget_gbp=11.6e6
    ).read_text()
    page = tmp_path / "budget.html"
    page.write_text(_budget_page(text))
    budget = _screenshot(browser, page, tmp_path / "budget.png", tmp_path / "p1")
    # The dashed budget line is vermillion (#D55E00); nothing else on the page is.
    vermillion = np.array([0xD5, 0x5E, 0x00]) / 255
    assert (np.abs(budget - vermillion).max(axis=2) < 0.15).sum() > 300
    cmp = report.write_report(compare_folder, out=tmp_path / "cmp.html")
    shot = _screenshot(browser, cmp, tmp_path / "cmp.png", tmp_path / "p2")
    # The summary box (pale blue) at the top, then charts with both scenarios' colours.
    assert "With More carers from April 2017, the largest clear effects" in cmp.read_text()
    pale = np.array([0xF6, 0xF9, 0xFC]) / 255
    assert (np.abs(shot[:400] - pale).max(axis=2) < 0.01).sum() > 20_000
    blue = np.array([0x00, 0x72, 0xB2]) / 255
    assert (np.abs(shot - blue).max(axis=2) < 0.3).sum() > 5_000
    if os.environ.get("CARESIM_DOC_IMAGES"):  # refresh the pictures in docs/analysis.md
        _small_png(tmp_path / "budget.png", DOC_IMAGES / "report-budget.png", 900)
        _small_png(tmp_path / "cmp.png", DOC_IMAGES / "report-compare.png", 1700)
        for name in ("report-budget.png", "report-compare.png"):
            assert (DOC_IMAGES / name).stat().st_size < 200_000
