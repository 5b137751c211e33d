"""The measures registry: every summary measure has a label, a unit and a way to print it."""

from __future__ import annotations

import math

import pytest

from sim.analysis.measures import KEY_MEASURES, MEASURES, format_range, format_value, label_of
from sim.results.tables import SUMMARY_MEASURES


def test_every_summary_measure_is_registered_and_no_other():
    assert set(MEASURES) == set(SUMMARY_MEASURES)


def test_key_measures_come_from_the_registry_in_order():
    assert all(MEASURES[m.name] is m for m in KEY_MEASURES)
    assert KEY_MEASURES[0].name == "looked_after"


@pytest.mark.parametrize(
    ("value", "style", "signed", "text"),
    [
        (32_412_000, "gbp", False, "£32.4m"),
        (2_345_678, "gbp", False, "£2.35m"),
        (-1_250_000, "gbp", True, "−£1.25m"),
        (850_000, "gbp", False, "£850k"),
        (120, "gbp", False, "£120"),
        (0.6612, "pct", False, "66%"),
        (0.012, "pct", True, "+1.2 pp"),
        (1234.4, "count", False, "1,234"),
        (0.0004, "count", True, "0.0"),
        (14.62, "num", False, "14.6"),
        (math.nan, "gbp", False, "–"),
    ],
)
def test_numbers_print_as_people_read_them(value, style, signed, text):
    assert format_value(value, style, signed=signed) == text


def test_a_range_repeats_the_unit_on_both_ends():
    assert format_range(31.2e6, 32.9e6, "gbp") == "£31.2m–£32.9m"
    assert format_range(math.nan, 1, "count") == ""


def test_labels_fall_back_to_a_readable_name():
    assert label_of("cost_total_gbp") == "Total spend"
    assert label_of("waiting_days") == "Waiting days"
