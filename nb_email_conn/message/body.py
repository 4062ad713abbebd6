"""The body of a parsed message: its text and HTML parts and its attachments.

:func:`walk` visits the MIME tree the ``email`` package parsed: ``text/plain`` and
``text/html`` parts that are not attachments are the body, everything else (files,
inline images, attached messages) an :class:`Attachment`. Broken parts never raise.
"""

from __future__ import annotations

import contextlib
import mimetypes
import re
from email.message import Message

from .charsets import decode_labelled, fix_surrogates
from .filenames import safe_filename
from .headers import decode_text, field_text
from .model import Attachment

# Alternative renderings a mail client shows instead of text/plain; never attachments.
_IGNORED_ALTERNATIVES = {"text/enriched", "text/richtext", "text/watch-html", "text/x-amp-html"}


def part_header(part: Message, name: str) -> str:
    """The first ``name`` header of a MIME part as one line of text ("" when absent),
    read from the bytes the parser kept (``headers.field_text``; encoded words left)."""
    wanted = name.lower()
    for key, raw in part.raw_items():
        if key.lower() == wanted:
            return field_text(str(raw).encode("utf-8", "surrogateescape"))
    return ""


class Body:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.attachments: list[Attachment] = []


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        return None
    name = re.sub(r"[\x00-\x1f\x7f]", "", fix_surrogates(str(name))).strip()
    return name or None


def _payload_bytes(part: Message) -> bytes:
    with contextlib.suppress(Exception):
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_labelled(_payload_bytes(part), charset).replace("\r\n", "\n")


def _content_id(part: Message) -> str | None:
    value = part_header(part, "Content-ID")
    return value.strip("<>") or None


def _attachment(part: Message, content_type: str, data: bytes, name: str | None, counter: int) -> Attachment:
    filename = name or f"part-{counter}{mimetypes.guess_extension(content_type) or '.bin'}"
    cid = _content_id(part)
    inline = _disposition(part) == "inline" or (cid is not None and _disposition(part) != "attachment")
    return Attachment(filename, content_type, len(data), data, cid, inline)


def _attached_message(part: Message, content_type: str, body: Body) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    name = _filename(part)
    if inner is not None:
        try:
            data = inner.as_bytes()
        except Exception:
            data = _payload_bytes(part)
        if not name:
            subject = decode_text(part_header(inner, "Subject"))
            name = (safe_filename(subject)[:100] if subject else "message") + ".eml"
    else:
        data = _payload_bytes(part)
    body.attachments.append(_attachment(part, content_type, data, name or "message.eml", len(body.attachments) + 1))


def walk(part: Message, body: Body, in_alternative: bool = False, depth: int = 0) -> None:
    content_type = _content_type(part)
    maintype = content_type.split("/")[0]
    if depth > 50:  # a hostile nesting depth: stop rather than recurse forever
        return
    if content_type in {"message/rfc822", "message/global"}:
        _attached_message(part, content_type, body)
        return
    if part.is_multipart():
        subparts = part.get_payload()
        if isinstance(subparts, list):
            for sub in subparts:
                if isinstance(sub, Message):
                    walk(sub, body, content_type == "multipart/alternative", depth + 1)
        return
    if maintype == "multipart":
        # A multipart without a usable boundary: show what is there as text.
        body.texts.append(_part_text(part))
        return
    name = _filename(part)
    disposition = _disposition(part)
    is_body = disposition != "attachment" and name is None
    if is_body and content_type == "text/plain":
        body.texts.append(_part_text(part))
    elif is_body and content_type == "text/html":
        body.htmls.append(_part_text(part))
    elif in_alternative and is_body and content_type in _IGNORED_ALTERNATIVES:
        return
    else:
        body.attachments.append(_attachment(part, content_type, _payload_bytes(part), name, len(body.attachments) + 1))
