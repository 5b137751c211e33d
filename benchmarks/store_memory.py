"""Peak memory of combining a large batch: a synthetic store of N replications, then finalize.

Run from the repository root::

    python benchmarks/store_memory.py /tmp/store10k 10000 make       # ~3 minutes, ~0.5 GB disk
    python benchmarks/store_memory.py /tmp/store10k 10000 finalize   # prints time and peak RSS

``make`` runs one real 5-year baseline replication and writes its tables N
times (values scaled slightly per replication, so statistics are not
degenerate) as parts of 16 replications, as ``caresim run --out`` would;
``finalize`` opens the store and runs :meth:`sim.results.store.ResultStore.finalize`
in a fresh process, printing its wall time and peak RSS. The simulation itself
is not timed here (see ``benchmarks/model.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from pathlib import Path

import pandas as pd

import sim
from sim.experiment.runner import replication_tables
from sim.results.manifest import run_manifest
from sim.results.store import ResultStore

BASELINE = Path(__file__).resolve().parent.parent / "configs" / "worcestershire-2016.toml"
PART = 16


def make(root: Path, n: int) -> None:
    """Write a store of ``n`` copies of one replication's tables, in parts of 16."""
    cfg = sim.load_config(BASELINE)
    t = replication_tables(cfg, 1, 0)
    manifest = run_manifest(cfg, seed=1, replications=n, started=dt.datetime.now(dt.UTC))
    ResultStore.create(root, manifest)
    for a in range(0, n, PART):
        b = min(a + PART - 1, n - 1)
        name = f"{a:06d}-{b:06d}.parquet"
        reps = range(a, b + 1)
        ts = pd.concat(
            [
                t.timeseries.assign(replication=k, value=t.timeseries["value"] * (1 + k * 1e-4))
                for k in reps
            ],
            ignore_index=True,
        )
        sm = pd.concat(
            [
                t.summary.assign(replication=k, value=t.summary["value"] * (1 + k * 1e-4))
                for k in reps
            ],
            ignore_index=True,
        )
        ts.to_parquet(root / "parts" / f"timeseries-{name}", index=False)
        sm.to_parquet(root / "parts" / f"summary-{name}", index=False)


def main() -> None:
    """Make or finalize a synthetic store and print the peak RSS of this process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("replications", type=int)
    parser.add_argument("step", choices=["make", "finalize"])
    args = parser.parse_args()
    t0 = time.perf_counter()
    if args.step == "make":
        make(args.root, args.replications)
    else:
        ResultStore.open(args.root).finalize()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.step}: {time.perf_counter() - t0:.1f} s, peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
