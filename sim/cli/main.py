"""The ``caresim`` command: the argument parser and dispatch to one module per command.

Errors a user can cause (bad config, bad arguments, bad data, an unreachable
scheduler, a result folder that does not match) are printed as one paragraph
on stderr with exit code 2, never as a traceback. A batch in which some
replications raised exits with code 1 after saving the others.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import Any

from sim.cli.support import DEFAULT_REPLICATIONS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

try:  # Ctrl-C while the command starts (imports take a second) ends it without a traceback.
    from sim._version import __version__
    from sim.cli.run import check_command, run_command, validate_command
    from sim.cli.scenarios import compare_command, sweep_command, warmup_command
    from sim.defaults import DEFAULT_SEED
    from sim.errors import CaresimError
except KeyboardInterrupt:  # pragma: no cover - timing-dependent
    print("caresim: interrupted", file=sys.stderr)
    raise SystemExit(EXIT_INTERRUPTED) from None

__all__ = ["build_parser", "main"]


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
        "synth": "write a synthetic SSDA903 data folder (counts only printed)",
    },
    "sim.cli.analysis": {
        "report": "write an HTML report of a results folder",
        "sensitivity": "global sensitivity analysis of a config's parameters",
        "goalseek": "find the parameter value that reaches a target",
    },
    "sim.cli.app": {"app": "start the planner's page (a local web app) in a browser"},
}


#: The extra that installs what each optional command module needs.
OPTIONAL_EXTRAS: dict[str, str] = {
    "sim.cli.calibrate": "calibrate",
    "sim.cli.analysis": "analysis",
    "sim.cli.app": "app",
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
        extra = OPTIONAL_EXTRAS.get(module_name, "all")
        missing = getattr(exc, "name", None) or str(exc)
        reason = (
            f"it needs the Python package {missing!r}, which is not installed; install it "
            f"with `pip install 'caresim[{extra}]'` (or run `python3 tasks.py run` once, "
            "which installs every extra)"
        )

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
    p_run.set_defaults(func=run_command)

    p_chk = sub.add_parser(
        "check",
        help="check that a result folder is whole (damaged parts, missing replications)",
        description="Read every part of a result folder back and say what a resume would redo.",
    )
    p_chk.add_argument("folder", metavar="DIR")
    p_chk.set_defaults(func=check_command)

    p_val = sub.add_parser("validate", help="check a config and describe it")
    p_val.add_argument("config")
    p_val.set_defaults(func=validate_command)

    p_cmp = sub.add_parser(
        "compare",
        help="paired differences of scenarios against a base (same seed)",
        description=(
            "Run a base config and scenarios with the same seed (common random numbers) and "
            "report scenario − base per measure and period: mean, 95% CI, P10–P90."
        ),
    )
    p_cmp.add_argument("configs", nargs="+", metavar="CONFIG", help="BASE.toml SCENARIO.toml ...")
    _add_run_args(p_cmp, replications_help=f"replications each (default {DEFAULT_REPLICATIONS})")
    p_cmp.add_argument("--out", help="output folder (default results/<base>-compare-<time>)")
    p_cmp.add_argument("--measure", action="append", help="keep only these measures in the table")
    _add_backend_args(p_cmp)
    p_cmp.set_defaults(func=compare_command)

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
    p_sw.set_defaults(func=sweep_command)

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
    p_wu.set_defaults(func=warmup_command)

    args = set(sys.argv[1:] if argv is None else argv)
    for module_name, helps in OPTIONAL_COMMANDS.items():
        wanted = bool(args & set(helps)) or not args or bool(args & {"-h", "--help"})
        _wire_optional(sub, module_name, helps, load=wanted)
    return parser


#: Which extra installs an optional third-party package a command imports.
PACKAGE_EXTRAS: dict[str, str] = {
    "SALib": "analysis",
    "lifelines": "calibrate",
    "dask": "dask",
    "distributed": "dask",
    "nbclient": "notebooks",
    "nbformat": "notebooks",
    "shiny": "app",
    "uvicorn": "app",
    "openpyxl": "app",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``caresim`` console command."""
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return EXIT_USAGE
        result = args.func(args)
        return EXIT_OK if result is None else int(result)
    except CaresimError as exc:
        print(f"caresim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in PACKAGE_EXTRAS:
            raise
        print(
            f"caresim: error: this command needs the Python package {top!r}, which is not "
            f"installed; install it with `pip install 'caresim[{PACKAGE_EXTRAS[top]}]'` "
            "(or run `python3 tasks.py run` once, which installs every extra)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`caresim validate CONFIG | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("caresim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
