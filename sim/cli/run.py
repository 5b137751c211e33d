"""The ``run`` and ``validate`` commands: parse, call :func:`run_to_folder`, print."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.support import (
    DEFAULT_REPLICATIONS,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    backend_from,
    default_out,
    progress_bar,
)
from sim.cli.support import check_common as _check_common
from sim.cli.support import check_positive as _check_positive
from sim.cli.support import load_with_overrides as _load
from sim.cli.support import say as _say
from sim.cli.tables import budget_text, summary_table
from sim.defaults import DEFAULT_SEED
from sim.errors import CaresimError

__all__ = ["check_command", "run_command", "validate_command"]


def _precision_target(args: argparse.Namespace) -> Any:
    from sim.experiment.precision import PrecisionTarget

    if args.precision is None and args.measure:
        raise CaresimError("--measure is used with --precision (e.g. --precision 0.02)")
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


def run_command(args: argparse.Namespace) -> int:
    """``caresim run``: a new batch into a folder, or ``--resume`` one."""
    from sim.config import parse_override
    from sim.experiment.folder import RunInterrupted, open_resume, run_to_folder

    _check_common(args)
    _check_positive("--max-replications", args.max_replications)
    only = sorted(set(args.only_replication or []))
    if only and only[0] < 0:
        raise CaresimError(f"--only-replication must be >= 0, got {only[0]}")
    if args.resume and args.out:
        raise CaresimError("use either --out DIR (a new batch) or --resume DIR, not both")
    if not args.resume and not args.config:
        raise CaresimError("caresim run needs a CONFIG file (or --resume DIR)")
    resume = None
    if args.resume:
        overrides = dict(parse_override(s) for s in args.set or [])
        if args.years is not None:
            overrides["run.years"] = args.years
        resume = open_resume(
            args.resume,
            config=_load(args.config, args) if args.config else None,
            overrides=overrides,
            seed=args.seed,
            replications=args.replications,
        )
        cfg, seed, n, scenario = resume.config, resume.seed, resume.replications, resume.scenario
        if only and only[-1] >= n:
            raise CaresimError(
                f"--only-replication {only[-1]} is outside this batch (replications "
                f"0..{n - 1}); add -n {only[-1] + 1} to extend it"
            )
        target = _precision_target(args) or resume.precision
        out = Path(args.resume)
    else:
        cfg = _load(args.config, args)
        seed = DEFAULT_SEED if args.seed is None else args.seed
        n = args.replications or DEFAULT_REPLICATIONS
        if only:
            n = max(args.replications or 0, only[-1] + 1)
        target = _precision_target(args)
        scenario = args.scenario
        out = Path(args.out) if args.out else default_out(Path(args.config))
    try:
        done = run_to_folder(
            cfg,
            out,
            seed=seed,
            replications=n,
            backend=backend_from(args),
            resume=resume,
            only=only,
            precision=target,
            scenario=scenario,
            chunk_size=args.chunk_size,
            source=str(args.config),
            timeseries_format=args.format,
            progress=lambda total, desc: progress_bar(args, total, desc),
            on_start=lambda text: _say(args, text),
        )
    except RunInterrupted as exc:
        print(f"caresim: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not args.quiet:
        _print_run(done)
    if done.failures:
        for f in done.failures:
            print(f"caresim: {f.describe()}", file=sys.stderr)
        ks = " ".join(f"--only-replication {f.replication}" for f in done.failures[:5])
        print(
            f"caresim: {len(done.failures)} replication(s) failed; the other results are saved "
            f"(tracebacks in {out}/failures/). Re-run them alone with "
            f"`caresim run {args.config or ''} --resume {out} {ks}`.".replace("  ", " "),
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _print_run(done: Any) -> None:
    import pandas as pd

    files, cfg = done.files, done.config
    stats = pd.read_csv(files.summary_stats, dtype={"period": str})
    print(f"\n{cfg.run.name}: {done.done} replication(s), seed {done.seed}")
    if cfg.parameter_uncertainty:
        print(
            "Uncertain parameters (drawn per replication): " + ", ".join(cfg.parameter_uncertainty)
        )
    if done.precision is not None:
        table = done.precision
        met = bool(table["met"].all())
        worst = table.sort_values("relative_half_width").iloc[-1]
        print(
            f"Precision {'reached' if met else 'NOT reached'} with {done.replications} "
            f"replications: widest 95% CI half-width {worst['relative_half_width']:.2%} of the "
            f"mean ({worst['measure']} {worst['period']}; target {done.target.relative:.2%})"
        )
    print(
        "Median (P10–P90) across replications; money in cash terms (each year's prices; "
        "real terms are the *_real_gbp measures in summary.csv)\n"
    )
    print(summary_table(stats))
    if cfg.targets or cfg.budgets.by_measure():
        from sim.results.run_result import RunResult

        summary = pd.read_parquet(files.summary_parquet)
        result = RunResult(summary, pd.DataFrame(), cfg, done.seed)
        if cfg.targets:
            _print_targets(result)
        if cfg.budgets.by_measure():
            _print_budgets(result)
    written = [files.summary_csv, files.summary_parquet, files.timeseries, files.summary_stats]
    print(
        f"\nResults written to {done.out}/ ("
        + ", ".join(p.name for p in written)
        + ", manifest.json)"
    )


def _print_targets(result: Any) -> None:
    """Say whether and when the median run meets each of the config's targets."""
    from sim.analysis.targets import target_lines, target_table

    print("\nTargets (median across replications)")
    for line in target_lines(target_table(result)):
        print(f"  {line}")


def _print_budgets(result: Any) -> None:
    """Spend against the config's budgets, per financial year and cost line."""
    from sim.analysis.budgets import budget_frame

    frame = budget_frame(result)
    if not frame.empty:
        print(
            "\nSpend against budget (cash; P(overspend): share of replications spending "
            "more than the budget)\n"
        )
        print(budget_text(frame))


def validate_command(args: argparse.Namespace) -> int:
    """``caresim validate CONFIG``: check a config and describe it."""
    from sim.config import load_config

    cfg = load_config(args.config)
    print(f"{args.config}: valid\n")
    print(cfg.describe())
    return EXIT_OK


def check_command(args: argparse.Namespace) -> int:
    """``caresim check DIR``: is a result folder whole? Changes nothing."""
    from sim.results.store import ResultStore

    store = ResultStore.inspect(args.folder)
    m = store.manifest
    n = int(m.get("replications", 0))
    done = store.done()
    damaged = store.damaged_parts()
    lost = sum(b - a + 1 for (a, b), _ in damaged)
    failures = store.failures()
    print(f"{args.folder}: {m.get('status', 'unknown')}; seed {m.get('seed')}")
    print(f"  replications: {len(done) - lost} of {n} whole on disk, {len(failures)} failed")
    for (a, b), why in damaged:
        print(f"  damaged: replications {a}..{b}: {why}")
    temporary = [p for p in store.root.rglob(".*.tmp-*")]
    if temporary:
        print(f"  {len(temporary)} temporary file(s) from an interrupted write (removed on resume)")
    if damaged or len(done) - lost < n:
        print(
            f"  `caresim run --resume {args.folder}` sets damaged parts aside and runs "
            "the missing replications"
        )
        return EXIT_FAILED
    print("  every part reads back whole")
    return EXIT_OK
