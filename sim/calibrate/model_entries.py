"""Measure a config's entries to care per year by running the model.

The simulator makes entries through the front door (referrals, thresholds,
assessments, plans), so the referral rate that gives an authority's observed
entries cannot be read off the data: it is found by running the model at the
template's rate and scaling (entries are proportional to referrals because
the thresholds are percentiles of the referred population).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.config import with_overrides
from sim.config.schema import Config
from sim.defaults import DEFAULT_SEED

__all__ = ["ModelEntries", "Runner", "model_entries_per_year"]

Runner = Callable[..., Any]
"""Something called like ``sim.run(config, replications=R, seed=S)`` whose result has
``.timeseries`` (scenario, replication, date, measure, category, value)."""


@dataclass(frozen=True)
class ModelEntries:
    """Entries to care per year in model runs.

    Attributes
    ----------
    per_year
        Mean entries per year over replications and measured months.
    se
        Standard error between replications.
    replications, months
        What was run and measured (months after the skipped start).
    per_replication
        Entries per year in each replication.

    """

    per_year: float
    se: float
    replications: int
    months: int
    per_replication: tuple[float, ...] = field(default_factory=tuple)


def model_entries_per_year(
    config: Config,
    *,
    replications: int = 2,
    years: float = 2.5,
    seed: int = DEFAULT_SEED,
    skip_months: int = 6,
    runner: Runner | None = None,
) -> ModelEntries:
    """Run ``config`` briefly (no trend) and measure its monthly entries to care.

    Parameters
    ----------
    config
        The config to run; its trend is set to 0 and its horizon to ``years``.
    replications, years, seed
        Size of the measuring run.
    skip_months
        Months left out at the start, while plans open at the start escalate
        and the front door settles.
    runner
        Defaults to :func:`sim.run`.

    """
    if runner is None:
        from sim.experiment.batch import run

        runner = run
    cfg = with_overrides(config, {"run.years": years, "referrals.trend_per_year": 0.0})
    result = runner(cfg, replications=replications, seed=seed)
    ts = result.timeseries
    e = ts[(ts["measure"] == "entries") & (ts["category"] == "all")].sort_values("date")
    months = sorted(e["date"].unique())[skip_months:]
    e = e[e["date"].isin(months)]
    per_rep = e.groupby("replication")["value"].mean() * 12.0
    n = len(per_rep)
    sd = float(per_rep.std(ddof=1)) if n > 1 else math.nan
    return ModelEntries(
        float(per_rep.mean()),
        sd / math.sqrt(n) if n > 1 else math.nan,
        n,
        len(months),
        tuple(float(v) for v in per_rep),
    )
