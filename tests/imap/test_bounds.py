"""The bounds of imap/limits.py: no literal, line or response a server sends is read unbounded.

imaplib's own reader (under every imapclient command: the greeting, CAPABILITY, LOGIN) reads
any literal size a server announces; ``BoundedIMAPClient`` makes it refuse one over the limit
before reading it, and bounds lines and each command's whole answer. Our wire does the same for
the commands we run ourselves. Over a bound: the socket is closed and a ServerError names it.
"""

from __future__ import annotations

import imaplib
import io
from typing import Any

import pytest
from servers import hostile

import nb_email_conn as nec
from nb_email_conn.imap import limits
from nb_email_conn.imap.session import ImapSession
from nb_email_conn.imap.wire import Wire


class ScriptedImap(hostile.FakeServer):
    """Greets with ``greeting``, answers CAPABILITY with ``capability`` (TAG replaced), LOGIN with OK."""

    def __init__(self, greeting: bytes, capability: bytes = b"* CAPABILITY IMAP4rev1\r\nTAG OK done\r\n") -> None:
        super().__init__(timeout=5.0)
        self.greeting = greeting
        self.capability = capability

    def handle(self, conn: Any) -> None:
        conn.send(self.greeting)
        while (line := conn.readline()) is not None:
            tag, _, rest = line.partition(b" ")
            verb = rest.split(b" ", 1)[0].strip().upper()
            answer = self.capability if verb == b"CAPABILITY" else b"TAG OK done\r\n"
            try:
                conn.send(answer.replace(b"TAG", tag))
            except OSError:
                return


def _connect(server: hostile.FakeServer) -> ImapSession:
    cfg = nec.ConnectionConfig(
        name="bounds", username="alice@example.org", imap_host="127.0.0.1", imap_port=server.port,
        imap_encryption="None", smtp_encryption="None", timeout=5.0,
    )  # fmt: skip
    session = ImapSession(cfg, lambda: "alicepass")
    session.connect()
    return session


def test_a_huge_literal_in_the_greeting_is_refused_before_it_is_read() -> None:
    with (
        ScriptedImap(b"* OK {9999999999}\r\n") as server,
        pytest.raises(nec.ServerError, match=r"9999999999-byte literal.*MAX_MESSAGE_SIZE"),
    ):
        _connect(server)


def test_a_line_over_the_line_limit_is_refused() -> None:
    long_line = b"* CAPABILITY IMAP4rev1 " + b"X" * (limits.MAX_LINE + 10) + b"\r\nTAG OK done\r\n"
    with ScriptedImap(b"* OK ready\r\n", long_line) as server, pytest.raises(nec.ServerError, match="line limit"):
        _connect(server)


def test_an_answer_over_the_response_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_MESSAGE_SIZE", 10_000)
    monkeypatch.setattr(limits, "RESPONSE_SLACK", 10_000)
    flood = b"* OK noise\r\n" * 3000 + b"* CAPABILITY IMAP4rev1\r\nTAG OK done\r\n"
    with ScriptedImap(b"* OK ready\r\n", flood) as server, pytest.raises(nec.ServerError, match="response limit"):
        _connect(server)


def test_a_normal_server_is_not_affected() -> None:
    with ScriptedImap(b"* OK ready\r\n") as server:
        session = _connect(server)
        assert session.has("IMAP4REV1")
        session.close()


class _Reader:
    """imaplib.IMAP4 as far as Wire needs it: a buffered reader over ``data``."""

    def __init__(self, data: bytes) -> None:
        self.file = io.BufferedReader(io.BytesIO(data))
        self.closed = False

    def shutdown(self) -> None:
        self.closed = True


def test_the_wire_refuses_a_literal_before_reading_a_byte_of_it() -> None:
    imap = _Reader(b"x" * 100)
    wire = Wire(imap, max_literal=50, limit_name="a test limit")  # type: ignore[arg-type]
    with pytest.raises(nec.ServerError, match=r"60-byte literal, over the limit of 50 bytes \(a test limit\)"):
        wire.literal(60)
    assert imap.closed
    assert imap.file.read() == b"x" * 100  # nothing consumed


def test_the_wire_reads_big_literals_in_pieces_and_counts_its_budget() -> None:
    data = bytes(range(256)) * 10_000  # 2.5 MB: more than one piece
    wire = Wire(_Reader(data + b"rest\r\n"), max_literal=len(data), budget=len(data) + 6)  # type: ignore[arg-type]
    assert wire.literal(len(data)) == data
    assert wire.line() == b"rest\r\n"
    wire = Wire(_Reader(data), max_literal=len(data), budget=len(data) - 1)  # type: ignore[arg-type]
    with pytest.raises(nec.ServerError, match="response limit"):
        wire.literal(len(data))


def test_a_short_literal_is_a_dropped_connection() -> None:
    wire = Wire(_Reader(b"abc"), max_literal=10)  # type: ignore[arg-type]
    with pytest.raises(imaplib.IMAP4.abort):
        wire.literal(5)
