"""What a run reports: the names and meanings of its measures, and financial years.

The config layer names these (a target, a precision goal, a budget line
refers to a summary measure), so they are defined here, below the model;
:mod:`sim.results.tables` computes them and :mod:`sim.analysis.measures`
gives each a label and unit for people.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["COST_GROUPS", "SUMMARY_MEASURES", "TIMESERIES_MEASURES", "financial_year"]


#: The groups that spend is reported in (summary measure ``cost_<group>_gbp``, in
#: cash and real terms, and a budget line each); ``cost_total_gbp`` is
#: placements + allowances + staff + other + front_door.
COST_GROUPS: tuple[str, ...] = (
    "placements",
    "in_house_placements",
    "external_placements",
    "allowances",
    "staff",
    "other",
    "front_door",
)

#: Monthly measures: name -> meaning (stocks are at month end, flows are month totals).
TIMESERIES_MEASURES: dict[str, str] = {
    "referrals": "children referred in the month (new, re_referral)",
    "triage": "front-door decisions (no_further_action, early_help, assessment), children",
    "assessment_outcomes": "completed assessments by outcome (not_in_need, cin, cp, care)",
    "cin_starts": "children starting a child in need plan",
    "cp_starts": "children starting a child protection plan",
    "escalations_to_care": "children escalated from a CIN or CP plan towards care",
    "edge_of_care": "edge-of-care starts and outcomes (started, diverted, entered_care)",
    "entries": "children starting to be looked after (all, and by category needed)",
    "exits": "children ceasing to be looked after (all, and by route)",
    "moves": "placement moves (all, and by reason)",
    "children_3plus_placements": "children reaching their third placement of the financial year",
    "looked_after": "children looked after at month end (all, and by placement type)",
    "looked_after_by_category": "children looked after at month end by placement category",
    "looked_after_by_provider": "children looked after at month end by provider",
    "in_house_occupancy": "children in each finite in-house type at month end",
    "capacity": "places of each finite type at month end",
    "in_house_utilisation": "occupied / available place-days in the month, per finite type",
    "open_cases": "open cases at month end (assessment, cin, cp, edge_of_care, looked_after, all)",
    "caseload_per_fte": "case-days / FTE-days in the month",
    "fte": "social workers (FTE) at month end",
    "allowances": "children on an allowance after leaving care, by route (and all)",
    "staying_put": "care leavers staying put with former foster carers",
    "early_help": "children in early help at month end",
    "edge_of_care_children": "children supported by the edge-of-care service at month end",
    "waiting": "children in a fallback placement waiting for a suitable place",
    "cost_gbp": "spend in the month by category (placement types, allowances, staff, ...) and "
    "all, in cash terms",
    "cost_real_gbp": "cost_gbp at price-base prices (real terms)",
    "in_house_cost_gbp": "in-house placement spend in the month (fixed, variable, one_off, all)",
    "empty_place_cost_gbp": "fixed cost of the unused in-house places in the month, per type",
    "entries_uasc": "unaccompanied asylum-seeking children (UASC) starting to be looked after "
    "(only in runs where UASC arrive)",
    "looked_after_uasc": "UASC looked after at month end (also counted in looked_after)",
    "income_gbp": "income in the month: the Home Office grant for UASC (uasc_grant); not "
    "netted off cost_gbp",
}

#: Summary measures: name -> meaning.
SUMMARY_MEASURES: dict[str, str] = {
    "cost_total_gbp": "all spend in the financial year",
    "cost_placements_gbp": "placement spend in the financial year",
    "cost_in_house_placements_gbp": "in-house placement spend in the financial year: fixed, "
    "variable and one-off",
    "cost_external_placements_gbp": "external placement spend in the financial year",
    "cost_allowances_gbp": "SGO, CAO and adoption allowances in the financial year",
    "cost_staff_gbp": "social-worker cost in the financial year",
    "cost_other_gbp": "edge of care, staying put, leaving care in the financial year",
    "looked_after": "children looked after on 31 March",
    "external_residential": "children in external residential placements on 31 March",
    "in_house_share_fostering": "in-house share of fostering days in the financial year",
    "entries": "children starting to be looked after in the financial year",
    "exits": "children ceasing to be looked after in the financial year",
    "referrals": "referrals in the financial year",
    "assessments": "assessments started in the financial year",
    "caseload_mean": "case-days / FTE-days in the financial year",
    "caseload_peak": "highest monthly caseload per FTE in the financial year",
    "moves_per_child": "moves / children looked after at any time in the reported period",
    "share_3plus_placements": "share of children looked after in the year with 3+ placements",
    "direct_financial_support": "children on allowances on 31 March",
    "cost_total_real_gbp": "cost_total_gbp at price-base prices (real terms)",
    "cost_placements_real_gbp": "cost_placements_gbp at price-base prices",
    "cost_in_house_placements_real_gbp": "cost_in_house_placements_gbp at price-base prices",
    "cost_external_placements_real_gbp": "cost_external_placements_gbp at price-base prices",
    "cost_allowances_real_gbp": "cost_allowances_gbp at price-base prices",
    "cost_staff_real_gbp": "cost_staff_gbp at price-base prices",
    "cost_other_real_gbp": "cost_other_gbp at price-base prices",
    "cost_front_door_real_gbp": "cost_front_door_gbp at price-base prices",
    "cost_in_house_fixed_gbp": "fixed cost of in-house places (capacity x cost per place)",
    "cost_in_house_variable_gbp": "variable cost of occupied in-house places",
    "cost_in_house_one_off_gbp": "one-off costs of opening or closing in-house places",
    "cost_external_residential_gbp": "external residential placement spend in the financial year",
    "cost_empty_places_gbp": "fixed cost of unused in-house places (fixed x unused share)",
    "in_house_utilisation": "occupied / available place-days of finite in-house types",
    "in_house_utilisation_fostering": "the same, in-house fostering types with a capacity",
    "in_house_utilisation_residential": "the same, in-house residential types with a capacity",
    "in_house_utilisation_supported": "the same, in-house supported types with a capacity",
    "cost_front_door_gbp": "early help, assessments, s47 enquiries, CIN and CP plans (variable)",
    "cost_early_help_gbp": "early-help cases in the financial year",
    "cost_assessments_gbp": "assessments started in the financial year (beyond the FTE cost)",
    "cost_s47_enquiries_gbp": "s47 enquiries and initial conferences in the financial year",
    "cost_cin_plans_gbp": "child in need plan-days in the financial year x the daily rate",
    "cost_cp_plans_gbp": "child protection plan-days in the financial year x the daily rate",
    "looked_after_uasc": "UASC looked after on 31 March (also counted in looked_after)",
    "entries_uasc": "UASC starting to be looked after in the financial year (also in entries)",
    "income_uasc_grant_gbp": "Home Office grant for UASC looked after in the financial year",
    "cost_net_gbp": "cost_total_gbp less income_uasc_grant_gbp",
    "supported_accommodation": "children in supported accommodation on 31 March (all children)",
}


def financial_year(day: dt.date) -> str:
    """UK financial year label of a date: 1 April 2016 to 31 March 2017 is ``2016-17``."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"
