"""What a reply or a forward says: recipients, subject, threading headers, quoted text.

Pure functions over an :class:`~nb_email_conn.message.parse.Email` (no network): the
connection fetches the original, asks these for a plan, and builds the message with
:func:`~nb_email_conn.message.compose.build_message`.

Subject prefixes. A reply's subject starts with exactly one ``Re: ``: a leading run of
reply prefixes is removed first, in any letter case, with or without a counter and with
spaces before the colon or a full-width colon: ``Re:``, ``RE:``, ``Re[2]:``, ``Re(3):``,
``Re: Re:``, and the common localised ones, ``AW:`` (German), ``SV:`` (Scandinavian),
``Antw:`` (Dutch), ``回复:`` / ``答复:`` (Chinese). A forward's subject starts with exactly
one ``Fwd: ``: a leading run of ``Fwd:``, ``Fw:`` and ``WG:`` (German) is removed first.
Only the leading run of the function's own kind is removed, so replying to
``Fwd: plan`` gives ``Re: Fwd: plan`` and forwarding ``Re: plan`` gives ``Fwd: Re: plan``,
as mail clients do.

The original's addresses are read strictly: see ``reply_addresses.py``.
"""

from __future__ import annotations

import html as html_lib
import mimetypes
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

import pandas as pd

from ..errors import InvalidInputError
from ..validation import Address, parse_addresses
from .compose import normalize_message_id
from .parse import Attachment, Email
from .reply_addresses import CONTROL, address_key, header_addresses, header_values, mailboxes
from .rfc822 import ATTACHED_MESSAGE_NAME

__all__ = [
    "FORWARD_SEPARATOR",
    "ForwardPlan",
    "ReplyPlan",
    "attribution",
    "forward_subject",
    "forwarded_block",
    "original_date",
    "own_addresses",
    "plan_forward",
    "plan_reply",
    "quote_text",
    "reply_recipients",
    "reply_subject",
    "threading_for",
]

_COLON = r"\s*[:\uff1a]\s*"
_REPLY_PREFIXES = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|回复|答复)(?:\s*[\[(]\s*\d+\s*[\])])?" + _COLON + r")+", re.IGNORECASE
)
_FORWARD_PREFIXES = re.compile(r"^\s*(?:(?:fwd|fw|wg|转发)" + _COLON + r")+", re.IGNORECASE)
_ID = re.compile(r"<[^<>\s]+>")
_MAX_REFERENCES = 100

FORWARD_SEPARATOR = "---------- Forwarded message ---------"


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class ReplyPlan:
    """Everything a reply needs besides the sender: pass ``to``, ``cc``, ``subject``,
    ``body`` (and ``html`` when one was given), ``in_reply_to`` and ``references`` to
    ``build_message``."""

    to: list[Address]
    cc: list[Address]
    subject: str
    body: str
    in_reply_to: str | None
    references: list[str]
    html: str | None = None


@dataclass(frozen=True)
class ForwardPlan:
    """Subject, body and attachments of a forward. ``attachments`` are
    ``(filename, data, content_type)`` tuples (the original's, for an inline forward);
    ``attached_message`` is the original's raw bytes when it is forwarded as an
    attachment (pass it as ``build_message(attached_message=...)``), else None."""

    subject: str
    body: str
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    attached_message: bytes | None = None
    attached_message_name: str = ATTACHED_MESSAGE_NAME


# --------------------------------------------------------------------------- subjects


def reply_subject(subject: str) -> str:
    """``Re: `` once: ``"RE: Re[2]: AW: plan"`` -> ``"Re: plan"`` (prefixes: module docstring)."""
    rest = _REPLY_PREFIXES.sub("", subject or "").strip()
    return f"Re: {rest}".rstrip()


def forward_subject(subject: str) -> str:
    """``Fwd: `` once: ``"FW: Fwd: plan"`` -> ``"Fwd: plan"``."""
    rest = _FORWARD_PREFIXES.sub("", subject or "").strip()
    return f"Fwd: {rest}".rstrip()


# --------------------------------------------------------------------------- threading


def _valid_id(value: str | None) -> str | None:
    if not value:
        return None
    found = _ID.search(value)
    try:
        return normalize_message_id(found.group() if found else value.strip())
    except InvalidInputError:
        return None


def threading_for(original: Email) -> tuple[str | None, list[str]]:
    """``(in_reply_to, references)`` for a message that answers ``original``.

    ``in_reply_to`` is the original's Message-ID; ``references`` is the original's
    References (else its In-Reply-To) followed by its Message-ID. Ids that are not valid
    Message-IDs are left out (they would be refused by ``build_message``) and repeats are
    dropped. An original without a (valid) Message-ID gives ``in_reply_to=None``: the
    answer can still be sent, it just cannot name its parent, and its References still
    carry the original's ancestors. A chain longer than 100 ids keeps the first (the
    thread's root) and the last 99, as mail clients trim it.
    """
    parent = _valid_id(original.message_id)
    chain = [i for i in (_valid_id(r) for r in original.references) if i]
    if not chain and (grandparent := _valid_id(original.in_reply_to)):
        chain = [grandparent]
    if parent:
        chain.append(parent)
    references = list(dict.fromkeys(chain))
    if len(references) > _MAX_REFERENCES:
        references = [references[0], *references[-(_MAX_REFERENCES - 1) :]]
    return parent, references


# --------------------------------------------------------------------------- addresses


def own_addresses(*values: str | None) -> frozenset[str]:
    """The user's own addresses for ``plan_reply``, lower-cased, from e.g.
    ``config.from_address`` (``"Alice <alice@example.org>"`` works) and
    ``config.username``; values that are not addresses (a username like ``alice``) and
    None are skipped."""
    result: set[str] = set()
    for value in values:
        if not value:
            continue
        try:
            result.update(a.addr.lower() for a in parse_addresses(value, "own_addresses"))
        except InvalidInputError:
            continue
    return frozenset(result)


def _from_addresses(original: Email) -> list[Address]:
    values = header_values(original, "From")
    if not values and original.from_addr:  # an Email built by hand, without raw bytes or headers
        values = [str(Address(original.from_name, original.from_addr))]
    try:
        found = [a for value in values for a in mailboxes(value, "From")]
    except InvalidInputError:
        found = []
    if not found:
        shown = values[0][:200] if values else ""
        raise InvalidInputError(
            f"cannot reply: the original has no Reply-To and its From {shown!r} is not an address that can "
            "be parsed unambiguously, so there is no recipient to reply to (nothing is guessed). "
            "Use send_email with the address you mean.",
            field="ref",
        )
    return found


def _unique(addresses: Iterable[Address], seen: set[str], skip: Collection[str] = ()) -> list[Address]:
    result: list[Address] = []
    for address in addresses:
        key = address_key(address.addr)
        if key in seen or key in skip:
            continue
        seen.add(key)
        result.append(address)
    return result


def reply_recipients(
    original: Email, *, reply_all: bool = False, own_addresses: Collection[str] = ()
) -> tuple[list[Address], list[Address]]:
    """``(to, cc)`` of a reply: To is the original's Reply-To (all of its addresses), else
    its From; ``reply_all`` adds the original's To (to To) and Cc (to Cc), without the
    user's ``own_addresses`` and without repeats, compared case-insensitively. The
    Reply-To / From recipients themselves are kept even when they are the user's own
    (replying to a message you sent answers yourself, as the contract says)."""
    reply_to = header_addresses(original, "Reply-To")
    primary = reply_to or _from_addresses(original)
    seen: set[str] = set()
    to = _unique(primary, seen)
    cc: list[Address] = []
    if reply_all:
        own = {address_key(a) for a in own_addresses}
        to += _unique(header_addresses(original, "To"), seen, own)
        cc = _unique(header_addresses(original, "Cc"), seen, own)
    return to, cc


# --------------------------------------------------------------------------- quoting


def original_date(original: Email) -> str | None:
    """The original's date as RFC 5322 text, in the zone its Date header gave
    (``Fri, 01 Mar 2024 10:00:00 +0100``; ``-0000`` when it said the zone is unknown);
    None when it has no readable date."""
    for value in header_values(original, "Date"):
        try:
            return format_datetime(parsedate_to_datetime(value))
        except (TypeError, ValueError, IndexError, OverflowError):
            break
    if pd.isna(original.date):
        return None
    stamp: datetime = original.date.to_pydatetime()
    return format_datetime(stamp)


def _sender_label(original: Email) -> str:
    return original.from_name or original.from_addr or "someone"


def attribution(original: Email) -> str:
    """``On <RFC 5322 date>, <display name, else address> wrote:`` (``<name> wrote:``
    when the original has no readable date)."""
    when = original_date(original)
    who = _sender_label(original)
    return f"On {when}, {who} wrote:" if when else f"{who} wrote:"


def _original_lines(original: Email) -> list[str]:
    text = original.text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return text.split("\n") if text.strip() else []


def quote_text(original: Email) -> str:
    """The attribution line, then every line of the original's text prefixed ``> ``;
    "" when the original has no text."""
    lines = _original_lines(original)
    if not lines:
        return ""
    return "\n".join([attribution(original), *(f"> {line}" for line in lines)]) + "\n"


def _quote_html(original: Email, html: str) -> str:
    lines = _original_lines(original)
    if not lines:
        return html
    quoted = "<br>\n".join(html_lib.escape(line) for line in lines)
    block = (
        f'<div class="nb-email-conn-quote"><p>{html_lib.escape(attribution(original))}</p>\n'
        f'<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">'
        f"{quoted}</blockquote></div>"
    )
    at = html.lower().rfind("</body>")
    return html[:at] + block + html[at:] if at >= 0 else f"{html}\n{block}"


def _join(first: str, second: str) -> str:
    first = first.rstrip("\n")
    if not first:
        return second
    return f"{first}\n\n{second}" if second else f"{first}\n"


# --------------------------------------------------------------------------- reply


def plan_reply(
    original: Email,
    body: str,
    *,
    reply_all: bool = False,
    own_addresses: Collection[str] = (),
    quote: bool = True,
    html: str | None = None,
) -> ReplyPlan:
    """The reply to ``original``: recipients (:func:`reply_recipients`), ``Re: `` subject
    (:func:`reply_subject`), threading headers (:func:`threading_for`; no In-Reply-To when
    the original has no Message-ID) and the body: ``body``, then with ``quote=True`` a blank
    line and :func:`quote_text` of the original. ``html``, when given, gets the same quote as
    a ``<blockquote>`` (before ``</body>`` when it has one).

    Raises ``InvalidInputError`` (field ``ref``) when there is no one to reply to: no
    Reply-To and a From that cannot be parsed unambiguously; or, with ``reply_all``, when a
    To/Cc header of the original cannot be parsed unambiguously.
    """
    if not isinstance(body, str):
        raise InvalidInputError("body must be a string.", field="body")
    if html is not None and not isinstance(html, str):
        raise InvalidInputError("html must be a string.", field="html")
    to, cc = reply_recipients(original, reply_all=reply_all, own_addresses=own_addresses)
    in_reply_to, references = threading_for(original)
    text = _join(body, quote_text(original)) if quote else body
    if html is not None and quote:
        html = _quote_html(original, html)
    return ReplyPlan(
        to=to,
        cc=cc,
        subject=reply_subject(original.subject),
        body=text,
        in_reply_to=in_reply_to,
        references=references,
        html=html,
    )


# --------------------------------------------------------------------------- forward


def forwarded_block(original: Email) -> str:
    """The inline forward: the separator line, the original's From, Date, Subject, To and
    Cc (lines whose value is unknown or empty are left out), a blank line, its text."""
    rows = [
        ("From", original.sender),
        ("Date", original_date(original) or ""),
        ("Subject", original.subject),
        ("To", ", ".join(original.to)),
        ("Cc", ", ".join(original.cc)),
    ]
    header = "\n".join([FORWARD_SEPARATOR, *(f"{name}: {value}" for name, value in rows if value)])
    text = original.text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return f"{header}\n\n{text}\n" if text else f"{header}\n"


def _forward_attachment(attachment: Attachment, number: int) -> tuple[str, bytes, str]:
    """The original's attachment as ``build_message`` takes it: same name, type and bytes;
    only a name or type that ``build_message`` would refuse is replaced."""
    content_type = (attachment.content_type or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", content_type):
        content_type = "application/octet-stream"
    filename = CONTROL.sub("", attachment.filename or "")
    base = re.split(r"[/\\]", filename)[-1].strip()
    if not base or base in {".", ".."}:
        filename = f"attachment-{number}{mimetypes.guess_extension(content_type) or '.bin'}"
    return filename, bytes(attachment.data), content_type


def plan_forward(original: Email, body: str = "", *, as_attachment: bool = False) -> ForwardPlan:
    """The forward of ``original``: ``Fwd: `` subject (:func:`forward_subject`) and either

    - inline (default): ``body``, a blank line and :func:`forwarded_block`, with every
      attachment of the original (inline images included) as ``(filename, decoded bytes,
      content type)``, byte for byte; or
    - ``as_attachment=True``: ``body`` only, and the original's raw bytes (``Email.raw``,
      the server's ``BODY[]``) as ``attached_message``, to become one ``message/rfc822``
      part. Raises ``InvalidInputError`` (field ``ref``) when the Email has no raw bytes.
    """
    if not isinstance(body, str):
        raise InvalidInputError("body must be a string.", field="body")
    subject = forward_subject(original.subject)
    if as_attachment:
        if not original.raw:
            raise InvalidInputError(
                "cannot forward as an attachment: the original's bytes are not available.", field="ref"
            )
        text = body if not body or body.endswith("\n") else body + "\n"
        return ForwardPlan(subject=subject, body=text, attached_message=bytes(original.raw))
    return ForwardPlan(
        subject=subject,
        body=_join(body, forwarded_block(original)),
        attachments=[_forward_attachment(a, n) for n, a in enumerate(original.attachments, 1)],
    )
