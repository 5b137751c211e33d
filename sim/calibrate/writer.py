"""Calibrate a config from SSDA903 files and write it as a commented TOML file.

:func:`calibrate` reads and cleans the files, estimates everything the data
can give, maps the estimates onto a template config, sets the referral rate
so that the model reproduces the observed entries to care (by running it),
and validates the result. :func:`write_config` writes the config, with
tomlkit, with a comment on every key: the estimate, its interval and n, or
that the value is an input copied from the template.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomlkit
from tomlkit.items import AoT, Comment, Item, KeyType, SingleKey, Table, Trivia
from tomlkit.toml_document import TOMLDocument

from sim.calibrate.cleaning import CleanData, clean_episodes
from sim.calibrate.errors import DataError
from sim.calibrate.estimators import Estimates, estimate
from sim.calibrate.loader import Loaded903, load_903, load_cin, truncate
from sim.calibrate.mapping import INPUT_NOTE, KeyPath, Mapped, front_door_at, map_estimates
from sim.calibrate.model_entries import ModelEntries, Runner, model_entries_per_year
from sim.config import config_from_dict, load_config, raw_config, with_overrides
from sim.config.schedule import is_schedule
from sim.config.schema import Config
from sim.errors import CaresimError

__all__ = [
    "Calibration",
    "CalibrationReport",
    "calibrate",
    "calibrate_loaded",
    "write_config",
]

_TEMPLATE_NAME = "worcestershire-2016.toml"


def _default_template() -> Path:
    """The baseline shipped with caresim, wherever the command runs.

    An installed wheel holds it as package data (``sim/calibrate/templates/``,
    see ``pyproject.toml``); a source checkout or editable install reads
    ``configs/`` beside the package. Never relative to the working directory.
    """
    packaged = Path(str(resources.files("sim.calibrate") / "templates" / _TEMPLATE_NAME))
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "configs" / _TEMPLATE_NAME


#: The template used when none is given (see :func:`_default_template`).
DEFAULT_TEMPLATE = _default_template()

#: Keys that describe structure (labels, links), not values to fill in.
_STRUCTURAL = frozenset(
    {
        "category",
        "provider",
        "place_codes",
        "rec_codes",
        "pre_exit_placement",
        "min_age_years",
        "max_age_years",
        "fallback",
        "order",
    }
)


@dataclass(frozen=True)
class CalibrationReport:
    """What the calibration did, for people and for :func:`sim.calibrate.write_report`.

    Attributes
    ----------
    estimates
        Every estimate with its uncertainty (aggregates only).
    mapped
        The config dict with its comments, notes and the keys set from data.
    template
        Path of the template config.
    files
        Input files (paths as given) and what was read from each.
    observed_entries_per_year
        The entries per year the config was scaled to reproduce.
    model_entries
        Entries per year in model runs: at the template's referral rate, and
        at the calibrated rate (None when the model was not run).
    referral_factor
        Calibrated / template referral rate.

    """

    estimates: Estimates
    mapped: Mapped
    template: Path
    files: Any
    observed_entries_per_year: float
    model_entries: tuple[ModelEntries | None, ModelEntries | None] = (None, None)
    referral_factor: float = 1.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """A few lines for people: what was estimated and how well."""
        e = self.estimates
        lines = [
            f"Calibrated as at {e.as_at.date()} from data {e.window_start.date()} to "
            f"{e.data_end.date()}",
            f"  entries to care: {self.observed_entries_per_year:.1f} a year"
            f" (trend {e.trend.growth_per_year:+.1%} a year, "
            f"{'significant' if e.trend.significant else 'not significant'})",
            f"  children looked after on {e.as_at.date()}: {len(e.stock)}",
            f"  template: {self.template}",
            f"  referral rate: x{self.referral_factor:.3f} the template's",
            "  exit routes: " + ", ".join(f"{r} {f.family}" for r, f in e.exits.fits.items()),
            f"  keys set from data: {len(self.mapped.estimated)}; cleaning rules: "
            f"{len(e.cleaning.rules)}; rows skipped: {len(e.cleaning.skipped_rows)}",
        ]
        if "rows_dropped" in self.files:
            lines += [
                f"  read {f.file}: {f.rows_read} rows, {f.rows_kept} kept, {f.rows_dropped} dropped"
                for f in self.files.itertuples()
            ]
        lines += [f"  note: {n}" for n in (*self.mapped.notes, *self.notes)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Calibration:
    """A validated calibrated config and its report (unpacks as ``config, report``)."""

    config: Config
    report: CalibrationReport

    def __iter__(self) -> Iterator[Any]:
        yield self.config
        yield self.report


def _as_paths(items: Sequence[str | Path] | str | Path | None) -> list[Path]:
    if items is None:
        return []
    if isinstance(items, str | Path):
        return [Path(items)]
    return [Path(p) for p in items]


def calibrate(
    episodes: Sequence[str | Path] | str | Path,
    header: Sequence[str | Path] | str | Path,
    *,
    cin: Sequence[str | Path] | str | Path | None = None,
    as_at: dt.date | str | None = None,
    template: str | Path = DEFAULT_TEMPLATE,
    name: str | None = None,
    keep_short_breaks: bool = False,
    n_bootstrap: int = 50,
    seed: int = 0,
    scale_referrals: bool = True,
    scale_replications: int = 2,
    scale_years: float = 2.5,
    runner: Runner | None = None,
    max_bad_row_share: float = 0.01,
    uncertainty: bool = False,
) -> Calibration:
    """Calibrate a config from SSDA903 Episodes and Header files.

    Parameters
    ----------
    episodes, header
        SSDA903 CSV files (one or several collection years).
    cin
        Optional CIN-census-like referrals CSV(s).
    as_at
        Date the calibrated config starts from (default: the end of the data).
        Data after it are ignored, as if they did not exist yet.
    template
        Config whose structure and non-estimable values (costs, capacities,
        workforce, thresholds) are kept.
    name
        ``run.name`` of the result.
    keep_short_breaks
        Keep short-break episodes (LS V3/V4).
    n_bootstrap, seed
        Bootstrap replicates for the exit model's intervals, and their seed.
    scale_referrals
        Run the model to set the referral rate (needs :func:`sim.run`).
    scale_replications, scale_years
        Size of those runs.
    runner
        Replaces :func:`sim.run` (tests).
    max_bad_row_share
        Largest share of bad rows skipped per file (see :func:`sim.calibrate.load_903`).
    uncertainty
        Write the estimation uncertainty of the referral rate, route durations
        and breakdown rates as ``parameter_uncertainty`` (drawn per replication).

    Returns
    -------
    Calibration
        ``.config`` (validated) and ``.report``.

    Raises
    ------
    DataError
        A file is unusable (names the file, row and problem).
    ConfigError
        The template is invalid, or the calibrated config does not validate.

    """
    loaded = load_903(_as_paths(episodes), _as_paths(header), max_bad_row_share=max_bad_row_share)
    cin_data = load_cin(_as_paths(cin), max_bad_row_share=max_bad_row_share) if cin else None
    return calibrate_loaded(
        loaded,
        cin=cin_data,
        as_at=as_at,
        template=template,
        name=name,
        keep_short_breaks=keep_short_breaks,
        n_bootstrap=n_bootstrap,
        seed=seed,
        scale_referrals=scale_referrals,
        scale_replications=scale_replications,
        scale_years=scale_years,
        runner=runner,
        uncertainty=uncertainty,
    )


def _parse_date(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CaresimError(f"as-at date {value!r} is not an ISO date (YYYY-MM-DD)") from None


def calibrate_loaded(
    loaded: Loaded903,
    *,
    cin: Any = None,
    as_at: dt.date | str | None = None,
    template: str | Path = DEFAULT_TEMPLATE,
    name: str | None = None,
    keep_short_breaks: bool = False,
    n_bootstrap: int = 50,
    seed: int = 0,
    scale_referrals: bool = True,
    scale_replications: int = 2,
    scale_years: float = 2.5,
    runner: Runner | None = None,
    uncertainty: bool = False,
) -> Calibration:
    """:func:`calibrate` on data already loaded (the backtest truncates them first)."""
    as_at_d = _parse_date(as_at)
    if as_at_d is not None:
        if pd.Timestamp(as_at_d) < loaded.window_start:
            raise DataError(
                f"as-at date {as_at_d} is before the data start ({loaded.window_start.date()})"
            )
        if pd.Timestamp(as_at_d) < loaded.data_end:
            loaded = truncate(loaded, as_at_d)
        elif pd.Timestamp(as_at_d) > loaded.data_end:
            raise DataError(
                f"as-at date {as_at_d} is after the end of the data ({loaded.data_end.date()}); "
                "calibrate to a date the data cover"
            )
    clean: CleanData = clean_episodes(loaded, keep_short_breaks=keep_short_breaks)
    template_path = Path(template)
    template_cfg = load_config(template_path)
    raw = raw_config(template_path)
    raw.pop("budgets", None)  # the template authority's budgets are not the calibrated one's
    entry_edges = [float(template_cfg.placement_policy.entry[0].min_age_years)] + [
        float(b.max_age_years) for b in template_cfg.placement_policy.entry
    ]
    exit_edges = [float(template_cfg.exits.age_bands[0].min_age_years)] + [
        float(b.max_age_years) for b in template_cfg.exits.age_bands
    ]
    try:
        est = estimate(
            clean,
            as_at_d,
            cin=cin,
            entry_edges_years=entry_edges,
            exit_edges_years=exit_edges,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
    except ValueError as exc:
        raise DataError(f"cannot calibrate: {exc}") from None
    observed = est.entries_per_year()
    files = loaded.files
    years = sorted(int(y) for y in files.loc[files["kind"] == "episodes", "year_ending"])
    source = (
        f"Collection years ending 31 March {years[0]}-{years[-1]}; "
        f"{len(files)} files. Keys marked [input] are copied from {template_path.name}."
    )
    notes: list[str] = []
    factor = 1.0
    note = ""
    measured: tuple[ModelEntries | None, ModelEntries | None] = (None, None)
    # Measured without parameter uncertainty: it only adds noise to the measurement.
    mapped = map_estimates(raw, template_cfg, est, name=name, source_note=source)
    candidate = _validate(mapped.data, "calibrated config")
    if scale_referrals:
        factor, measured, note = _scale_referrals(
            candidate,
            observed,
            est,
            replications=scale_replications,
            years=scale_years,
            seed=seed,
            runner=runner,
        )
        if measured[0] is None or measured[0].per_year <= 0:
            notes.append(
                "the model made no entries to care at the template's referral rate; "
                "referral rate not rescaled"
            )
            factor, note = 1.0, ""
    else:
        notes.append("referral rate not rescaled (model not run): it is the template's")
    if factor != 1.0 or uncertainty:
        mapped = map_estimates(
            raw,
            template_cfg,
            est,
            referral_factor=factor,
            referral_note=note,
            name=name,
            source_note=source,
            uncertainty=uncertainty,
            referral_rel_se=_referral_rel_se(est, measured[1]),
        )
        candidate = _validate(mapped.data, "calibrated config")
    report = CalibrationReport(
        estimates=est,
        mapped=mapped,
        template=template_path,
        files=files,
        observed_entries_per_year=observed,
        model_entries=measured,
        referral_factor=factor,
        notes=tuple(notes),
    )
    return Calibration(candidate, report)


def _at_factor(candidate: Config, factor: float) -> Config:
    """``candidate`` with its referral rate, and the front-door work under way, times ``factor``."""
    return with_overrides(
        candidate,
        {
            "referrals.rate_per_year": candidate.referrals.rate_per_year.scaled(
                factor
            ).to_toml_value(),
            **front_door_at(candidate, factor),
        },
    )


def _scale_referrals(
    candidate: Config,
    observed: float,
    est: Estimates,
    *,
    replications: int,
    years: float,
    seed: int,
    runner: Runner | None,
    max_iter: int = 3,
    rel_tol: float = 0.03,
) -> tuple[float, tuple[ModelEntries | None, ModelEntries | None], str]:
    """Referral-rate factor that makes the model's entries match ``observed``.

    Entries are proportional to referrals (the thresholds are percentiles of
    the referred population; the front-door work under way at the start is
    scaled with the rate), so every measuring run, at whatever factor,
    estimates the same yield: entries per year per unit of factor. Each
    replication's entries / factor is one draw of it; the factor is observed /
    their mean over all runs so far. A few short runs each have a standard
    error of several percent, so the runs are pooled rather than the factor
    set from the last one alone. More runs are made at the current factor
    (up to ``max_iter``) until one agrees with ``observed`` within ``rel_tol``.

    Returns
    -------
    factor, (at the template's rate, pooled estimate at ``factor``), note

    """
    base = model_entries_per_year(
        candidate, replications=replications, years=years, seed=seed + 1, runner=runner
    )
    if base.per_year <= 0:
        return 1.0, (None, None), ""
    draws = list(base.per_replication or (base.per_year,))
    factor = observed / base.per_year
    months = base.months
    for k in range(max_iter):
        last = model_entries_per_year(
            _at_factor(candidate, factor),
            replications=replications,
            years=years,
            seed=seed + 2 + k,
            runner=runner,
        )
        if last.per_year <= 0:
            break
        draws += [v / factor for v in (last.per_replication or (last.per_year,))]
        months += last.months
        close = abs(last.per_year / observed - 1) <= rel_tol
        factor = observed / float(np.mean(draws))
        if close:
            break
    n = len(draws)
    yield_ = float(np.mean(draws))
    se = float(np.std(draws, ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    pooled = ModelEntries(yield_ * factor, se * factor, n, months)
    note = (
        f"template rate x {factor:.3f}: observed {observed:.1f} entries/yr ({_ci_text(est)}); "
        f"the model gave {base.per_year:.1f}/yr at the template's rate; pooled over "
        f"{n} runs of {years:g} years (first 6 months left out, each run's entries divided "
        f"by its rate factor) it gives {pooled.per_year:.1f}/yr (SE {pooled.se:.1f}) at this rate"
    )
    if est.cin is not None:
        note += f"; CIN data: {est.cin.referrals_per_year['value']:.0f} referrals/yr"
    return factor, (base, pooled), note


def _referral_rel_se(est: Estimates, measured: ModelEntries | None) -> float:
    """Relative SE of the referral rate: the observed entries' and the model measurement's."""
    row = est.entry_rates[est.entry_rates["band"] == "all"].iloc[0]
    rel = float(row["se"] / row["rate_per_year"]) if row["rate_per_year"] > 0 else 0.0
    rel *= math.sqrt(max(est.trend.dispersion, 1.0))
    if measured is not None and measured.per_year > 0 and math.isfinite(measured.se):
        rel = math.hypot(rel, measured.se / measured.per_year)
    return rel


def _ci_text(est: Estimates) -> str:
    row = est.entry_rates[est.entry_rates["band"] == "all"].iloc[0]
    if est.trend.significant:
        return f"fitted to the last year, trend {est.trend.growth_per_year:+.1%}/yr"
    return f"95% CI {row['lower']:.1f}-{row['upper']:.1f}, n={int(row['entries'])}"


def _validate(data: Mapping[str, Any], source: str) -> Config:
    return config_from_dict(data, source=source)


def _input_comments(data: Mapping[str, Any], comments: dict[KeyPath, str]) -> dict[KeyPath, str]:
    """Mark every key not set from data as an input copied from the template."""
    out = dict(comments)

    def walk(path: KeyPath, node: Any) -> None:
        if isinstance(node, Mapping) and not _inline(path, node):
            for k, v in node.items():
                walk((*path, k), v)
            return
        if isinstance(node, list) and node and all(isinstance(x, Mapping) for x in node):
            for i in range(len(node)):
                if (*path, i) not in out:
                    out[(*path, i)] = INPUT_NOTE
            return
        if path in out or not path or path[-1] in _STRUCTURAL:
            return
        if any(path[:j] in out for j in range(1, len(path))):
            return
        out[path] = INPUT_NOTE

    walk((), data)
    return out


#: Keys whose tables are written on one line, like distributions and schedules.
_INLINE_KEYS = frozenset({"shares", "durations_days", "order"})
#: Longest line a comment is put at the end of; longer ones go on lines above.
_LINE_WIDTH = 96


def _inline(path: KeyPath, node: Mapping[str, Any]) -> bool:
    """Whether the table ``node`` at ``path`` is written on one line."""
    return (
        "distribution" in node or bool(path and path[-1] in _INLINE_KEYS) or is_schedule(node, path)
    )


def _comment_lines(text: str) -> list[Comment]:
    """``text`` as ``#`` lines of at most ~100 characters, each keeping its indent."""
    out = []
    for para in text.splitlines() or [""]:
        lead = para[: len(para) - len(para.lstrip())]
        line = ""
        for word in para.split():
            if line and len(lead) + len(line) + len(word) + 1 > _LINE_WIDTH:
                out.append(f"{lead}{line}")
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(f"{lead}{line}" if line else "")
    return [Comment(Trivia(comment_ws="", comment=f"# {t}" if t else "#")) for t in out]


def _toml_value(path: KeyPath, value: Any) -> Item:
    """``value`` as a tomlkit item; tables (distributions, schedules, shares) inline."""
    if isinstance(value, Mapping):
        table = tomlkit.inline_table()
        dated = is_schedule(value, path)
        for k, v in value.items():
            if v is not None:
                # Dates as keys are quoted, as in the shipped configs.
                key = SingleKey(k, KeyType.Basic) if dated else k
                table.append(key, _toml_value((*path, k), v))
        return table
    if isinstance(value, list | tuple):
        array = tomlkit.array()
        array.extend(_toml_value(path, v) for v in value)
        return array
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{'.'.join(map(str, path))} = {value!r} cannot be written to TOML")
        if value.is_integer() and abs(value) < 1e15:
            value = int(value)  # 230 reads better than 230.0, and loads the same
    return tomlkit.item(value)


_Parts = list[tuple[str, Any]]


def _split(path: KeyPath, data: Mapping[str, Any]) -> tuple[_Parts, _Parts, _Parts]:
    """A table's ``key = value`` lines, its tables and its arrays of tables (None left out)."""
    keys: _Parts = []
    tables: _Parts = []
    arrays: _Parts = []
    for k, v in data.items():
        if v is None:
            continue
        if isinstance(v, Mapping) and not _inline((*path, k), v):
            tables.append((k, v))
        elif isinstance(v, list | tuple) and v and all(isinstance(x, Mapping) for x in v):
            arrays.append((k, v))
        else:
            keys.append((k, v))
    return keys, tables, arrays


def _fill(
    container: TOMLDocument | Table,
    path: KeyPath,
    data: Mapping[str, Any],
    comments: Mapping[KeyPath, str],
    sections: Mapping[KeyPath, str],
) -> None:
    """Add ``data`` (the table at ``path``) to ``container``: keys, then tables, then arrays."""
    keys, tables, arrays = _split(path, data)
    for k, v in keys:
        item = _toml_value((*path, k), v)
        note = comments.get((*path, k))
        if note and len(k) + len(item.as_string()) + len(note) + 5 <= _LINE_WIDTH:
            item.comment(note)
            item.trivia.comment_ws = "  "
        elif note:
            for line in _comment_lines(note):
                container.add(line)
        container.add(k, item)
    for k, v in tables:
        here = (*path, k)
        sub_keys, sub_tables, sub_arrays = _split(here, v)
        # A table holding only tables needs no header of its own (no bare [placement_types]).
        bare = not sub_keys and bool(sub_tables or sub_arrays) and here not in comments
        table = tomlkit.table(is_super_table=bare)
        _heading(table, comments.get(here))
        _fill(table, here, v, comments, sections)
        _add_section(container, k, table, sections.get(here))
    for k, v in arrays:
        here = (*path, k)
        aot = tomlkit.aot()
        for i, entry in enumerate(v):
            table = tomlkit.table()
            _heading(table, comments.get((*here, i)))
            _fill(table, (*here, i), entry, comments, sections)
            aot.append(table)
        _add_section(container, k, aot, sections.get(here))


def _heading(table: Table, note: str | None) -> None:
    """Comment a table: on its header line if short, else as its first lines."""
    if note and len(note) <= 70:
        table.comment(note)
        table.trivia.comment_ws = "  "
    elif note:
        for line in _comment_lines(note):
            table.add(line)


def _add_section(
    container: TOMLDocument | Table, key: str, item: Table | AoT, note: str | None
) -> None:
    """Add a table or array of tables, with ``note`` on the lines above its header."""
    if not note:
        container.add(key, item)
        return
    container.add(tomlkit.nl())
    for line in _comment_lines(note):
        container.add(line)
    container.add(key, item)
    # tomlkit separates a header from the comment above it by a blank line; keep them together.
    first = item if isinstance(item, Table) else item[0]
    first.trivia.indent = ""


def render_config(
    data: Mapping[str, Any],
    comments: Mapping[KeyPath, str],
    *,
    header: str = "",
    sections: Mapping[KeyPath, str] | None = None,
) -> str:
    """``data`` as TOML text (written by tomlkit) with ``comments`` on their keys.

    Parameters
    ----------
    data
        The config as plain Python values (None values are left out).
    comments
        Comment for a key, by path, e.g. ``("referrals", "rate_per_year")``;
        for an array-of-tables entry, the path of the entry, e.g.
        ``("placement_policy", "entry", 0)``. Short ones end the key's line,
        longer ones go on the lines above it.
    header
        Comment block written first.
    sections
        Comment written above a table's header, by the table's path.

    """
    doc = tomlkit.document()
    if header:
        for line in _comment_lines(header):
            doc.add(line)
        doc.add(tomlkit.nl())
    _fill(doc, (), data, comments, sections or {})
    return tomlkit.dumps(doc)


def write_config(calibration: Calibration, path: str | Path) -> Path:
    """Write the calibrated config as commented TOML and check it loads back identically.

    Parameters
    ----------
    calibration
        Output of :func:`calibrate`.
    path
        The TOML file to write (folders are created).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    CaresimError
        If the written file does not load back to the same config.

    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rep = calibration.report
    est = rep.estimates
    mapped = rep.mapped
    header = "\n".join(
        [
            f"Calibrated config: SSDA903 data {est.window_start.date()} to {est.as_at.date()}.",
            "Written by `caresim calibrate`. Only aggregates are written here: counts, shares, "
            "rates, distributions and ranges; no child identifier, date of birth, postcode or URN.",
            "",
            "Each value says where it comes from:",
            "  [estimated] from the data, with its 95% interval (CI) and n",
            "  [derived] follows from the data or from the as-at date",
            f"  {INPUT_NOTE}",
            "      the data cannot give it (unit costs, capacities, workforce, front-door",
            f"      thresholds): copied from the template {rep.template.name}",
            "Units are in the key names: _days, _years, _gbp, _per_year.",
        ]
    )
    comments = _input_comments(mapped.data, mapped.comments)
    text = render_config(mapped.data, comments, header=header, sections=mapped.sections)
    out.write_text(text, encoding="utf-8")
    loaded = load_config(out)
    if loaded.model_dump() != calibration.config.model_dump():
        raise CaresimError(
            f"{out}: the written config does not load back identically (a writer bug)"
        )
    return out
