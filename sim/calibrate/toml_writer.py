"""Write a config dict as commented TOML.

``tomllib`` only reads TOML, and writers such as ``tomli_w`` cannot attach
comments, so this small emitter writes the subset the config schema uses:
tables, arrays of tables, inline tables (distributions, schedules, share
maps), arrays of scalars, strings, numbers, booleans and dates. Each key can
carry a comment; long comments go on the line above the key.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["KeyPath", "render_toml"]

KeyPath = tuple[str | int, ...]
"""A key path: table names, keys and array indices."""

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Keys whose dict values are written inline (one line) rather than as tables.
_INLINE_KEYS = frozenset({"shares", "durations_days", "order"})
_INLINE_COMMENT_MAX = 70


def _key(k: str) -> str:
    return k if _BARE_KEY.match(k) else json.dumps(k)


def _is_inline_dict(key: str | int, value: Mapping[str, Any]) -> bool:
    if "distribution" in value or key in _INLINE_KEYS:
        return True
    return bool(value) and all(isinstance(k, str) and _ISO_DATE.match(k) for k in value)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v!r} to TOML")
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _inline(v: Any) -> str:
    if isinstance(v, Mapping):
        parts = [f"{_key(str(k))} = {_inline(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(parts) + " }" if parts else "{}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    return _scalar(v)


def _comment_lines(text: str, indent: str = "") -> list[str]:
    """Wrap ``text`` into ``#`` lines of at most ~100 characters, keeping each line's indent."""
    out = []
    for para in text.splitlines():
        lead = para[: len(para) - len(para.lstrip())]
        words = para.split()
        line = ""
        for w in words:
            if line and len(lead) + len(line) + len(w) + 1 > 96:
                out.append(f"{indent}# {lead}{line}")
                line = w
            else:
                line = f"{line} {w}" if line else w
        out.append(f"{indent}# {lead}{line}" if line else f"{indent}#")
    return out


def render_toml(
    data: Mapping[str, Any],
    comments: Mapping[KeyPath, str],
    *,
    header: str = "",
    section_comments: Mapping[KeyPath, str] | None = None,
) -> str:
    """Render ``data`` as TOML with ``comments`` attached to key paths.

    Parameters
    ----------
    data
        The config as plain Python values (None values are left out).
    comments
        Comment for a key, by path, e.g. ``("referrals", "rate_per_year")``;
        for an array-of-tables entry, the path of the entry, e.g.
        ``("placement_policy", "entry", 0)``.
    header
        Comment block written first.
    section_comments
        Comment written above a table header, by the table's path.

    Returns
    -------
    str
        The TOML text.

    """
    sections = section_comments or {}
    lines: list[str] = []
    if header:
        lines += _comment_lines(header)
        lines.append("")

    def emit_table(path: KeyPath, table: Mapping[str, Any], array_entry: bool = False) -> None:
        scalars = []
        subtables = []
        arrays = []
        for k, v in table.items():
            if v is None:
                continue
            if isinstance(v, Mapping) and not _is_inline_dict(k, v):
                subtables.append((k, v))
            elif isinstance(v, list | tuple) and v and all(isinstance(x, Mapping) for x in v):
                arrays.append((k, v))
            else:
                scalars.append((k, v))
        if path:
            name = ".".join(_key(str(p)) for p in path if not isinstance(p, int))
            if path in sections:
                lines.append("")
                lines.extend(_comment_lines(sections[path]))
            elif not array_entry:
                lines.append("")
            head = f"[[{name}]]" if array_entry else f"[{name}]"
            note = comments.get(path)
            if note and len(note) <= _INLINE_COMMENT_MAX:
                head += f"  # {note}"
            elif note:
                lines.extend(_comment_lines(note))
            lines.append(head)
        for k, v in scalars:
            text = f"{_key(str(k))} = {_inline(v)}"
            note = comments.get((*path, k))
            if note and len(note) + len(text) <= 100 - 4:
                text = f"{text}  # {note}"
            elif note:
                lines.extend(_comment_lines(note))
            lines.append(text)
        for k, v in subtables:
            emit_table((*path, k), v)
        for k, v in arrays:
            if (*path, k) in sections:
                lines.append("")
                lines.extend(_comment_lines(sections[(*path, k)]))
            for i, entry in enumerate(v):
                emit_entry((*path, k), i, entry)

    def emit_entry(path: KeyPath, index: int, entry: Mapping[str, Any]) -> None:
        name = ".".join(_key(str(p)) for p in path)
        note = comments.get((*path, index))
        head = f"[[{name}]]"
        if note and len(note) <= _INLINE_COMMENT_MAX:
            head += f"  # {note}"
        elif note:
            lines.extend(_comment_lines(note))
        lines.append(head)
        for k, v in entry.items():
            if v is None:
                continue
            if isinstance(v, Mapping) and not _is_inline_dict(k, v):
                raise TypeError(f"nested table {k!r} inside an array of tables is not supported")
            text = f"{_key(str(k))} = {_inline(v)}"
            sub = comments.get((*path, index, k))
            if sub and len(sub) + len(text) <= 96:
                text = f"{text}  # {sub}"
            elif sub:
                lines.extend(_comment_lines(sub))
            lines.append(text)

    emit_table((), data)
    return "\n".join(lines).lstrip("\n") + "\n"
