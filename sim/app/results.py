"""What the page shows after "Run": a cached baseline and scenario, their charts and tables.

The baseline and the scenario run with the same seed and replication indices
(common random numbers, as ``caresim compare`` does), through
:func:`sim.experiment.batch.run`, the function behind :func:`sim.run`. Each
run is cached by (config JSON, seed, replications), so changing only the
scenario reruns only the scenario. Tables come from
:func:`sim.analysis.comparison.key_table` and
:func:`sim.analysis.comparison.compare`, charts from :mod:`sim.report.charts`,
and labels and units from :mod:`sim.analysis.measures`. Nothing here imports Shiny.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.budgets import budget_frame
from sim.analysis.comparison import (
    compare,
    key_table,
    paired_differences,
    trim_partial,
)
from sim.analysis.measures import KEY_MEASURES, MEASURES, format_range, format_value, label_of
from sim.analysis.targets import target_lines, target_table
from sim.config import Config, load_config
from sim.errors import CaresimError
from sim.experiment.batch import run
from sim.results.manifest import config_json
from sim.results.run_result import RunResult

__all__ = [
    "BASELINE",
    "RANK_MEASURES",
    "SCENARIO",
    "Outcome",
    "Progress",
    "Ranking",
    "RunCache",
    "RunCancelled",
    "budget_table",
    "cache_key",
    "compute",
    "csv_text",
    "difference_figure",
    "difference_frame",
    "difference_meaning",
    "difference_table",
    "excel_bytes",
    "fan_figure",
    "fan_meaning",
    "key_tables",
    "paired_frame",
    "rank_scenarios",
    "rank_table",
    "saved_scenarios",
    "spend_figure",
    "spend_meaning",
    "target_text",
    "wide_stats",
]

BASELINE = "baseline"
SCENARIO = "scenario"

#: Monthly series the page keeps (the fan chart's); the summary table holds every measure.
_TIMESERIES = ("looked_after",)


def cache_key(config: Config, seed: int, replications: int) -> str:
    """A digest of the resolved config (as a manifest stores it), the seed and the count."""
    text = json.dumps(config_json(config), sort_keys=True)
    return hashlib.sha256(f"{text}|{seed}|{replications}".encode()).hexdigest()


class RunCache:
    """Results by :func:`cache_key`, the most recent ``size`` kept; safe across threads."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._items: OrderedDict[str, RunResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> RunResult | None:
        """The cached result, or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: str, result: RunResult) -> None:
        """Keep ``result``, forgetting the oldest beyond the size."""
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class RunCancelled(CaresimError):
    """The planner cancelled the batch from the page."""


@dataclass
class Progress:
    """Replications done out of those to run, updated from the worker thread.

    :meth:`cancel` asks the batch to stop: the next :meth:`step` (called by
    :func:`sim.experiment.batch.run` as each replication, or each chunk of a
    process pool, completes) raises :class:`RunCancelled`, which ends the
    batch and shuts its pool down without keeping anything.
    """

    done: int = 0
    total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def reset(self, total: int) -> None:
        """Start counting ``total`` replications (and forget an earlier cancel)."""
        with self._lock:
            self.done, self.total = 0, total
            self._stop.clear()

    def set_total(self, total: int) -> None:
        """Start counting ``total`` replications, keeping a cancel already asked for."""
        with self._lock:
            self.done, self.total = 0, total

    def cancel(self) -> None:
        """Ask the running batch to stop at its next replication."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called since the last :meth:`reset`."""
        return self._stop.is_set()

    def step(self, _item: Any = None) -> None:
        """One more replication done; raises :class:`RunCancelled` once cancelled."""
        if self._stop.is_set():
            raise RunCancelled("cancelled from the page")
        with self._lock:
            self.done += 1

    def fraction(self) -> float:
        """Share done (0 before anything is known)."""
        with self._lock:
            return self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class Outcome:
    """One press of "Run": the results, or the error to show instead."""

    base: RunResult | None = None
    scenario: RunResult | None = None
    seed: int = 0
    replications: int = 0
    seconds: float = 0.0
    cached: int = 0
    error: str | None = None
    cancelled: bool = False


def _run_cached(
    config: Config,
    label: str,
    seed: int,
    n: int,
    cache: RunCache,
    progress: Progress | None,
    backend: str,
) -> tuple[RunResult, bool]:
    key = cache_key(config, seed, n)
    hit = cache.get(key)
    if hit is not None:
        if progress is not None:
            for _ in range(n):
                progress.step()
        return hit, True
    result = run(
        config,
        replications=n,
        seed=seed,
        scenario=label,
        backend=backend,  # type: ignore[arg-type]
        timeseries=_TIMESERIES,
        on_done=progress.step if progress is not None else None,
    )
    cache.put(key, result)
    return result, False


def compute(
    base: Config,
    scenario: Config | None,
    *,
    seed: int,
    replications: int,
    cache: RunCache,
    progress: Progress | None = None,
    backend: str | None = None,
) -> Outcome:
    """Run (or fetch) the baseline and the scenario with the same seed and replications.

    ``backend`` defaults to a local process pool for batches worth one (more
    than 8 replication-years), else this process. A user error (a
    :class:`CaresimError`, e.g. failed replications) comes back as
    ``Outcome.error``, never raised.
    """
    if replications < 1:
        return Outcome(error=f"replications must be >= 1, got {replications}")
    if seed < 0:
        return Outcome(error=f"seed must be >= 0, got {seed}")
    if progress is not None:
        progress.set_total(replications * (2 if scenario is not None else 1))
    if backend is None:
        backend = "process" if replications * base.run.years > 8 else "serial"
    started = time.perf_counter()
    try:
        b, hit_b = _run_cached(base, BASELINE, seed, replications, cache, progress, backend)
        s, hit_s = (None, False)
        if scenario is not None:
            s, hit_s = _run_cached(scenario, SCENARIO, seed, replications, cache, progress, backend)
    except RunCancelled:
        return Outcome(seed=seed, replications=replications, cancelled=True)
    except CaresimError as exc:
        return Outcome(error=str(exc))
    return Outcome(
        base=b,
        scenario=s,
        seed=seed,
        replications=replications,
        seconds=time.perf_counter() - started,
        cached=int(hit_b) + int(hit_s),
    )


# ------------------------------------------------------------------ charts


def _zero_based(fig: Figure) -> Figure:
    for ax in fig.axes:
        ax.set_ylim(bottom=0)
    return fig


def _both_timeseries(o: Outcome) -> pd.DataFrame:
    assert o.base is not None
    frames = [trim_partial(o.base).timeseries]
    if o.scenario is not None:
        frames.append(trim_partial(o.scenario).timeseries)
    return pd.concat(frames, ignore_index=True)


def _both_summary(o: Outcome) -> pd.DataFrame:
    assert o.base is not None
    frames = [trim_partial(o.base).summary]
    if o.scenario is not None:
        frames.append(trim_partial(o.scenario).summary)
    return pd.concat(frames, ignore_index=True)


def fan_figure(o: Outcome) -> Figure:
    """Fan chart of children looked after (both runs when there is a scenario), from zero."""
    from sim.report.charts import fan_chart

    return _zero_based(fan_chart(_both_timeseries(o), "looked_after"))


def spend_figure(o: Outcome) -> Figure:
    """Total spend by financial year across replications (boxes), from zero."""
    from sim.report.charts import annual_distribution

    fig = annual_distribution(_both_summary(o), "cost_total_gbp")
    return _zero_based(fig)


def difference_figure(o: Outcome) -> Figure:
    """Paired difference scenario − baseline per year: mean, 95% CI, P10–P90."""
    from sim.report.charts import comparison

    return comparison(difference_frame(o))


def _median_lines(o: Outcome) -> tuple[float, float, float | None]:
    ts = _both_timeseries(o)
    sel = ts[(ts["measure"] == "looked_after") & (ts["category"] == "all")]
    med = sel.groupby(["scenario", "date"], observed=True)["value"].median()
    base = med.loc[BASELINE]
    scen = med.loc[SCENARIO] if o.scenario is not None else None
    return float(base.iloc[0]), float(base.iloc[-1]), None if scen is None else float(scen.iloc[-1])


def fan_meaning(o: Outcome) -> str:
    """One line saying what the fan chart shows."""
    first, last, scen = _median_lines(o)
    text = (
        f"In the middle replication, children looked after go from {first:,.0f} to "
        f"{last:,.0f} by the end of the run"
    )
    if scen is not None:
        text += f" ({scen:,.0f} with the scenario)"
    return text + "; the shaded bands hold the middle 50% and 90% of replications."


def spend_meaning(o: Outcome) -> str:
    """One line saying what the spend chart and table show."""
    assert o.base is not None
    st = trim_partial(o.base).summary_stats()
    sel = st[st["measure"] == "cost_total_gbp"]
    if sel.empty:
        return "No whole financial year in the run: spend by year is not shown."
    r = sel.iloc[-1]
    return (
        f"Baseline total spend in {r['period']}: {format_value(r['p50'], 'gbp')} in the middle "
        f"replication; 8 replications in 10 fall in {format_range(r['p10'], r['p90'], 'gbp')}."
    )


# ------------------------------------------------------------------ tables


def difference_frame(o: Outcome) -> pd.DataFrame:
    """:func:`compare` of scenario with baseline over whole years, plus ``share_lower``.

    ``share_lower`` is the share of replications in which the scenario's value
    is below the baseline's (ties count as not lower).
    """
    if o.base is None or o.scenario is None:
        raise CaresimError("no scenario: change a lever and run again to compare")
    return paired_frame(o.base, o.scenario)


def paired_frame(base: RunResult, scenario: RunResult) -> pd.DataFrame:
    """:func:`compare` of ``scenario`` with ``base`` over whole years, plus ``share_lower``."""
    base, scen = trim_partial(base), trim_partial(scenario)
    out = compare(base, scen)
    pairs = paired_differences(base, scen)
    lower = (
        pairs.assign(lower=pairs["difference"] < 0)
        .groupby(["measure", "period"], observed=True)["lower"]
        .mean()
        .rename("share_lower")
        .reset_index()
    )
    out["period"] = out["period"].astype(str)
    return out.merge(lower, on=["measure", "period"], how="left")


def difference_table(o: Outcome) -> pd.DataFrame:
    """The key measures' paired differences, formatted to read: one row per measure and year."""
    d = difference_frame(o)
    rows = []
    for m in KEY_MEASURES:
        for _, r in d[(d["measure"] == m.name) & (d["period"] != "all")].iterrows():
            rows.append(
                {
                    "measure": label_of(m.name),
                    "year": r["period"],
                    "baseline": format_value(r["base_mean"], m.style),
                    "scenario": format_value(r["scenario_mean"], m.style),
                    "difference": format_value(r["mean"], m.style, signed=True),
                    "95% CI": (
                        f"{format_value(r['ci95_low'], m.style, signed=True)} to "
                        f"{format_value(r['ci95_high'], m.style, signed=True)}"
                    ),
                    "scenario lower in": f"{r['share_lower']:.0%}",
                }
            )
    return pd.DataFrame(rows)


def difference_meaning(o: Outcome) -> str:
    """One line on the paired difference of total spend in the last whole year."""
    d = difference_frame(o)
    sel = d[(d["measure"] == "cost_total_gbp") & (d["period"] != "all")]
    if sel.empty:
        return "No whole financial year in the run to compare."
    r = sel.iloc[-1]
    low = format_value(r["ci95_low"], "gbp", signed=True)
    high = format_value(r["ci95_high"], "gbp", signed=True)
    return (
        f"In {r['period']} the scenario changes total spend by "
        f"{format_value(r['mean'], 'gbp', signed=True)} on average (95% CI {low} to {high}, "
        f"same random numbers in both runs); it is lower in {r['share_lower']:.0%} of "
        f"{int(r['n'])} replications."
    )


def _unit(measure: str) -> str:
    m = MEASURES.get(measure)
    return m.unit if m else ""


def wide_stats(result: RunResult) -> pd.DataFrame:
    """Median, P10 and P90 of the key measures, one row per financial year.

    Column headers carry the unit: ``Total spend: median (£ a financial year)``.
    Snapshot measures (31 March) are put in the financial year they end.
    """
    st = trim_partial(result).summary_stats()
    st = st[st["period"].astype(str) != "all"].copy()
    st["year"] = st["period"].astype(str).map(_year_of)
    out = pd.DataFrame({"financial year": sorted(set(st["year"]))}).set_index("financial year")
    for m in KEY_MEASURES:
        sel = st[st["measure"] == m.name].set_index("year")
        for col, name in (("p50", "median"), ("p10", "P10"), ("p90", "P90")):
            out[f"{label_of(m.name)}: {name} ({m.unit})"] = sel[col]
    return out.reset_index()


def _year_of(period: str) -> str:
    if len(period) == 10:  # a 31 March snapshot: the financial year it ends
        year = int(period[:4])
        return f"{year - 1}-{str(year)[2:]}"
    return period


def _difference_wide(o: Outcome) -> pd.DataFrame:
    d = difference_frame(o)
    d = d[d["period"] != "all"].copy()
    d["year"] = d["period"].map(_year_of)
    out = pd.DataFrame({"financial year": sorted(set(d["year"]))}).set_index("financial year")
    for m in KEY_MEASURES:
        sel = d[d["measure"] == m.name].set_index("year")
        unit = "percentage points" if m.style == "pct" else m.unit
        scale = 100.0 if m.style == "pct" else 1.0
        for col, name in (("mean", "mean difference"), ("ci95_low", "95% CI low")):
            out[f"{label_of(m.name)}: {name} ({unit})"] = sel[col] * scale
        out[f"{label_of(m.name)}: 95% CI high ({unit})"] = sel["ci95_high"] * scale
        out[f"{label_of(m.name)}: scenario lower (share of replications)"] = sel["share_lower"]
    return out.reset_index()


def _replications(o: Outcome) -> pd.DataFrame:
    s = pd.concat(
        [r.summary for r in (o.base, o.scenario) if r is not None], ignore_index=True
    ).copy()
    s["unit"] = s["measure"].map(_unit)
    s["period"] = s["period"].astype(str)
    return s[["scenario", "replication", "measure", "unit", "period", "value"]]


def _about(o: Outcome) -> pd.DataFrame:
    assert o.base is not None
    rows = [
        ("baseline", o.base.config.run.name),
        ("scenario", o.scenario.config.run.name if o.scenario is not None else "(none)"),
        ("seed", str(o.seed)),
        ("replications", str(o.replications)),
        ("start date", o.base.config.run.start_date.isoformat()),
        ("years", f"{o.base.config.run.years:g}"),
        ("medians, P10, P90", "across replications; each financial year whole in the run"),
        ("differences", "scenario − baseline, replication by replication (same seed)"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def excel_bytes(o: Outcome) -> bytes:
    """An .xlsx workbook: about, baseline, scenario, difference, replications (one sheet each)."""
    assert o.base is not None
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        _about(o).to_excel(xl, sheet_name="about", index=False)
        wide_stats(o.base).to_excel(xl, sheet_name="baseline", index=False)
        if o.scenario is not None:
            wide_stats(o.scenario).to_excel(xl, sheet_name="scenario", index=False)
            _difference_wide(o).to_excel(xl, sheet_name="difference", index=False)
        _replications(o).to_excel(xl, sheet_name="replications", index=False)
    return buf.getvalue()


def csv_text(o: Outcome) -> str:
    """Every replication's summary values, tidy, with a unit column (both runs)."""
    return _replications(o).to_csv(index=False)


def key_tables(o: Outcome) -> dict[str, pd.DataFrame]:
    """:func:`key_table` of the baseline and of the scenario, by name."""
    assert o.base is not None
    out = {BASELINE: key_table(o.base)}
    if o.scenario is not None:
        out[SCENARIO] = key_table(o.scenario)
    return out


# ------------------------------------------------------------ budgets, targets


def _runs(o: Outcome) -> list[RunResult]:
    return [trim_partial(r) for r in (o.base, o.scenario) if r is not None]


def budget_table(o: Outcome) -> pd.DataFrame:
    """Spend against the config's ``[budgets]`` (:func:`budget_frame`), formatted to read.

    One row per run, cost line and budgeted financial year the run covers in
    whole; empty when the config states no budget.
    """
    rows = []
    for result in _runs(o):
        for _, r in budget_frame(result).iterrows():
            rows.append(
                {
                    "run": r["scenario"],
                    "cost line": label_of(r["measure"]),
                    "year": r["period"],
                    "budget": format_value(r["budget_gbp"], "gbp"),
                    "spend: median": format_value(r["median_gbp"], "gbp"),
                    "spend: P10–P90": format_range(r["p10_gbp"], r["p90_gbp"], "gbp"),
                    "median over budget": format_value(r["median_over_gbp"], "gbp", signed=True),
                    "over budget in": f"{r['p_over']:.0%} of {int(r['replications'])}",
                }
            )
    return pd.DataFrame(rows)


def target_text(o: Outcome) -> list[str]:
    """One sentence per ``[[targets]]`` entry and run (:func:`target_lines`); empty if none."""
    tables = [target_table(r) for r in _runs(o) if r.config.targets]
    tables = [t for t in tables if len(t)]
    if not tables:
        return []
    return target_lines(pd.concat(tables, ignore_index=True))


# ------------------------------------------------------------ saved scenarios ranked

#: What the ranking compares, in the last whole financial year: (measure, column stem).
RANK_MEASURES: tuple[tuple[str, str], ...] = (
    ("cost_total_gbp", "spend"),
    ("looked_after", "looked_after"),
)

_RANK_STATS = ("period", "base_mean", "scenario_mean", "mean", "ci95_low", "ci95_high")


def saved_scenarios(folder: Path) -> list[Path]:
    """The scenario TOML files in ``folder`` (sorted), leaving out saved baseline copies."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.toml") if not p.stem.endswith("-baseline"))


@dataclass(frozen=True)
class Ranking:
    """One press of "Rank": the paired differences of each saved scenario, or why not."""

    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    errors: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    replications: int = 0
    seconds: float = 0.0
    error: str | None = None
    cancelled: bool = False


def _rank_row(name: str, path: Path, base: RunResult, scen: RunResult) -> dict[str, Any]:
    d = paired_frame(base, scen)
    row: dict[str, Any] = {"scenario": name, "file": path.name}
    for measure, stem in RANK_MEASURES:
        sel = d[(d["measure"] == measure) & (d["period"] != "all")]
        if sel.empty:
            raise CaresimError(f"{path.name}: no whole financial year shared with the baseline")
        r = sel.iloc[-1]
        for col in _RANK_STATS:
            row[f"{stem}_{col}"] = r[col]
        row[f"{stem}_share_lower"] = r["share_lower"]
    row["replications"] = int(sel.iloc[-1]["n"])
    return row


def rank_scenarios(
    base: Config,
    paths: Sequence[Path],
    *,
    seed: int,
    replications: int,
    cache: RunCache,
    progress: Progress | None = None,
    backend: str | None = None,
) -> Ranking:
    """Run each saved scenario with the baseline's seed and replications, and rank them.

    Every scenario file is run as it is (:func:`~sim.config.load_config`) with
    the same seed and replication indices as ``base`` (common random
    numbers), each run cached as :func:`compute` caches. The frame has one
    row per scenario that ran: the paired difference from the baseline of
    total spend and of children looked after in the last financial year both
    cover in whole (mean, 95% CI, share of replications lower), ranked by each
    (1 = lowest). A file that does not load or run goes in ``errors``.
    """
    if replications < 1 or seed < 0:
        return Ranking(error="replications must be >= 1 and the seed >= 0")
    errors: dict[str, str] = {}
    configs: list[tuple[Path, Config]] = []
    for path in paths:
        try:
            configs.append((path, load_config(path)))
        except CaresimError as exc:
            errors[path.name] = str(exc)
    if progress is not None:
        progress.set_total(replications * (1 + len(configs)))
    if backend is None:
        backend = "process" if replications * base.run.years > 8 else "serial"
    started = time.perf_counter()
    rows = []
    try:
        b, _ = _run_cached(base, BASELINE, seed, replications, cache, progress, backend)
        for path, cfg in configs:
            try:
                s, _ = _run_cached(cfg, path.stem, seed, replications, cache, progress, backend)
                rows.append(_rank_row(path.stem, path, b, s))
            except RunCancelled:
                raise
            except CaresimError as exc:
                errors[path.name] = str(exc)
    except RunCancelled:
        return Ranking(errors=errors, seed=seed, replications=replications, cancelled=True)
    except CaresimError as exc:
        return Ranking(errors=errors, error=f"the baseline did not run: {exc}")
    frame = pd.DataFrame(rows)
    if len(frame):
        frame = frame.sort_values(["spend_mean", "scenario"], kind="stable").reset_index(drop=True)
        for _measure, stem in RANK_MEASURES:
            frame.insert(
                len(frame.columns), f"{stem}_rank", frame[f"{stem}_mean"].rank(method="min")
            )
            frame[f"{stem}_rank"] = frame[f"{stem}_rank"].astype(int)
    return Ranking(
        frame=frame,
        errors=errors,
        seed=seed,
        replications=replications,
        seconds=time.perf_counter() - started,
    )


def rank_table(ranking: Ranking) -> pd.DataFrame:
    """The ranking formatted to read, lowest total spend first."""
    rows = []
    for _, r in ranking.frame.iterrows():
        row = {"scenario": r["scenario"]}
        for measure, stem in RANK_MEASURES:
            style = MEASURES[measure].style
            what = "total spend" if stem == "spend" else "looked after"
            low = format_value(r[f"{stem}_ci95_low"], style, signed=True)
            high = format_value(r[f"{stem}_ci95_high"], style, signed=True)
            row[f"{what}: rank"] = str(r[f"{stem}_rank"])
            row[f"{what}: year"] = _year_of(str(r[f"{stem}_period"]))
            row[f"{what}: difference"] = format_value(r[f"{stem}_mean"], style, signed=True)
            row[f"{what}: 95% CI"] = f"{low} to {high}"
            row[f"{what}: lower in"] = f"{r[f'{stem}_share_lower']:.0%}"
        rows.append(row)
    return pd.DataFrame(rows)
