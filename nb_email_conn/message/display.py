"""A safe notebook display of an :class:`Email`.

Message HTML is untrusted. It is shown inside ``<iframe sandbox="" srcdoc=...>`` (no
scripts, forms, popups or same-origin access) under a Content-Security-Policy that
allows no network loads, and it is also sanitised first (``html.sanitize_html``, nh3),
so that a renderer that ignores one layer is still protected by the other: scripts,
frames, plugins, ``on*`` handlers, ``javascript:`` URLs and every remote resource are
removed.
"""

from __future__ import annotations

import base64
import html as html_lib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from .formatting import size_text
from .html import sanitize_html

if TYPE_CHECKING:
    from pandas.api.typing import NaTType


class InlinePart(Protocol):
    """What the display reads of an attachment (``model.Attachment`` has it)."""

    @property
    def filename(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def data(self) -> bytes: ...
    @property
    def content_id(self) -> str | None: ...


class Showable(Protocol):
    """What the display reads of a message (``model.Email`` has it). A Protocol, so this
    module needs no import of the model, and the model can import it for ``_repr_html_``."""

    @property
    def sender(self) -> str: ...
    @property
    def to(self) -> Sequence[str]: ...
    @property
    def cc(self) -> Sequence[str]: ...
    @property
    def date(self) -> pd.Timestamp | NaTType: ...
    @property
    def subject(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def html(self) -> str | None: ...
    @property
    def attachments(self) -> Sequence[InlinePart]: ...


CSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'"
_INLINE_IMAGE_LIMIT = 2 * 1024 * 1024


def inline_images(attachments: Sequence[InlinePart]) -> dict[str, str]:
    """Content-ID -> ``data:`` URL of the message's inline images (at most 2 MiB in all; no SVG)."""
    images: dict[str, str] = {}
    budget = _INLINE_IMAGE_LIMIT
    for attachment in attachments:
        content_type = attachment.content_type.lower()
        if not attachment.content_id or not content_type.startswith("image/") or content_type == "image/svg+xml":
            continue
        if attachment.size > budget:
            continue
        budget -= attachment.size
        encoded = base64.b64encode(attachment.data).decode("ascii")
        images[attachment.content_id] = f"data:{content_type};base64,{encoded}"
    return images


def _row(label: str, value: str) -> str:
    return (
        f'<tr><th style="text-align:left;padding:1px 8px 1px 0;vertical-align:top">{html_lib.escape(label)}</th>'
        f'<td style="text-align:left">{html_lib.escape(value)}</td></tr>'
    )


def email_html(email: Showable) -> str:
    """The rich display: an escaped header block, then the body (sanitised HTML in a
    sandboxed frame, or the plain text in a ``<pre>``)."""
    rows = [_row("From", email.sender), _row("To", ", ".join(email.to))]
    if email.cc:
        rows.append(_row("Cc", ", ".join(email.cc)))
    date = "" if pd.isna(email.date) else email.date.strftime("%Y-%m-%d %H:%M UTC")
    rows.append(_row("Date", date))
    rows.append(_row("Subject", email.subject))
    if email.attachments:
        names = ", ".join(f"{a.filename} ({size_text(a.size)})" for a in email.attachments)
        rows.append(_row("Attachments", names))
    header = '<table class="nec-email-headers" style="border-collapse:collapse">' + "".join(rows) + "</table>"
    if email.html is not None:
        document = (
            f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta charset="utf-8"><base target="_blank"></head><body>'
            + sanitize_html(email.html, cid_images=inline_images(email.attachments))
            + "</body></html>"
        )
        body = (
            '<div style="resize:vertical;overflow:hidden;height:420px;border:1px solid #ccc">'
            f'<iframe sandbox="" referrerpolicy="no-referrer" title="message body" '
            f'style="width:100%;height:100%;border:0;background:white" '
            f'srcdoc="{html_lib.escape(document, quote=True)}"></iframe></div>'
        )
    else:
        body = (
            '<pre style="white-space:pre-wrap;word-wrap:break-word;max-height:420px;overflow:auto">'
            f"{html_lib.escape(email.text)}</pre>"
        )
    return f'<div class="nec-email">{header}<hr style="margin:4px 0">{body}</div>'
