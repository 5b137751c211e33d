"""Small configs for model tests, built as plain dicts and validated like a TOML file.

Two families:

* :func:`care_queue` — a front door that sends every referral straight into
  care, so that entries to care are a Poisson process of known rate and the
  care system is a textbook queue (M/G/c/c with overflow to an unlimited
  external type, or M/G/∞). Theory tests compare the model with formulas.
* :func:`small_baseline` — the Worcestershire baseline shrunk (fewer
  referrals, a smaller starting population, a short horizon) so that many
  variants can be run quickly.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from sim.config import Config, config_from_dict, raw_config

__all__ = [
    "BASELINE",
    "FINITE_IN_HOUSE",
    "build",
    "care_queue",
    "entries_per_year_for",
    "small_baseline",
]

BASELINE = Path(__file__).resolve().parent.parent / "configs" / "worcestershire-2016.toml"

#: In-house types of the baseline whose capacity is finite.
FINITE_IN_HOUSE = ("foster_in_house", "intensive_fostering", "resi_in_house", "supported_in_house")

DAYS_PER_YEAR = 365.25  # the model's year, used to turn rates per day into rates per year


def build(data: dict[str, Any], *, source: str = "<test config>") -> Config:
    """Validate ``data`` exactly as a TOML file would be."""
    return config_from_dict(data, source=source)


def entries_per_year_for(per_day: float) -> float:
    """Referral rate per (model) year giving ``per_day`` referrals a day."""
    return per_day * DAYS_PER_YEAR


def _fixed(value: float) -> dict[str, Any]:
    return {"distribution": "fixed", "value": value}


def care_queue(
    *,
    entries_per_day: float,
    stay_days: dict[str, Any],
    in_house_places: int | None,
    years: float,
    warmup_days: int = 0,
    start_date: str = "2020-04-01",
) -> dict[str, Any]:
    """A config whose care system is a queue fed by Poisson arrivals.

    Every referral is a single child aged under 1 who goes straight into care
    on the day of referral: both front-door thresholds are 0, every assessed
    score is above the care percentile (0), decision and assessment take 0
    days, there is no edge-of-care service and nobody is re-referred. So
    entries to care are the referral process itself, Poisson with
    ``entries_per_day``. Nobody can reach 18 within the horizons used here
    (about 20 years at most), so the only exit is ``return_home`` after
    ``stay_days`` drawn independently on entry.

    Every child needs fostering: first ``foster_in_house`` (``in_house_places``
    places, or unlimited when None), else ``foster_external`` (unlimited).
    No breakdowns, step-downs, waiting list or bringing back in-house, so a
    child stays where it was first placed.
    """
    return {
        "run": {
            "name": "queue",
            "start_date": start_date,
            "years": years,
            "warmup_days": warmup_days,
        },
        "referrals": {
            "rate_per_year": entries_per_year_for(entries_per_day),
            "age_bands": [
                {"min_age_years": 0, "max_age_years": 1, "share": 1.0},
                {"min_age_years": 1, "max_age_years": 18, "share": 0.0},
            ],
            "sibling_group_shares": [1.0],
        },
        "front_door": {
            "observation_noise_sd": 0.0,
            "early_help_above_percentile": 0.0,
            "assessment_above_percentile": 0.0,
            "decision_days": 0.0,
            "rereferral_probability": 0.0,
            "underserved_rereferral_probability": 0.0,
            "rereferral_days": _fixed(1.0),
            "need_drift_sd": 0.0,
        },
        "assessment": {
            "duration_days": _fixed(0.0),
            "noise_sd": 0.0,
            "cin_above_percentile": 0.0,
            "cp_above_percentile": 0.0,
            "care_above_percentile": 0.0,
        },
        "child_in_need": {"duration_days": _fixed(1.0)},
        "child_protection": {"duration_days": _fixed(1.0)},
        "placement_types": {
            "foster_in_house": {
                "category": "fostering",
                "provider": "in_house",
                "weekly_cost_gbp": 450,
                **({} if in_house_places is None else {"capacity": in_house_places}),
            },
            "foster_external": {
                "category": "fostering",
                "provider": "external",
                "weekly_cost_gbp": 850,
            },
        },
        "placement_policy": {
            "entry": [{"min_age_years": 0, "max_age_years": 18, "shares": {"fostering": 1.0}}],
        },
        "exits": {
            "routes": {"return_home": {"duration_days": stay_days}},
            "age_bands": [
                {"min_age_years": 0, "max_age_years": 18, "shares": {"return_home": 1.0}}
            ],
        },
        "workforce": {"fte": 10},
    }


def small_baseline(
    *,
    years: float = 2,
    referral_scale: float = 0.25,
    population_scale: float = 0.25,
) -> dict[str, Any]:
    """The baseline dict with fewer referrals and a smaller starting population.

    Capacities stay as in the baseline; the starting looked-after groups are
    scaled by ``population_scale`` (never above the capacity of their type)
    and so are the open CIN/CP plans and the allowance groups.
    """
    data = copy.deepcopy(raw_config(BASELINE))
    data["run"]["years"] = years
    data["referrals"]["rate_per_year"] = data["referrals"]["rate_per_year"] * referral_scale
    data["workforce"]["fte"] = data["workforce"]["fte"] * max(referral_scale, population_scale)
    init = data["initial_population"]
    for group in init.get("looked_after", []):
        group["count"] = math.ceil(group["count"] * population_scale)
    for group in init.get("allowances", []):
        group["count"] = math.ceil(group["count"] * population_scale)
    init["child_in_need"] = int(init["child_in_need"] * population_scale)
    init["child_protection"] = int(init["child_protection"] * population_scale)
    return data
