"""``conn.watch`` on Dovecot: appends seen once, a server-side kick survived, IDLE renewed, polling without IDLE."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pandas as pd
import pytest
from servers.dovecot import DovecotServer
from watch.watch_servers import kick

import nb_email_conn as nec
from nb_email_conn.aliases import ready
from nb_email_conn.imap.frame import COLUMNS

pytestmark = pytest.mark.dovecot
ALICE = "alice@example.org"


def mail(subject: str) -> bytes:
    headers = f"From: bob@example.org\r\nTo: {ALICE}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@x>\r\n"
    return (headers + "\r\nhi\r\n").encode()


def later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def take(watch: nec.Watch, count: int, timeout: float = 20) -> list[pd.Series]:
    rows: list[pd.Series] = []
    stopper = threading.Timer(timeout, watch.stop)  # never hang: a missing row ends the iteration
    stopper.start()
    try:
        for row in watch:
            rows.append(row)
            if len(rows) == count:
                break
    finally:
        stopper.cancel()
    return rows


def test_watch_yields_each_new_message_once_with_the_search_columns(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    fresh_mailbox.append(ALICE, "INBOX", mail("before"))
    watch = ready(conn.watch(idle_renew=60))
    try:
        later(0.3, lambda: [fresh_mailbox.append(ALICE, "INBOX", mail(f"new{i}")) for i in range(3)])
        rows = take(watch, 3)
        assert [row["subject"] for row in rows] == ["new0", "new1", "new2"]
        assert list(rows[0].index) == list(COLUMNS)
        search = ready(conn.search_emails()).set_index("ref")
        assert search.loc[rows[1]["ref"], "subject"] == "new1"
        later(0.3, lambda: fresh_mailbox.append(ALICE, "INBOX", mail("new3")))
        assert [row["subject"] for row in take(watch, 1)] == ["new3"]
    finally:
        watch.stop()
    assert not watch.running
    assert list(watch) == []  # stopped: the iteration ends
    assert watch.delivered == 4


def test_watch_with_a_callback_returns_at_once_and_survives_a_kick(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    seen: list[str] = []
    arrived = threading.Event()

    def on_row(row: pd.Series) -> None:
        seen.append(row["subject"])
        if len(seen) >= 3:
            arrived.set()

    began = time.monotonic()
    watch = ready(conn.watch(callback=on_row))
    assert time.monotonic() - began < 5 and watch.running
    try:
        fresh_mailbox.append(ALICE, "INBOX", mail("one"))
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        kick(fresh_mailbox)  # the server drops the watch's connection
        fresh_mailbox.append(ALICE, "INBOX", mail("two"))  # while it is away
        time.sleep(0.5)
        fresh_mailbox.append(ALICE, "INBOX", mail("three"))
        assert arrived.wait(20), seen
    finally:
        watch.stop()
    assert seen == ["one", "two", "three"]  # each once, none lost in the gap
    assert watch.reconnects >= 1
    with pytest.raises(nec.InvalidInputError):
        list(watch)  # a callback watch is not iterated


def test_idle_is_renewed(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    watch = ready(conn.watch(idle_renew=0.5))
    try:
        time.sleep(1.8)
        assert watch.idles >= 3
        later(0.1, lambda: fresh_mailbox.append(ALICE, "INBOX", mail("after renewals")))
        assert [row["subject"] for row in take(watch, 1)] == ["after renewals"]
    finally:
        watch.stop()


def test_without_idle_the_watch_polls(dovecot_without_idle: DovecotServer) -> None:
    server = dovecot_without_idle
    server.reset_mailbox(ALICE)
    with nec.EmailConnection(server.config(), password=server.password) as conn:
        assert "IDLE" not in conn.capabilities
        watch = ready(conn.watch(poll_interval=0.2))
        try:
            later(0.3, lambda: server.append(ALICE, "INBOX", mail("polled")))
            assert [row["subject"] for row in take(watch, 1)] == ["polled"]
            assert watch.idles == 0
        finally:
            watch.stop()


def test_bad_arguments_and_policy(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    with pytest.raises(nec.InvalidInputError, match="29 minutes"):
        conn.watch(idle_renew=1800)
    with pytest.raises(nec.InvalidInputError, match="poll_interval"):
        conn.watch(poll_interval=0)
    with pytest.raises(nec.InvalidInputError, match="no folder"):
        conn.watch("Nowhere")
    with pytest.raises(nec.InvalidInputError, match="callback"):
        conn.watch(callback="print")  # type: ignore[arg-type]
    conn.policies["search_emails"] = "disabled"
    with pytest.raises(nec.FunctionDisabledError):
        conn.watch()


async def test_watch_async(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    import asyncio

    stream = conn.watch_async()
    later(0.5, lambda: fresh_mailbox.append(ALICE, "INBOX", mail("async")))
    rows = []

    async def first() -> None:
        async for row in stream:
            rows.append(row)
            break

    await asyncio.wait_for(first(), 20)
    stream.stop()
    assert [row["subject"] for row in rows] == ["async"]
    seen: list[str] = []
    watch = await conn.watch_async(callback=lambda row: seen.append(row["subject"]))
    try:
        fresh_mailbox.append(ALICE, "INBOX", mail("async callback"))
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.05)
        assert seen == ["async callback"]
    finally:
        watch.stop()
