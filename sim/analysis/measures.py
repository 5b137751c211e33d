"""The summary measures: one registry of labels, units and kinds, and one number formatter.

Every table, chart and page that shows a summary measure takes its label,
unit and way of printing from :data:`MEASURES`; :data:`KEY_MEASURES` is the
order in which the key ones are shown first. The meaning of each measure is
in :data:`sim.results.tables.SUMMARY_MEASURES`; a test keeps the two lists
the same. This module imports nothing heavy, so the command line can use it
at start-up.

>>> MEASURES["cost_total_gbp"].unit
'£ a financial year'
>>> format_value(32_412_000, "gbp")
'£32.4m'
>>> format_value(-1_250_000, "gbp", signed=True)
'−£1.25m'
>>> format_value(0.6612, "pct")
'66%'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "KEY_MEASURES",
    "MEASURES",
    "Measure",
    "format_range",
    "format_value",
    "label_of",
]

Kind = Literal["stock", "flow", "cost", "share", "rate"]
Style = Literal["count", "gbp", "pct", "num"]


@dataclass(frozen=True, slots=True)
class Measure:
    """How a summary measure is named and printed.

    Attributes
    ----------
    name
        The measure's key in the summary table (``cost_total_gbp``).
    label
        What a table or chart calls it ("Total spend").
    unit
        Its unit in words ("children on 31 March", "£ a financial year").
    kind
        ``stock`` (a count on a day), ``flow`` (a count over a year), ``cost``
        (£ over a year), ``share`` (a proportion) or ``rate`` (a ratio).
    style
        How numbers are printed: ``count``, ``gbp``, ``pct`` or ``num``.
    indent
        True for a part of the measure above it (printed indented in tables).

    """

    name: str
    label: str
    unit: str
    kind: Kind
    style: Style
    indent: bool = False


def _m(name: str, label: str, unit: str, kind: Kind, style: Style, indent: bool = False) -> Measure:
    return Measure(name, label, unit, kind, style, indent)


_ALL = (
    _m("looked_after", "Children looked after on 31 March", "children", "stock", "count"),
    _m(
        "external_residential",
        "in external residential",
        "children",
        "stock",
        "count",
        indent=True,
    ),
    _m(
        "in_house_share_fostering",
        "In-house share of fostering days",
        "share of days",
        "share",
        "pct",
    ),
    _m("entries", "Children starting care", "children a year", "flow", "count"),
    _m("exits", "Children leaving care", "children a year", "flow", "count"),
    _m("referrals", "Referrals", "referrals a year", "flow", "count"),
    _m("assessments", "Assessments", "assessments a year", "flow", "count"),
    _m("caseload_mean", "Cases per social worker (FTE)", "cases per FTE", "rate", "num"),
    _m("cost_placements_gbp", "Placement spend", "£ a financial year", "cost", "gbp"),
    _m(
        "cost_in_house_placements_gbp",
        "in-house placements",
        "£ a financial year",
        "cost",
        "gbp",
        indent=True,
    ),
    _m(
        "cost_external_placements_gbp",
        "external placements",
        "£ a financial year",
        "cost",
        "gbp",
        indent=True,
    ),
    _m("cost_allowances_gbp", "Allowances after care", "£ a financial year", "cost", "gbp"),
    _m("cost_total_gbp", "Total spend", "£ a financial year", "cost", "gbp"),
    _m("cost_staff_gbp", "Social-worker spend", "£ a financial year", "cost", "gbp"),
    _m("cost_other_gbp", "Other services' spend", "£ a financial year", "cost", "gbp"),
    _m("cost_front_door_gbp", "Front-door and plan spend", "£ a financial year", "cost", "gbp"),
    _m("cost_early_help_gbp", "early help", "£ a financial year", "cost", "gbp", indent=True),
    _m("cost_assessments_gbp", "assessments", "£ a financial year", "cost", "gbp", indent=True),
    _m(
        "cost_s47_enquiries_gbp",
        "s47 enquiries",
        "£ a financial year",
        "cost",
        "gbp",
        indent=True,
    ),
    _m("cost_cin_plans_gbp", "CIN plans", "£ a financial year", "cost", "gbp", indent=True),
    _m("cost_cp_plans_gbp", "CP plans", "£ a financial year", "cost", "gbp", indent=True),
    _m("caseload_peak", "Peak monthly cases per social worker", "cases per FTE", "rate", "num"),
    _m("moves_per_child", "Placement moves per child", "moves per child", "rate", "num"),
    _m(
        "share_3plus_placements",
        "Children with 3+ placements in the year",
        "share of children",
        "share",
        "pct",
    ),
    _m(
        "direct_financial_support",
        "Children on allowances on 31 March",
        "children",
        "stock",
        "count",
    ),
    *(
        _m(
            f"cost_{line}_real_gbp",
            f"{label} in real terms",
            "£ a financial year at price-base prices",
            "cost",
            "gbp",
        )
        for line, label in (
            ("total", "Total spend"),
            ("placements", "Placement spend"),
            ("in_house_placements", "In-house placement spend"),
            ("external_placements", "External placement spend"),
            ("allowances", "Allowances after care"),
            ("staff", "Social-worker spend"),
            ("other", "Other services' spend"),
            ("front_door", "Front-door activity spend"),
        )
    ),
    _m("cost_in_house_fixed_gbp", "In-house fixed cost", "£ a financial year", "cost", "gbp"),
    _m(
        "cost_in_house_variable_gbp",
        "In-house variable cost",
        "£ a financial year",
        "cost",
        "gbp",
    ),
    _m(
        "cost_in_house_one_off_gbp",
        "In-house opening and closing costs",
        "£ a financial year",
        "cost",
        "gbp",
    ),
    _m(
        "cost_external_residential_gbp",
        "External residential spend",
        "£ a financial year",
        "cost",
        "gbp",
    ),
    _m(
        "cost_empty_places_gbp",
        "Fixed cost of empty in-house places",
        "£ a financial year",
        "cost",
        "gbp",
    ),
    _m(
        "in_house_utilisation",
        "In-house utilisation",
        "share of place-days",
        "share",
        "pct",
    ),
    _m(
        "in_house_utilisation_fostering",
        "in-house fostering",
        "share of place-days",
        "share",
        "pct",
        indent=True,
    ),
    _m(
        "in_house_utilisation_residential",
        "in-house residential",
        "share of place-days",
        "share",
        "pct",
        indent=True,
    ),
    _m(
        "in_house_utilisation_supported",
        "in-house supported",
        "share of place-days",
        "share",
        "pct",
        indent=True,
    ),
    _m("looked_after_uasc", "UASC looked after on 31 March", "children", "stock", "count"),
    _m("entries_uasc", "UASC starting care", "children a year", "flow", "count"),
    _m(
        "income_uasc_grant_gbp",
        "Home Office UASC grant (income)",
        "£ a financial year",
        "cost",
        "gbp",
    ),
    _m("cost_net_gbp", "Net spend (total less UASC grant)", "£ a financial year", "cost", "gbp"),
    _m(
        "supported_accommodation",
        "Children in supported accommodation on 31 March",
        "children",
        "stock",
        "count",
    ),
)

#: Every summary measure by name.
MEASURES: dict[str, Measure] = {m.name: m for m in _ALL}

#: The measures shown first in tables and reports, in order.
KEY_MEASURES: tuple[Measure, ...] = _ALL[:13]


def label_of(measure: str) -> str:
    """The label of ``measure``, or a readable form of its name when it is not registered.

    >>> label_of("entries"), label_of("waiting_days")
    ('Children starting care', 'Waiting days')
    """
    if measure in MEASURES:
        m = MEASURES[measure]
        return m.label[0].upper() + m.label[1:]
    text = measure.removesuffix("_gbp").replace("_", " ")
    return text[0].upper() + text[1:] if text else measure


def format_value(value: float, style: str, *, signed: bool = False) -> str:
    """A number as a person reads it in a table: ``£32.4m``, ``£850k``, ``66%``, ``1,204``.

    Parameters
    ----------
    value
        The number (NaN prints as an en dash).
    style
        ``gbp``, ``pct``, ``num`` or ``count`` (see :class:`Measure`).
    signed
        Print ``+`` for a positive value (a difference). Differences of a
        share are printed in percentage points. A value that rounds to zero
        carries no sign.

    Examples
    --------
    >>> format_value(2_345_678, "gbp"), format_value(-0.012, "pct", signed=True)
    ('£2.35m', '−1.2 pp')
    >>> format_value(0.0004, "count", signed=True), format_value(1234.5, "count")
    ('0.0', '1,234')

    """
    if value != value or math.isinf(value):  # NaN or infinite
        return "–"
    a = abs(value)
    if style == "gbp":
        if a >= 1e6:
            body = f"£{a / 1e6:,.{2 if a < 1e7 else 1}f}m"
        elif a >= 1e3 or signed:
            body = f"£{a / 1e3:,.0f}k"
        else:
            body = f"£{a:,.0f}"
    elif style == "pct":
        body = f"{100 * a:.1f} pp" if signed else f"{100 * a:.0f}%"
    elif style == "num":
        body = f"{a:,.1f}"
    else:
        body = f"{a:,.0f}" if a >= 10 or not signed else f"{a:,.1f}"
    if not any(c in "123456789" for c in body):
        return body  # rounds to zero: no sign
    return ("−" if value < 0 else "+" if signed else "") + body


def format_range(low: float, high: float, style: str) -> str:
    """A P10–P90 (or CI) range in one unit: ``£31.2m–£32.9m``, ``52%–55%``, ``714–746``.

    >>> format_range(714.2, 746.0, "count")
    '714–746'
    """
    if low != low or high != high:
        return ""
    return f"{format_value(low, style)}–{format_value(high, style)}"
