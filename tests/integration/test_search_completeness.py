"""Search results are complete or say why not (issue 8, item 3), on real Dovecot behind a proxy.

The proxy (``tests/servers/mitm.py``) breaks one FETCH row the way a broken server does, or a
second client expunges a message between our SEARCH and our FETCH. The UID must then be in
``df.attrs["unreadable_refs"]`` or ``df.attrs["vanished_refs"]`` with a warning, never just
missing, and never a row of blank headers.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator

import imapclient
import pytest
from servers.dovecot import DovecotServer
from servers.mitm import ImapMitm, Session

from nb_email_conn.aliases import ready
from nb_email_conn.imap.completeness import IncompleteSearchWarning

from .helpers import ALICE, seed_inbox
from .hostile_helpers import enabled, once, proxied

pytestmark = pytest.mark.dovecot


@pytest.fixture
def second(fresh_mailbox: DovecotServer) -> Iterator[imapclient.IMAPClient]:
    """Another client of the same account (a phone, a colleague's mail client)."""
    client = fresh_mailbox.client()
    yield client
    client.logout()


def _break_row(how: str) -> Callable[[bytes, str], bytes]:
    def rewrite(response: bytes, uid: str) -> bytes:
        if how == "non-numeric uid":
            return response.replace(f"UID {uid} ".encode(), f"UID {uid}x ".encode(), 1)
        if how == "unclosed list":
            return re.sub(rb"FLAGS \(([^)]*)\)", rb"FLAGS (\1", response, count=1)
        assert how == "no header section"
        return re.sub(rb" BODY\[HEADER\.FIELDS \([^)]*\)\] \{\d+\}\r\n.*(?=\)\r\n$)", b"", response, flags=re.S)

    return rewrite


@pytest.mark.parametrize("how", ["non-numeric uid", "unclosed list", "no header section"])
def test_a_malformed_row_is_reported_never_silently_dropped(fresh_mailbox: DovecotServer, how: str) -> None:
    uids = seed_inbox(fresh_mailbox, 4)
    broken = str(uids[1])
    rewrite = _break_row(how)

    def rule(response: bytes, session: Session) -> bytes:
        if session.current == "UID FETCH" and f"(UID {broken} ".encode() in response[:40]:
            return rewrite(response, broken)
        return response

    with ImapMitm(fresh_mailbox.plain_port, on_response=rule) as proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            with pytest.warns(IncompleteSearchWarning, match="could not be read"):
                frame = ready(conn.search_emails())
        finally:
            conn.close()
    assert sorted(frame["uid"]) == sorted(u for u in uids if u != uids[1])
    assert [ref.endswith(f";UID={broken}") for ref in frame.attrs["unreadable_refs"]] == [True]
    assert frame.attrs["vanished_refs"] == []


def test_a_message_expunged_during_the_search_is_not_a_blank_row(
    fresh_mailbox: DovecotServer, second: imapclient.IMAPClient
) -> None:
    # The other client expunges a message between our SEARCH and our FETCH. Dovecot then answers
    # for it with "BODY[HEADER.FIELDS (...)] NIL" and EXPUNGEISSUED when it has not cached those
    # header fields; when it has, with the old content. The proxy makes the cached case look like
    # the uncached one (the expunge itself is real), so the test does not depend on Dovecot's cache.
    uids = seed_inbox(fresh_mailbox, 4)
    second.select_folder("INBOX")
    gone = uids[2]

    def expunge_one() -> None:
        second.delete_messages([gone])
        second.uid_expunge([gone])

    def as_uncached(response: bytes, session: Session) -> bytes:
        if session.current == "UID FETCH" and f"(UID {gone} ".encode() in response[:40]:
            header = rb"(BODY\[HEADER\.FIELDS \([^)]*\)\]) \{\d+\}\r\n.*(?=\)\r\n$)"
            return re.sub(header, rb"\1 NIL", response, flags=re.S)
        return response

    rule = once(expunge_one, lambda c: b"UID FETCH" in c.upper() and b"BODYSTRUCTURE" in c)
    with ImapMitm(fresh_mailbox.plain_port, on_command=rule, on_response=as_uncached) as proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            with pytest.warns(IncompleteSearchWarning, match="deleted by another client"):
                frame = ready(conn.search_emails())
        finally:
            conn.close()
    assert gone not in set(frame["uid"])
    assert frame["subject"].notna().all() and (frame["subject"] != "").all()
    assert [ref.endswith(f";UID={gone}") for ref in frame.attrs["vanished_refs"]] == [True]
    assert frame.attrs["unreadable_refs"] == []


def test_a_complete_search_says_nothing_is_missing(fresh_mailbox: DovecotServer) -> None:
    seed_inbox(fresh_mailbox, 3)
    conn = enabled(fresh_mailbox.config(ALICE), fresh_mailbox.password)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            frame = ready(conn.search_emails())
            limited = ready(conn.search_emails(limit=2))
    finally:
        conn.close()
    assert len(frame) == 3 and len(limited) == 2
    assert frame.attrs == limited.attrs == {"unreadable_refs": [], "vanished_refs": []}


def test_with_a_limit_a_broken_row_is_made_up_for_and_reported(fresh_mailbox: DovecotServer) -> None:
    uids = seed_inbox(fresh_mailbox, 5)  # a day apart: the last is the newest
    broken = str(uids[-1])

    def rule(response: bytes, session: Session) -> bytes:
        if session.current == "UID FETCH" and f"(UID {broken} ".encode() in response[:40]:
            return response.replace(f"UID {broken} ".encode(), f"UID {broken}x ".encode(), 1)
        return response

    with ImapMitm(fresh_mailbox.plain_port, on_response=rule) as proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            with pytest.warns(IncompleteSearchWarning, match="could not be read"):
                frame = ready(conn.search_emails(limit=3))
        finally:
            conn.close()
    assert list(frame["uid"]) == [uids[3], uids[2], uids[1]]  # the next newest make up for it
    assert [ref.endswith(f";UID={broken}") for ref in frame.attrs["unreadable_refs"]] == [True]
