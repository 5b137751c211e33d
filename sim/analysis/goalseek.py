r"""Goal-seek and optimise a config value: the capacity that meets a target, or costs least.

Goal-seek answers "how many in-house foster places do we need so that at
least 60% of fostering days are in-house in 2018-19, in 80% of outcomes?"::

    caresim goalseek configs/worcestershire-2016.toml \\
        --vary placement_types.foster_in_house.capacity \\
        --target "in_house_share_fostering>=0.6" --by 2019-03-31 --probability 0.8

Every value tried runs the same replications of the same seed (common random
numbers), so the share of replications meeting the target changes with the
value, not with the noise. The search assumes that share grows with the value
(more places, more in-house care) and bisects between a value that fails and
one that succeeds; every value run is cached and reused. The answer comes with
the values at which the share crosses 50%, 80% and 90%, and a bootstrap over
replications of the answer itself.

Optimisation (``--cost-per-place-gbp``) instead finds the capacity (one or two
keys) that minimises expected annual spend plus a running cost for every place,
filled or not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.comparison import partial_years, resolve_period
from sim.analysis.sensitivity import check_key, output_value, parse_output
from sim.config.loader import with_overrides
from sim.config.schema import Config
from sim.defaults import DEFAULT_SEED
from sim.errors import CaresimError, ConfigError
from sim.experiment.backends import Backend, make_backend
from sim.experiment.scenarios import evaluate
from sim.results.tables import SUMMARY_MEASURES

__all__ = [
    "GoalSeekResult",
    "OptimiseResult",
    "Target",
    "goal_seek",
    "optimise",
    "parse_target",
]

_TARGET = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*(%?)\s*$")


@dataclass(frozen=True)
class Target:
    """A condition on one summary measure, e.g. ``in_house_share_fostering >= 0.6``."""

    measure: str
    op: str
    threshold: float

    def met(self, values: np.ndarray) -> np.ndarray:
        """Whether each value meets the target (NaN never does)."""
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            out = {
                ">=": v >= self.threshold,
                ">": v > self.threshold,
                "<=": v <= self.threshold,
                "<": v < self.threshold,
            }[self.op]
        return out & np.isfinite(v)

    def __str__(self) -> str:
        return f"{self.measure} {self.op} {self.threshold:g}"


def parse_target(text: str) -> Target:
    """Parse ``MEASURE>=VALUE`` (also ``>``, ``<=``, ``<``; ``60%`` means 0.6).

    >>> parse_target("in_house_share_fostering>=60%")
    Target(measure='in_house_share_fostering', op='>=', threshold=0.6)
    """
    m = _TARGET.match(text)
    if not m:
        raise CaresimError(
            f"--target {text!r}: expected MEASURE>=VALUE (or >, <=, <), "
            "e.g. in_house_share_fostering>=0.6"
        )
    measure, op, number, pct = m.groups()
    if measure not in SUMMARY_MEASURES:
        raise CaresimError(
            f"--target: unknown summary measure {measure!r}; available: "
            f"{', '.join(SUMMARY_MEASURES)}"
        )
    try:
        value = float(number)
    except ValueError:
        raise CaresimError(f"--target {text!r}: {number!r} is not a number") from None
    return Target(measure, op, value / 100 if pct else value)


# ------------------------------------------------------------------- points


class _Evaluator:
    """Runs configs at values of one or more keys, caching per-replication outputs.

    ``period=None`` means the last fully covered period of the measure when
    ``last=True`` (goal-seek), else the mean over fully covered years.
    """

    def __init__(
        self,
        config: Config,
        keys: Sequence[str],
        measure: str,
        period: str | None,
        *,
        integer: Sequence[bool],
        replications: int,
        seed: int,
        backend: Backend,
        last: bool,
    ):
        self.config = config
        self.keys = list(keys)
        self.integer = list(integer)
        self.measure = measure
        self.period = period
        self.last = last
        self.resolved: str | None = None
        self.replications = replications
        self.seed = seed
        self.backend = backend
        self.cache: dict[tuple[float, ...], np.ndarray] = {}

    def _overrides(self, point: tuple[float, ...]) -> dict[str, float | int]:
        return {
            k: round(x) if whole else x
            for k, x, whole in zip(self.keys, point, self.integer, strict=True)
        }

    def _resolve(self, summary: pd.DataFrame) -> None:
        if self.period is None and not self.last:
            return
        if self.period is not None:
            self.resolved = resolve_period(summary, self.measure, self.period)
            return
        partial = set(partial_years(self.config)) | {"all"}
        sel = summary[summary["measure"] == self.measure]
        periods = [p for p in dict.fromkeys(sel["period"].astype(str)) if p not in partial]
        self.resolved = periods[-1] if periods else resolve_period(summary, self.measure, None)

    def _config(self, point: tuple[float, ...]) -> Config:
        values = self._overrides(point)
        try:
            return with_overrides(self.config, values)
        except ConfigError as exc:
            shown = ", ".join(f"{k} = {v:g}" for k, v in values.items())
            raise CaresimError(
                f"cannot run {shown}: {exc}\nnarrow the range (--low/--high) to valid values"
            ) from None

    def values(self, points: Sequence[tuple[float, ...]]) -> list[np.ndarray]:
        todo = [p for p in dict.fromkeys(points) if p not in self.cache]
        if todo:
            configs = [self._config(p) for p in todo]
            summaries = evaluate(
                configs, replications=self.replications, seed=self.seed, backend=self.backend
            )
            for p, s in zip(todo, summaries, strict=True):
                if self.resolved is None:
                    self._resolve(s)
                period = self.resolved if self.resolved is not None else self.period
                series = output_value(s, self.measure, period, self.config)
                self.cache[p] = series.reindex(range(self.replications)).to_numpy(dtype=float)
        return [self.cache[p] for p in points]

    def one(self, point: tuple[float, ...]) -> np.ndarray:
        return self.values([point])[0]


def _with_backend(backend: str | Backend, workers: int | None) -> tuple[Backend, bool]:
    if isinstance(backend, str):
        be = make_backend(backend, workers=workers)
        be.__enter__()
        return be, True
    return backend, False


def _default_low(config: Config, key: str) -> float:
    """Lowest sensible value of a key: for a capacity, the children placed there at the start."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "placement_types" and parts[2] == "capacity":
        return float(
            sum(g.count for g in config.initial_population.looked_after if g.placement == parts[1])
        )
    return 0.0


def _as_number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict) and value:
        # A schedule: its largest value is the scale of the key.
        numbers = [v for v in value.values() if isinstance(v, int | float)]
        return float(max(numbers)) if numbers else None
    return None


# ---------------------------------------------------------------- goal-seek


@dataclass
class GoalSeekResult:
    """The smallest value of a key meeting a target, with its uncertainty.

    Attributes
    ----------
    key, target, period, probability
        What was sought: the smallest ``key`` for which ``target`` holds in
        ``period`` in at least ``probability`` of replications.
    value
        The answer (None if not met within the range).
    points
        Every value run: value, probability (share of replications meeting
        the target), mean, p10, p50, p90 of the measure.
    levels
        The smallest value run at which the share reaches each level
        (50%, 80%, 90% and ``probability``); NaN if not reached.
    interval
        Bootstrap (over replications) 5th and 95th percentiles of the answer,
        among the values run.
    replications, seed, runs
        Replications per value, their seed, and the values run.

    """

    key: str
    target: Target
    period: str | None
    probability: float
    value: float | None
    points: pd.DataFrame
    levels: pd.DataFrame
    interval: tuple[float, float]
    replications: int
    seed: int
    runs: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Describe the result in a few lines for people."""
        when = f" in {self.period}" if self.period else ""
        if self.value is None:
            head = (
                f"No value of {self.key} in the range tried meets {self.target}{when} in "
                f"{self.probability:.0%} of replications."
            )
        else:
            lo, hi = self.interval
            head = (
                f"Smallest {self.key} meeting {self.target}{when} in at least "
                f"{self.probability:.0%} of {self.replications} replications: {self.value:g}\n"
                f"  bootstrap over replications, 90% of answers between {lo:g} and {hi:g}"
            )
        lines = [head, "  share of replications meeting the target reaches:"]
        for r in self.levels.itertuples():
            v = "not reached in range" if not np.isfinite(r.value) else f"{r.value:g}"
            lines.append(f"    {r.level:>4.0%} at {v}")
        lines.append(
            f"  ({self.runs} values run, {self.replications} replications each, seed {self.seed})"
        )
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _bisect(
    share: Callable[[float], float],
    lo: float,
    hi: float,
    level: float,
    integer: bool,
    tolerance: float,
) -> float:
    """Smallest value in (lo, hi] with share >= level, given share(lo) < level <= share(hi)."""
    while (hi - lo > 1) if integer else (hi - lo > tolerance):
        mid = float((lo + hi) // 2) if integer else (lo + hi) / 2
        if share(mid) >= level:
            hi = mid
        else:
            lo = mid
    return hi


def _search_range(
    config: Config,
    key: str,
    low: float | None,
    high: float | None,
    *,
    integer: bool,
    base: float | None,
) -> tuple[float, float]:
    """The interval goal-seek searches: as given, or chosen for a whole-number key."""
    if (low is None or high is None) and not integer:
        raise CaresimError(f"give --low and --high for {key} (not a whole-number key)")
    if low is None:
        low = _default_low(config, key)
    if high is None:
        high = float(max(2 * (base or 0), low + 10))
    if integer:
        low, high = float(math.floor(low)), float(math.ceil(high))
    if not high > low:
        raise CaresimError(f"--high ({high:g}) must exceed --low ({low:g})")
    return low, high


def goal_seek(
    config: Config,
    key: str,
    target: Target | str,
    *,
    period: str | None = None,
    probability: float = 0.8,
    low: float | None = None,
    high: float | None = None,
    integer: bool | None = None,
    tolerance: float | None = None,
    replications: int = 20,
    seed: int = DEFAULT_SEED,
    levels: Sequence[float] = (0.5, 0.8, 0.9),
    bootstrap: int = 1000,
    backend: str | Backend = "serial",
    workers: int | None = None,
) -> GoalSeekResult:
    """Find the smallest value of ``key`` meeting ``target`` in ``probability`` of replications.

    Parameters
    ----------
    config
        The base config.
    key
        Dotted config key to vary (a schedule is replaced by a constant).
    target
        A :class:`Target` or text such as ``"in_house_share_fostering>=0.6"``.
    period
        Period of the measure: a financial year (``2018-19``), a 31 March
        date (``2019-03-31`` also names the year it ends), or None for the
        last one.
    probability
        Share of replications that must meet the target.
    low, high
        Search range. Integer keys default to the children placed in the type
        at the start (capacities; else 0) and twice the current value (doubled
        up to six times while the target is not met at ``high``).
    integer
        Whole values only (default: keys ending in ``capacity``).
    tolerance
        Precision of a non-integer answer (default 1/100 of the range).
    replications, seed
        Replications per value and their root seed (shared by all values).
    levels
        Shares at which to report the crossing value as well.
    bootstrap
        Bootstrap resamples of the replications for the answer's interval.
    backend, workers
        Where to run (a process pool is kept open for the whole search).

    Examples
    --------
    >>> import sim
    >>> from sim.analysis.goalseek import goal_seek
    >>> cfg = sim.load_config("configs/worcestershire-2016.toml", {"run.years": 2})
    >>> res = goal_seek(cfg, "placement_types.foster_in_house.capacity",     # doctest: +SKIP
    ...                 "in_house_share_fostering>=0.55", period="2017-18", replications=10)
    >>> print(res.summary())                                                  # doctest: +SKIP

    """
    tgt = parse_target(target) if isinstance(target, str) else target
    if not 0 < probability <= 1:
        raise CaresimError(f"--probability must be in (0, 1], got {probability:g}")
    if replications < 1:
        raise CaresimError(f"--replications must be >= 1, got {replications}")
    current = check_key(config, key)
    if integer is None:
        integer = key.rsplit(".", 1)[-1] == "capacity"
    base = _as_number(current)
    auto_high = high is None
    low, high = _search_range(config, key, low, high, integer=integer, base=base)
    tol = tolerance if tolerance is not None else (high - low) / 100
    be, owned = _with_backend(backend, workers)
    notes: list[str] = []
    try:
        ev = _Evaluator(
            config,
            [key],
            tgt.measure,
            period,
            integer=[integer],
            replications=replications,
            seed=seed,
            backend=be,
            last=True,
        )

        def share(x: float) -> float:
            return float(tgt.met(ev.one((x,))).mean())

        tries = 0
        while share(high) < probability and auto_high and tries < 6:
            low, high = high, high * 2
            tries += 1
        answer: float | None
        if share(high) < probability:
            answer = None
            notes.append(
                f"at {key} = {high:g} only {share(high):.0%} of replications meet the target; "
                "raise --high"
            )
        elif share(low) >= probability:
            answer = low
            notes.append(f"the target is already met at --low = {low:g}; lower it to look further")
        else:
            answer = _bisect(share, low, high, probability, integer, tol)
        level_rows = []
        for q in sorted({*levels, probability}):
            tried = sorted(p[0] for p in ev.cache)
            meets = [x for x in tried if share(x) >= q]
            if not meets:
                level_rows.append((q, float("nan")))
                continue
            fails = [x for x in tried if x < meets[0]]
            if not fails:
                level_rows.append((q, meets[0]))
                continue
            level_rows.append((q, _bisect(share, fails[-1], meets[0], q, integer, tol)))
        points = _points_table(ev, tgt)
        if not points["probability"].is_monotonic_increasing:
            notes.append(
                "the share meeting the target does not rise steadily with the value; "
                "the answer may not be the smallest (use more replications)"
            )
        interval = (
            _bootstrap(ev, tgt, probability, bootstrap, seed)
            if answer is not None
            else (
                float("nan"),
                float("nan"),
            )
        )
    finally:
        if owned:
            be.__exit__(None, None, None)
    return GoalSeekResult(
        key=key,
        target=tgt,
        period=ev.resolved,
        probability=probability,
        value=answer,
        points=points,
        levels=pd.DataFrame(level_rows, columns=["level", "value"]),
        interval=interval,
        replications=replications,
        seed=seed,
        runs=len(ev.cache),
        notes=notes,
    )


def _points_table(ev: _Evaluator, tgt: Target) -> pd.DataFrame:
    rows = []
    for p, v in sorted(ev.cache.items()):
        rows.append(
            {
                "value": p[0],
                "probability": float(tgt.met(v).mean()),
                "mean": float(np.nanmean(v)) if np.isfinite(v).any() else float("nan"),
                "p10": float(np.nanquantile(v, 0.1)) if np.isfinite(v).any() else float("nan"),
                "p50": float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan"),
                "p90": float(np.nanquantile(v, 0.9)) if np.isfinite(v).any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def _bootstrap(
    ev: _Evaluator, tgt: Target, probability: float, n: int, seed: int
) -> tuple[float, float]:
    tried = sorted(ev.cache)
    xs = np.array([p[0] for p in tried])
    met = np.vstack([tgt.met(ev.cache[p]) for p in tried])  # values x replications
    if n < 1:
        return float("nan"), float("nan")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x60A1,)))
    idx = rng.integers(0, met.shape[1], size=(n, met.shape[1]))
    shares = met[:, idx].mean(axis=2)  # values x resamples
    ok = shares >= probability
    answers = np.where(ok.any(axis=0), xs[np.argmax(ok, axis=0)], np.nan)
    answers = answers[np.isfinite(answers)]
    if not len(answers):
        return float("nan"), float("nan")
    return float(np.quantile(answers, 0.05)), float(np.quantile(answers, 0.95))


# ------------------------------------------------------------- optimisation


@dataclass
class OptimiseResult:
    """The values of one or two keys that minimise expected annual cost.

    Attributes
    ----------
    keys
        The keys varied.
    best
        The best values found, key -> value.
    points
        Every point run: the keys' values, spend (mean of the objective),
        place_cost (running cost of the places), expected_cost (their sum),
        and the paired difference from the best (mean, ci95_low, ci95_high).
    near_best
        Points whose paired difference from the best has a 95% CI including
        zero: values that cannot be told apart from the best with this many
        replications.

    """

    keys: list[str]
    best: dict[str, float]
    points: pd.DataFrame
    objective: str
    cost_per_place_gbp: list[float]
    replications: int
    seed: int

    @property
    def near_best(self) -> pd.DataFrame:
        """Points indistinguishable from the best (95% CI of the difference includes 0)."""
        p = self.points
        return p[p["diff_ci95_low"] <= 0].reset_index(drop=True)

    def summary(self) -> str:
        """Describe the result in a few lines for people."""
        best_row = self.points.sort_values("expected_cost").iloc[0]
        place = ", ".join(
            f"£{c:,.0f} a year per place of {k}"
            for k, c in zip(self.keys, self.cost_per_place_gbp, strict=True)
        )
        lines = [
            "Lowest expected annual cost ("
            + self.objective
            + f" + running cost of places: {place}):",
            "  "
            + ", ".join(f"{k} = {v:g}" for k, v in self.best.items())
            + f": £{best_row['expected_cost'] / 1e6:,.2f}m a year",
        ]
        near = self.near_best
        for k in self.keys:
            lines.append(
                f"  {k}: values within the 95% CI of the best run from "
                f"{near[k].min():g} to {near[k].max():g}"
            )
        lines.append(
            f"  ({len(self.points)} points run, {self.replications} replications each, "
            f"seed {self.seed})"
        )
        return "\n".join(lines)


def _grid_bounds(
    config: Config, keys: Sequence[str], bounds: Sequence[tuple[float, float]] | None
) -> list[tuple[float, float]]:
    """The box optimise searches: as given, or from each key's current value."""
    if bounds is None:
        bounds = []
        for k in keys:
            base = _as_number(check_key(config, k))
            lo = _default_low(config, k)
            bounds.append((lo, float(max(2 * (base or 0), lo + 10))))
    if len(bounds) != len(keys):
        raise CaresimError(f"give --low and --high for each --vary ({len(keys)} keys)")
    for k, (lo, hi) in zip(keys, bounds, strict=True):
        check_key(config, k)
        if not hi > lo:
            raise CaresimError(f"{k}: --high ({hi:g}) must exceed --low ({lo:g})")
    return list(bounds)


def optimise(
    config: Config,
    keys: Sequence[str],
    *,
    cost_per_place_gbp: float | Sequence[float],
    bounds: Sequence[tuple[float, float]] | None = None,
    objective: str = "cost_total_gbp",
    replications: int = 10,
    seed: int = DEFAULT_SEED,
    grid: int = 9,
    backend: str | Backend = "serial",
    workers: int | None = None,
) -> OptimiseResult:
    """Find whole-number values of one or two keys minimising expected annual cost.

    Expected annual cost at a point = the mean over replications of
    ``objective`` (``MEASURE[:PERIOD]``; without a period the average
    financial year) + Σ ``cost_per_place_gbp`` × value. The running cost per
    place (£ a year) is paid for every place, filled or not, on top of the
    per-child cost the model already counts.

    The search runs a coarse grid (``grid`` values per key, 5 for two keys),
    then repeatedly halves the step around the best point until it is 1. All
    points share the seed and replications, and differences from the best are
    paired.

    Raises
    ------
    CaresimError
        For more than two keys, missing bounds or costs, or a bad range.

    """
    keys = list(keys)
    if not 1 <= len(keys) <= 2:
        raise CaresimError(f"optimise one or two keys at a time, got {len(keys)}")
    costs = (
        [float(cost_per_place_gbp)] * len(keys)
        if isinstance(cost_per_place_gbp, int | float)
        else [float(c) for c in cost_per_place_gbp]
    )
    if len(costs) != len(keys):
        raise CaresimError(
            f"give one --cost-per-place-gbp per --vary ({len(keys)}), got {len(costs)}"
        )
    if any(c < 0 for c in costs):
        raise CaresimError("--cost-per-place-gbp must not be negative")
    measure, period = parse_output(objective)
    if measure not in SUMMARY_MEASURES:
        raise CaresimError(f"--objective: unknown summary measure {measure!r}")
    bounds = _grid_bounds(config, keys, bounds)
    lows = [math.floor(b[0]) for b in bounds]
    highs = [math.ceil(b[1]) for b in bounds]
    if replications < 2:
        raise CaresimError("optimisation needs at least 2 replications (for intervals)")
    be, owned = _with_backend(backend, workers)
    try:
        ev = _Evaluator(
            config,
            keys,
            measure,
            period,
            integer=[True] * len(keys),
            replications=replications,
            seed=seed,
            backend=be,
            last=False,
        )
        n_grid = grid if len(keys) == 1 else min(grid, 5)
        axes = [
            sorted({round(v) for v in np.linspace(lo, hi, n_grid)})
            for lo, hi in zip(lows, highs, strict=True)
        ]
        steps = [
            max(1, (hi - lo) // max(len(a) - 1, 1))
            for lo, hi, a in zip(lows, highs, axes, strict=True)
        ]
        points = [tuple(float(x) for x in p) for p in _product(axes)]

        def cost(p: tuple[float, ...]) -> np.ndarray:
            return ev.one(p) + sum(c * x for c, x in zip(costs, p, strict=True))

        ev.values(points)
        best = min(ev.cache, key=lambda p: float(np.nanmean(cost(p))))
        while max(steps) > 1:
            steps = [max(1, s // 2) for s in steps]
            around = []
            for delta in _product([[-s, 0, s] for s in steps]):
                p = tuple(
                    float(min(max(b + d, lo), hi))
                    for b, d, lo, hi in zip(best, delta, lows, highs, strict=True)
                )
                around.append(p)
            ev.values(around)
            best = min(ev.cache, key=lambda p: float(np.nanmean(cost(p))))
        # Final polish: a unit step in every direction until no neighbour is better.
        for _ in range(20):
            around = []
            for delta in _product([[-1, 0, 1]] * len(keys)):
                p = tuple(
                    float(min(max(b + d, lo), hi))
                    for b, d, lo, hi in zip(best, delta, lows, highs, strict=True)
                )
                around.append(p)
            ev.values(around)
            new_best = min(ev.cache, key=lambda p: float(np.nanmean(cost(p))))
            if new_best == best:
                break
            best = new_best
    finally:
        if owned:
            be.__exit__(None, None, None)
    best_cost = cost(best)
    rows = []
    n = replications
    t = stats.t.ppf(0.975, n - 1)
    for p in sorted(ev.cache):
        c = cost(p)
        d = c - best_cost
        sd = float(np.nanstd(d, ddof=1))
        half = t * sd / math.sqrt(n)
        row: dict[str, float] = {k: v for k, v in zip(keys, p, strict=True)}
        row.update(
            spend=float(np.nanmean(ev.one(p))),
            place_cost=float(sum(cc * x for cc, x in zip(costs, p, strict=True))),
            expected_cost=float(np.nanmean(c)),
            diff_from_best=float(np.nanmean(d)),
            diff_ci95_low=float(np.nanmean(d)) - half,
            diff_ci95_high=float(np.nanmean(d)) + half,
        )
        rows.append(row)
    return OptimiseResult(
        keys=keys,
        best=dict(zip(keys, best, strict=True)),
        points=pd.DataFrame(rows),
        objective=objective,
        cost_per_place_gbp=costs,
        replications=replications,
        seed=seed,
    )


def _product(axes: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [()]
    for axis in axes:
        out = [(*p, x) for p in out for x in axis]
    return out
