"""Build outgoing messages safely.

Every header value is checked before it reaches ``EmailMessage`` (CR/LF/NUL refused,
addresses parsed strictly), Bcc recipients go only into the SMTP envelope, and the
message is serialised with the SMTP policy (CRLF line ends, encoded non-ASCII headers).

Attached messages (``message/rfc822``: a forwarded original, an ``.eml`` attachment) are
carried byte for byte (see ``rfc822.py``): the message holds a placeholder part for each,
and :meth:`ComposedMessage.as_bytes` splices the bytes in.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy as email_policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from ..errors import InvalidInputError
from ..validation import Address, check_text, parse_address, parse_addresses
from .formatting import format_address, size_text
from .rfc822 import ATTACHED_MESSAGE_NAME, MESSAGE_TYPES, attach_message, boundary_outside, splice

Recipients: TypeAlias = "str | Address | Iterable[str | Address] | None"
AttachmentSpec: TypeAlias = "str | Path | tuple[Any, ...] | Mapping[str, Any] | pd.DataFrame"

_MSG_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
_EXCERPT = 500


@dataclass
class ComposedMessage:
    """A message ready to send or to append as a draft.

    ``message`` carries no Bcc header; ``recipients`` (the SMTP envelope) does include
    the Bcc addresses. An attached message (``message/rfc822``) is a placeholder in
    ``message``: :meth:`as_bytes` is the message as sent, with its bytes spliced in.
    """

    message: EmailMessage
    envelope_from: str
    recipients: list[str]
    message_id: str
    sender: Address
    subject: str
    text: str
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    attachments: list[tuple[str, str, int]] = field(default_factory=list)
    spliced: dict[str, bytes] = field(default_factory=dict, repr=False)
    """Placeholder token -> the bytes of an attached message (CRLF line ends)."""

    def as_bytes(self) -> bytes:
        """The message as sent on the wire (SMTP policy: CRLF line ends), attached
        messages spliced in byte for byte. Not pure ASCII when an attached message has
        8-bit bytes (its part then says ``Content-Transfer-Encoding: 8bit``)."""
        return splice(self.message.as_bytes(policy=email_policy.SMTP), self.spliced)

    @property
    def eight_bit(self) -> bool:
        """True when the wire form has 8-bit bytes (an attached message that is not
        ASCII): SMTP needs ``BODY=8BITMIME`` for it."""
        return any(not raw.isascii() for raw in self.spliced.values())

    def __repr__(self) -> str:
        return (
            f"ComposedMessage(subject={self.subject!r}, to={len(self.to)}, cc={len(self.cc)}, "
            f"bcc={len(self.bcc)}, attachments={len(self.attachments)})"
        )


# --------------------------------------------------------------------------- addresses


def _recipients(value: Recipients, field_name: str) -> list[Address]:
    if value is None:
        return []
    if isinstance(value, Address):
        items: list[str | Address] = [value]
    elif isinstance(value, str):
        items = [value]
    else:
        try:
            items = list(value)
        except TypeError:
            raise InvalidInputError(
                f"{field_name} must be an address string or a list of them, not {type(value).__name__}.",
                field=field_name,
            ) from None
    result: list[Address] = []
    for item in items:
        if isinstance(item, Address):
            check_text(item.name, field_name)
            addr = parse_address(item.addr, field_name).addr
            result.append(Address(item.name, addr))
        elif isinstance(item, str):
            result.extend(parse_addresses(item, field_name))
        else:
            raise InvalidInputError(
                f"{field_name} must contain address strings, not {type(item).__name__}.", field=field_name
            )
    return [Address(a.name, _ascii_domain(a.addr, field_name)) for a in result]


def _ascii_domain(addr: str, field_name: str) -> str:
    """Internationalised domains go on the wire as IDNA (xn--) so no SMTPUTF8 is needed."""
    local, _, domain = addr.rpartition("@")
    if domain.isascii():
        return addr
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        raise InvalidInputError(f"{field_name}: {addr!r} has an invalid domain.", field=field_name) from None


def _header_address(address: Address) -> HeaderAddress:
    local, _, domain = address.addr.rpartition("@")
    return HeaderAddress(display_name=address.name, username=local.strip('"'), domain=domain)


def _dedupe(addresses: Iterable[Address]) -> list[str]:
    seen: set[str] = set()
    result: list[str] = []
    for address in addresses:
        if address.addr.lower() not in seen:
            seen.add(address.addr.lower())
            result.append(address.addr)
    return result


# --------------------------------------------------------------------------- message ids


def normalize_message_id(value: str, field_name: str = "in_reply_to") -> str:
    """``<local@domain>``; angle brackets are added when missing. Spaces and line breaks
    are refused, because they would let a value smuggle in another header."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{field_name} must be a string.", field=field_name)
    check_text(value, field_name)
    text = value.strip()
    if not text.startswith("<"):
        text = f"<{text}>"
    if not _MSG_ID.match(text):
        raise InvalidInputError(
            f"{field_name}: {value[:200]!r} is not a Message-ID; it should look like <id@example.org>.",
            field=field_name,
        )
    return text


# --------------------------------------------------------------------------- attachments


def _check_filename(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidInputError("attachment file names must be strings.", field="attachments")
    check_text(name, "attachments", allow_empty=False)
    base = re.split(r"[/\\]", name)[-1].strip()
    if not base or base in {".", ".."}:
        raise InvalidInputError(f"attachment file name {name!r} has no base name.", field="attachments")
    return base


def _guess_type(filename: str, given: Any = None) -> str:
    if given is not None:
        content_type = check_text(str(given), "attachments", allow_empty=False).strip().lower()
        if not re.match(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$", content_type):
            raise InvalidInputError(f"{given!r} is not a content type like 'text/csv'.", field="attachments")
        return content_type
    guessed, encoding = mimetypes.guess_type(filename)
    if guessed is None or encoding is not None:  # report.csv.gz is gzip data, not CSV
        return "application/octet-stream"
    return guessed


def dataframe_csv(frame: pd.DataFrame) -> bytes:
    """A DataFrame as UTF-8 CSV; the index is kept only when it carries information."""
    keep_index = not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None)
    return frame.to_csv(index=keep_index).encode("utf-8")


def _attachment(item: Any) -> tuple[str, str, bytes]:
    """(filename, content_type, data) from any supported attachment form."""
    if isinstance(item, pd.DataFrame):
        return "data.csv", "text/csv; charset=utf-8", dataframe_csv(item)
    if isinstance(item, (str, Path)):
        path = Path(item)
        if not path.is_file():
            raise InvalidInputError(f"attachment {str(item)!r} is not an existing file.", field="attachments")
        name = _check_filename(path.name)
        return name, _guess_type(name), path.read_bytes()
    if isinstance(item, Mapping):
        unknown = set(item) - {"filename", "data", "content_type"}
        if unknown or "filename" not in item or "data" not in item:
            raise InvalidInputError(
                "an attachment dict needs 'filename' and 'data' (and optionally 'content_type').",
                field="attachments",
            )
        return _attachment((item["filename"], item["data"], item.get("content_type")))
    if isinstance(item, tuple) and len(item) in (2, 3):
        name = _check_filename(item[0])
        data = item[1]
        given = item[2] if len(item) == 3 else None
        if isinstance(data, pd.DataFrame):
            return name, _guess_type(name, given or "text/csv") + "; charset=utf-8", dataframe_csv(data)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInputError(f"attachment {name!r}: data must be bytes.", field="attachments")
        return name, _guess_type(name, given), bytes(data)
    raise InvalidInputError(
        f"unsupported attachment {type(item).__name__}: use a path, (filename, bytes[, content_type]), "
        "a dict with filename/data, or a DataFrame.",
        field="attachments",
    )


def _attachment_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, Path, tuple, Mapping, pd.DataFrame)):
        return [value]
    return list(value)


# --------------------------------------------------------------------------- build


def build_message(
    *,
    sender: str,
    to: Recipients,
    subject: str,
    body: str,
    cc: Recipients = None,
    bcc: Recipients = None,
    html: str | None = None,
    attachments: AttachmentSpec | Iterable[AttachmentSpec] | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] | None = None,
    message_id_domain: str | None = None,
    date: datetime | None = None,
    allow_no_recipients: bool = False,
    attached_message: bytes | None = None,
    attached_message_name: str = ATTACHED_MESSAGE_NAME,
) -> ComposedMessage:
    """Check every argument and build the message; raises ``InvalidInputError`` naming the
    field at the first problem. ``allow_no_recipients=True`` is for drafts.

    ``attached_message``: the bytes of a whole message (a forwarded original) to attach,
    after the other attachments, as one ``message/rfc822`` part named
    ``attached_message_name``. Its bytes are carried unmodified except that line ends
    become CRLF (bare LF or CR is not allowed in 7bit or 8bit MIME bodies, nor on the SMTP
    wire); ``Content-Transfer-Encoding`` is ``7bit``, or ``8bit`` when they are not ASCII.
    Attachments whose content type is ``message/rfc822`` or ``message/global`` (a
    ``.eml`` file) are carried the same way. Only data that no 7bit/8bit body can carry
    (NUL bytes, lines over 998 bytes) falls back to base64 (which RFC 2046 does not
    foresee for these types, but which is then the one way to deliver it intact over
    SMTP)."""
    from_address = parse_address(sender, "sender") if isinstance(sender, str) else None
    if from_address is None:
        raise InvalidInputError("sender must be an address string.", field="sender")
    from_address = Address(from_address.name, _ascii_domain(from_address.addr, "sender"))
    to_list, cc_list, bcc_list = _recipients(to, "to"), _recipients(cc, "cc"), _recipients(bcc, "bcc")
    if not (to_list or cc_list or bcc_list or allow_no_recipients):
        raise InvalidInputError("give at least one recipient in to, cc or bcc.", field="to")
    check_text(subject, "subject")
    if not isinstance(body, str):
        raise InvalidInputError("body must be a string.", field="body")
    if "\x00" in body:
        raise InvalidInputError("body contains a NUL character; remove it.", field="body")
    if html is not None and (not isinstance(html, str) or "\x00" in html):
        raise InvalidInputError("html must be a string without NUL characters.", field="html")
    parent = normalize_message_id(in_reply_to, "in_reply_to") if in_reply_to is not None else None
    if isinstance(references, str):
        references = references.split()
    refs = [normalize_message_id(r, "references") for r in (references or [])]
    if parent and parent not in refs:
        refs.append(parent)
    domain = message_id_domain or from_address.addr.rpartition("@")[2]
    check_text(domain, "message_id_domain", allow_empty=False)
    if re.search(r"[\s<>@]", domain):
        raise InvalidInputError(f"message_id_domain {domain!r} is not a domain.", field="message_id_domain")
    files = [_attachment(item) for item in _attachment_list(attachments)]
    if attached_message is not None:
        if not isinstance(attached_message, (bytes, bytearray, memoryview)):
            raise InvalidInputError("attached_message must be the bytes of a message.", field="attached_message")
        files.append((_check_filename(attached_message_name), "message/rfc822", bytes(attached_message)))

    # 7bit: non-ASCII bodies get quoted-printable/base64, so no server needs 8BITMIME.
    message = EmailMessage(policy=email_policy.default.clone(cte_type="7bit"))
    message["From"] = _header_address(from_address)
    if to_list:
        message["To"] = [_header_address(a) for a in to_list]
    if cc_list:
        message["Cc"] = [_header_address(a) for a in cc_list]
    message["Subject"] = subject
    when = date if date is not None else datetime.now(timezone.utc)
    message["Date"] = format_datetime(when if when.tzinfo else when.replace(tzinfo=timezone.utc))
    message_id = make_msgid(domain=domain)
    message["Message-ID"] = message_id
    if parent:
        message["In-Reply-To"] = parent
    if refs:
        message["References"] = " ".join(refs)
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    spliced: dict[str, bytes] = {}
    sizes: list[int] = []
    for name, content_type, data in files:
        if content_type in MESSAGE_TYPES:
            token, wire, size = attach_message(message, name, content_type, data)
            spliced[token] = wire
            sizes.append(size)
            continue
        maintype, _, subtype = content_type.partition("/")
        # DataFrames are CSV in UTF-8; say so, or readers decode non-ASCII cells as ASCII.
        subtype, _, charset = subtype.partition("; charset=")
        params = {"charset": charset} if charset else {}
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name, params=params)
        sizes.append(len(data))
    if spliced:
        message.set_boundary(boundary_outside(spliced.values()))
    return ComposedMessage(
        message=message,
        envelope_from=from_address.addr,
        recipients=_dedupe([*to_list, *cc_list, *bcc_list]),
        message_id=message_id,
        sender=from_address,
        subject=subject,
        text=body,
        to=to_list,
        cc=cc_list,
        bcc=bcc_list,
        attachments=[
            (name, content_type.split(";")[0], size) for (name, content_type, _), size in zip(files, sizes, strict=True)
        ],
        spliced=spliced,
    )


# --------------------------------------------------------------------------- preview


def preview_of(composed: ComposedMessage, *, action: str = "Send") -> dict[str, Any]:
    """What a reviewer needs to approve a send: resolved recipients (Bcc included),
    subject, the start of the body and the attachments with their sizes. ``action``
    starts the summary line ("Send", "Save draft")."""
    excerpt = composed.text[:_EXCERPT] + ("…" if len(composed.text) > _EXCERPT else "")
    count = len(composed.recipients)
    subject = composed.subject if len(composed.subject) <= 80 else composed.subject[:79] + "…"
    summary = f"{action} {subject!r} to {count} recipient{'s' if count != 1 else ''}"
    if composed.attachments:
        total = sum(size for _, _, size in composed.attachments)
        n = len(composed.attachments)
        summary += f" with {n} attachment{'s' if n != 1 else ''} ({size_text(total)})"
    return {
        "summary": summary,
        "from": _display(composed.sender),
        "to": [_display(a) for a in composed.to],
        "cc": [_display(a) for a in composed.cc],
        "bcc": [_display(a) for a in composed.bcc],
        "recipients": list(composed.recipients),
        "subject": composed.subject,
        "body_excerpt": excerpt,
        "attachments": [
            {"filename": name, "content_type": content_type, "size": size}
            for name, content_type, size in composed.attachments
        ],
        "size": len(composed.as_bytes()),
    }


def _display(address: Address) -> str:
    return format_address(address.name, address.addr)
