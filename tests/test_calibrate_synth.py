"""``caresim synth``: a synthetic data folder that ``caresim calibrate --data`` reads."""

from __future__ import annotations

import re

from calibrate_data import TEMPLATE, quirky_folder

from sim.calibrate import calibrate, load_903
from sim.calibrate.cleaning import clean_episodes
from sim.calibrate.folders import find_data_files
from sim.calibrate.synth_folder import truth_entries_by_year
from sim.cli.main import main
from sim.config import load_config


def test_synth_writes_year_folders_and_prints_counts_only(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["synth", "--out", str(out), "--years", "3", "--seed", "4", "--cin"]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["2014", "2015", "2016"]
    for year in ("2014", "2015", "2016"):
        assert sorted(p.name for p in (out / year).iterdir()) == [
            "cin.csv",
            "episodes.csv",
            "header.csv",
        ]
    assert "wrote 3 collection years (2014-2016)" in printed
    assert "episodes rows" in printed and "quirks" not in printed
    # Counts only: no identifier of the data is printed.
    text = "".join((out / y / f).read_text() for y in ("2014", "2016") for f in ("episodes.csv",))
    assert "SYN-" in text and "SYN" not in printed
    assert not re.search(r"\d+/\d+/\d+", printed)  # no date (of birth) either


def test_synth_without_cin_writes_no_cin_file(tmp_path):
    out = tmp_path / "data"
    assert main(["synth", "--out", str(out), "--years", "1"]) == 0
    assert sorted(p.name for p in (out / "2016").iterdir()) == ["episodes.csv", "header.csv"]


def test_synth_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    assert main(["synth", "--out", str(tmp_path)]) == 2
    assert "already exists and is not an empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_quirks_are_in_the_files():
    s = quirky_folder()
    assert s.two_digit_year_cells > 100 and s.rec_on_open_rows > 50
    assert s.starts_after_short_break > 30 and s.short_break_rows > 100
    names = {p.name for y in s.years for p in (s.folder / str(y)).iterdir()}
    assert {"episodes.csv", "Episodes.CSV", "EPISODES.csv", "Header.CSV"} <= names
    found = find_data_files(s.folder)
    assert len(found.episodes) == len(found.header) == len(found.cin) == 5


def test_synth_then_calibrate_data_writes_a_loadable_config(tmp_path, capsys):
    s = quirky_folder()
    cfg = tmp_path / "la.toml"
    argv = ["calibrate", "--data", str(s.folder), "--out", str(cfg)]
    argv += ["--template", str(TEMPLATE), "--bootstrap", "0", "--no-model"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "found 5 Episodes, 5 Header and 5 CIN file(s)" in printed
    assert "rows skipped: 0" in printed
    config = load_config(cfg)
    assert config.run.start_date.isoformat() == "2016-04-01"
    written = cfg.read_text(encoding="utf-8")
    for kind, values in s.data.identifiers.items():
        for ident in values:
            assert ident not in printed and ident not in written, kind


def test_quirks_are_read_and_counted_by_the_cleaning():
    s = quirky_folder()
    cal = calibrate(
        s.data.episodes,
        s.data.header,
        cin=None,
        as_at="2016-03-31",
        template=TEMPLATE,
        n_bootstrap=0,
        scale_referrals=False,
    )
    rep = cal.report.estimates.cleaning
    assert rep.count("two_digit_years_read") == s.two_digit_year_cells
    assert rep.count("rec_on_open_episode_ignored") == s.rec_on_open_rows
    assert rep.count("short_breaks_excluded") > 0


def test_every_period_counted_once_entries_within_5_percent_of_the_truth():
    """Care after short breaks starts with RNE P or L; it is an entry all the same."""
    s = quirky_folder()
    clean = clean_episodes(load_903(s.data.episodes, s.data.header))
    per = clean.periods
    counted = per[(per["start"] >= clean.window_start) & per["start_known"]]
    estimated = counted.groupby("year_ending").size()
    truth = truth_entries_by_year(s)
    assert s.starts_after_short_break > 30
    assert estimated.index.tolist() == truth.index.tolist()
    assert ((estimated / truth - 1).abs() <= 0.05).all()
    # RNE S alone misses the periods that follow short breaks.
    only_s = per[(per["start"] >= clean.window_start) & (per["first_rne"] == "S")]
    assert len(only_s) < 0.97 * truth.sum()
    assert clean.report.count("period_start_not_s") >= s.starts_after_short_break
