"""Backtest coverage at several synthetic seeds (calibration quality, not speed).

Run from the repository root::

    python benchmarks/backtest_seeds.py results/bt-seeds.csv 20 1 2 3 4 5 6 7 8 9 10 11 12 2016

For each seed: synthetic SSDA903 files (2012-2016) from known parameters, a
backtest calibrated to 31 March 2014 and run 2 years forward with the given
number of replications (no bootstrap), and the share of months inside the
P5-P95 band with the mean bias, for children looked after, entries and exits.
About 40 s a seed on one core. Not part of the test suite.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from calibrate_data import no_step_down_template  # noqa: E402

from sim.calibrate import backtest, generate_synthetic_903  # noqa: E402

tpl = no_step_down_template()
out, reps = sys.argv[1], int(sys.argv[2])
rows = []
for seed in [int(a) for a in sys.argv[3:]]:
    d = Path(tempfile.mkdtemp())
    data = generate_synthetic_903(d / "data", seed=seed)
    r = backtest(
        data.episodes,
        data.header,
        "2014-03-31",
        horizon_years=2.0,
        replications=reps,
        seed=seed,
        out_dir=None,
        template=tpl,
        n_bootstrap=0,
        scale_years=1.5,
    )
    cov = r.coverage.set_index(["measure", "category"])
    for key in [("looked_after", "all"), ("entries", "all"), ("exits", "all")]:
        row = cov.loc[key]
        rows.append((seed, key[0], row.share_inside, row.mean_error))
    pd.DataFrame(rows, columns=["seed", "measure", "share_inside", "bias"]).to_csv(out, index=False)
    print(
        seed, " | ".join(f"{m}: {s:.0%} {b:+.1f}" for sd, m, s, b in rows if sd == seed), flush=True
    )
