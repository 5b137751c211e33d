"""Reading SSDA903 files: tolerant of layout, strict about content, silent about identities."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.calibrate import DataError, load_903, load_cin, truncate
from sim.calibrate.codes import IDENTIFIER_COLUMNS
from sim.errors import CaresimError

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,"
    "HOME_POST,PL_POST,URN\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def header(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        "header.csv",
        HEADER
        + "SYN-A,1,15/06/2008,WBRI,SYNUPN0000001,,\n"
        + "SYN-B,2,01/02/2012,WBRI,SYNUPN0000002,0,\n",
    )


def good_rows(n: int = 1) -> str:
    return "".join(
        f"SYN-A,{i + 1:02d}/05/2015,S,V2,N1,U4,PR1,{i + 2:02d}/05/2015,E13,,"
        "ZZ8 1AA,ZZ9 1AA,SYNURN000001\n"
        for i in range(n)
    )


def test_headers_in_any_case_extra_columns_and_blank_optional_fields_are_read(tmp_path, header):
    eps = write(
        tmp_path,
        "eps.csv",
        "child,Decom,rne,LS,place,DEC,rec,NOTES\n"
        "SYN-A,01/05/2015,S,V2,U4,,,anything\n"
        "SYN-B,03/03/2016,S,C2,U1,10/03/2016,E13,\n",
    )
    loaded = load_903([eps], [header])
    assert len(loaded.episodes) == 2
    assert loaded.problems == ()
    assert set(loaded.episodes["place_provider"]) == {""}
    assert loaded.episodes["dec"].isna().sum() == 1


def test_ages_are_computed_from_the_dob_then_the_dob_is_dropped(tmp_path, header):
    eps = write(tmp_path, "eps.csv", EPISODES + good_rows())
    loaded = load_903([eps], [header])
    row = loaded.episodes.iloc[0]
    assert row["age_at_decom_years"] == pytest.approx(
        (pd.Timestamp("2015-05-01") - pd.Timestamp("2008-06-15")).days / 365.25
    )
    assert (
        row["days_to_18_at_decom"] == (pd.Timestamp("2026-06-15") - pd.Timestamp("2015-05-01")).days
    )


def test_loader_output_has_no_identifier_columns_or_values(tmp_path, header):
    eps = write(tmp_path, "eps.csv", EPISODES + good_rows(3))
    loaded = load_903([eps], [header])
    columns = {c.upper() for c in loaded.episodes.columns}
    assert not columns & set(IDENTIFIER_COLUMNS)
    text = loaded.episodes.to_csv() + loaded.files.to_csv()
    for secret in ("SYN-A", "SYNUPN", "ZZ8", "ZZ9", "SYNURN", "15/06/2008", "2008-06-15"):
        assert secret not in text


def test_legacy_codes_are_mapped_to_the_same_category_and_counted(tmp_path, header):
    eps = write(
        tmp_path,
        "eps.csv",
        EPISODES
        + "SYN-A,01/05/2012,S,V2,N1,Q1,PR1,02/06/2012,E43,,,,\n"
        + "SYN-A,01/05/2013,S,V2,N1,Q2,PR1,02/06/2013,E44,,,,\n",
    )
    loaded = load_903([eps], [header])
    assert list(loaded.episodes["place"]) == ["U4", "U1"]
    assert list(loaded.episodes["rec"]) == ["E45", "E46"]
    assert loaded.legacy_mapped == {
        "PLACE Q1->U4": 1,
        "PLACE Q2->U1": 1,
        "REC E43->E45": 1,
        "REC E44->E46": 1,
    }


def test_the_collection_year_of_a_file_is_the_31_march_after_its_last_date(tmp_path, header):
    eps = write(tmp_path, "eps.csv", EPISODES + good_rows())
    loaded = load_903([eps], [header])
    assert int(loaded.files.loc[loaded.files["kind"] == "episodes", "year_ending"].iloc[0]) == 2016
    assert loaded.window_start == pd.Timestamp("2015-04-01")
    assert loaded.data_end == pd.Timestamp("2016-03-31")


def test_an_end_date_typed_past_the_year_end_does_not_move_the_file_into_the_next_year(
    tmp_path, header
):
    # 60 episodes of the year ending March 2016, one of whose end dates runs a few days
    # past 31 March (as in an overlapping episode): still the 2016 return.
    rows = "".join(
        f"SYN-A,{1 + i % 28:02d}/{5 + i // 28:02d}/2015,S,V2,N1,U4,PR1,"
        f"{2 + i % 28:02d}/{5 + i // 28:02d}/2015,E13,,,,\n"
        for i in range(60)
    )
    rows += "SYN-B,20/03/2016,S,V2,N1,U4,PR1,06/04/2016,X1,CARPL,,,\n"
    loaded = load_903([write(tmp_path, "eps.csv", EPISODES + rows)], [header])
    assert int(loaded.files.loc[loaded.files["kind"] == "episodes", "year_ending"].iloc[0]) == 2016
    assert loaded.window_start == pd.Timestamp("2015-04-01")


# ------------------------------------------------------------- malformed


def test_missing_required_columns_name_the_file_row_and_columns(tmp_path, header):
    eps = write(tmp_path, "bad_eps.csv", "CHILD,DECOM,RNE,PLACE\nSYN-A,01/05/2015,S,U4\n")
    with pytest.raises(
        DataError,
        match=r"bad_eps\.csv, row 1 \(header\): required column\(s\) missing: LS, DEC, REC",
    ):
        load_903([eps], [header])


def test_a_header_file_without_dob_is_rejected(tmp_path):
    head = write(tmp_path, "head.csv", "CHILD,SEX\nSYN-A,1\n")
    eps = write(tmp_path, "eps.csv", EPISODES + good_rows())
    with pytest.raises(
        DataError, match=r"head\.csv, row 1 \(header\): required column\(s\) missing: DOB"
    ):
        load_903([eps], [head])


def test_a_bad_date_names_file_row_and_column_in_strict_mode(tmp_path, header):
    eps = write(
        tmp_path, "eps.csv", EPISODES + good_rows(2) + "SYN-A,2015/05/31,S,V2,N1,U4,PR1,,,,,,\n"
    )
    with pytest.raises(DataError) as info:
        load_903([eps], [header], strict=True)
    assert str(info.value).startswith(
        f"{eps}, row 4: DECOM is missing or not a date; expected dd/mm/yyyy, dd/mm/yy or "
        "yyyy-mm-dd (value not shown); strict mode: the Episodes file is rejected (0 of 3 rows"
    )


def test_a_few_bad_rows_are_skipped_and_reported_never_dropped_silently(tmp_path, header):
    bad = "SYN-A,31/02/2016,S,V2,N1,U4,PR1,,,,,,\n"  # 31 February
    eps = write(tmp_path, "eps.csv", EPISODES + good_rows(20) + bad)
    loaded = load_903([eps], [header], max_bad_row_share=0.1)
    assert len(loaded.episodes) == 20
    assert [str(p) for p in loaded.problems] == [
        f"{eps}, row 22: DECOM is missing or not a date; expected dd/mm/yyyy, dd/mm/yy or "
        "yyyy-mm-dd (value not shown)"
    ]
    files = loaded.files.set_index("file")
    assert files.loc[str(eps), ["rows_read", "rows_kept", "rows_dropped"]].tolist() == [21, 20, 1]


def test_too_many_bad_rows_reject_the_file_with_a_date_format_hint(tmp_path, header):
    rows = "".join(f"SYN-A,05/{d:02d}/2015,S,V2,N1,U4,PR1,,,,,,\n" for d in range(13, 20))
    eps = write(tmp_path, "eps.csv", EPISODES + good_rows(3) + rows)
    with pytest.raises(DataError) as info:
        load_903([eps], [header])
    message = str(info.value)
    assert f"{eps}: 7 of 10 Episodes rows are bad (70.0%), more than the 1.0%" in message
    assert "rejected (0 rows kept, 10 dropped); --max-bad-rows SHARE" in message
    assert f"{eps}, row 5: DECOM is missing or not a date" in message
    assert "Dates must be written dd/mm/yyyy, dd/mm/yy or yyyy-mm-dd" in message
    assert len(info.value.problems) == 7


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "SYN-A,01/06/2015,S,V2,N1,Q9,PR1,,,,,,",
            "PLACE is not a known SSDA903 code (value not shown)",
        ),
        (
            "SYN-A,01/06/2015,X,V2,N1,U4,PR1,,,,,,",
            "RNE is not a known SSDA903 code (value not shown)",
        ),
        (
            "SYN-A,01/06/2015,S,V9,N1,U4,PR1,,,,,,",
            "LS is not a known SSDA903 code (value not shown)",
        ),
        (
            "SYN-A,01/06/2015,S,V2,N1,U4,PR1,05/06/2015,E99,,,,",
            "REC is not a known SSDA903 code (value not shown)",
        ),
        (
            "SYN-A,01/06/2015,S,V2,N1,U4,PR9,,,,,,",
            "PLACE_PROVIDER is not a known SSDA903 code (value not shown)",
        ),
        ("SYN-A,01/06/2015,S,V2,N1,U4,PR1,01/05/2015,E13,,,,", "DEC (episode end) is before DECOM"),
        ("SYN-A,01/06/2015,S,V2,N1,U4,PR1,05/06/2015,,,,,", "DEC is given but REC"),
        ("SYN-C,01/06/2015,S,V2,N1,U4,PR1,,,,,,", "no Header row with a valid DOB for this CHILD"),
        ("SYN-B,01/06/2011,S,V2,N1,U4,PR1,,,,,,", "age at DECOM is outside 0-18"),
    ],
)
def test_each_row_problem_names_file_row_and_problem(tmp_path, header, row, problem):
    eps = write(tmp_path, "eps.csv", EPISODES + good_rows(1) + row + "\n")
    with pytest.raises(DataError) as info:
        load_903([eps], [header], strict=True)
    assert str(info.value).startswith(f"{eps}, row 3: ")
    assert problem in str(info.value)
    assert info.value.file == str(eps) and info.value.row == 3


def test_messages_never_echo_identifying_values(tmp_path):
    head = write(tmp_path, "head.csv", HEADER + "SYN-SECRET,1,99/99/2008,WBRI,SYNUPN1,,\n")
    eps = write(
        tmp_path, "eps.csv", EPISODES + "SYN-SECRET,01/05/2015,S,V2,N1,U4,PR1,,,,ZZ8 9ZZ,,\n"
    )
    with pytest.raises(DataError) as info:
        load_903([eps], [head], strict=True)
    assert "SYN-SECRET" not in str(info.value) and "99/99/2008" not in str(info.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04binary workbook", "spreadsheet workbook, not a CSV file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV file (binary content)"),
        (
            b"CHILD;DECOM;RNE\nA;01/01/2015;S\n",
            "not a comma-separated CSV file (it looks tab- or semicolon",
        ),
        (b"", "the file is empty"),
        (EPISODES.encode(), "has a header but no rows"),
        (b'CHILD,DECOM\n"unterminated,01/01/2015\n', "not a readable CSV file"),
    ],
)
def test_files_that_are_not_usable_csv_are_rejected_by_name(tmp_path, header, content, expected):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"upload\.csv") as info:
        load_903([path], [header])
    assert expected in str(info.value)


def test_a_missing_file_is_a_caresim_error_naming_it(tmp_path, header):
    with pytest.raises(CaresimError, match=r"nowhere\.csv: Episodes file not found"):
        load_903([tmp_path / "nowhere.csv"], [header])


def test_conflicting_dobs_across_header_files_are_counted_and_the_latest_used(tmp_path, header):
    later = write(tmp_path, "header2.csv", HEADER + "SYN-A,1,16/06/2008,WBRI,,,\n")
    eps = write(tmp_path, "eps.csv", EPISODES + good_rows())
    loaded = load_903([eps], [header, later])
    assert loaded.header_conflicts == 1
    expected = (pd.Timestamp("2015-05-01") - pd.Timestamp("2008-06-16")).days / 365.25
    assert loaded.episodes["age_at_decom_years"].iloc[0] == pytest.approx(expected)


def test_truncate_hides_what_happened_after_the_date(tmp_path, header):
    eps = write(
        tmp_path,
        "eps.csv",
        EPISODES
        + "SYN-A,01/05/2015,S,V2,N1,U4,PR1,01/09/2015,X1,CHILD,,,\n"
        + "SYN-A,01/09/2015,P,V2,N1,U5,PR4,01/12/2015,E13,,,,\n"
        + "SYN-A,01/02/2016,S,V2,N1,U5,PR4,,,,,,\n",
    )
    cut = truncate(load_903([eps], [header]), pd.Timestamp("2015-10-01").date())
    assert len(cut.episodes) == 2
    last = cut.episodes.iloc[-1]
    assert pd.isna(last["dec"]) and last["rec"] == "" and last["reason_place_change"] == ""
    assert cut.data_end == pd.Timestamp("2015-10-01")


def test_cin_referrals_are_read_without_identifiers(tmp_path):
    cin = write(
        tmp_path,
        "cin.csv",
        "child,dob,referral_date,referral_nfa,assessment_start,assessment_authorised\n"
        "SYN-A,15/06/2008,01/05/2015,0,02/05/2015,01/06/2015\n"
        "SYN-A,15/06/2008,01/09/2015,1,,\n",
    )
    data = load_cin([cin])
    assert len(data.referrals) == 2
    assert "CHILD" not in data.referrals.columns and "DOB" not in data.referrals.columns
    assert list(data.referrals["nfa"]) == [False, True]
    assert data.referrals["age_at_referral_years"].iloc[0] == pytest.approx(6.88, abs=0.01)


def test_cin_rows_with_bad_dates_name_the_row(tmp_path):
    cin = write(tmp_path, "cin.csv", "CHILD,REFERRAL_DATE\nSYN-A,01/05/2015\nSYN-B,2015/05/01\n")
    with pytest.raises(DataError) as info:
        load_cin([cin], strict=True)
    assert str(info.value).startswith(
        f"{cin}, row 3: REFERRAL_DATE is missing or not a date; expected dd/mm/yyyy"
    )
