"""Answering mail: reply_email and forward_email (composition rules in ``message/reply.py``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError
from ..policy import Policy
from ..refs import MessageRef
from .reading import fetch_email, one_ref
from .sending import SentEmail, drop_none, sender_of, submit, summarize_sent
from .spec import (
    ADDRESSES,
    ATTACHMENTS,
    REF,
    Arguments,
    EditableArgument,
    FunctionSpec,
    flag,
    object_schema,
    one_or_many,
    text,
)

if TYPE_CHECKING:
    from ..message.compose import ComposedMessage
    from ..message.parse import Email
    from .context import Context

log = logging.getLogger("nb_email_conn")


def _strict_bool(arguments: Arguments, name: str, default: bool) -> None:
    value = arguments.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be True or False.", field=name)
    arguments[name] = value


def _original_summary(original: Email) -> dict[str, Any]:
    import pandas as pd

    return {
        "from": original.sender,
        "subject": original.subject,
        "date": None if pd.isna(original.date) else original.date.isoformat(),
    }


# -- reply_email -----------------------------------------------------------------------------
def _prepare_reply(arguments: Arguments) -> Arguments:
    arguments = drop_none(arguments)
    arguments["ref"] = one_ref(arguments["ref"], "reply_email")
    if not isinstance(arguments.get("body"), str):
        raise InvalidInputError("body must be a string.", field="body")
    _strict_bool(arguments, "reply_all", False)
    _strict_bool(arguments, "quote", True)
    return arguments


def _compose_reply(context: Context, arguments: Arguments) -> tuple[Email, ComposedMessage]:
    from ..message.compose import build_message
    from ..message.reply import plan_reply

    original = fetch_email(context, arguments["ref"])
    plan = plan_reply(
        original,
        arguments.get("body", ""),
        reply_all=arguments.get("reply_all", False),
        own_addresses=context.own_addresses(),
        quote=arguments.get("quote", True),
        html=arguments.get("html"),
    )
    composed = build_message(
        sender=sender_of(context),
        to=plan.to,
        cc=plan.cc,
        subject=plan.subject,
        body=plan.body,
        html=plan.html,
        attachments=arguments.get("attachments"),
        in_reply_to=plan.in_reply_to,
        references=plan.references,
    )
    return original, composed


def _reply_preview(context: Context, arguments: Arguments) -> dict[str, Any]:
    from ..message.compose import preview_of

    original, composed = _compose_reply(context, arguments)
    return {**preview_of(composed, action="Reply"), "replying_to": _original_summary(original)}


def mark_answered(context: Context, ref: str, sent: SentEmail) -> None:
    """``\\Answered`` on the original; the mail is already out, so a failure is a warning, not an error."""
    try:
        context.mailbox.store_flags([MessageRef.parse(ref)], ["\\Answered"], [])
    except Exception as exc:
        sent.warnings.append(f"sent, but the original was not marked answered: {exc}")
        log.warning("reply %s sent but the original not marked answered: %s", sent.message_id, type(exc).__name__)


def _reply(context: Context, arguments: Arguments) -> SentEmail:
    _original, composed = _compose_reply(context, arguments)
    sent = submit(context, composed)
    mark_answered(context, arguments["ref"], sent)
    return sent


REPLY_EMAIL: FunctionSpec[SentEmail] = FunctionSpec(
    name="reply_email",
    seed_name=None,
    label="Reply to a message (threaded, quoted).",
    description="Reply to one message (by its ref): the reply goes to its Reply-To or sender (reply_all=true adds "
    "its To and Cc recipients, never the user), is threaded with In-Reply-To/References, and quotes the original "
    "unless quote=false. May need approval: if the result says pending_approval, tell the user.",
    default_policy=Policy.CONFIRM,
    writes=True,
    parameters=object_schema(
        {
            "ref": REF,
            "body": text("The reply's plain-text body (the quoted original follows it)."),
            "reply_all": flag("Also reply to the original's To and Cc recipients.", default=False),
            "html": text("Optional HTML version of the body."),
            "attachments": ATTACHMENTS,
            "quote": flag("Quote the original text below the reply.", default=True),
        },
        ["ref", "body"],
    ),
    prepare=_prepare_reply,
    preview=_reply_preview,
    run=_reply,
    summarize=summarize_sent,
    signature="reply_email(ref, body, *, reply_all=False, html=None, attachments=None, quote=True)",
    returns="`SentEmail`; the original gets `\\Answered`",
    editable=(EditableArgument("body", "multiline"), EditableArgument("html", "multiline", "HTML body")),
    positional=("ref", "body"),
    idempotent=False,
    sends=True,
)


# -- forward_email ---------------------------------------------------------------------------
def _prepare_forward(arguments: Arguments) -> Arguments:
    arguments = drop_none(arguments)
    arguments["ref"] = one_ref(arguments["ref"], "forward_email")
    if not isinstance(arguments.get("body", ""), str):
        raise InvalidInputError("body must be a string.", field="body")
    _strict_bool(arguments, "as_attachment", False)
    return arguments


def _compose_forward(context: Context, arguments: Arguments) -> tuple[Email, ComposedMessage]:
    from ..message.compose import build_message
    from ..message.reply import plan_forward

    original = fetch_email(context, arguments["ref"])
    plan = plan_forward(original, arguments.get("body", ""), as_attachment=arguments.get("as_attachment", False))
    composed = build_message(
        sender=sender_of(context),
        to=arguments.get("to"),
        cc=arguments.get("cc"),
        bcc=arguments.get("bcc"),
        subject=plan.subject,
        body=plan.body,
        attachments=plan.attachments,
        attached_message=plan.attached_message,
    )
    return original, composed


def _forward_preview(context: Context, arguments: Arguments) -> dict[str, Any]:
    from ..message.compose import preview_of

    original, composed = _compose_forward(context, arguments)
    return {**preview_of(composed, action="Forward"), "forwarding": _original_summary(original)}


def _forward(context: Context, arguments: Arguments) -> SentEmail:
    return submit(context, _compose_forward(context, arguments)[1])


FORWARD_EMAIL: FunctionSpec[SentEmail] = FunctionSpec(
    name="forward_email",
    seed_name=None,
    label="Forward a message with its attachments.",
    description="Forward one message (by its ref) to new recipients, inline with its attachments, or with "
    "as_attachment=true as the original message attached unchanged. May need approval: if the result says "
    "pending_approval, tell the user.",
    default_policy=Policy.CONFIRM,
    writes=True,
    parameters=object_schema(
        {
            "ref": REF,
            "to": one_or_many("Recipients. " + ADDRESSES),
            "body": text("A note above the forwarded message (may be empty).", default=""),
            "cc": one_or_many("Cc recipients. " + ADDRESSES),
            "bcc": one_or_many("Bcc recipients (never shown in the headers). " + ADDRESSES),
            "as_attachment": flag("Attach the original message as a .eml instead of inline.", default=False),
        },
        ["ref", "to"],
    ),
    prepare=_prepare_forward,
    preview=_forward_preview,
    run=_forward,
    summarize=summarize_sent,
    signature='forward_email(ref, to, body="", *, cc=None, bcc=None, as_attachment=False)',
    returns="`SentEmail`",
    editable=(
        EditableArgument("to", "addresses"),
        EditableArgument("cc", "addresses"),
        EditableArgument("bcc", "addresses"),
        EditableArgument("body", "multiline"),
    ),
    positional=("ref", "to", "body"),
    idempotent=False,
    sends=True,
)
