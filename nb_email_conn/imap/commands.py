"""Running commands on our wire: one command with literals (raw or parsed), or pipelined UID FETCHes.

Tags come from imaplib's counter and are released when their command completes, so
imapclient stays in step afterwards. Command lines stay short: UID sets of at most
``SET_LENGTH`` characters (Dovecot and Office 365 refuse very long lines).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ServerError
from ..refs import uid_set_size, uid_sets
from .response import FETCH_LINE, check_tagged, check_untagged, fetch_items, parse_response
from .rows import Rows, fast_fetch_items, read_fast_rows, read_row
from .wire import LITERAL_AT_END, Wire

Progress = Callable[[int, int], None]

PIPELINE_WINDOW = 4  # FETCH commands in flight at once
SET_LENGTH = 900  # characters of UID set per command line
_STATUS_RESPONSE = re.compile(rb"^\* (OK|NO|BAD|PREAUTH)\b ?(\[[^\]\r\n]*\])?", re.IGNORECASE)


def run_simple(
    wire: Wire, tag: bytes, pieces: list[bytes], on_untagged: Callable[[bytes], None], action: str = "the search"
) -> None:
    """Send a command (waiting for ``+`` before each synchronizing literal) and read to its end.

    Untagged lines go to ``on_untagged`` as they are (those with literals are skipped).
    """
    try:
        for index, piece in enumerate(pieces):
            wire.send(piece)
            last = index == len(pieces) - 1
            while True:
                line = wire.line()
                if line.startswith(b"* "):
                    check_untagged(line)
                    if LITERAL_AT_END.search(line):
                        wire.skip_rest(line)
                    else:
                        on_untagged(line)
                elif line.startswith(b"+") and not last:
                    break  # the server is ready for the literal
                else:
                    _, status, text = check_tagged(wire, line, (tag,))
                    if status != b"OK":
                        raise refused(action, text)
                    if not last:
                        wire.fail("the IMAP server completed a command before its literal was sent")
                    return
    finally:
        wire.finished(tag)


def refused(action: str, text: bytes) -> ServerError:
    """The error for a tagged NO / BAD answer to ``action``."""
    reason = text.decode("utf-8", "replace")
    return ServerError(f"the IMAP server refused {action}: {reason[:300]}", response=reason)


def run_command(
    wire: Wire,
    pieces: list[bytes],
    tag: bytes,
    on_response: Callable[[list[Any]], None] | None = None,
) -> tuple[bytes, bytes]:
    """Send a command (``+`` awaited before each synchronizing literal); (status, text) of its tagged line.

    Every untagged response goes to ``on_response`` parsed: data responses (FETCH, LIST,
    STATUS, SEARCH, EXISTS ...) by the general parser, literals included and bounded by the
    wire; status responses (``* OK [CODE ...] text``) as ``[b"*", b"OK", b"[CODE ...]" or None]``,
    their free text unparsed. ``* BYE`` is a dropped connection.
    """
    try:
        for index, piece in enumerate(pieces):
            wire.send(piece)
            last = index == len(pieces) - 1
            while True:
                line = wire.line()
                if line.startswith(b"* "):
                    check_untagged(line)
                    status = _STATUS_RESPONSE.match(line)
                    if status is not None:
                        wire.skip_rest(line)  # free text carries no literal; a hostile one is bounded
                        response: list[Any] = [b"*", status[1].upper(), status[2]]
                    else:
                        response = parse_response(wire, line)
                    if on_response is not None:
                        on_response(response)
                elif line.startswith(b"+") and not last:
                    break  # the server is ready for the literal
                else:
                    _, answer, text = check_tagged(wire, line, (tag,))
                    if answer == b"OK" and not last:
                        wire.fail("the IMAP server completed a command before its literal was sent")
                    return answer, text
    finally:
        wire.finished(tag)
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_commands(uids: Sequence[int], items: bytes, batch: int) -> list[tuple[bytes, int]]:
    """``UID FETCH <set> <items>`` lines with short sets, and how many UIDs each asks for."""
    ordered = sorted(set(uids))
    commands: list[tuple[bytes, int]] = []
    for start in range(0, len(ordered), max(1, batch)):
        chunk = ordered[start : start + batch]
        for uid_set in uid_sets(chunk, SET_LENGTH):
            commands.append((b"UID FETCH " + uid_set.encode("ascii") + b" " + items, uid_set_size(uid_set)))
    return commands


def pipeline(
    wire: Wire,
    commands: list[tuple[bytes, int]],
    on_fetch: Callable[[dict[bytes, Any]], None],
    progress: Progress | None,
    rows: Rows | None = None,
) -> None:
    """Send the commands, at most PIPELINE_WINDOW in flight, and feed each FETCH to ``on_fetch``.

    With ``rows``, responses of the common shape go straight from the read buffer to it.
    Unsolicited responses (EXISTS, EXPUNGE, OK [...]) are skipped; a tagged NO or BAD is
    collected and raised once every command has completed.
    """
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
            if rows is not None and read_fast_rows(wire, rows):
                continue
            line = wire.line()
            if line.startswith(b"* "):
                if FETCH_LINE.match(line):
                    if rows is not None:
                        items = read_row(wire, line, rows)
                    else:
                        items = fast_fetch_items(wire, line) or fetch_items(parse_response(wire, line))
                    if items is not None:
                        on_fetch(items)
                else:
                    check_untagged(line)
                    wire.skip_rest(line)  # EXISTS, EXPUNGE, OK [...], RECENT, ...
                continue
            tag, status, text = check_tagged(wire, line, in_flight)
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
