"""``caresim calibrate`` and ``caresim backtest``: options, summaries and exit codes."""

from __future__ import annotations

import argparse

import pytest
from calibrate_data import TEMPLATE, synthetic

from sim.cli import calibrate as commands
from sim.cli.main import main
from sim.config import load_config
from sim.errors import CaresimError


def parse(add, argv):
    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(argv)


def test_calibrate_options_parse_with_defaults():
    args = parse(
        commands.add_calibrate_arguments,
        ["--episodes", "a.csv", "b.csv", "--header", "h.csv", "--out", "x.toml"],
    )
    assert args.episodes == ["a.csv", "b.csv"] and args.header == ["h.csv"]
    assert args.as_at is None and args.cin is None and args.report_dir is None
    assert args.bootstrap == 50 and not args.no_model


def test_backtest_needs_an_as_at_date_in_iso_form():
    with pytest.raises(SystemExit):
        parse(
            commands.add_backtest_arguments,
            ["--episodes", "a.csv", "--header", "h.csv", "--out-dir", "d", "--as-at", "31/03/2016"],
        )


def test_calibrate_command_writes_a_loadable_config_and_a_report(tmp_path, capsys):
    data = synthetic()
    args = parse(
        commands.add_calibrate_arguments,
        [
            "--episodes",
            *map(str, data.episodes),
            "--header",
            *map(str, data.header),
            "--as-at",
            "2016-03-31",
            "--out",
            str(tmp_path / "la.toml"),
            "--report-dir",
            str(tmp_path / "report"),
            "--template",
            str(TEMPLATE),
            "--bootstrap",
            "0",
            "--no-model",
        ],
    )
    assert commands.calibrate_command(args) == 0
    out = capsys.readouterr().out
    assert "Calibrated as at 2016-03-31" in out and "wrote" in out
    assert load_config(tmp_path / "la.toml").run.start_date.isoformat() == "2016-04-01"
    assert (tmp_path / "report" / "calibration-report.md").exists()


def test_a_bad_file_is_one_paragraph_on_stderr_with_exit_code_2(tmp_path, capsys):
    bad = tmp_path / "episodes.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    head = synthetic().header[0]
    code = main(
        [
            "calibrate",
            "--episodes",
            str(bad),
            "--header",
            str(head),
            "--out",
            str(tmp_path / "x.toml"),
            "--no-model",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "episodes.xlsx, row 1: this is a spreadsheet workbook, not a CSV file" in err
    assert "Traceback" not in err


def test_backtest_refuses_fewer_than_two_replications(tmp_path):
    args = parse(
        commands.add_backtest_arguments,
        [
            "--episodes",
            "a.csv",
            "--header",
            "h.csv",
            "--as-at",
            "2015-03-31",
            "--out-dir",
            str(tmp_path),
            "--replications",
            "1",
        ],
    )
    with pytest.raises(CaresimError, match="at least 2"):
        commands.backtest_command(args)


def test_calibrate_refuses_an_out_folder_before_any_work(tmp_path, capsys):
    folder = tmp_path / "existing"
    folder.mkdir()
    argv = ["calibrate", "--episodes", "missing.csv", "--header", "missing.csv"]
    assert main([*argv, "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "Traceback" not in err
    assert main([*argv, "--out", str(tmp_path / "nowhere" / "x.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
