"""Shared, cached synthetic data and calibration runs for the calibration tests.

Building them costs a few seconds (and model runs), so each is made once per
test process and reused; tests must not modify what they get. This module
holds no tests of its own (its name keeps pytest from collecting it).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from sim.calibrate import (
    BacktestResult,
    Calibration,
    SyntheticData,
    backtest,
    calibrate,
    generate_synthetic_903,
    write_config,
    write_report,
)
from sim.calibrate.synth_folder import SynthSummary, write_synthetic_folder

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "configs" / "worcestershire-2016.toml"
SEED = 2016
#: Bootstrap resamples in the shared calibration (intervals exist but are rough).
N_BOOTSTRAP = 10


@functools.cache
def workdir() -> Path:
    """A temporary folder for this test process, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="caresim-calibrate-tests-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def synthetic() -> SyntheticData:
    """Five collection years (2012-2016) of synthetic SSDA903 data from known parameters."""
    return generate_synthetic_903(workdir() / "data", seed=SEED)


@functools.cache
def quirky_folder() -> SynthSummary:
    """A ``caresim synth --cin --quirks`` folder: five years, 2012-2016, year sub-folders."""
    return write_synthetic_folder(workdir() / "quirky", years=5, seed=SEED, cin=True, quirks=True)


@functools.cache
def no_step_down_template() -> Path:
    """The baseline without step-downs: the synthetic process has none."""
    path = workdir() / "template-no-step-downs.toml"
    path.write_text(
        f'extends = "{TEMPLATE.as_posix()}"\n[placement_policy]\nstep_downs = []\n',
        encoding="utf-8",
    )
    return path


@functools.cache
def calibration() -> Calibration:
    """The synthetic data calibrated as at their end, the referral rate set by running the model."""
    data = synthetic()
    return calibrate(
        data.episodes,
        data.header,
        cin=data.cin,
        template=TEMPLATE,
        n_bootstrap=N_BOOTSTRAP,
        seed=SEED,
        scale_years=1.5,
    )


@functools.cache
def calibration_outputs() -> tuple[Path, Path]:
    """The calibrated config written as TOML, and the report folder."""
    cal = calibration()
    out = workdir() / "out"
    config = write_config(cal, out / "calibrated.toml")
    write_report(cal, out / "report")
    return config, out / "report"


@functools.cache
def backtest_result() -> BacktestResult:
    """Calibrate on the first three years, simulate the last two, compare."""
    data = synthetic()
    return backtest(
        data.episodes,
        data.header,
        "2014-03-31",
        horizon_years=2.0,
        # 40 runs: the band holds a further run 90% of the time with any number of
        # runs (see sim.calibrate.backtest._band), but its edges are less noisy.
        replications=40,
        seed=SEED,
        out_dir=workdir() / "backtest",
        template=no_step_down_template(),
        n_bootstrap=0,
        scale_years=1.5,
    )


@functools.cache
def backtest_at(seed: int) -> BacktestResult:
    """The same backtest on synthetic data drawn with another seed, 20 runs (test time)."""
    data = generate_synthetic_903(workdir() / f"data-{seed}", seed=seed)
    return backtest(
        data.episodes,
        data.header,
        "2014-03-31",
        horizon_years=2.0,
        replications=20,
        seed=seed,
        template=no_step_down_template(),
        n_bootstrap=0,
        scale_years=1.5,
    )
