"""The functions that write mail: send_email and create_draft (replies and forwards: ``replying.py``)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .._async import run_sync
from ..errors import InvalidInputError
from ..policy import Policy
from .spec import ADDRESSES, ATTACHMENTS, Arguments, EditableArgument, FunctionSpec, object_schema, one_or_many, text

if TYPE_CHECKING:
    from ..message.compose import ComposedMessage
    from .context import Context

log = logging.getLogger("nb_email_conn")

# Providers that file sent mail in \Sent themselves; appending again would duplicate it.
SAVES_SENT_ITSELF = re.compile(r"(^|\.)(gmail\.com|googlemail\.com|office365\.com|outlook\.com)$", re.IGNORECASE)


@dataclass
class SentEmail:
    """What a send did: the Message-ID, who accepted it, and where a copy was filed."""

    message_id: str
    recipients: list[str]
    refused: dict[str, str] = field(default_factory=dict)
    sent_ref: str | None = None
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"sent {self.message_id} to {len(self.recipients)} recipient(s)"
        if self.refused:
            text += f"; refused: {', '.join(self.refused)}"
        return text


def sender_of(context: Context) -> str:
    sender = context.config.sender
    if sender is None:
        raise InvalidInputError(
            "this connection has no From address: the username is not an email address. "
            "Set from_address in its ConnectionConfig.",
            field="from_address",
        )
    return sender


def compose(context: Context, arguments: Arguments, *, draft: bool = False) -> ComposedMessage:
    from ..message.compose import build_message

    return build_message(
        sender=sender_of(context),
        to=arguments.get("to"),
        subject=arguments.get("subject", ""),
        body=arguments.get("body", ""),
        cc=arguments.get("cc"),
        bcc=arguments.get("bcc"),
        html=arguments.get("html"),
        attachments=arguments.get("attachments"),
        in_reply_to=arguments.get("in_reply_to"),
        references=arguments.get("references"),
        allow_no_recipients=draft,
    )


def submit(context: Context, composed: ComposedMessage) -> SentEmail:
    """One SMTP submission (never retried), then a copy in Sent unless the server files it."""
    from ..smtp.sender import SmtpSubmission

    data = composed.as_bytes()

    async def deliver() -> Any:
        async with SmtpSubmission(context.config, context.password) as smtp:
            await smtp.login()
            return await smtp.submit(composed.envelope_from, composed.recipients, data)

    result = run_sync(deliver())
    sent = SentEmail(composed.message_id, result.accepted, result.refused)
    if context.save_sent:
        try:
            sent_folder = context.session.require_special_folder("\\Sent")
            sent.sent_ref = context.mailbox.append(sent_folder, data, ["\\Seen"], datetime.now(timezone.utc))
        except Exception as exc:
            sent.warnings.append(f"sent, but not filed in Sent: {exc}")
            log.warning("message %s sent but not filed in Sent: %s", composed.message_id, type(exc).__name__)
    return sent


def drop_none(arguments: Arguments) -> Arguments:
    """Arguments left at None are not recorded (the audit log and previews stay short)."""
    return {key: value for key, value in arguments.items() if value is not None}


def summarize_sent(result: SentEmail) -> str:
    return str(result)


# -- send_email ------------------------------------------------------------------------------
def _send_preview(context: Context, arguments: Arguments) -> dict[str, Any]:
    from ..message.compose import preview_of

    return preview_of(compose(context, arguments))


def _send(context: Context, arguments: Arguments) -> SentEmail:
    return submit(context, compose(context, arguments))


COMPOSE_PROPERTIES: dict[str, Any] = {
    "to": one_or_many("Recipients. " + ADDRESSES),
    "subject": text("Subject line (one line)."),
    "body": text("Plain-text body."),
    "cc": one_or_many("Cc recipients. " + ADDRESSES),
    "bcc": one_or_many("Bcc recipients (never shown in the headers). " + ADDRESSES),
    "html": text("Optional HTML version of the body."),
    "attachments": ATTACHMENTS,
}
COMPOSE_EDITABLE = (
    EditableArgument("to", "addresses"),
    EditableArgument("cc", "addresses"),
    EditableArgument("bcc", "addresses"),
    EditableArgument("subject", "text"),
    EditableArgument("body", "multiline"),
    EditableArgument("html", "multiline", "HTML body"),
)

SEND_EMAIL: FunctionSpec[SentEmail] = FunctionSpec(
    name="send_email",
    seed_name="SendEmailAsync",
    label="Send mail as you.",
    description="Send an email from the user's account. May need a human's approval: if the result says "
    "pending_approval, tell the user it waits for their decision in the notebook.",
    default_policy=Policy.CONFIRM,
    writes=True,
    parameters=object_schema(
        {
            **COMPOSE_PROPERTIES,
            "in_reply_to": text("Message-ID of the message this replies to (threads the reply)."),
        },
        ["to", "subject", "body"],
    ),
    prepare=drop_none,
    preview=_send_preview,
    run=_send,
    summarize=summarize_sent,
    signature="send_email(to, subject, body, *, cc, bcc, html, attachments, in_reply_to)",
    returns="`SentEmail` (message_id, recipients, sent_ref)",
    editable=COMPOSE_EDITABLE,
    positional=("to", "subject", "body"),
    idempotent=False,
    sends=True,
)


# -- create_draft ----------------------------------------------------------------------------
def _draft_arguments(context: Context, arguments: Arguments) -> Arguments:
    """``in_reply_to`` may be a ref: then the draft threads like a reply to that message."""
    parent = arguments.get("in_reply_to")
    if not isinstance(parent, str) or not parent.lower().startswith("imap://"):
        return arguments
    from ..message.reply import threading_for
    from .reading import fetch_email

    in_reply_to, references = threading_for(fetch_email(context, parent))
    changed = {key: value for key, value in arguments.items() if key != "in_reply_to"}
    if in_reply_to is not None:
        changed["in_reply_to"] = in_reply_to
    if references:
        changed["references"] = references
    return changed


def _draft_preview(context: Context, arguments: Arguments) -> dict[str, Any]:
    from ..message.compose import preview_of

    # Without the action the reviewer read "Send ..." for a message that is only saved.
    return preview_of(compose(context, _draft_arguments(context, arguments), draft=True), action="Save draft")


def _draft(context: Context, arguments: Arguments) -> str | None:
    composed = compose(context, _draft_arguments(context, arguments), draft=True)
    drafts = context.session.require_special_folder("\\Drafts")
    ref = context.mailbox.append(drafts, composed.as_bytes(), ["\\Draft", "\\Seen"], datetime.now(timezone.utc))
    return ref or context.mailbox.find_by_message_id(drafts, composed.message_id)


def _prepare_draft(arguments: Arguments) -> Arguments:
    arguments = drop_none(arguments)
    parent = arguments.get("in_reply_to")
    if isinstance(parent, str) and parent.lower().startswith("imap://"):
        from .reading import one_ref

        arguments["in_reply_to"] = one_ref(parent, "create_draft")
    return arguments


CREATE_DRAFT: FunctionSpec[str | None] = FunctionSpec(
    name="create_draft",
    seed_name="CreateDraftAsync",
    label="Save a draft in Drafts.",
    description="Save a message in the Drafts folder without sending it; returns the draft's ref.",
    default_policy=Policy.ENABLED,
    writes=True,
    parameters=object_schema(
        {
            **COMPOSE_PROPERTIES,
            "in_reply_to": text(
                "The ref (from search_emails) or Message-ID of the message this draft answers (threads it)."
            ),
        },
        ["subject", "body"],
    ),
    prepare=_prepare_draft,
    preview=_draft_preview,
    run=_draft,
    summarize=lambda ref: f"saved as {ref}" if ref else "saved",
    signature="create_draft(to, subject, body, *, cc, bcc, html, attachments, in_reply_to)",
    returns="ref of the draft",
    editable=COMPOSE_EDITABLE,
    positional=("to", "subject", "body"),
    idempotent=False,
)
