"""The IMAP side of a watch: one folder's UIDs, its search rows, and one IDLE, on a raw connection.

Kept apart from ``watch.py`` (the thread, its state and its consumers) so each reads alone.
"""

from __future__ import annotations

import imaplib
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from .errors import EmailConnError
from .watch_memory import imap_date

if TYPE_CHECKING:
    import pandas as pd
    from imapclient import IMAPClient

    from .config import ConnectionConfig

log = logging.getLogger("nb_email_conn.watch")
__all__ = [
    "FolderUnavailable", "IdleEnd", "highest_uid", "idle_once", "new_uids", "received_since", "retryable", "rows",
    "uids_before",
]  # fmt: skip

IdleEnd = Literal["changed", "reopen", "woken"]


class FolderUnavailable(EmailConnError):
    """The watched folder could not be opened after the watch began (deleted, perhaps being recreated)."""


def retryable(exc: EmailConnError) -> bool:
    """Worth another connection after a pause: a drop, a timeout, a folder gone for now."""
    from .errors import ConnectionFailedError, OperationTimeoutError

    return isinstance(exc, ConnectionFailedError | OperationTimeoutError | FolderUnavailable)


_EXISTS = re.compile(rb"^\* \d+ EXISTS\b", re.IGNORECASE)


def new_uids(imap: imaplib.IMAP4, first: int) -> tuple[list[int], bool]:
    """The UIDs from ``first`` on, and whether the answer also announced mail (``* n EXISTS``).

    A server may announce a message that came while it searched after the search's result:
    that announcement is then the only one, so the caller asks again rather than wait in IDLE
    for news already given."""
    from .imap.commands import run_simple
    from .imap.program import SearchCriteria, encode_search_command
    from .imap.wire import Wire

    wire = Wire(imap)
    tag = wire.tag()
    found: list[int] = []
    announced = False

    def on_untagged(line: bytes) -> None:
        nonlocal announced
        if line[:8].upper() == b"* SEARCH":
            found.extend(int(word) for word in line[8:].split() if word.isdigit())
        elif _EXISTS.match(line):
            announced = True

    criteria = SearchCriteria(("UID", f"{max(first, 1)}:*"))
    run_simple(wire, tag, encode_search_command(tag, criteria, literal_plus=False), on_untagged)
    return sorted(uid for uid in set(found) if uid >= first), announced


def highest_uid(imap: imaplib.IMAP4, *, esearch: bool) -> int:
    from .cache.server import uids_from

    return max(uids_from(imap, 1, esearch=esearch), default=0)


def uids_before(imap: imaplib.IMAP4, next_uid: int, count: int, *, esearch: bool) -> list[int]:
    """The ``count`` highest UIDs below ``next_uid`` (fewer if the folder has fewer), asking for a
    range near the top rather than every UID of a big folder."""
    from .cache.server import uids_from

    span = max(2 * count, 50)
    while True:
        first = max(next_uid - span, 1)
        found = [uid for uid in uids_from(imap, first, esearch=esearch) if uid < next_uid]
        if len(found) >= count or first == 1:
            return found[-count:]
        span *= 8  # expunged messages leave gaps in the UIDs


def received_since(imap: imaplib.IMAP4, moment: float, next_uid: int, *, esearch: bool) -> list[int]:
    """UIDs below ``next_uid`` of messages the server received on the day of ``moment`` or later.

    SEARCH SINCE compares dates in the server's time zone, so this asks from a day earlier;
    the caller filters by the exact INTERNALDATE."""
    from .imap.fetch import uid_search
    from .imap.program import SearchCriteria

    found = uid_search(imap, SearchCriteria(("SINCE", imap_date(moment - 86_400))), esearch=esearch)
    return [uid for uid in found if uid < next_uid]


def rows(imap: imaplib.IMAP4, config: ConnectionConfig, folder: str, uidvalidity: int, uids: list[int]) -> pd.DataFrame:
    """The search rows of ``uids`` (the uncached search's own fetch and frame)."""
    from .imap.fetch import fetch_rows
    from .imap.frame import build_frame, empty_frame

    if not uids:
        return empty_frame()
    return build_frame(
        fetch_rows(imap, uids), folder=folder, uidvalidity=uidvalidity, user=config.username,
        host=config.imap_host.lower(),
    )  # fmt: skip


def idle_once(
    client: IMAPClient, renew: float, woken: threading.Event, quiet_since: Callable[[float], None]
) -> IdleEnd:
    """One IDLE, until the server announces mail (``"changed"``), ``renew`` seconds pass or the
    server reports a problem with the folder (``"reopen"``: an untagged NO, which Dovecot sends when
    the folder is deleted under the session), or ``woken`` is set (``"woken"``).

    ``quiet_since(t)`` is told each moment up to which nothing arrived."""
    from .imap.internals import raw_imap

    client.idle()
    ends = time.monotonic() + renew
    try:
        # EXISTS read while IDLE started (mail that came since the last search) ends it at once.
        if raw_imap(client).untagged_responses.pop("EXISTS", None):
            return "changed"
        while not woken.is_set():
            left = ends - time.monotonic()
            if left <= 0:
                return "reopen"
            before = time.time()
            answers = client.idle_check(timeout=min(1.0, max(left, 0.01)))
            if any(isinstance(a, tuple) and a and a[0] == b"BYE" for a in answers):
                raise imaplib.IMAP4.abort("the IMAP server ended the connection during IDLE")
            if any(isinstance(a, tuple) and len(a) > 1 and a[1] == b"EXISTS" for a in answers):
                return "changed"
            if any(isinstance(a, tuple) and a and a[0] == b"NO" for a in answers):
                log.info("the IMAP server reported a problem with the watched folder during IDLE; opening it again")
                return "reopen"
            quiet_since(before)
        return "woken"
    finally:
        client.idle_done()
