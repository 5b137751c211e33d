"""The caresim command end to end: run, compare, sweep, warmup, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim._version import __version__
from sim.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "worcestershire-2016.toml"
SCENARIOS = sorted((ROOT / "configs" / "scenarios").glob("*.toml"))
CARESIM = Path(sys.executable).parent / "caresim"


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _check_run_folder(out: Path, replications: int) -> None:
    for name in ("summary.csv", "summary.parquet", "timeseries.parquet", "summary_stats.csv"):
        assert (out / name).is_file(), name
    m = _manifest(out)
    assert m["seed"] == 20160401 and m["status"] == "complete"
    assert m["replications_done"] == replications
    assert m["config"]["run"]["years"] == 1
    assert m["versions"]["caresim"] == __version__ and "numpy" in m["versions"]
    assert m["git_commit"]
    summary = pd.read_csv(out / "summary.csv")
    assert sorted(summary["replication"].unique()) == list(range(replications))


def test_caresim_run_console_command_writes_results_and_manifest(tmp_path):
    out = tmp_path / "base"
    cmd = [str(CARESIM), "run", str(BASELINE), "-n", "2", "--years", "1", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Total spend" in proc.stdout
    # Not a terminal: progress comes as plain lines, not a redrawn bar.
    assert "2/2 replications (100%)" in proc.stderr and "\r" not in proc.stderr
    _check_run_folder(out, 2)


@pytest.mark.parametrize("config", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_caresim_run_works_on_every_scenario(tmp_path, config):
    out = tmp_path / config.stem
    argv = ["run", str(config), "-n", "2", "--years", "1", "--out", str(out), "--backend", "serial"]
    assert main([*argv, "-q"]) == 0
    _check_run_folder(out, 2)


def test_quiet_prints_nothing(tmp_path, capsys):
    argv = ["run", str(BASELINE), "-n", "1", "--years", "1", "--out", str(tmp_path / "q")]
    assert main([*argv, "--backend", "serial", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_help_and_version():
    proc = subprocess.run([str(CARESIM), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for command in ("run", "validate", "compare", "sweep", "warmup"):
        assert command in proc.stdout
    proc = subprocess.run([str(CARESIM), "--version"], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == f"caresim {__version__}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-n", "-3"], "--replications must be >= 1, got -3"),
        (["--precision", "0.02", "--measure", "cost_totl"], "unknown measure 'cost_totl'"),
        (["--measure", "cost_total_gbp"], "--measure is used with --precision"),
        (["--precision", "0.02"], "--precision needs the measure"),
        (["--seed", "-1"], "--seed must be >= 0"),
        (["--workers", "0"], "--workers must be >= 1"),
        (["--set", "workforce.fte=-5"], "workforce.fte"),
        (
            ["--backend", "dask", "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1"],
            "could not reach the Dask scheduler at tcp://127.0.0.1:9",
        ),
        (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler is only for --backend dask"),
    ],
    ids=[
        "negative-replications",
        "unknown-measure",
        "measure-without-precision",
        "precision-without-measure",
        "negative-seed",
        "zero-workers",
        "invalid-override",
        "unreachable-scheduler",
        "scheduler-without-dask",
    ],
)
def test_bad_arguments_give_one_clear_message_and_exit_2(tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    rc = main(["run", str(BASELINE), "--years", "1", "--out", str(out), *argv])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and err.startswith("caresim: error:")
    assert "Traceback" not in err
    assert not (out / "manifest.json").exists()


def test_a_missing_config_file_is_a_clear_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and "Traceback" not in err


def test_compare_writes_paired_differences(tmp_path, write_toml, capsys):
    scenario = write_toml(
        "more-fostering.toml",
        {"extends": str(BASELINE), "placement_types": {"foster_in_house": {"capacity": 280}}},
    )
    out = tmp_path / "cmp"
    argv = ["compare", str(BASELINE), str(scenario), "-n", "2", "--years", "1", "--out", str(out)]
    assert main([*argv, "--backend", "serial"]) == 0
    table = pd.read_csv(out / "compare.csv")
    share = table[table["measure"] == "in_house_share_fostering"].iloc[0]
    assert share["scenario"] == "more-fostering" and share["mean"] > 0
    assert share["ci95_low"] <= share["mean"] <= share["ci95_high"]
    referrals = table[table["measure"] == "referrals"].iloc[0]
    assert referrals["mean"] == 0 and referrals["sd"] == 0  # same seed, same families
    assert "more-fostering − base" in capsys.readouterr().out
    assert set(_manifest(out)["scenarios"]) == {"worcestershire-2016", "more-fostering"}


def test_sweep_writes_one_table_for_the_grid(tmp_path):
    out = tmp_path / "sweep"
    argv = ["sweep", str(BASELINE), "--set", "placement_types.foster_in_house.capacity=230,260"]
    argv += ["--set", "workforce.fte=205", "-n", "2", "--years", "1", "--out", str(out), "-q"]
    assert main([*argv, "--backend", "serial"]) == 0
    table = pd.read_csv(out / "sweep.csv")
    points = table.dropna(subset=["workforce.fte"])
    assert sorted(points["placement_types.foster_in_house.capacity"].unique()) == [230, 260]
    cost = points[points["measure"] == "cost_in_house_placements_gbp"].set_index(
        "placement_types.foster_in_house.capacity"
    )
    assert cost.loc[260, "mean"] > cost.loc[230, "mean"]
    assert {"p05", "p95", "ci95_low", "diff_mean"} <= set(table.columns)


def test_warmup_plots_and_suggests_a_truncation(tmp_path, capsys):
    out = tmp_path / "wu"
    argv = ["warmup", str(BASELINE), "-n", "2", "--years", "2", "--out", str(out)]
    assert main([*argv, "--backend", "serial"]) == 0
    assert (out / "warmup.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(out / "warmup.csv")
    assert len(table) == 24 and table["mean"].iloc[0] < table["mean"].iloc[-1]  # from empty
    m = _manifest(out)
    assert m["config"]["initial_population"]["looked_after"] == []
    assert "MSER-5" in capsys.readouterr().out and m["suggested_warmup_days"] >= 0


def test_calibrate_and_backtest_are_wired_from_their_module(monkeypatch, capsys):
    import importlib.machinery
    import types

    fake = types.ModuleType("sim.cli.calibrate")
    fake.__spec__ = importlib.machinery.ModuleSpec("sim.cli.calibrate", None)

    def add_arguments(parser):
        parser.add_argument("data")

    def command(args):
        print(f"{args.command} on {args.data}")
        return 0

    fake.add_calibrate_arguments = add_arguments
    fake.calibrate_command = command
    fake.add_backtest_arguments = add_arguments
    fake.backtest_command = command
    monkeypatch.setitem(sys.modules, "sim.cli.calibrate", fake)
    assert main(["calibrate", "episodes.csv"]) == 0
    assert main(["backtest", "episodes.csv"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "calibrate on episodes.csv",
        "backtest on episodes.csv",
    ]


@pytest.mark.parametrize(
    "command",
    [
        "run",
        "validate",
        "compare",
        "sweep",
        "warmup",
        "report",
        "sensitivity",
        "goalseek",
        "calibrate",
        "backtest",
    ],
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: caresim " + command)
    assert "%%" not in out


def test_validate_into_a_closed_pipe_exits_cleanly():
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line, as with `| head -0`
    try:
        proc = subprocess.run(
            [str(CARESIM), "validate", str(BASELINE)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 0
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr


def test_a_missing_optional_package_names_the_extra_to_install(monkeypatch, capsys):
    import sim.cli.run as run_module

    def needs_salib(_args):
        raise ModuleNotFoundError("No module named 'SALib'", name="SALib")

    monkeypatch.setattr(run_module, "validate_command", needs_salib)
    monkeypatch.setattr("sim.cli.main.validate_command", needs_salib)
    assert main(["validate", str(BASELINE)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'caresim[analysis]'" in err and "Traceback" not in err


def test_compare_prints_years_as_columns_and_takes_any_summary_measure(
    tmp_path, write_toml, capsys
):
    scenario = write_toml(
        "more-fostering.toml",
        {"extends": str(BASELINE), "placement_types": {"foster_in_house": {"capacity": 280}}},
    )
    argv = ["compare", str(BASELINE), str(scenario), "-n", "2", "--years", "2"]
    argv += ["--out", str(tmp_path / "cmp"), "--backend", "serial"]
    assert main([*argv, "--measure", "moves_per_child", "--measure", "entries"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "2016-17" in line)
    assert "2017-18" in header  # financial years side by side
    assert "Placement moves per child" in out and "Children starting care" in out
    assert "Total spend" not in out  # only the measures asked for


def test_compare_refuses_a_misspelt_measure_before_running(tmp_path, write_toml, capsys):
    scenario = write_toml("s.toml", {"extends": str(BASELINE)})
    argv = ["compare", str(BASELINE), str(scenario), "--measure", "cost_totl_gbp"]
    assert main([*argv, "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "cost_totl_gbp" in err and "cost_total_gbp" in err
    assert not (tmp_path / "c" / "summary.parquet").exists()


def test_report_excel_takes_an_optional_path():
    import argparse

    from sim.cli.analysis import add_report_arguments

    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    assert parser.parse_args(["results/x"]).excel is None
    assert parser.parse_args(["results/x", "--excel"]).excel == ""  # RESULTS_DIR/report.xlsx
    assert parser.parse_args(["results/x", "--excel", "book.xlsx"]).excel == "book.xlsx"
