"""The live inbox widget, kernel side, on Dovecot: its state after another client appends, Stop, close."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from servers.dovecot import DovecotServer
from watch.watch_servers import wait_for

import nb_email_conn as nec
from nb_email_conn.widgets import LiveInbox

from .conftest import attach_outbox, request, widget_state_text

pytestmark = pytest.mark.dovecot
ALICE = "alice@example.org"


def mail(subject: str, sender: str = '"Bob Example" <bob@example.org>') -> bytes:
    headers = f"From: {sender}\r\nTo: {ALICE}\r\nSubject: {subject}\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n"
    return (headers + "\r\nhi\r\n").encode()


def subjects(widget: LiveInbox) -> list[str]:
    return [m["subject"] for m in widget.messages]


@pytest.fixture
def conn(fresh_mailbox: DovecotServer) -> Iterator[nec.EmailConnection]:
    connection = nec.EmailConnection(fresh_mailbox.config(), password=fresh_mailbox.password)
    yield connection
    connection.close()


def test_the_newest_messages_then_arrivals_at_the_top(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    fresh_mailbox.append(ALICE, "INBOX", mail("oldest"))
    fresh_mailbox.append(ALICE, "INBOX", mail("read one"), flags=[b"\\Seen"])
    fresh_mailbox.append(ALICE, "INBOX", mail("<b>unread</b>", "carol@example.org"))
    began = time.monotonic()
    widget = LiveInbox(conn, limit=2, idle_renew=60)
    assert time.monotonic() - began < 0.5  # the login happens on another thread
    try:
        assert wait_for(lambda: widget.status["state"] == "watching" and len(widget.messages) == 2), widget.status
        assert subjects(widget) == ["<b>unread</b>", "read one"]  # newest first, only `limit`
        first, second = widget.messages
        assert (first["from"], first["address"], first["unread"], first["arrived"]) == (
            "carol@example.org", "carol@example.org", True, False,
        )  # fmt: skip
        assert (second["from"], second["address"], second["unread"]) == ("Bob Example", "bob@example.org", False)
        assert second["date"] == "2026-06-01T10:00:00+00:00"
        assert "IDLE" in widget.status["message"]

        fresh_mailbox.append(ALICE, "INBOX", mail("just in"))  # another client
        assert wait_for(lambda: subjects(widget)[:1] == ["just in"]), subjects(widget)
        assert subjects(widget) == ["just in", "<b>unread</b>"]  # still `limit` rows
        assert widget.messages[0]["arrived"] and widget.messages[0]["unread"]
        assert widget.messages[0]["ref"] in set(conn.search_emails()["ref"])  # type: ignore[index]
        assert fresh_mailbox.password not in widget_state_text(widget)
    finally:
        widget.close()


def test_stop_from_the_button_and_from_python(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    widget = LiveInbox(conn, idle_renew=60)
    outbox = attach_outbox(widget)
    try:
        assert wait_for(lambda: widget.status["state"] == "watching"), widget.status
        watch = widget.watch
        assert watch is not None and watch.running
        request(widget, "stop", request_id="stop-1")
        reply = outbox.reply("stop-1")
        assert reply["ok"] is True
        assert wait_for(lambda: widget.status["state"] == "stopped"), widget.status
        assert widget.status["message"] == "Stopped."
        assert wait_for(lambda: not watch.running)
        fresh_mailbox.append(ALICE, "INBOX", mail("after the stop"))
        time.sleep(1)
        assert subjects(widget) == []  # a stopped inbox shows no more arrivals
        widget.stop()  # twice is fine
    finally:
        widget.close()


def test_closing_the_widget_stops_its_watch(conn: nec.EmailConnection) -> None:
    widget = LiveInbox(conn, idle_renew=60)
    assert wait_for(lambda: widget.watch is not None and widget.status["state"] == "watching"), widget.status
    watch = widget.watch
    assert watch is not None
    began = time.monotonic()
    widget.close()
    assert time.monotonic() - began < 0.5  # close does not wait for the server
    assert wait_for(lambda: not watch.running, timeout=10)


def test_the_front_end_closing_the_widget_stops_its_watch(conn: nec.EmailConnection) -> None:
    widget = LiveInbox(conn, idle_renew=60)
    try:
        assert wait_for(lambda: widget.watch is not None and widget.status["state"] == "watching"), widget.status
        watch = widget.watch
        assert watch is not None
        widget.comm.handle_close({"content": {"comm_id": widget.comm.comm_id, "data": {}}})  # a comm_close message
        assert wait_for(lambda: not watch.running, timeout=10)
    finally:
        widget.close()


def test_errors_show_in_the_status_or_are_raised_at_once(conn: nec.EmailConnection) -> None:
    widget = LiveInbox(conn, folder="Nowhere")
    try:
        assert wait_for(lambda: widget.status["state"] == "error"), widget.status
        assert "no folder 'Nowhere'" in widget.status["message"]
        assert isinstance(widget.error, nec.InvalidInputError)
    finally:
        widget.close()
    conn.policies["search_emails"] = "disabled"
    widget = LiveInbox(conn)
    try:
        assert wait_for(lambda: widget.status["state"] == "error"), widget.status
        assert isinstance(widget.error, nec.FunctionDisabledError)
    finally:
        widget.close()
    with pytest.raises(nec.InvalidInputError, match="limit"):
        LiveInbox(conn, limit=0)
    with pytest.raises(nec.InvalidInputError, match="idle_renew"):
        LiveInbox(conn, idle_renew=3600)
    with pytest.raises(TypeError, match="pol_interval"):
        LiveInbox(conn, pol_interval=5)
