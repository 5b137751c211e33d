"""Golden output: a short baseline run must give exactly the stored numbers, bit for bit.

One seed, two replications and two years of ``configs/worcestershire-2016.toml``,
run serially; the key summary measures of every replication and period are
compared with ``tests/golden/baseline-summary.csv`` as floats (``float.hex``
equality after parsing, so even the last bit counts). Any change to the model,
the streams, the config or the tables that moves a number fails this test.

When a change is *meant* to move the numbers, regenerate the file and commit it
with the change, saying why the numbers moved::

    python tests/golden/regenerate.py

(with the project's virtualenv; the script runs the checkout it sits in). The
same run on another CPU or numpy/scipy build may differ in the last bits: the
file is written on the project's reference environment.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "baseline-summary.csv"
CONFIG = ROOT / "configs" / "worcestershire-2016.toml"
REGENERATE = "python tests/golden/regenerate.py"

SEED = 20160401
REPLICATIONS = 2
OVERRIDES = {"run.years": 2}
#: The summary measures kept in the golden table.
MEASURES = (
    "cost_total_gbp",
    "cost_placements_gbp",
    "looked_after",
    "external_residential",
    "in_house_share_fostering",
    "entries",
    "exits",
    "referrals",
    "caseload_mean",
    "moves_per_child",
)
COLUMNS = ("replication", "measure", "period", "value")

Row = tuple[int, str, str, float]


def golden_rows() -> list[Row]:
    """Run the golden case and return its key summary rows, in a fixed order."""
    import sim

    cfg = sim.with_overrides(sim.load_config(CONFIG), OVERRIDES)
    result = sim.run(cfg, replications=REPLICATIONS, seed=SEED, backend="serial")
    s = result.summary
    s = s[s["measure"].isin(MEASURES)]
    rows = [
        (int(r.replication), str(r.measure), str(r.period), float(r.value))
        for r in s.itertuples(index=False)
    ]
    order = {m: i for i, m in enumerate(MEASURES)}
    return sorted(rows, key=lambda r: (r[0], order[r[1]], r[2]))


def to_csv(rows: list[Row]) -> str:
    """The rows as CSV, values as ``repr`` (the shortest text that reads back exactly)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for rep, measure, period, value in rows:
        w.writerow([rep, measure, period, repr(value)])
    return buf.getvalue()


def read_csv(path: Path) -> list[Row]:
    """Rows of a golden file."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert tuple(next(reader)) == COLUMNS, f"{path}: unexpected header"
        return [(int(r[0]), r[1], r[2], float(r[3])) for r in reader]


def _same(a: float, b: float) -> bool:
    return a.hex() == b.hex() or (math.isnan(a) and math.isnan(b))


def test_baseline_run_matches_the_golden_table_exactly() -> None:
    assert GOLDEN.is_file(), f"{GOLDEN} is missing; create it with `{REGENERATE}`"
    expected = read_csv(GOLDEN)
    actual = golden_rows()
    assert [r[:3] for r in actual] == [r[:3] for r in expected], (
        f"the rows (replication, measure, period) differ from {GOLDEN.name}; "
        f"if that is intended, run `{REGENERATE}`"
    )
    diffs = [
        f"  rep {e[0]} {e[1]} {e[2]}: stored {e[3]!r}, now {a[3]!r}"
        for e, a in zip(expected, actual, strict=True)
        if not _same(e[3], a[3])
    ]
    assert not diffs, (
        f"{len(diffs)} of {len(expected)} values differ from {GOLDEN.name} "
        f"(if the change is intended, run `{REGENERATE}` and say why in the commit):\n"
        + "\n".join(diffs[:20])
    )


def test_golden_csv_round_trips_floats_exactly(tmp_path: Path) -> None:
    rows: list[Row] = [(0, "m", "2016-17", 0.1 + 0.2), (1, "m", "all", 1e-300 / 3)]
    path = tmp_path / "g.csv"
    path.write_text(to_csv(rows), encoding="utf-8")
    back = read_csv(path)
    assert back == rows and all(_same(a[3], b[3]) for a, b in zip(back, rows, strict=True))
