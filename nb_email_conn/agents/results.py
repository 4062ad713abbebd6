"""What a tool call returns to the model: JSON-safe, bounded, errors as results rather than crashes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..errors import ActionRejectedError, FunctionDisabledError, GuardrailError, InvalidInputError
from ..jsonsafe import cut, json_safe
from ..message.parse import Email
from ..pending import PendingAction
from .reading import email_for_agent

MAX_ROWS = 50
MAX_TEXT = 4000


def frame_result(frame: pd.DataFrame, max_rows: int) -> dict[str, Any]:
    head = frame.head(max_rows)
    rows = [
        {str(column): json_safe(value) for column, value in zip(head.columns, row, strict=True)}
        for row in head.itertuples(index=False, name=None)
    ]
    return {"rows": rows, "count": len(frame), "truncated": len(frame) > max_rows}


def error_result(exc: BaseException) -> dict[str, Any]:
    """An error as a tool result: the agent reads it and can tell the user or try again."""
    error: dict[str, Any] = {"type": type(exc).__name__, "message": cut(str(exc) or type(exc).__name__, 2000)}
    if isinstance(exc, ActionRejectedError):
        error["reason"] = exc.reason
    if isinstance(exc, FunctionDisabledError):
        error["function"] = exc.function
    if isinstance(exc, GuardrailError):
        error["rule"] = exc.rule
    field = getattr(exc, "field", None)
    if isinstance(exc, InvalidInputError) and field:
        error["field"] = field
    return {"ok": False, "error": error}


def tool_result(
    result: Any, *, max_rows: int = MAX_ROWS, max_text: int = MAX_TEXT, reading: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A method's return value as the model reads it; ``reading``: get_email's tool-only options."""
    if isinstance(result, pd.DataFrame):
        return {"ok": True, "result": frame_result(result, max_rows)}
    if isinstance(result, pd.Series):
        return {"ok": True, "result": json_safe(result.head(max_rows).tolist())}
    if isinstance(result, Email):
        return {"ok": True, "result": email_for_agent(result, **(reading or {}))}
    if isinstance(result, PendingAction):
        if result.done():
            try:
                return tool_result(result.result(), max_rows=max_rows, max_text=max_text, reading=reading)
            except Exception as exc:
                return error_result(exc)
        return {
            "ok": True,
            "status": "pending_approval",
            "request_id": result.request.id,
            "message": "This action waits for the user's approval in the notebook; it runs only if they "
            "approve. Tell the user; do not retry it.",
        }
    return {"ok": True, "result": json_safe(result)}
