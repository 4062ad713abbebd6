"""The connection's functions as LLM tools: schemas for OpenAI, Anthropic and LangChain,
and a dispatcher that runs a tool call and returns a JSON-safe result, never raising.

Policies and approvals are applied by the connection itself (its gate); this module only
exports the functions that are not Disabled, and refuses any argument that could look like
a way to approve or skip confirmation: an LLM can never approve its own call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ActionRejectedError, FunctionDisabledError, InvalidInputError
from .policy import FUNCTIONS, Policy

MAX_ROWS = 50
MAX_TEXT = 4000
MAX_CELL = 500
DEFAULT_LIMIT = 20
MAX_LIMIT = 500

# Names an LLM might invent to wave its own call through. Refused with a clear message
# (every unknown argument is refused too; these get a message that says why).
_FORBIDDEN = frozenset(
    {
        "approve",
        "approved",
        "approval",
        "approver",
        "auto_approve",
        "bypass",
        "confirm",
        "confirmed",
        "confirmation",
        "decided_by",
        "decision",
        "force",
        "no_confirm",
        "policies",
        "policy",
        "skip",
        "skip_confirmation",
        "yes",
    }
)

_STRINGS: dict[str, Any] = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
}


def _one_or_many(description: str) -> dict[str, Any]:
    return {**_STRINGS, "description": description}


_REFS = _one_or_many(
    "One message ref or a list of them: the 'ref' values returned by search_emails "
    "(strings like imap://user@host/INBOX;UIDVALIDITY=1700000000/;UID=42)."
)
_ADDRESSES = "One address or a list (e.g. 'Bob <bob@example.org>')."
_ATTACHMENTS = {
    "type": "array",
    "items": {"type": "string"},
    "description": "Paths of files to attach, relative to the notebook's working directory.",
}


def _object(properties: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


@dataclasses.dataclass(frozen=True)
class ToolSpec:
    """One function as a tool: its description, JSON schema and how to call the method."""

    name: str
    description: str
    parameters: dict[str, Any]
    positional: tuple[str, ...] = ()
    renames: Mapping[str, str] = dataclasses.field(default_factory=dict)


_COMPOSE = {
    "to": _one_or_many("Recipients. " + _ADDRESSES),
    "subject": {"type": "string", "description": "Subject line (one line)."},
    "body": {"type": "string", "description": "Plain-text body."},
    "cc": _one_or_many("Cc recipients. " + _ADDRESSES),
    "bcc": _one_or_many("Bcc recipients (never shown in the headers). " + _ADDRESSES),
    "html": {"type": "string", "description": "Optional HTML version of the body."},
    "attachments": _ATTACHMENTS,
}

SPECS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "list_folders",
            "List the mailbox folders with their special use (Inbox, Sent, Drafts, Trash, ...) and message counts.",
            _object({}),
        ),
        ToolSpec(
            "search_emails",
            "Search one folder; returns the newest matching messages first, as rows with ref, date, from_name, "
            "from_addr, to, subject, flags, seen, size, has_attachments. Use the 'ref' of a row with get_email "
            "and the other tools. Never marks messages as read.",
            _object(
                {
                    "query": {
                        "type": "string",
                        "description": 'Gmail-like query, e.g. \'from:alice subject:"Q3 report" after:2024-01-01 '
                        "is:unread has:attachment -newsletter'. Supports from: to: cc: subject: after: before: "
                        "is:unread|read|flagged|answered|draft has:attachment larger: smaller: quoted phrases, "
                        "bare words, - for NOT and OR.",
                    },
                    "folder": {
                        "type": "string",
                        "description": "Folder to search (default INBOX).",
                        "default": "INBOX",
                    },
                    "limit": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                        "description": f"Return at most this many of the newest matches (default {DEFAULT_LIMIT}).",
                    },
                    "from": {"type": "string", "description": "Sender contains this text."},
                    "to": {"type": "string", "description": "A To recipient contains this text."},
                    "cc": {"type": "string", "description": "A Cc recipient contains this text."},
                    "subject": {"type": "string", "description": "Subject contains this text."},
                    "text": {"type": "string", "description": "Headers or body contain this text."},
                    "body": {"type": "string", "description": "Body contains this text."},
                    "since": {"type": "string", "format": "date", "description": "On or after this date (YYYY-MM-DD)."},
                    "before": {"type": "string", "format": "date", "description": "Before this date (YYYY-MM-DD)."},
                    "seen": {"type": "boolean", "description": "true: only read messages; false: only unread."},
                    "flagged": {"type": "boolean", "description": "true: only flagged; false: only not flagged."},
                    "answered": {"type": "boolean", "description": "true: only answered; false: only unanswered."},
                    "has_attachment": {"type": "boolean", "description": "true: only messages with attachments."},
                    "larger": {"type": "integer", "minimum": 0, "description": "Larger than this many bytes."},
                    "smaller": {"type": "integer", "minimum": 1, "description": "Smaller than this many bytes."},
                }
            ),
            positional=("query",),
            renames={"from": "from_"},
        ),
        ToolSpec(
            "get_email",
            "Read one message: headers, plain text (long texts are cut), attachment names and sizes.",
            _object(
                {
                    "ref": {"type": "string", "description": "The message's ref from search_emails."},
                    "mark_seen": {"type": "boolean", "default": False, "description": "Also mark it as read."},
                },
                ["ref"],
            ),
            positional=("ref",),
        ),
        ToolSpec(
            "send_email",
            "Send an email from the user's account. May need a human's approval: if the result says "
            "pending_approval, tell the user it waits for their decision in the notebook.",
            _object(
                {
                    **_COMPOSE,
                    "in_reply_to": {
                        "type": "string",
                        "description": "Message-ID of the message this replies to (threads the reply).",
                    },
                },
                ["to", "subject", "body"],
            ),
            positional=("to", "subject", "body"),
        ),
        ToolSpec(
            "create_draft",
            "Save a message in the Drafts folder without sending it; returns the draft's ref.",
            _object(dict(_COMPOSE), ["subject", "body"]),
            positional=("to", "subject", "body"),
        ),
        ToolSpec(
            "delete_emails",
            "Delete messages: moved to Trash, or removed for good with permanent=true. May need approval.",
            _object(
                {
                    "refs": _REFS,
                    "permanent": {
                        "type": "boolean",
                        "default": False,
                        "description": "Remove for good instead of moving to Trash.",
                    },
                },
                ["refs"],
            ),
            positional=("refs",),
        ),
        ToolSpec(
            "update_flags",
            "Add or remove flags on messages, e.g. add ['\\\\Seen'] marks as read, ['\\\\Flagged'] flags them. "
            "May need approval.",
            _object(
                {
                    "refs": _REFS,
                    "add": _one_or_many("Flags to add: \\Seen, \\Flagged, \\Answered, \\Draft or a keyword."),
                    "remove": _one_or_many("Flags to remove."),
                },
                ["refs"],
            ),
            positional=("refs",),
        ),
        ToolSpec(
            "move_emails",
            "Move messages to another folder; returns their new refs. May need approval.",
            _object({"refs": _REFS, "folder": {"type": "string", "description": "Target folder."}}, ["refs", "folder"]),
            positional=("refs", "folder"),
        ),
        ToolSpec(
            "copy_emails",
            "Copy messages to another folder; returns the copies' refs. May need approval.",
            _object({"refs": _REFS, "folder": {"type": "string", "description": "Target folder."}}, ["refs", "folder"]),
            positional=("refs", "folder"),
        ),
    )
}
assert tuple(SPECS) == FUNCTIONS  # one tool per contract function, in the contract's order


# ------------------------------------------------------------------------------ argument checks
def _type_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    if "anyOf" in schema:
        return any(_type_ok(value, option) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if isinstance(value, float) and not value.is_integer():
            return False
        return bool(schema.get("minimum", -math.inf) <= value <= schema.get("maximum", math.inf))
    if kind == "array":
        return isinstance(value, list) and all(_type_ok(item, schema.get("items", {})) for item in value)
    return True


def _describe(schema: Mapping[str, Any]) -> str:
    if "anyOf" in schema:
        return "a string or a list of strings"
    kind = schema.get("type")
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        bounds = f" from {low}" if low is not None else ""
        bounds += f" to {high}" if high is not None else ""
        return f"a whole number{bounds}"
    return {"string": "a string", "boolean": "true or false", "array": "a list of strings"}.get(str(kind), "a value")


def _parse_arguments(name: str, arguments: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if arguments is None or arguments == "":
        return {}
    if isinstance(arguments, (str, bytes)):
        try:
            parsed = json.loads(arguments)
        except ValueError as exc:
            raise InvalidInputError(f"the arguments of {name} are not valid JSON: {exc}.", field="arguments") from None
    else:
        parsed = arguments
    if not isinstance(parsed, Mapping):
        raise InvalidInputError(f"the arguments of {name} must be a JSON object.", field="arguments")
    return dict(parsed)


def _check_arguments(spec: ToolSpec, arguments: dict[str, Any]) -> None:
    properties: Mapping[str, Any] = spec.parameters["properties"]
    for key in arguments:
        lowered = str(key).lower()
        if lowered in _FORBIDDEN or lowered.startswith("_"):
            raise InvalidInputError(
                f"argument {key!r} is not accepted: no tool argument can approve a call or skip "
                "confirmation; the user decides in the notebook.",
                field=str(key),
            )
        if key not in properties:
            allowed = ", ".join(properties) or "no arguments"
            raise InvalidInputError(f"{spec.name} has no argument {key!r}; it takes: {allowed}.", field=str(key))
    for key in spec.parameters.get("required", []):
        if key not in arguments:
            raise InvalidInputError(f"{spec.name} needs the argument {key!r}.", field=key)
    for key, value in arguments.items():
        if not _type_ok(value, properties[key]):
            raise InvalidInputError(f"{spec.name}: {key} must be {_describe(properties[key])}.", field=key)


def _as_date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InvalidInputError(f"{field} must be a date like 2024-05-31; got {value[:40]!r}.", field=field) from None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _attachment_paths(paths: list[str], root: Path) -> list[str]:
    """Attachments are files under ``root`` only: an injected prompt cannot attach ~/.ssh keys."""
    root = root.resolve()
    checked: list[str] = []
    for item in paths:
        path = (root / Path(item).expanduser()).resolve()
        if not _inside(path, root):
            raise InvalidInputError(
                f"attachment {item[:200]!r} is outside {root}; agents may only attach files from there.",
                field="attachments",
            )
        if not path.is_file():
            raise InvalidInputError(f"attachment {item[:200]!r} is not an existing file.", field="attachments")
        checked.append(str(path))
    return checked


# ------------------------------------------------------------------------------ JSON-safe results
def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def _json_value(value: Any, limit: int = MAX_CELL) -> Any:
    """Any value as something json.dumps accepts (no NaN: JSON has none)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _cut(value, limit)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        return {str(k): _json_value(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [_json_value(v, limit) for v in items]
    try:
        if pd.isna(value):
            return None  # NaT, pd.NA, numpy NaN
    except (TypeError, ValueError):
        pass
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _json_value(item(), limit)
        except (TypeError, ValueError):
            pass
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _json_value(to_dict(), limit)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_value(dataclasses.asdict(value), limit)
    if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        try:
            return [_json_value(v, limit) for v in value]
        except TypeError:
            pass
    return _cut(str(value), limit)


def _frame_result(frame: pd.DataFrame, max_rows: int) -> dict[str, Any]:
    head = frame.head(max_rows)
    rows = [
        {str(column): _json_value(value) for column, value in zip(head.columns, row, strict=True)}
        for row in head.itertuples(index=False, name=None)
    ]
    return {"rows": rows, "count": len(frame), "truncated": len(frame) > max_rows}


def _is_email(value: Any) -> bool:
    return all(hasattr(value, attr) for attr in ("ref", "text", "attachments", "subject"))


def _email_result(email: Any, max_text: int) -> dict[str, Any]:
    to_dict = getattr(email, "to_dict", None)
    data: dict[str, Any] = (
        dict(to_dict())
        if callable(to_dict)
        else {
            key: getattr(email, key, None)
            for key in (
                "ref",
                "subject",
                "from_addr",
                "from_name",
                "to",
                "cc",
                "date",
                "message_id",
                "in_reply_to",
                "references",
                "headers",
                "text",
                "flags",
                "size",
            )
        }
    )
    text = str(data.get("text") or "")
    data["text"] = _cut(text, max_text)
    data["text_truncated"] = len(text) > max_text
    data["has_html"] = bool(data.pop("html", None) or getattr(email, "html", None))
    data.pop("raw", None)
    headers = data.get("headers")
    if isinstance(headers, Mapping):  # Received chains and the like: useful, but bounded
        data["headers"] = {str(k): _cut(str(v), 300) for k, v in list(headers.items())[:40]}
    data["attachments"] = [
        {
            key: _json_value(getattr(a, key, None) if not isinstance(a, Mapping) else a.get(key))
            for key in ("filename", "content_type", "size")
        }
        for a in getattr(email, "attachments", None) or []
    ]
    return {key: (_json_value(value, max_text) if key == "text" else _json_value(value)) for key, value in data.items()}


def _is_pending(value: Any) -> bool:
    """An approval handle (``PendingAction``): a status and the request it waits on."""
    return hasattr(value, "status") and (hasattr(value, "request") or hasattr(value, "request_id"))


def _pending_id(handle: Any) -> Any:
    request = getattr(handle, "request", None)
    for candidate in (getattr(request, "id", None), getattr(handle, "request_id", None), getattr(handle, "id", None)):
        if candidate is not None:
            return _json_value(candidate)
    return None


def error_result(exc: BaseException) -> dict[str, Any]:
    """An error as a tool result: the agent reads it and can tell the user or try again."""
    error: dict[str, Any] = {"type": type(exc).__name__, "message": _cut(str(exc) or type(exc).__name__, 2000)}
    if isinstance(exc, ActionRejectedError):
        error["reason"] = exc.reason
    if isinstance(exc, FunctionDisabledError):
        error["function"] = exc.function
    field = getattr(exc, "field", None)
    if isinstance(exc, InvalidInputError) and field:
        error["field"] = field
    return {"ok": False, "error": error}


# ------------------------------------------------------------------------------ the tool set
class ToolSet:
    """The connection's enabled functions as tools, and a dispatcher for tool calls.

    What is exported follows ``conn.policies`` at the moment of each call: a function set
    to Disabled disappears from the schemas and its calls are refused.
    """

    def __init__(
        self,
        conn: Any,
        *,
        attachment_root: str | os.PathLike[str] | None = None,
        max_rows: int = MAX_ROWS,
        max_text: int = MAX_TEXT,
    ) -> None:
        self._conn = conn
        self._attachment_root = Path(attachment_root) if attachment_root is not None else None
        self.max_rows = max_rows
        self.max_text = max_text

    # -- what is exported ----------------------------------------------------------------
    def _policy(self, name: str) -> Policy:
        return Policy.parse(self._conn.policies[name])

    @property
    def names(self) -> list[str]:
        """The functions exported now (every function whose policy is not Disabled)."""
        return [name for name in FUNCTIONS if self._policy(name) is not Policy.DISABLED]

    def _specs(self) -> list[ToolSpec]:
        return [SPECS[name] for name in self.names]

    def openai(self) -> list[dict[str, Any]]:
        """OpenAI (and compatible) function-calling tool definitions."""
        return [
            {
                "type": "function",
                "function": {"name": s.name, "description": s.description, "parameters": _copy(s.parameters)},
            }
            for s in self._specs()
        ]

    def anthropic(self) -> list[dict[str, Any]]:
        """Anthropic Messages API tool definitions."""
        return [
            {"name": s.name, "description": s.description, "input_schema": _copy(s.parameters)} for s in self._specs()
        ]

    def langchain(self) -> list[Any]:
        """LangChain ``StructuredTool`` objects (needs ``langchain-core``); each returns JSON text."""
        try:
            from langchain_core.tools import StructuredTool  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise ImportError(
                "ToolSet.langchain() needs LangChain: pip install langchain-core "
                "(or use .openai() / .anthropic() with your client)."
            ) from exc
        return [
            StructuredTool.from_function(
                func=self._sync_runner(s.name),
                coroutine=self._async_runner(s.name),
                name=s.name,
                description=s.description,
                args_schema=_copy(s.parameters),
            )
            for s in self._specs()
        ]

    def _sync_runner(self, name: str) -> Callable[..., str]:
        def run(**arguments: Any) -> str:
            return json.dumps(self.dispatch(name, arguments), ensure_ascii=False)

        run.__name__ = name
        return run

    def _async_runner(self, name: str) -> Callable[..., Any]:
        async def run(**arguments: Any) -> str:
            return json.dumps(await self.dispatch_async(name, arguments), ensure_ascii=False)

        run.__name__ = name
        return run

    # -- running calls -------------------------------------------------------------------
    def _prepare(self, name: Any, arguments: Any) -> tuple[str, list[Any], dict[str, Any]]:
        if not isinstance(name, str) or name not in SPECS:
            available = ", ".join(self.names) or "none (every function is disabled)"
            raise InvalidInputError(f"unknown tool {str(name)[:100]!r}; available tools: {available}.", field="name")
        if self._policy(name) is Policy.DISABLED:
            raise FunctionDisabledError(name)
        spec = SPECS[name]
        args = _parse_arguments(name, arguments)
        _check_arguments(spec, args)
        if name == "search_emails":
            args.setdefault("limit", DEFAULT_LIMIT)
            for key in ("since", "before"):
                if key in args:
                    args[key] = _as_date(args[key], key)
        for key in ("limit", "larger", "smaller"):
            if key in args:
                args[key] = int(args[key])
        if "attachments" in args:
            root = self._attachment_root if self._attachment_root is not None else Path.cwd()
            args["attachments"] = _attachment_paths(args["attachments"], root)
        # Leading arguments go by position (the contract fixes their order, not their names);
        # an optional one left out (search_emails' query) is simply not passed.
        positional: list[Any] = []
        for key in spec.positional:
            if key not in args:
                break  # the rest go by keyword, so a left-out argument never shifts the others
            positional.append(args.pop(key))
        keywords = {spec.renames.get(key, key): value for key, value in args.items()}
        return name, positional, keywords

    def _convert(self, result: Any) -> dict[str, Any]:
        if isinstance(result, pd.DataFrame):
            return {"ok": True, "result": _frame_result(result, self.max_rows)}
        if isinstance(result, pd.Series):
            return {"ok": True, "result": _json_value(result.head(self.max_rows).tolist())}
        if _is_email(result):
            return {"ok": True, "result": _email_result(result, self.max_text)}
        if _is_pending(result):
            status = str(getattr(result, "status", ""))
            done = getattr(result, "done", None)
            if status != "pending" and callable(done) and done():
                try:
                    return self._convert(result.result())
                except Exception as exc:
                    return error_result(exc)
            return {
                "ok": True,
                "status": "pending_approval",
                "request_id": _pending_id(result),
                "message": "This action waits for the user's approval in the notebook; it runs only if they "
                "approve. Tell the user; do not retry it.",
            }
        return {"ok": True, "result": _json_value(result)}

    def dispatch(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one tool call; always returns ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``."""
        try:
            name, positional, keywords = self._prepare(name, arguments)
            result = getattr(self._conn, name)(*positional, **keywords)
            return self._convert(result)
        except Exception as exc:  # errors are results an agent can read, never a crash
            return error_result(exc)

    async def dispatch_async(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The awaitable form of :meth:`dispatch` (uses the connection's ``*_async`` methods)."""
        try:
            name, positional, keywords = self._prepare(name, arguments)
            result = await getattr(self._conn, f"{name}_async")(*positional, **keywords)
            return self._convert(result)
        except Exception as exc:
            return error_result(exc)

    def __repr__(self) -> str:
        return f"<ToolSet {', '.join(self.names)}>"


def _copy(schema: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(schema))  # callers may mutate their copy
    return copied


def build_tools(conn: Any, *, attachment_root: str | os.PathLike[str] | None = None) -> ToolSet:
    """The tools of ``conn`` (what ``EmailConnection.tools()`` returns).

    ``attachment_root``: the only folder agents may attach files from (default: the
    current working directory at call time).
    """
    return ToolSet(conn, attachment_root=attachment_root)


__all__ = ["SPECS", "ToolSet", "ToolSpec", "build_tools", "error_result"]
