"""Renewal theory for states already under way at the start of a run."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["equilibrium_age_sampler"]


@lru_cache(maxsize=64)
def equilibrium_age_sampler(dist: Any, points: int = 2049) -> Callable[[float], float]:
    """Inverse-CDF sampler of the time already elapsed in a plan open at a random moment.

    In a steady stream of plans with length distribution F, the elapsed time
    of one open at a random instant has density (1 - F(a)) / E[length]
    (the renewal-theory equilibrium distribution). Drawing the elapsed time
    this way, then the length conditional on it, avoids the too-short
    remaining times of a naive "uniform fraction of a fresh draw". Cached by
    distribution (configs are frozen), so the replications of a run share it.
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
    return _Interpolator(cum.tolist(), grid.tolist())


class _Interpolator:
    """``np.interp(u, xs, ys)`` for one scalar at a time, without numpy's per-call cost.

    Same formula and the same handling of ends and exact knots as numpy's, so
    the same numbers.
    """

    __slots__ = ("_last", "_xs", "_ys")

    def __init__(self, xs: list[float], ys: list[float]):
        self._xs = xs
        self._ys = ys
        self._last = len(xs) - 1

    def __call__(self, u: float) -> float:
        xs, ys = self._xs, self._ys
        if u < xs[0]:
            return ys[0]
        j = bisect_right(xs, u) - 1
        if j >= self._last:
            return ys[-1]
        if xs[j] == u:
            return ys[j]
        slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
        return slope * (u - xs[j]) + ys[j]
