"""The commands a sync sends, on the index's own IMAP session (raw, like the search path).

- ``STATUS (MESSAGES UIDNEXT UIDVALIDITY [HIGHESTMODSEQ])`` with no folder selected: the
  quick "did anything change" question, answered freshly (a long-selected session's view
  would not show a folder deleted and recreated);
- ``EXAMINE name (QRESYNC (uidvalidity modseq))`` (RFC 7162) once ``ENABLE QRESYNC`` was
  accepted: the server answers with ``VANISHED (EARLIER)`` and the FLAGS of every message
  changed since; ``EXAMINE name (CONDSTORE)`` otherwise, then
  ``UID FETCH 1:n (UID FLAGS) (CHANGEDSINCE modseq)``; without CONDSTORE the flags of
  every known message;
- ``UID SEARCH UID n:*`` for the messages that arrived; their rows come from
  ``fetch.fetch_rows``, the uncached search's own fetch.
"""

from __future__ import annotations

import bisect
import imaplib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import ServerError
from ..imap.commands import run_simple
from ..imap.fetch import uid_search
from ..imap.program import SearchCriteria, Token, encode_command
from ..imap.wire import Wire
from .rows import session_free

_STATUS = re.compile(rb"^\* STATUS .*\(([^()]*)\)\s*$", re.IGNORECASE | re.DOTALL)
_CODE = re.compile(rb"^\* OK \[(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)\]", re.IGNORECASE)
_NOMODSEQ = re.compile(rb"^\* OK \[NOMODSEQ\]", re.IGNORECASE)
_EXISTS = re.compile(rb"^\* (\d+) EXISTS", re.IGNORECASE)
_FETCH = re.compile(rb"^\* \d+ FETCH \((.*)\)\s*$", re.IGNORECASE | re.DOTALL)
_UID = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_FLAGS = re.compile(rb"\bFLAGS \(([^()]*)\)", re.IGNORECASE)
_VANISHED = re.compile(rb"^\* VANISHED (?:\(EARLIER\) )?([0-9:,*]+)\s*$", re.IGNORECASE)
_ENABLED = re.compile(rb"^\* ENABLED\b(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Status:
    uidvalidity: int
    uidnext: int
    messages: int
    highestmodseq: int  # 0 when the server did not say (no CONDSTORE)


@dataclass
class Examined:
    """What ``EXAMINE`` said: the folder's numbers, and with QRESYNC what changed since the watermark."""

    uidvalidity: int = 0
    uidnext: int = 0
    exists: int = 0
    highestmodseq: int = 0
    flags: dict[int, tuple[str, ...]] = field(default_factory=dict)
    vanished: list[tuple[int, int]] = field(default_factory=list)  # UID ranges, inclusive


def _flag_names(raw: bytes) -> tuple[str, ...]:
    """As ``rows.flag_names`` reads them (without ``\\Recent``), so a synced row equals a fetched one."""
    return session_free(tuple(flag.decode("utf-8", "replace") for flag in raw.split()))


def _ranges(text: bytes) -> list[tuple[int, int]]:
    found = []
    for part in text.split(b","):
        first, _, last = part.partition(b":")
        if not first.isdigit() or (last and not last.isdigit()):
            continue  # "*" or garbage names nothing this index holds
        low, high = int(first), int(last or first)
        found.append((min(low, high), max(low, high)))
    return found


def in_ranges(uids: Sequence[int], ranges: list[tuple[int, int]]) -> set[int]:
    """The UIDs of the ascending ``uids`` that lie in ``ranges``."""
    hit: set[int] = set()
    for low, high in ranges:
        hit.update(uids[bisect.bisect_left(uids, low) : bisect.bisect_right(uids, high)])
    return hit


def _fetch_flags(line: bytes, into: dict[int, tuple[str, ...]]) -> None:
    match = _FETCH.match(line)
    if match is None:
        return
    uid, flags = _UID.search(match[1]), _FLAGS.search(match[1])
    if uid is not None and flags is not None:
        into[int(uid[1])] = _flag_names(flags[1])


def _run(
    imap: imaplib.IMAP4, verb: bytes, tokens: list[Token], on_line: Callable[[bytes], None], *, literal_plus: bool
) -> None:
    wire = Wire(imap)
    tag = wire.tag()
    run_simple(wire, tag, encode_command(tag + b" " + verb, tokens, literal_plus=literal_plus), on_line)


def enable_qresync(imap: imaplib.IMAP4) -> bool:
    """``ENABLE QRESYNC``; whether the server says it is enabled."""
    enabled: list[bytes] = []

    def on_line(line: bytes) -> None:
        match = _ENABLED.match(line)
        if match:
            enabled.extend(word.upper() for word in match[1].split())

    try:
        _run(imap, b"ENABLE", ["QRESYNC"], on_line, literal_plus=False)
    except ServerError:
        return False
    return b"QRESYNC" in enabled


def unselect(imap: imaplib.IMAP4, *, has_unselect: bool) -> None:
    """Leave the selected folder (CLOSE on a folder opened with EXAMINE expunges nothing)."""
    _run(imap, b"UNSELECT" if has_unselect else b"CLOSE", [], lambda line: None, literal_plus=False)


def status(imap: imaplib.IMAP4, name: bytes, *, condstore: bool, literal_plus: bool) -> Status | None:
    """The folder's numbers; None when the server refuses (the folder was deleted)."""
    items: list[Token] = ["MESSAGES", "UIDNEXT", "UIDVALIDITY", *(["HIGHESTMODSEQ"] if condstore else [])]
    found: dict[bytes, int] = {}

    def on_line(line: bytes) -> None:
        match = _STATUS.match(line)
        if match:
            words = match[1].split()
            for key, value in zip(words[::2], words[1::2], strict=False):
                if value.isdigit():
                    found[key.upper()] = int(value)

    try:
        _run(imap, b"STATUS", [name, "(", *items, ")"], on_line, literal_plus=literal_plus)
    except ServerError:
        return None
    if b"UIDVALIDITY" not in found or b"UIDNEXT" not in found:
        return None
    return Status(found[b"UIDVALIDITY"], found[b"UIDNEXT"], found.get(b"MESSAGES", 0), found.get(b"HIGHESTMODSEQ", 0))


def examine(
    imap: imaplib.IMAP4,
    name: bytes,
    *,
    condstore: bool,
    qresync: tuple[int, int] | None,
    literal_plus: bool,
) -> Examined:
    """``EXAMINE`` (read-only), with ``(QRESYNC (uidvalidity modseq))`` or ``(CONDSTORE)``."""
    result = Examined()

    def on_line(line: bytes) -> None:
        if (code := _CODE.match(line)) is not None:
            setattr(result, code[1].decode().lower(), int(code[2]))
        elif _NOMODSEQ.match(line):
            result.highestmodseq = 0
        elif (exists := _EXISTS.match(line)) is not None:
            result.exists = int(exists[1])
        elif (vanished := _VANISHED.match(line)) is not None:
            result.vanished += _ranges(vanished[1])
        elif qresync is not None:
            _fetch_flags(line, result.flags)

    tokens: list[Token] = [name]
    if qresync is not None:
        tokens += ["(", "QRESYNC", "(", str(qresync[0]), str(qresync[1]), ")", ")"]
    elif condstore:
        tokens += ["(", "CONDSTORE", ")"]
    _run(imap, b"EXAMINE", tokens, on_line, literal_plus=literal_plus)
    if not result.uidvalidity:
        raise ServerError("the IMAP server opened a folder without a UIDVALIDITY, so no message can be named safely.")
    return result


def flags_of(imap: imaplib.IMAP4, last_uid: int, *, changed_since: int | None) -> dict[int, tuple[str, ...]]:
    """FLAGS of the messages with UID 1 .. ``last_uid`` (only those changed since a modseq, with CONDSTORE)."""
    flags: dict[int, tuple[str, ...]] = {}
    if last_uid < 1:
        return flags
    tokens: list[Token] = [f"1:{last_uid}", "(", "UID", "FLAGS", ")"]
    if changed_since is not None:
        tokens += ["(", "CHANGEDSINCE", str(changed_since), ")"]
    _run(imap, b"UID FETCH", tokens, lambda line: _fetch_flags(line, flags), literal_plus=False)
    return flags


def uids_from(imap: imaplib.IMAP4, first: int, *, esearch: bool) -> list[int]:
    """The UIDs from ``first`` on (``UID SEARCH UID first:*``, which also names the last message: dropped)."""
    found = uid_search(imap, SearchCriteria(("UID", f"{max(first, 1)}:*")), esearch=esearch)
    return [uid for uid in found if uid >= first]
