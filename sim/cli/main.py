"""The ``caresim`` command: argument parsing and printing only, no model logic.

Errors a user can cause (bad config, bad arguments, bad data, an unreachable
scheduler, a result folder that does not match) are printed as one paragraph
on stderr with exit code 2, never as a traceback. A batch in which some
replications raised exits with code 1 after saving the others.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sim._version import __version__
from sim.cli.support import check_common as _check_common
from sim.cli.support import check_positive as _check_positive
from sim.cli.support import load_with_overrides as _load
from sim.cli.support import say as _say
from sim.errors import CaresimError

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

DEFAULT_SEED = 20160401
DEFAULT_REPLICATIONS = 20

KEY_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("looked_after", "Looked after, 31 March", "count"),
    ("external_residential", "  in external residential", "count"),
    ("in_house_share_fostering", "In-house share of fostering", "pct"),
    ("entries", "Starting care", "count"),
    ("exits", "Leaving care", "count"),
    ("referrals", "Referrals", "count"),
    ("caseload_mean", "Cases per social worker", "num"),
    ("cost_placements_gbp", "Placement spend", "gbp"),
    ("cost_allowances_gbp", "Allowances after care", "gbp"),
    ("cost_total_gbp", "Total spend", "gbp"),
)
_KINDS = {m: k for m, _, k in KEY_MEASURES}


# ----------------------------------------------------------------- printing


def _fmt(value: float, kind: str, *, signed: bool = False) -> str:
    if value != value:  # NaN
        return "-"
    v = abs(value)
    if kind == "gbp":
        body = f"£{v / 1e6:,.1f}m"
    elif kind == "pct":
        body = f"{100 * v:.0f}%"
    elif kind == "num":
        body = f"{v:.1f}"
    else:
        body = f"{v:,.0f}"
    if not any(c in "123456789" for c in body):
        return body  # rounds to zero: no sign
    return ("−" if value < 0 else "+" if signed else "") + body


def _year_of(period: str) -> str:
    """Financial-year column of a period: ``2017-03-31`` (a 31 March snapshot) -> ``2016-17``."""
    if len(period) == 10 and period.endswith("-03-31"):
        start = int(period[:4]) - 1
        return f"{start}-{(start + 1) % 100:02d}"
    return period


def _range(lo: float, hi: float, kind: str) -> str:
    """A compact P10–P90 range: ``(£31.2–32.9m)``, ``(52–55%)``, ``(714–746)``."""
    if lo != lo or hi != hi:
        return ""
    if kind == "gbp":
        return f"(£{lo / 1e6:,.1f}–{hi / 1e6:,.1f}m)"
    if kind == "pct":
        return f"({100 * lo:.0f}–{100 * hi:.0f}%)"
    return f"({_fmt(lo, kind)}–{_fmt(hi, kind)})"


def _summary_table(stats: Any) -> str:
    """Key measures by financial year: the median, with P10–P90 on the line below.

    Snapshots on 31 March sit in the column of the financial year they end.
    """
    years: list[str] = []
    rows: list[tuple[str, dict[str, tuple[str, str]]]] = []
    for measure, label, kind in KEY_MEASURES:
        sel = stats[stats["measure"] == measure]
        if sel.empty:
            continue
        cells: dict[str, tuple[str, str]] = {}
        for _, r in sel.iterrows():
            year = _year_of(str(r["period"]))
            if year not in years:
                years.append(year)
            cells[year] = (_fmt(r["p50"], kind), _range(r["p10"], r["p90"], kind))
        rows.append((label, cells))
    years.sort()
    width = max([len(c) for _, cells in rows for pair in cells.values() for c in pair] + [7]) + 2
    label_w = max(len(label) for label, _ in rows) + 2
    out = [" " * label_w + "".join(y.rjust(width) for y in years)]
    for label, cells in rows:
        out.append(
            label.ljust(label_w) + "".join(cells.get(y, ("-", ""))[0].rjust(width) for y in years)
        )
        out.append(" " * label_w + "".join(cells.get(y, ("", ""))[1].rjust(width) for y in years))
    return "\n".join(out)


def _difference_table(diffs: Any) -> str:
    """Mean paired difference and its 95% CI for the key measures."""
    lines = []
    for scenario, by_scenario in diffs.groupby("scenario", sort=False):
        lines.append(f"{scenario} − base")
        for measure, label, kind in KEY_MEASURES:
            rows = by_scenario[by_scenario["measure"] == measure]
            for _, r in rows.iterrows():
                lines.append(
                    f"  {label.strip():<38} {r['period']:<11} "
                    f"{_fmt(r['diff_mean'], kind, signed=True):>9} "
                    f"(95% CI {_fmt(r['diff_ci95_low'], kind, signed=True)} to "
                    f"{_fmt(r['diff_ci95_high'], kind, signed=True)})"
                )
    return "\n".join(lines)


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def _default_out(config: Path, kind: str = "") -> Path:
    return Path("results") / f"{config.stem}{'-' + kind if kind else ''}-{_stamp()}"


# ------------------------------------------------------------ shared bits


def _backend(args: argparse.Namespace) -> Any:
    from sim.experiment.backends import make_backend

    return make_backend(
        args.backend,
        workers=args.workers,
        scheduler=args.scheduler,
        connect_timeout=args.connect_timeout,
    )


def _progress(args: argparse.Namespace, total: int, desc: str) -> Any:
    from sim.experiment.progress import Progress

    return Progress(total, desc=desc[:40], mode="quiet" if args.quiet else "auto")


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (a job scheduler stopping the run) like Ctrl-C: save and stop."""

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, AttributeError):  # not the main thread, or no SIGTERM
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _write_manifest(
    out: Path,
    config: Any,
    *,
    seed: int,
    replications: int,
    started: dt.datetime,
    source: str,
    extra: dict[str, Any],
) -> None:
    """Write ``out/manifest.json`` for a command that has just finished."""
    from sim.results.manifest import run_manifest
    from sim.results.store import write_json

    manifest = run_manifest(
        config,
        seed=seed,
        replications=replications,
        started=started,
        finished=dt.datetime.now(dt.UTC),
        source=source,
        extra=extra,
    )
    write_json(out / "manifest.json", manifest)


# ---------------------------------------------------------------------- run


def _resume_config(args: argparse.Namespace, manifest: dict[str, Any]) -> Any:
    from sim.config import config_from_dict, with_overrides
    from sim.results.manifest import config_differences, config_json

    where = args.resume
    if args.config:
        cfg = _load(args.config, args)
    else:
        cfg = config_from_dict(manifest["config"], source=f"{where}/manifest.json")
        overrides: dict[str, Any] = {}
        if args.set or args.years is not None:
            from sim.config import parse_override

            overrides = dict(parse_override(s) for s in args.set or [])
            if args.years is not None:
                overrides["run.years"] = args.years
            cfg = with_overrides(cfg, overrides)
    diff = config_differences(manifest["config"], config_json(cfg))
    if diff:
        shown = ", ".join(diff[:5]) + (f" and {len(diff) - 5} more" if len(diff) > 5 else "")
        raise CaresimError(
            f"--resume {where}: the config differs from the one these results were made with "
            f"(different: {shown}); resuming would mix two models. Resume with the original "
            "config (or none: the manifest's is used), or start a new batch with --out"
        )
    seed = int(manifest["seed"])
    if args.seed is not None and args.seed != seed:
        raise CaresimError(
            f"--resume {where}: --seed {args.seed} differs from the seed of these results "
            f"({seed}); leave out --seed to resume, or start a new batch with --out"
        )
    return cfg, seed


def _precision_target(args: argparse.Namespace, manifest: dict[str, Any] | None) -> Any:
    from sim.experiment.runner import PrecisionTarget

    if args.precision is None and args.measure:
        raise CaresimError("--measure is used with --precision (e.g. --precision 0.02)")
    if args.precision is None and manifest and manifest.get("precision"):
        p = manifest["precision"]
        return PrecisionTarget(
            tuple(p["measures"]),
            float(p["relative_half_width"]),
            max_replications=int(p["max_replications"]),
            min_replications=int(p.get("min_replications", 10)),
        )
    if args.precision is None:
        return None
    if not args.measure:
        raise CaresimError(
            "--precision needs the measure(s) it applies to, e.g. --measure cost_total_gbp"
        )
    return PrecisionTarget(
        tuple(args.measure),
        args.precision,
        max_replications=args.max_replications,
        min_replications=args.min_replications,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.experiment.runner import run_batch, run_to_precision
    from sim.experiment.uncertainty import check_uncertainty
    from sim.results.manifest import run_manifest
    from sim.results.store import ResultStore

    _check_common(args)
    _check_positive("--max-replications", args.max_replications)
    only = sorted(set(args.only_replication or []))
    if only and only[0] < 0:
        raise CaresimError(f"--only-replication must be >= 0, got {only[0]}")
    if args.resume and args.out:
        raise CaresimError("use either --out DIR (a new batch) or --resume DIR, not both")
    if not args.resume and not args.config:
        raise CaresimError("caresim run needs a CONFIG file (or --resume DIR)")
    started = dt.datetime.now(dt.UTC)
    if args.resume:
        store = ResultStore.open(args.resume)
        manifest = store.manifest
        cfg, seed = _resume_config(args, manifest)
        n = int(manifest["replications"])
        if args.replications is not None:
            if args.replications < n:
                raise CaresimError(
                    f"--resume {args.resume}: -n {args.replications} is fewer than the "
                    f"{n} replications of this batch; leave out -n to finish it"
                )
            n = args.replications
        if only and only[-1] >= n:
            raise CaresimError(
                f"--only-replication {only[-1]} is outside this batch (replications "
                f"0..{n - 1}); add -n {only[-1] + 1} to extend it"
            )
        target = _precision_target(args, manifest)
        scenario = manifest.get("scenario", "baseline")
        out = Path(args.resume)
    else:
        cfg = _load(args.config, args)
        seed = DEFAULT_SEED if args.seed is None else args.seed
        n = args.replications or DEFAULT_REPLICATIONS
        if only:
            n = max(args.replications or 0, only[-1] + 1)
        target = _precision_target(args, None)
        scenario = args.scenario
        out = Path(args.out) if args.out else _default_out(Path(args.config))
        store = None
    check_uncertainty(cfg)
    backend = _backend(args)
    precision_setup = (
        None
        if target is None
        else {
            "measures": list(target.measures),
            "relative_half_width": target.relative,
            "max_replications": target.max_replications,
            "min_replications": target.min_replications,
        }
    )
    if store is None:
        ResultStore.check_new(out)
    indices = only or list(range(n))
    progress = None
    try:
        with _terminate_as_interrupt(), backend:
            if store is None:
                store = ResultStore.create(
                    out,
                    run_manifest(
                        cfg,
                        seed=seed,
                        replications=target.max_replications if target else n,
                        started=started,
                        source=str(args.config),
                        extra={
                            "scenario": scenario,
                            "backend": backend.name,
                            "workers": backend.workers,
                            "chunk_size": args.chunk_size,
                            "only_replications": only or None,
                            "precision": precision_setup,
                            "parameter_uncertainty": {
                                k: v.model_dump(mode="json", exclude_none=True)
                                for k, v in cfg.parameter_uncertainty.items()
                            },
                        },
                    ),
                )
            store.update_manifest(
                status="running", backend=backend.name, workers=backend.workers, finished=None
            )
            todo = len(set(indices) - store.done())
            _say(
                args,
                f"{cfg.run.name}: seed {seed}, "
                + (
                    f"replications until the 95% CI half-width of {', '.join(target.measures)} "
                    f"is within {target.relative:.1%} of the mean (at most "
                    f"{target.max_replications})"
                    if target
                    else f"{len(indices)} replication(s), {todo} to run"
                )
                + f", backend {backend.name} ({backend.workers} worker(s)), results in {out}/",
            )
            progress = _progress(args, todo, cfg.run.name)
            with progress:
                if target is not None and not only:
                    n, table, failures = run_to_precision(
                        cfg,
                        target=target,
                        seed=seed,
                        sink=store,
                        backend=backend,
                        chunk_size=args.chunk_size,
                        scenario=scenario,
                        progress=progress,
                    )
                    store.update_manifest(
                        replications=n,
                        precision={
                            **(precision_setup or {}),
                            "replications_needed": n,
                            "met": bool(table["met"].all()),
                        },
                    )
                else:
                    table = None
                    failures = run_batch(
                        cfg,
                        seed=seed,
                        indices=indices,
                        sink=store,
                        backend=backend,
                        chunk_size=args.chunk_size,
                        scenario=scenario,
                        progress=progress,
                    )
                    store.update_manifest(replications=n)
    except KeyboardInterrupt:
        if store is None:
            raise
        store.update_manifest(status="interrupted")
        print(
            f"caresim: interrupted; {len(store.done())} replication(s) are saved in {out}/. "
            f"Finish the batch with `caresim run --resume {out}`.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    files = store.finalize(timeseries_format=args.format)
    missing = sorted(set(range(n)) - store.done())
    status = "complete" if not missing else ("failed" if failures else "incomplete")
    store.update_manifest(
        status=status, finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    if not args.quiet:
        import pandas as pd

        stats = pd.read_csv(files.summary_stats, dtype={"period": str})
        done = len(store.done())
        print(f"\n{cfg.run.name}: {done} replication(s), seed {seed}")
        if cfg.parameter_uncertainty:
            print(
                "Uncertain parameters (drawn per replication): "
                + ", ".join(cfg.parameter_uncertainty)
            )
        if table is not None:
            met = bool(table["met"].all())
            worst = table.sort_values("relative_half_width").iloc[-1]
            print(
                f"Precision {'reached' if met else 'NOT reached'} with {n} replications: "
                f"widest 95% CI half-width {worst['relative_half_width']:.2%} of the mean "
                f"({worst['measure']} {worst['period']}; target {target.relative:.2%})"
            )
        print("Median (P10–P90) across replications\n")
        print(_summary_table(stats))
        written = [files.summary_csv, files.summary_parquet, files.timeseries, files.summary_stats]
        print(
            f"\nResults written to {out}/ ("
            + ", ".join(p.name for p in written)
            + ", manifest.json)"
        )
    if failures:
        for f in failures:
            print(f"caresim: {f.describe()}", file=sys.stderr)
        ks = " ".join(f"--only-replication {f.replication}" for f in failures[:5])
        print(
            f"caresim: {len(failures)} replication(s) failed; the other results are saved "
            f"(tracebacks in {out}/failures/). Re-run them alone with "
            f"`caresim run {args.config or ''} --resume {out} {ks}`.".replace("  ", " "),
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


# ----------------------------------------------------------------- validate


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.config import load_config

    cfg = load_config(args.config)
    print(f"{args.config}: valid\n")
    print(cfg.describe())
    return EXIT_OK


# ------------------------------------------------------------------ compare


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
) -> Any:
    """Run every config with the same seed (paired replications) and save the summary."""
    from sim.experiment.scenarios import run_scenarios

    with backend, _progress(args, n * len(configs), what) as progress:
        summary, failures = run_scenarios(
            configs,
            replications=n,
            seed=seed,
            backend=backend,
            chunk_size=args.chunk_size,
            progress=progress,
        )
    _check_paired(failures)
    summary.to_parquet(out / "summary.parquet", index=False)
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


def _cmd_compare(args: argparse.Namespace) -> int:
    from sim.experiment.scenarios import paired_differences
    from sim.results.manifest import config_json
    from sim.results.stats import describe

    _check_common(args)
    if len(args.configs) < 2:
        raise CaresimError("caresim compare needs a base config and at least one scenario")
    labels = _labels(args.configs)
    configs = {label: _load(path, args) for label, path in zip(labels, args.configs, strict=True)}
    seed = DEFAULT_SEED if args.seed is None else args.seed
    n = args.replications or DEFAULT_REPLICATIONS
    out = Path(args.out) if args.out else _default_out(Path(args.configs[0]), "compare")
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    backend = _backend(args)
    _say(
        args,
        f"Comparing {', '.join(labels[1:])} with {labels[0]}: {n} paired replications, seed {seed}",
    )
    summary = _paired_batch(args, configs, n, seed, backend, out, "compare")
    diffs = paired_differences(summary, labels[0])
    if args.measure:
        diffs = diffs[diffs["measure"].isin(args.measure)]
    diffs.to_csv(out / "compare.csv", index=False)
    describe(summary, ["scenario", "measure", "period"]).to_csv(
        out / "summary_stats.csv", index=False
    )
    base_cfg = configs[labels[0]]
    _write_manifest(
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
    _say(args, "Paired differences (same seed: common random numbers)\n")
    _say(args, _difference_table(diffs))
    _say(
        args,
        f"\nWritten to {out}/ (compare.csv, summary_stats.csv, summary.parquet, manifest.json)",
    )
    return EXIT_OK


def _cmd_sweep(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.config import with_overrides
    from sim.experiment.scenarios import paired_differences, parse_sweep, sweep_grid, sweep_label
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
    out = Path(args.out) if args.out else _default_out(Path(args.config), "sweep")
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    backend = _backend(args)
    _say(args, f"Sweep of {len(grid)} point(s) plus the base, {n} replications each, seed {seed}")
    summary = _paired_batch(args, configs, n, seed, backend, out, "sweep")
    stats = describe(summary, ["scenario", "measure", "period"])
    diffs = paired_differences(summary, "base")[
        ["scenario", "measure", "period", "diff_mean", "diff_ci95_low", "diff_ci95_high"]
    ]
    table = stats.merge(diffs, on=["scenario", "measure", "period"], how="left")
    keys = [k for k, _ in settings]
    for i, key in enumerate(keys):
        values = [points[s][key] if s in points else None for s in table["scenario"]]
        table.insert(1 + i, key, pd.Series(values, dtype=object))
    table.to_csv(out / "sweep.csv", index=False)
    _write_manifest(
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


# ------------------------------------------------------------------ warm-up


def _cmd_warmup(args: argparse.Namespace) -> int:
    from sim.analysis.warmup import analyse_warmup, plot_warmup, warmup_config
    from sim.experiment.runner import run

    _check_common(args)
    cfg = warmup_config(
        _load(args.config, args), keep_initial_population=args.keep_initial_population
    )
    seed = DEFAULT_SEED if args.seed is None else args.seed
    n = args.replications or 10
    out = Path(args.out) if args.out else _default_out(Path(args.config), "warmup")
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    backend = _backend(args)
    with backend, _progress(args, n, "warm-up") as progress:
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
    _write_manifest(
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


# --------------------------------------------------------------- the parser


def _add_backend_args(p: argparse.ArgumentParser, default: str = "process") -> None:
    from sim.experiment.backends import BACKENDS

    g = p.add_argument_group("where replications run")
    g.add_argument(
        "--backend",
        choices=BACKENDS,
        default=default,
        help=f"serial, a local process pool, or Dask (default {default})",
    )
    g.add_argument(
        "--workers", type=int, help="processes for the pool or local Dask cluster (default: cores)"
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://host:8786 (default: start a local cluster)",
    )
    g.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="give up on an unreachable Dask scheduler after this long (default 10)",
    )
    g.add_argument(
        "--chunk-size", type=int, help="replications per task (default: about 4 tasks per worker)"
    )


def _add_run_args(p: argparse.ArgumentParser, *, replications_help: str) -> None:
    p.add_argument("-n", "--replications", type=int, help=replications_help)
    p.add_argument("--seed", type=int, help=f"root seed (default {DEFAULT_SEED})")
    p.add_argument("--years", type=float, help="override run.years")
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a config key (repeatable)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


#: Commands written in other modules, wired when their module exists:
#: module -> {command: help}. Each module has ``add_<command>_arguments(parser)``
#: and ``<command>_command(args) -> int``.
OPTIONAL_COMMANDS: dict[str, dict[str, str]] = {
    "sim.cli.calibrate": {
        "calibrate": "estimate a config from SSDA903 data",
        "backtest": "compare a calibrated run with what happened next",
    },
    "sim.cli.analysis": {
        "report": "write an HTML report of a results folder",
        "sensitivity": "global sensitivity analysis of a config's parameters",
        "goalseek": "find the parameter value that reaches a target",
    },
}


def _wire_optional(sub: Any, module_name: str, helps: dict[str, str], load: bool) -> None:
    """Add the commands of ``module_name`` if it exists, importing it only when ``load``."""
    try:
        found = importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return
    if not load:
        # Parsing another command: list these in --help without importing them.
        for name, text in helps.items():
            sub.add_parser(name, help=text, add_help=False)
        return
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        reason = f"{type(exc).__name__}: {exc}"

        def unavailable(_args: argparse.Namespace, reason: str = reason) -> int:
            raise CaresimError(f"this command is unavailable: {reason}")

        for name, text in helps.items():
            sub.add_parser(name, help=text).set_defaults(func=unavailable)
        return
    for name, text in helps.items():
        add = getattr(module, f"add_{name}_arguments", None)
        command = getattr(module, f"{name}_command", None)
        if add is None or command is None:
            continue
        p = sub.add_parser(name, help=text, description=text)
        add(p)
        p.set_defaults(func=command)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of the ``caresim`` command.

    ``argv`` only decides whether the commands of :data:`OPTIONAL_COMMANDS` are
    imported (they are when asked for, or for ``--help``).
    """
    parser = argparse.ArgumentParser(
        prog="caresim",
        description="Discrete-event Monte Carlo simulation of children's social care.",
        epilog="Run `caresim COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"caresim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p_run = sub.add_parser(
        "run",
        help="run replications of a config into a result folder",
        description=(
            "Run replications of a config. Each chunk is saved under --out as it completes, "
            "so an interrupted batch can be finished with --resume."
        ),
    )
    p_run.add_argument(
        "config", nargs="?", help="TOML config (optional with --resume: the manifest's is used)"
    )
    _add_run_args(p_run, replications_help=f"replications (default {DEFAULT_REPLICATIONS})")
    p_run.add_argument("--out", help="output folder (default results/<config>-<time>)")
    p_run.add_argument(
        "--resume", metavar="DIR", help="finish an interrupted batch in DIR (same config and seed)"
    )
    p_run.add_argument(
        "--only-replication",
        type=int,
        action="append",
        metavar="K",
        help="run only replication K (repeatable), e.g. to re-run one that failed",
    )
    p_run.add_argument("--scenario", default="baseline", help="label for the scenario column")
    p_run.add_argument(
        "--format", choices=("parquet", "csv"), default="parquet", help="time-series file format"
    )
    g = p_run.add_argument_group("run until precise")
    g.add_argument(
        "--precision",
        type=float,
        metavar="P",
        help="add replications until the 95%% CI half-width of each --measure (every period) "
        "is within P × |mean| (e.g. 0.02)",
    )
    g.add_argument("--measure", action="append", help="summary measure for --precision")
    g.add_argument(
        "--max-replications", type=int, default=1000, help="stop adding here (default 1000)"
    )
    g.add_argument("--min-replications", type=int, default=10, help="first batch size (default 10)")
    _add_backend_args(p_run)
    p_run.set_defaults(func=_cmd_run)

    p_val = sub.add_parser("validate", help="check a config and describe it")
    p_val.add_argument("config")
    p_val.set_defaults(func=_cmd_validate)

    p_cmp = sub.add_parser(
        "compare",
        help="paired differences of scenarios against a base (same seed)",
        description=(
            "Run a base config and scenarios with the same seed (common random numbers) and "
            "report scenario − base per measure and period: mean, 95%% CI, P10–P90."
        ),
    )
    p_cmp.add_argument("configs", nargs="+", metavar="CONFIG", help="BASE.toml SCENARIO.toml ...")
    _add_run_args(p_cmp, replications_help=f"replications each (default {DEFAULT_REPLICATIONS})")
    p_cmp.add_argument("--out", help="output folder (default results/<base>-compare-<time>)")
    p_cmp.add_argument("--measure", action="append", help="keep only these measures in the table")
    _add_backend_args(p_cmp)
    p_cmp.set_defaults(func=_cmd_compare)

    p_sw = sub.add_parser(
        "sweep",
        help="run a grid of parameter values and write one table",
        description="Run every combination of --set values (same seed) and write sweep.csv.",
    )
    p_sw.add_argument("config", help="base TOML config")
    p_sw.add_argument(
        "--set",
        dest="sweep",
        action="append",
        required=True,
        metavar="KEY=V1,V2",
        help="a key and the values to sweep (repeatable: the grid is every combination)",
    )
    p_sw.add_argument("-n", "--replications", type=int, help="replications per point (default 20)")
    p_sw.add_argument("--seed", type=int, help=f"root seed (default {DEFAULT_SEED})")
    p_sw.add_argument("--years", type=float, help="override run.years")
    p_sw.add_argument("--out", help="output folder (default results/<config>-sweep-<time>)")
    p_sw.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    _add_backend_args(p_sw)
    p_sw.set_defaults(func=_cmd_sweep)

    p_wu = sub.add_parser(
        "warmup",
        help="suggest a warm-up period for runs from empty (MSER-5, plot)",
        description=(
            "Run the config from empty (no starting population, every month reported), plot "
            "the cumulative mean of children looked after and suggest a truncation (MSER-5)."
        ),
    )
    p_wu.add_argument("config")
    _add_run_args(p_wu, replications_help="replications (default 10)")
    p_wu.add_argument("--out", help="output folder (default results/<config>-warmup-<time>)")
    p_wu.add_argument(
        "--keep-initial-population",
        action="store_true",
        help="start from the config's population instead of empty",
    )
    _add_backend_args(p_wu)
    p_wu.set_defaults(func=_cmd_warmup)

    args = set(sys.argv[1:] if argv is None else argv)
    for module_name, helps in OPTIONAL_COMMANDS.items():
        wanted = bool(args & set(helps)) or not args or bool(args & {"-h", "--help"})
        _wire_optional(sub, module_name, helps, load=wanted)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``caresim`` console command."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        result = args.func(args)
        return EXIT_OK if result is None else int(result)
    except CaresimError as exc:
        print(f"caresim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("caresim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
