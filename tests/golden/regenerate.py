"""Rewrite ``tests/golden/baseline-summary.csv`` from the current code.

Run from anywhere with the project's Python::

    python tests/golden/regenerate.py

Only do this when a change is meant to move the model's numbers; commit the new
file with that change and say why the numbers moved. See ``tests/test_golden.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run this checkout's code and reuse the test's definition of the golden case.
sys.path[:0] = [str(HERE.parent.parent), str(HERE.parent)]

from test_golden import GOLDEN, golden_rows, to_csv  # noqa: E402


def main() -> int:
    """Run the golden case and write its table."""
    rows = golden_rows()
    GOLDEN.write_text(to_csv(rows), encoding="utf-8")
    print(f"wrote {len(rows)} rows to {GOLDEN}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
