"""Arguments and bodies of ``caresim calibrate`` and ``caresim backtest``.

The CLI adds these options to its subparsers and calls the command
functions; they print a short summary and return an exit code. Errors a user
can cause are raised as :class:`sim.errors.CaresimError` (the CLI prints them
as one paragraph and exits with code 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sim.defaults import DEFAULT_SEED
from sim.errors import CaresimError

__all__ = [
    "add_backtest_arguments",
    "add_calibrate_arguments",
    "backtest_command",
    "calibrate_command",
]

_TEMPLATE = "configs/worcestershire-2016.toml"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--episodes",
        nargs="+",
        required=True,
        metavar="FILE",
        help="SSDA903 Episodes CSV files (one per collection year)",
    )
    parser.add_argument(
        "--header",
        nargs="+",
        required=True,
        metavar="FILE",
        help="SSDA903 Header CSV files (dates of birth)",
    )
    parser.add_argument(
        "--cin", nargs="+", metavar="FILE", help="CIN-census-like referrals CSV files (optional)"
    )
    parser.add_argument(
        "--template",
        default=_TEMPLATE,
        metavar="TOML",
        help=f"config whose non-estimable values are kept (default {_TEMPLATE})",
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=50,
        metavar="N",
        help="bootstrap resamples for the exit model's intervals (default 50)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of bootstrap and model runs"
    )


def add_calibrate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``caresim calibrate`` to ``parser``."""
    _common(parser)
    parser.add_argument(
        "--as-at",
        type=_date,
        metavar="DATE",
        help="date the config starts from (default: the end of the data)",
    )
    parser.add_argument("--out", required=True, metavar="TOML", help="calibrated config to write")
    parser.add_argument(
        "--report-dir", metavar="DIR", help="write calibration-report.md and charts here"
    )
    parser.add_argument("--name", help="run.name of the calibrated config")
    parser.add_argument(
        "--keep-short-breaks",
        action="store_true",
        help="keep short-break episodes (LS V3/V4), excluded by default",
    )
    parser.add_argument(
        "--no-model",
        action="store_true",
        help="do not run the model to set the referral rate (keeps the template's)",
    )


def add_backtest_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``caresim backtest`` to ``parser``."""
    _common(parser)
    parser.add_argument(
        "--as-at",
        type=_date,
        required=True,
        metavar="DATE",
        help="calibrate on data up to this date and simulate forward from it",
    )
    parser.add_argument(
        "--horizon-years",
        type=float,
        default=2.0,
        metavar="Y",
        help="years to simulate and compare (default 2)",
    )
    parser.add_argument(
        "--replications", type=int, default=20, metavar="N", help="simulated runs (default 20)"
    )
    parser.add_argument(
        "--out-dir",
        required=True,
        metavar="DIR",
        help="folder for the error table, coverage, fan chart and summary",
    )


def calibrate_command(args: argparse.Namespace) -> int:
    """Run ``caresim calibrate``: write a calibrated config (and a report)."""
    from sim.calibrate.report import write_report
    from sim.calibrate.writer import calibrate, write_config

    if args.bootstrap < 0:
        raise CaresimError(f"--bootstrap must be 0 or more, got {args.bootstrap}")
    cal = calibrate(
        args.episodes,
        args.header,
        cin=args.cin,
        as_at=args.as_at,
        template=Path(args.template),
        name=args.name,
        keep_short_breaks=args.keep_short_breaks,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        scale_referrals=not args.no_model,
    )
    path = write_config(cal, args.out)
    print(cal.report.summary())
    print(f"wrote {path}")
    if args.report_dir:
        report = write_report(cal, args.report_dir)
        print(f"wrote {report}")
    return 0


def backtest_command(args: argparse.Namespace) -> int:
    """Run ``caresim backtest``: calibrate at a past date, simulate, compare."""
    from sim.calibrate.backtest import backtest

    if args.replications < 2:
        raise CaresimError("--replications must be at least 2 to form a band")
    if args.horizon_years <= 0:
        raise CaresimError("--horizon-years must be positive")
    result = backtest(
        args.episodes,
        args.header,
        args.as_at,
        horizon_years=args.horizon_years,
        replications=args.replications,
        seed=args.seed,
        out_dir=args.out_dir,
        cin=args.cin,
        template=Path(args.template),
        n_bootstrap=args.bootstrap,
    )
    cov = result.coverage
    print(f"Backtest from {args.as_at}: share of months inside the simulated P5-P95 band")
    for row in cov.itertuples():
        print(
            f"  {row.measure:<26} {row.category:<22} {row.share_inside:5.0%}  "
            f"(mean error {row.mean_error:+.1f})"
        )
    for f in result.files:
        print(f"wrote {f}")
    return 0
