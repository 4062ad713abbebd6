"""``Watch.recent(limit)``: the folder's newest messages, read by the watch's own thread."""

from __future__ import annotations

import time

import pytest
from servers.dovecot import DovecotServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready

pytestmark = pytest.mark.dovecot
ALICE = "alice@example.org"


def mail(subject: str) -> bytes:
    return f"From: bob@example.org\r\nTo: {ALICE}\r\nSubject: {subject}\r\n\r\nhi\r\n".encode()


def test_recent_gives_the_newest_messages_without_waiting_for_the_server(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    for index in range(5):
        fresh_mailbox.append(ALICE, "INBOX", mail(f"old {index}"))
    watch = ready(conn.watch(callback=lambda row: None, idle_renew=60))
    try:
        asked = time.monotonic()
        future = watch.recent(3)
        assert time.monotonic() - asked < 0.1  # the caller does not wait for the server
        frame = future.result(10)
        assert list(frame["subject"]) == ["old 4", "old 3", "old 2"]  # newest first
        assert list(frame.columns) == list(ready(conn.search_emails(limit=1)).columns)
        assert len(watch.recent(50).result(10)) == 5
        with pytest.raises(nec.InvalidInputError, match="limit"):
            watch.recent(0)
    finally:
        watch.stop()
    with pytest.raises(nec.EmailConnError, match="ended"):
        watch.recent(3).result(1)
