"""Read TOML configs, resolve ``extends`` chains and overrides, and validate.

A scenario file names its base and only the keys it changes::

    extends = "../worcestershire-2016.toml"
    [placement_types.foster_in_house]
    capacity = { "2016-04-01" = 230, "2017-04-01" = 260 }

Tables merge key by key (deep merge); any other value, lists included,
replaces the base's. Paths in ``extends`` are relative to the file naming them.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.config.schedule import is_schedule
from sim.config.schema import Config
from sim.errors import ConfigError

__all__ = [
    "config_from_dict",
    "deep_merge",
    "load_config",
    "parse_override",
    "raw_config",
    "set_dotted",
    "with_overrides",
]


def deep_merge(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``change``; nested tables merge, other values replace.

    Both are config dicts (or parts of one from the top): the key paths tell,
    by the schema, which tables are schedules (see :func:`is_schedule`).
    """
    return _merge(base, change, ())


def _merge(
    base: Mapping[str, Any], change: Mapping[str, Any], path: tuple[str, ...]
) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in change.items():
        here = (*path, key)
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            # A schedule written as a table replaces, never merges, the base's; so
            # does a distribution of another family (its keys differ).
            if (
                is_schedule(value, here)
                or is_schedule(out[key], here)
                or _looks_like_year_table(value)
                or _looks_like_year_table(out[key])
                or value.get("distribution", out[key].get("distribution"))
                != out[key].get("distribution")
            ):
                out[key] = copy.deepcopy(dict(value))
            else:
                out[key] = _merge(out[key], value, here)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _looks_like_year_table(value: Mapping[str, Any]) -> bool:
    """A table keyed by financial years (``"2016-17"``): prices and budgets replace whole."""
    if not value:
        return False
    return all(isinstance(k, str) and len(k) == 7 and k[4] == "-" for k in value)


def _read_budgets_csv(path: Path, data: dict[str, Any]) -> None:
    """Merge the budgets CSV named by ``budgets.file`` (relative to ``path``) into ``data``."""
    import csv

    budgets = data.get("budgets")
    if not isinstance(budgets, dict) or not isinstance(budgets.get("file"), str):
        return
    csv_path = path.parent / budgets["file"]
    where = f"{path}: budgets.file = {budgets['file']!r}"
    try:
        with csv_path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise ConfigError(
            f"{where}: cannot read {csv_path} ({exc.strerror})", path=str(path), key="budgets.file"
        ) from None
    for i, row in enumerate(rows, start=2):
        try:
            line, year, amount = row["line"], row["financial_year"], row["budget_gbp"]
            value = float(amount)
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                f"{where}: {csv_path} line {i}: expected columns line, financial_year, "
                f"budget_gbp with a number, got {dict(row)}",
                path=str(path),
                key="budgets.file",
            ) from None
        key = f"{line.strip()}_gbp"
        table = budgets.setdefault(key, {})
        if not isinstance(table, dict):
            continue  # validation reports the bad key
        if year.strip() in table:
            raise ConfigError(
                f"{where}: {csv_path} line {i}: budgets.{key}.{year.strip()} is given twice "
                "(in the file and in the config, or twice in the file)",
                path=str(path),
                key=f"budgets.{key}.{year.strip()}",
            )
        table[year.strip()] = value


def _read_toml(path: Path) -> dict[str, Any]:
    """Read and parse one TOML file; every failure is a :class:`ConfigError` naming it."""
    try:
        if path.is_dir():
            raise ConfigError(f"{path}: is a folder, expected a TOML config file", path=str(path))
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read config file ({exc.strerror or exc})", path=str(path)
        ) from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark, as some editors write
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}, line {line}): expected a TOML file "
            "saved as UTF-8",
            path=str(path),
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", path=str(path)) from None
    except RecursionError:
        raise ConfigError(
            f"{path}: not valid TOML: tables or arrays nested too deeply", path=str(path)
        ) from None


def raw_config(path: str | Path) -> dict[str, Any]:
    """Read ``path`` and the chain of files it ``extends``, merged into one dict."""
    return _resolve(Path(path), ())


def _resolve(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot resolve the path ({exc})", path=str(path)) from None
    if real in chain:
        cycle = " -> ".join(str(p) for p in (*chain, real))
        raise ConfigError(
            f"{path}: 'extends' forms a cycle: {cycle}", path=str(path), key="extends"
        )
    data = _read_toml(path)
    _read_budgets_csv(path, data)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise ConfigError(
            f"{path}: extends = {parent!r}: expected the path of the base TOML file "
            "(relative to this file)",
            path=str(path),
            key="extends",
        )
    parent_path = path.parent / parent
    try:
        exists = parent_path.is_file()
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: extends = {_short(parent)}: not a usable file path ({exc})",
            path=str(path),
            key="extends",
        ) from None
    if not exists:
        what = "is a folder, not a file" if _is_dir(parent_path) else "no such file"
        raise ConfigError(
            f"{path}: extends = {_short(parent)}: {what} {_short(str(parent_path))}",
            path=str(path),
            key="extends",
        )
    return deep_merge(_resolve(parent_path, (*chain, real)), data)


def _short(text: str, limit: int = 120) -> str:
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _is_dir(p: Path) -> bool:
    try:
        return p.is_dir()
    except (OSError, ValueError):
        return False


def _format_loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            # Union members and discriminators show up as loc parts; skip the noise.
            text = str(item)
            if text.startswith(("function-", "tagged-union[")) or text in {
                "Schedule",
                "float",
                "int",
                "fixed",
                "exponential",
                "gamma",
                "weibull",
                "lognormal",
                "empirical",
            }:
                continue
            parts.append(("." if parts else "") + text)
    return "".join(parts)


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    cur = data
    for item in loc:
        if (isinstance(cur, Mapping) and item in cur) or (
            isinstance(cur, list | tuple) and isinstance(item, int) and item < len(cur)
        ):
            cur = cur[item]
        else:
            continue
    return cur


def _holds_tables(value: Any) -> bool:
    """Whether ``value`` is a table with tables inside (a section, not a single value)."""
    if not isinstance(value, Mapping):
        return False
    return any(
        isinstance(v, Mapping)
        or (isinstance(v, list | tuple) and any(isinstance(x, Mapping) for x in v))
        for v in value.values()
    )


_STRICT_MSG = re.compile(r"^(\w+): expected a number")


def config_from_dict(data: Mapping[str, Any], *, source: str = "<config>") -> Config:
    """Validate a plain dict (as read from TOML) into a :class:`Config`.

    Raises
    ------
    ConfigError
        Naming ``source``, the dotted key path, the value and what was expected.

    """
    try:
        return Config.model_validate(data)
    except (OverflowError, RecursionError) as exc:
        what = "a number too large" if isinstance(exc, OverflowError) else "nesting too deep"
        raise ConfigError(
            f"{source}: invalid config: {what} ({exc}); see docs/configuration.md for the "
            "ranges each key takes",
            path=source,
        ) from None
    except ValidationError as exc:
        lines = []
        first_key = None
        seen: set[str] = set()
        for err in exc.errors():
            key = _format_loc(tuple(err["loc"])) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see docs/configuration.md)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            value = err.get("input")
            strict = _STRICT_MSG.match(msg)
            if strict and isinstance(value, Mapping) and strict.group(1) in value:
                # A number given as text (see sim.config.strict): name the key itself.
                name = strict.group(1)
                key = f"{key}.{name}" if err["loc"] else name
                msg, value = msg[len(name) + 2 :], value[name]
            if not err["loc"] and not strict:
                # A rule across the whole config; its message names the keys.
                line = msg
            elif err["type"] == "missing" or _holds_tables(value):
                # A rule across a section: a dump of it would hide the message that names keys.
                line = f"{key}: {msg}"
            else:
                value_s = repr(value)
                if len(value_s) > 80:
                    value_s = value_s[:77] + "..."
                line = f"{key} = {value_s}: {msg}"
            if line in seen:
                continue
            seen.add(line)
            first_key = first_key or key
            lines.append(line)
        # Union types report one error per member; keep the message readable.
        if len(lines) > 8:
            lines = [*lines[:8], f"... and {len(lines) - 8} more"]
        body = "\n  ".join(lines)
        raise ConfigError(
            f"{source}: invalid config:\n  {body}", path=source, key=first_key
        ) from None


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` where VALUE is a TOML value (bare words are strings).

    >>> parse_override("placement_types.foster_in_house.capacity=240")
    ('placement_types.foster_in_house.capacity', 240)
    """
    if "=" not in text:
        raise ConfigError(f"override {text!r}: expected KEY=VALUE")
    key, raw = text.split("=", 1)
    key = key.strip()
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def set_dotted(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``data`` with the dotted ``key`` set to ``value``."""
    out = copy.deepcopy(data)
    parts = key.split(".")
    cur: Any = out
    for i, part in enumerate(parts[:-1]):
        nxt = cur.get(part) if isinstance(cur, dict) else None
        if nxt is None:
            if isinstance(cur, dict):
                nxt = cur[part] = {}
            else:
                raise ConfigError(f"override {key}: {'.'.join(parts[: i + 1])} is not a table")
        cur = nxt
    if not isinstance(cur, dict):
        raise ConfigError(f"override {key}: {'.'.join(parts[:-1])} is not a table")
    cur[parts[-1]] = value
    return out


def with_overrides(config: Config, overrides: Mapping[str, Any]) -> Config:
    """Return a new config with dotted keys replaced, validated again.

    >>> # cfg2 = with_overrides(cfg, {"placement_types.foster_in_house.capacity": 240})
    """
    data = config.model_dump(mode="json")
    for key, value in overrides.items():
        data = set_dotted(data, key, value)
    return config_from_dict(data, source="overrides " + ", ".join(overrides))


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Config:
    """Load, resolve and validate a TOML config file.

    Parameters
    ----------
    path
        The TOML file; ``extends`` chains are followed.
    overrides
        Optional dotted keys to set after merging (e.g. from ``--set``).

    Raises
    ------
    ConfigError
        When a file is missing or malformed, or a value is invalid.

    """
    data = raw_config(path)
    for key, value in (overrides or {}).items():
        data = set_dotted(data, key, value)
    return config_from_dict(data, source=str(path))
