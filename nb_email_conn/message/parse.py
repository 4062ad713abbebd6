"""Turn the raw bytes of a message into an :class:`Email`.

Real mail is often broken (unknown charsets, bad dates, 8-bit headers, broken base64,
missing boundaries). Nothing here raises on bad input: a part that cannot be decoded
is decoded with replacement characters, a header that cannot be parsed falls back to
its raw text, a date that cannot be parsed becomes ``NaT``.
"""

from __future__ import annotations

import codecs
import contextlib
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timezone
from email import policy as email_policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

if TYPE_CHECKING:
    from pandas.api.typing import NaTType

_SURROGATES = re.compile(r"[\udc80-\udcff]")
_FOLD = re.compile(r"\r?\n[ \t]*|\r")
_MSG_ID = re.compile(r"<[^<>\s]+>")
# Alternative renderings a mail client shows instead of text/plain; never attachments.
_IGNORED_ALTERNATIVES = {"text/enriched", "text/richtext", "text/watch-html", "text/x-amp-html"}


# --------------------------------------------------------------------------- values


@dataclass(repr=False)
class Attachment:
    """One attached file (or inline image). ``data`` holds the decoded bytes."""

    filename: str
    content_type: str
    size: int
    data: bytes
    content_id: str | None = None
    inline: bool = False

    def __repr__(self) -> str:
        kind = ", inline" if self.inline else ""
        return f"Attachment({self.filename!r}, {self.content_type!r}, {self.size} bytes{kind})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description, without the bytes."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "content_id": self.content_id,
            "inline": self.inline,
        }


@dataclass(repr=False)
class Email:
    """A parsed message, as returned by ``get_email``.

    ``date`` is a UTC ``pandas.Timestamp``, or ``pd.NaT`` when the Date header is missing
    or unreadable. ``headers`` maps each header name (as first spelled in the message) to
    its decoded value; a header that occurs several times (``Received``) has its values
    joined with ``", "`` in message order. No value contains CR or LF.
    """

    ref: str
    subject: str
    from_addr: str
    from_name: str
    to: list[str]
    cc: list[str]
    date: pd.Timestamp | NaTType
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    headers: dict[str, str]
    text: str
    html: str | None
    attachments: list[Attachment]
    flags: tuple[str, ...] = ()
    size: int = 0
    raw: bytes = field(default=b"", compare=False)

    @property
    def sender(self) -> str:
        """The From address formatted as ``Name <addr>`` (or the bare address)."""
        return format_address(self.from_name, self.from_addr)

    def __repr__(self) -> str:
        date = "NaT" if pd.isna(self.date) else self.date.isoformat()
        extra = f", {len(self.attachments)} attachment(s)" if self.attachments else ""
        return f"Email(subject={self.subject!r}, from={self.sender!r}, date={date}{extra})"

    def _repr_html_(self) -> str:
        from .display import email_html

        return email_html(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: dates as ISO strings, attachments without their bytes, no raw."""
        return {
            "ref": self.ref,
            "subject": self.subject,
            "from_addr": self.from_addr,
            "from_name": self.from_name,
            "to": list(self.to),
            "cc": list(self.cc),
            "date": None if pd.isna(self.date) else self.date.isoformat(),
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "headers": dict(self.headers),
            "text": self.text,
            "html": self.html,
            "attachments": [a.to_dict() for a in self.attachments],
            "flags": list(self.flags),
            "size": self.size,
        }

    def save_attachments(self, directory: str | Path = ".", *, include_inline: bool = True) -> list[Path]:
        """Write the attachments into ``directory`` (created if needed) and return the paths.

        File names are reduced to a safe base name (no folders, no ``..``), and an existing
        file is never overwritten: ``report.pdf`` becomes ``report (1).pdf``.
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for attachment in self.attachments:
            if attachment.inline and not include_inline:
                continue
            written.append(
                _write_new_file(folder, safe_filename(attachment.filename, attachment.content_type), attachment.data)
            )
        return written


# --------------------------------------------------------------------------- file names

_UNSAFE_FILENAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))]
)


def safe_filename(name: str, content_type: str = "application/octet-stream") -> str:
    """A file name that stays inside its folder on every OS: base name only, no control
    characters, no leading dots, at most 200 characters."""
    base = re.split(r"[/\\]", name)[-1]
    base = _UNSAFE_FILENAME_CHARS.sub("_", base).strip().lstrip(".").strip()
    if base.upper().split(".")[0] in _WINDOWS_RESERVED:
        base = "_" + base
    if not base:
        base = "attachment" + (mimetypes.guess_extension(content_type) or ".bin")
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else base[:200]
    return base


def _write_new_file(folder: Path, name: str, data: bytes) -> Path:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    candidate = folder / name
    counter = 0
    while True:
        try:
            # "xb" refuses to open an existing file, so nothing is ever clobbered.
            with candidate.open("xb") as handle:
                handle.write(data)
            return candidate
        except FileExistsError:
            counter += 1
            candidate = folder / (f"{stem} ({counter}).{ext}" if ext else f"{stem} ({counter})")


# --------------------------------------------------------------------------- text helpers


def _fix_surrogates(value: str) -> str:
    """Undo the parser's surrogateescape of raw 8-bit header bytes: UTF-8, else cp1252."""
    if not _SURROGATES.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _clean_header(value: str) -> str:
    """Fold continuation lines away and drop NULs so a value is always one line."""
    return _FOLD.sub(" ", _fix_surrogates(value)).replace("\x00", "").strip()


def format_address(name: str, addr: str) -> str:
    """``Name <addr>`` for display (quoted when the name has specials), else ``addr``."""
    if not name:
        return addr
    if not addr:
        return name
    if re.search(r'[()<>@,;:\\".\[\]]', name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{addr}>"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text with its declared charset; unknown or wrong charsets fall back to
    UTF-8 and then cp1252, with replacement characters rather than an error."""
    if charset:
        try:
            info = codecs.lookup(charset.strip().strip('"'))
            if getattr(info, "_is_text_encoding", True):
                return data.decode(info.name, "replace")
        except (LookupError, ValueError, TypeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


# --------------------------------------------------------------------------- headers


def _decode_raw(value: str) -> str:
    """Best-effort decoding of encoded words in a raw header value."""
    value = _fix_surrogates(value)
    try:
        return _clean_header(str(make_header(decode_header(value))))
    except Exception:
        return _clean_header(value)


def _decode_header(msg: Message, name: str, raw: Any) -> str:
    text = str(raw)
    if _SURROGATES.search(text):
        # Raw 8-bit bytes: the policy would turn non-UTF-8 ones into U+FFFD; decode them ourselves.
        return _decode_raw(text)
    try:
        return _clean_header(str(msg.policy.header_fetch_parse(name, text)))
    except Exception:
        return _decode_raw(text)


def _header(msg: Message, name: str) -> str:
    """The first occurrence of a header, decoded ("" when absent)."""
    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            return _decode_header(msg, key, raw)
    return ""


def _all_headers(msg: Message) -> dict[str, str]:
    values: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, raw in msg.raw_items():
        key = spelling.setdefault(name.lower(), name)
        values.setdefault(key, []).append(_decode_header(msg, name, raw))
    return {key: ", ".join(v) for key, v in values.items()}


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = []
    try:
        for header in msg.get_all(name) or []:
            for address in cast(Any, header).addresses:
                result.append((_clean_header(address.display_name), _clean_header(address.addr_spec)))
    except Exception:
        raw = [v for k, v in msg.raw_items() if k.lower() == name.lower()]
        try:
            pairs = getaddresses([_decode_raw(str(v)) for v in raw])
        except Exception:
            pairs = []
        result = [(_clean_header(n), _clean_header(a)) for n, a in pairs]
    return [(n, a) for n, a in result if n or a]


def _date(msg: Message) -> pd.Timestamp | NaTType:
    text = _header(msg, "Date")
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


# --------------------------------------------------------------------------- HTML to text

# fmt: off
_BLOCK = frozenset(
    [
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "ul"
    ]
)
# fmt: on
_SKIP_CONTENT = {"script", "style", "title", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._pre = 0
        # One entry per open <a>: its http(s)/mailto target and where its text starts.
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_CONTENT:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in {"td", "th"}:
            self.parts.append(" ")
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self._pre += 1
        if tag == "a":
            href = dict(attrs).get("href") or ""
            target = href.strip() if re.match(r"(?i)\s*(https?|mailto):", href) else None
            self._links.append((target, len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_CONTENT:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag == "a" and self._links:
            target, start = self._links.pop()
            if target:
                shown = "".join(self.parts[start:]).strip()
                if shown and shown not in (target, target.removeprefix("mailto:")):
                    self.parts.append(f" ({target})")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            self.parts.append(data)
            return
        text = re.sub(r"\s+", " ", data)
        if not self.parts or self.parts[-1].endswith(("\n", " ")):
            text = text.lstrip(" ")  # collapsed source indentation, not content
        self.parts.append(text)


def html_to_text(html: str) -> str:
    """Readable plain text from HTML: no scripts or styles, line breaks for block
    elements, entities unescaped, link targets in parentheses after the link text."""
    extractor = _TextExtractor()
    # html.parser is lenient, but never let a message crash reading.
    with contextlib.suppress(Exception):
        extractor.feed(html)
        extractor.close()
    text = "".join(extractor.parts).replace("\xa0", " ")
    lines = [line.rstrip(" \t") for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# --------------------------------------------------------------------------- body walk


class _Body:
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
    name = re.sub(r"[\x00-\x1f\x7f]", "", _fix_surrogates(str(name))).strip()
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
    return decode_bytes(_payload_bytes(part), charset).replace("\r\n", "\n")


def _content_id(part: Message) -> str | None:
    value = _header(part, "Content-ID").strip()
    return value.strip("<>") or None


def _attachment(part: Message, content_type: str, data: bytes, name: str | None, counter: int) -> Attachment:
    filename = name or f"part-{counter}{mimetypes.guess_extension(content_type) or '.bin'}"
    cid = _content_id(part)
    inline = _disposition(part) == "inline" or (cid is not None and _disposition(part) != "attachment")
    return Attachment(filename, content_type, len(data), data, cid, inline)


def _attached_message(part: Message, content_type: str, body: _Body) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    name = _filename(part)
    if inner is not None:
        try:
            data = inner.as_bytes()
        except Exception:
            data = _payload_bytes(part)
        if not name:
            subject = _header(inner, "Subject")
            name = (safe_filename(subject)[:100] if subject else "message") + ".eml"
    else:
        data = _payload_bytes(part)
    body.attachments.append(_attachment(part, content_type, data, name or "message.eml", len(body.attachments) + 1))


def _walk(part: Message, body: _Body, in_alternative: bool = False, depth: int = 0) -> None:
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
                    _walk(sub, body, content_type == "multipart/alternative", depth + 1)
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


# --------------------------------------------------------------------------- entry point


def parse_email(raw: bytes, *, ref: str = "", flags: Sequence[str] = ()) -> Email:
    """Parse a whole RFC 5322 message (as fetched with ``BODY.PEEK[]``). Never raises on
    malformed mail: see the module docstring for the fall-backs."""
    msg = BytesParser(policy=email_policy.default).parsebytes(bytes(raw))
    senders = _addresses(msg, "From")
    from_name, from_addr = senders[0] if senders else ("", "")
    if not senders and (raw_from := _header(msg, "From")):
        from_addr = raw_from
    body = _Body()
    with contextlib.suppress(Exception):  # defensive: keep whatever was collected before a failure
        _walk(msg, body)
    html = "\n".join(body.htmls) if body.htmls else None
    text = "\n".join(body.texts)
    if not body.texts and html is not None:
        text = html_to_text(html)
    message_id = _header(msg, "Message-ID") or None
    in_reply_to_ids = _message_ids(_header(msg, "In-Reply-To"))
    return Email(
        ref=ref,
        subject=_header(msg, "Subject"),
        from_addr=from_addr,
        from_name=from_name,
        to=[format_address(n, a) for n, a in _addresses(msg, "To")],
        cc=[format_address(n, a) for n, a in _addresses(msg, "Cc")],
        date=_date(msg),
        message_id=message_id,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=_message_ids(_header(msg, "References")),
        headers=_all_headers(msg),
        text=text,
        html=html,
        attachments=body.attachments,
        flags=tuple(str(f) for f in flags),
        size=len(raw),
        raw=bytes(raw),
    )
