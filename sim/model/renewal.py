"""Renewal theory for states already under way at the start of a run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["equilibrium_age_sampler"]


def equilibrium_age_sampler(dist: Any, points: int = 2049) -> Callable[[float], float]:
    """Inverse-CDF sampler of the time already elapsed in a plan open at a random moment.

    In a steady stream of plans with length distribution F, the elapsed time
    of one open at a random instant has density (1 - F(a)) / E[length]
    (the renewal-theory equilibrium distribution). Drawing the elapsed time
    this way, then the length conditional on it, avoids the too-short
    remaining times of a naive "uniform fraction of a fresh draw".
    """
    top = dist.ppf(0.9999)
    if top <= 0:
        return lambda _u: 0.0
    grid = np.linspace(0.0, top, points)
    survival = np.array([1.0 - dist.cdf(float(x)) for x in grid])
    cum = np.concatenate([[0.0], np.cumsum((survival[1:] + survival[:-1]) / 2 * np.diff(grid))])
    if cum[-1] <= 0:
        return lambda _u: 0.0
    cum /= cum[-1]
    return lambda u: float(np.interp(u, cum, grid))
