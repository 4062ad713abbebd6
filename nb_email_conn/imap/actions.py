"""The commands behind reads and actions on refs, on our wire, every result keyed by UID.

- Every FETCH result is filed under the ``UID`` inside its response. A response without one
  (an unsolicited ``* n FETCH (FLAGS ..)`` for *sequence number* n, sent when another client
  changed flags) or with a UID nobody asked for is ignored, so a result never carries
  another message's data. imapclient filed those under the sequence number, which on a
  folder where sequence numbers and UIDs differ is some other message's UID.
- Existence is a ``UID SEARCH UID <set>`` answered during that command only (imaplib would
  mix in ``* SEARCH`` data left over from earlier commands).
- Literals are bounded by the wire: ``limits.max_message_size()`` for a message, ``MAX_LINE``
  for everything else; each command's whole answer is bounded too.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from ..errors import ServerError
from ..refs import parse_uid_set, uid_sets
from .commands import SET_LENGTH, refused, run_command
from .limits import MAX_LINE, MAX_UIDS_PER_COMMAND, RESPONSE_SLACK
from .program import Token, encode_command
from .response import fetch_items
from .wire import Wire

_COPYUID = re.compile(rb"\[COPYUID (\d+) ([\d:,]+) ([\d:,]+)\]", re.IGNORECASE)
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)
_EXPUNGE_ISSUED = re.compile(rb"^\[EXPUNGEISSUED\]", re.IGNORECASE)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

CopyUid = tuple[int, list[int], list[int]]  # (target UIDVALIDITY, source UIDs, new UIDs)


def small_wire(imap: imaplib.IMAP4) -> Wire:
    """For answers with no message in them: literals and lines within MAX_LINE, the whole answer bounded."""
    return Wire(imap, max_literal=MAX_LINE, max_line=MAX_LINE, budget=RESPONSE_SLACK)


def _chunks(uids: Iterable[int]) -> list[str]:
    """Short UID sets of at most MAX_UIDS_PER_COMMAND UIDs each."""
    ordered = sorted(set(uids))
    sets: list[str] = []
    for start in range(0, len(ordered), MAX_UIDS_PER_COMMAND):
        sets += uid_sets(ordered[start : start + MAX_UIDS_PER_COMMAND], SET_LENGTH)
    return sets


def _checked(wire: Wire, action: str, pieces: list[bytes], tag: bytes, on_response: Any = None) -> bytes:
    status, text = run_command(wire, pieces, tag, on_response)
    if status != b"OK":
        raise refused(action, text)
    return text


def _uid_of(items: dict[bytes, Any]) -> int | None:
    raw = items.get(b"UID")
    if isinstance(raw, bytes) and raw.isdigit() and 0 < int(raw) < 2**32:
        return int(raw)
    return None


def fetch_by_uid(
    imap: imaplib.IMAP4, uids: Iterable[int], items: bytes, *, max_literal: int = MAX_LINE, limit_name: str = ""
) -> dict[int, dict[bytes, Any]]:
    """``UID FETCH <set> <items>`` as {uid: {ITEM: value}}, keyed by the UID inside each response.

    ``items`` must ask for ``UID``. Several responses for one UID are merged (later values win:
    a later FLAGS is newer). A response without a UID, or for a UID not asked for, is dropped.
    """
    wanted = set(uids)
    found: dict[int, dict[bytes, Any]] = {}

    def on_response(response: list[Any]) -> None:
        if len(response) < 4 or not isinstance(response[2], bytes) or response[2].upper() != b"FETCH":
            return
        parsed = fetch_items(response)
        uid = _uid_of(parsed) if parsed is not None else None
        if parsed is not None and uid in wanted:
            found.setdefault(uid, {}).update(parsed)

    for uid_set in _chunks(wanted):
        wire = Wire(
            imap, max_literal=max_literal, max_line=MAX_LINE, budget=max_literal + RESPONSE_SLACK, limit_name=limit_name
        )
        tag = wire.tag()
        command = tag + b" UID FETCH " + uid_set.encode("ascii") + b" " + items + b"\r\n"
        _checked(wire, "reading messages", [command], tag, on_response)
    return found


def uids_present(imap: imaplib.IMAP4, uids: Iterable[int]) -> set[int]:
    """Which of ``uids`` exist in the selected folder (``UID SEARCH UID <set>``)."""
    wanted = set(uids)
    found: set[int] = set()

    def on_response(response: list[Any]) -> None:
        if len(response) >= 2 and isinstance(response[1], bytes) and response[1].upper() == b"SEARCH":
            found.update(int(word) for word in response[2:] if isinstance(word, bytes) and word.isdigit())

    for uid_set in _chunks(wanted):
        wire = small_wire(imap)
        tag = wire.tag()
        _checked(wire, "checking messages", [tag + b" UID SEARCH UID " + uid_set.encode("ascii") + b"\r\n"], tag,
                 on_response)  # fmt: skip
    return found & wanted


def search_uids(imap: imaplib.IMAP4, tokens: Sequence[Token], *, literal_plus: bool) -> list[int]:
    """``UID SEARCH <tokens>`` (bytes tokens are strings: quoted, or literals), ascending."""
    found: set[int] = set()

    def on_response(response: list[Any]) -> None:
        if len(response) >= 2 and isinstance(response[1], bytes) and response[1].upper() == b"SEARCH":
            found.update(int(word) for word in response[2:] if isinstance(word, bytes) and word.isdigit())

    wire = small_wire(imap)
    tag = wire.tag()
    _checked(wire, "searching", encode_command(tag + b" UID SEARCH", list(tokens), literal_plus=literal_plus), tag,
             on_response)  # fmt: skip
    return sorted(found)


def flag_names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(f.decode("utf-8", "replace") for f in value if isinstance(f, bytes))


def store(imap: imaplib.IMAP4, uids: Iterable[int], change: bytes, flags: Sequence[str]) -> None:
    """``UID STORE <set> +FLAGS.SILENT (flags)`` (``change`` is ``b"+"`` or ``b"-"``); flags are atoms."""
    names = b" ".join(flag.encode("ascii") for flag in flags)
    for uid_set in _chunks(uids):
        wire = small_wire(imap)
        tag = wire.tag()
        command = tag + b" UID STORE " + uid_set.encode("ascii") + b" " + change + b"FLAGS.SILENT (" + names + b")\r\n"
        _checked(wire, "changing flags", [command], tag)


def flags_by_uid(imap: imaplib.IMAP4, uids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """The current flags of those of ``uids`` that exist, keyed by UID."""
    return {uid: flag_names(items.get(b"FLAGS")) for uid, items in fetch_by_uid(imap, uids, b"(UID FLAGS)").items()}


def uid_expunge(imap: imaplib.IMAP4, uids: Iterable[int]) -> None:
    for uid_set in _chunks(uids):
        wire = small_wire(imap)
        tag = wire.tag()
        _checked(wire, "expunging messages", [tag + b" UID EXPUNGE " + uid_set.encode("ascii") + b"\r\n"], tag)


def copy_uids(
    imap: imaplib.IMAP4, uid_set: str, target: bytes, *, move: bool, literal_plus: bool
) -> list[CopyUid] | None:
    """``UID COPY`` / ``UID MOVE`` of one set; the COPYUID codes the server sent for it (UIDPLUS).

    None when the server refused because some of the messages were expunged meanwhile
    (``NO [EXPUNGEISSUED]``, Dovecot): a refused COPY or MOVE changed nothing.
    """
    codes: list[CopyUid] = []

    def take(text: Any) -> None:
        match = _COPYUID.search(text) if isinstance(text, bytes) else None
        if match:
            codes.append((int(match[1]), parse_uid_set(match[2]), parse_uid_set(match[3])))

    def on_response(response: list[Any]) -> None:
        if len(response) >= 3 and response[1] == b"OK":
            take(response[2])

    wire = small_wire(imap)
    tag = wire.tag()
    verb = b"UID MOVE " if move else b"UID COPY "
    pieces = encode_command(tag + b" " + verb + uid_set.encode("ascii"), [target], literal_plus=literal_plus)
    status, text = run_command(wire, pieces, tag, on_response)
    if status == b"NO" and _EXPUNGE_ISSUED.match(text):
        return None
    if status != b"OK":
        raise refused("moving messages" if move else "copying messages", text)
    take(text)
    return codes


def internal_date(when: datetime) -> bytes:
    """``01-Mar-2024 09:00:00 +0000`` (month names in English whatever the locale)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    text = (
        f"{when.day:02d}-{_MONTHS[when.month - 1]}-{when.year:04d} {when.hour:02d}:{when.minute:02d}:{when.second:02d} "
        f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    )
    return text.encode("ascii")


def append(
    imap: imaplib.IMAP4,
    target: bytes,
    message: bytes,
    flags: Sequence[str],
    when: datetime | None,
    *,
    literal_plus: bool,
) -> tuple[int, int] | None:
    """``APPEND`` (the message as a synchronizing literal); (UIDVALIDITY, UID) from APPENDUID, if sent."""
    wire = small_wire(imap)
    tag = wire.tag()
    tokens: list[Token] = [target, "(", *flags, ")"]
    if when is not None:
        tokens.append(internal_date(when))
    pieces = encode_command(tag + b" APPEND", tokens, literal_plus=literal_plus)
    pieces[-1] = pieces[-1][:-2] + b" {%d}\r\n" % len(message)
    pieces.append(message + b"\r\n")
    codes: list[bytes] = []

    def on_response(response: list[Any]) -> None:
        if len(response) >= 3 and response[1] == b"OK" and isinstance(response[2], bytes):
            codes.append(response[2])

    text = _checked(wire, "saving the message", pieces, tag, on_response)
    for candidate in (text, *codes):
        match = _APPENDUID.search(candidate)
        if match:
            return int(match[1]), int(match[2])
    return None


def require_message(found: dict[bytes, Any], what: str) -> bytes:
    """The ``BODY[]`` of a fetch result; ServerError when the server sent something else."""
    body = found.get(b"BODY[]")
    if not isinstance(body, bytes):
        raise ServerError(f"the IMAP server answered the fetch of {what} without its content.")
    return body
