"""Fully synthetic SSDA903 Header and Episodes files from known parameters.

The generator follows the simulator's own account of care, so a calibration
run on its output can be checked against the parameters that made it:

* children enter care as a Poisson process per age band (uniform age inside
  the band);
* on entry an exit route is drawn from the band's route shares and a time from
  the route's duration distribution; a child still in care at 18 leaves then
  (route ``leaving_care``);
* the first placement category is drawn from the band's entry mix, the
  provider (in-house or external) from the category's in-house share;
* placements break down at a constant hazard per category (times the teenage
  multiplier when the child is 13 or over at the start of the placement); the
  child moves to another placement of the same category (provider drawn
  again), as in the simulator; a few planned moves (reason CARPL) happen too;
* children due to be adopted move to an adoption placement before the order;
* voluntary and emergency legal statuses change to a care order (a new
  episode with RNE L, same placement);
* some children who go home come back into care.

The files then get the messiness of real returns: one file per collection
year (year ending 31 March) holding every episode open during the year, so
consecutive years overlap and an episode open at a year end appears with a
blank DEC; exact duplicate rows; a few episodes whose end overlaps the next
one; short-break children (LS V3/V4); legacy codes (Q1/Q2 placements, E43/E44
special guardianship) in the earliest year; headers in lower, title or upper
case; an extra column.

Identifiers are random pseudonyms and obviously synthetic: CHILD ``SYN-...``,
UPN ``SYNUPN...``, URN ``SYNURN...``, postcodes in the non-existent ``ZZ8`` /
``ZZ9`` districts. Everything is drawn from one :class:`numpy.random.Generator`
seeded by the caller.
"""

from __future__ import annotations

import csv
import datetime as dt
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.codes import EPISODE_COLUMNS, REC_ROUTE, ROUTE_ORDER
from sim.config.distributions import Distribution, Gamma, LogNormal

__all__ = [
    "SyntheticData",
    "SyntheticParameters",
    "band_label",
    "generate_synthetic_903",
]

_DAYS_PER_YEAR = 365.25


def band_label(lo: float, hi: float) -> str:
    """Label of an age band in years, e.g. ``"10-16"``."""
    return f"{lo:g}-{hi:g}"


def _default_entry_mix() -> tuple[dict[str, float], ...]:
    return (
        {"placed_with_parents": 0.04, "kinship": 0.20, "fostering": 0.76},
        {"placed_with_parents": 0.06, "kinship": 0.22, "fostering": 0.72},
        {"placed_with_parents": 0.06, "kinship": 0.20, "fostering": 0.71, "residential": 0.03},
        {
            "placed_with_parents": 0.05,
            "kinship": 0.12,
            "fostering": 0.61,
            "residential": 0.18,
            "secure": 0.02,
            "other": 0.02,
        },
        {
            "placed_with_parents": 0.03,
            "kinship": 0.05,
            "fostering": 0.27,
            "supported": 0.50,
            "residential": 0.13,
            "secure": 0.02,
        },
    )


def _default_exit_shares() -> tuple[dict[str, float], ...]:
    return (
        {
            "return_home": 0.22,
            "adoption": 0.45,
            "special_guardianship": 0.22,
            "child_arrangements": 0.05,
            "other": 0.03,
            "leaving_care": 0.03,
        },
        {
            "return_home": 0.35,
            "adoption": 0.25,
            "special_guardianship": 0.20,
            "child_arrangements": 0.08,
            "other": 0.04,
            "leaving_care": 0.08,
        },
        {
            "return_home": 0.45,
            "adoption": 0.03,
            "special_guardianship": 0.15,
            "child_arrangements": 0.07,
            "other": 0.05,
            "leaving_care": 0.25,
        },
        {
            "return_home": 0.45,
            "special_guardianship": 0.05,
            "child_arrangements": 0.02,
            "other": 0.08,
            "leaving_care": 0.40,
        },
        {"return_home": 0.35, "other": 0.10, "leaving_care": 0.55},
    )


def _default_durations() -> dict[str, Distribution]:
    return {
        "return_home": LogNormal(distribution="lognormal", median=130, sigma=1.4),
        "adoption": Gamma(distribution="gamma", mean=700, cv=0.35),
        "special_guardianship": Gamma(distribution="gamma", mean=600, cv=0.5),
        "child_arrangements": Gamma(distribution="gamma", mean=450, cv=0.6),
        "other": LogNormal(distribution="lognormal", median=200, sigma=1.2),
    }


@dataclass(frozen=True)
class SyntheticParameters:
    """The known truth behind a synthetic data set.

    Rates are per year, durations in days, ages in years. Per-band tuples
    follow ``age_bands_years``.
    """

    first_year_ending: int = 2012
    """First collection year, named by the year of its 31 March end."""
    n_years: int = 5
    """Number of collection years written (one file pair per year)."""
    burn_in_years: int = 15
    """Years of history simulated before the first collection year."""
    age_bands_years: tuple[tuple[float, float], ...] = (
        (0, 1),
        (1, 5),
        (5, 10),
        (10, 16),
        (16, 18),
    )
    entries_per_year: tuple[float, ...] = (55.0, 50.0, 45.0, 90.0, 45.0)
    """First entries to care per year, by age band at entry (re-entries come on top)."""
    entry_mix: tuple[Mapping[str, float], ...] = field(default_factory=_default_entry_mix)
    """Placement category shares at entry, by age band."""
    in_house_share: Mapping[str, float] = field(
        default_factory=lambda: {
            "fostering": 0.5,
            "residential": 0.3,
            "supported": 0.35,
            "kinship": 1.0,
            "placed_with_parents": 1.0,
            "adoption": 1.0,
            "secure": 0.0,
            "other": 0.0,
        }
    )
    """Share of placements of each category that are in-house (PLACE_PROVIDER PR1)."""
    breakdown_per_year: Mapping[str, float] = field(
        default_factory=lambda: {
            "placed_with_parents": 0.2,
            "kinship": 0.12,
            "fostering": 0.25,
            "supported": 0.4,
            "residential": 0.45,
            "secure": 1.0,
            "adoption": 0.0,
            "other": 2.0,
        }
    )
    """Breakdown hazard per placement-year, children under 13 at placement start."""
    teen_breakdown_multiplier: float = 1.8
    planned_move_per_year: float = 0.08
    """Hazard of a planned move (REASON_PLACE_CHANGE CARPL), not a breakdown."""
    exit_shares: tuple[Mapping[str, float], ...] = field(default_factory=_default_exit_shares)
    """Exit-route shares by age band at entry; ``leaving_care`` = stays until 18."""
    exit_durations_days: Mapping[str, Distribution] = field(default_factory=_default_durations)
    """Time from entry to exit by each route (days)."""
    adoption_pre_exit_days: Distribution = field(
        default_factory=lambda: Gamma(distribution="gamma", mean=300, cv=0.4)
    )
    """Days from the move to an adoption placement to the adoption order."""
    legal_change_per_year: float = 1.5
    """Hazard of a voluntary/emergency status turning into a care order."""
    reentry_share: float = 0.08
    """Share of children returned home who come back into care."""
    reentry_mean_days: float = 300.0
    short_break_children_per_year: float = 6.0
    referrals_per_year: float = 900.0
    """CIN referrals per year of children who do not enter care (entrants add one each)."""
    referral_nfa_share: float = 0.07
    assessment_days: Distribution = field(
        default_factory=lambda: Gamma(distribution="gamma", mean=33, cv=0.6)
    )
    duplicate_row_share: float = 0.005
    overlap_count: int = 6
    short_break_before_entry_share: float = 0.0
    """Share of first entries inside the window that follow a run of short breaks (LS
    V3/V4) ending the day before, their first episode then starting with RNE P or L."""
    two_digit_year_share: float = 0.0
    """Share of date cells (Episodes and Header) written dd/mm/yy."""
    rec_on_open_share: float = 0.0
    """Share of open episodes (blank DEC) written with a REC all the same."""

    def __post_init__(self) -> None:
        n = len(self.age_bands_years)
        for name in ("entries_per_year", "entry_mix", "exit_shares"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} needs one entry per age band ({n})")
        for i, shares in enumerate(self.exit_shares):
            if abs(sum(shares.values()) - 1) > 1e-9:
                raise ValueError(f"exit_shares[{i}] must sum to 1")
        for i, shares in enumerate(self.entry_mix):
            if abs(sum(shares.values()) - 1) > 1e-9:
                raise ValueError(f"entry_mix[{i}] must sum to 1")

    @property
    def window_start(self) -> dt.date:
        """First day of the first collection year."""
        return dt.date(self.first_year_ending - 1, 4, 1)

    @property
    def data_end(self) -> dt.date:
        """Last day of the last collection year."""
        return dt.date(self.first_year_ending + self.n_years - 1, 3, 31)

    @property
    def band_labels(self) -> tuple[str, ...]:
        """Labels of the age bands."""
        return tuple(band_label(lo, hi) for lo, hi in self.age_bands_years)


@dataclass(frozen=True)
class SyntheticData:
    """What :func:`generate_synthetic_903` wrote and the truth behind it.

    Attributes
    ----------
    episodes
        Episodes CSVs, one per collection year, oldest first.
    header
        Header CSVs, one per collection year.
    cin
        The CIN-census-like referrals file.
    parameters
        The parameters the data were drawn from.
    periods
        The true periods of care (before any messiness), one row each: child,
        start, end (NaT if open at the data end), route, age at entry (years),
        band, first category, re-entry flag, short-break flag.
    episodes_truth
        The true episodes before any messiness (DEC as known at the data end).
    identifiers
        Every identifying string written (CHILD, DOB as written, UPN, postcodes,
        URN), for privacy tests.

    """

    episodes: tuple[Path, ...]
    header: tuple[Path, ...]
    cin: Path
    parameters: SyntheticParameters
    periods: pd.DataFrame
    episodes_truth: pd.DataFrame
    identifiers: dict[str, tuple[str, ...]]

    def entries_by_year(self) -> pd.DataFrame:
        """True entries per collection year and age band (short breaks excluded)."""
        p = self.periods[~self.periods["short_break"]]
        start = pd.Timestamp(self.parameters.window_start)
        p = p[p["start"] >= start]
        year = _collection_year(p["start"])
        return (
            pd.DataFrame({"year_ending": year, "band": p["band"]})
            .groupby(["year_ending", "band"])
            .size()
            .rename("entries")
            .reset_index()
        )


def _collection_year(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    return (d.dt.year + (d.dt.month >= 4).astype(int)).astype(int)


# ----------------------------------------------------------------- the process


@dataclass
class _Episode:
    child: int
    decom: int
    rne: str
    ls: str
    cin: str
    place: str
    provider: str
    dec: int | None = None
    rec: str = ""
    reason: str = ""
    pl_post: str = ""
    urn: str = ""
    period: int = -1


_PLACE_CODES: dict[str, tuple[str, ...]] = {
    "placed_with_parents": ("P1",),
    "kinship": ("U1", "U2", "U3"),
    "fostering": ("U4", "U5", "U6"),
    "residential": ("K2", "R1"),
    "secure": ("K1",),
    "supported": ("H5", "P2"),
    "adoption": ("A4", "A5", "A6"),
    "other": ("Z1", "R3", "T1"),
}
_EXTERNAL_PROVIDERS: dict[str, tuple[str, ...]] = {
    "fostering": ("PR4", "PR5"),
    "residential": ("PR4", "PR4", "PR5", "PR2"),
    "supported": ("PR4", "PR5"),
    "secure": ("PR2", "PR3"),
    "other": ("PR4",),
}
_BREAKDOWN_REASONS = (
    "CREQB",
    "CHILD",
    "STAND",
    "ALLEG",
    "CLOSE",
    "LAREQ",
    "APPRR",
    "CREQO",
    "OTHER",
)
_ROUTE_RECS: dict[str, tuple[str, ...]] = {
    route: tuple(code for code, r in REC_ROUTE.items() if r == route) for route in ROUTE_ORDER
}
_ROUTE_RECS["leaving_care"] = ("E17", "E5", "E6", "E7")


class _World:
    """Draws children, their periods of care and episodes."""

    def __init__(self, params: SyntheticParameters, rng: np.random.Generator):
        self.p = params
        self.rng = rng
        self.episodes: list[_Episode] = []
        self.periods: list[dict[str, object]] = []
        self.children: dict[int, dict[str, object]] = {}
        self.end_ord = params.data_end.toordinal()

    # -- helpers
    def band_of(self, age_years: float) -> int:
        for i, (lo, hi) in enumerate(self.p.age_bands_years):
            if lo <= age_years < hi:
                return i
        return len(self.p.age_bands_years) - 1

    def choice(self, shares: Mapping[str, float]) -> str:
        keys = list(shares)
        probs = np.array([shares[k] for k in keys], dtype=float)
        return keys[int(self.rng.choice(len(keys), p=probs / probs.sum()))]

    def pick(self, options: tuple[str, ...]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def new_child(self, dob: int) -> int:
        key = len(self.children)
        self.children[key] = {"dob": dob, "sex": int(self.rng.integers(1, 3))}
        return key

    def age_at(self, child: int, day: int) -> float:
        return (day - int(self.children[child]["dob"])) / _DAYS_PER_YEAR  # type: ignore[call-overload]

    def day18(self, child: int) -> int:
        dob = dt.date.fromordinal(int(self.children[child]["dob"]))  # type: ignore[call-overload]
        try:
            return dob.replace(year=dob.year + 18).toordinal()
        except ValueError:  # 29 February
            return dt.date(dob.year + 18, 3, 1).toordinal()

    def placement(self, child: int, day: int) -> tuple[str, str, str]:
        band = self.band_of(self.age_at(child, day))
        cat = self.choice(self.p.entry_mix[band])
        return self.provider_for(cat)

    def provider_for(self, cat: str) -> tuple[str, str, str]:
        place = self.pick(_PLACE_CODES[cat])
        if cat == "placed_with_parents":
            return cat, place, "PR0"
        if self.rng.random() < self.p.in_house_share.get(cat, 1.0):
            return cat, place, "PR1"
        return cat, place, self.pick(_EXTERNAL_PROVIDERS.get(cat, ("PR4",)))

    def hazard_days(self, per_year: float) -> float:
        if per_year <= 0:
            return float("inf")
        return float(self.rng.exponential(_DAYS_PER_YEAR / per_year))

    # -- periods
    def run_period(self, child: int, start: int, reentry: bool, first_rne: str = "S") -> None:
        p = self.p
        age0 = self.age_at(child, start)
        band = self.band_of(age0)
        route = self.choice(p.exit_shares[band])
        drawn = route
        end18 = self.day18(child)
        if route == "leaving_care":
            exit_day = end18
        else:
            days = p.exit_durations_days[route].ppf(float(self.rng.random()))
            exit_day = start + max(1, round(days))
            if exit_day >= end18:
                exit_day, route = end18, "leaving_care"
        rec = self.pick(_ROUTE_RECS[route])
        adopt_day = None
        if route == "adoption":
            pre = round(p.adoption_pre_exit_days.ppf(float(self.rng.random())))
            if exit_day - pre > start + 7:
                adopt_day = exit_day - pre
        period = len(self.periods)
        cat, place, provider = self.placement(child, start)
        first_cat = cat
        ls = self.choice({"V2": 0.55, "C2": 0.25, "C1": 0.07, "L2": 0.06, "L1": 0.02, "J2": 0.05})
        cin = self.choice(
            {
                "N1": 0.6,
                "N2": 0.05,
                "N3": 0.05,
                "N4": 0.1,
                "N5": 0.1,
                "N6": 0.03,
                "N7": 0.02,
                "N8": 0.05,
            }
        )
        self.periods.append(
            {
                "child": child,
                "start": start,
                "end": exit_day,
                "route": route,
                "route_drawn": drawn,
                "rec": rec,
                "age_at_entry_years": age0,
                "band": band_label(*p.age_bands_years[band]),
                "first_category": first_cat,
                "reentry": reentry,
                "short_break": False,
            }
        )
        ep = self._open(child, start, first_rne, ls, cin, place, provider, period)
        day = start
        next_legal = (
            start + self.hazard_days(p.legal_change_per_year)
            if ls in {"V2", "L1", "L2", "L3"}
            else float("inf")
        )
        place_start = start
        teen = self.age_at(child, place_start) >= 13
        mult = p.teen_breakdown_multiplier if teen else 1.0
        next_break = place_start + self.hazard_days(p.breakdown_per_year.get(cat, 0.0) * mult)
        next_plan = place_start + self.hazard_days(p.planned_move_per_year)
        in_adoption = False
        while True:
            candidates = {
                "exit": float(exit_day),
                "legal": next_legal,
                "break": next_break if not in_adoption else float("inf"),
                "plan": next_plan if not in_adoption else float("inf"),
                "adopt": float(adopt_day)
                if adopt_day is not None and not in_adoption
                else float("inf"),
            }
            event = min(candidates, key=lambda k: candidates[k])
            when = max(day, round(candidates[event]))
            if event == "exit" or when >= exit_day:
                ep.dec, ep.rec = exit_day, rec
                break
            day = when
            if event == "legal":
                ep.dec, ep.rec = day, "X1"
                ep = self._open(child, day, "L", "C2", cin, ep.place, ep.provider, period, ep)
                next_legal = float("inf")
                continue
            # A change of placement.
            if event == "adopt":
                cat, place, provider = self.provider_for("adoption")
                ep.dec, ep.rec, ep.reason = day, "X1", "CARPL"
                new_ls = "E1"
                rne = "B" if ep.ls != new_ls else "P"
                ep = self._open(child, day, rne, new_ls, cin, place, provider, period)
                in_adoption = True
                next_legal = float("inf")
                continue
            # As in the simulator, a child who moves still needs the same kind of placement;
            # the provider (in-house or external) is drawn again.
            cat, place, provider = self.provider_for(cat)
            ep.dec, ep.rec = day, "X1"
            ep.reason = "CARPL" if event == "plan" else self.pick(_BREAKDOWN_REASONS)
            rne = "T" if self.rng.random() < 0.1 else "P"
            ep = self._open(child, day, rne, ep.ls, cin, place, provider, period)
            teen = self.age_at(child, day) >= 13
            mult = p.teen_breakdown_multiplier if teen else 1.0
            next_break = day + self.hazard_days(p.breakdown_per_year.get(cat, 0.0) * mult)
            next_plan = day + self.hazard_days(p.planned_move_per_year)
        if route == "return_home" and self.rng.random() < p.reentry_share:
            back = exit_day + max(1, round(self.rng.exponential(p.reentry_mean_days)))
            if back < end18 - 60 and back <= self.end_ord:
                self.run_period(child, back, reentry=True)

    def _open(
        self,
        child: int,
        day: int,
        rne: str,
        ls: str,
        cin: str,
        place: str,
        provider: str,
        period: int,
        same_as: _Episode | None = None,
    ) -> _Episode:
        ep = _Episode(child, day, rne, ls, cin, place, provider, period=period)
        if same_as is not None:
            ep.pl_post, ep.urn = same_as.pl_post, same_as.urn
        elif place != "P1":
            ep.pl_post = _postcode(self.rng, "ZZ9")
            if place[0] in {"K", "R", "U", "H", "S"}:
                ep.urn = "SYNURN" + "".join(map(str, self.rng.integers(0, 10, 6)))
        self.episodes.append(ep)
        return ep

    def short_breaks_before(self, child: int, start: int) -> None:
        """A few short breaks before ``start``, the last one running up to it (REC X1)."""
        ls = self.pick(("V3", "V3", "V4"))
        n = int(self.rng.integers(1, 4))
        day = start
        spans: list[tuple[int, int]] = []
        for i in range(n):
            length = int(self.rng.integers(1, 4))
            end = day if i == 0 else day - int(self.rng.integers(20, 60))
            spans.append((end - length, end))
            day = end - length
        for k, (a, b) in enumerate(reversed(spans)):
            if self.age_at(child, a) < 0:
                continue
            last = k == len(spans) - 1
            period = len(self.periods)
            self.periods.append(
                {
                    "child": child,
                    "start": a,
                    "end": b,
                    "route": "return_home",
                    "route_drawn": "return_home",
                    "rec": "X1" if last else "E13",
                    "age_at_entry_years": self.age_at(child, a),
                    "band": "",
                    "first_category": "residential",
                    "reentry": False,
                    "short_break": True,
                }
            )
            ep = self._open(child, a, "S", ls, "N1", "K2", "PR1", period)
            ep.dec, ep.rec = b, "X1" if last else "E13"

    def short_breaks(self, first_day: int, last_day: int) -> None:
        years = (last_day - first_day) / _DAYS_PER_YEAR
        n = int(self.rng.poisson(self.p.short_break_children_per_year * years))
        for _ in range(n):
            age = float(self.rng.uniform(5, 16))
            start = int(self.rng.integers(first_day, last_day))
            child = self.new_child(start - round(age * _DAYS_PER_YEAR))
            ls = self.pick(("V3", "V3", "V3", "V4"))
            day = start
            for _ in range(int(self.rng.integers(3, 12))):
                if day > self.end_ord:
                    break
                length = int(self.rng.integers(1, 4))
                period = len(self.periods)
                self.periods.append(
                    {
                        "child": child,
                        "start": day,
                        "end": day + length,
                        "route": "return_home",
                        "route_drawn": "return_home",
                        "rec": "E13",
                        "age_at_entry_years": self.age_at(child, day),
                        "band": "",
                        "first_category": "residential",
                        "reentry": False,
                        "short_break": True,
                    }
                )
                ep = self._open(child, day, "S", ls, "N1", "K2", "PR1", period)
                ep.dec, ep.rec = day + length, "E13"
                day += length + int(self.rng.integers(20, 60))


def _postcode(rng: np.random.Generator, district: str) -> str:
    letters = string.ascii_uppercase
    return (
        f"{district} {int(rng.integers(0, 10))}"
        f"{letters[int(rng.integers(26))]}{letters[int(rng.integers(26))]}"
    )


def _pseudonym(rng: np.random.Generator, prefix: str, length: int, used: set[str]) -> str:
    alphabet = string.ascii_uppercase + string.digits
    while True:
        text = prefix + "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), length))
        if text not in used:
            used.add(text)
            return text


def _fmt(day: int | None) -> str:
    if day is None:
        return ""
    return dt.date.fromordinal(int(day)).strftime("%d/%m/%Y")


def _fmt_yy(day: int) -> str:
    return dt.date.fromordinal(int(day)).strftime("%d/%m/%y")


# ---------------------------------------------------------------- the writer


def generate_synthetic_903(
    out_dir: str | Path,
    *,
    params: SyntheticParameters | None = None,
    seed: int = 0,
) -> SyntheticData:
    """Write synthetic SSDA903 Header/Episodes CSVs (one pair per year) and a CIN file.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed). Files are named
        ``episodes_YYYY.csv``, ``header_YYYY.csv`` (YYYY = year of the 31 March
        that ends the collection year) and ``cin_referrals.csv``.
    params
        The truth to draw from; defaults to :class:`SyntheticParameters`.
    seed
        Seed of the :class:`numpy.random.Generator` used for every draw.

    Returns
    -------
    SyntheticData
        The written paths, the parameters and the true periods and episodes.

    Examples
    --------
    >>> data = generate_synthetic_903("/tmp/syn", seed=1)  # doctest: +SKIP
    >>> data.episodes[0].name  # doctest: +SKIP
    'episodes_2012.csv'

    """
    p = params or SyntheticParameters()
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world = _World(p, rng)

    first_day = dt.date(p.first_year_ending - 1 - p.burn_in_years, 4, 1).toordinal()
    last_day = p.data_end.toordinal()
    window_first = p.window_start.toordinal()
    span_years = (last_day - first_day + 1) / _DAYS_PER_YEAR
    arrivals: list[tuple[int, float]] = []
    for (lo, hi), rate in zip(p.age_bands_years, p.entries_per_year, strict=True):
        n = int(rng.poisson(rate * span_years))
        days = rng.integers(first_day, last_day + 1, n)
        ages = rng.uniform(lo, min(hi, 17.99), n)
        arrivals.extend(zip(days.tolist(), ages.tolist(), strict=True))
    arrivals.sort()
    for day, age in arrivals:
        dob = day - round(age * _DAYS_PER_YEAR)
        child = world.new_child(dob)
        if world.age_at(child, day) >= 18:
            continue
        first_rne = "S"
        if (
            p.short_break_before_entry_share > 0
            and day >= window_first
            and world.age_at(child, day) >= 1
            and rng.random() < p.short_break_before_entry_share
        ):
            world.short_breaks_before(child, day)
            first_rne = world.pick(("P", "L"))
        world.run_period(child, day, reentry=False, first_rne=first_rne)
    world.short_breaks(p.window_start.toordinal() - 400, last_day)

    # Pseudonyms and the other identifying fields.
    used: set[str] = set()
    ids: dict[int, str] = {}
    upn: dict[int, str] = {}
    home: dict[int, str] = {}
    for key in world.children:
        ids[key] = _pseudonym(rng, "SYN-", 8, used)
        upn[key] = _pseudonym(rng, "SYNUPN", 7, used)
        home[key] = _postcode(rng, "ZZ8")

    truth = pd.DataFrame(
        [
            {
                "CHILD": ids[e.child],
                "DECOM": dt.date.fromordinal(e.decom),
                "RNE": e.rne,
                "LS": e.ls,
                "CIN": e.cin,
                "PLACE": e.place,
                "PLACE_PROVIDER": e.provider,
                "DEC": dt.date.fromordinal(e.dec)
                if e.dec is not None and e.dec <= last_day
                else None,
                "REC": e.rec if e.dec is not None and e.dec <= last_day else "",
                "REASON_PLACE_CHANGE": e.reason if e.dec is not None and e.dec <= last_day else "",
                "period": e.period,
            }
            for e in world.episodes
            if e.decom <= last_day
        ]
    )
    periods = pd.DataFrame(world.periods)
    periods = periods[periods["start"] <= last_day].copy()
    periods["child"] = periods["child"].map(ids)
    periods["end"] = [
        pd.Timestamp(dt.date.fromordinal(int(e))) if e <= last_day else pd.NaT
        for e in periods["end"]
    ]
    periods["route"] = periods["route"].where(periods["end"].notna(), "")
    periods["start"] = [pd.Timestamp(dt.date.fromordinal(int(s))) for s in periods["start"]]
    periods = periods.reset_index(drop=True)

    episodes_paths, header_paths, written_ids = _write_years(world, p, rng, out, ids, upn, home)
    cin_path, cin_ids = _write_cin(world, p, rng, out, ids, used)
    dob_days = [int(world.children[k]["dob"]) for k in written_ids | cin_ids]  # type: ignore[call-overload]
    dob_text = {_fmt(d) for d in dob_days}
    if p.two_digit_year_share > 0:
        dob_text |= {_fmt_yy(d) for d in dob_days}
    dobs = tuple(sorted(dob_text))
    identifiers = {
        "CHILD": tuple(sorted(ids[k] for k in written_ids | cin_ids)),
        "DOB": dobs,
        "UPN": tuple(sorted(upn[k] for k in written_ids)),
        "HOME_POST": tuple(sorted({home[k] for k in written_ids})),
        "PL_POST": tuple(sorted({e.pl_post for e in world.episodes if e.pl_post})),
        "URN": tuple(sorted({e.urn for e in world.episodes if e.urn})),
    }
    return SyntheticData(
        episodes=tuple(episodes_paths),
        header=tuple(header_paths),
        cin=cin_path,
        parameters=p,
        periods=periods,
        episodes_truth=truth,
        identifiers=identifiers,
    )


def _header_names(columns: tuple[str, ...], year_index: int) -> list[str]:
    if year_index == 0:
        return [c.lower() for c in columns]
    if year_index == 1:
        return [c.title() for c in columns]
    return list(columns)


def _overlapping_ends(
    world: _World, p: SyntheticParameters, rng: np.random.Generator
) -> dict[int, int]:
    """Extra days for a few closed X1 episodes, whose end then runs past the next start."""
    by_child: dict[int, list[_Episode]] = {}
    for e in world.episodes:
        by_child.setdefault(e.child, []).append(e)
    candidates = []
    for eps in by_child.values():
        eps.sort(key=lambda e: e.decom)
        for a, b in pairwise(eps):
            if (
                a.rec == "X1"
                and a.dec is not None
                and b.dec is not None
                and b.dec - b.decom > 30
                and a.decom >= p.window_start.toordinal()
                and b.dec <= p.data_end.toordinal()
            ):
                candidates.append(a)
    overlap_extra: dict[int, int] = {}
    if candidates and p.overlap_count > 0:
        chosen = rng.choice(
            len(candidates), size=min(p.overlap_count, len(candidates)), replace=False
        )
        for i in chosen:
            overlap_extra[id(candidates[int(i)])] = int(rng.integers(1, 21))
    return overlap_extra


def _write_years(
    world: _World,
    p: SyntheticParameters,
    rng: np.random.Generator,
    out: Path,
    ids: dict[int, str],
    upn: dict[int, str],
    home: dict[int, str],
) -> tuple[list[Path], list[Path], set[int]]:
    overlap_extra = _overlapping_ends(world, p, rng)

    def fmt(day: int | None) -> str:
        if day is not None and p.two_digit_year_share > 0 and rng.random() < p.two_digit_year_share:
            return _fmt_yy(day)
        return _fmt(day)

    written: set[int] = set()
    episodes_paths: list[Path] = []
    header_paths: list[Path] = []
    columns = EPISODE_COLUMNS
    for k in range(p.n_years):
        year_end_date = dt.date(p.first_year_ending + k, 3, 31)
        y_start = dt.date(p.first_year_ending + k - 1, 4, 1).toordinal()
        y_end = year_end_date.toordinal()
        rows: list[list[str]] = []
        children: set[int] = set()
        for e in world.episodes:
            if e.decom > y_end or (e.dec is not None and e.dec < y_start):
                continue
            closed = e.dec is not None and e.dec <= y_end
            dec = e.dec + overlap_extra.get(id(e), 0) if closed and e.dec is not None else None
            place, rec = e.place, e.rec if closed else ""
            if not closed and p.rec_on_open_share > 0 and rng.random() < p.rec_on_open_share:
                rec = world.pick(("X1", "E13", "E4A", "E8"))
            if k == 0:
                place = {
                    "U4": "Q1",
                    "U5": "Q1",
                    "U6": "Q1",
                    "U1": "Q2",
                    "U2": "Q2",
                    "U3": "Q2",
                }.get(place, place)
                rec = {"E45": "E43", "E46": "E44", "E47": "E44", "E48": "E44"}.get(rec, rec)
            rows.append(
                [
                    ids[e.child],
                    fmt(e.decom),
                    e.rne,
                    e.ls,
                    e.cin,
                    place,
                    e.provider,
                    fmt(dec),
                    rec,
                    e.reason if closed else "",
                    home[e.child],
                    e.pl_post,
                    e.urn,
                    "999",
                ]
            )
            children.add(e.child)
        n_dup = round(p.duplicate_row_share * len(rows))
        if n_dup and rows:
            for i in sorted(
                rng.choice(len(rows), size=n_dup, replace=False).tolist(), reverse=True
            ):
                rows.insert(i + 1, list(rows[i]))
        ep_path = out / f"episodes_{year_end_date.year}.csv"
        with ep_path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([*_header_names(columns, k), "LA_CODE"])
            w.writerows(rows)
        episodes_paths.append(ep_path)

        hrows = []
        for c in sorted(children, key=lambda c: ids[c]):
            info = world.children[c]
            sex = int(info["sex"])  # type: ignore[call-overload]
            dob = int(info["dob"])  # type: ignore[call-overload]
            mother = ""
            mc_dob = ""
            if sex == 2:
                mother = "0"
                if world.age_at(c, y_end) > 15 and rng.random() < 0.05:
                    mother = "1"
                    mc_dob = _fmt(y_end - int(rng.integers(10, 300)))
            hrows.append(
                [
                    ids[c],
                    str(sex),
                    fmt(dob),
                    world.pick(("WBRI", "WBRI", "WBRI", "MWBC", "ASIA")),
                    upn[c],
                    mother,
                    mc_dob,
                ]
            )
        written |= children
        h_path = out / f"header_{year_end_date.year}.csv"
        with h_path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(
                _header_names(("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"), k)
            )
            w.writerows(hrows)
        header_paths.append(h_path)
    return episodes_paths, header_paths, written


def _write_cin(
    world: _World,
    p: SyntheticParameters,
    rng: np.random.Generator,
    out: Path,
    ids: dict[int, str],
    used: set[str],
) -> tuple[Path, set[int]]:
    start = p.window_start.toordinal()
    end = p.data_end.toordinal()
    years = (end - start + 1) / _DAYS_PER_YEAR
    referrals: list[tuple[int, int]] = []  # (child, referral day)
    for per in world.periods:
        s = int(per["start"])  # type: ignore[call-overload]
        if per["short_break"] or not start + 120 <= s <= end:
            continue
        referrals.append((int(per["child"]), s - int(rng.integers(30, 120))))  # type: ignore[call-overload]
    n = int(rng.poisson(p.referrals_per_year * years))
    ref_ages = rng.uniform(0, 17.5, n)
    ref_days = rng.integers(start, end + 1, n)
    for age, day in zip(ref_ages.tolist(), ref_days.tolist(), strict=True):
        child = world.new_child(int(day) - round(age * _DAYS_PER_YEAR))
        ids[child] = _pseudonym(rng, "SYN-", 8, used)
        referrals.append((child, int(day)))
    referrals.sort(key=lambda r: r[1])
    path = out / "cin_referrals.csv"
    cin_ids: set[int] = set()
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "CHILD",
                "DOB",
                "REFERRAL_DATE",
                "REFERRAL_SOURCE",
                "REFERRAL_NFA",
                "ASSESSMENT_START",
                "ASSESSMENT_AUTHORISED",
                "CLOSURE_DATE",
                "CLOSURE_REASON",
            ]
        )
        for child, day in referrals:
            cin_ids.add(child)
            source = world.pick(("1A", "1B", "2A", "3A", "3E", "5A", "5B", "6", "8", "10"))
            nfa = rng.random() < p.referral_nfa_share
            a_start = a_auth = closure = None
            reason = ""
            if nfa:
                closure, reason = day, "RC8"
            else:
                a_start = day + int(rng.integers(0, 6))
                a_auth = a_start + max(1, round(p.assessment_days.ppf(float(rng.random()))))
                if a_auth > end:
                    a_auth = None
                else:
                    closure = a_auth + int(rng.integers(0, 200))
                    if closure > end:
                        closure = None
                    else:
                        reason = world.pick(
                            ("RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8", "RC9")
                        )
            w.writerow(
                [
                    ids[child],
                    _fmt(int(world.children[child]["dob"])),  # type: ignore[call-overload]
                    _fmt(day),
                    source,
                    "1" if nfa else "0",
                    _fmt(a_start),
                    _fmt(a_auth),
                    _fmt(closure),
                    reason,
                ]
            )
    return path, cin_ids
