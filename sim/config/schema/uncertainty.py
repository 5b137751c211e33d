"""Parameter uncertainty: the distribution of a config value drawn once per replication."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from sim.config.distributions import ParameterDistribution
from sim.config.schema.base import (
    _Model,
)

_PARAMETER_DISTRIBUTION: TypeAdapter[ParameterDistribution] = TypeAdapter(ParameterDistribution)


class UncertainParameter(_Model):
    """Distribution of one uncertain parameter, drawn once per replication.

    The drawn value replaces the parameter's value for the whole replication,
    as ``--set KEY=VALUE`` would. Which fields are needed depends on
    ``distribution``: ``uniform`` (``low``, ``high``), ``triangular`` (``low``,
    ``mode``, ``high``), ``normal`` (``mean``, ``sd``; optionally clipped to
    ``low``/``high``), ``lognormal`` (``median``, ``sigma``) or ``choice``
    (``values``, equally likely).
    """

    distribution: Literal["uniform", "triangular", "normal", "lognormal", "choice"] = Field(
        description="Family of the distribution the value is drawn from."
    )
    low: float | None = Field(
        default=None, description="Lower bound (uniform, triangular; clip for normal)."
    )
    high: float | None = Field(
        default=None, description="Upper bound (uniform, triangular; clip for normal)."
    )
    mode: float | None = Field(default=None, description="Most likely value (triangular).")
    mean: float | None = Field(default=None, description="Mean (normal).")
    sd: float | None = Field(default=None, gt=0, description="Standard deviation (normal).")
    median: float | None = Field(default=None, gt=0, description="Median (lognormal).")
    sigma: float | None = Field(default=None, gt=0, description="SD of the log (lognormal).")
    values: tuple[float, ...] | None = Field(
        default=None, min_length=1, description="Equally likely values (choice)."
    )
    integer: bool = Field(
        default=False, description="Round the draw to the nearest whole number (e.g. places)."
    )

    @model_validator(mode="after")
    def _fields_for_family(self) -> UncertainParameter:
        needed = {
            "uniform": {"low", "high"},
            "triangular": {"low", "mode", "high"},
            "normal": {"mean", "sd"},
            "lognormal": {"median", "sigma"},
            "choice": {"values"},
        }[self.distribution]
        allowed = needed | ({"low", "high"} if self.distribution == "normal" else set())
        given = {
            k
            for k in ("low", "high", "mode", "mean", "sd", "median", "sigma", "values")
            if getattr(self, k) is not None
        }
        if missing := sorted(needed - given):
            raise ValueError(f"{self.distribution} needs {', '.join(missing)}")
        if extra := sorted(given - allowed):
            raise ValueError(f"{self.distribution} does not take {', '.join(extra)}")
        lo, hi = self.low, self.high
        if lo is not None and hi is not None and hi < lo:
            raise ValueError(f"high ({hi}) must be >= low ({lo})")
        mode = self.mode
        if mode is not None and lo is not None and hi is not None and not lo <= mode <= hi:
            raise ValueError(f"mode ({self.mode}) must lie between low ({lo}) and high ({hi})")
        try:
            self.as_distribution()
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise ValueError(f"{self.distribution}: {where}: {first['msg']}") from None
        return self

    def as_distribution(self) -> ParameterDistribution:
        """The family as a :mod:`sim.config.distributions` object, whose ``ppf`` draws it."""
        fields = {
            k: getattr(self, k)
            for k in ("low", "high", "mode", "mean", "sd", "median", "sigma", "values")
            if getattr(self, k) is not None
        }
        return _PARAMETER_DISTRIBUTION.validate_python(
            {"distribution": self.distribution, **fields}
        )


# ------------------------------------------------------ prices and budgets

#: Cost lines that carry their own inflation in ``[prices]``.
