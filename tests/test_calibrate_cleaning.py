"""Each cleaning rule on a small hand-written return, and cleaning the synthetic data exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from calibrate_data import synthetic

from sim.calibrate import clean_episodes, load_903

HEADER = (
    "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
    "SYN-A,1,15/06/2008,WBRI,,,\n"
    "SYN-B,2,01/02/2012,WBRI,,,\n"
    "SYN-C,1,10/10/1998,WBRI,,,\n"
)
COLUMNS = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE\n"


def clean(tmp_path: Path, *files: str, keep_short_breaks: bool = False):
    head = tmp_path / "header.csv"
    head.write_text(HEADER, encoding="utf-8")
    paths = []
    for i, body in enumerate(files):
        p = tmp_path / f"episodes_{i}.csv"
        p.write_text(COLUMNS + body, encoding="utf-8")
        paths.append(p)
    return clean_episodes(load_903(paths, [head]), keep_short_breaks=keep_short_breaks)


def test_exact_duplicate_rows_are_dropped_and_counted(tmp_path):
    row = "SYN-A,01/05/2015,S,V2,N1,U4,PR1,01/09/2015,E13,\n"
    c = clean(tmp_path, row + row + row)
    assert len(c.episodes) == 1
    assert c.report.count("exact_duplicates") == 2


def test_an_episode_in_two_years_is_kept_once_from_the_later_year(tmp_path):
    year1 = "SYN-A,01/03/2015,S,V2,N1,U4,PR1,,,\n"  # open at 31 March 2015
    year2 = "SYN-A,01/03/2015,S,V2,N1,U4,PR1,01/06/2015,E13,\n"
    c = clean(tmp_path, year1, year2)
    assert len(c.episodes) == 1
    assert c.episodes["dec"].iloc[0] == pd.Timestamp("2015-06-01")
    assert c.report.count("duplicates_across_years") == 1
    assert c.periods["route"].iloc[0] == "return_home"


def test_different_rows_for_one_start_in_one_file_keep_the_latest_ending(tmp_path):
    c = clean(
        tmp_path,
        "SYN-A,01/05/2015,S,V2,N1,U4,PR1,01/07/2015,E13,\n"
        "SYN-A,01/05/2015,S,V2,N1,U4,PR1,01/09/2015,E13,\n",
    )
    assert len(c.episodes) == 1
    assert c.episodes["dec"].iloc[0] == pd.Timestamp("2015-09-01")
    assert c.report.count("conflicting_duplicates") == 1


def test_overlapping_episodes_are_cut_at_the_next_start(tmp_path):
    c = clean(
        tmp_path,
        "SYN-A,01/05/2015,S,V2,N1,U4,PR1,20/06/2015,X1,CHILD\n"
        "SYN-A,10/06/2015,P,V2,N1,U5,PR4,01/09/2015,E13,\n",
    )
    assert list(c.episodes["dec"]) == [pd.Timestamp("2015-06-10"), pd.Timestamp("2015-09-01")]
    assert c.report.count("overlapping_episodes") == 1
    assert len(c.periods) == 1 and len(c.placements) == 2


def test_a_stale_open_episode_is_closed_by_the_next_one(tmp_path):
    c = clean(
        tmp_path,
        "SYN-A,01/05/2015,S,V2,N1,U4,PR1,,,\nSYN-A,10/06/2015,P,V2,N1,U5,PR4,01/09/2015,E13,\n",
    )
    assert c.report.count("overlapping_episodes") == 1
    assert len(c.periods) == 1
    assert not c.periods["open"].iloc[0]


def test_same_day_x1_chains_form_one_period_of_care(tmp_path):
    c = clean(
        tmp_path,
        "SYN-A,01/05/2015,S,V2,N1,U4,PR1,01/06/2015,X1,CREQB\n"
        "SYN-A,01/06/2015,P,V2,N1,U5,PR4,01/08/2015,X1,CARPL\n"
        "SYN-A,01/08/2015,T,V2,N1,K2,PR4,01/10/2015,E13,\n"
        "SYN-A,01/01/2016,S,C2,N1,U4,PR1,,,\n",
    )
    per = c.periods
    assert len(per) == 2
    assert list(per["n_placements"]) == [3, 1]
    assert per["end"].iloc[0] == pd.Timestamp("2015-10-01")
    assert list(per["open"]) == [False, True]
    assert list(per["reentry"]) == [False, True]
    pl = c.placements
    assert list(pl["end_reason"]) == ["move", "move", "exit", "open"]
    assert list(pl["planned"]) == [False, True, False, False]


def test_a_legal_status_change_only_is_not_a_move(tmp_path):
    c = clean(
        tmp_path,
        "SYN-A,01/05/2015,S,V2,N1,U4,PR1,01/06/2015,X1,\n"
        "SYN-A,01/06/2015,L,C2,N1,U4,PR1,01/08/2015,X1,CHILD\n"
        "SYN-A,01/08/2015,P,C2,N1,U5,PR4,,,\n",
    )
    assert len(c.placements) == 2
    first = c.placements.iloc[0]
    assert (first["start"], first["end"]) == (
        pd.Timestamp("2015-05-01"),
        pd.Timestamp("2015-08-01"),
    )
    assert c.report.count("legal_status_only") == 1


def test_short_breaks_are_excluded_by_default_and_kept_on_request(tmp_path):
    rows = (
        "SYN-A,01/05/2015,S,V3,N1,K2,PR1,03/05/2015,E13,\n"
        "SYN-A,01/07/2015,S,V4,N1,K2,PR1,02/07/2015,E13,\n"
        "SYN-B,01/07/2015,S,V2,N1,U4,PR1,,,\n"
    )
    excluded = clean(tmp_path, rows)
    assert len(excluded.periods) == 1
    assert excluded.report.count("short_breaks_excluded") == 2
    kept = clean(tmp_path, rows, keep_short_breaks=True)
    assert len(kept.periods) == 3
    assert kept.report.count("short_breaks_kept") == 2


def test_a_short_gap_after_x1_is_bridged_and_a_long_one_ends_the_period(tmp_path):
    c = clean(
        tmp_path,
        "SYN-A,01/05/2015,S,V2,N1,U4,PR1,01/06/2015,X1,CHILD\n"
        "SYN-A,04/06/2015,P,V2,N1,U5,PR4,01/07/2015,X1,CHILD\n"
        "SYN-A,01/09/2015,P,V2,N1,U5,PR4,01/10/2015,E13,\n",
    )
    assert c.report.count("x1_gap_bridged") == 1
    assert c.report.count("x1_chain_broken") == 1
    assert len(c.periods) == 2
    assert c.periods["route"].iloc[0] == "other"
    assert c.report.count("period_start_not_s") == 1


def test_exits_on_the_18th_birthday_are_leaving_care_and_earlier_e5_is_other(tmp_path):
    c = clean(
        tmp_path,
        "SYN-C,01/05/2015,S,V2,N1,H5,PR4,10/10/2016,E8,\n"  # 18th birthday, REC 'other'
        "SYN-A,01/05/2015,S,V2,N1,U4,PR1,01/09/2015,E5,\n",  # aged 7, independent living?
    )
    per = c.periods.sort_values("age_at_entry_years")
    assert list(per["route"]) == ["leaving_care", "other"]
    assert list(per["route_model"]) == ["other", "leaving_care"]
    assert c.report.count("exit_at_18_as_leaving_care") == 1
    assert c.report.count("early_leaving_care_as_other") == 1


def test_category_and_provider_follow_the_domain_grouping(tmp_path):
    places = [
        ("U1", "PR1", "kinship", "in_house"),
        ("U5", "PR1", "fostering", "in_house"),
        ("U6", "PR4", "fostering", "external"),
        ("R1", "PR5", "residential", "external"),
        ("K1", "PR2", "secure", "external"),
        ("H5", "PR1", "supported", "in_house"),
        ("P1", "PR0", "placed_with_parents", "in_house"),
        ("A5", "PR1", "adoption", "in_house"),
        ("Z1", "PR4", "other", "external"),
    ]
    rows = "".join(
        f"SYN-A,{i + 1:02d}/05/2015,S,V2,N1,{place},{prov},{i + 1:02d}/05/2015,E13,\n"
        for i, (place, prov, _, _) in enumerate(places)
    )
    c = clean(tmp_path, rows)
    got = list(zip(c.episodes["category"], c.episodes["provider"], strict=True))
    assert got == [(cat, prov) for _, _, cat, prov in places]


def test_the_report_lists_every_rule_with_counts_and_skipped_rows(tmp_path):
    c = clean(tmp_path, "SYN-A,01/05/2015,S,V2,N1,U4,PR1,01/09/2015,E13,\n")
    table = c.report.to_frame()
    assert list(table.columns) == ["rule", "rows_affected", "description"]
    for rule in (
        "exact_duplicates",
        "duplicates_across_years",
        "overlapping_episodes",
        "short_breaks_excluded",
        "legal_status_only",
        "periods_of_care",
    ):
        assert rule in set(table["rule"])
    assert "| periods_of_care | 1 |" in c.report.to_markdown()


def test_cleaning_the_synthetic_returns_recovers_the_true_periods_exactly():
    data = synthetic()
    c = clean_episodes(load_903(data.episodes, data.header))
    start = pd.Timestamp(data.parameters.window_start)
    truth = data.periods[~data.periods["short_break"] & (data.periods["start"] >= start)]
    got = c.periods[c.periods["start"] >= start]
    key = ["start", "end", "route"]
    t = truth[key].sort_values(key, na_position="last").reset_index(drop=True)
    g = (
        got.assign(route=got["route_model"])[key]
        .sort_values(key, na_position="last")
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(t, g, check_dtype=False)
    # Every kind of mess was met and handled.
    for rule in (
        "exact_duplicates",
        "duplicates_across_years",
        "overlapping_episodes",
        "short_breaks_excluded",
        "legal_status_only",
        "legacy_codes_mapped",
    ):
        assert c.report.count(rule) > 0, rule
    assert c.report.count("overlapping_episodes") == data.parameters.overlap_count


@pytest.mark.parametrize("as_at", ["2013-09-30", "2015-03-31"])
def test_open_periods_are_exactly_those_running_at_the_end(as_at, tmp_path):
    from sim.calibrate import truncate

    data = synthetic()
    cut = pd.Timestamp(as_at)
    c = clean_episodes(truncate(load_903(data.episodes, data.header), cut.date()))
    truth = data.periods[~data.periods["short_break"] & (data.periods["start"] <= cut)]
    running = truth["end"].isna() | (truth["end"] > cut)
    assert int(c.periods["open"].sum()) == int(running.sum())


def test_care_after_a_short_break_starting_with_rne_p_is_an_entry(tmp_path):
    # Window from 1 April 2015 (the files' earliest year); SYN-A's short break ends
    # the day care begins, with RNE P; SYN-B's first episode (RNE L) starts within a
    # week of the window start, so whether it was looked after before is unknown.
    c = clean(
        tmp_path,
        "SYN-A,01/04/2015,S,V3,N1,K2,PR1,03/04/2015,E13,\n"
        "SYN-A,01/06/2015,S,V3,N1,K2,PR1,03/06/2015,X1,\n"
        "SYN-A,03/06/2015,P,C2,N1,U4,PR1,,,\n"
        "SYN-B,03/04/2015,L,C2,N1,U4,PR1,01/09/2015,E13,\n",
    )
    per = c.periods.set_index("child_key").sort_index()
    assert list(per["first_rne"]) == ["P", "L"]
    assert list(per["start_known"]) == [True, False]
    assert list(per["left_truncated"]) == [False, True]


def test_an_episode_days_after_an_exit_without_rne_s_rejoins_the_period(tmp_path):
    c = clean(
        tmp_path,
        "SYN-A,01/05/2015,S,C2,N1,U4,PR1,01/07/2015,E13,\n"
        "SYN-A,04/07/2015,P,C2,N1,U5,PR1,01/10/2015,E13,\n"  # 3 days later, RNE P
        "SYN-A,01/12/2015,S,C2,N1,U4,PR1,,,\n",  # a new period
    )
    assert len(c.periods) == 2
    assert c.report.count("exit_rejoined") == 1
    first = c.periods.iloc[0]
    assert first["start"] == pd.Timestamp("2015-05-01")
    assert first["end"] == pd.Timestamp("2015-10-01")
