"""What one function of a connection is: the single description every layer reads.

The gate (policy, approval, audit), the sync and ``_async`` methods, the LLM tool schemas,
the manager widget's Functions list, the approval widget's edit form and the README's
function table all come from a :class:`FunctionSpec`. Adding a function is one spec and
its runner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ..policy import Policy

if TYPE_CHECKING:
    from .context import Context

R = TypeVar("R")

Arguments = dict[str, Any]
EditKind = Literal["text", "multiline", "addresses", "flags", "boolean"]


@dataclass(frozen=True)
class EditableArgument:
    """An argument a reviewer may change in "approve with changes", and how the form shows it."""

    name: str
    kind: EditKind = "text"
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class FunctionSpec(Generic[R]):
    """One function: its names, default policy, schema, editing rules, preview and runner.

    ``prepare`` turns the public method's keyword arguments into the gate's arguments with
    offline checks only (a Disabled function must not touch the network). ``preview``
    builds what a reviewer sees (it may read the mailbox); ``run`` does the work. Both get
    the connection's :class:`~nb_email_conn.functions.context.Context`.
    """

    name: str
    seed_name: str | None
    label: str
    """One line for the Functions list of the manager widget."""
    description: str
    """What an LLM reads in the tool definition."""
    default_policy: Policy
    writes: bool
    parameters: Mapping[str, Any]
    """The tool's JSON schema (an object schema; names as the tool spells them)."""
    run: Callable[[Context, Arguments], R]
    signature: str
    """The call as the README's function table shows it."""
    returns: str
    """What the README's function table says it returns."""
    prepare: Callable[[Arguments], Arguments] = dict
    preview: Callable[[Context, Arguments], dict[str, Any]] | None = None
    summarize: Callable[[R], str] = field(default=lambda _result: "done")
    editable: tuple[EditableArgument, ...] = ()
    positional: tuple[str, ...] = ()
    """Leading tool arguments passed by position to the method (the contract fixes their order)."""
    renames: Mapping[str, str] = field(default_factory=dict)
    """Tool argument name -> method keyword (``from`` -> ``from_``)."""
    tool_defaults: Mapping[str, Any] = field(default_factory=dict)
    """Defaults the tool form applies (a search from an agent is bounded)."""
    destructive: bool = False
    """Changes or removes what is there (delete, move, flags): MCP's destructiveHint."""
    idempotent: bool = True
    """Doing it twice has no further effect (send, reply and forward do not have this)."""
    sends: bool = False
    """Submits mail over SMTP: recipient guardrails and the hourly send limit apply."""

    @property
    def editable_names(self) -> frozenset[str]:
        return frozenset(argument.name for argument in self.editable)

    def preview_for(self, context: Context, arguments: Arguments) -> dict[str, Any]:
        if self.preview is not None:
            return self.preview(context, arguments)
        return {"summary": ", ".join(f"{key}={value!r}" for key, value in arguments.items())[:300]}


# -- JSON-schema pieces shared by the specs ---------------------------------------------------
def one_or_many(description: str) -> dict[str, Any]:
    """A string or a list of strings (recipients, flags, refs)."""
    return {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        "description": description,
    }


def object_schema(properties: Mapping[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties), "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def text(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def flag(description: str, default: bool | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "boolean", "description": description}
    if default is not None:
        schema["default"] = default
    return schema


REF = text("The message's ref from search_emails (imap://user@host/INBOX;UIDVALIDITY=1700000000/;UID=42).")
REFS = one_or_many(
    "One message ref or a list of them: the 'ref' values returned by search_emails "
    "(strings like imap://user@host/INBOX;UIDVALIDITY=1700000000/;UID=42)."
)
ADDRESSES = "One address or a list (e.g. 'Bob <bob@example.org>')."
ATTACHMENTS: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "description": "Paths of files to attach, relative to the notebook's working directory.",
}
