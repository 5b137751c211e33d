"""The page's levers as pure functions: form state → overrides → Config → scenario TOML.

A lever is one dated config value (a :class:`~sim.config.Schedule`) that a
planner may change: in-house capacity of a placement type with finite places,
the front-door thresholds, edge-of-care places, social-work FTE and weekly
unit costs. The form shows, for each, the value at the start of the run and
one optional step ("from DATE to VALUE"). Nothing here imports Shiny, so the
form logic is tested without a browser; the config layer
(:func:`sim.config.with_overrides`, :func:`sim.config.load_config`) does all
the validation, and its :class:`~sim.errors.ConfigError` messages are what the
page shows.

>>> from sim.config import load_config
>>> cfg = load_config("configs/worcestershire-2016.toml")
>>> levers = levers_of(cfg)
>>> form = baseline_form(levers)
>>> form["placement_types.foster_in_house.capacity"] = LeverValue(230, "2017-04-01", 260)
>>> overrides_from_form(cfg, levers, form)
{'placement_types.foster_in_house.capacity': {'2016-04-01': 230, '2017-04-01': 260}}
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import KeyType, SingleKey

from sim.config import Config, Schedule, load_config, with_overrides
from sim.errors import CaresimError, ConfigError

__all__ = [
    "GROUPS",
    "Lever",
    "LeverValue",
    "baseline_form",
    "changed_keys",
    "lever_errors",
    "levers_of",
    "overrides_from_form",
    "run_overrides",
    "save_scenario",
    "scenario_configs",
    "scenario_toml",
    "slug",
]

#: Lever groups, in the order the page shows them.
GROUPS: tuple[str, ...] = (
    "In-house capacity",
    "Thresholds",
    "Edge of care",
    "Social workers",
    "Weekly unit costs",
)

_CONSTANT_DATE = dt.date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class Lever:
    """One config value the page lets a planner change, with its baseline.

    Attributes
    ----------
    key
        The dotted config key (``placement_types.foster_in_house.capacity``).
    group
        One of :data:`GROUPS`.
    label, unit
        What the form calls it and its unit in words.
    now
        The baseline value on the run's start date.
    step_date, step_value
        The baseline's first change after the start date, if any.
    more_steps
        Further baseline changes the form cannot show (editing replaces them).
    baseline_text
        The whole baseline schedule in words.
    increment
        The form's step for the number fields (1 for counts, 0.01 for percentiles).

    """

    key: str
    group: str
    label: str
    unit: str
    now: float
    step_date: str | None
    step_value: float | None
    more_steps: int
    baseline_text: str
    increment: float = 1.0

    @property
    def input_id(self) -> str:
        """The form's id stem for this lever (dots become double underscores)."""
        return "lv_" + self.key.replace(".", "__")


@dataclass(frozen=True, slots=True)
class LeverValue:
    """What the form holds for one lever: the value now and an optional step.

    ``None`` is an empty number field; an empty ``step_date`` means no step.
    """

    now: float | None
    step_date: str | None = None
    step_value: float | None = None


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"


def _lever(
    config: Config, key: str, group: str, label: str, unit: str, sched: Schedule, increment: float
) -> Lever:
    start = config.run.start_date
    later = sched.changes_after(start)
    first = later[0] if later else None
    return Lever(
        key=key,
        group=group,
        label=label,
        unit=unit,
        now=sched.value_at(start),
        step_date=first[0].isoformat() if first else None,
        step_value=first[1] if first else None,
        more_steps=max(len(later) - 1, 0),
        baseline_text=sched.describe(_fmt, f" {unit}"),
        increment=increment,
    )


def _label(name: str) -> str:
    return name.replace("_", " ")


def levers_of(config: Config) -> tuple[Lever, ...]:
    """The levers of ``config``, grouped as :data:`GROUPS` and in config order within a group.

    Capacity is offered for every placement type with finite places (an
    omitted capacity means unlimited and has no lever); weekly costs for every
    type whose cost is a number or a dated schedule (a cost distribution has no lever).
    """
    out: list[Lever] = []
    for name, p in config.placement_types.items():
        if p.capacity is not None:
            out.append(
                _lever(
                    config,
                    f"placement_types.{name}.capacity",
                    GROUPS[0],
                    _label(name),
                    "places",
                    p.capacity,
                    1,
                )
            )
    fd = config.front_door
    for field, label in (
        ("early_help_above_percentile", "early help above percentile"),
        ("assessment_above_percentile", "assessment above percentile"),
    ):
        out.append(
            _lever(
                config,
                f"front_door.{field}",
                GROUPS[1],
                label,
                "percentile of referrals (0–1)",
                getattr(fd, field),
                0.01,
            )
        )
    out.append(
        _lever(
            config,
            "edge_of_care.capacity",
            GROUPS[2],
            "edge-of-care places",
            "families at once",
            config.edge_of_care.capacity,
            1,
        )
    )
    out.append(
        _lever(
            config,
            "workforce.fte",
            GROUPS[3],
            "case-holding social workers",
            "FTE",
            config.workforce.fte,
            1,
        )
    )
    for name, p in config.placement_types.items():
        if isinstance(p.weekly_cost_gbp, Schedule):
            out.append(
                _lever(
                    config,
                    f"placement_types.{name}.weekly_cost_gbp",
                    GROUPS[4],
                    _label(name),
                    "£ a week per child",
                    p.weekly_cost_gbp,
                    10,
                )
            )
    return tuple(out)


def baseline_form(levers: tuple[Lever, ...]) -> dict[str, LeverValue]:
    """The form as it first shows: every lever at its baseline, by key."""
    return {lv.key: LeverValue(lv.now, lv.step_date, lv.step_value) for lv in levers}


def _number(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(str(v).replace(",", "").strip())
    except ValueError:
        return None


def _normal(value: LeverValue) -> tuple[float | None, str | None, float | None]:
    date = (value.step_date or "").strip() or None
    return _number(value.now), date, _number(value.step_value) if date else None


def _toml_number(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def changed_keys(levers: tuple[Lever, ...], form: Mapping[str, LeverValue]) -> list[str]:
    """Keys whose form value differs from the baseline (empty fields count as changed)."""
    base = baseline_form(levers)
    out = []
    for lv in levers:
        if lv.key in form and _normal(form[lv.key]) != _normal(base[lv.key]):
            out.append(lv.key)
    return out


def overrides_from_form(
    config: Config, levers: tuple[Lever, ...], form: Mapping[str, LeverValue]
) -> dict[str, Any]:
    """Dotted-key overrides for the levers the form changed, as TOML values.

    A lever left as the baseline gives nothing (so a saved scenario holds only
    what changed). A changed lever becomes a number, or with a step a dated
    table from the run's start date: ``{"2016-04-01": 230, "2017-04-01": 260}``.
    Whether the values are valid is for the config layer to say
    (:func:`scenario_configs`); only an empty field is refused here.

    Raises
    ------
    ConfigError
        Naming the key, when a number field of a changed lever is empty.

    """
    out: dict[str, Any] = {}
    by_key = {lv.key: lv for lv in levers}
    start = config.run.start_date.isoformat()
    for key in changed_keys(levers, form):
        lv = by_key[key]
        now, date, step = _normal(form[key])
        if now is None:
            raise ConfigError(f"{key}: enter a number ({lv.unit})", key=key)
        if date is None:
            out[key] = _toml_number(now)
            continue
        if step is None:
            raise ConfigError(
                f"{key}: enter the value from {date} ({lv.unit}), or clear the date", key=key
            )
        out[key] = {start: _toml_number(now), date: _toml_number(step)}
    return out


def run_overrides(config: Config, *, years: float | None) -> dict[str, Any]:
    """Overrides of the run settings that apply to baseline and scenario alike (``run.years``)."""
    if years is None or float(years) == float(config.run.years):
        return {}
    return {"run.years": _toml_number(float(years))}


def scenario_configs(
    config: Config, run: Mapping[str, Any], levers: Mapping[str, Any]
) -> tuple[Config, Config | None]:
    """The baseline (with the run settings) and the scenario (with the levers too, or None).

    Both go through :func:`sim.config.with_overrides`, so an invalid value
    raises the config layer's :class:`~sim.errors.ConfigError`.
    """
    base = with_overrides(config, dict(run)) if run else config
    if not levers:
        return base, None
    return base, with_overrides(config, {**run, **levers})


def lever_errors(
    levers: tuple[Lever, ...], changed: list[str], error: CaresimError
) -> dict[str, str]:
    """Which levers an error belongs beside: ``{input_id: message}``.

    The error's key (:attr:`ConfigError.key`) picks the changed levers at or
    under it (``front_door`` for a rule across both thresholds); a message
    that names no key goes beside no lever (the page shows it above the form).
    """
    key = getattr(error, "key", None)
    if not key:
        return {}
    text = str(error)
    # The config layer's lines about this key, without the "overrides ...: invalid config:" head.
    lines = [ln.strip() for ln in text.splitlines()[1:] if ln.strip().startswith(key)]
    short = "\n".join(lines) or text
    out = {}
    for lv in levers:
        if lv.key in changed and (lv.key == key or lv.key.startswith(key + ".")):
            out[lv.input_id] = short
    if not out:
        for lv in levers:
            if lv.key in changed and key.startswith(lv.key):
                out[lv.input_id] = short
    return out


def _nest(overrides: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in overrides.items():
        *path, last = key.split(".")
        cur = tree
        for part in path:
            cur = cur.setdefault(part, {})
        cur[last] = value
    return tree


def _add(container: Any, tree: Mapping[str, Any]) -> None:
    # Values first, then sub-tables, as TOML needs.
    for name, value in tree.items():
        if isinstance(value, Mapping) and all(_is_date(k) for k in value):
            inline = tomlkit.inline_table()
            for day, v in value.items():
                inline.append(SingleKey(day, KeyType.Basic), v)  # "2016-04-01", as configs write
            container[name] = inline
        elif not isinstance(value, Mapping):
            container[name] = value
    for name, value in tree.items():
        if isinstance(value, Mapping) and not all(_is_date(k) for k in value):
            has_values = any(
                not isinstance(v, Mapping) or all(_is_date(k) for k in v) for v in value.values()
            )
            table = tomlkit.table(is_super_table=not has_values)
            _add(table, value)
            container[name] = table


def _is_date(key: Any) -> bool:
    return isinstance(key, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", key) is not None


def scenario_toml(overrides: Mapping[str, Any], *, extends: str, title: str = "") -> str:
    """A scenario file that ``extends`` the baseline and holds only ``overrides``.

    >>> print(scenario_toml({"workforce.fte": {"2016-04-01": 205, "2017-04-01": 235}},
    ...                     extends="../../configs/worcestershire-2016.toml", title="More staff"))
    # More staff
    # Written by the caresim app: the levers changed from the baseline.
    extends = "../../configs/worcestershire-2016.toml"
    <BLANKLINE>
    [workforce]
    fte = {"2016-04-01" = 205, "2017-04-01" = 235}
    <BLANKLINE>
    """
    doc = tomlkit.document()
    if title:
        doc.add(tomlkit.comment(title))
    doc.add(tomlkit.comment("Written by the caresim app: the levers changed from the baseline."))
    doc["extends"] = extends
    doc.add(tomlkit.nl())
    _add(doc, _nest(overrides))
    text = tomlkit.dumps(doc)
    tomllib.loads(text)  # our own output must be TOML
    return text


def slug(name: str) -> str:
    """A file name stem from a scenario name: ``"More carers!"`` → ``more-carers``."""
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s[:60] or "scenario"


def save_scenario(
    overrides: Mapping[str, Any],
    *,
    baseline: Path,
    folder: Path,
    name: str,
) -> Path:
    """Write ``folder/<slug>.toml`` extending ``baseline``, and check it loads as a config.

    The check is :func:`sim.config.load_config`, what ``caresim validate``
    does; a file that fails it is removed and the error raised.
    """
    if not overrides:
        raise CaresimError("nothing to save: no lever differs from the baseline")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug(name)}.toml"
    extends = Path(os.path.relpath(baseline.resolve(), folder.resolve())).as_posix()
    path.write_text(scenario_toml(overrides, extends=extends, title=name.strip()), "utf-8")
    try:
        load_config(path)
    except CaresimError:
        path.unlink(missing_ok=True)
        raise
    return path
