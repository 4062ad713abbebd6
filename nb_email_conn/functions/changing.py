"""The functions that change messages in place: delete_emails, update_flags, move_emails, copy_emails."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError
from ..policy import Policy
from ..refs import MessageRef, normalize_refs
from ..validation import check_text
from .spec import REFS, Arguments, EditableArgument, FunctionSpec, flag, object_schema, one_or_many, text

if TYPE_CHECKING:
    from .context import Context


def refs_argument(refs: Any) -> list[str]:
    return [str(ref) for ref in normalize_refs(refs)]


def parsed_refs(arguments: Arguments) -> list[MessageRef]:
    return [MessageRef.parse(ref) for ref in arguments["refs"]]


def bulk_preview(action: str) -> Callable[[Context, Arguments], dict[str, Any]]:
    """Count and the affected messages (date, from, subject), after checking they all still exist."""

    def preview(context: Context, arguments: Arguments) -> dict[str, Any]:
        refs = parsed_refs(arguments)
        if "folder" in arguments:
            context.session.resolve_folder(arguments["folder"])
        messages = context.mailbox.describe(refs)
        details: dict[str, Any] = {"summary": f"{action} {len(refs)} message(s)", "count": len(refs)}
        for key in ("folder", "add", "remove", "permanent"):
            if key in arguments:
                details[key] = arguments[key]
        details["messages"] = messages
        return details

    return preview


def _count(result: int) -> str:
    return f"{result} message(s) changed"


def _new_refs(result: list[str | None]) -> str:
    known = sum(1 for ref in result if ref)
    return f"{len(result)} message(s) done" + (f", {known} new ref(s)" if known else "")


def _strict_bool(value: Any, field: str) -> bool:
    # An approver's edit arrives unchecked: the string "false" is truthy and would expunge.
    if not isinstance(value, bool):
        raise InvalidInputError(f"{field} must be True or False.", field=field)
    return value


# -- delete_emails ---------------------------------------------------------------------------
def _prepare_delete(arguments: Arguments) -> Arguments:
    return {
        "refs": refs_argument(arguments["refs"]),
        "permanent": _strict_bool(arguments.get("permanent", False), "permanent"),
    }


def _delete(context: Context, arguments: Arguments) -> int:
    refs = parsed_refs(arguments)
    if _strict_bool(arguments.get("permanent", False), "permanent"):
        return context.mailbox.expunge(refs)
    trash = context.session.require_special_folder("\\Trash")
    if any(ref.folder == trash for ref in refs):
        raise InvalidInputError(
            f"some messages are already in {trash!r}; delete them with permanent=True.", field="refs"
        )
    return context.mailbox.transfer_counted(refs, trash, move=True).confirmed


DELETE_EMAILS: FunctionSpec[int] = FunctionSpec(
    name="delete_emails",
    seed_name="DeleteEmailAsync",
    label="Move messages to Trash, or delete them permanently.",
    description="Delete messages: moved to Trash, or removed for good with permanent=true. May need approval.",
    default_policy=Policy.CONFIRM,
    writes=True,
    parameters=object_schema(
        {"refs": REFS, "permanent": flag("Remove for good instead of moving to Trash.", default=False)},
        ["refs"],
    ),
    prepare=_prepare_delete,
    preview=bulk_preview("delete"),
    run=_delete,
    summarize=_count,
    signature="delete_emails(refs, *, permanent=False)",
    returns="count",
    editable=(EditableArgument("permanent", "boolean", "delete permanently"),),
    positional=("refs",),
    destructive=True,
)


# -- update_flags ----------------------------------------------------------------------------
def flag_list(value: str | Iterable[str] | None, field: str) -> list[str]:
    from ..imap.mailbox import check_flags

    return [] if value is None else check_flags(value, field)


def _prepare_flags(arguments: Arguments) -> Arguments:
    added, removed = flag_list(arguments.get("add"), "add"), flag_list(arguments.get("remove"), "remove")
    if not added and not removed:
        raise InvalidInputError(
            "no flags to add or remove; nothing was changed. Give add=... and/or remove=... (e.g. add='\\\\Flagged').",
            field="add",
        )
    return {"refs": refs_argument(arguments["refs"]), "add": added, "remove": removed}


def _flags(context: Context, arguments: Arguments) -> int:
    add, remove = flag_list(arguments.get("add"), "add"), flag_list(arguments.get("remove"), "remove")
    if not add and not remove:  # a reviewer's edit may have emptied both
        raise InvalidInputError("no flags left to add or remove; nothing was changed.", field="add")
    return context.mailbox.store_flags(parsed_refs(arguments), add, remove)


UPDATE_FLAGS: FunctionSpec[int] = FunctionSpec(
    name="update_flags",
    seed_name=None,
    label="Mark read/unread, flag, and other flags.",
    description="Add or remove flags on messages, e.g. add ['\\\\Seen'] marks as read, ['\\\\Flagged'] flags them. "
    "May need approval.",
    default_policy=Policy.CONFIRM,
    writes=True,
    parameters=object_schema(
        {
            "refs": REFS,
            "add": one_or_many("Flags to add: \\Seen, \\Flagged, \\Answered, \\Draft or a keyword."),
            "remove": one_or_many("Flags to remove."),
        },
        ["refs"],
    ),
    prepare=_prepare_flags,
    preview=bulk_preview("change flags of"),
    run=_flags,
    summarize=_count,
    signature="update_flags(refs, *, add=(), remove=())",
    returns="count",
    editable=(EditableArgument("add", "flags", "flags to add"), EditableArgument("remove", "flags", "flags to remove")),
    positional=("refs",),
    destructive=True,
)


# -- move_emails / copy_emails ---------------------------------------------------------------
def _prepare_transfer(arguments: Arguments) -> Arguments:
    # Only offline checks here: a disabled function must not touch the network.
    folder = arguments["folder"]
    check_text(folder, "folder", allow_empty=False, max_length=1000)
    return {"refs": refs_argument(arguments["refs"]), "folder": folder}


def _transfer(move: bool) -> Callable[[Context, Arguments], list[str | None]]:
    def run(context: Context, arguments: Arguments) -> list[str | None]:
        target = context.session.resolve_folder(arguments["folder"])
        return context.mailbox.transfer(parsed_refs(arguments), target, move=move)

    return run


def _transfer_spec(name: str, seed_name: str | None, verb: str, *, move: bool) -> FunctionSpec[list[str | None]]:
    returns = "their new refs" if move else "the copies' refs"
    return FunctionSpec(
        name=name,
        seed_name=seed_name,
        label=f"{verb.capitalize()} messages to another folder.",
        description=f"{verb.capitalize()} messages to another folder; returns {returns}. May need approval.",
        default_policy=Policy.CONFIRM,
        writes=True,
        parameters=object_schema({"refs": REFS, "folder": text("Target folder.")}, ["refs", "folder"]),
        prepare=_prepare_transfer,
        preview=bulk_preview(verb),
        run=_transfer(move),
        summarize=_new_refs,
        signature=f"{name}(refs, folder)",
        returns="new refs",
        editable=(EditableArgument("folder", "text", "target folder"),),
        positional=("refs", "folder"),
        destructive=move,
        idempotent=move,  # a second copy is another message; a second move finds nothing to move
    )


MOVE_EMAILS = _transfer_spec("move_emails", "MoveEmailAsync", "move", move=True)
COPY_EMAILS = _transfer_spec("copy_emails", None, "copy", move=False)
