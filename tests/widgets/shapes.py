"""A strict runtime check of JSON data against the TypedDicts of ``nb_email_conn.widgets.messages``.

Every required key present, no key the type does not declare, each value of its declared type
(``bool`` is not an ``int``, a ``Literal`` only its values). Enough for the widget shapes:
TypedDicts, unions, literals, lists, dicts and the JSON scalars.
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict


class ShapeError(AssertionError):
    pass


def check_shape(value: Any, hint: Any, path: str = "$") -> None:
    """Raise ``ShapeError`` naming the first place where ``value`` does not have the shape ``hint``."""
    if hint is Any:
        return
    if hint is None or hint is type(None):
        if value is not None:
            raise ShapeError(f"{path}: expected null, got {value!r}")
        return
    origin = get_origin(hint)
    if origin is Literal:
        if not any(value == choice and type(value) is type(choice) for choice in get_args(hint)):
            raise ShapeError(f"{path}: {value!r} is not one of {get_args(hint)}")
        return
    if origin in (Union, types.UnionType):
        problems = []
        for option in get_args(hint):
            try:
                check_shape(value, option, path)
            except ShapeError as exc:
                problems.append(str(exc))
            else:
                return
        raise ShapeError(f"{path}: matches none of the union: " + " | ".join(problems))
    if is_typeddict(hint):
        _check_typeddict(value, hint, path)
        return
    if origin is list:
        if not isinstance(value, list):
            raise ShapeError(f"{path}: expected a list, got {type(value).__name__}")
        (item,) = get_args(hint)
        for index, element in enumerate(value):
            check_shape(element, item, f"{path}[{index}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected an object, got {type(value).__name__}")
        key_type, item = get_args(hint)
        for key, element in value.items():
            check_shape(key, key_type, f"{path} key")
            check_shape(element, item, f"{path}.{key}")
        return
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ShapeError(f"{path}: expected a number, got {value!r}")
        return
    if hint in (str, int, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise ShapeError(f"{path}: expected {hint.__name__}, got {value!r}")
        return
    raise TypeError(f"{path}: the shape checker does not know {hint!r}")


def _check_typeddict(value: Any, hint: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise ShapeError(f"{path}: expected an object ({hint.__name__}), got {type(value).__name__}")
    fields = get_type_hints(hint)
    missing = sorted(hint.__required_keys__ - set(value))
    if missing:
        raise ShapeError(f"{path}: {hint.__name__} misses {', '.join(missing)}")
    extra = sorted(set(value) - set(fields))
    if extra:
        raise ShapeError(f"{path}: {hint.__name__} has no key {', '.join(extra)}")
    for key, element in value.items():
        check_shape(element, fields[key], f"{path}.{key}")


def typeddicts(module: types.ModuleType) -> dict[str, Any]:
    """The public TypedDicts a module defines, by name."""
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_") and is_typeddict(value) and value.__module__ == module.__name__
    }


__all__ = ["ShapeError", "check_shape", "typeddicts"]
