"""Turn the raw bytes of a message into an :class:`Email`.

Real mail is often broken (unknown charsets, bad dates, 8-bit headers, broken base64,
missing boundaries). Nothing here raises on bad input: a part that cannot be decoded
is decoded with replacement characters, a header that cannot be parsed falls back to
its raw text, a date that cannot be parsed becomes ``NaT``.

The top-level headers are read from the message's header block with ``headers.py``, the
code search rows use too, so ``get_email`` and ``search_emails`` show the same subject,
sender and recipients. The MIME tree (body and attachments) is the ``email`` package's.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from datetime import timezone
from email import policy as email_policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import pandas as pd

from .body import Body, walk
from .formatting import format_address
from .headers import (
    decode_text,
    decoded_value,
    first_address,
    first_fields,
    header_block,
    header_fields,
    parse_address_list,
)
from .model import Attachment, Email, text_from_html

if TYPE_CHECKING:
    from pandas.api.typing import NaTType

__all__ = ["Attachment", "Email", "parse_email"]

_MSG_ID = re.compile(r"<[^<>\s]+>")


def _date(text: str) -> pd.Timestamp | NaTType:
    if not text:
        return pd.NaT
    try:
        parsed = parsedate_to_datetime(text)
        if parsed.tzinfo is None:  # "-0000": the zone is unknown; RFC 5322 says treat it as UTC
            parsed = parsed.replace(tzinfo=timezone.utc)
        stamp: pd.Timestamp = pd.Timestamp(parsed).tz_convert("UTC")
    except Exception:  # unparsable, or outside the range pandas can represent
        return pd.NaT
    return stamp


def _message_ids(value: str) -> list[str]:
    ids = _MSG_ID.findall(value)
    return ids if ids else value.split()


def _all_headers(block: bytes) -> dict[str, str]:
    """Each header name (as first spelled) -> its decoded values joined with ", "."""
    values: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, text in header_fields(block):
        key = spelling.setdefault(name.lower(), name)
        values.setdefault(key, []).append(decoded_value(name, text))
    return {key: ", ".join(v) for key, v in values.items()}


def _addresses(text: str) -> list[str]:
    return [format_address(name, addr) for name, addr in parse_address_list(text)]


def parse_email(raw: bytes, *, ref: str = "", flags: Sequence[str] = ()) -> Email:
    """Parse a whole RFC 5322 message (as fetched with ``BODY.PEEK[]``). Never raises on
    malformed mail: see the module docstring for the fall-backs."""
    raw = bytes(raw)
    block = header_block(raw)
    fields = first_fields(block)
    from_name, from_addr = first_address(fields.get("from", ""))
    msg = BytesParser(policy=email_policy.default).parsebytes(raw)
    body = Body()
    with contextlib.suppress(Exception):  # defensive: keep whatever was collected before a failure
        walk(msg, body)
    html = "\n".join(body.htmls) if body.htmls else None
    text = "\n".join(body.texts)
    if not body.texts and html is not None:
        text = text_from_html(html)  # worked out when first read
    in_reply_to_ids = _message_ids(fields.get("in-reply-to", ""))
    return Email(
        ref=ref,
        subject=decode_text(fields.get("subject", "")),
        from_addr=from_addr,
        from_name=from_name,
        to=_addresses(fields.get("to", "")),
        cc=_addresses(fields.get("cc", "")),
        date=_date(fields.get("date", "")),
        message_id=fields.get("message-id") or None,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=_message_ids(fields.get("references", "")),
        headers=_all_headers(block),
        text=text,
        html=html,
        attachments=body.attachments,
        flags=tuple(str(f) for f in flags),
        size=len(raw),
        raw=raw,
    )
