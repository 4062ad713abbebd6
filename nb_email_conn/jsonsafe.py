"""One converter from any value we return or show to something ``json.dumps`` accepts.

Used by the agent tools' results and by the widgets' state: dates as ISO text, bytes as
their size, NaN/NaT as null (JSON has none), long text and long lists cut, depth bounded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

_MAX_DEPTH = 8


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def json_safe(value: Any, *, max_text: int = 500, max_items: int | None = None, _depth: int = 0) -> Any:
    """``value`` as JSON-safe data; strings longer than ``max_text`` and lists longer than ``max_items`` are cut."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return cut(value, max_text)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if _depth > _MAX_DEPTH:
        return cut(str(value), 200)

    def inner(item: Any) -> Any:
        return json_safe(item, max_text=max_text, max_items=max_items, _depth=_depth + 1)

    if isinstance(value, (dt.datetime, dt.date)):  # pandas' Timestamp and NaT are datetimes too
        return None if _is_missing(value) else value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        return {str(k): inner(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        return [inner(v) for v in (items[:max_items] if max_items is not None else items)]
    if _is_missing(value):
        return None  # pd.NA, numpy NaN
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return inner(item())
        except (TypeError, ValueError):
            pass
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return inner(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return inner(dataclasses.asdict(value))
    if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        try:
            return [inner(v) for v in value]
        except TypeError:
            pass
    return cut(str(value), max_text)


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError, ImportError):
        return False
