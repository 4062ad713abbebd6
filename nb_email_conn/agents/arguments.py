"""A tool call's arguments, checked against the function's schema before anything runs.

An LLM can never approve its own call: unknown arguments are refused, and names that look
like a way to wave a call through get a message that says why.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from ..functions.spec import FunctionSpec

FORBIDDEN = frozenset(
    {
        "approve", "approved", "approval", "approver", "auto_approve", "bypass", "confirm", "confirmed",
        "confirmation", "decided_by", "decision", "force", "no_confirm", "policies", "policy", "skip",
        "skip_confirmation", "yes",
    }
)  # fmt: skip


def type_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    if "anyOf" in schema:
        return any(type_ok(value, option) for option in schema["anyOf"])
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
        return isinstance(value, list) and all(type_ok(item, schema.get("items", {})) for item in value)
    return True


def describe(schema: Mapping[str, Any]) -> str:
    if "anyOf" in schema:
        return "a string or a list of strings"
    kind = schema.get("type")
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        bounds = f" from {low}" if low is not None else ""
        bounds += f" to {high}" if high is not None else ""
        return f"a whole number{bounds}"
    return {"string": "a string", "boolean": "true or false", "array": "a list of strings"}.get(str(kind), "a value")


def parse_arguments(name: str, arguments: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
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


def check_arguments(spec: FunctionSpec[Any], arguments: Mapping[str, Any]) -> None:
    properties: Mapping[str, Any] = spec.parameters["properties"]
    for key in arguments:
        lowered = str(key).lower()
        if lowered in FORBIDDEN or lowered.startswith("_"):
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
        if not type_ok(value, properties[key]):
            raise InvalidInputError(f"{spec.name}: {key} must be {describe(properties[key])}.", field=key)


def as_date(value: str, field: str) -> dt.date:
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


def attachment_paths(paths: list[str], root: Path) -> list[str]:
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


def method_arguments(
    spec: FunctionSpec[Any], arguments: dict[str, Any], root: Path
) -> tuple[list[Any], dict[str, Any]]:
    """Checked tool arguments as the method's positional and keyword arguments."""
    check_arguments(spec, arguments)
    args = {**spec.tool_defaults, **arguments}
    properties: Mapping[str, Any] = spec.parameters["properties"]
    for key, value in list(args.items()):
        schema = properties.get(key, {})
        if schema.get("format") == "date":
            args[key] = as_date(value, key)
        elif schema.get("type") == "integer":
            args[key] = int(value)
    if "attachments" in args:
        args["attachments"] = attachment_paths(args["attachments"], root)
    # Leading arguments go by position (the contract fixes their order, not their names);
    # an optional one left out (search_emails' query) is simply not passed.
    positional: list[Any] = []
    for key in spec.positional:
        if key not in args:
            break  # the rest go by keyword, so a left-out argument never shifts the others
        positional.append(args.pop(key))
    keywords = {spec.renames.get(key, key): value for key, value in args.items()}
    return positional, keywords
