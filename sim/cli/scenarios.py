"""The ``compare``, ``sweep`` and ``warmup`` commands: parse, call the layers, print."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.support import (
    DEFAULT_REPLICATIONS,
    EXIT_OK,
    backend_from,
    default_out,
    progress_bar,
    write_manifest,
)
from sim.cli.support import check_common as _check_common
from sim.cli.support import load_with_overrides as _load
from sim.cli.support import say as _say
from sim.cli.tables import difference_table
from sim.defaults import DEFAULT_SEED
from sim.errors import CaresimError

__all__ = ["compare_command", "sweep_command", "warmup_command"]


#: Monthly measures ``caresim compare`` keeps (``timeseries.parquet``), for the report's charts.
COMPARE_TIMESERIES: tuple[str, ...] = (
    "looked_after",
    "looked_after_by_category",
    "looked_after_by_provider",
    "cost_gbp",
    "in_house_utilisation",
    "in_house_occupancy",
    "capacity",
    "caseload_per_fte",
    "entries",
    "exits",
    "referrals",
    "assessment_outcomes",
    "cin_starts",
    "cp_starts",
)


def _labels(paths: Sequence[str]) -> list[str]:
    stems = [Path(p).stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [str(p) for p in paths]


def _paired_batch(
    args: argparse.Namespace,
    configs: Any,
    n: int,
    seed: int,
    backend: Any,
    out: Path,
    what: str,
    timeseries: tuple[str, ...] = (),
) -> Any:
    """Run every config with the same seed (paired replications) and save the tables.

    The summary goes to ``summary.parquet``; with ``timeseries`` (measure
    names) those monthly series go to ``timeseries.parquet``, tidy, with a
    ``scenario`` column.
    """
    from sim.experiment.scenarios import run_scenarios

    with backend, progress_bar(args, n * len(configs), what) as progress:
        summary, series, failures = run_scenarios(
            configs,
            replications=n,
            seed=seed,
            backend=backend,
            chunk_size=args.chunk_size,
            timeseries=timeseries,
            progress=progress,
        )
    _check_paired(failures)
    summary.to_parquet(out / "summary.parquet", index=False)
    if timeseries and len(series):
        for col in ("scenario", "measure", "category"):
            series[col] = series[col].astype(str)
        series.to_parquet(out / "timeseries.parquet", index=False)
    return summary


def _check_paired(failures: Sequence[Any]) -> None:
    """Refuse to compare scenarios when a replication of any of them failed."""
    if failures:
        for f in failures:
            print(f"caresim: {f.describe()}", file=sys.stderr)
        raise CaresimError(
            f"{len(failures)} replication(s) failed, so the scenarios are no longer paired; "
            "fix the config (or run the failing scenario alone with `caresim run` to see "
            "the traceback) and try again"
        )


def compare_command(args: argparse.Namespace) -> int:
    """``caresim compare BASE SCENARIO...``: paired differences with common random numbers."""
    from sim.analysis.comparison import paired_stats
    from sim.results.manifest import config_json
    from sim.results.stats import describe

    _check_common(args)
    if len(args.configs) < 2:
        raise CaresimError("caresim compare needs a base config and at least one scenario")
    if args.measure:
        from sim.results.tables import SUMMARY_MEASURES

        unknown = [m for m in args.measure if m not in SUMMARY_MEASURES]
        if unknown:
            raise CaresimError(
                f"--measure {', '.join(unknown)}: not a summary measure; the summary "
                f"measures are: {', '.join(SUMMARY_MEASURES)}"
            )
    labels = _labels(args.configs)
    configs = {label: _load(path, args) for label, path in zip(labels, args.configs, strict=True)}
    seed = DEFAULT_SEED if args.seed is None else args.seed
    n = args.replications or DEFAULT_REPLICATIONS
    out = Path(args.out) if args.out else default_out(Path(args.configs[0]), "compare")
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    backend = backend_from(args)
    _say(
        args,
        f"Comparing {', '.join(labels[1:])} with {labels[0]}: {n} paired replications, seed {seed}",
    )
    summary = _paired_batch(
        args, configs, n, seed, backend, out, "compare", timeseries=COMPARE_TIMESERIES
    )
    diffs = paired_stats(summary, labels[0])
    if args.measure:
        diffs = diffs[diffs["measure"].isin(args.measure)]
    diffs.to_csv(out / "compare.csv", index=False)
    describe(summary, ["scenario", "measure", "period"]).to_csv(
        out / "summary_stats.csv", index=False
    )
    base_cfg = configs[labels[0]]
    write_manifest(
        out,
        base_cfg,
        seed=seed,
        replications=n,
        started=started,
        source=args.configs[0],
        extra={
            "command": "compare",
            "base": labels[0],
            "backend": backend.name,
            "workers": backend.workers,
            "scenarios": {
                label: {"source": path, "config": config_json(configs[label])}
                for label, path in zip(labels, args.configs, strict=True)
            },
        },
    )
    _say(
        args,
        "Paired differences (same seed: common random numbers); mean with its 95% CI, "
        "money in cash terms\n",
    )
    _say(args, difference_table(diffs, args.measure))
    _say(
        args,
        f"\nWritten to {out}/ (compare.csv, summary_stats.csv, summary.parquet, "
        "timeseries.parquet, manifest.json)",
    )
    return EXIT_OK


def sweep_command(args: argparse.Namespace) -> int:
    """``caresim sweep BASE --set KEY=V1,V2``: every point of a grid against the base."""
    import pandas as pd

    from sim.analysis.comparison import paired_stats
    from sim.config import with_overrides
    from sim.experiment.scenarios import parse_sweep, sweep_grid, sweep_label
    from sim.results.stats import describe

    _check_common(args)
    settings = [parse_sweep(s) for s in args.sweep]
    grid = sweep_grid(settings)
    base = _load(args.config, args)
    configs = {"base": base}
    points = {}
    for point in grid:
        label = sweep_label(point)
        try:
            configs[label] = with_overrides(base, point)
        except CaresimError as exc:
            raise CaresimError(f"sweep point {label}: {exc}") from None
        points[label] = point
    seed = DEFAULT_SEED if args.seed is None else args.seed
    n = args.replications or DEFAULT_REPLICATIONS
    out = Path(args.out) if args.out else default_out(Path(args.config), "sweep")
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    backend = backend_from(args)
    _say(args, f"Sweep of {len(grid)} point(s) plus the base, {n} replications each, seed {seed}")
    summary = _paired_batch(args, configs, n, seed, backend, out, "sweep")
    stats = describe(summary, ["scenario", "measure", "period"])
    diffs = paired_stats(summary, "base")[
        ["scenario", "measure", "period", "mean", "ci95_low", "ci95_high"]
    ].rename(columns=lambda c: c if c in {"scenario", "measure", "period"} else f"diff_{c}")
    table = stats.merge(diffs, on=["scenario", "measure", "period"], how="left")
    keys = [k for k, _ in settings]
    for i, key in enumerate(keys):
        values = [points[s][key] if s in points else None for s in table["scenario"]]
        table.insert(1 + i, key, pd.Series(values, dtype=object))
    table.to_csv(out / "sweep.csv", index=False)
    write_manifest(
        out,
        base,
        seed=seed,
        replications=n,
        started=started,
        source=args.config,
        extra={
            "command": "sweep",
            "backend": backend.name,
            "workers": backend.workers,
            "sweep": {k: v for k, v in settings},
        },
    )
    _say(args, f"Written to {out}/sweep.csv ({len(grid)} points and the base; diff_* vs the base)")
    return EXIT_OK


def warmup_command(args: argparse.Namespace) -> int:
    """``caresim warmup CONFIG``: MSER-5 truncation point and plot for a run from empty."""
    from sim.analysis.warmup import analyse_warmup, plot_warmup, warmup_config
    from sim.experiment.batch import run

    _check_common(args)
    cfg = warmup_config(
        _load(args.config, args), keep_initial_population=args.keep_initial_population
    )
    seed = DEFAULT_SEED if args.seed is None else args.seed
    n = args.replications or 10
    out = Path(args.out) if args.out else default_out(Path(args.config), "warmup")
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    backend = backend_from(args)
    with backend, progress_bar(args, n, "warm-up") as progress:
        result = run(
            cfg,
            replications=n,
            seed=seed,
            backend=backend,
            chunk_size=args.chunk_size,
            timeseries=("looked_after",),
            progress=progress,
            source=args.config,
        )
    analysis = analyse_warmup(result.timeseries)
    png = plot_warmup(analysis, out / "warmup.png", title=f"Warm-up: {cfg.run.name}")
    analysis.table().to_csv(out / "warmup.csv", index=False)
    write_manifest(
        out,
        cfg,
        seed=seed,
        replications=n,
        started=started,
        source=args.config,
        extra={
            "command": "warmup",
            "mser5_truncate_months": analysis.truncate_months,
            "suggested_warmup_days": analysis.warmup_days,
            "per_replication_truncate_months": list(analysis.per_replication),
        },
    )
    if not args.quiet:
        per = sorted(analysis.per_replication)
        print(
            f"MSER-5 on the mean of {n} replications: discard the first "
            f"{analysis.truncate_months} months; set run.warmup_days = {analysis.warmup_days} "
            f"(replications alone: median {per[len(per) // 2]}, max {per[-1]} months)."
        )
        if analysis.late:
            print(
                "Warning: the truncation point is at the end of the range MSER-5 searches "
                "(the first half of the run): the run may be too short to reach a steady "
                "state; try more --years."
            )
        print(f"Plot: {png}; table: {out / 'warmup.csv'}")
    return EXIT_OK
