"""The ``caresim`` command: argument parsing and printing only, no model logic.

Errors a user can cause (bad config, bad arguments, bad data) are printed as
one paragraph on stderr with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim._version import __version__
from sim.errors import CaresimError

__all__ = ["main"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

KEY_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("looked_after", "Children looked after on 31 March", "count"),
    ("external_residential", "  of whom in external residential", "count"),
    ("in_house_share_fostering", "In-house share of fostering (year)", "pct"),
    ("entries", "Children starting care (year)", "count"),
    ("exits", "Children leaving care (year)", "count"),
    ("referrals", "Referrals (year)", "count"),
    ("caseload_mean", "Cases per social worker (year mean)", "num"),
    ("cost_placements_gbp", "Placement spend (year)", "gbp"),
    ("cost_allowances_gbp", "Allowances after care (year)", "gbp"),
    ("cost_total_gbp", "Total spend (year)", "gbp"),
)


def _fmt(value: float, kind: str) -> str:
    if value != value:  # NaN
        return "-"
    if kind == "gbp":
        return f"£{value / 1e6:,.1f}m"
    if kind == "pct":
        return f"{100 * value:.0f}%"
    if kind == "num":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _summary_table(stats: Any) -> str:
    """Median (P10–P90) of the key measures, one column per period."""
    lines = []
    for measure, label, kind in KEY_MEASURES:
        rows = stats[stats["measure"] == measure]
        if rows.empty:
            continue
        cells = []
        for _, r in rows.iterrows():
            cells.append(
                f"{r['period']}: {_fmt(r['p50'], kind)} ({_fmt(r['p10'], kind)}–{_fmt(r['p90'], kind)})"
            )
        lines.append(f"{label}\n    " + "\n    ".join(cells))
    return "\n".join(lines)


def _default_out(config: Path) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{config.stem}-{stamp}"


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.config import load_config, parse_override
    from sim.runner import run

    overrides = dict(parse_override(s) for s in args.set or [])
    if args.years is not None:
        overrides["run.years"] = args.years
    cfg = load_config(args.config, overrides)
    if args.replications < 1:
        raise CaresimError(f"--replications must be >= 1, got {args.replications}")
    if args.seed < 0:
        raise CaresimError(f"--seed must be >= 0, got {args.seed}")
    out = Path(args.out) if args.out else _default_out(Path(args.config))
    out.mkdir(parents=True, exist_ok=True)
    progress = None
    if not args.quiet:
        from tqdm import tqdm

        progress = tqdm(
            total=args.replications,
            unit="rep",
            desc=cfg.run.name[:40],
            disable=None if sys.stderr.isatty() else True,
            file=sys.stderr,
        )
    done = 0

    def on_done(_tables: Any) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress.update(1)
            if progress.disable and not args.quiet:
                print(f"  replication {done}/{args.replications} done", file=sys.stderr)

    try:
        result = run(
            cfg,
            replications=args.replications,
            seed=args.seed,
            backend=args.backend,
            workers=args.workers,
            on_done=on_done,
            source=str(args.config),
        )
    finally:
        if progress is not None:
            progress.close()
    result.summary.to_csv(out / "summary.csv", index=False)
    if args.format == "parquet":
        result.timeseries.to_parquet(out / "timeseries.parquet", index=False)
    else:
        result.timeseries.to_csv(out / "timeseries.csv", index=False)
    stats = result.summary_stats()
    stats.to_csv(out / "summary_stats.csv", index=False)
    (out / "manifest.json").write_text(json.dumps(result.manifest, indent=2, default=str))
    if not args.quiet:
        print(f"{cfg.run.name}: {args.replications} replications, seed {args.seed}")
        print("Median (P10–P90) across replications\n")
        print(_summary_table(stats))
        print(f"\nResults written to {out}/ (summary.csv, timeseries.{args.format}, manifest.json)")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.config import load_config

    cfg = load_config(args.config)
    print(f"{args.config}: valid\n")
    print(cfg.describe())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``caresim`` command."""
    parser = argparse.ArgumentParser(
        prog="caresim",
        description="Discrete-event Monte Carlo simulation of children's social care.",
    )
    parser.add_argument("--version", action="version", version=f"caresim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p_run = sub.add_parser("run", help="run replications of a config and summarise them")
    p_run.add_argument("config", help="TOML config file (e.g. configs/worcestershire-2016.toml)")
    p_run.add_argument(
        "-n", "--replications", type=int, default=20, help="replications (default 20)"
    )
    p_run.add_argument("--seed", type=int, default=20160401, help="root seed (default 20160401)")
    p_run.add_argument("--years", type=float, help="override run.years")
    p_run.add_argument("--out", help="output folder (default results/<config>-<time>)")
    p_run.add_argument(
        "--backend", choices=("serial", "process"), default="process", help="where replications run"
    )
    p_run.add_argument(
        "--workers", type=int, help="processes for --backend process (default: all cores)"
    )
    p_run.add_argument(
        "--format", choices=("parquet", "csv"), default="parquet", help="time-series file format"
    )
    p_run.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a config key (repeatable)"
    )
    p_run.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p_run.set_defaults(func=_cmd_run)

    p_val = sub.add_parser("validate", help="check a config and describe it")
    p_val.add_argument("config")
    p_val.set_defaults(func=_cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``caresim`` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except CaresimError as exc:
        print(f"caresim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("caresim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
