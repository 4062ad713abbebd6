"""Search rows from FETCH responses: what is asked for, and the three ways a response becomes a row.

1. :func:`read_fast_rows`: every complete response of the common shape (``FAST_ROW``) at the
   front of the read buffer, matched in place with one regex (the usual case, by far);
2. :func:`fast_fetch_items`: a response of that shape read line by line (cut by the end of
   the buffer, or with more items after the header section);
3. the general parser (``response.py``) for anything else, through :meth:`Rows.add_items`.

All three give the same values for the same response (``tests/imap/test_fast_paths.py``).
Rows are keyed by the UID inside each response, never by position, so unsolicited
``* n FETCH (FLAGS ..)`` from other sessions are skipped, or, for a row already read, applied.
"""

from __future__ import annotations

import re
from typing import Any

from .attachments import ATTACHMENT_HINT, StructureShapes, has_attachment, may_have_attachment, parse_structure
from .frame import HeaderColumns
from .response import fetch_items, parse_response
from .wire import LITERAL_AT_END, Wire

HEADER_ITEM = b"BODY.PEEK[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES)]"
ROW_ITEMS = b"(UID FLAGS RFC822.SIZE INTERNALDATE BODYSTRUCTURE " + HEADER_ITEM + b")"
DATE_ITEMS = b"(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (DATE)])"
ROW_KEYS = (b"UID", b"FLAGS", b"RFC822.SIZE", b"INTERNALDATE", b"BODYSTRUCTURE", b"HEADER")
DATE_KEYS = (b"UID", b"INTERNALDATE", b"HEADER")
ROW_FIELDS = (
    "uid", "flags", "size", "internaldate", "has_attachments",
    "date", "from_name", "from_addr", "to", "cc", "subject", "message_id", "in_reply_to", "references",
)  # fmt: skip
_DECODE_EVERY = 10_000  # rows kept raw before their headers are decoded column by column
_MAX_SPLICED = 8  # literals inside one BODYSTRUCTURE put back as quoted strings before giving up
_NOT_QUOTABLE = re.compile(rb"[{\r\n]")
_ESCAPE = re.compile(rb'["\\]')

# The exact shape Dovecot (and most servers) answer ROW_ITEMS in: parsed with one regex,
# straight out of the read buffer (a whole response, its header literal and the closing ")").
FAST_ROW = re.compile(
    rb'\* \d+ FETCH \(UID (\d+) FLAGS \(([^()"{\r\n]*)\) RFC822\.SIZE (\d+) INTERNALDATE "([^"\r\n]*)" '
    rb"BODYSTRUCTURE (\([^{\r\n]*\)) BODY\[HEADER\.FIELDS \([A-Z -]*\)\] \{(\d+)\}\r\n",
    re.IGNORECASE,
)
# The same, case-sensitive: tried first, as matching without case folding is faster. Every group
# sits between fixed delimiters, so where both match they capture the same bytes.
FAST_ROW_UPPER = re.compile(FAST_ROW.pattern)


def fast_fetch_items(wire: Wire, line: bytes) -> dict[bytes, Any] | None:
    """The common ROW_ITEMS answer, from its first line; None when the line has another shape."""
    match = FAST_ROW.fullmatch(line)
    if match is None:
        return None
    header = wire.literal(int(match[6]))
    return _items(wire, match, header, wire.line())


def _items(wire: Wire, match: re.Match[bytes], header: bytes, rest: bytes) -> dict[bytes, Any]:
    items: dict[bytes, Any] = {
        b"UID": match[1],
        b"FLAGS": match[2].split(),
        b"RFC822.SIZE": match[3],
        b"INTERNALDATE": match[4],
        b"BODYSTRUCTURE": parse_structure(wire, match[5]) if ATTACHMENT_HINT.search(match[5]) else None,
        b"HEADER": header,
    }
    if rest != b")\r\n":  # more items after the header section: parse them the general way
        more = fetch_items(parse_response(wire, b"* 0 FETCH (" + rest.lstrip()))
        items.update(more or {})
    return items


def read_row(wire: Wire, line: bytes, rows: Rows) -> dict[bytes, Any] | None:
    """One FETCH response from its first line: into ``rows`` when it has the common shape (None),
    else its items as the general parser reads them.

    The common shape here also takes a BODYSTRUCTURE with literals in it (an attached message's
    envelope with an 8-bit or long subject, ``(NIL {130}`` at a line's end): each literal is put back
    into the line as the quoted string it stands for, when it can be one (no ``{``, CR or LF),
    so the row takes the buffer path's way; else what was read is replayed to the general parser.
    """
    read: list[bytes] = []  # the literals and lines read after ``line``, in order
    text = line
    while (match := FAST_ROW_UPPER.fullmatch(text) or FAST_ROW.fullmatch(text)) is None:
        announced = LITERAL_AT_END.search(text)
        if announced is None or len(read) >= 2 * _MAX_SPLICED:
            return fetch_items(parse_response(_Replay(wire, read), line))
        value = wire.literal(int(announced[1]))
        more = wire.line()
        read += [value, more]
        if _NOT_QUOTABLE.search(value):
            return fetch_items(parse_response(_Replay(wire, read), line))
        text = text[: announced.start()] + b'"' + _ESCAPE.sub(rb"\\\g<0>", value) + b'"' + more
    header = wire.literal(int(match[6]))
    rest = wire.line()
    if rest == b")\r\n":
        rows.add_fast(match, header)
        return None
    return _items(wire, match, header, rest)


class _Replay:
    """The wire as the general parser reads it, the literals and lines already read coming first."""

    def __init__(self, wire: Wire, read: list[bytes]) -> None:
        self.wire = wire
        self.read = read[::-1]

    def literal(self, size: int) -> bytes:
        return self.read.pop() if self.read else self.wire.literal(size)

    def line(self) -> bytes:
        return self.read.pop() if self.read else self.wire.line()

    def fail(self, message: str) -> None:
        self.wire.fail(message)


def flag_names(flags: Any) -> tuple[str, ...]:
    """A FLAGS list as text, without ``\\Recent``: it only says whether this session was the first to
    see the message (RFC 9051 drops it), so a row shows the same flags on any connection, cached or not."""
    if not isinstance(flags, list):
        return ()
    return tuple(f.decode("utf-8", "replace") for f in flags if isinstance(f, bytes) and f.lower() != b"\\recent")


class Rows:
    """The row values of a fetch, as columns, keyed by the UID in each response.

    Two ways in: :meth:`add_fast` for a response of the common shape, matched by ``FAST_ROW``
    straight in the read buffer (its values are kept raw and decoded column by column in
    :meth:`columns`), and :meth:`add_items` for anything the general parser read. Both give
    the same values for the same response (the tests hold them to it).
    """

    def __init__(self, wire: Wire, wanted: set[int]) -> None:
        self.wire = wire
        self.wanted = wanted
        self.position: dict[int, int] = {}
        self.uid: list[int] = []
        self.flags: list[bytes | tuple[str, ...]] = []  # raw "\\Seen \\Flagged" or decoded
        self.size: list[int] = []
        self.internaldate: list[bytes | str] = []
        # Not yet decoded (bounded by _DECODE_EVERY, so raw header blocks never pile up):
        self.structure: list[bytes | bool] = []  # raw BODYSTRUCTURE text or has_attachment()
        self.header: list[bytes | None] = []
        self.has_attachments: list[bool] = []
        self.headers = HeaderColumns()
        self.partial: dict[int, dict[bytes, Any]] = {}  # UIDs whose items came in several responses
        self.nil_header: set[int] = set()  # rows whose header section was NIL
        self.shapes = StructureShapes(wire)

    def add_fast(self, match: re.Match[bytes], header: bytes) -> None:
        uid_text, flags, size, internaldate, structure, _ = match.groups()
        uid = int(uid_text)
        if uid not in self.wanted:
            return
        if uid in self.position:  # a second answer for the row: keep the newest flags
            self.flags[self.position[uid]] = flags
            return
        if self.partial:
            self.partial.pop(uid, None)
        self.position[uid] = len(self.uid)
        self.uid.append(uid)
        self.flags.append(flags)
        self.size.append(int(size))
        self.internaldate.append(internaldate)
        self.structure.append(structure)
        self.header.append(header)
        if len(self.header) >= _DECODE_EVERY:
            self._decode()

    def add_items(self, items: dict[bytes, Any]) -> None:
        raw_uid = items.get(b"UID")
        if not isinstance(raw_uid, bytes) or not raw_uid.isdigit():
            return  # an unsolicited FETCH without UID: nothing to key it by
        uid = int(raw_uid)
        if uid not in self.wanted:
            return
        if uid in self.position:  # a later flag change from another session: keep the newest flags
            if b"FLAGS" in items:
                self.flags[self.position[uid]] = flag_names(items[b"FLAGS"])
            return
        merged = {**self.partial.pop(uid, {}), **items}
        if not all(key in merged for key in ROW_KEYS):
            self.partial[uid] = merged  # the server split the items over several responses
            return
        size = merged[b"RFC822.SIZE"]
        internaldate = merged[b"INTERNALDATE"]
        header = merged[b"HEADER"]
        if not isinstance(header, bytes):
            self.nil_header.add(uid)  # Dovecot's answer for a message expunged meanwhile: checked after the fetch
            header = None
        self.position[uid] = len(self.uid)
        self.uid.append(uid)
        self.flags.append(flag_names(merged[b"FLAGS"]))
        self.size.append(int(size) if isinstance(size, bytes) and size.isdigit() else 0)
        self.internaldate.append(internaldate if isinstance(internaldate, bytes) else "")
        self.structure.append(has_attachment(merged[b"BODYSTRUCTURE"]))
        self.header.append(header)
        if len(self.header) >= _DECODE_EVERY:
            self._decode()

    def _has_attachment(self, text: bytes) -> bool:
        """has_attachment() of a BODYSTRUCTURE's text (with an attachment hint), cached per shape."""
        return self.shapes.has_attachment(text)

    def _decode(self) -> None:
        """Turn the pending BODYSTRUCTUREs and header blocks into column values."""
        by_shape = self.shapes.has_attachment
        self.has_attachments += [
            raw if isinstance(raw, bool) else (may_have_attachment(raw) and by_shape(raw)) for raw in self.structure
        ]
        self.headers.extend(self.header)
        self.structure = []
        self.header = []

    def columns(self) -> dict[str, list[Any]]:
        """The columns of ``ROW_FIELDS`` in ascending UID order."""
        self._decode()
        flag_sets = {raw: flag_names(raw.split()) for raw in set(self.flags) if isinstance(raw, bytes)}
        columns: dict[str, list[Any]] = {
            "uid": self.uid,
            "flags": [flag_sets[raw] if isinstance(raw, bytes) else raw for raw in self.flags],
            "size": self.size,
            "internaldate": [
                raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw for raw in self.internaldate
            ],
            "has_attachments": self.has_attachments,
            **self.headers.columns(),
            "references": self.headers.references,  # thread_id's links (threads.py), not a column
        }
        uids = self.uid
        if any(uids[i] > uids[i + 1] for i in range(len(uids) - 1)):
            order = sorted(range(len(uids)), key=uids.__getitem__)
            columns = {name: [values[i] for i in order] for name, values in columns.items()}
        return {name: columns[name] for name in ROW_FIELDS}


def read_fast_rows(wire: Wire, rows: Rows) -> bool:
    """Take every complete common-shape FETCH response at the front of the read buffer."""
    buffer = wire.buffered()
    match_upper = FAST_ROW_UPPER.match
    match_any = FAST_ROW.match
    add = rows.add_fast
    position = 0
    while match := match_upper(buffer, position) or match_any(buffer, position):
        start = match.end()
        end = start + int(match[6])
        if not buffer.startswith(b")\r\n", end):
            break  # cut off by the end of the buffer, or more items follow: the general path reads it
        add(match, buffer[start:end])
        position = end + 3
    if position:
        wire.consume(position)
    return position > 0
