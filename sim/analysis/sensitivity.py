"""Global sensitivity analysis of a config: Morris screening and Sobol indices (SALib).

Each parameter is a dotted config key varied over a range. SALib chooses
points in that box; at every point the config is run for the same
replications of the same seed (common random numbers), so the differences
between points come from the parameters, not from the noise. The output is
the mean over replications of one summary measure.

>>> from sim.analysis.sensitivity import Parameter, run_sensitivity
>>> res = run_sensitivity(                                                # doctest: +SKIP
...     cfg,
...     [Parameter("placement_types.foster_in_house.capacity", 200, 300),
...      Parameter("referrals.rate_per_year", 5500, 6500)],
...     output="cost_total_gbp:2018-19", method="morris", trajectories=8, replications=5)
>>> res.ranking()                                                         # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.comparison import partial_years, resolve_period
from sim.config.loader import with_overrides
from sim.config.schedule import is_schedule
from sim.config.schema import Config
from sim.defaults import DEFAULT_SEED
from sim.errors import CaresimError
from sim.experiment.backends import Backend
from sim.experiment.scenarios import evaluate

__all__ = [
    "METHODS",
    "Parameter",
    "SensitivityResult",
    "check_key",
    "output_value",
    "parse_output",
    "parse_parameter",
    "run_sensitivity",
]

METHODS = ("morris", "sobol")


@dataclass(frozen=True)
class Parameter:
    """A config key varied between ``low`` and ``high``.

    ``integer`` rounds values to whole numbers (capacities must be whole
    places); by default keys ending in ``capacity`` are integer.
    """

    key: str
    low: float
    high: float
    integer: bool | None = None

    def __post_init__(self) -> None:
        if not self.high > self.low:
            raise CaresimError(
                f"parameter {self.key}: high ({self.high:g}) must exceed low ({self.low:g})"
            )
        if self.integer is None:
            object.__setattr__(self, "integer", self.key.rsplit(".", 1)[-1] == "capacity")

    def value(self, x: float) -> float | int:
        """Return the config value for sample ``x`` (rounded for integer parameters)."""
        return round(x) if self.integer else float(x)


def parse_parameter(text: str) -> Parameter:
    """Parse ``KEY=LOW:HIGH`` (``--param``).

    >>> parse_parameter("placement_types.foster_in_house.capacity=200:300")
    Parameter(key='placement_types.foster_in_house.capacity', low=200.0, high=300.0, integer=True)
    """
    if "=" not in text or ":" not in text.split("=", 1)[1]:
        raise CaresimError(
            f"--param {text!r}: expected KEY=LOW:HIGH, e.g. referrals.rate_per_year=5000:7000"
        )
    key, rng = text.split("=", 1)
    lo_s, hi_s = rng.split(":", 1)
    try:
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        raise CaresimError(f"--param {text!r}: LOW and HIGH must be numbers") from None
    return Parameter(key.strip(), lo, hi)


def parse_output(text: str) -> tuple[str, str | None]:
    """Parse ``MEASURE[:PERIOD]`` (``--output``).

    >>> parse_output("cost_total_gbp:2018-19")
    ('cost_total_gbp', '2018-19')
    >>> parse_output("in_house_share_fostering")
    ('in_house_share_fostering', None)
    """
    measure, _, period = text.partition(":")
    return measure.strip(), (period.strip() or None)


def check_key(config: Config, key: str) -> Any:
    """Return the current value of dotted ``key`` in ``config``; raise if there is none.

    A schedule comes back as its ``{date: value}`` table; setting the key
    replaces the whole schedule with one constant.
    """
    cur: Any = config.model_dump(mode="json")
    parts = key.split(".")
    for i, part in enumerate(parts):
        if not isinstance(cur, dict) or part not in cur:
            where = ".".join(parts[:i]) or "(top level)"
            options = sorted(cur) if isinstance(cur, dict) else []
            hint = f"; keys there: {', '.join(options)}" if options and len(options) < 40 else ""
            raise CaresimError(f"unknown config key {key!r}: no {part!r} in {where}{hint}")
        cur = cur[part]
    if isinstance(cur, dict) and not is_schedule(cur, parts) and "distribution" not in cur:
        raise CaresimError(f"config key {key!r} is a table, not a single value")
    return cur


def output_value(
    summary: pd.DataFrame, measure: str, period: str | None, config: Config
) -> pd.Series:
    """Per-replication value of ``measure`` in ``period`` from a tidy summary.

    ``period=None`` means the mean over the measure's periods (yearly
    measures: the average year; part-covered financial years are left out).
    """
    if period is None:
        partial = set(partial_years(config)) | {"all"}
        sel = summary[summary["measure"] == measure]
        if sel.empty:
            resolve_period(summary, measure, None)  # raises naming the measures
        periods = set(sel["period"].astype(str))
        keep = periods - partial or periods
        sel = sel[sel["period"].astype(str).isin(keep)]
        return sel.groupby("replication")["value"].mean()
    p = resolve_period(summary, measure, period)
    sel = summary[(summary["measure"] == measure) & (summary["period"] == p)]
    return sel.set_index("replication")["value"].sort_index()


@dataclass
class SensitivityResult:
    """Indices and the points run for one sensitivity analysis.

    Attributes
    ----------
    method
        ``"morris"`` or ``"sobol"``.
    output
        ``MEASURE[:PERIOD]`` analysed.
    parameters
        The parameters and their ranges.
    indices
        Tidy: parameter, index (``mu_star``, ``mu``, ``sigma`` or ``S1``,
        ``ST``), value, conf (half-width of the 95% interval).
    samples
        One row per point SALib asked for: the parameter values (as run) and
        ``output`` (mean over replications).
    replications, seed
        Replications per point and their root seed.
    runs
        Distinct points run (repeats are taken from a cache).
    warnings
        Reasons not to trust the indices (e.g. a Sobol sample too small).

    """

    method: str
    output: str
    parameters: list[Parameter]
    indices: pd.DataFrame
    samples: pd.DataFrame
    replications: int
    seed: int
    runs: int
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def ranking(self) -> list[str]:
        """Parameters from most to least influential (by μ* or ST)."""
        idx = "mu_star" if self.method == "morris" else "ST"
        sel = self.indices[self.indices["index"] == idx].sort_values("value", ascending=False)
        return sel["parameter"].tolist()

    def table(self) -> pd.DataFrame:
        """Return the indices in wide form, one row per parameter, most influential first."""
        wide = self.indices.pivot_table(
            index="parameter", columns="index", values=["value", "conf"], sort=False
        )
        wide.columns = [f"{i}" if v == "value" else f"{i}_conf" for v, i in wide.columns]
        return wide.reindex(self.ranking()).reset_index()


def run_sensitivity(
    config: Config,
    parameters: Sequence[Parameter],
    *,
    output: str,
    method: str = "morris",
    trajectories: int = 10,
    levels: int = 4,
    replications: int = 5,
    seed: int = DEFAULT_SEED,
    backend: str | Backend = "serial",
    workers: int | None = None,
) -> SensitivityResult:
    """Run a Morris or Sobol sensitivity analysis of ``output`` to ``parameters``.

    Parameters
    ----------
    config
        The base config; each point overrides the parameters' keys.
    parameters
        Keys and ranges (at least two for Sobol).
    output
        ``MEASURE[:PERIOD]``, a summary measure and optionally its period
        (``cost_total_gbp:2018-19``); without a period, the mean over years.
    method
        ``"morris"`` (screening: ``trajectories`` × (k+1) points) or
        ``"sobol"`` (Saltelli sampling: ``trajectories`` × (k+2) points, the
        base sample size rounded up to a power of two).
    trajectories
        Morris trajectories, or the Sobol base sample size N.
    levels
        Morris grid levels.
    replications
        Replications per point (all points use replications ``0..R-1`` of ``seed``).
    seed
        Root seed of every point (common random numbers); also seeds SALib's sampling.
    backend, workers
        Where to run (see :func:`sim.analysis.comparison.evaluate`).

    Raises
    ------
    CaresimError
        For an unknown method, key or measure, a bad range or too few points.

    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in METHODS:
        raise CaresimError(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    params = list(parameters)
    if not params:
        raise CaresimError("give at least one --param KEY=LOW:HIGH")
    keys = [p.key for p in params]
    if len(set(keys)) != len(keys):
        raise CaresimError(f"a parameter is given twice: {keys}")
    if method == "sobol" and len(params) < 2:
        raise CaresimError("Sobol indices need at least two parameters")
    if trajectories < 2:
        raise CaresimError(f"--trajectories must be >= 2, got {trajectories}")
    if replications < 1:
        raise CaresimError(f"--replications must be >= 1, got {replications}")
    for p in params:
        check_key(config, p.key)
    measure, period = parse_output(output)
    problem = {
        "num_vars": len(params),
        "names": keys,
        "bounds": [[p.low, p.high] for p in params],
    }
    if method == "morris":
        x = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    else:
        n = 2 ** math.ceil(math.log2(trajectories))
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    points = [tuple(p.value(v) for p, v in zip(params, row, strict=True)) for row in x]
    unique = list(dict.fromkeys(points))
    configs = [with_overrides(config, dict(zip(keys, pt, strict=True))) for pt in unique]
    summaries = evaluate(
        configs, replications=replications, seed=seed, backend=backend, workers=workers
    )
    values = {
        pt: float(output_value(s, measure, period, config).mean())
        for pt, s in zip(unique, summaries, strict=True)
    }
    y = np.array([values[pt] for pt in points])
    if not np.all(np.isfinite(y)):
        raise CaresimError(
            f"output {output} is undefined (NaN) at some points; choose another measure or period"
        )
    rows: list[tuple[str, str, float, float]] = []
    if method == "morris":
        si = morris_analyze.analyze(problem, x, y, num_levels=levels, conf_level=0.95, seed=seed)
        for i, k in enumerate(keys):
            rows += [
                (k, "mu_star", float(si["mu_star"][i]), float(si["mu_star_conf"][i])),
                (k, "mu", float(si["mu"][i]), float("nan")),
                (k, "sigma", float(si["sigma"][i]), float("nan")),
            ]
    else:
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
        for i, k in enumerate(keys):
            rows += [
                (k, "S1", float(si["S1"][i]), float(si["S1_conf"][i])),
                (k, "ST", float(si["ST"][i]), float(si["ST_conf"][i])),
            ]
    indices = pd.DataFrame(rows, columns=["parameter", "index", "value", "conf"])
    warnings = sobol_warnings(indices, n) if method == "sobol" else ()
    samples = pd.DataFrame(points, columns=keys)
    samples["output"] = y
    return SensitivityResult(
        method=method,
        output=output,
        parameters=params,
        indices=indices,
        samples=samples,
        replications=replications,
        seed=seed,
        runs=len(unique),
        warnings=warnings,
    )


#: Below this base sample size a Sobol estimate is usually too noisy to rank
#: parameters by (SALib's examples use N in the hundreds to thousands).
SOBOL_MIN_N = 64


def sobol_warnings(indices: pd.DataFrame, n: int) -> tuple[str, ...]:
    """Reasons not to trust Sobol indices: a small N, indices outside [0, 1], wide intervals.

    >>> frame = pd.DataFrame({"parameter": ["a"], "index": ["S1"], "value": [1.78], "conf": [0.5]})
    >>> [w.split(":")[0] for w in sobol_warnings(frame, 4)]
    ['the Sobol base sample is small', 'an index lies outside 0 to 1', 'wide intervals']
    """
    out = []
    if n < SOBOL_MIN_N:
        out.append(
            f"the Sobol base sample is small: N = {n}; use --trajectories {SOBOL_MIN_N} or "
            "more (a power of 2) before ranking parameters by these indices"
        )
    v, c = indices["value"], indices["conf"]
    outside = indices[(v < -c.fillna(0)) | (v > 1 + c.fillna(0))]
    if len(outside):
        names = ", ".join(f"{r.parameter} {r.index} = {r.value:.2f}" for r in outside.itertuples())
        out.append(
            f"an index lies outside 0 to 1: {names}; "
            "a share of variance cannot, so the sample is too small"
        )
    if (c > 0.1).any():
        out.append("wide intervals: some 95% intervals are wider than ±0.1")
    return tuple(out)
