"""Arguments and bodies of ``caresim calibrate``, ``caresim backtest`` and ``caresim synth``.

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
    "add_synth_arguments",
    "backtest_command",
    "calibrate_command",
    "synth_command",
]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a share; expected a number from 0 to 1, e.g. 0.05"
        ) from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a share; expected a number from 0 to 1, e.g. 0.05"
        )
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="folder of year folders holding episodes.csv, header.csv and optionally "
        "cin*.csv (any case), e.g. DIR/2016/episodes.csv",
    )
    parser.add_argument(
        "--episodes",
        nargs="+",
        default=[],
        metavar="FILE",
        help="SSDA903 Episodes CSV files (one per collection year)",
    )
    parser.add_argument(
        "--header",
        nargs="+",
        default=[],
        metavar="FILE",
        help="SSDA903 Header CSV files (dates of birth)",
    )
    parser.add_argument(
        "--cin", nargs="+", metavar="FILE", help="CIN-census-like referrals CSV files (optional)"
    )
    parser.add_argument(
        "--max-bad-rows",
        type=_share,
        default=0.01,
        metavar="SHARE",
        help="largest share of a file's rows that may be bad and skipped before the file "
        "is rejected (default 0.01, i.e. 1%%)",
    )
    parser.add_argument(
        "--template",
        metavar="TOML",
        help="config whose non-estimable values are kept (default: the Worcestershire-like "
        "baseline shipped with caresim, worcestershire-2016.toml)",
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


def _template(args: argparse.Namespace) -> Path:
    if args.template:
        return Path(args.template)
    from sim.calibrate.writer import DEFAULT_TEMPLATE

    return DEFAULT_TEMPLATE


def _inputs(args: argparse.Namespace) -> tuple[list[Path], list[Path], list[Path]]:
    """Episodes, Header and CIN files from ``--data`` and the explicit lists."""
    episodes = [Path(p) for p in args.episodes]
    header = [Path(p) for p in args.header]
    cin = [Path(p) for p in args.cin or []]
    if args.data:
        from sim.calibrate.folders import find_data_files

        found = find_data_files(args.data)
        print(found.summary())
        episodes += found.episodes
        header += found.header
        cin += found.cin
    if not episodes or not header:
        raise CaresimError(
            "no input data: give --data DIR (a folder of year folders holding episodes.csv "
            "and header.csv) or --episodes FILE... and --header FILE..."
        )
    return episodes, header, cin


def _check_writable_file(path: str, option: str) -> None:
    """Refuse, before any work, an output path that is a folder or in a missing folder."""
    out = Path(path)
    if out.is_dir():
        raise CaresimError(
            f"{option} {path} is a folder; give a file name for the calibrated config, "
            f"e.g. {out / 'calibrated.toml'}"
        )
    if not out.parent.exists():
        raise CaresimError(f"{option} {path}: the folder {out.parent} does not exist")


def calibrate_command(args: argparse.Namespace) -> int:
    """Run ``caresim calibrate``: write a calibrated config (and a report)."""
    from sim.calibrate.report import write_report
    from sim.calibrate.writer import calibrate, write_config

    if args.bootstrap < 0:
        raise CaresimError(f"--bootstrap must be 0 or more, got {args.bootstrap}")
    _check_writable_file(args.out, "--out")
    if args.report_dir and Path(args.report_dir).exists() and not Path(args.report_dir).is_dir():
        raise CaresimError(f"--report-dir {args.report_dir} is a file, not a folder")
    episodes, header, cin = _inputs(args)
    cal = calibrate(
        episodes,
        header,
        cin=cin or None,
        as_at=args.as_at,
        template=_template(args),
        name=args.name,
        keep_short_breaks=args.keep_short_breaks,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        scale_referrals=not args.no_model,
        max_bad_row_share=args.max_bad_rows,
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
    episodes, header, cin = _inputs(args)
    result = backtest(
        episodes,
        header,
        args.as_at,
        horizon_years=args.horizon_years,
        replications=args.replications,
        seed=args.seed,
        out_dir=args.out_dir,
        cin=cin or None,
        template=_template(args),
        n_bootstrap=args.bootstrap,
        max_bad_row_share=args.max_bad_rows,
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


def add_synth_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``caresim synth`` to ``parser``."""
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="new (or empty) folder to write <year>/episodes.csv, <year>/header.csv, ...",
    )
    parser.add_argument(
        "--years", type=int, default=5, metavar="N", help="collection years (default 5)"
    )
    parser.add_argument(
        "--last-year",
        type=int,
        default=2016,
        metavar="YYYY",
        help="the last collection year, ending 31 March YYYY (default 2016)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of every draw")
    parser.add_argument(
        "--cin", action="store_true", help="also write <year>/cin.csv (CIN-like referrals)"
    )
    parser.add_argument(
        "--quirks",
        action="store_true",
        help="add what real extracts contain: dd/mm/yy dates, REC on open episodes, "
        "mixed-case file names, care starting with RNE P/L after short breaks",
    )


def synth_command(args: argparse.Namespace) -> int:
    """Run ``caresim synth``: write a synthetic data folder; print counts only."""
    from sim.calibrate.synth_folder import write_synthetic_folder

    summary = write_synthetic_folder(
        args.out,
        years=args.years,
        last_year=args.last_year,
        seed=args.seed,
        cin=args.cin,
        quirks=args.quirks,
    )
    for line in summary.lines():
        print(line)
    return 0
