"""Write the example notebooks (without outputs) from the cells below.

Run from the repository root after changing a story::

    .venv/bin/python notebooks/build_notebooks.py

The notebooks are executed top to bottom by ``tests/test_notebooks.py``, so
they use few replications and short horizons; raise both for real work.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
%matplotlib inline
from pathlib import Path

import pandas as pd

import sim
from sim.analysis import comparison as analysis
from sim.report import charts as plots

# The repository root, wherever the notebook is run from.
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "configs").is_dir())
CONFIGS = ROOT / "configs"
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)"""


def md(text: str) -> nbformat.NotebookNode:
    """Return a Markdown cell."""
    return new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    """Return a code cell."""
    return new_code_cell(text.strip())


# ----------------------------------------------------------------- 01 quickstart

QUICKSTART = [
    md("""
# Quickstart: run the baseline and read the results

This notebook runs the Worcestershire-like baseline (`configs/worcestershire-2016.toml`),
looks at the tidy tables `sim.run` returns, and draws the standard charts.

*Numbers here use few replications and a two-year horizon so that the notebook runs in
seconds; for decisions use 50+ replications and the full horizon.*
"""),
    code(SETUP),
    md("""
## 1. Load the config

A config is a TOML file; `sim.load_config` validates it and applies overrides given as
dotted keys. `describe()` summarises what it says.
"""),
    code("""
cfg = sim.load_config(CONFIGS / "worcestershire-2016.toml", {"run.years": 2})
print(cfg.describe())
"""),
    md("""
## 2. Run replications

Each replication is one possible future; replication *k* of seed *s* always gives the same
numbers. `backend="process"` spreads replications over processes and works from a notebook
on Linux and macOS: the worker function lives in `sim.experiment.runner`, so child processes can
import it whether they are forked or spawned.
"""),
    code("""
result = sim.run(cfg, replications=8, seed=2016, backend="process", workers=2)
print(f"{result.replications} replications on backend {result.manifest['backend']}")
result.summary.head()
"""),
    md("""
`result.summary` is tidy: one row per scenario, replication, measure and period (a financial
year such as `2016-17`, or a 31 March snapshot). `result.timeseries` is monthly. The key
measures, as the median and P10–P90 across replications:
"""),
    code("analysis.key_table(result)"),
    md("""
## 3. Charts

Every chart function takes the result (or a tidy DataFrame) and returns a matplotlib
Figure, in one colour-blind-safe style. A fan chart shows the median with P25–P75 and
P5–P95 bands across replications.
"""),
    code('plots.fan_chart(result, "looked_after")'),
    code('plots.placement_mix(result, by="provider", share=True)'),
    md(
        "Spend per financial year against a budget of £50m: the chart prints the share of "
        "replications over budget."
    ),
    code('plots.annual_distribution(result, "cost_total_gbp", budget_gbp=50e6)'),
    code("plots.utilisation(result)"),
    code("plots.caseload(result)"),
    md("""
## 4. Your own analysis

The tables are ordinary DataFrames. For example, the chance that more than 40 children are in
external residential care on 31 March 2018:
"""),
    code("""
ext = analysis.measure_values(result, "external_residential", "2018-03-31")
print(f"P(more than 40 in external residential) = {(ext > 40).mean():.0%}")
result.summary_wide().iloc[:, :6].head()
"""),
    md("""
## 5. Results folders and the HTML report

`caresim run CONFIG --out DIR` writes a results folder; `sim.load_results` reads it
back and `caresim report DIR` (or `sim.report.html.write_report`) turns it into a self-contained
HTML report with these charts, the key tables, the config and a description of the run.
"""),
    code("""
import tempfile

from sim.cli.main import main as caresim
from sim.report.html import write_report

folder = Path(tempfile.mkdtemp()) / "baseline"
caresim(["run", str(CONFIGS / "worcestershire-2016.toml"), "--years", "1", "-n", "4",
         "--seed", "2016", "--out", str(folder), "-q"])
loaded = sim.load_results(folder)
report_path = write_report(folder, budget_gbp=50e6)
print(loaded.replications, "replications loaded; report:", report_path.name,
      f"({report_path.stat().st_size / 1e6:.1f} MB)")
"""),
]

# ------------------------------------------------------- 02 capacity planning

CAPACITY = [
    md("""
# Capacity planning: foster carers and children's homes

Two questions a commissioning team asks:

1. *If we recruit in-house foster carers towards a 66:34 in-house:IFA ratio, what happens to
   the ratio, to external residential care and to spend, and how sure can we be?*
2. *How many in-house foster places do we need for at least 55% of fostering days to be
   in-house in 2016-17, in 80% of outcomes?*

We compare scenarios with **common random numbers**: the scenario and the baseline run the
same replications of the same seed, so replication *k* of each sees the same children, and the
difference between them is the effect of the change, not of luck.
"""),
    code(SETUP),
    md("""
## 1. Fostering recruitment

`configs/scenarios/fostering-ratio-66-34.toml` extends the baseline and raises the in-house
fostering capacity each April. Three years, 6 replications each, the same seed:
"""),
    code("""
YEARS, REPS, SEED = 3, 6, 7
base = sim.run(sim.load_config(CONFIGS / "worcestershire-2016.toml", {"run.years": YEARS}),
               replications=REPS, seed=SEED, backend="process", workers=2)
fostering = sim.run(
    sim.load_config(CONFIGS / "scenarios/fostering-ratio-66-34.toml", {"run.years": YEARS}),
    replications=REPS, seed=SEED, scenario="fostering 66:34", backend="process", workers=2,
)
"""),
    md("""
`analysis.compare` takes paired differences replication by replication and summarises
them: the mean difference with its 95% confidence interval, and P10–P90 of the
per-replication differences. (Three years of 365.25 days end one day into April 2019; that
stub of 2019-20 is left out.)
"""),
    code("""
diff = analysis.compare(analysis.trim_partial(base), analysis.trim_partial(fostering),
                        measures=["in_house_share_fostering", "external_residential",
                                  "cost_total_gbp"])
diff[["measure", "period", "base_mean", "scenario_mean", "mean", "ci95_low", "ci95_high",
      "p10", "p90"]].round(3)
"""),
    code("plots.comparison(base, fostering)"),
    md("Where the money moves: in-house fostering spend rises, IFA spend falls."),
    code("plots.cost_change(base, fostering)"),
    code('plots.difference_over_time(base, fostering, "looked_after_by_provider", "external")'),
    md("""
## 2. Closing children's homes

`homes-closure-6-to-2.toml` cuts in-house residential places from 22 to 8 in April 2019.
Children who would have gone to an in-house home now need an external one.
"""),
    code("""
base4 = sim.run(sim.load_config(CONFIGS / "worcestershire-2016.toml", {"run.years": 4}),
                replications=4, seed=SEED, backend="process", workers=2)
closure = sim.run(
    sim.load_config(CONFIGS / "scenarios/homes-closure-6-to-2.toml", {"run.years": 4}),
    replications=4, seed=SEED, scenario="homes 6 to 2", backend="process", workers=2,
)
both = sim.RunResult(pd.concat([base4.summary, closure.summary]),
                     pd.concat([base4.timeseries, closure.timeseries]), base4.config, SEED)
plots.fan_chart(both, "looked_after_by_category", "residential")
"""),
    code("""
closure_diff = analysis.compare(base4, closure,
                                measures=["external_residential", "cost_external_placements_gbp"])
closure_diff[["measure", "period", "mean", "ci95_low", "ci95_high"]].round(1)
"""),
    md("""
## 3. Goal-seek: how many in-house foster places?

`sim.analysis.goalseek.goal_seek` looks for the smallest capacity at which the target holds in at
least the required share of replications. Every capacity it tries runs the same
replications (common random numbers) and is cached, and it bisects, so it needs about
log2(range) runs. With 5 replications the answer is rough; the chart shows how the share
of replications meeting the target rises with the number of places.
"""),
    code("""
from sim.analysis.goalseek import goal_seek

one_year = sim.load_config(CONFIGS / "worcestershire-2016.toml", {"run.years": 1})
seek = goal_seek(
    one_year,
    "placement_types.foster_in_house.capacity",
    "in_house_share_fostering>=0.55",
    period="2016-17",
    probability=0.8,
    low=230,
    high=290,
    levels=(0.5, 0.8),
    replications=5,
    seed=SEED,
    backend="process",
    workers=2,
)
print(seek.summary())
"""),
    code("plots.probability_curve(seek)"),
    md("""
The same search runs from the command line, and `--cost-per-place-gbp` switches it to
finding the capacity with the lowest expected annual cost once each place has a running
cost:

```
caresim goalseek configs/worcestershire-2016.toml \\
    --vary placement_types.foster_in_house.capacity \\
    --target "in_house_share_fostering>=0.6" --by 2019-03-31 --probability 0.8 -n 40
```
"""),
]

# -------------------------------------------------- 04 front door and thresholds

FRONT_DOOR = [
    md("""
# The front door: thresholds, re-referrals and caseloads

A "circuit breaker" at the front door raises the observed-need percentile above which a
referral is assessed, by 10 points from January 2017 (the lever of
`configs/scenarios/revised-thresholds.toml`). The intended effect is fewer assessments; the
risk is that children turned away come back as re-referrals, with more need, later. This
notebook looks for both, and at what happens to social workers' caseloads.
"""),
    code(SETUP),
    md("""
The scenario is built here from the baseline with `sim.with_overrides`: the threshold keeps
the baseline's value until 1 January 2017 and rises by 0.10 from then, as a schedule
(`{date: value}`).
"""),
    code("""
YEARS, REPS, SEED = 3, 6, 11
base_cfg = sim.load_config(CONFIGS / "worcestershire-2016.toml", {"run.years": YEARS})
now = base_cfg.front_door.assessment_above_percentile.initial()
revised_cfg = sim.with_overrides(
    base_cfg,
    {"front_door.assessment_above_percentile": {"2016-04-01": now, "2017-01-01": now + 0.10}},
)
print(f"assessment threshold: P{100 * now:.0f} of observed need, P{100 * (now + 0.1):.0f} "
      "from January 2017")
base = sim.run(base_cfg, replications=REPS, seed=SEED, backend="process", workers=2)
revised = sim.run(revised_cfg, replications=REPS, seed=SEED, scenario="revised thresholds",
                  backend="process", workers=2)
both = sim.RunResult(pd.concat([base.summary, revised.summary]),
                     pd.concat([base.timeseries, revised.timeseries]), base.config, SEED)
"""),
    md("## 1. Fewer assessments now\n\nReferrals going to assessment each month:"),
    code('plots.fan_chart(both, "triage", "assessment")'),
    md("""
Because both runs share their random numbers, every difference before January 2017 is
exactly zero: the runs are the same until the threshold changes.
"""),
    code("""
monthly = analysis.compare_timeseries(base, revised, "triage", "assessment")
before = monthly[monthly["date"] < "2017-01-01"]
after = monthly[monthly["date"] >= "2017-01-01"]
print(f"assessments a month, scenario - base: before January 2017 {before['mean'].abs().max():g}; "
      f"after {after['mean'].mean():+.0f} on average")
"""),
    md("""
## 2. The re-referral rebound

Re-referrals each month, as the paired difference from the baseline: zero until the
thresholds change in January 2017; after that, children turned away start coming back.
"""),
    code('plots.difference_over_time(base, revised, "referrals", "re_referral")'),
    code("""
diff = analysis.compare(analysis.trim_partial(base), analysis.trim_partial(revised),
                        measures=["referrals", "assessments", "entries", "caseload_mean"])
diff[["measure", "period", "base_mean", "scenario_mean", "mean", "ci95_low", "ci95_high"]].round(1)
"""),
    md("""
## 3. Caseloads

Cases per social worker (case-days / FTE-days, a ratio of sums) against the config's
caseload threshold. A higher threshold lowers the number of open assessments, so caseloads
fall a little; `lower-caseloads.toml` instead adds 30 social workers from April 2017.
"""),
    code("plots.caseload(both)"),
    code("""
staff = sim.run(sim.load_config(CONFIGS / "scenarios/lower-caseloads.toml", {"run.years": YEARS}),
                replications=REPS, seed=SEED, scenario="30 more social workers",
                backend="process", workers=2)
plots.comparison(analysis.compare(analysis.trim_partial(base), analysis.trim_partial(staff)),
                 measures=["caseload_mean", "cost_staff_gbp", "entries"])
"""),
    md("""
The paired differences show what each lever buys: the threshold change trades assessments
now for re-referrals later, while more staff lower caseloads at a known cost. With 6
replications the intervals are wide; rerun with `REPS = 50` before quoting numbers.
"""),
]


# ------------------------------------------------- 03 calibrate and backtest

CALIBRATE = [
    md("""
# Calibrate from SSDA903 data, then backtest

An authority's own SSDA903 returns (the looked-after children collection) say how many
children enter care, where they are placed and how they leave. `sim.calibrate` turns them
into a config, and a **backtest** checks it honestly: calibrate on the data up to a date,
simulate forward, and see whether what actually happened next lies inside the simulated
range.

Real 903 data are personal data, so this notebook uses a synthetic authority whose truth is
known (`generate_synthetic_903`). The same calls work on real files; see
`docs/calibration.md`.
"""),
    code(SETUP),
    code("""
import tempfile

from sim.calibrate import backtest, calibrate, generate_synthetic_903, write_config

work = Path(tempfile.mkdtemp())
data = generate_synthetic_903(work / "903", seed=3)
print("collection years:", ", ".join(p.name for p in data.episodes))
pd.read_csv(data.episodes[-1]).head()
"""),
    md("""
## 1. Calibrate as at 31 March 2015

Everything after the as-at date is hidden from the calibration, as if it had not happened
yet. Values the data cannot give (unit costs, capacities, workforce) come from the template
config and are marked `[input]` in the file written.
"""),
    code("""
TEMPLATE = CONFIGS / "worcestershire-2016.toml"  # where values the data cannot give come from
cal = calibrate(data.episodes, data.header, cin=data.cin, as_at="2015-03-31", template=TEMPLATE,
                n_bootstrap=10, scale_replications=2, scale_years=1.5)
print(cal.report.summary())
path = write_config(cal, work / "calibrated.toml")
for line in path.read_text().splitlines()[:12]:
    print(line)
"""),
    md("""
## 2. Backtest: simulate the year after, compare with what happened

`backtest` calibrates on the data up to the as-at date, runs the calibrated config forward
and compares every month with the simulated P5–P95 band. A well-calibrated model has about
90% of observed months inside its band; a much lower share says the calibration misses
something, and the table shows where.
"""),
    code("""
bt = backtest(data.episodes, data.header, as_at="2015-03-31", horizon_years=1,
              replications=8, seed=1, cin=data.cin, template=TEMPLATE, n_bootstrap=10,
              scale_years=1.5)
print(f"children looked after: {bt.share_inside():.0%} of months inside the P5-P95 band")
bt.coverage.round(2)
"""),
    md("""
The calibrated config is an ordinary `Config`: run it with `sim.run` and draw it with the
standard charts. The black dots are what the synthetic authority actually did.
"""),
    code("""
forward = sim.run(sim.with_overrides(bt.calibration.config, {"run.years": 1}),
                  replications=8, seed=1, backend="process", workers=2)
fig = plots.fan_chart(forward, "looked_after",
                      title="Children looked after: simulated and observed")
observed = bt.errors.query("measure == 'looked_after' and category == 'all'")
# Observed month-end stocks sit at the month's date, as the simulated ones do.
fig.axes[0].plot(pd.to_datetime(observed["date"]), observed["observed"], "ko", ms=4,
                 label="observed")
fig.axes[0].legend()
fig
"""),
]


NOTEBOOKS = {
    "01-quickstart.ipynb": QUICKSTART,
    "02-capacity-planning.ipynb": CAPACITY,
    "03-calibrate-and-backtest.ipynb": CALIBRATE,
    "04-front-door-and-thresholds.ipynb": FRONT_DOOR,
}


def build(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """Return a notebook of ``cells`` for the default Python 3 kernel."""
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"  # stable ids: rebuilding changes nothing that did not change
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main() -> int:
    """Write every notebook."""
    for name, cells in NOTEBOOKS.items():
        nb = build(cells)
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        print(f"wrote notebooks/{name} ({len(cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
