"""Calibration from SSDA903 data: read, clean, estimate, write a config, backtest.

>>> from sim.calibrate import calibrate, write_config, write_report   # doctest: +SKIP
>>> cal = calibrate(["episodes.csv"], ["header.csv"], as_at="2016-03-31")  # doctest: +SKIP
>>> write_config(cal, "configs/my-la.toml")                          # doctest: +SKIP

Child identifiers exist only inside :mod:`sim.calibrate.loader`; everything
else sees integer keys, ages and durations, and only aggregates are written.
See ``docs/calibration.md``.
"""

from sim.calibrate.backtest import BacktestResult, backtest
from sim.calibrate.cleaning import CleanData, CleaningReport, CleaningRule, clean_episodes
from sim.calibrate.errors import DataError, RowProblem
from sim.calibrate.estimators import Estimates, estimate
from sim.calibrate.loader import CinData, Loaded903, load_903, load_cin, truncate
from sim.calibrate.report import write_report
from sim.calibrate.synthetic import SyntheticData, SyntheticParameters, generate_synthetic_903
from sim.calibrate.writer import Calibration, CalibrationReport, calibrate, write_config

__all__ = [
    "BacktestResult",
    "Calibration",
    "CalibrationReport",
    "CinData",
    "CleanData",
    "CleaningReport",
    "CleaningRule",
    "DataError",
    "Estimates",
    "Loaded903",
    "RowProblem",
    "SyntheticData",
    "SyntheticParameters",
    "backtest",
    "calibrate",
    "clean_episodes",
    "estimate",
    "generate_synthetic_903",
    "load_903",
    "load_cin",
    "truncate",
    "write_config",
    "write_report",
]
