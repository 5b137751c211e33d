"""Loader tolerances (date forms, REC on open episodes), --data folders, --max-bad-rows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from calibrate_data import TEMPLATE, synthetic

from sim.calibrate import DataError, calibrate, clean_episodes, load_903, load_cin, write_config
from sim.calibrate.folders import find_data_files
from sim.calibrate.loader import CENTURY_PIVOT, _parse_dates
from sim.cli import calibrate as commands
from sim.cli.main import main
from sim.config import load_config

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("01/05/2015", "2015-05-01"),
        ("1/5/2015", "2015-05-01"),
        ("01/05/15", "2015-05-01"),
        ("2015-05-01", "2015-05-01"),
        ("2015-05-01 00:00:00", "2015-05-01"),
        ("15/06/99", "1999-06-15"),
        ("31/12/68", "2068-12-31"),
        ("01/01/69", "1969-01-01"),
        ("00/05/2015", None),
        ("31/02/2016", None),
        ("29/02/16", "2016-02-29"),
        ("05/31/2015", None),  # mm/dd/yyyy is not read
        ("2015/05/01", None),
        ("01-05-2015", None),
        ("01/05/215", None),
        ("", None),
    ],
)
def test_dates_are_read_in_each_accepted_form_with_the_century_rule(cell, expected):
    got = _parse_dates(pd.Series([cell])).iloc[0]
    if expected is None:
        assert pd.isna(got)
    else:
        assert got == pd.Timestamp(expected)


def test_the_century_pivot_is_69():
    assert CENTURY_PIVOT == 69


def test_a_file_mixing_two_and_four_digit_years_and_iso_dates_loads(tmp_path):
    head = write(tmp_path / "header.csv", HEADER + "SYN-A,1,15/06/08,,,,\nSYN-B,2,2012-02-01,,,,\n")
    eps = write(
        tmp_path / "episodes.csv",
        EPISODES
        + "SYN-A,01/05/2015,S,C2,N1,U4,PR1,02/06/15,X1,PLACE\n"
        + "SYN-A,02/06/15,P,C2,N1,U5,PR1,2015-09-30,E13,\n"
        + "SYN-B,3/3/2016,S,C2,N1,U1,PR1,,,\n",
    )
    loaded = load_903([eps], [head])
    assert loaded.problems == ()
    assert loaded.tolerated == {"two_digit_year": 3, "iso_date": 2}
    assert list(loaded.episodes["decom"]) == [
        pd.Timestamp("2015-05-01"),
        pd.Timestamp("2015-06-02"),
        pd.Timestamp("2016-03-03"),
    ]
    ages = loaded.episodes["age_at_decom_years"]
    assert ages.iloc[0] == pytest.approx(
        (pd.Timestamp("2015-05-01") - pd.Timestamp("2008-06-15")).days / 365.25
    )
    report = clean_episodes(loaded).report
    assert report.count("two_digit_years_read") == 3
    assert report.count("iso_dates_read") == 2
    assert "| two_digit_years_read | 3 | date cells written dd/mm/yy read as 20yy when yy < 69" in (
        report.to_markdown()
    )


def test_cin_dates_take_the_same_forms(tmp_path):
    cin = write(
        tmp_path / "cin.csv",
        "CHILD,DOB,REFERRAL_DATE,ASSESSMENT_START\n"
        "SYN-A,15/06/08,01/05/15,2015-05-02\nSYN-B,2010-01-01,1/9/2015,\n",
    )
    data = load_cin([cin])
    assert data.problems == ()
    assert list(data.referrals["referral_date"]) == [
        pd.Timestamp("2015-05-01"),
        pd.Timestamp("2015-09-01"),
    ]


# ------------------------------------------------------- REC on open episodes


def test_a_rec_on_every_open_episode_is_ignored_and_counted(tmp_path):
    head = write(
        tmp_path / "header.csv", HEADER + "SYN-A,1,15/06/2008,,,,\nSYN-B,2,01/02/2012,,,,\n"
    )
    rows = (
        "SYN-A,01/05/2015,S,C2,N1,U4,PR1,02/06/2015,X1,PLACE\n"
        "SYN-A,02/06/2015,P,C2,N1,U5,PR1,,E13,\n"  # open, but a REC
        "SYN-B,03/03/2016,S,C2,N1,U1,PR1,,X1,\n"  # open, but a REC
    )
    eps = write(tmp_path / "episodes.csv", EPISODES + rows)
    loaded = load_903([eps], [head], strict=True)
    assert loaded.problems == ()
    assert loaded.tolerated == {"rec_on_open_episode": 2}
    open_eps = loaded.episodes[loaded.episodes["dec"].isna()]
    assert len(open_eps) == 2 and set(open_eps["rec"]) == {""}
    clean = clean_episodes(loaded)
    assert clean.report.count("rec_on_open_episode_ignored") == 2
    assert int(clean.periods["open"].sum()) == 2
    assert len(clean.periods) == 2  # the X1 on SYN-B's open episode broke no chain


def test_a_dec_without_rec_is_still_a_bad_row(tmp_path):
    head = write(tmp_path / "header.csv", HEADER + "SYN-A,1,15/06/2008,,,,\n")
    eps = write(
        tmp_path / "episodes.csv", EPISODES + "SYN-A,01/05/2015,S,C2,N1,U4,PR1,02/06/2015,,\n"
    )
    with pytest.raises(DataError, match="DEC is given but REC"):
        load_903([eps], [head], strict=True)


# ------------------------------------------------ paths, kept and dropped


def test_two_files_both_called_episodes_csv_are_told_apart_by_their_path(tmp_path):
    head = write(tmp_path / "2016" / "header.csv", HEADER + "SYN-A,1,15/06/2008,,,,\n")
    good = "".join(
        f"SYN-A,{d:02d}/05/2015,S,C2,N1,U4,PR1,{d + 1:02d}/05/2015,E13,\n" for d in range(1, 21)
    )
    first = write(tmp_path / "2015" / "episodes.csv", EPISODES + good)
    second = write(tmp_path / "2016" / "episodes.csv", EPISODES + good + "SYN-A,,S,C2,N1,U4,,,,\n")
    loaded = load_903([first, second], [head], max_bad_row_share=0.1)
    assert [p.file for p in loaded.problems] == [str(second)]
    assert str(loaded.problems[0]).startswith(f"{second}, row 22: DECOM is missing or not a date")
    assert "2016" in str(loaded.problems[0])
    files = loaded.files.set_index("file")
    assert files.loc[str(second), "rows_dropped"] == 1
    assert files.loc[str(first), "rows_dropped"] == 0


def test_a_missing_required_column_names_the_path(tmp_path):
    head = write(tmp_path / "h" / "header.csv", HEADER + "SYN-A,1,15/06/2008,,,,\n")
    eps = write(tmp_path / "2016" / "episodes.csv", "CHILD,DECOM\nSYN-A,01/05/2015\n")
    with pytest.raises(DataError) as info:
        load_903([eps], [head])
    assert str(info.value).startswith(f"{eps}, row 1 (header): required column(s) missing")


# --------------------------------------------------------- --max-bad-rows


def three_percent_bad(tmp_path: Path) -> tuple[Path, Path]:
    head = write(tmp_path / "header.csv", HEADER + "SYN-A,1,15/06/2008,,,,\n")
    rows = [f"SYN-A,{1 + i % 28:02d}/{1 + i // 28:02d}/2015,S,C2,N1,U4,PR1,,,\n" for i in range(97)]
    rows += ["SYN-A,01/13/2015,S,C2,N1,U4,PR1,,,\n"] * 3
    return write(tmp_path / "episodes.csv", EPISODES + "".join(rows)), head


def test_more_than_one_percent_bad_rows_reject_the_file_unless_allowed(tmp_path):
    eps, head = three_percent_bad(tmp_path)
    with pytest.raises(DataError, match=r"3 of 100 Episodes rows are bad \(3\.0%\)"):
        load_903([eps], [head])
    loaded = load_903([eps], [head], max_bad_row_share=0.05)
    assert len(loaded.episodes) == 97 and len(loaded.problems) == 3
    report = clean_episodes(loaded).report
    assert report.count("bad_rows_skipped") == 3
    assert "more than 5.0% bad rows is rejected" in report.to_markdown()
    with pytest.raises(DataError, match="between 0 and 1"):
        load_903([eps], [head], max_bad_row_share=5)


@pytest.mark.parametrize("value", ["2", "-0.1", "five"])
def test_max_bad_rows_must_be_a_share(value):
    parser = __import__("argparse").ArgumentParser()
    commands.add_calibrate_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--data", "d", "--out", "x.toml", "--max-bad-rows", value])


# ---------------------------------------------------------------- --data


def test_data_folders_are_found_in_any_case_and_layout(tmp_path):
    write(tmp_path / "2015" / "Episodes.CSV", "x")
    write(tmp_path / "2015" / "HEADER.csv", "x")
    write(tmp_path / "2016" / "episodes.csv", "x")
    write(tmp_path / "2016" / "header.csv", "x")
    write(tmp_path / "2016" / "cin.csv", "x")
    write(tmp_path / "2016" / "notes.txt", "x")
    write(tmp_path / "2016" / "episodes.xlsx", "x")
    write(tmp_path / "episodes_2014.csv", "x")
    (tmp_path / "2016" / "episodes.csv.d").mkdir()
    found = find_data_files(tmp_path)
    rel = [p.relative_to(tmp_path).as_posix() for p in found.episodes]
    assert rel == ["2015/Episodes.CSV", "2016/episodes.csv", "episodes_2014.csv"]
    assert [p.relative_to(tmp_path).as_posix() for p in found.header] == [
        "2015/HEADER.csv",
        "2016/header.csv",
    ]
    assert [p.name for p in found.cin] == ["cin.csv"]
    assert found.summary() == f"{tmp_path}: found 3 Episodes, 2 Header and 1 CIN file(s)"


def test_a_data_folder_without_header_files_or_not_there_is_named(tmp_path):
    write(tmp_path / "2016" / "episodes.csv", "x")
    with pytest.raises(DataError, match=r"no Header file found; expected files named"):
        find_data_files(tmp_path)
    with pytest.raises(DataError, match=r"nowhere: data folder not found"):
        find_data_files(tmp_path / "nowhere")


def test_calibrate_needs_data_or_episodes_and_header(tmp_path, capsys):
    code = main(["calibrate", "--out", str(tmp_path / "x.toml"), "--no-model"])
    assert code == 2
    assert "no input data: give --data DIR" in capsys.readouterr().err


def messy_year_folders(dest: Path) -> Path:
    """The synthetic returns as year folders, with the quirks of real extracts.

    ``<year>/Episodes.CSV`` and ``<year>/header.csv`` (odd years written with
    two-digit years, the others with ISO dates in DEC), a REC on every open
    episode, and the CIN file in the last year's folder.
    """
    data = synthetic()
    date = re.compile(r"\b(\d{2})/(\d{2})/(\d{2})(\d{2})\b")
    for k, (eps, head) in enumerate(zip(data.episodes, data.header, strict=True)):
        year = eps.stem.split("_")[-1]
        lines = eps.read_text(encoding="utf-8").splitlines()
        out = [lines[0]]
        for line in lines[1:]:
            cells = line.split(",")
            if cells[7] == "" and cells[8] == "":
                cells[8] = "E13" if k % 2 else "X1"
            if k % 2:
                cells = [date.sub(r"\1/\2/\4", c) for c in cells]
            elif cells[7]:
                d, m, y = cells[7].split("/")
                cells[7] = f"{y}-{m}-{d}"
            out.append(",".join(cells))
        write(dest / year / "Episodes.CSV", "\n".join(out) + "\n")
        text = head.read_text(encoding="utf-8")
        write(dest / year / "header.csv", date.sub(r"\1/\2/\4", text) if k % 2 else text)
    shutil.copy(data.cin, dest / year / "cin.csv")
    return dest


def test_calibrate_data_folder_with_quirks_gives_the_same_config_as_clean_files(tmp_path, capsys):
    data = synthetic()
    folder = messy_year_folders(tmp_path / "data")
    code = main(
        [
            "calibrate",
            "--data",
            str(folder),
            "--as-at",
            "2016-03-31",
            "--template",
            str(TEMPLATE),
            "--bootstrap",
            "0",
            "--no-model",
            "--out",
            str(tmp_path / "messy.toml"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{folder}: found 5 Episodes, 5 Header and 1 CIN file(s)" in out
    assert f"read {folder / '2016' / 'Episodes.CSV'}: " in out and " dropped" in out
    for secret in (*data.identifiers["CHILD"][:200], *data.identifiers["DOB"][:200]):
        assert secret not in out
    ref = calibrate(
        data.episodes,
        data.header,
        cin=data.cin,
        as_at="2016-03-31",
        template=TEMPLATE,
        n_bootstrap=0,
        scale_referrals=False,
    )
    write_config(ref, tmp_path / "ref.toml")
    assert load_config(tmp_path / "messy.toml") == load_config(tmp_path / "ref.toml")


def test_a_data_folder_with_too_many_bad_rows_goes_on_with_max_bad_rows(tmp_path, capsys):
    folder = messy_year_folders(tmp_path / "data")
    eps = folder / "2014" / "Episodes.CSV"
    lines = eps.read_text(encoding="utf-8").splitlines()
    n_bad = len(lines) // 40  # 2.5% of the rows
    for i in range(1, n_bad + 1):
        cells = lines[i * 20].split(",")
        cells[1] = "13/13/2013"
        lines[i * 20] = ",".join(cells)
    eps.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = [
        "calibrate",
        "--data",
        str(folder),
        "--template",
        str(TEMPLATE),
        "--bootstrap",
        "0",
        "--no-model",
        "--out",
        str(tmp_path / "la.toml"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{eps}: {n_bad} of {len(lines) - 1} Episodes rows are bad" in err
    assert "--max-bad-rows" in err
    assert main([*argv, "--max-bad-rows", "0.05"]) == 0
    out = capsys.readouterr().out
    assert f"read {eps}: {len(lines) - 1} rows, {len(lines) - 1 - n_bad} kept, {n_bad} dropped" in (
        out
    )


# --------------------------------------------------------------- template


def test_the_template_is_found_from_any_working_directory(tmp_path, monkeypatch, capsys):
    from sim.calibrate.writer import DEFAULT_TEMPLATE

    data = synthetic()
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "calibrate",
            "--episodes",
            *map(str, data.episodes),
            "--header",
            *map(str, data.header),
            "--bootstrap",
            "0",
            "--no-model",
            "--out",
            "la.toml",
            "--report-dir",
            "report",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert DEFAULT_TEMPLATE.is_file() and DEFAULT_TEMPLATE.is_absolute()
    assert f"  template: {DEFAULT_TEMPLATE}" in out
    report = (tmp_path / "report" / "calibration-report.md").read_text(encoding="utf-8")
    assert f"template `{DEFAULT_TEMPLATE}`" in report
    assert load_config(tmp_path / "la.toml").run.start_date.isoformat() == "2016-04-01"


def test_the_wheel_carries_the_template_as_package_data():
    import tomllib

    from sim.calibrate.writer import DEFAULT_TEMPLATE

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    include = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    [(source, target)] = include.items()
    assert (root / source).is_file()
    assert target == f"sim/calibrate/templates/{DEFAULT_TEMPLATE.name}"
    assert (root / source).read_bytes() == DEFAULT_TEMPLATE.read_bytes()
