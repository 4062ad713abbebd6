"""Search results as a pandas DataFrame, built column by column.

Also the per-message header decoding the columns need (kept here so the wire code in
``fetch.py`` only deals with IMAP). Decoding is lazy: RFC 2047 only where ``=?``
occurs, the ``email`` package's address parser only for addresses that the simple
patterns below do not cover.

Column types (the same for an empty result):

====================  ==========================  =========================================
``ref``               string                      RFC 5092 IMAP URL naming the message
``folder``            string
``uid``               int64
``date``              datetime64[us, UTC]         Date header; NaT when missing or invalid
``received``          datetime64[us, UTC]         INTERNALDATE (when the server got it)
``from_name``         string                      "" when absent
``from_addr``         string
``to``, ``cc``        string                      bare addresses joined with ", "
``subject``           string
``flags``             object (tuple of str)
``seen``              bool
``flagged``           bool
``answered``          bool
``size``              int64                       RFC822.SIZE in bytes
``has_attachments``   bool                        from BODYSTRUCTURE
``message_id``        string
``in_reply_to``       string
====================  ==========================  =========================================

Text columns use pandas' ``"string"`` dtype; a missing header is ``""`` (never NA), so
``df[df.subject.str.contains("x")]`` works without ``na=False``. Rows are newest first:
by ``date``, falling back to ``received`` when the Date header is unusable, then UID.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email.utils
import functools
import re
from collections.abc import Sequence
from email.policy import default as _default_policy
from typing import Any, Final, cast

import pandas as pd

from ..refs import MessageRef

COLUMNS: tuple[str, ...] = (
    "ref", "folder", "uid", "date", "received", "from_name", "from_addr", "to", "cc", "subject",
    "flags", "seen", "flagged", "answered", "size", "has_attachments", "message_id", "in_reply_to",
)  # fmt: skip
_STRING: Final = "string"
_DATETIME: Final = "datetime64[us, UTC]"
DTYPES: dict[str, Any] = {
    **dict.fromkeys(COLUMNS, _STRING),
    "uid": "int64",
    "size": "int64",
    "date": _DATETIME,
    "received": _DATETIME,
    "flags": "object",
    "seen": "bool",
    "flagged": "bool",
    "answered": "bool",
    "has_attachments": "bool",
}
# The header fields fetched for a row, in the order decode_header_block returns them.
HEADER_FIELDS = ("date", "from", "to", "cc", "subject", "message-id", "in-reply-to")

_FIELD = re.compile(rb"^([^:\r\n]+):[ \t]*(.*(?:\r?\n[ \t].*)*)", re.MULTILINE)
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_Q_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
# The common address forms, for which the full RFC 5322 parser is not needed.
_PLAIN_ADDR = re.compile(r"^\s*<?([^\s<>@\",;:()\\]+@[^\s<>@\",;:()\\\[\]]+)>?\s*$")
_NAMED_ADDR = re.compile(
    r"^\s*(?:\"([^\"\\]*)\"|([^\"<>,;:()\\@]*?))\s*<([^\s<>@\",;:()\\]+@[^\s<>@\",;:()\\\[\]]+)>\s*$"
)
_COMPLEX_LIST = re.compile(r"[\"(\\;:]")
_WS = re.compile(r"\s+")
_DATE_COMMENT = r"\s*\([^()]*\)\s*$"
_RFC5322_DATE = "%a, %d %b %Y %H:%M:%S %z"
_INTERNALDATE = "%d-%b-%Y %H:%M:%S %z"


# -- header decoding -----------------------------------------------------------------------
def _to_text(raw: bytes) -> str:
    """Header bytes as text: ASCII as is; raw 8-bit (not allowed, but common) as UTF-8."""
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _decode_word(charset: str, encoding: str, payload: str) -> bytes | None:
    data = payload.encode("ascii", "replace")
    try:
        if encoding in "bB":
            return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
        return _Q_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), data.replace(b"_", b" "))
    except (binascii.Error, ValueError):
        return None


def _charset_decode(data: bytes, charset: str) -> str:
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"  # unknown charsets: best effort, never an exception
    try:
        return data.decode(charset, "replace")
    except Exception:
        return data.decode("utf-8", "replace")


def decode_words(value: str) -> str:
    """RFC 2047: decode encoded words; whitespace between two encoded words is dropped.

    Adjacent words in the same charset are joined before decoding, so a multi-byte
    character split across two words comes out whole. Bad words stay as written.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""
    pos = 0
    after_word = False  # the previous piece was a decoded encoded word

    def flush() -> None:
        if pending:
            out.append(_charset_decode(b"".join(pending), pending_charset))
            pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        decoded = _decode_word(match[1], match[2], match[3])
        if decoded is None:
            flush()
            out.append(between + match[0])
            pos, after_word = match.end(), False
            continue
        charset = match[1].lower()
        if not after_word or between.strip():
            flush()
            out.append(between)
        elif charset != pending_charset:
            flush()
        pending.append(decoded)
        pending_charset = charset
        pos, after_word = match.end(), True
    flush()
    out.append(value[pos:])
    return "".join(out)


def split_header_block(block: bytes) -> dict[str, bytes]:
    """``Name: value`` lines (unfolded) -> {lowercase name: raw value}; the first one wins."""
    fields: dict[str, bytes] = {}
    for name, value in _FIELD.findall(block):
        key = name.strip().lower().decode("ascii", "replace")
        if key not in fields:
            fields[key] = (_FOLD.sub(b"", value) if b"\n" in value else value).strip()
    return fields


def _display_name(raw: str) -> str:
    name = _WS.sub(" ", raw).strip()
    return decode_words(name) if "=?" in name else name


def parse_address_list(value: str) -> list[tuple[str, str]]:
    """(display name, address) pairs; simple forms by pattern, the rest by the email package."""
    return list(_parse_address_list(value)) if value else []


@functools.lru_cache(maxsize=8192)  # senders and recipients repeat a lot within a folder
def _parse_address_list(value: str) -> tuple[tuple[str, str], ...]:
    return tuple(_parse_address_list_uncached(value))


def _parse_address_list_uncached(value: str) -> list[tuple[str, str]]:
    if not _COMPLEX_LIST.search(value):
        pairs: list[tuple[str, str]] = []
        for item in value.split(","):
            if not item.strip():
                continue
            match = _PLAIN_ADDR.match(item)
            if match:
                pairs.append(("", match[1]))
                continue
            match = _NAMED_ADDR.match(item)
            if not match:
                break
            pairs.append((_display_name(match[2] or ""), match[3]))
        else:
            return pairs
    return _parse_addresses_fully(value)


def _parse_addresses_fully(value: str) -> list[tuple[str, str]]:
    try:
        header: Any = _default_policy.header_factory("to", value)
        return [(str(a.display_name or ""), str(a.addr_spec or "")) for a in header.addresses]
    except Exception:
        return [("", value.strip())]


def header_values(block: bytes | None) -> tuple[str, str, str, str, str, str, str, str]:
    """(date, from_name, from_addr, to, cc, subject, message_id, in_reply_to) from a header block."""
    fields = split_header_block(block) if block else {}

    def text(name: str) -> str:
        raw = fields.get(name)
        return _to_text(raw) if raw else ""

    sender = parse_address_list(text("from"))
    from_name, from_addr = sender[0] if sender else ("", "")
    subject = text("subject")
    return (
        text("date"),
        from_name,
        from_addr,
        ", ".join(addr for _, addr in parse_address_list(text("to")) if addr),
        ", ".join(addr for _, addr in parse_address_list(text("cc")) if addr),
        decode_words(subject) if "=?" in subject else subject,
        text("message-id"),
        text("in-reply-to"),
    )


# -- dates ---------------------------------------------------------------------------------
def _parse_one_date(value: str) -> pd.Timestamp | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    stamp = pd.Timestamp(parsed)
    # "-0000" (zone unknown) gives a naive datetime: read it as UTC.
    return cast(pd.Timestamp, stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC"))


def header_dates(values: Sequence[str]) -> pd.Series:
    """Date header strings -> tz-aware UTC datetimes; NaT when missing or invalid.

    The common RFC 5322 form is parsed vectorised; the rest (no weekday, obsolete zone
    names, two-digit years) one by one with ``email.utils``.
    """
    raw = pd.Series(values, dtype=object)
    cleaned = raw.str.replace(_DATE_COMMENT, "", regex=True).str.strip()
    result = pd.to_datetime(cleaned, format=_RFC5322_DATE, errors="coerce", utc=True).astype(_DATETIME)
    retry = result.isna() & raw.astype(bool)
    if not retry.any():
        return result
    slow = [_parse_one_date(v) for v in raw[retry]]
    result.loc[retry] = pd.to_datetime(pd.Series(slow, dtype=object), utc=True, errors="coerce").astype(_DATETIME).array
    return result


def internal_dates(values: Sequence[str]) -> pd.Series:
    """IMAP INTERNALDATE strings (``17-Jul-1996 02:44:25 -0700``) -> UTC datetimes."""
    cleaned = pd.Series(values, dtype=object).str.strip()
    return pd.to_datetime(cleaned, format=_INTERNALDATE, errors="coerce", utc=True).astype(_DATETIME)


# -- the frame -----------------------------------------------------------------------------
def empty_frame() -> pd.DataFrame:
    """No rows, every column with its dtype."""
    columns: dict[str, pd.Series] = {name: pd.Series([], dtype=DTYPES[name]) for name in COLUMNS}
    frame: pd.DataFrame = pd.DataFrame(columns)
    return frame


def build_frame(
    columns: dict[str, list[Any]],
    *,
    folder: str,
    uidvalidity: int,
    user: str = "",
    host: str = "",
) -> pd.DataFrame:
    """The search result from raw columns (as produced by ``fetch.fetch_rows``), newest first.

    ``columns`` holds ``uid``, ``flags``, ``size``, ``internaldate``, ``has_attachments`` and
    the ``header_values`` fields (``date`` as the raw header string).
    """
    uids = columns["uid"]
    if not uids:
        return empty_frame()
    flags = columns["flags"]
    lowered = [{f.lower() for f in row} for row in flags]
    refs = [str(MessageRef(folder, uidvalidity, uid, user, host)) for uid in uids]
    data: dict[str, Any] = {
        "ref": pd.array(refs, dtype=_STRING),
        "folder": pd.array([folder] * len(uids), dtype=_STRING),
        "uid": pd.array(uids, dtype="int64"),
        "date": header_dates(columns["date"]).array,
        "received": internal_dates(columns["internaldate"]).array,
        "flags": pd.array(flags, dtype=object),
        "seen": pd.array(["\\seen" in f for f in lowered], dtype=bool),
        "flagged": pd.array(["\\flagged" in f for f in lowered], dtype=bool),
        "answered": pd.array(["\\answered" in f for f in lowered], dtype=bool),
        "size": pd.array(columns["size"], dtype="int64"),
        "has_attachments": pd.array(columns["has_attachments"], dtype=bool),
    }
    for name in ("from_name", "from_addr", "to", "cc", "subject", "message_id", "in_reply_to"):
        data[name] = pd.array(columns[name], dtype=_STRING)
    frame = pd.DataFrame({name: data[name] for name in COLUMNS})
    return sort_newest_first(frame)


def sort_newest_first(frame: pd.DataFrame) -> pd.DataFrame:
    """By date (received when the Date header is unusable), then UID, newest first."""
    key = frame["date"].fillna(frame["received"])
    order = pd.DataFrame({"key": key, "uid": frame["uid"]}).sort_values(
        ["key", "uid"], ascending=False, na_position="last", kind="stable"
    )
    ordered: pd.DataFrame = frame.loc[order.index].reset_index(drop=True)
    return ordered
