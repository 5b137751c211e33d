"""Probability distributions that configs can name for durations and costs.

Each distribution is a frozen pydantic model chosen by its ``distribution``
field. The unit is carried by the name of the key that holds it
(``duration_days``, ``weekly_cost_gbp``), so the fields here are unit-free.

All sampling is by inverse transform, ``ppf(u)`` for a uniform ``u`` in (0, 1):
the model hands each child a block of uniforms, so a scenario that changes a
duration distribution still gives the same child the same luck (common random
numbers). ``ppf`` is written for scalars without SciPy's per-call overhead.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from itertools import pairwise
from statistics import NormalDist
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special

from sim.config.strict import check_numbers

__all__ = [
    "Choice",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Normal",
    "ParameterDistribution",
    "Triangular",
    "Uniform",
    "Weibull",
]

_STD_NORMAL = NormalDist()
_EPS = 1e-12
#: Largest mean, median, scale, value or cap of a distribution (days or pounds): ten
#: million, far above any duration or cost in a council, keeping every draw finite.
MAX_VALUE = 1e7
_HI = 1.0 - _EPS
_gammaincinv = special.gammaincinv


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _strict_numbers(cls, data: Any) -> Any:
        return check_numbers(cls, data)

    maximum: float | None = Field(
        default=None,
        gt=0,
        le=MAX_VALUE,
        description="Optional cap applied to every draw (same unit).",
    )

    def _raw_ppf(self, u: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _raw_cdf(self, x: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def ppf(self, u: float) -> float:
        """Quantile function: the value below which a share ``u`` of draws fall."""
        if u < _EPS:
            u = _EPS
        elif u > _HI:
            u = _HI
        x = self._raw_ppf(u)
        cap = self.maximum
        if cap is not None and x > cap:
            return cap
        return x

    def ppf_many(self, u: np.ndarray) -> list[float]:
        """:meth:`ppf` of each of an array of uniforms (the same numbers, in a list)."""
        return [self.ppf(x) for x in u.tolist()]

    def cdf(self, x: float) -> float:
        """Share of draws at or below ``x``."""
        if x <= 0:
            return 0.0
        if self.maximum is not None and x >= self.maximum:
            return 1.0
        return self._raw_cdf(x)

    def conditional_ppf(self, u: float, at_least: float) -> float:
        """Quantile of the distribution conditioned on a value above ``at_least``.

        Used to draw the remaining time in care of a child already in care for
        ``at_least`` days at the start of a run.
        """
        if at_least <= 0:
            return self.ppf(u)
        f0 = self.cdf(at_least)
        if f0 >= 1.0 - 1e-9:
            return at_least
        return max(self.ppf(f0 + u * (1.0 - f0)), at_least)

    def expected(self) -> float:  # pragma: no cover - abstract
        """Mean of the distribution (ignoring ``maximum``)."""
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same value."""

    distribution: Literal["fixed"] = Field(description="Family name: fixed.")
    value: float = Field(ge=0, le=MAX_VALUE, description="The value every draw takes.")

    def _raw_ppf(self, u: float) -> float:
        return self.value

    def _raw_cdf(self, x: float) -> float:
        return 1.0 if x >= self.value else 0.0

    def expected(self) -> float:
        """Return the value."""
        return self.value


class Exponential(_Dist):
    """Memoryless durations with the given mean."""

    distribution: Literal["exponential"] = Field(description="Family name: exponential.")
    mean: float = Field(gt=0, le=MAX_VALUE, description="Mean.")

    def _raw_ppf(self, u: float) -> float:
        return -self.mean * math.log1p(-u)

    def _raw_cdf(self, x: float) -> float:
        return -math.expm1(-x / self.mean)

    def expected(self) -> float:
        """Return the mean."""
        return self.mean


class Gamma(_Dist):
    """Gamma distribution given by its mean and coefficient of variation (SD / mean)."""

    distribution: Literal["gamma"] = Field(description="Family name: gamma.")
    mean: float = Field(gt=0, le=MAX_VALUE, description="Mean.")
    cv: float = Field(
        ge=0.01, le=10, description="Coefficient of variation (SD / mean); 1 is exponential."
    )

    @property
    def shape(self) -> float:
        """Shape parameter k = 1 / cv²."""
        return 1.0 / (self.cv * self.cv)

    def _raw_ppf(self, u: float) -> float:
        cv = self.cv
        k = 1.0 / (cv * cv)
        return float(_gammaincinv(k, u)) * self.mean / k

    def ppf_many(self, u: np.ndarray) -> list[float]:
        """:meth:`ppf` of each of an array of uniforms, vectorised (bit-for-bit the same)."""
        cv = self.cv
        k = 1.0 / (cv * cv)
        x = _gammaincinv(k, np.clip(u, _EPS, _HI)) * self.mean / k
        if self.maximum is not None:
            x = np.minimum(x, self.maximum)
        return x.tolist()

    def _raw_cdf(self, x: float) -> float:
        k = self.shape
        return float(special.gammainc(k, x * k / self.mean))

    def expected(self) -> float:
        """Return the mean."""
        return self.mean


class Weibull(_Dist):
    """Weibull distribution; shape < 1 gives many early exits and a long tail."""

    distribution: Literal["weibull"] = Field(description="Family name: weibull.")
    shape: float = Field(
        ge=0.1,
        le=20,
        description="Shape k (0.1 to 20: a smaller shape makes the extreme quantiles overflow); "
        "below 1 the hazard falls with time.",
    )
    scale: float = Field(
        gt=0, le=MAX_VALUE, description="Scale λ: the value 63.2% of draws fall below."
    )

    def _raw_ppf(self, u: float) -> float:
        return self.scale * (-math.log1p(-u)) ** (1.0 / self.shape)

    def _raw_cdf(self, x: float) -> float:
        return -math.expm1(-((x / self.scale) ** self.shape))

    def expected(self) -> float:
        """Return the mean."""
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)


class LogNormal(_Dist):
    """Log-normal distribution given by its median and the SD of the log (sigma)."""

    distribution: Literal["lognormal"] = Field(description="Family name: lognormal.")
    median: float = Field(gt=0, le=MAX_VALUE, description="Median.")
    sigma: float = Field(gt=0, le=5, description="Standard deviation of the natural log.")

    def _raw_ppf(self, u: float) -> float:
        return self.median * math.exp(self.sigma * _STD_NORMAL.inv_cdf(u))

    def _raw_cdf(self, x: float) -> float:
        # log(x) - log(median), not log(x / median): the ratio underflows to 0 for tiny x.
        return _STD_NORMAL.cdf((math.log(x) - math.log(self.median)) / self.sigma)

    def expected(self) -> float:
        """Return the mean."""
        return self.median * math.exp(0.5 * self.sigma * self.sigma)


class Empirical(_Dist):
    """Piecewise-linear quantile function through given (probability, value) points.

    ``probabilities`` must start at 0 and end at 1 and increase; ``values`` must
    not decrease. Calibration from SSDA903 data writes this form.
    """

    distribution: Literal["empirical"] = Field(description="Family name: empirical.")
    probabilities: tuple[float, ...] = Field(
        min_length=2, description="Cumulative probabilities: 0 first, 1 last, increasing."
    )
    values: tuple[float, ...] = Field(
        min_length=2,
        description="Quantiles at those probabilities: >= 0, not decreasing, at most 1e7.",
    )

    @model_validator(mode="after")
    def _check(self) -> Empirical:
        p, v = self.probabilities, self.values
        if len(p) != len(v):
            raise ValueError("probabilities and values must have the same length")
        if p[0] != 0.0 or p[-1] != 1.0:
            raise ValueError("probabilities must start at 0 and end at 1")
        if any(b <= a for a, b in pairwise(p)):
            raise ValueError("probabilities must increase strictly")
        if any(not 0 <= x <= MAX_VALUE for x in v):
            raise ValueError(f"values must lie in [0, {MAX_VALUE:g}]")
        if any(b < a for a, b in pairwise(v)):
            raise ValueError("values must not decrease")
        if v[0] < 0:
            raise ValueError("values must be >= 0")
        return self

    def _raw_ppf(self, u: float) -> float:
        p, v = self.probabilities, self.values
        i = min(bisect_right(p, u), len(p) - 1)
        p0, p1, v0, v1 = p[i - 1], p[i], v[i - 1], v[i]
        return v0 + (v1 - v0) * (u - p0) / (p1 - p0)

    def _raw_cdf(self, x: float) -> float:
        p, v = self.probabilities, self.values
        if x >= v[-1]:
            return 1.0
        i = bisect_right(v, x)
        if i == 0:
            return 0.0
        v0, v1, p0, p1 = v[i - 1], v[i], p[i - 1], p[i]
        if v1 == v0:
            return p1
        return p0 + (p1 - p0) * (x - v0) / (v1 - v0)

    def expected(self) -> float:
        """Return the mean (trapezoid rule over the quantile function)."""
        p, v = self.probabilities, self.values
        return sum((p[i] - p[i - 1]) * (v[i] + v[i - 1]) / 2 for i in range(1, len(p)))


Distribution = Annotated[
    Fixed | Exponential | Gamma | Weibull | LogNormal | Empirical,
    Field(discriminator="distribution"),
]


# ------------------------------------------- families for uncertain parameters
#
# A parameter (a referral rate, a number of places, a share) may take any
# real value, so these families are not limited to durations and costs and
# are not offered where a duration or cost is asked for.


class _Real(_Dist):
    def cdf(self, x: float) -> float:
        """Share of draws at or below ``x``."""
        return self._raw_cdf(x)


class Uniform(_Real):
    """Every value between ``low`` and ``high`` equally likely."""

    distribution: Literal["uniform"] = Field(description="Family name: uniform.")
    low: float = Field(description="Lower bound.")
    high: float = Field(description="Upper bound.")

    def _raw_ppf(self, u: float) -> float:
        return self.low + u * (self.high - self.low)

    def _raw_cdf(self, x: float) -> float:
        if self.high == self.low:
            return 1.0 if x >= self.low else 0.0
        return min(max((x - self.low) / (self.high - self.low), 0.0), 1.0)

    def expected(self) -> float:
        """Return the midpoint."""
        return (self.low + self.high) / 2


class Triangular(_Real):
    """Triangular distribution from ``low`` to ``high`` with its peak at ``mode``."""

    distribution: Literal["triangular"] = Field(description="Family name: triangular.")
    low: float = Field(description="Lower bound.")
    mode: float = Field(description="Most likely value.")
    high: float = Field(description="Upper bound.")

    def _raw_ppf(self, u: float) -> float:
        a, c, b = self.low, self.mode, self.high
        if b == a:
            return a
        if u < (c - a) / (b - a):
            return a + math.sqrt(u * (b - a) * (c - a))
        return b - math.sqrt((1.0 - u) * (b - a) * (b - c))

    def _raw_cdf(self, x: float) -> float:
        a, c, b = self.low, self.mode, self.high
        if x <= a:
            return 0.0
        if x >= b:
            return 1.0
        if x <= c:
            return (x - a) ** 2 / ((b - a) * (c - a))
        return 1.0 - (b - x) ** 2 / ((b - a) * (b - c))

    def expected(self) -> float:
        """Return the mean."""
        return (self.low + self.mode + self.high) / 3


class Normal(_Real):
    """Normal distribution, optionally clipped to ``low`` and ``high``."""

    distribution: Literal["normal"] = Field(description="Family name: normal.")
    mean: float = Field(description="Mean (before clipping).")
    sd: float = Field(gt=0, description="Standard deviation (before clipping).")
    low: float | None = Field(default=None, description="Draws below are set to this.")
    high: float | None = Field(default=None, description="Draws above are set to this.")

    def _raw_ppf(self, u: float) -> float:
        x = self.mean + self.sd * _STD_NORMAL.inv_cdf(u)
        if self.low is not None:
            x = max(x, self.low)
        if self.high is not None:
            x = min(x, self.high)
        return x

    def _raw_cdf(self, x: float) -> float:
        if self.low is not None and x < self.low:
            return 0.0
        if self.high is not None and x >= self.high:
            return 1.0
        return _STD_NORMAL.cdf((x - self.mean) / self.sd)

    def expected(self) -> float:
        """Return the mean before clipping."""
        return self.mean


class Choice(_Real):
    """One of ``values``, each equally likely."""

    distribution: Literal["choice"] = Field(description="Family name: choice.")
    values: tuple[float, ...] = Field(min_length=1, description="The equally likely values.")

    def _raw_ppf(self, u: float) -> float:
        v = self.values
        return v[min(int(u * len(v)), len(v) - 1)]

    def _raw_cdf(self, x: float) -> float:
        return sum(1 for v in self.values if v <= x) / len(self.values)

    def expected(self) -> float:
        """Return the mean of the values."""
        return sum(self.values) / len(self.values)


#: Families an uncertain parameter can be drawn from.
ParameterDistribution = Annotated[
    Uniform | Triangular | Normal | LogNormal | Choice,
    Field(discriminator="distribution"),
]
