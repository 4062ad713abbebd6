"""A watched folder deleted and made again (a new UIDVALIDITY) on Dovecot: nothing lost, nothing twice."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from servers.dovecot import DovecotServer
from watch.watch_servers import kick, wait_for

import nb_email_conn as nec
from nb_email_conn.aliases import ready

pytestmark = pytest.mark.dovecot
ALICE = "alice@example.org"
FOLDER = "Live"


def mail(subject: str, message_id: str | None = None) -> bytes:
    headers = f"From: bob@example.org\r\nTo: {ALICE}\r\nSubject: {subject}\r\n"
    headers += f"Message-ID: <{message_id or subject}@x>\r\n"
    return (headers + "\r\nhi\r\n").encode()


def uidvalidity(server: DovecotServer, folder: str) -> int:
    with server.client(ALICE) as client:
        return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])


class Seen:
    """What the watch handed to its callback, by subject, in order."""

    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, row: pd.Series) -> None:
        with self.lock:
            self.subjects.append(str(row["subject"]))

    def has(self, *subjects: str) -> bool:
        with self.lock:
            return all(subject in self.subjects for subject in subjects)


@pytest.fixture
def live(fresh_mailbox: DovecotServer) -> DovecotServer:
    with fresh_mailbox.client(ALICE) as client:
        client.create_folder(FOLDER)
    return fresh_mailbox


def test_a_folder_recreated_while_the_watch_is_away_is_caught_up_once(
    live: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = live
    now = datetime.now(timezone.utc)
    server.append(ALICE, FOLDER, mail("before"))  # there when the watch began: not new
    seen = Seen()
    with nec.EmailConnection(server.config(), password=server.password) as conn:
        watch = ready(conn.watch(FOLDER, callback=seen, idle_renew=60))
        try:
            server.append(ALICE, FOLDER, mail("one"))
            assert wait_for(lambda: seen.has("one"), timeout=30), (seen.subjects, repr(watch), watch.status_detail)
            old = uidvalidity(server, FOLDER)
            # The new folder, filled before it takes the old one's name (RENAME is atomic), so
            # the watch finds these messages already there whenever it reconnects.
            with server.client(ALICE) as client:
                client.create_folder("Staging")
            server.append(ALICE, "Staging", mail("before"))  # restored copies of what it knew...
            server.append(ALICE, "Staging", mail("one"))
            server.append(ALICE, "Staging", mail("archived", "old"), date=now - timedelta(days=3))  # ...old mail...
            server.append(ALICE, "Staging", mail("gap 1"))  # ...and what arrived while it was away
            server.append(ALICE, "Staging", mail("gap 2"))
            with caplog.at_level(logging.WARNING, logger="nb_email_conn.watch"):
                kick(server)  # the watch is disconnected; it tries again after a pause
                with server.client(ALICE) as client:
                    client.delete_folder(FOLDER)
                    client.rename_folder("Staging", FOLDER)
                assert uidvalidity(server, FOLDER) != old
                assert wait_for(lambda: seen.has("gap 1", "gap 2"), timeout=30), (
                    seen.subjects,
                    repr(watch),
                    watch.status_detail,
                )
            server.append(ALICE, FOLDER, mail("after"))  # and it goes on in the new folder
            assert wait_for(lambda: seen.has("after"), timeout=30), (seen.subjects, repr(watch), watch.status_detail)
            time.sleep(0.5)  # a second handing over would come now
        finally:
            watch.stop()
        assert seen.subjects == ["one", "gap 1", "gap 2", "after"]
        assert watch.reconnects >= 1 and watch.status == "stopped"
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any(f"{FOLDER!r} was recreated" in text and "2 message(s)" in text for text in warnings), warnings
        rows = ready(conn.search_emails(folder=FOLDER)).set_index("subject")
        assert int(str(rows.loc["gap 1", "ref"]).split("UIDVALIDITY=")[1].split("/")[0]) != old


def test_a_folder_recreated_under_a_connected_watch(live: DovecotServer) -> None:
    """No kick: Dovecot answers the IDLE with an untagged NO, and the watch opens the folder again."""
    server = live
    seen = Seen()
    statuses: list[str] = []
    with nec.EmailConnection(server.config(), password=server.password) as conn:
        watch = ready(conn.watch(FOLDER, callback=seen, idle_renew=60))
        watch.on_status(lambda state, detail: statuses.append(state))
        try:
            server.append(ALICE, FOLDER, mail("first"))
            assert wait_for(lambda: seen.has("first")), seen.subjects
            with server.client(ALICE) as client:
                client.delete_folder(FOLDER)
            time.sleep(1.5)  # the watch finds no folder and tries again
            with server.client(ALICE) as client:
                client.create_folder(FOLDER)
            server.append(ALICE, FOLDER, mail("second"))
            assert wait_for(lambda: seen.has("second"), timeout=30), (seen.subjects, statuses)
        finally:
            watch.stop()
    assert seen.subjects == ["first", "second"]
    assert statuses[0] == "watching" and "reconnecting" in statuses and statuses[-1] == "stopped", statuses


def test_without_idle_each_poll_looks_afresh(dovecot_without_idle: DovecotServer) -> None:
    """Polling, the watch opens the folder again each time, so a recreation shows without a drop."""
    server = dovecot_without_idle
    server.reset_mailbox(ALICE)
    with server.client(ALICE) as client:
        client.create_folder(FOLDER)
    seen = Seen()
    with nec.EmailConnection(server.config(), password=server.password) as conn:
        watch = ready(conn.watch(FOLDER, callback=seen, poll_interval=0.3))
        try:
            server.append(ALICE, FOLDER, mail("polled"))
            assert wait_for(lambda: seen.has("polled")), seen.subjects
            with server.client(ALICE) as client:
                client.create_folder("Staging")
            server.append(ALICE, "Staging", mail("polled"))  # a restored copy
            server.append(ALICE, "Staging", mail("while recreated"))
            with server.client(ALICE) as client:
                client.delete_folder(FOLDER)
                client.rename_folder("Staging", FOLDER)
            assert wait_for(lambda: seen.has("while recreated")), seen.subjects
            time.sleep(0.8)
        finally:
            watch.stop()
    assert seen.subjects == ["polled", "while recreated"]
