"""Map estimates onto the config schema, starting from a template config.

Keys the data can give are replaced and annotated ``[estimated]`` (with the
estimate, its interval and n) or ``[derived]``; every other key keeps the
template's value and is annotated ``[input] national default from template:
fill in`` by the writer. Only aggregates reach the config: counts, shares,
rates, distributions and ranges of age and time in care.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pandas as pd

from sim.calibrate.codes import CATEGORY_ORDER, ROUTE_ORDER
from sim.calibrate.estimators import Estimates
from sim.calibrate.rates import band_index, wilson_ci
from sim.calibrate.survival import ParametricFit
from sim.config.schedule import Schedule
from sim.config.schema import ENTRY_CATEGORY_ORDER, Config

__all__ = [
    "DAYS_IN_CARE_EDGES",
    "FRONT_DOOR_STOCKS",
    "INPUT_NOTE",
    "KeyPath",
    "Mapped",
    "front_door_at",
    "map_estimates",
    "run_start_after",
    "warm_start_age_edges",
    "warm_start_groups",
]

KeyPath = tuple[str | int, ...]
"""A key path: table names, keys and array indices."""

INPUT_NOTE = "[input] national default from template: fill in"
#: Bands of days in care for the starting population (the last is open-ended).
DAYS_IN_CARE_EDGES: tuple[int, ...] = (0, 91, 365, 730, 1461, 2922, 6575)
_MIN_BAND_ENTRIES = 20
#: Front-door work under way on the first day (``initial_population`` keys). A template
#: sets them at its model's own level for its referral rate; every stage's flow is
#: proportional to referrals (thresholds are percentiles), so they scale with the rate.
FRONT_DOOR_STOCKS: tuple[str, ...] = (
    "assessments",
    "rereferrals_per_year",
    "child_in_need",
    "child_protection",
)
_MIN_BREAKDOWN_YEARS = 5.0


@dataclass
class Mapped:
    """A config as a plain dict, with comments and notes for the report.

    Attributes
    ----------
    data
        The config dict (validates with :func:`sim.config.config_from_dict`).
    comments
        Comment per key path (see :func:`sim.calibrate.writer.render_config`).
    sections
        Comment above tables.
    estimated
        Dotted keys set from the data.
    notes
        Things the reader should know (pooled bands, raised capacities...).
    capacity_changes
        Placement type -> (template capacity, data occupancy) where raised.

    """

    data: dict[str, Any]
    comments: dict[KeyPath, str] = field(default_factory=dict)
    sections: dict[KeyPath, str] = field(default_factory=dict)
    estimated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    capacity_changes: dict[str, tuple[float, int]] = field(default_factory=dict)

    def set(self, path: KeyPath, value: Any, comment: str, *, kind: str = "estimated") -> None:
        """Set ``value`` at ``path`` (creating tables) and annotate it."""
        cur: Any = self.data
        for p in path[:-1]:
            cur = cur[p] if isinstance(p, int) else cur.setdefault(p, {})
        cur[path[-1]] = value
        self.comments[path] = f"[{kind}] {comment}" if comment else f"[{kind}]"
        self.estimated.append(".".join(str(p) for p in path))


def run_start_after(as_at: dt.date) -> dt.date:
    """First day of the month after ``as_at`` (the day after it when it ends a month)."""
    nxt = as_at + dt.timedelta(days=1)
    if nxt.day == 1:
        return nxt
    return dt.date(nxt.year + (nxt.month == 12), nxt.month % 12 + 1, 1)


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _ci(lo: float, hi: float) -> str:
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "no CI"
    return f"95% CI {_fmt(lo)}-{_fmt(hi)}"


def _round_shares(shares: Mapping[str, float], places: int = 4) -> dict[str, float]:
    """Round shares to ``places`` decimals so that they still sum to exactly 1."""
    q = Decimal(1).scaleb(-places)
    items = {
        k: Decimal(repr(float(v))).quantize(q, rounding=ROUND_HALF_EVEN) for k, v in shares.items()
    }
    items = {k: v for k, v in items.items() if v > 0}
    if not items:
        raise ValueError("all shares are zero")
    largest = max(items, key=lambda k: items[k])
    items[largest] += Decimal(1) - sum(items.values())
    return {k: float(v) for k, v in items.items() if v > 0}


def _dist_dict(fit: ParametricFit) -> dict[str, Any]:
    return fit.distribution().model_dump(exclude_none=True)


def _describe_fit(fit: ParametricFit) -> str:
    d = fit.distribution()
    return f"{d.distribution} (median {fit.median_days():.0f} days, mean {fit.mean_days():.0f})"


def _edges(bands: Sequence[Any]) -> list[float]:
    return [float(bands[0]["min_age_years"]), *[float(b["max_age_years"]) for b in bands]]


def front_door_at(config: Config, factor: float) -> dict[str, Any]:
    """``initial_population`` front-door keys (dotted) of ``config`` scaled by ``factor``.

    Used with the referral rate scaled by the same factor, so that a run starts
    with as much front-door work under way as that rate keeps going: left at
    the template's level, the surplus or shortfall escalates into care in the
    first months (a transient in entries).
    """
    init = config.initial_population
    out: dict[str, Any] = {}
    for key in FRONT_DOOR_STOCKS:
        value = getattr(init, key)
        scaled = value * factor
        out[f"initial_population.{key}"] = (
            round(scaled) if isinstance(value, int) else float(f"{scaled:.5g}")
        )
    return out


# ---------------------------------------------------------------- warm start


def _match_type(config: Config, category: str, provider: str, place: str) -> tuple[str | None, str]:
    """Template placement type for a child in ``place`` (category, provider)."""
    types = config.placement_types

    def usable(name: str) -> bool:
        cap = types[name].capacity
        return cap is None or cap.maximum() > 0

    cands = [
        n
        for n, t in types.items()
        if place in t.place_codes and t.provider == provider and usable(n)
    ]
    if cands:
        return cands[0], "place code and provider"
    cands = [
        n
        for n, t in types.items()
        if t.category == category and t.provider == provider and usable(n)
    ]
    if cands:
        return cands[0], "category and provider"
    cands = [n for n, t in types.items() if t.category == category and usable(n)]
    if cands:
        return cands[0], "category (other provider)"
    cands = [n for n, t in types.items() if place in t.place_codes and usable(n)]
    if cands:
        return cands[0], "place code"
    fb = config.placement_policy.fallback
    if fb is not None:
        return fb, "fallback"
    return None, "no match"


def warm_start_groups(
    stock: pd.DataFrame, config: Config, age_edges: Sequence[float]
) -> tuple[list[dict[str, Any]], dict[str, int], dict[str, int]]:
    """Children in care on the as-at date, grouped for ``initial_population.looked_after``.

    Groups are (placement type, age band, days-in-care band): only counts and
    band ranges, nothing about any single child.

    Returns
    -------
    groups
        Dicts for ``InitialLookedAfter``.
    occupancy
        Children per placement type.
    how
        Children per matching rule (see :func:`_match_type`).

    """
    if stock.empty:
        return [], {}, {}
    names = []
    how: dict[str, int] = {}
    cache: dict[tuple[str, str, str], tuple[str | None, str]] = {}
    for cat, prov, place in zip(stock["category"], stock["provider"], stock["place"], strict=True):
        key = (cat, prov, place)
        if key not in cache:
            cache[key] = _match_type(config, cat, prov, place)
        name, rule = cache[key]
        names.append(name)
        how[rule] = how.get(rule, 0) + 1
    df = stock.assign(type=names)
    df = df[df["type"].notna()]
    df = df.assign(
        age_band=band_index(df["age_years"].clip(upper=17.999), age_edges),
        days_band=np.clip(
            np.searchsorted(DAYS_IN_CARE_EDGES, df["days_in_care"], side="right") - 1,
            0,
            len(DAYS_IN_CARE_EDGES) - 2,
        ),
    )
    groups = []
    order = {n: i for i, n in enumerate(config.placement_types)}
    counted = df.groupby(["type", "age_band", "days_band"]).size().reset_index(name="count")
    counted["order"] = counted["type"].map(order)
    for row in counted.sort_values(["order", "age_band", "days_band"]).itertuples():
        lo_age, hi_age = float(age_edges[row.age_band]), float(age_edges[row.age_band + 1])
        lo_d = float(DAYS_IN_CARE_EDGES[row.days_band])
        hi_d = float(min(DAYS_IN_CARE_EDGES[row.days_band + 1], math.ceil(hi_age * 365.25)))
        groups.append(
            {
                "placement": row.type,
                "count": int(row.count),
                "min_age_years": lo_age,
                "max_age_years": hi_age,
                "min_days_in_care": lo_d,
                "max_days_in_care": max(hi_d, lo_d),
            }
        )
    occupancy = df.groupby("type").size().to_dict()
    return groups, {str(k): int(v) for k, v in occupancy.items()}, how


# ---------------------------------------------------------------- the mapping


def map_estimates(
    template_raw: Mapping[str, Any],
    template: Config,
    est: Estimates,
    *,
    referral_factor: float = 1.0,
    referral_note: str = "",
    name: str | None = None,
    source_note: str = "",
    uncertainty: bool = False,
    referral_rel_se: float = 0.0,
) -> Mapped:
    """Build the calibrated config dict from the template and the estimates.

    Parameters
    ----------
    template_raw
        The template as read from TOML (``sim.config.raw_config``).
    template
        The same template, validated.
    est
        The estimates.
    referral_factor
        Multiplier of the template's referral rate (measured by running the model).
    referral_note
        Comment explaining the referral rate.
    name
        ``run.name`` of the calibrated config.
    source_note
        Where the data came from (file names, years), for ``run.description``.
    uncertainty
        Also write ``parameter_uncertainty``: the referral rate, route durations
        and breakdown rates drawn once per replication from their estimation
        uncertainty, so that run bands include it.
    referral_rel_se
        Relative standard error of the referral rate (entries and model measurement).

    """
    data = copy.deepcopy(dict(template_raw))
    data.pop("extends", None)
    m = Mapped(data=data)
    as_at = est.as_at.date()

    # -- run
    start = run_start_after(as_at)
    m.set(
        ("run", "name"),
        name or f"Calibrated from SSDA903 data as at {as_at.isoformat()}",
        "",
        kind="derived",
    )
    m.set(
        ("run", "description"),
        f"Calibrated by caresim from SSDA903 data {est.window_start.date()} to {as_at}. "
        + source_note,
        "",
        kind="derived",
    )
    m.set(
        ("run", "start_date"),
        start,
        f"the first month start after the as-at date {as_at}",
        kind="derived",
    )
    m.set(
        ("run", "warmup_days"),
        0,
        "the run starts from the children in care on the as-at date",
        kind="derived",
    )
    if start != as_at + dt.timedelta(days=1):
        m.notes.append(
            f"run.start_date {start} is {(start - as_at).days} days after the as-at date {as_at}; "
            "the starting population is the one on the as-at date"
        )

    _map_referrals(m, template, est, referral_factor, referral_note)
    if est.cin is not None and est.cin.assessment_days is not None:
        fit = est.cin.assessment_days
        m.set(
            ("assessment", "duration_days"),
            _dist_dict(fit),
            f"{_describe_fit(fit)} by AIC from {est.cin.assessments} CIN assessments "
            f"(open ones censored)",
        )
    _map_placements(m, template, est)
    _map_entry(m, template, est)
    _map_exits(m, template, est)
    _map_population(m, template, est)
    if uncertainty:
        _map_uncertainty(m, est, referral_rel_se)
    return m


def _map_uncertainty(m: Mapped, est: Estimates, referral_rel_se: float) -> None:
    """Write estimation uncertainty as ``parameter_uncertainty`` (lognormal, sigma = SE of log)."""
    specs: dict[str, dict[str, Any]] = dict(m.data.get("parameter_uncertainty", {}))
    notes: list[str] = []
    rate = m.data["referrals"]["rate_per_year"]
    if isinstance(rate, int | float) and referral_rel_se > 0:
        specs["referrals.rate_per_year"] = {
            "distribution": "lognormal",
            "median": float(rate),
            "sigma": round(referral_rel_se, 4),
        }
        notes.append(f"referral rate: {referral_rel_se:.1%}")
    scale_key = {"exponential": "mean", "weibull": "scale", "lognormal": "median", "gamma": "mean"}
    durations = est.exit_durations.set_index("route")
    for route, fit in est.exits.fits.items():
        row = durations.loc[route]
        lo, hi = float(row["lower"]), float(row["upper"])
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0:
            continue
        sigma = (math.log(hi) - math.log(lo)) / (2 * 1.959964)
        if sigma <= 0:
            continue
        key = scale_key[fit.family]
        value = m.data["exits"]["routes"][route]["duration_days"][key]
        specs[f"exits.routes.{route}.duration_days.{key}"] = {
            "distribution": "lognormal",
            "median": float(value),
            "sigma": round(sigma, 4),
        }
        notes.append(f"{route} duration: {sigma:.1%}")
    moves = est.moves.set_index("category")
    for name, t in m.data["placement_types"].items():
        value = t.get("breakdown_per_year")
        cat = t.get("category")
        if not value or cat not in moves.index:
            continue
        se = float(moves.loc[cat, "se_log"])
        if (
            math.isfinite(se)
            and se > 0
            and f"placement_types.{name}.breakdown_per_year" in m.estimated
        ):
            specs[f"placement_types.{name}.breakdown_per_year"] = {
                "distribution": "lognormal",
                "median": float(value),
                "sigma": round(se, 4),
            }
    if specs:
        m.data["parameter_uncertainty"] = specs
        for key in specs:
            m.comments[("parameter_uncertainty", key)] = "[estimated] sampling uncertainty"
        m.sections[("parameter_uncertainty",)] = (
            "Estimation uncertainty, drawn once per replication (lognormal; sigma = standard "
            "error of the log from the Poisson counts or the bootstrap): "
            + "; ".join(notes)
            + ". Exit-route shares and the starting population are not varied."
        )
        m.estimated.append("parameter_uncertainty")


def _map_referrals(m: Mapped, template: Config, est: Estimates, factor: float, note: str) -> None:
    ref = m.data["referrals"]
    rate = Schedule.model_validate(ref["rate_per_year"]).scaled(factor)
    value = rate.to_toml_value()
    if isinstance(value, float):
        value = float(f"{value:.5g}")
    else:
        value = {k: float(f"{v:.5g}") for k, v in value.items()}
    m.set(
        ("referrals", "rate_per_year"),
        value,
        note or "template rate (not rescaled)",
        kind="estimated" if factor != 1.0 else "input",
    )
    if factor != 1.0:
        for dotted, scaled in front_door_at(template, factor).items():
            key = dotted.split(".")[-1]
            before = getattr(template.initial_population, key)
            if not before:
                continue
            m.set(
                ("initial_population", key),
                scaled,
                f"the template's {before:g} x the referral factor {factor:.3f}: the front-door "
                "work under way at the calibrated referral rate",
                kind="derived",
            )
    t = est.trend
    if t.significant:
        m.set(
            ("referrals", "trend_per_year"),
            round(t.growth_per_year, 4),
            f"entries grew {t.growth_per_year:+.1%} a year ({_ci(t.lower, t.upper)}, "
            f"{t.n_years} years; quasi-Poisson log-linear)",
        )
    else:
        m.set(
            ("referrals", "trend_per_year"),
            0.0,
            f"no significant trend in entries ({t.growth_per_year:+.1%} a year, "
            f"{_ci(t.lower, t.upper)}, {t.n_years} years): set to 0",
        )
    bands = ref["age_bands"]
    edges = _edges(bands)
    ages = est.entry_ages_years
    counts = np.bincount(band_index(ages, edges), minlength=len(bands)).astype(float)
    n = counts.sum()
    if n >= _MIN_BAND_ENTRIES:
        shares = _round_shares({str(i): c / n for i, c in enumerate(counts)})
        for i, band in enumerate(bands):
            band["share"] = shares.get(str(i), 0.0)
            lo, hi = wilson_ci(counts[i], n)
            m.comments[("referrals", "age_bands", i)] = (
                f"[estimated] age at entry to care: {int(counts[i])} of {int(n)} entries "
                f"({_ci(lo, hi)})"
            )
        m.estimated.append("referrals.age_bands")
        m.sections[("referrals", "age_bands")] = (
            "Referral ages are set to the ages at which children entered care, so that the "
            "model's entries have the observed age mix (its thresholds do not depend on age)."
        )


def _map_placements(m: Mapped, template: Config, est: Estimates) -> None:
    moves = est.moves.set_index("category")
    for name, t in template.placement_types.items():
        if t.capacity is not None and t.capacity.maximum() == 0:
            continue
        if t.category not in moves.index:
            continue
        row = moves.loc[t.category]
        if row["placement_years"] < _MIN_BREAKDOWN_YEARS:
            continue
        m.set(
            ("placement_types", name, "breakdown_per_year"),
            round(float(row["breakdown_per_year"]), 4),
            f"{t.category}: {int(row['breakdowns'])} unplanned moves in "
            f"{row['placement_years']:.0f} placement-years, under-13 rate "
            f"({_ci(row['lower'], row['upper'])})",
        )
    mult = est.teen_multiplier
    if math.isfinite(mult["se_log"]):
        m.set(
            ("placement_policy", "teen_breakdown_multiplier"),
            round(mult["value"], 3),
            f"Poisson regression of breakdowns on category and age 13+ "
            f"({_ci(mult['lower'], mult['upper'])})",
        )


def _map_entry(m: Mapped, template: Config, est: Estimates) -> None:
    bands = m.data["placement_policy"]["entry"]
    edges = _edges(bands)
    if [float(x) for x in est.entry_edges_years] != edges:
        raise ValueError("estimates were made with other entry bands than the template's")
    mix = est.entry_mix[est.entry_mix["provider"] == "all"]
    for i, band in enumerate(bands):
        label = f"{edges[i]:g}-{edges[i + 1]:g}"
        sub = mix[mix["band"] == label].set_index("category")
        n = int(sub["n"].iloc[0]) if len(sub) else 0
        if n < _MIN_BAND_ENTRIES:
            m.comments[("placement_policy", "entry", i)] = (
                f"{INPUT_NOTE} (only {n} entries aged {label} in the data)"
            )
            m.notes.append(
                f"placement_policy.entry band {label}: only {n} entries; template shares kept"
            )
            continue
        counts = {c: float(sub["count"].get(c, 0)) for c in CATEGORY_ORDER}
        model = {c: counts.get(c, 0.0) for c in ENTRY_CATEGORY_ORDER}
        kept = sum(model.values())
        if kept <= 0:
            continue
        shares = _round_shares({c: v / kept for c, v in model.items()})
        band["shares"] = {c: shares[c] for c in ENTRY_CATEGORY_ORDER if c in shares}
        other = counts.get("other", 0) + counts.get("adoption", 0)
        parts = ", ".join(
            f"{c} {int(counts[c])}" for c in ENTRY_CATEGORY_ORDER if counts.get(c, 0) > 0
        )
        extra = f"; {int(other)} in other/adoption placements spread pro rata" if other else ""
        m.comments[("placement_policy", "entry", i)] = (
            f"[estimated] first placements of {n} entries aged {label}: {parts}{extra}"
        )
        m.estimated.append(f"placement_policy.entry[{i}]")
    m.sections[("placement_policy", "entry")] = (
        "Category of the first placement by age at entry, from the data (parent_and_child "
        "cannot be told apart in SSDA903 codes and gets no share)."
    )


def _map_exits(m: Mapped, template: Config, est: Estimates) -> None:
    fit = est.exits
    durations = est.exit_durations.set_index("route")
    routes = m.data["exits"]["routes"]
    for route, f in fit.fits.items():
        if route not in routes:
            routes[route] = {}
        row = durations.loc[route]
        aics = {k.removeprefix("aic_"): v for k, v in row.items() if str(k).startswith("aic_")}
        aic_s = ", ".join(f"{k} {v:.0f}" for k, v in sorted(aics.items(), key=lambda kv: kv[1]))
        m.set(
            ("exits", "routes", route, "duration_days"),
            _dist_dict(f),
            f"{_describe_fit(f)}; median {_ci(row['lower'], row['upper'])}; "
            f"{int(row['n_events'])} exits; AIC: {aic_s}",
        )
    if (
        est.adoption_pre_exit is not None
        and "adoption" in routes
        and routes["adoption"].get("pre_exit_placement")
    ):
        pre = est.adoption_pre_exit
        m.set(
            ("exits", "routes", "adoption", "pre_exit_days"),
            _dist_dict(pre),
            f"time in the adoption placement before the order: {_describe_fit(pre)}, "
            f"n={est.adoption_pre_exit_n}",
        )
    bands = m.data["exits"]["age_bands"]
    edges = _edges(bands)
    if [float(x) for x in est.exit_edges_years] != edges:
        raise ValueError("estimates were made with other exit bands than the template's")
    shares_df = est.exit_shares
    for i, band in enumerate(bands):
        label = f"{edges[i]:g}-{edges[i + 1]:g}"
        sub = shares_df[shares_df["band"] == label].set_index("route")
        shares = _round_shares({r: float(sub.loc[r, "share"]) for r in ROUTE_ORDER})
        band["shares"] = {r: shares[r] for r in ROUTE_ORDER if r in shares}
        if band.pop("durations_days", None):
            m.notes.append(
                f"exits.age_bands[{i}]: the template's per-band durations were dropped; "
                "the calibrated route durations apply to every band"
            )
        n = int(sub["n"].iloc[0])
        pooled = bool(sub["pooled"].iloc[0])
        parts = "; ".join(
            f"{r} {sub.loc[r, 'share']:.2f} "
            f"({_fmt(sub.loc[r, 'lower'], 2)}-{_fmt(sub.loc[r, 'upper'], 2)})"
            for r in ROUTE_ORDER
            if sub.loc[r, "share"] >= 0.005
        )
        how = (
            "all ages pooled (too few periods)" if pooled else "EM mixture model, bootstrap 95% CI"
        )
        m.comments[("exits", "age_bands", i)] = (
            f"[estimated] {n} periods entering aged {label}, {how}: {parts}"
        )
        m.estimated.append(f"exits.age_bands[{i}]")
    m.sections[("exits", "age_bands")] = (
        "Exit routes by age at entry: shares from a mixture competing-risks model fitted by EM "
        "(open periods censored on the as-at date); leaving_care = expected to stay until 18."
    )


def warm_start_age_edges(edges: Sequence[float]) -> list[float]:
    """Age edges of the warm-start groups: ``edges`` with every whole year between them.

    The simulator draws a starting child's age uniformly inside its group, and
    the age sets when the child turns 18 and leaves care: within the last band
    (16-18) the children in care are mostly the older ones, so two-year bands
    spread leaving care evenly over two years when most of it comes in the first.
    """
    lo, hi = float(edges[0]), float(edges[-1])
    years = np.arange(math.ceil(lo), math.floor(hi) + 1, dtype=float)
    return sorted({float(e) for e in edges} | {float(y) for y in years})


def _map_population(m: Mapped, template: Config, est: Estimates) -> None:
    edges = warm_start_age_edges(est.exit_edges_years)
    groups, occupancy, how = warm_start_groups(est.stock, template, edges)
    init = m.data.setdefault("initial_population", {})
    init["looked_after"] = groups
    for i in range(len(groups)):
        m.comments[("initial_population", "looked_after", i)] = "[estimated]"
    m.estimated.append("initial_population.looked_after")
    n = len(est.stock)
    lower = int(est.stock["days_at_least"].sum()) if n else 0
    m.sections[("initial_population", "looked_after")] = (
        f"Children looked after on {est.as_at.date()}: {n}, grouped by placement type, year of "
        "age and "
        f"days-in-care band (counts and ranges only). {lower} began care on a day the data do "
        "not show (before the data window, first episode seen not RNE S), so their days in "
        "care are lower bounds. Matched to template types by "
        + ", ".join(f"{k}: {v}" for k, v in how.items())
        + "."
    )
    if init.get("allowances"):
        m.sections[("initial_population", "allowances")] = (
            f"{INPUT_NOTE}. The data show at least "
            + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in est.orders_under_18.items())
            + f" leavers since {est.window_start.date()} still under 18 on {est.as_at.date()} "
            "(earlier leavers are not in the data)."
        )
    # Capacities: never below what the data show is occupied on the as-at date.
    start = m.data["run"]["start_date"]
    for name, t in template.placement_types.items():
        if t.provider != "in_house" or t.capacity is None:
            continue
        occ = occupancy.get(name, 0)
        cap_now = t.capacity.value_at(start)
        if occ > cap_now:
            steps = {d: v for d, v in t.capacity.steps}
            if len(steps) == 1:
                new_value: Any = float(occ)
            else:
                new_value = {
                    d.isoformat(): float(max(v, occ)) if d <= start else float(v)
                    for d, v in steps.items()
                }
            m.set(
                ("placement_types", name, "capacity"),
                new_value,
                f"raised from the template's {cap_now:g}: {occ} children were in this type on "
                f"{est.as_at.date()}",
                kind="derived",
            )
            m.capacity_changes[name] = (cap_now, occ)
            m.notes.append(
                f"capacity of {name} raised from {cap_now:g} to {occ} (occupancy on the as-at date)"
            )
        elif name in occupancy or cap_now > 0:
            share = est.in_house.set_index("category")["share"].get(t.category)
            share_s = (
                f"; {share:.0%} of {t.category} placement-years were in-house"
                if share is not None and math.isfinite(share)
                else ""
            )
            m.comments[("placement_types", name, "capacity")] = (
                f"{INPUT_NOTE} ({occ} occupied on {est.as_at.date()}{share_s})"
            )
