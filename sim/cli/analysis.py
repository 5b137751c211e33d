"""Command-line parts of ``caresim report``, ``caresim sensitivity`` and ``caresim goalseek``.

Each command is a pair: ``add_X_arguments(parser)`` fills an argparse
sub-parser and ``X_command(args) -> int`` runs it. The logic lives in
:mod:`sim.report.html`, :mod:`sim.analysis.sensitivity` and :mod:`sim.analysis.goalseek`; these
functions only parse, call and print. Errors a user can cause raise
:class:`sim.errors.CaresimError`, which ``caresim`` prints without a traceback.

Wiring in ``sim/cli.py``::

    from sim.cli import analysis as ca
    p = sub.add_parser("report", help="write an HTML report of a results folder")
    ca.add_report_arguments(p)
    p.set_defaults(func=ca.report_command)
    # likewise sensitivity and goalseek
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.support import check_common, load_with_overrides
from sim.cli.support import say as _say
from sim.defaults import DEFAULT_SEED
from sim.errors import CaresimError

__all__ = [
    "add_goalseek_arguments",
    "add_report_arguments",
    "add_sensitivity_arguments",
    "goalseek_command",
    "report_command",
    "sensitivity_command",
]


def _common(p: argparse.ArgumentParser, replications: int) -> None:
    p.add_argument("config", help="base TOML config (e.g. configs/worcestershire-2016.toml)")
    p.add_argument(
        "-n",
        "--replications",
        type=int,
        default=replications,
        help=f"replications per point, all with the same seed (default {replications})",
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="root seed (default %(default)s)")
    p.add_argument("--years", type=float, help="override run.years (shorter runs are quicker)")
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a config key (repeatable)"
    )
    p.add_argument(
        "--backend",
        choices=("serial", "process"),
        default="process",
        help="run points in this process or a local process pool (default process)",
    )
    p.add_argument("--workers", type=int, help="processes for the pool (default: cores)")
    p.add_argument("--out", help="folder for the table, chart and JSON (default: print only)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def _save_figure(fig: Any, out: Path, name: str) -> list[Path]:
    from sim.report.charts import save

    return save(fig, out / name)


def _write_results(
    path: Path, data: dict[str, Any], cfg: Any, args: argparse.Namespace, started: Any
) -> None:
    """Write a command's results as JSON, with the run's provenance.

    The provenance (resolved config, seed, versions, commit) goes under
    ``"manifest"``, and the same manifest is written as ``manifest.json`` beside it.
    """
    import datetime as dt

    from sim.results.manifest import run_manifest
    from sim.results.store import write_json

    manifest = run_manifest(
        cfg,
        seed=args.seed,
        replications=args.replications,
        started=started,
        finished=dt.datetime.now(dt.UTC),
        source=args.config,
        extra={"command": path.stem},
    )
    write_json(path, {**data, "manifest": manifest})
    write_json(path.parent / "manifest.json", manifest)


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


# ------------------------------------------------------------------ report


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``caresim report RESULTS_DIR [--out report.html] [--budget-gbp X]``."""
    p.add_argument(
        "results",
        metavar="RESULTS_DIR",
        help="folder written by `caresim run` or `caresim compare`",
    )
    p.add_argument("--out", help="HTML file to write (default RESULTS_DIR/report.html)")
    p.add_argument(
        "--budget-gbp",
        type=float,
        metavar="X",
        help="annual budget for total spend: drawn on the cost chart, with the chance of "
        "overspending each year",
    )
    p.add_argument(
        "--compare",
        metavar="SCENARIO_DIR",
        help="a second results folder (same seed and replications): the report leads with "
        "its paired differences from RESULTS_DIR",
    )
    p.add_argument("--title", help="heading of the report (default: the config's name)")
    p.add_argument(
        "--excel",
        nargs="?",
        const="",
        metavar="PATH",
        help="also write the statistics to an Excel workbook (summary, monthly series and, "
        "for a comparison, the paired differences; default RESULTS_DIR/report.xlsx)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def report_command(args: argparse.Namespace) -> int:
    """Write the HTML report and print where it is."""
    from sim.report.html import write_report

    path = write_report(
        args.results,
        out=args.out,
        budget_gbp=args.budget_gbp,
        compare_dir=args.compare,
        title=args.title,
    )
    _say(args, f"Report written to {path}")
    excel = getattr(args, "excel", None)
    if excel is not None:
        from sim.report.excel import write_excel

        book = write_excel(args.results, excel or Path(args.results) / "report.xlsx")
        _say(args, f"Workbook written to {book}")
    return 0


# ------------------------------------------------------------- sensitivity


def add_sensitivity_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``caresim sensitivity BASE.toml --param KEY=LOW:HIGH ... --output M[:P]``."""
    _common(p, replications=5)
    p.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="KEY=LOW:HIGH",
        help="a config key and its range (repeat for each parameter); keys ending in "
        "'capacity' take whole values",
    )
    p.add_argument(
        "--output",
        required=True,
        metavar="MEASURE[:PERIOD]",
        help="summary measure (and period, e.g. cost_total_gbp:2018-19); without a period, "
        "the mean over financial years",
    )
    p.add_argument(
        "--method",
        choices=("morris", "sobol"),
        default="morris",
        help="Morris screening (cheap) or Sobol indices via Saltelli sampling (default morris)",
    )
    p.add_argument(
        "--trajectories",
        type=int,
        default=10,
        metavar="N",
        help="Morris trajectories, or the Sobol base sample size (default 10)",
    )
    p.add_argument("--levels", type=int, default=4, help="Morris grid levels (default 4)")


def sensitivity_command(args: argparse.Namespace) -> int:
    """Run the analysis, print the indices and optionally save table, samples and chart."""
    import pandas as pd

    from sim.analysis.sensitivity import parse_parameter, run_sensitivity

    check_common(args)
    started = _now()
    cfg = load_with_overrides(args.config, args)
    params = [parse_parameter(t) for t in args.param]
    result = run_sensitivity(
        cfg,
        params,
        output=args.output,
        method=args.method,
        trajectories=args.trajectories,
        levels=args.levels,
        replications=args.replications,
        seed=args.seed,
        backend=args.backend,
        workers=args.workers,
    )
    table = result.table()
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        _say(
            args,
            f"{args.method.capitalize()} sensitivity of {args.output}: {result.runs} points, "
            f"{result.replications} replications each (seed {result.seed})\n",
        )
        _say(args, table.to_string(index=False, float_format=lambda x: f"{x:,.4g}"))
        _say(args, "\nMost influential first: " + ", ".join(result.ranking()))
    for warning in result.warnings:
        print(f"caresim: warning: {warning}", file=sys.stderr)
    if args.out:
        from sim.report import charts

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        result.indices.to_csv(out / "indices.csv", index=False)
        result.samples.to_csv(out / "samples.csv", index=False)
        files = _save_figure(charts.sensitivity(result), out, "sensitivity")
        _write_results(
            out / "sensitivity.json",
            {
                "config": args.config,
                "method": result.method,
                "output": result.output,
                "parameters": [p.__dict__ for p in result.parameters],
                "replications": result.replications,
                "seed": result.seed,
                "points_run": result.runs,
                "ranking": result.ranking(),
            },
            cfg,
            args,
            started,
        )
        _say(args, f"Written to {out}/ (indices.csv, samples.csv, {files[0].name}, ...)")
    return 0


# ---------------------------------------------------------------- goal-seek


def add_goalseek_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``caresim goalseek BASE.toml --vary KEY --target EXPR ...``."""
    _common(p, replications=20)
    p.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="KEY",
        help="config key to vary, e.g. placement_types.foster_in_house.capacity (two for "
        "--cost-per-place-gbp)",
    )
    p.add_argument(
        "--target",
        metavar="EXPR",
        help='condition to meet, e.g. "in_house_share_fostering>=0.6"',
    )
    p.add_argument(
        "--by",
        metavar="PERIOD",
        help="period of the target: a financial year (2018-19) or 31 March date (2019-03-31); "
        "default the last full year",
    )
    p.add_argument(
        "--probability",
        type=float,
        default=0.8,
        help="share of replications that must meet the target (default 0.8)",
    )
    p.add_argument(
        "--low", type=float, action="append", help="lowest value to try (one per --vary)"
    )
    p.add_argument(
        "--high", type=float, action="append", help="highest value to try (one per --vary)"
    )
    p.add_argument(
        "--cost-per-place-gbp",
        type=float,
        action="append",
        metavar="X",
        help="optimise instead: running cost of a place, £ a year, filled or not (one per "
        "--vary); finds the capacity minimising expected annual cost",
    )
    p.add_argument(
        "--objective",
        default="cost_total_gbp",
        metavar="MEASURE[:PERIOD]",
        help="spend measure to minimise with --cost-per-place-gbp (default cost_total_gbp, "
        "the average financial year)",
    )


def _bounds(args: argparse.Namespace) -> list[tuple[float, float]] | None:
    lows, highs = args.low or [], args.high or []
    if not lows and not highs:
        return None
    if len(lows) != len(args.vary) or len(highs) != len(args.vary):
        raise CaresimError(
            f"give --low and --high once for each --vary ({len(args.vary)}), got "
            f"{len(lows)} --low and {len(highs)} --high"
        )
    return list(zip(lows, highs, strict=True))


def goalseek_command(args: argparse.Namespace) -> int:
    """Goal-seek (``--target``) or optimise (``--cost-per-place-gbp``), print and save."""
    from sim.analysis.goalseek import goal_seek, optimise
    from sim.report import charts

    check_common(args)
    optimising = args.cost_per_place_gbp is not None
    if optimising and args.target:
        raise CaresimError("give either --target (goal-seek) or --cost-per-place-gbp (optimise)")
    if not optimising and not args.target:
        raise CaresimError(
            'give --target "MEASURE>=VALUE" to goal-seek, or --cost-per-place-gbp to optimise'
        )
    started = _now()
    cfg = load_with_overrides(args.config, args)
    bounds = _bounds(args)
    out = Path(args.out) if args.out else None
    if optimising:
        result = optimise(
            cfg,
            args.vary,
            cost_per_place_gbp=args.cost_per_place_gbp,
            bounds=bounds,
            objective=args.objective,
            replications=args.replications,
            seed=args.seed,
            backend=args.backend,
            workers=args.workers,
        )
        _say(args, result.summary())
        if out:
            out.mkdir(parents=True, exist_ok=True)
            result.points.to_csv(out / "points.csv", index=False)
            _save_figure(charts.optimisation(result), out, "optimise")
            _write_results(
                out / "optimise.json",
                {
                    "config": args.config,
                    "keys": result.keys,
                    "best": result.best,
                    "cost_per_place_gbp": result.cost_per_place_gbp,
                    "objective": result.objective,
                    "replications": result.replications,
                    "seed": result.seed,
                },
                cfg,
                args,
                started,
            )
            _say(args, f"Written to {out}/ (points.csv, optimise.png, optimise.svg, optimise.json)")
        return 0
    if len(args.vary) != 1:
        raise CaresimError("goal-seek varies one key; give --vary once")
    low, high = bounds[0] if bounds else (None, None)
    gs = goal_seek(
        cfg,
        args.vary[0],
        args.target,
        period=args.by,
        probability=args.probability,
        low=low,
        high=high,
        replications=args.replications,
        seed=args.seed,
        backend=args.backend,
        workers=args.workers,
    )
    _say(args, gs.summary())
    if out:
        out.mkdir(parents=True, exist_ok=True)
        gs.points.to_csv(out / "points.csv", index=False)
        _save_figure(charts.probability_curve(gs), out, "goalseek")
        _write_results(
            out / "goalseek.json",
            {
                "config": args.config,
                "key": gs.key,
                "target": str(gs.target),
                "period": gs.period,
                "probability": gs.probability,
                "value": gs.value,
                "interval_90": list(gs.interval),
                "levels": gs.levels.to_dict(orient="records"),
                "replications": gs.replications,
                "seed": gs.seed,
                "notes": gs.notes,
            },
            cfg,
            args,
            started,
        )
        _say(args, f"Written to {out}/ (points.csv, goalseek.png, goalseek.svg, goalseek.json)")
    return 0 if gs.value is not None else 1
