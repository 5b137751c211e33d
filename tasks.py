#!/usr/bin/env python3
"""Set up and run caresim with nothing but Python 3.11+.

    python3 tasks.py run    # create .venv, install caresim with every extra, run the baseline
    python3 tasks.py app    # the same .venv; start the planner's page on http://127.0.0.1:8050
    python3 tasks.py test   # create .venv, install caresim with test tools, run the tests

Extra arguments are passed on: ``python3 tasks.py run -n 50 --seed 7``,
``python3 tasks.py app --port 8060`` or ``python3 tasks.py test -k config``.
The virtual environment is (re)installed only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
BASELINE = "configs/worcestershire-2016.toml"


def _ensure_env(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - say so plainly on an old Python
        sys.exit(f"caresim needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    # The dev set holds every extra, so it serves `run` too.
    for name in {extras, "dev"} if extras == "all" else {extras}:
        done = VENV / f".installed-{name or 'base'}"
        if done.exists() and done.read_text() == digest and PYTHON.exists():
            return
    if not PYTHON.exists():
        print(f"Creating virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing caresim and its dependencies (first time only) ...", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", target],
        cwd=ROOT,
        check=True,
    )
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    """Dispatch ``run``, ``app`` or ``test``."""
    if not argv or argv[0] not in {"run", "app", "test"}:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if cmd == "run":
        _ensure_env("all")
        args = rest if rest and not rest[0].startswith("-") else [BASELINE, *rest]
        return subprocess.call([str(BIN / "caresim"), "run", *args])
    if cmd == "app":
        _ensure_env("all")
        try:
            return subprocess.call([str(BIN / "caresim"), "app", *rest])
        except KeyboardInterrupt:
            return 0
    _ensure_env("dev")
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
