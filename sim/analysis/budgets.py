"""Spend against budget: per financial year and cost line, across replications.

A budget comes from the config's ``[budgets]`` (by financial year and cost
line, in cash) or, as a flat override, one amount for total spend in every
year. The spend compared is the cash-terms summary measure of the line
(``cost_placements_gbp`` for ``placements_gbp``).

>>> # budget_frame(result)                         # the config's budgets
>>> # budget_frame(result, flat_total_gbp=50e6)    # one total budget for every year
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.results.run_result import RunResult

__all__ = ["BUDGET_COLUMNS", "budget_frame", "budgets_of"]

#: Columns of :func:`budget_frame`.
BUDGET_COLUMNS: tuple[str, ...] = (
    "scenario",
    "measure",
    "period",
    "budget_gbp",
    "median_gbp",
    "p10_gbp",
    "p90_gbp",
    "median_over_gbp",
    "p_over",
    "replications",
)


def budgets_of(
    result: RunResult, *, flat_total_gbp: float | None = None
) -> dict[str, dict[str, float]]:
    """Budgets by measure and financial year: the config's, or a flat total for every year."""
    if flat_total_gbp is None:
        return result.config.budgets.by_measure()
    s = result.summary
    years = s.loc[s["measure"] == "cost_total_gbp", "period"].astype(str)
    return {"cost_total_gbp": {y: float(flat_total_gbp) for y in dict.fromkeys(years)}}


def budget_frame(
    result: RunResult,
    budgets: Mapping[str, Mapping[str, float]] | None = None,
    *,
    flat_total_gbp: float | None = None,
) -> pd.DataFrame:
    """Spend against budget per scenario, cost measure and financial year (tidy).

    Parameters
    ----------
    result
        A run's results (every replication's summary).
    budgets
        Budgets by summary measure and financial year; default
        :func:`budgets_of` (the config's ``[budgets]``, or ``flat_total_gbp``).
    flat_total_gbp
        One budget for total spend in every financial year of the run,
        replacing the config's budgets.

    Returns
    -------
    pandas.DataFrame
        One row per scenario, measure and budgeted year (columns
        :data:`BUDGET_COLUMNS`): the budget, the median and P10/P90 of the
        spend, the median of spend − budget (positive: overspend) and
        ``p_over``, the share of replications whose spend exceeds the
        budget. Years the run does not report are left out.

    """
    if budgets is None:
        budgets = budgets_of(result, flat_total_gbp=flat_total_gbp)
    s = result.summary
    rows = []
    for measure, by_year in budgets.items():
        sel = s[s["measure"] == measure]
        for (scenario, period), g in sel.groupby(
            [sel["scenario"], sel["period"].astype(str)], sort=False
        ):
            if period not in by_year:
                continue
            budget = float(by_year[period])
            v = g["value"].to_numpy(dtype=float)
            rows.append(
                (
                    scenario,
                    measure,
                    period,
                    budget,
                    float(np.median(v)),
                    float(np.quantile(v, 0.1)),
                    float(np.quantile(v, 0.9)),
                    float(np.median(v - budget)),
                    float(np.mean(v > budget)),
                    len(v),
                )
            )
    return pd.DataFrame(rows, columns=list(BUDGET_COLUMNS))
