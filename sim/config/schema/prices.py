"""Prices (inflation by cost line and financial year) and budgets."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from sim.config.outputs import COST_GROUPS
from sim.config.schema.base import (
    Category,
    RunConfig,
    _Model,
)

PRICE_LINES: tuple[str, ...] = (
    "placements_in_house",
    "placements_external",
    "allowances",
    "staff",
    "other",
)

#: Cost lines a budget can be set for in ``[budgets]`` (key ``<line>_gbp``), each the
#: summary measure ``cost_<line>_gbp``.
BUDGET_LINES: tuple[str, ...] = ("total", *COST_GROUPS)


def parse_financial_year(label: str) -> int:
    """First calendar year of a financial-year label: ``"2016-17"`` -> 2016.

    >>> parse_financial_year("2019-20")
    2019
    """
    ok = (
        isinstance(label, str)
        and len(label) == 7
        and label[4] == "-"
        and label[:4].isdigit()
        and label[5:].isdigit()
        and (int(label[:4]) + 1) % 100 == int(label[5:])
    )
    if not ok:
        raise ValueError(f"{label!r} is not a financial year such as '2016-17'")
    return int(label[:4])


def financial_year_label(start_year: int) -> str:
    """Label of the financial year starting 1 April ``start_year``: 2016 -> ``"2016-17"``."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def _year_keys(table: dict[str, float]) -> dict[str, float]:
    for key in table:
        parse_financial_year(key)
    return table


class PricesConfig(_Model):
    """Inflation of unit costs, by cost line and financial year.

    The unit costs of the config (weekly costs, allowances, the FTE cost, the
    other services' costs) are in the prices of `price_base`. The model spends
    in those prices; the results turn each cost line into cash terms by the
    line's price index for the financial year the spend falls in (the index is
    1 in `price_base` and steps on each 1 April), and keep the price-base value
    as the real-terms measures (`cost_*_real_gbp`, `cost_real_gbp`).

    Each cost line is a table from financial years (`"2017-18"`) to numbers:
    annual inflation rates when `given_as = "rates"` (the rate keyed
    `"2017-18"` is the rise in prices from 2016-17 to 2017-18; `0.03` is 3%),
    or price-index levels when `given_as = "index"` (any scale: each is divided
    by the level of `price_base`). The years of a table must be contiguous;
    `price_base` must be one of them, or, for rates, the year before the
    first. Outside a table's years the nearest given rate carries on (for an
    index, the growth between its last two levels, or its first two before it;
    a one-year index is flat). A line left out uses `default`; with neither,
    its prices stay at `price_base` (index 1). Without a `[prices]` table cash
    equals real terms.

    Bounds: a rate lies above -1 and at most 1 (+100% a year); an index level
    is above 0 and at most 1,000,000.
    """

    @model_validator(mode="after")
    def _plausible(self) -> PricesConfig:
        for key, table in self.tables().items():
            for label, x in table.items():
                if self.given_as == "rates" and x > 1.0:
                    raise ValueError(
                        f"prices.{key}.{label} = {x:g}: an annual inflation rate must be "
                        "at most 1 (+100%; 0.03 is 3%)"
                    )
                if self.given_as == "index" and not 0 < x <= 1e6:
                    raise ValueError(
                        f"prices.{key}.{label} = {x:g}: an index level must be > 0 and at most "
                        "1,000,000"
                    )
        return self

    price_base: str | None = Field(
        default=None,
        description='Financial year whose prices the unit costs are in, e.g. `"2016-17"`; '
        "default: the run's first financial year.",
    )
    given_as: Literal["rates", "index"] = Field(
        default="rates",
        description="Whether the year tables hold annual inflation rates or index levels.",
    )
    default: dict[str, float] = Field(
        default_factory=dict,
        description="Rates (or index) for every cost line not given below, e.g. CPIH.",
    )
    placements_in_house: dict[str, float] = Field(
        default_factory=dict, description="In-house placements (all categories)."
    )
    placements_external: dict[str, float] = Field(
        default_factory=dict, description="External placements (categories not given below)."
    )
    placements_external_by_category: dict[Category, dict[str, float]] = Field(
        default_factory=dict,
        description="External placements of one placement category (the key), replacing "
        "`placements_external` for it.",
    )
    allowances: dict[str, float] = Field(
        default_factory=dict, description="SGO, child arrangements and adoption allowances."
    )
    staff: dict[str, float] = Field(
        default_factory=dict, description="Social workers (salary and on-costs)."
    )
    other: dict[str, float] = Field(
        default_factory=dict,
        description="Edge of care, early help, assessments, staying put and leaving care.",
    )

    def tables(self) -> dict[str, dict[str, float]]:
        """Every year table given, by its dotted key under ``prices``."""
        out = {"default": self.default}
        out.update({line: getattr(self, line) for line in PRICE_LINES})
        for cat, table in self.placements_external_by_category.items():
            out[f"placements_external_by_category.{cat}"] = table
        return {k: v for k, v in out.items() if v}

    def base_year(self, run: RunConfig) -> int:
        """First calendar year of ``price_base`` (the run's first financial year by default)."""
        if self.price_base is not None:
            return parse_financial_year(self.price_base)
        s = run.start_date
        return s.year if s.month >= 4 else s.year - 1

    def table_for(self, line: str, category: str | None = None) -> dict[str, float]:
        """The year table that applies to a cost line (and placement category)."""
        if line == "placements_external" and category in self.placements_external_by_category:
            return self.placements_external_by_category[category]
        table: dict[str, float] = getattr(self, line)
        return table or self.default

    def index(self, line: str, year: int, run: RunConfig, category: str | None = None) -> float:
        """Price index of a cost line in the financial year starting in ``year`` (1 at the base).

        >>> p = PricesConfig(price_base="2016-17", staff={"2017-18": 0.1, "2018-19": 0.1})
        >>> run = RunConfig(name="x", start_date="2016-04-01")
        >>> round(p.index("staff", 2018, run), 6), round(p.index("staff", 2020, run), 6)
        (1.21, 1.4641)
        """
        return _index(self.table_for(line, category), self.given_as, self.base_year(run), year)

    def problems(self) -> list[str]:
        """What is wrong with the tables (each message names its dotted key path)."""
        out: list[str] = []
        if self.price_base is not None:
            try:
                parse_financial_year(self.price_base)
            except ValueError as exc:
                return [f"prices.price_base: {exc}"]
        for key, table in self.tables().items():
            where = f"prices.{key}"
            years: list[int] = []
            for label, value in table.items():
                try:
                    years.append(parse_financial_year(label))
                except ValueError as exc:
                    out.append(f"{where}.{label}: {exc}")
                    continue
                if self.given_as == "index" and value <= 0:
                    out.append(f"{where}.{label} = {value:g}: an index level must be > 0")
                if self.given_as == "rates" and value <= -1:
                    out.append(
                        f"{where}.{label} = {value:g}: an inflation rate must be > -1 "
                        "(prices cannot fall to zero)"
                    )
            if len(years) != len(table):
                continue
            ordered = sorted(years)
            for a, b in itertools.pairwise(ordered):
                if b != a + 1:
                    out.append(
                        f"{where}.{financial_year_label(b)}: financial years must be contiguous, "
                        f"but {financial_year_label(a + 1)} is missing"
                    )
                    break
            if self.price_base is not None and ordered:
                base = parse_financial_year(self.price_base)
                low = ordered[0] - (1 if self.given_as == "rates" else 0)
                if not low <= base <= ordered[-1]:
                    out.append(
                        f"{where}: price_base {self.price_base} is outside the table "
                        f"({financial_year_label(ordered[0])} to "
                        f"{financial_year_label(ordered[-1])})"
                    )
        return out


def _index(table: dict[str, float], given_as: str, base: int, year: int) -> float:
    """Compounded index of ``year`` relative to ``base`` from a table of rates or levels."""
    if not table:
        return 1.0
    by_year = {parse_financial_year(k): float(v) for k, v in table.items()}
    first, last = min(by_year), max(by_year)
    if given_as == "index":
        if len(by_year) == 1:
            return 1.0

        def level(y: int) -> float:
            if y > last:
                growth = by_year[last] / by_year[last - 1]
                return by_year[last] * growth ** (y - last)
            if y < first:
                growth = by_year[first + 1] / by_year[first]
                return by_year[first] / growth ** (first - y)
            return by_year[y]

        return level(year) / level(base)

    def rate(y: int) -> float:  # rise in prices from year y - 1 to year y
        return by_year[min(max(y, first), last)]

    factor = 1.0
    for y in range(base + 1, year + 1):
        factor *= 1.0 + rate(y)
    for y in range(year + 1, base + 1):
        factor /= 1.0 + rate(y)
    return factor


class BudgetsConfig(_Model):
    """Budgets by financial year and cost line, compared with the simulated spend.

    Each `<line>_gbp` key is a table from financial years (`"2016-17"`) to the
    budget in cash (£ of that year), compared with the summary measure
    `cost_<line>_gbp`; years without a budget are not compared. Budgets can
    also come from a CSV file (`file`, relative to the config file naming it)
    with columns `line` (e.g. `total`, `placements`), `financial_year` and
    `budget_gbp`; a year given both in the file and here is an error. Every
    budget year must be a financial year of the run and every budget positive (at
    most 1e12, a million million pounds).
    """

    file: str | None = Field(
        default=None,
        description="CSV file of budgets (columns line, financial_year, budget_gbp), read "
        "when the config is loaded; relative to the config file.",
    )
    total_gbp: dict[str, float] = Field(default_factory=dict, description="All spend.")
    placements_gbp: dict[str, float] = Field(default_factory=dict, description="Placements.")
    in_house_placements_gbp: dict[str, float] = Field(
        default_factory=dict, description="In-house placements."
    )
    external_placements_gbp: dict[str, float] = Field(
        default_factory=dict, description="External placements."
    )
    allowances_gbp: dict[str, float] = Field(default_factory=dict, description="Allowances.")
    staff_gbp: dict[str, float] = Field(default_factory=dict, description="Social workers.")
    other_gbp: dict[str, float] = Field(
        default_factory=dict,
        description="Other services (edge of care, staying put, leaving care).",
    )
    front_door_gbp: dict[str, float] = Field(
        default_factory=dict,
        description="Front-door activity (early help, assessments, s47 enquiries, CIN and "
        "CP plans).",
    )

    def by_measure(self) -> dict[str, dict[str, float]]:
        """Budgets by summary measure (``cost_total_gbp``) and financial year (none: left out)."""
        return {
            f"cost_{line}_gbp": dict(getattr(self, f"{line}_gbp"))
            for line in BUDGET_LINES
            if getattr(self, f"{line}_gbp")
        }

    def problems(self, run_years: list[str]) -> list[str]:
        """What is wrong with the budgets (each message names its dotted key path)."""
        out: list[str] = []
        for line in BUDGET_LINES:
            for label, value in getattr(self, f"{line}_gbp").items():
                where = f"budgets.{line}_gbp.{label}"
                try:
                    parse_financial_year(label)
                except ValueError as exc:
                    out.append(f"{where}: {exc}")
                    continue
                if value <= 0:
                    out.append(f"{where} = {value:g}: a budget must be > 0")
                elif value > 1e12:
                    out.append(f"{where} = {value:g}: a budget must be at most 1e12")
                if label not in run_years:
                    out.append(
                        f"{where}: financial year outside the run "
                        f"({run_years[0]} to {run_years[-1]})"
                    )
        return out


def run_financial_years(run: RunConfig) -> list[str]:
    """Financial years the reported period touches, in order."""
    first = run.start_date
    last = first + dt.timedelta(days=run.horizon_days - 1)
    y0 = first.year if first.month >= 4 else first.year - 1
    y1 = last.year if last.month >= 4 else last.year - 1
    return [financial_year_label(y) for y in range(y0, y1 + 1)]


# ------------------------------------------------------------------- config
