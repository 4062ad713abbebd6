"""Header decoding: one code for search rows (``imap/frame.py``) and ``get_email`` (``parse.py``).

Both read the same bytes, the header lines before the first blank line (for a search,
what ``BODY.PEEK[HEADER.FIELDS (...)]`` returns), through the same steps:

1. **Fields**: ``Name: value`` lines (ending in LF or CRLF); a line that starts with a
   space or tab continues the one before; NUL bytes are dropped. Of a name that occurs
   more than once (From, To, Cc, Subject), the first occurrence counts.
2. **Unfolding** (RFC 5322 2.2.3): the line break before the whitespace of a
   continuation line goes, the whitespace stays; the value is stripped. A CR left inside
   (a bare CR, not allowed) becomes a space when the value is decoded (steps 4 and 5).
3. **Raw 8-bit bytes** (not allowed, but common): ASCII, else UTF-8, else Windows-1252,
   per value (:func:`~nb_email_conn.message.charsets.decode_unlabelled`).
4. **Encoded words** (RFC 2047), in any charset Python knows; an unknown charset is read
   like raw 8-bit bytes. Whitespace between two encoded words is dropped, and adjacent
   words in one charset are joined before decoding, so a character split over two words
   comes out whole. A word whose base64 or quoted-printable is broken stays as written.
   Line breaks a word decodes to become spaces (a value is always one line), and a
   decoded value is stripped again.
5. **Addresses**: (display name, address) pairs. The common forms (``a@b``, ``<a@b>``,
   ``Name <a@b>``) by pattern; the rest (quoted names, comments, groups, route
   addresses) by the ``email`` package's RFC 5322 parser, with each encoded word shielded
   from it and decoded by step 4 afterwards (so a word inside a quoted name or holding a
   comma is decoded the same as anywhere else). Display names have runs of whitespace
   collapsed. Pairs without an address are dropped.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from email.policy import default as _default_policy
from typing import Any

from .charsets import decode_labelled, decode_unlabelled
from .formatting import format_address

# One field: its name, then its value with continuation lines.
FIELD = re.compile(rb"^([^:\r\n]+):[ \t]*(.*(?:\r?\n[ \t].*)*)", re.MULTILINE)
FIELD_TEXT = re.compile(FIELD.pattern.decode(), re.MULTILINE)
FOLD = re.compile(rb"\r?\n(?=[ \t])")
FOLD_TEXT = re.compile(FOLD.pattern.decode())
BLANK = " \t\n\r\x0b\x0c"  # what bytes.strip() strips (str.strip() would strip more)
ADDRESS_HEADERS = frozenset(
    [
        "from", "sender", "reply-to", "to", "cc", "bcc",
        "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc",
    ]
)  # fmt: skip

_END_OF_HEADER = re.compile(rb"\r?\n\r?\n")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_Q_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
# The common address forms, for which the full RFC 5322 parser is not needed.
_PLAIN_ADDR = re.compile(r"^\s*<?([^\s<>@\",;:()\\]+@[^\s<>@\",;:()\\\[\]]+)>?\s*$")
_NAMED_ADDR = re.compile(
    r"^\s*(?:\"([^\"\\]*)\"|([^\"<>,;:()\\@]*?))\s*<([^\s<>@\",;:()\\]+@[^\s<>@\",;:()\\\[\]]+)>\s*$"
)
_COMPLEX_LIST = re.compile(r"[\"(\\;:]")
# Of those, what only the full parser reads (with just quoted names, the list splits at commas outside quotes).
_HARD_LIST = re.compile(r"[(\\;:]")
_LIST_ITEM = re.compile(r'(?:"[^"]*"|[^",])+')
_WS = re.compile(r"\s+")
# Encoded words stand in the full address parser's input as these (private-use characters).
_SHIELD_OPEN, _SHIELD_CLOSE = "\ue000", "\ue001"
_SHIELDED = re.compile(f"{_SHIELD_OPEN}([0-9]+){_SHIELD_CLOSE}")


# -- fields --------------------------------------------------------------------------------
def header_block(message: bytes) -> bytes:
    """The header lines of a whole message: the bytes before the first blank line."""
    if message.startswith((b"\r\n", b"\n")):
        return b""
    end = _END_OF_HEADER.search(message)
    return message if end is None else message[: end.start()]


def without_nul(block: bytes) -> bytes:
    """A header block without its NUL bytes (never meaningful, refused when sending)."""
    return block.replace(b"\x00", b"") if b"\x00" in block else block


def field_text(raw: bytes | None) -> str:
    """A raw field value as one line of text: unfolded, stripped, 8-bit bytes decoded."""
    if not raw:
        return ""
    if b"\n" in raw:
        raw = FOLD.sub(b"", raw)
    raw = raw.strip()
    return decode_unlabelled(raw) if raw else ""


def clean_text(value: str | None) -> str:
    """:func:`field_text` for a value already decoded from ASCII; "" when missing."""
    if value is None:
        return ""
    return (FOLD_TEXT.sub("", value) if "\n" in value else value).strip(BLANK)


def header_fields(block: bytes) -> list[tuple[str, str]]:
    """Every field of a header block in order: (name as written, :func:`field_text` of its value)."""
    fields = FIELD.findall(without_nul(block))
    return [(decode_unlabelled(name.strip()), field_text(value)) for name, value in fields]


def first_fields(block: bytes) -> dict[str, str]:
    """{lowercase name: :func:`field_text` of its first occurrence}."""
    found: dict[str, str] = {}
    for name, value in FIELD.findall(without_nul(block)):
        key = name.strip().lower().decode("ascii", "replace")
        if key not in found:
            found[key] = field_text(value)
    return found


def split_header_block(block: bytes) -> dict[str, bytes]:
    """``Name: value`` lines (unfolded) -> {lowercase name: raw value}; the first one wins."""
    fields: dict[str, bytes] = {}
    for name, value in FIELD.findall(without_nul(block)):
        key = name.strip().lower().decode("ascii", "replace")
        if key not in fields:
            fields[key] = (FOLD.sub(b"", value) if b"\n" in value else value).strip()
    return fields


# -- encoded words -------------------------------------------------------------------------
def _decode_word(encoding: str, payload: str) -> bytes | None:
    data = payload.encode("ascii", "replace")
    try:
        if encoding in "bB":
            return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
        return _Q_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), data.replace(b"_", b" "))
    except (binascii.Error, ValueError):
        return None


def _one_line(text: str) -> str:
    if "\r" in text or "\n" in text:
        return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return text


def decode_words(value: str) -> str:
    """RFC 2047: decode encoded words; whitespace between two encoded words is dropped.

    Adjacent words in the same charset are joined before decoding, so a multi-byte
    character split across two words comes out whole. Bad words stay as written.
    """
    if "=?" not in value:
        return value
    single = _ENCODED_WORD.fullmatch(value)
    if single is not None:  # the whole value is one encoded word (a common subject or name)
        decoded = _decode_word(single[2], single[3])
        return value if decoded is None else _one_line(decode_labelled(decoded, single[1]))
    return decode_words_one_by_one(value)


def decode_text(value: str) -> str:
    """An unstructured value (a Subject) as shown: a bare CR as a space, :func:`decode_words`,
    stripped. The value is returned as is when it has neither ``=?`` nor a CR."""
    if "\r" in value:
        value = value.replace("\r", " ")
    return decode_words(value).strip() if "=?" in value else value


def decode_words_one_by_one(value: str) -> str:
    """The general :func:`decode_words`, word by word."""
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""
    pos = 0
    after_word = False  # the previous piece was a decoded encoded word

    def flush() -> None:
        if pending:
            out.append(_one_line(decode_labelled(b"".join(pending), pending_charset)))
            pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        decoded = _decode_word(match[2], match[3])
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


# -- addresses -----------------------------------------------------------------------------
def display_name(raw: str) -> str:
    """A display name as shown: whitespace runs collapsed, encoded words decoded."""
    name = _WS.sub(" ", raw).strip()
    return decode_text(name)


def parse_address_list(value: str) -> list[tuple[str, str]]:
    """(display name, address) pairs; simple forms by pattern, the rest by the email package."""
    return list(_parse_address_list(value)) if value else []


def first_address(value: str) -> tuple[str, str]:
    """The first (display name, address) of a list (a From header); ("", "") when none."""
    pairs = _parse_address_list(value) if value else ()
    return pairs[0] if pairs else ("", "")


@functools.lru_cache(maxsize=8192)  # senders and recipients repeat a lot within a folder
def _parse_address_list(value: str) -> tuple[tuple[str, str], ...]:
    return tuple(_parse_address_list_uncached(value))


def addresses(value: str) -> list[str]:
    """The addresses of a list, as :func:`parse_address_list` reads them, without decoding any display
    name (the search's ``to`` / ``cc`` columns show bare addresses)."""
    if not value:
        return []
    if "\r" in value:
        value = value.replace("\r", " ")
    pairs = _quick_pairs(value, names=False)
    if pairs is None:
        pairs = _parse_addresses_fully(value)
    return [address for _, address in pairs if address]


def _parse_address_list_uncached(value: str) -> list[tuple[str, str]]:
    if "\r" in value:
        value = value.replace("\r", " ")
    pairs = _quick_pairs(value, names=True)
    return pairs if pairs is not None else _parse_addresses_fully(value)


def _quick_pairs(value: str, *, names: bool) -> list[tuple[str, str]] | None:
    """The common forms (``a@b``, ``<a@b>``, ``Name <a@b>``, ``"Doe, Jane" <a@b>``) by pattern; None
    when some item needs the full parser. ``names=False`` leaves display names out ("")."""
    if not _COMPLEX_LIST.search(value):
        items = value.split(",")
    elif not _HARD_LIST.search(value) and value.count('"') % 2 == 0:  # quoted names ("Doe, Jane" <j@x>) only
        items = _LIST_ITEM.findall(value)
    else:
        return None
    pairs: list[tuple[str, str]] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        pair = _ITEM_PAIRS.get(item, _UNSEEN)
        if pair is _UNSEEN:
            pair = _item_pair(item)
        if pair is None:
            return None
        pairs.append(pair if names else ("", pair[1]))
    return pairs


# One list item (a person as some mail program writes them) -> (display name, address), or None when
# the full parser must read its list. People recur across a folder's lists far more than the lists.
_ITEM_PAIRS: dict[str, tuple[str, str] | None] = {}
_UNSEEN: Any = object()


def _item_pair(item: str) -> tuple[str, str] | None:
    match = _PLAIN_ADDR.match(item)
    if match:
        pair: tuple[str, str] | None = ("", match[1])
    elif (match := _NAMED_ADDR.match(item)) is not None:
        name = match[1] if match[1] is not None else match[2]
        pair = (display_name(name) if name else "", match[3])
    else:
        pair = None
    if len(_ITEM_PAIRS) >= 65536:
        _ITEM_PAIRS.clear()
    _ITEM_PAIRS[item] = pair
    return pair


def _parse_addresses_fully(value: str) -> list[tuple[str, str]]:
    """The email package's parser on the value, with encoded words shielded from it."""
    words: list[str] = []
    shielded = value
    if "=?" in value and _SHIELD_OPEN not in value and _SHIELD_CLOSE not in value:

        def shield(match: re.Match[str]) -> str:
            words.append(match[0])
            return f"{_SHIELD_OPEN}{len(words) - 1}{_SHIELD_CLOSE}"

        shielded = _ENCODED_WORD.sub(shield, value)

    def unshield(text: str) -> str:
        return _SHIELDED.sub(lambda m: words[int(m[1])], text) if words else text

    try:
        header: Any = _default_policy.header_factory("to", shielded)
        pairs = [(str(a.display_name or ""), str(a.addr_spec or "")) for a in header.addresses]
    except Exception:
        return [("", value.strip())] if value.strip() else []
    return [(display_name(unshield(name)), unshield(addr)) for name, addr in pairs if addr]


# -- whole values --------------------------------------------------------------------------
def decoded_value(name: str, text: str) -> str:
    """A field's :func:`field_text` as shown in ``Email.headers``: address fields as
    ``Name <addr>, ...`` when they hold addresses, every other value with its encoded
    words decoded."""
    if name.lower() in ADDRESS_HEADERS:
        pairs = parse_address_list(text)
        if pairs:
            return ", ".join(format_address(n, a) for n, a in pairs)
    return decode_text(text)
