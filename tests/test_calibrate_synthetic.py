"""The synthetic SSDA903 generator: deterministic, messy like real returns, obviously fake."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
from calibrate_data import synthetic

from sim.calibrate import SyntheticParameters, generate_synthetic_903

SMALL = SyntheticParameters(
    n_years=2,
    burn_in_years=3,
    entries_per_year=(10.0, 10.0, 10.0, 15.0, 10.0),
    referrals_per_year=50.0,
)


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_same_seed_writes_identical_files(tmp_path):
    a = generate_synthetic_903(tmp_path / "a", params=SMALL, seed=5)
    b = generate_synthetic_903(tmp_path / "b", params=SMALL, seed=5)
    for pa, pb in zip(
        (*a.episodes, *a.header, a.cin), (*b.episodes, *b.header, b.cin), strict=True
    ):
        assert pa.read_bytes() == pb.read_bytes()


def test_another_seed_writes_other_data(tmp_path):
    a = generate_synthetic_903(tmp_path / "a", params=SMALL, seed=5)
    b = generate_synthetic_903(tmp_path / "b", params=SMALL, seed=6)
    assert a.episodes[-1].read_bytes() != b.episodes[-1].read_bytes()


def test_one_file_pair_per_collection_year_named_by_its_31_march():
    data = synthetic()
    assert [p.name for p in data.episodes] == [f"episodes_{y}.csv" for y in range(2012, 2017)]
    assert [p.name for p in data.header] == [f"header_{y}.csv" for y in range(2012, 2017)]


def test_header_case_varies_and_an_extra_column_is_present():
    data = synthetic()
    first = _rows(data.episodes[0])[0]
    second = _rows(data.episodes[1])[0]
    last = _rows(data.episodes[-1])[0]
    assert first[:2] == ["child", "decom"]
    assert second[:2] == ["Child", "Decom"]
    assert last[:2] == ["CHILD", "DECOM"]
    assert last[-1] == "LA_CODE"


def test_consecutive_years_overlap_and_open_episodes_have_blank_dec():
    data = synthetic()
    y1 = pd.read_csv(data.episodes[0], dtype=str, keep_default_na=False)
    y2 = pd.read_csv(data.episodes[1], dtype=str, keep_default_na=False)
    y1.columns = y1.columns.str.upper()
    y2.columns = y2.columns.str.upper()
    shared = y1.merge(y2, on=["CHILD", "DECOM"], suffixes=("_1", "_2"))
    assert len(shared) > 100
    # Open at the end of year 1, closed in year 2: the later file knows the end.
    assert ((shared["DEC_1"] == "") & (shared["DEC_2"] != "")).any()


def test_files_hold_exact_duplicates_short_breaks_and_legacy_codes_only_in_the_first_year():
    data = synthetic()
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in data.episodes]
    for f in frames:
        f.columns = f.columns.str.upper()
    assert any(f.duplicated().any() for f in frames)
    assert any(f["LS"].isin(["V3", "V4"]).any() for f in frames)
    assert frames[0]["PLACE"].isin(["Q1", "Q2"]).any()
    assert frames[0]["REC"].isin(["E43", "E44"]).any()
    for f in frames[1:]:
        assert not f["PLACE"].isin(["Q1", "Q2"]).any()
        assert not f["REC"].isin(["E43", "E44"]).any()


def test_dates_are_written_day_month_year():
    data = synthetic()
    rows = _rows(data.episodes[-1])[1:50]
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", r[1]) for r in rows)


def test_identifiers_are_obviously_synthetic():
    ids = synthetic().identifiers
    assert all(c.startswith("SYN-") for c in ids["CHILD"])
    assert all(u.startswith("SYNUPN") for u in ids["UPN"])
    assert all(u.startswith("SYNURN") for u in ids["URN"])
    assert all(p.startswith("ZZ8 ") for p in ids["HOME_POST"])
    assert all(p.startswith("ZZ9 ") for p in ids["PL_POST"])


def test_realised_entries_are_close_to_the_rates_they_were_drawn_from():
    data = synthetic()
    by_band = data.entries_by_year().groupby("band")["entries"].sum() / data.parameters.n_years
    for label, rate in zip(
        data.parameters.band_labels, data.parameters.entries_per_year, strict=True
    ):
        # Poisson: 5 years at >= 45 a year gives SD <= 6.7%; re-entries add a few per cent.
        assert by_band[label] == pytest.approx(rate, rel=0.25)


def test_parameters_must_give_one_value_per_band():
    with pytest.raises(ValueError, match="one entry per age band"):
        SyntheticParameters(entries_per_year=(1.0, 2.0))
