"""``caresim app``: start the planner's page (Shiny for Python) on a local address.

The page itself is :mod:`sim.app.page`; this module parses, checks the port,
prints the address and serves. Shiny and uvicorn are imported only when the
command runs, so a missing package gives the "install caresim[app]" message
(:data:`sim.cli.main.PACKAGE_EXTRAS`), not a traceback.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from sim.errors import CaresimError

__all__ = ["LOCAL_HOSTS", "add_app_arguments", "app_command"]

#: Addresses only this computer can reach.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def add_app_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``caresim app``."""
    p.add_argument("--port", type=int, default=8050, help="port to listen on (default 8050)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this computer only; the page has no login)",
    )
    p.add_argument(
        "--scenarios",
        default=str(Path("results") / "scenarios"),
        metavar="DIR",
        help="folder for saved scenario TOML files (default results/scenarios)",
    )
    p.add_argument(
        "--backend",
        choices=("auto", "serial", "process"),
        default="auto",
        help="where replications run: auto (a process pool for bigger batches), serial or "
        "process (default auto)",
    )


def _check_port(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise CaresimError(f"--port must be between 1 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise CaresimError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
            ) from None


def app_command(args: argparse.Namespace) -> int:
    """``caresim app``: serve the page until interrupted."""
    import uvicorn

    from sim.app.page import make_app

    _check_port(args.host, args.port)
    app = make_app(
        scenarios_dir=Path(args.scenarios),
        backend=None if args.backend == "auto" else args.backend,
    )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    if args.host not in LOCAL_HOSTS:
        print(
            f"caresim: warning: listening on {args.host}, not this computer only; the page has "
            "no login, so anyone who can reach this address can run the model and write "
            "scenario files",
            file=sys.stderr,
        )
    print(
        f"caresim app: open http://{shown}:{args.port} in a browser (Ctrl+C stops it)", flush=True
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
