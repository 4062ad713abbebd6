"""A safe notebook display of an :class:`Email`.

Message HTML is untrusted. It is shown inside ``<iframe sandbox="" srcdoc=...>`` (no
scripts, forms, popups or same-origin access) under a Content-Security-Policy that
allows no network loads, and it is also sanitised first, so that a renderer that
ignores one layer is still protected by the other: scripts, frames, plugins, ``on*``
handlers, ``javascript:`` URLs and every remote resource are removed.
"""

from __future__ import annotations

import base64
import html as html_lib
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from .formatting import size_text

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

# Elements removed together with everything inside them.
# fmt: off
_DROP_WITH_CONTENT = frozenset(
    [
        "script", "iframe", "object", "applet", "frame", "frameset", "noembed", "noframes", "template",
        "audio", "video", "xml", "noscript", "title", "svg", "math"
    ]
)
# fmt: on
# Elements removed, their content kept (void elements have none).
# fmt: off
_DROP_TAG = frozenset(
    [
        "embed", "link", "meta", "base", "form", "input", "button", "select", "textarea", "portal",
        "html", "head", "body", "param", "source", "track", "xmp", "plaintext", "listing"
    ]
)
# fmt: on
_VOID = {"area", "br", "col", "hr", "img", "wbr"}
# Attributes that make the browser fetch something.
# fmt: off
_RESOURCE_ATTRS = frozenset(
    [
        "src", "srcset", "lowsrc", "dynsrc", "background", "poster", "data", "action", "formaction",
        "codebase", "archive", "longdesc", "manifest", "ping", "profile", "classid", "imagesrcset"
    ]
)
# fmt: on
_LINK_TAGS = {"a", "area"}
_ATTR_NAME = re.compile(r"^[a-z_:][-a-z0-9_:.]*$")
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")
_CSS_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.DOTALL)
_CSS_URL = re.compile(r"url\s*\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CSS_IMAGE_SET = re.compile(r"image-set\s*\(", re.IGNORECASE)
# Quoted remote URLs also load (image-set("https://..."), @import "..."): blank them.
_CSS_REMOTE_STRING = re.compile(
    r"(['\"])\s*(?:[a-z][a-z0-9+.-]*:|//)(?<!data:)(?<!cid:).*?\1", re.IGNORECASE | re.DOTALL
)
_CSS_DANGER = re.compile(r"@import[^;]*;?|expression\s*\(|-moz-binding|behavior\s*:", re.IGNORECASE)
_INLINE_IMAGE_LIMIT = 2 * 1024 * 1024


def _url_kind(value: str) -> str:
    """Classify a URL: 'inline' (data:/cid:/#), 'link' (http(s)/mailto) or 'bad'."""
    url = _URL_JUNK.sub("", html_lib.unescape(value)).lower()
    if url.startswith(("data:image/", "cid:", "#")):
        return "inline"
    if url.startswith(("http://", "https://", "mailto:")):
        return "link"
    return "bad"


def _decode_css_escape(match: re.Match[str]) -> str:
    if match.group(1):
        code = int(match.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
    return match.group(2)


def sanitize_css(css: str) -> str:
    """Remove remote ``url(...)``, ``@import`` and script-like CSS; escapes are decoded
    first so ``u\\72l(`` cannot hide a URL. ``<`` is re-escaped so the result can never
    close a ``<style>`` element."""
    css = _CSS_ESCAPE.sub(_decode_css_escape, _CSS_COMMENT.sub("", css))
    css = _CSS_DANGER.sub("", css)
    css = _CSS_IMAGE_SET.sub("(", css)
    css = _CSS_URL.sub(lambda m: m.group(0) if _url_kind(m.group(2)) == "inline" else "none", css)
    css = _CSS_REMOTE_STRING.sub('""', css)
    return css.replace("<", "\\3c ").replace(">", "\\3e ")


class _Sanitizer(HTMLParser):
    def __init__(self, inline_images: dict[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._drop_depth = 0
        self._style: list[str] | None = None  # the text of an open <style>, sanitised at its end
        self._inline_images = inline_images

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        kept: list[str] = []
        is_link = tag in _LINK_TAGS
        for name, value in attrs:
            name = name.lower()
            if not _ATTR_NAME.match(name) or name.startswith("on") or name in {"http-equiv", "target", "rel"}:
                continue
            text = value or ""
            if name == "style":
                text = sanitize_css(text)
            elif name in {"href", "xlink:href"}:
                kind = _url_kind(text)
                if not (kind == "link" and is_link) and not (kind == "inline" and text.strip().startswith("#")):
                    continue
            elif name in _RESOURCE_ATTRS:
                text = self._inline_resource(name, text)
                if not text:
                    continue
            elif _url_kind(text) == "bad" and text.strip().lower().replace(" ", "").startswith(
                ("javascript:", "vbscript:", "data:text")
            ):
                continue
            kept.append(f' {name}="{html_lib.escape(text, quote=True)}"')
        if is_link and any(a.startswith(" href=") for a in kept):
            # No allow-popups in the sandbox: a click opens nothing, the URL stays visible on hover.
            kept.append(' target="_blank" rel="noopener noreferrer"')
        return "".join(kept)

    def _inline_resource(self, name: str, value: str) -> str:
        if name == "srcset" or name == "imagesrcset":
            candidates = [c.strip() for c in value.split(",") if c.strip()]
            return value if candidates and all(_url_kind(c.split()[0]) == "inline" for c in candidates) else ""
        if name != "src" or _url_kind(value) != "inline":
            return ""
        url = value.strip()
        if url.lower().startswith("cid:"):
            # Show inline images (multipart/related) from the message itself.
            return self._inline_images.get(url[4:].strip("<>"), "")
        return url

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_WITH_CONTENT:
            self._drop_depth += 1
            return
        if self._drop_depth or tag in _DROP_TAG:
            return
        if tag == "style":
            self._style = []
        self.out.append(f"<{tag}{self._attributes(tag, attrs)}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _DROP_WITH_CONTENT:
            self._drop_depth = max(0, self._drop_depth - 1)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_WITH_CONTENT:
            self._drop_depth = max(0, self._drop_depth - 1)
            return
        if self._drop_depth or tag in _DROP_TAG or tag in _VOID:
            return
        if tag == "style":
            self.close_style()
        self.out.append(f"</{tag}>")

    def close_style(self) -> None:
        if self._style is not None:
            self.out.append(sanitize_css("".join(self._style)))
            self._style = None

    def handle_data(self, data: str) -> None:
        if self._drop_depth:
            return
        if self._style is not None:
            self._style.append(data)
        else:
            self.out.append(html_lib.escape(data, quote=False))

    # Comments (IE conditional comments), doctypes and processing instructions go.
    def handle_comment(self, data: str) -> None:
        return

    def handle_decl(self, decl: str) -> None:
        return

    def handle_pi(self, data: str) -> None:
        return

    def unknown_decl(self, data: str) -> None:
        return


def sanitize_html(html: str, *, attachments: Sequence[InlinePart] | None = None) -> str:
    """Message HTML without scripts, frames, plugins, event handlers, ``javascript:``
    URLs or remote resources. ``cid:`` images are replaced by ``data:`` URLs of the
    matching inline attachments."""
    sanitizer = _Sanitizer(_inline_images(attachments or []))
    try:
        sanitizer.feed(html)
        sanitizer.close()
    except Exception:  # html.parser is lenient; if it still fails show nothing unsafe
        return html_lib.escape(html)
    if sanitizer._style is not None:  # an unclosed <style> would swallow the rest of the page
        sanitizer.close_style()
        sanitizer.out.append("</style>")
    return "".join(sanitizer.out)


def _inline_images(attachments: Sequence[InlinePart]) -> dict[str, str]:
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
            + sanitize_html(email.html, attachments=email.attachments)
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
