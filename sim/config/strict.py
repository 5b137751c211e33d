"""Strict numbers for config models: a number key given a string or a boolean is an error.

Pydantic's lax mode turns ``share = "0.12"`` into 0.12 and ``true`` into 1; a
config that says either is almost always a typing slip, so the models refuse
them (naming the key). TOML's ``1`` for a float key stays accepted.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = ["check_numbers"]

_NUMBERS = (int, float)


def _numeric(tp: Any) -> bool:
    return tp in _NUMBERS


def _problem(tp: Any, value: Any, where: str = "") -> str | None:
    """Why ``value`` does not fit the number slots of ``tp``, or None."""
    origin = get_origin(tp)
    if _numeric(tp):
        if isinstance(value, bool | str | bytes):
            return f"expected a number{where}, got {type(value).__name__} {value!r}"
        return None
    if origin in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m is not type(None)]
        if value is None:
            return None
        numeric = [m for m in members if _numeric(m)]
        if numeric and len(numeric) == len(members):
            return _problem(numeric[0], value, where)
        return None
    if origin in (tuple, list) and isinstance(value, list | tuple):
        args = get_args(tp)
        inner = args[0] if args else None
        if (len(args) == 2 and args[1] is Ellipsis) or origin is list:
            for i, item in enumerate(value):
                p = _problem(inner, item, f" at [{i}]")
                if p:
                    return p
        return None
    if origin in (dict, Mapping) and isinstance(value, Mapping):
        args = get_args(tp)
        if len(args) == 2:
            for key, item in value.items():
                p = _problem(args[1], item, f" at {key!r}")
                if p:
                    return p
    return None


def check_numbers(model: type[BaseModel], data: Any) -> Any:
    """Return ``data``, or raise ValueError if a number key of ``model`` is given as text or bool.

    ``data`` is the raw input of ``model`` (a TOML table); its other keys are left
    to the model's own validation.
    """
    if not isinstance(data, Mapping):
        return data
    for name, field in model.model_fields.items():
        if name in data:
            problem = _problem(field.annotation, data[name])
            if problem:
                raise ValueError(f"{name}: {problem}")
    return data
