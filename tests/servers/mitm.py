"""A man-in-the-middle IMAP proxy in front of a real server, for faults a real server will not produce.

The proxy reads whole IMAP units on both sides (a line plus the literals it announces and the
lines after them), so a test rewrites a complete response, not a TCP segment:

- ``on_response(response, state) -> bytes``: what the client receives for one server response
  (return it unchanged, rewritten, with injected lines, or ``b""`` to drop it); raise
  :class:`Cut` to close the connection there, or call :meth:`ImapMitm.stall` to stop answering.
- ``on_command(command, state) -> bytes``: what the server receives for one client command
  (or the part of it up to a synchronizing literal); a test may also act there (another
  client changes the mailbox just before the command reaches the server).

``state`` is the :class:`Session` of that connection: the tags and verbs of the commands in
flight, so a rule can tell which command a response belongs to. Plain TCP on both sides (the
upstream is Dovecot's plain port); the client connects with ``encryption="None"``.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .hostile import FakeServer, _Conn
from .ports import HOST

_LITERAL = re.compile(rb"\{(\d+)(\+?)\}\r?\n$")


class Cut(Exception):
    """Raised by a rule: close both sides here (the client sees an EOF)."""


@dataclass
class Session:
    """One proxied connection: what the client asked for, in order."""

    number: int
    commands: list[bytes] = field(default_factory=list)
    verbs: dict[bytes, str] = field(default_factory=dict)  # tag -> "UID FETCH", "SELECT", ...
    current: str = ""  # the verb of the latest command sent upstream
    stalled: bool = False
    client: Any = field(default=None, repr=False)  # the client side's connection

    def verb_of(self, tag: bytes) -> str:
        return self.verbs.get(tag, "")


Rule = Callable[[bytes, Session], bytes]


def command_verb(command: bytes) -> tuple[bytes, str]:
    """``a12 UID FETCH 1:* (...)`` -> (b"a12", "UID FETCH")."""
    words = command.split(None, 3)
    if len(words) < 2:
        return b"", ""
    verb = words[1].decode("ascii", "replace").upper()
    if verb == "UID" and len(words) > 2:
        verb += " " + words[2].decode("ascii", "replace").upper()
    return words[0], verb


def _read_unit(read_line: Callable[[], bytes], read_exact: Callable[[int], bytes], *, follow_sync: bool) -> bytes:
    """One line with every literal it announces; with ``follow_sync=False`` stop at a ``{n}`` (not ``{n+}``)."""
    line = read_line()
    if not line:
        return b""
    unit = line
    while match := _LITERAL.search(line):
        if not match.group(2) and not follow_sync:
            return unit
        unit += read_exact(int(match.group(1)))
        line = read_line()
        if not line:
            return unit
        unit += line
    return unit


class ImapMitm(FakeServer):
    """``with ImapMitm(dovecot.plain_port, on_response=...) as proxy:`` then connect to ``proxy.port``."""

    login_verbs = ("LOGIN", "AUTHENTICATE")

    def __init__(
        self,
        upstream_port: int,
        *,
        on_response: Rule | None = None,
        on_command: Rule | None = None,
        upstream_host: str = HOST,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(timeout=timeout)
        self.upstream = (upstream_host, upstream_port)
        self.on_response = on_response
        self.on_command = on_command
        self.sessions: list[Session] = []
        self._release = threading.Event()

    def _verb(self, data: bytes) -> str:
        return command_verb(data)[1]

    @staticmethod
    def stall(session: Session) -> None:
        """Stop passing anything to this client (until the proxy closes): a server that hangs."""
        session.stalled = True

    @staticmethod
    def send_raw(session: Session, data: bytes) -> None:
        """Send bytes to the client of ``session`` as they are (part of a response, before a Cut)."""
        session.client.send(data)

    def handle(self, conn: _Conn) -> None:
        upstream = socket.create_connection(self.upstream, timeout=self.timeout)
        session = Session(conn.number, client=conn)
        with self._lock:
            self.sessions.append(session)
        up_file = upstream.makefile("rb")
        pump = threading.Thread(target=self._client_to_server, args=(conn, upstream, session), daemon=True)
        pump.start()
        try:
            while True:
                unit = _read_unit(lambda: up_file.readline(1 << 20), up_file.read, follow_sync=True)
                if not unit:
                    return
                tag = unit.split(b" ", 1)[0]
                out = self.on_response(unit, session) if self.on_response is not None else unit
                if session.stalled:
                    self._release.wait(self.timeout)
                    return
                if out:
                    conn.send(out)
                if tag in session.verbs and tag not in (b"*", b"+"):
                    session.verbs.pop(tag, None)
        except (Cut, ValueError):
            return
        finally:
            for sock in (conn.sock, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            upstream.close()

    def _client_to_server(self, conn: _Conn, upstream: socket.socket, session: Session) -> None:
        continuation = False  # the rest of a command after a synchronizing literal
        try:
            while True:
                unit = _read_unit(lambda: conn.readline() or b"", conn.read_exact, follow_sync=False)
                if not unit:
                    return
                if not continuation:
                    tag, verb = command_verb(unit)
                    session.commands.append(unit)
                    session.verbs[tag] = verb
                    session.current = verb
                out = self.on_command(unit, session) if self.on_command is not None else unit
                upstream.sendall(out)
                match = _LITERAL.search(unit)
                continuation = bool(match and not match.group(2))
                if continuation and match:  # its bytes follow the server's "+"
                    upstream.sendall(conn.read_exact(int(match.group(1))))
        except (OSError, ValueError, Cut):
            pass  # either side closed (a closed file raises ValueError)
        finally:
            try:
                upstream.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __exit__(self, *exc_info: object) -> None:
        self._release.set()
        super().__exit__(*exc_info)
