"""The audit log of gated calls, and how their arguments are recorded (redacted, bounded)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .policy import Policy

if TYPE_CHECKING:
    import pandas as pd

AUDIT_COLUMNS = ["time", "function", "arguments", "policy", "decision", "decided_by", "outcome", "error"]


def redact(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments as recorded in the audit log: no secrets, no attachment bytes, bounded text."""
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if "password" in key.lower() or "secret" in key.lower() or "token" in key.lower():
            out[key] = "********"
        elif key == "attachments" and value is not None:
            out[key] = [_attachment_label(a) for a in (value if isinstance(value, list | tuple) else [value])]
        elif key == "refs":
            out[key] = _refs_label(value)
        elif isinstance(value, str) and len(value) > 500:
            out[key] = value[:500] + "…"
        else:
            out[key] = value
    return out


def _attachment_label(item: Any) -> str:
    if isinstance(item, tuple | list) and item:
        return str(item[0])
    if isinstance(item, dict):
        return str(item.get("filename", "attachment"))
    return str(getattr(item, "name", item))[:200]


def _refs_label(value: Any) -> Any:
    if isinstance(value, str):
        return value
    columns = getattr(value, "columns", None)
    if columns is not None and "ref" in columns:
        return list(value["ref"])
    try:
        return [str(v) for v in value]
    except TypeError:
        return str(value)


def error_text(error: BaseException) -> str:
    """How the audit log names an error: its type and a bounded message."""
    return f"{type(error).__name__}: {str(error)[:300]}"


class AuditLog:
    """Every gated call: time, function, arguments (redacted), policy, decision, outcome."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._rows: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def start(self, function: str, arguments: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
        row: dict[str, Any] = {
            "time": datetime.now(timezone.utc),
            "function": function,
            "arguments": redact(arguments),
            "policy": policy.value,
            "decision": "not needed" if policy is Policy.ENABLED else None,
            "decided_by": None,
            "outcome": "pending",
            "error": None,
        }
        with self._lock:
            self._rows.append(row)
        return row

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        with self._lock:
            rows = [dict(r) for r in self._rows]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
        frame["time"] = pd.to_datetime(frame["time"], utc=True)
        return frame
