"""No child identifier leaves the loader: every output file is searched for every one."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from pathlib import Path

import pytest
from calibrate_data import backtest_result, calibration_outputs, synthetic

from sim.calibrate import calibrate


def png_text(path: Path) -> bytes:
    """Text held in a PNG's tEXt, zTXt and iTXt chunks (decompressed where needed)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out = []
    i = 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        body = data[i + 8 : i + 8 + length]
        if kind == b"tEXt":
            out.append(body)
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            out.append(key + b"\0" + zlib.decompress(rest[1:]))
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            compressed = rest[0] == 1
            _, _, rest = rest[2:].partition(b"\0")  # language tag
            _, _, text = rest.partition(b"\0")  # translated keyword
            out.append(key + b"\0" + (zlib.decompress(text) if compressed else text))
        i += 12 + length
    return b"\n".join(out)


def secrets() -> list[str]:
    """Every identifying string written into the synthetic input files."""
    ids = synthetic().identifiers
    found = [*ids["CHILD"], *ids["UPN"], *ids["HOME_POST"], *ids["PL_POST"], *ids["URN"]]
    found += list(ids["DOB"])  # as written, dd/mm/YYYY
    for text in ids["DOB"]:
        day = dt.datetime.strptime(text, "%d/%m/%Y").date()
        nxt = day + dt.timedelta(days=1)
        # ISO dates also appear legitimately on month boundaries (run and report dates).
        if day.day != 1 and nxt.day != 1:
            found.append(day.isoformat())
    return found


def output_files() -> list[Path]:
    config, report_dir = calibration_outputs()
    files = [config, *sorted(report_dir.iterdir()), *backtest_result().files]
    assert len(files) >= 10
    assert sum(p.suffix == ".png" for p in files) >= 5
    return files


def test_png_metadata_is_read():
    _, report_dir = calibration_outputs()
    assert b"caresim" in png_text(report_dir / "entries.png")


def test_there_are_identifiers_to_look_for():
    found = secrets()
    assert len(found) > 5000
    # The search would find them if they were there.
    sample = synthetic().episodes[-1].read_text(encoding="utf-8")
    assert any(s in sample for s in found[:50])


@pytest.mark.parametrize("kind", ["text", "png"])
def test_no_identifier_appears_in_any_output_file(kind):
    found = secrets()
    for path in output_files():
        if path.suffix == ".png":
            if kind != "png":
                continue
            # The pixels are compressed image data; text lives in the metadata chunks.
            content = png_text(path).decode("latin-1")
        else:
            if kind != "text":
                continue
            content = path.read_text(encoding="utf-8")
        leaked = [s for s in found if s in content]
        assert not leaked, f"{path.name} contains {leaked[:3]}"


def test_the_report_and_config_name_no_identifier_column_values(tmp_path):
    config, report_dir = calibration_outputs()
    text = config.read_text(encoding="utf-8") + (report_dir / "calibration-report.md").read_text(
        encoding="utf-8"
    )
    for marker in ("SYN-", "SYNUPN", "SYNURN", "ZZ8 ", "ZZ9 "):
        assert marker not in text


def test_errors_about_bad_rows_in_the_report_carry_no_identifiers(tmp_path):
    data = synthetic()
    # One bad row (unknown code) in the last year's file, skipped and reported.
    lines = data.episodes[-1].read_text(encoding="utf-8").splitlines()
    fields = lines[5].split(",")
    fields[5] = "Q9"
    lines[5] = ",".join(fields)
    bad = tmp_path / "episodes_bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cal = calibrate([*data.episodes[:-1], bad], data.header, n_bootstrap=0, scale_referrals=False)
    report = cal.report.estimates.cleaning.to_markdown()
    assert "episodes_bad.csv, row 6: PLACE is not a known SSDA903 code (value not shown)" in report
    assert "Q9" not in report
    assert fields[0] not in report and fields[10] not in report


# --- Malformed files: no message may echo a cell of the file -----------------

EPISODE_HEADER = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
HEADER_HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"


def marked_record(n_fields: int, k: int) -> list[str]:
    """A record whose every cell is a marked fake identifier (``LEAKk_j``)."""
    return [f"LEAK{k}X{j}" for j in range(n_fields)]


def good_header_file(tmp_path: Path) -> Path:
    path = tmp_path / "header.csv"
    path.write_text(HEADER_HEADER + "\nLEAKCHILD1,1,15/06/2008,WBRI,LEAKUPN1,,\n", encoding="utf-8")
    return path


def malformed_files(tmp_path: Path) -> dict[str, tuple[Path, Path]]:
    """Episodes/Header pairs that are wrong in the ways real extracts are."""
    n = len(EPISODE_HEADER.split(","))
    good_ep = (
        "LEAKCHILD1,01/05/2015,S,V2,N1,U4,PR1,02/05/2015,E13,,LEAKPC1 1AA,LEAKPC2 1AA,LEAKURN1"
    )
    cases: dict[str, tuple[Path, Path]] = {}

    def put(name: str, episodes: str, header: Path | None = None) -> None:
        path = tmp_path / f"{name}.csv"
        path.write_text(episodes, encoding="utf-8")
        cases[name] = (path, header or good_header_file(tmp_path))

    rows = [",".join(marked_record(n, k)) for k in range(5)]
    put("headerless", "\n".join([good_ep, *rows]) + "\n")
    # Columns in the wrong order: postcodes under PLACE, ids under LS, URNs under RNE.
    swapped = EPISODE_HEADER.split(",")
    swapped[2], swapped[12] = swapped[12], swapped[2]
    swapped[3], swapped[0] = swapped[0], swapped[3]
    swapped[5], swapped[10] = swapped[10], swapped[5]
    put("swapped", ",".join(swapped) + "\n" + good_ep + "\n")
    # Every code column holds a marked value.
    miscoded = [
        f"LEAKCHILD1,01/05/2015,LEAKR{k},LEAKL{k},LEAKC{k},LEAKP{k},LEAKV{k},02/05/2015,"
        f"LEAKE{k},LEAKQ{k},LEAKPC{k},LEAKPD{k},LEAKU{k}"
        for k in range(3)
    ]
    put("miscoded", EPISODE_HEADER + "\n" + "\n".join(miscoded) + "\n")
    # Unknown column names that are themselves identifiers.
    put("odd_columns", "LEAKCOL1,LEAKCOL2,DECOM\n" + good_ep + "\n")
    # A header file without its header row.
    headless = tmp_path / "headless_header.csv"
    headless.write_text("LEAKCHILD9,1,15/06/2008,WBRI,LEAKUPN9,,\n", encoding="utf-8")
    put("header_headerless", EPISODE_HEADER + "\n" + good_ep + "\n", headless)
    # Ragged rows: the parser's own message must not be passed on with cells in it.
    put("ragged", EPISODE_HEADER + "\n" + good_ep + "\n" + good_ep + ",LEAKEXTRA\n")
    # Every date cell holds a marked value (dates are read in several forms now).
    bad_dates = [
        f"LEAKCHILD1,LEAKD{k}/05/2015,S,V2,N1,U4,PR1,LEAK{k}-05-15,E13,,,,"
        if k % 2
        else f"LEAKCHILD1,01/05/LEAK{k},S,V2,N1,U4,PR1,02/05/15LEAK,E13,,,,"
        for k in range(4)
    ]
    put("bad_dates", EPISODE_HEADER + "\n" + "\n".join(bad_dates) + "\n")
    # REC on open episodes (tolerated, blanked): a marked REC must vanish without a trace.
    open_rec = [f"LEAKCHILD1,0{k + 1}/05/2015,S,V2,N1,U4,PR1,,LEAKREC{k},,,," for k in range(3)]
    put("open_rec", EPISODE_HEADER + "\n" + good_ep + "\n" + "\n".join(open_rec) + "\n")
    # A Header file whose SEX and DOB cells are marked values.
    odd_header = tmp_path / "odd_header.csv"
    odd_header.write_text(
        HEADER_HEADER
        + "\nLEAKCHILD1,LEAKSEX,15/06/2008,WBRI,LEAKUPN1,,\n"
        + "LEAKCHILD2,1,LEAKDOB/06/08,WBRI,LEAKUPN2,,\n"
        + "LEAKCHILD3,1,2008-06-LEAK,WBRI,LEAKUPN3,,\n",
        encoding="utf-8",
    )
    put("header_cells", EPISODE_HEADER + "\n" + good_ep + "\n", odd_header)
    return cases


CASES = [
    "headerless",
    "swapped",
    "miscoded",
    "odd_columns",
    "header_headerless",
    "ragged",
    "bad_dates",
    "open_rec",
    "header_cells",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("strict", "share"), [(True, 0.01), (False, 1.0), (False, 0.01)])
def test_no_message_about_a_malformed_file_echoes_any_cell(tmp_path, case, strict, share):
    from sim.calibrate import DataError, clean_episodes, load_903

    episodes, header = malformed_files(tmp_path)[case]
    try:
        loaded = load_903([episodes], [header], strict=strict, max_bad_row_share=share)
    except DataError as exc:
        text = str(exc) + " ".join(str(p) for p in getattr(exc, "problems", []) or [])
    else:
        text = " ".join(str(p) for p in loaded.problems) + loaded.files.to_string()
        text += loaded.episodes.to_string()
        text += clean_episodes(loaded).report.to_markdown()
    assert "LEAK" not in text, text
    # Files are named by their path, not only their name.
    assert str(episodes) in text or str(header) in text or not text.strip()


CIN_HEADER = (
    "CHILD,DOB,REFERRAL_DATE,REFERRAL_SOURCE,REFERRAL_NFA,ASSESSMENT_START,"
    "ASSESSMENT_AUTHORISED,CLOSURE_DATE,CLOSURE_REASON"
)


@pytest.mark.parametrize(("strict", "share"), [(True, 0.01), (False, 1.0), (False, 0.01)])
def test_no_message_about_a_malformed_cin_file_echoes_any_cell(tmp_path, strict, share):
    from sim.calibrate import DataError, load_cin

    rows = [
        "LEAKC1,LEAKDOB,01/05/2015,1A,0,,,,",
        "LEAKC2,15/06/2008,LEAK/05/15,1A,0,,,,",
        "LEAKC3,15/06/2008,01/05/2015,1A,LEAKNFA,,,,",
        "LEAKC4,15/06/2008,01/05/2015,1A,0,LEAK-05-02,,,",
        "LEAKC5,15/06/2008,01/05/2015,1A,0,,,,LEAKRC",
        "LEAKC6,15/06/2008,01/05/2015,1A,0,,,LEAK,",
        ",15/06/2008,01/05/2015,1A,0,,,,",
        "LEAKC8,15/06/08,2015-05-01,LEAKSRC,0,,,,",
    ]
    path = tmp_path / "2016" / "cin.csv"
    path.parent.mkdir()
    path.write_text(CIN_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    try:
        data = load_cin([path], strict=strict, max_bad_row_share=share)
    except DataError as exc:
        text = str(exc) + " ".join(str(p) for p in exc.problems)
    else:
        text = " ".join(str(p) for p in data.problems)
        assert len(data.problems) == 7
    assert "LEAK" not in text, text
    assert str(path) in text


def test_the_data_folder_command_echoes_no_cell(tmp_path, capsys):
    from sim.cli.main import main

    folder = tmp_path / "data"
    for case, (episodes, header) in malformed_files(tmp_path).items():
        (folder / case).mkdir(parents=True)
        (folder / case / "Episodes.csv").write_bytes(episodes.read_bytes())
        (folder / case / "header.csv").write_bytes(header.read_bytes())
    argv = ["calibrate", "--data", str(folder), "--out", str(tmp_path / "x.toml"), "--no-model"]
    for extra in ([], ["--max-bad-rows", "1"]):
        code = main([*argv, *extra])
        captured = capsys.readouterr()
        assert code == 2
        text = captured.out + captured.err
        assert "LEAK" not in text, text
        assert str(folder) in text


def test_a_file_without_its_header_row_is_reported_as_such(tmp_path):
    from sim.calibrate import DataError, load_903

    episodes, header = malformed_files(tmp_path)["headerless"]
    with pytest.raises(DataError, match=r"headerless\.csv, row 1: no header row"):
        load_903([episodes], [header])
    episodes, header = malformed_files(tmp_path)["header_headerless"]
    with pytest.raises(DataError, match=r"headless_header\.csv, row 1: no header row"):
        load_903([episodes], [header])
