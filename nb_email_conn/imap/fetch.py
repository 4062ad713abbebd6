"""The fast search path: UID SEARCH / SORT and pipelined UID FETCH on imaplib's socket.

imapclient's byte-by-byte lexer costs ~90% of a large fetch, so ``search_emails`` talks to
the already logged-in ``imaplib.IMAP4`` (``IMAPClient._imap``, folder selected with EXAMINE)
directly, with a parser for exactly the items it asks for:

- tags come from ``imap._new_tag()`` so imaplib's counter stays consistent;
- rows are keyed by the UID inside each FETCH response, never by position, so unsolicited
  ``* n EXPUNGE`` / ``* n FETCH (FLAGS ..)`` / ``* n EXISTS`` from other sessions are
  skipped (or, for a flag change of a row already read, applied);
- command lines stay short (UID ranges, at most ~900 characters of set per command);
- lines are read in chunks, so no line-length limit trips on huge SEARCH answers, while
  literal sizes and line lengths are bounded (a hostile server cannot exhaust memory);
- only the column values are kept per message, never raw responses.

A response the parser cannot trust (oversized literal, unknown tag) shuts the socket down
and raises :class:`ServerError`; the session reconnects on its next use.
"""

from __future__ import annotations

import contextlib
import gc
import imaplib
import re
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, BinaryIO, cast

import pandas as pd

from ..errors import ServerError
from ..refs import uid_sets
from .frame import HeaderColumns, build_frame, empty_frame, header_dates, header_values, internal_dates
from .query import SearchCriteria, encode_search_command, encode_sort_command

Progress = Callable[[int, int], None]

MAX_LITERAL = 64 * 1024 * 1024  # no header block or BODYSTRUCTURE string is anywhere near this
MAX_LINE = 256 * 1024 * 1024  # a SEARCH answer for 10M sparse UIDs is ~80 MB
MAX_UIDS = 50_000_000  # bound on what a (hostile) ESEARCH range may expand to
DEFAULT_BATCH = 2000  # UIDs per FETCH command: progress granularity
PIPELINE_WINDOW = 4  # FETCH commands in flight at once
_DECODE_EVERY = 10_000  # rows kept raw before their headers are decoded column by column
_CHUNK = 1 << 16
_SET_LENGTH = 900  # characters of UID set per command line

HEADER_ITEM = b"BODY.PEEK[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO)]"
ROW_ITEMS = b"(UID FLAGS RFC822.SIZE INTERNALDATE BODYSTRUCTURE " + HEADER_ITEM + b")"
DATE_ITEMS = b"(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (DATE)])"
_ROW_KEYS = (b"UID", b"FLAGS", b"RFC822.SIZE", b"INTERNALDATE", b"BODYSTRUCTURE", b"HEADER")
_DATE_KEYS = (b"UID", b"INTERNALDATE", b"HEADER")

_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r?\n$")
_TOKENS = re.compile(rb'[()]|"(?:[^"\\]|\\.)*"|[^\s()"\[\]]+(?:\[[^\]]*\](?:<\d+>)?)?|\[[^\]]*\]')
_UNESCAPE = re.compile(rb"\\(.)")
_FETCH_LINE = re.compile(rb"\* \d+ FETCH ", re.IGNORECASE)
# The exact shape Dovecot (and most servers) answer ROW_ITEMS in: parsed with one regex,
# straight out of the read buffer (a whole response, its header literal and the closing ")").
_FAST_ROW = re.compile(
    rb'\* \d+ FETCH \(UID (\d+) FLAGS \(([^()"{\r\n]*)\) RFC822\.SIZE (\d+) INTERNALDATE "([^"\r\n]*)" '
    rb"BODYSTRUCTURE (\([^{\r\n]*\)) BODY\[HEADER\.FIELDS \([A-Z -]*\)\] \{(\d+)\}\r\n",
    re.IGNORECASE,
)
# The same, case-sensitive: tried first, as matching without case folding is faster. Every group
# sits between fixed delimiters, so where both match they capture the same bytes.
_FAST_ROW_UPPER = re.compile(_FAST_ROW.pattern)
# has_attachment() can only be True when one of these words appears in the BODYSTRUCTURE
# (quoted or not, alone or as a prefix: pymap sends a raw 'attachment; filename=...').
_ATTACHMENT_HINT = re.compile(rb"attachment|name|message", re.IGNORECASE)
# has_attachment() depends on a BODYSTRUCTURE's shape and on the strings it compares, never on
# numbers or other strings: those are blanked out so that the answer is computed once per shape.
_COMPARED_STRINGS = frozenset({b"text", b"message", b"rfc822", b"global", b"name", b"filename", b"attachment"})
_STRUCTURE_NUMBER = re.compile(rb"(?<=[ (])\d+(?=[ )])")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TAGGED = re.compile(rb"^(\S+) (OK|NO|BAD)\b ?(.*?)\r?\n?$", re.IGNORECASE | re.DOTALL)
_ESEARCH = re.compile(rb'^\* ESEARCH(?: \(TAG "([^"]*)"\))?(?: UID)?(.*?)\r?\n?$', re.IGNORECASE | re.DOTALL)

Row = list[Any]  # the values of ROW_FIELDS, in that order
ROW_FIELDS = (
    "uid", "flags", "size", "internaldate", "has_attachments",
    "date", "from_name", "from_addr", "to", "cc", "subject", "message_id", "in_reply_to",
)  # fmt: skip


class _Wire:
    """Our view of imaplib's IMAP4: tags, sending, and bounded reads of lines and literals."""

    def __init__(self, imap: imaplib.IMAP4) -> None:
        self.imap = imap
        self.file = cast(BinaryIO, imap.file)  # imaplib's buffered reader (replaced by STARTTLS, so read it now)

    def tag(self) -> bytes:
        return cast(bytes, self.imap._new_tag())

    def finished(self, tag: bytes) -> None:
        self.imap.tagged_commands.pop(tag, None)

    def send(self, data: bytes) -> None:
        self.imap.send(data)

    def line(self) -> bytes:
        line: bytes = self.file.readline(_CHUNK)
        if line.endswith(b"\n"):
            return line
        if not line:
            raise imaplib.IMAP4.abort("the IMAP server closed the connection")
        parts = [line]
        total = len(line)
        while True:
            chunk: bytes = self.file.readline(_CHUNK)
            if not chunk:
                raise imaplib.IMAP4.abort("the IMAP server closed the connection")
            parts.append(chunk)
            total += len(chunk)
            if total > MAX_LINE:
                self.fail(f"the IMAP server sent a response line over {MAX_LINE} bytes")
            if chunk.endswith(b"\n"):
                return b"".join(parts)

    def buffered(self) -> bytes:
        """What the reader holds already (one socket read if it holds nothing), without consuming it."""
        peek = getattr(self.file, "peek", None)
        return cast(bytes, peek(1)) if peek is not None else b""

    def consume(self, size: int) -> None:
        self.file.read(size)

    def literal(self, size: int) -> bytes:
        if size > MAX_LITERAL:
            self.fail(f"the IMAP server announced a {size}-byte literal (limit {MAX_LITERAL})")
        data: bytes = self.file.read(size)
        if len(data) < size:
            raise imaplib.IMAP4.abort("the IMAP server closed the connection")
        return data

    def skip_rest(self, line: bytes) -> None:
        """Consume the literals (and continuation lines) of a response we do not use."""
        while match := _LITERAL_AT_END.search(line):
            self.literal(int(match[1]))
            line = self.line()

    def fail(self, message: str) -> None:
        """The stream can no longer be trusted: close it so the session reconnects."""
        try:
            self.imap.shutdown()
        except OSError:
            pass
        raise ServerError(message + "; the connection was closed, please retry.")


# -- the parser ----------------------------------------------------------------------------
def parse_response(wire: _Wire, line: bytes) -> list[Any]:
    """One untagged response (with its literals) as nested lists.

    Atoms and strings are ``bytes``, ``NIL`` is ``None``, parenthesised lists are lists.
    """
    stack: list[list[Any]] = []
    current: list[Any] = []
    top = current
    while True:
        match = _LITERAL_AT_END.search(line)
        text = line[: match.start()] if match else line
        for token in _TOKENS.findall(text):
            first = token[0]
            if first == 40:  # (
                new: list[Any] = []
                current.append(new)
                stack.append(current)
                current = new
            elif first == 41:  # )
                if not stack:
                    wire.fail("the IMAP server sent an unbalanced ')'")
                current = stack.pop()
            elif first == 34:  # "quoted"
                token = token[1:-1]
                current.append(_UNESCAPE.sub(rb"\1", token) if 92 in token else token)
            elif token == b"NIL":
                current.append(None)
            else:
                current.append(token)
        if not match:
            return top
        current.append(wire.literal(int(match[1])))
        line = wire.line()


def fetch_items(response: list[Any]) -> dict[bytes, Any] | None:
    """``* n FETCH (name value ...)`` -> {NAME: value}; the header section is keyed ``HEADER``."""
    if len(response) < 4 or not isinstance(response[3], list):
        return None
    items = response[3]
    result: dict[bytes, Any] = {}
    for index in range(0, len(items) - 1, 2):
        name = items[index]
        if not isinstance(name, bytes):
            return None
        key = name.upper()
        result[b"HEADER" if key.startswith(b"BODY[") else key] = items[index + 1]
    return result


def fast_fetch_items(wire: _Wire, line: bytes) -> dict[bytes, Any] | None:
    """The common ROW_ITEMS answer, from its first line; None when the line has another shape."""
    match = _FAST_ROW.fullmatch(line)
    if match is None:
        return None
    header = wire.literal(int(match[6]))
    items: dict[bytes, Any] = {
        b"UID": match[1],
        b"FLAGS": match[2].split(),
        b"RFC822.SIZE": match[3],
        b"INTERNALDATE": match[4],
        b"BODYSTRUCTURE": _parse_structure(wire, match[5]) if _ATTACHMENT_HINT.search(match[5]) else None,
        b"HEADER": header,
    }
    rest = wire.line()
    if rest != b")\r\n":  # more items after the header section: parse them the general way
        more = fetch_items(parse_response(wire, b"* 0 FETCH (" + rest.lstrip()))
        items.update(more or {})
    return items


def _parse_structure(wire: _Wire, text: bytes) -> Any:
    return parse_response(wire, text + b"\r\n")[0]


def may_have_attachment(structure: bytes) -> bool:
    """``_ATTACHMENT_HINT.search(structure) is not None``, several times faster (no IGNORECASE regex)."""
    lowered = structure.lower()
    return b"name" in lowered or b"attachment" in lowered or b"message" in lowered


def _lower(value: Any) -> bytes:
    return value.lower() if isinstance(value, bytes) else b""


def _params_have_name(params: Any, names: tuple[bytes, ...]) -> bool:
    if not isinstance(params, list):
        return False
    return any(_lower(params[i]) in names for i in range(0, len(params) - 1, 2))


def has_attachment(structure: Any) -> bool:
    """Whether a BODYSTRUCTURE has an attachment.

    True for any part with ``Content-Disposition: attachment``, any leaf that is neither
    text nor multipart and has a file name (disposition ``filename`` or type ``name``),
    and any attached message (``message/rfc822``, ``message/global``).
    """
    if not isinstance(structure, list) or not structure:
        return False
    if isinstance(structure[0], list):  # multipart: parts..., subtype, [params, disposition, ...]
        index = 0
        while index < len(structure) and isinstance(structure[index], list):
            if has_attachment(structure[index]):
                return True
            index += 1
        disposition = structure[index + 2] if len(structure) > index + 2 else None
        return isinstance(disposition, list) and bool(disposition) and _lower(disposition[0]) == b"attachment"
    kind = _lower(structure[0])
    subtype = _lower(structure[1]) if len(structure) > 1 else b""
    if kind == b"message" and subtype in (b"rfc822", b"global"):
        return True
    # Single part: type subtype params id description encoding size [lines] md5 disposition ...
    disposition_index = 9 if kind == b"text" else 8
    disposition = structure[disposition_index] if len(structure) > disposition_index else None
    if isinstance(disposition, bytes) and disposition.lower().startswith(b"attachment"):
        return True  # pymap sends the raw header value instead of ("attachment" (params))
    if isinstance(disposition, list) and disposition:
        if _lower(disposition[0]) == b"attachment":
            return True
        if kind != b"text" and len(disposition) > 1 and _params_have_name(disposition[1], (b"filename",)):
            return True
    return kind != b"text" and len(structure) > 2 and _params_have_name(structure[2], (b"name",))


def _flag_names(flags: Any) -> tuple[str, ...]:
    if not isinstance(flags, list):
        return ()
    return tuple(f.decode("utf-8", "replace") for f in flags if isinstance(f, bytes))


class _Rows:
    """The row values of a fetch, as columns, keyed by the UID in each response.

    Two ways in: :meth:`add_fast` for a response of the common shape, matched by ``_FAST_ROW``
    straight in the read buffer (its values are kept raw and decoded column by column in
    :meth:`columns`), and :meth:`add_items` for anything the general parser read. Both give
    the same values for the same response (the tests hold them to it).
    """

    def __init__(self, wire: _Wire, wanted: set[int]) -> None:
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
        self._structures: dict[bytes, bool] = {}
        self._by_digits: dict[bytes, bool] = {}

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
                self.flags[self.position[uid]] = _flag_names(items[b"FLAGS"])
            return
        merged = {**self.partial.pop(uid, {}), **items}
        if not all(key in merged for key in _ROW_KEYS):
            self.partial[uid] = merged  # the server split the items over several responses
            return
        size = merged[b"RFC822.SIZE"]
        internaldate = merged[b"INTERNALDATE"]
        header = merged[b"HEADER"]
        self.position[uid] = len(self.uid)
        self.uid.append(uid)
        self.flags.append(_flag_names(merged[b"FLAGS"]))
        self.size.append(int(size) if isinstance(size, bytes) and size.isdigit() else 0)
        self.internaldate.append(internaldate if isinstance(internaldate, bytes) else "")
        self.structure.append(has_attachment(merged[b"BODYSTRUCTURE"]))
        self.header.append(header if isinstance(header, bytes) else None)
        if len(self.header) >= _DECODE_EVERY:
            self._decode()

    def _decode(self) -> None:
        """Turn the pending BODYSTRUCTUREs and header blocks into column values."""
        self.has_attachments += [
            raw if isinstance(raw, bool) else (may_have_attachment(raw) and self._has_attachment(raw))
            for raw in self.structure
        ]
        self.headers.extend(self.header)
        self.structure = []
        self.header = []

    def columns(self) -> dict[str, list[Any]]:
        """The columns of ``ROW_FIELDS`` in ascending UID order."""
        self._decode()
        flag_sets = {raw: _flag_names(raw.split()) for raw in set(self.flags) if isinstance(raw, bytes)}
        columns: dict[str, list[Any]] = {
            "uid": self.uid,
            "flags": [flag_sets[raw] if isinstance(raw, bytes) else raw for raw in self.flags],
            "size": self.size,
            "internaldate": [
                raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw for raw in self.internaldate
            ],
            "has_attachments": self.has_attachments,
            **self.headers.columns(),
        }
        uids = self.uid
        if any(uids[i] > uids[i + 1] for i in range(len(uids) - 1)):
            order = sorted(range(len(uids)), key=uids.__getitem__)
            columns = {name: [values[i] for i in order] for name, values in columns.items()}
        return {name: columns[name] for name in ROW_FIELDS}

    def _has_attachment(self, text: bytes) -> bool:
        """has_attachment() of a BODYSTRUCTURE's text (with an attachment hint), computed once per shape.

        First by the text with every digit made "0" (sizes, line counts, numbered file names):
        has_attachment() compares no string with a digit in it but "rfc822", so that key is
        only used when "rfc" does not occur.
        """
        key = text.translate(_DIGITS_TO_ZERO)
        if b"rfc" in key.lower():
            return self._has_attachment_by_shape(text)
        known = self._by_digits.get(key)
        if known is None:
            known = self._has_attachment_by_shape(text)
            if len(self._by_digits) < 10_000:
                self._by_digits[key] = known
        return known

    def _has_attachment_by_shape(self, text: bytes) -> bool:
        if b"\\" in text:  # escaped quotes: splitting at '"' would not find the strings
            return has_attachment(_parse_structure(self.wire, text))
        pieces = text.split(b'"')  # outside, "inside", outside, ...
        pieces[1::2] = [
            piece if piece.lower() in _COMPARED_STRINGS or piece[:10].lower() == b"attachment" else b""
            for piece in pieces[1::2]
        ]
        shape = _STRUCTURE_NUMBER.sub(b"0", b'"'.join(pieces))
        known = self._structures.get(shape)
        if known is None:
            known = has_attachment(_parse_structure(self.wire, shape))
            if len(self._structures) < 10_000:
                self._structures[shape] = known
        return known


def _read_fast_rows(wire: _Wire, rows: _Rows) -> bool:
    """Take every complete common-shape FETCH response at the front of the read buffer."""
    buffer = wire.buffered()
    match_upper = _FAST_ROW_UPPER.match
    match_any = _FAST_ROW.match
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


# -- commands ------------------------------------------------------------------------------
def _check_tagged(wire: _Wire, line: bytes, expected: Collection[bytes]) -> tuple[bytes, bytes, bytes]:
    match = _TAGGED.match(line)
    if not match or match[1] not in expected:
        wire.fail(f"the IMAP server sent an unexpected response {line[:80]!r}")
        raise AssertionError  # pragma: no cover - fail() raises
    return match[1], match[2].upper(), match[3]


def _untagged_line(wire: _Wire, line: bytes) -> None:
    if line[:6].upper() == b"* BYE ":
        raise imaplib.IMAP4.abort("the IMAP server closed the connection: " + line[6:200].decode("utf-8", "replace"))


def _run_simple(wire: _Wire, tag: bytes, pieces: list[bytes], on_untagged: Callable[[bytes], None]) -> None:
    """Send a command (waiting for ``+`` before each synchronizing literal) and read to its end."""
    try:
        for index, piece in enumerate(pieces):
            wire.send(piece)
            last = index == len(pieces) - 1
            while True:
                line = wire.line()
                if line.startswith(b"* "):
                    _untagged_line(wire, line)
                    if _LITERAL_AT_END.search(line):
                        wire.skip_rest(line)
                    else:
                        on_untagged(line)
                elif line.startswith(b"+") and not last:
                    break  # the server is ready for the literal
                else:
                    _, status, text = _check_tagged(wire, line, (tag,))
                    if status != b"OK":
                        raise ServerError(
                            "the IMAP server refused the search: " + text.decode("utf-8", "replace")[:300],
                            response=text.decode("utf-8", "replace"),
                        )
                    if not last:
                        wire.fail("the IMAP server completed a command before its literal was sent")
                    return
    finally:
        wire.finished(tag)


def _capability_flags(capabilities: Collection[str]) -> set[str]:
    return {c.upper() for c in capabilities}


def _numbers(text: bytes) -> list[int]:
    return [int(word) for word in text.split() if word.isdigit()]


def _expand_set(text: bytes) -> list[int]:
    uids: list[int] = []
    for piece in text.split(b","):
        first, colon, last = piece.partition(b":")
        if not first.isdigit() or (colon and not last.isdigit()):
            continue
        low, high = (int(first), int(last)) if colon else (int(first), int(first))
        low, high = min(low, high), max(low, high)
        if len(uids) + high - low + 1 > MAX_UIDS:
            raise ServerError(f"the IMAP server answered a search with more than {MAX_UIDS} UIDs.")
        uids.extend(range(low, high + 1))
    return uids


def _literal_plus(capabilities: Collection[str]) -> bool:
    flags = _capability_flags(capabilities)
    return "LITERAL+" in flags or "LITERAL-" in flags


def uid_search(
    imap: imaplib.IMAP4, criteria: SearchCriteria, *, esearch: bool, literal_plus: bool = False
) -> list[int]:
    """``UID SEARCH`` (``RETURN (ALL)`` when ``esearch``): the matching UIDs, ascending."""
    wire = _Wire(imap)
    tag = wire.tag()
    found: list[int] = []

    def on_untagged(line: bytes) -> None:
        upper = line[:10].upper()
        if upper.startswith(b"* SEARCH"):
            found.extend(_numbers(line[8:]))
        elif upper.startswith(b"* ESEARCH"):
            match = _ESEARCH.match(line)
            if match and (match[1] is None or match[1] == tag):
                words = match[2].split()
                for index, word in enumerate(words[:-1]):
                    if word.upper() == b"ALL":
                        found.extend(_expand_set(words[index + 1]))

    _run_simple(
        wire, tag, encode_search_command(tag, criteria, literal_plus=literal_plus, esearch=esearch), on_untagged
    )
    return sorted(set(found))


def sort_search(imap: imaplib.IMAP4, criteria: SearchCriteria, *, literal_plus: bool = False) -> list[int]:
    """``UID SORT (REVERSE DATE) UTF-8 <criteria>``: search and order newest first in one command."""
    wire = _Wire(imap)
    tag = wire.tag()
    found: list[int] = []

    def on_untagged(line: bytes) -> None:
        if line[:6].upper() == b"* SORT":
            found.extend(_numbers(line[6:]))

    _run_simple(wire, tag, encode_sort_command(tag, criteria, literal_plus=literal_plus), on_untagged)
    seen: set[int] = set()
    return [uid for uid in found if not (uid in seen or seen.add(uid))]  # type: ignore[func-returns-value]


def _commands(uids: Sequence[int], items: bytes, batch: int) -> list[tuple[bytes, int]]:
    """``UID FETCH <set> <items>`` lines with short sets, and how many UIDs each asks for."""
    ordered = sorted(set(uids))
    commands: list[tuple[bytes, int]] = []
    for start in range(0, len(ordered), max(1, batch)):
        chunk = ordered[start : start + batch]
        for uid_set in uid_sets(chunk, _SET_LENGTH):
            count = 0
            for piece in uid_set.split(","):
                low, _, high = piece.partition(":")
                count += int(high or low) - int(low) + 1
            commands.append((b"UID FETCH " + uid_set.encode("ascii") + b" " + items, count))
    return commands


def _pipeline(
    imap: imaplib.IMAP4,
    commands: list[tuple[bytes, int]],
    on_fetch: Callable[[dict[bytes, Any]], None],
    progress: Progress | None,
    rows: _Rows | None = None,
) -> None:
    """Send the commands, at most PIPELINE_WINDOW in flight, and feed each FETCH to ``on_fetch``.

    With ``rows``, responses of the common shape go straight from the read buffer to it.
    """
    wire = _Wire(imap)
    in_flight: dict[bytes, int] = {}
    errors: list[str] = []
    total = sum(count for _, count in commands)
    done = 0
    next_index = 0

    def send_more() -> None:
        nonlocal next_index
        while next_index < len(commands) and len(in_flight) < PIPELINE_WINDOW:
            tag = wire.tag()
            in_flight[tag] = commands[next_index][1]
            wire.send(tag + b" " + commands[next_index][0] + b"\r\n")
            next_index += 1

    try:
        send_more()
        while in_flight:
            if rows is not None and _read_fast_rows(wire, rows):
                continue
            line = wire.line()
            if line.startswith(b"* "):
                if _FETCH_LINE.match(line):
                    items = fast_fetch_items(wire, line) or fetch_items(parse_response(wire, line))
                    if items is not None:
                        on_fetch(items)
                else:
                    _untagged_line(wire, line)
                    wire.skip_rest(line)  # EXISTS, EXPUNGE, OK [...], RECENT, ...
                continue
            tag, status, text = _check_tagged(wire, line, in_flight)
            count = in_flight.pop(tag)
            wire.finished(tag)
            if status != b"OK":
                errors.append(text.decode("utf-8", "replace")[:300])
            done += count
            if progress is not None:
                progress(done, total)
            send_more()
    finally:
        for tag in in_flight:
            wire.finished(tag)
    if errors:
        raise ServerError("the IMAP server refused to fetch messages: " + "; ".join(errors[:3]), response=errors)


def fetch_rows(
    imap: imaplib.IMAP4,
    uids: Sequence[int],
    *,
    progress: Progress | None = None,
    batch: int = DEFAULT_BATCH,
) -> dict[str, list[Any]]:
    """The row values of ``uids`` as columns (see ``ROW_FIELDS``); expunged UIDs are absent.

    Columns are in ascending UID order; ``frame.build_frame`` turns them into the result.
    """
    rows = _Rows(_Wire(imap), set(uids))
    if uids:
        _pipeline(imap, _commands(uids, ROW_ITEMS, batch), rows.add_items, progress, rows)
    return rows.columns()


def uids_newest_first(
    imap: imaplib.IMAP4,
    uids: Sequence[int],
    *,
    limit: int | None = None,
    batch: int = 5000,
) -> list[int]:
    """Order UIDs newest first without SORT: fetch Date and INTERNALDATE, then sort locally.

    Same key as the result frame: the Date header, INTERNALDATE when it is unusable, then UID.
    """
    if not uids:
        return []
    wanted = set(uids)
    found: dict[int, tuple[str, str]] = {}

    def on_fetch(items: dict[bytes, Any]) -> None:
        raw_uid = items.get(b"UID")
        if not (isinstance(raw_uid, bytes) and raw_uid.isdigit() and all(k in items for k in _DATE_KEYS)):
            return
        uid = int(raw_uid)
        if uid in wanted:
            internaldate = items[b"INTERNALDATE"]
            header = items[b"HEADER"]
            found[uid] = (
                header_values(header if isinstance(header, bytes) else None)[0],
                internaldate.decode("ascii", "replace") if isinstance(internaldate, bytes) else "",
            )

    _pipeline(imap, _commands(uids, DATE_ITEMS, batch), on_fetch, None)
    order = list(found)
    dates = header_dates([found[uid][0] for uid in order])
    received = internal_dates([found[uid][1] for uid in order])
    table = pd.DataFrame({"key": dates.fillna(received).to_numpy(), "uid": order})
    table = table.sort_values(["key", "uid"], ascending=False, na_position="last", kind="stable")
    newest = [int(uid) for uid in table["uid"]]
    return newest if limit is None else newest[:limit]


# -- the whole search ----------------------------------------------------------------------
def _filter_attachments(columns: dict[str, list[Any]], wanted: bool | None) -> dict[str, list[Any]]:
    if wanted is None:
        return columns
    keep = [i for i, value in enumerate(columns["has_attachments"]) if value == wanted]
    return {name: [values[i] for i in keep] for name, values in columns.items()}


def search_messages(
    imap: imaplib.IMAP4,
    criteria: SearchCriteria,
    *,
    capabilities: Collection[str],
    folder: str,
    uidvalidity: int,
    user: str = "",
    host: str = "",
    limit: int | None = None,
    progress: Progress | None = None,
    batch: int = DEFAULT_BATCH,
) -> pd.DataFrame:
    """The search result DataFrame for the folder currently selected on ``imap`` (newest first).

    One UID SEARCH (or UID SORT when ``limit`` is given and the server has SORT), then
    pipelined FETCHes of only the UIDs needed. ``has_attachment`` is applied from
    BODYSTRUCTURE; with a ``limit`` the newest messages are fetched in growing chunks
    until ``limit`` of them pass.
    """
    if limit is not None and limit <= 0:
        return empty_frame()
    with _cyclic_gc_paused():
        return _search(imap, criteria, capabilities, folder, uidvalidity, user, host, limit, progress, batch)


_gc_pause_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees everything).

    A search allocates a few container objects per row that all stay alive until the frame is
    built; the collector would re-scan them (and every other live object) again and again,
    about a fifth of a 50k-row search. Cycles made meanwhile (if any) are collected once it runs again.
    Searches in several threads share one pause (a counter), so the last one to finish restores
    the collector exactly as it found it.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_pause_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_pause_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def _search(
    imap: imaplib.IMAP4,
    criteria: SearchCriteria,
    capabilities: Collection[str],
    folder: str,
    uidvalidity: int,
    user: str,
    host: str,
    limit: int | None,
    progress: Progress | None,
    batch: int,
) -> pd.DataFrame:
    flags = _capability_flags(capabilities)
    literal_plus = _literal_plus(flags)
    if limit is None:
        uids = uid_search(imap, criteria, esearch="ESEARCH" in flags, literal_plus=literal_plus)
        columns = _filter_attachments(fetch_rows(imap, uids, progress=progress, batch=batch), criteria.has_attachment)
        return build_frame(columns, folder=folder, uidvalidity=uidvalidity, user=user, host=host)

    if "SORT" in flags:
        ordered = sort_search(imap, criteria, literal_plus=literal_plus)
    else:
        matched = uid_search(imap, criteria, esearch="ESEARCH" in flags, literal_plus=literal_plus)
        ordered = uids_newest_first(imap, matched, limit=None if criteria.needs_attachment_filter else limit)
    if not criteria.needs_attachment_filter:
        columns = fetch_rows(imap, ordered[:limit], progress=progress, batch=batch)
        return build_frame(columns, folder=folder, uidvalidity=uidvalidity, user=user, host=host)

    position = {uid: index for index, uid in enumerate(ordered)}
    kept: list[dict[str, list[Any]]] = []
    count, start, chunk = 0, 0, max(limit, 100)
    while start < len(ordered) and count < limit:
        part = _filter_attachments(
            fetch_rows(imap, ordered[start : start + chunk], batch=batch), criteria.has_attachment
        )
        kept.append(part)
        count += len(part["uid"])
        start += chunk
        chunk *= 2
        if progress is not None:
            progress(min(start, len(ordered)), len(ordered))
    columns = {name: [v for part in kept for v in part[name]] for name in ROW_FIELDS}
    newest = sorted(range(len(columns["uid"])), key=lambda i: position[columns["uid"][i]])[:limit]
    columns = {name: [values[i] for i in newest] for name, values in columns.items()}
    return build_frame(columns, folder=folder, uidvalidity=uidvalidity, user=user, host=host)
