"""Start-up time of the ``caresim`` command (a fresh interpreter each time).

    python benchmarks/startup.py [--repeat 10]

Prints the median and best wall time of ``caresim --version``, ``caresim
--help`` and ``caresim validate BASELINE``, and of ``python -c "import sim"``
beside them, all measured in one run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARESIM = Path(sys.executable).parent / "caresim"
BASELINE = ROOT / "configs" / "worcestershire-2016.toml"


def _time(cmd: list[str], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    cases = {
        "python -c 'import sim'": [sys.executable, "-c", "import sim"],
        "caresim --version": [str(CARESIM), "--version"],
        "caresim --help": [str(CARESIM), "--help"],
        "caresim validate BASELINE": [str(CARESIM), "validate", str(BASELINE)],
    }
    print(f"{'command':<28} {'median s':>9} {'best s':>8}")
    for name, cmd in cases.items():
        median, best = _time(cmd, args.repeat)
        print(f"{name:<28} {median:>9.3f} {best:>8.3f}")


if __name__ == "__main__":
    main()
