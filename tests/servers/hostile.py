"""Small fake servers for faults a real server will not produce.

Each is a context manager listening on 127.0.0.1 (``.host``, ``.port``) that records
every line a client sent (``.lines``) and whether a LOGIN/AUTHENTICATE/AUTH line ever
arrived in clear (``.clear_login``). One thread per connection, blocking sockets.

IMAP:  :func:`imap_without_starttls`, :func:`imap_starttls_refused` (NO or BAD),
       :func:`imap_preauth`, :func:`imap_starttls_injection`, :class:`DroppingImapProxy`.
SMTP:  :func:`smtp_without_starttls`, :func:`smtp_starttls_refused` (454), :func:`smtp_without_8bitmime`,
       :func:`smtp_dropping_in_data`.
IMAP faults on a real Dovecot (a proxy that rewrites, cuts and stalls): ``mitm.py``, ``faults.py``.
"""

from __future__ import annotations

import base64
import re
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Literal, TypeVar

from .certs import ServerCert
from .ports import HOST

_Server = TypeVar("_Server", bound="FakeServer")  # a subclass's with-statement gives that subclass

_LITERAL = re.compile(rb"\{(\d+)(\+?)\}\r?\n$")


@dataclass(frozen=True)
class ReceivedLine:
    connection: int
    data: bytes
    tls: bool

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace").rstrip("\r\n")


class _Conn:
    """One accepted connection: line reads (recorded), writes, and a server-side STARTTLS."""

    def __init__(self, sock: socket.socket, number: int, server: FakeServer) -> None:
        self.sock: socket.socket = sock
        self.number = number
        self.server = server
        self.tls = False
        self._file = sock.makefile("rb")

    def readline(self) -> bytes | None:
        try:
            line = self._file.readline(65536)
        except OSError:
            return None
        if not line:
            return None
        self.server._record(ReceivedLine(self.number, line, self.tls))
        return line

    def read_exact(self, size: int) -> bytes:
        return self._file.read(size)

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def starttls(self, cert: ServerCert) -> None:
        # Anything the client pipelined before the handshake is thrown away with the old file.
        self._file.close()
        self.sock = cert.server_context().wrap_socket(self.sock, server_side=True)
        self.tls = True
        self._file = self.sock.makefile("rb")

    def close(self) -> None:
        try:
            self._file.close()
            self.sock.close()
        except OSError:
            pass


class FakeServer:
    """Base: accepts connections in a thread and calls :meth:`handle` for each."""

    host = HOST
    login_verbs: tuple[str, ...] = ()

    def __init__(self, *, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.05)  # accept() polls, so closing never waits on it
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._lines: list[ReceivedLine] = []
        self._connections = 0
        self._threads: list[threading.Thread] = []
        self._open: list[_Conn] = []
        self._closing = False

    # -- what tests read ------------------------------------------------------------------
    @property
    def lines(self) -> list[ReceivedLine]:
        with self._lock:
            return list(self._lines)

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    def verbs(self) -> list[str]:
        """The command verb of each line (IMAP: the word after the tag)."""
        return [self._verb(line.data) for line in self.lines]

    @property
    def clear_login(self) -> bool:
        """True if a line carrying credentials ever arrived without TLS."""
        return any(not line.tls and self._verb(line.data) in self.login_verbs for line in self.lines)

    def _verb(self, data: bytes) -> str:
        words = data.split()
        return words[0].decode("ascii", "replace").upper() if words else ""

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self: _Server) -> _Server:
        thread = threading.Thread(target=self._accept_loop, name=f"{type(self).__name__}:{self.port}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing = True
        self._listener.close()
        with self._lock:
            open_connections = list(self._open)
        for conn in open_connections:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                sock, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(self.timeout)
            with self._lock:
                self._connections += 1
                conn = _Conn(sock, self._connections, self)
                self._open.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: _Conn) -> None:
        try:
            self.handle(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass  # the client went away or refused our TLS: that is what some tests want
        finally:
            conn.close()
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)

    def _record(self, line: ReceivedLine) -> None:
        with self._lock:
            self._lines.append(line)

    def handle(self, conn: _Conn) -> None:
        raise NotImplementedError


# --- IMAP --------------------------------------------------------------------------------


class FakeImapServer(FakeServer):
    """A scripted IMAP server. Build it with the factory functions below."""

    login_verbs = ("LOGIN", "AUTHENTICATE")

    def __init__(
        self,
        *,
        cert: ServerCert,
        greeting: Literal["OK", "PREAUTH"] = "OK",
        offer_starttls: bool = True,
        starttls_reply: Literal["OK", "NO", "BAD"] = "OK",
        injected: bytes = b"",
        timeout: float = 10.0,
    ) -> None:
        super().__init__(timeout=timeout)
        self.cert = cert
        self.greeting = greeting
        self.offer_starttls = offer_starttls
        self.starttls_reply = starttls_reply
        self.injected = injected

    def _verb(self, data: bytes) -> str:
        words = data.split()
        return words[1].decode("ascii", "replace").upper() if len(words) > 1 else ""

    def capabilities(self, tls: bool) -> str:
        caps = ["IMAP4rev1", "AUTH=PLAIN", "ID", "UIDPLUS", "MOVE"]
        if self.offer_starttls and not tls:
            caps.insert(1, "STARTTLS")
        return " ".join(caps)

    def handle(self, conn: _Conn) -> None:
        if self.greeting == "PREAUTH":
            conn.send(f"* PREAUTH [CAPABILITY {self.capabilities(False)}] logged in as alice\r\n")
        else:
            conn.send("* OK [CAPABILITY " + self.capabilities(False) + "] fake IMAP ready\r\n")
        while True:
            line = self._read_command(conn)
            if line is None:
                return
            parts = line.split(None, 2)
            if len(parts) < 2:
                conn.send(b"* BAD missing tag or command\r\n")
                continue
            tag, verb = parts[0].decode(), parts[1].decode("ascii", "replace").upper()
            if not self._answer(conn, tag, verb):
                return

    def _read_command(self, conn: _Conn) -> bytes | None:
        """A full command line, following literals (answering "+" to synchronising ones)."""
        line = conn.readline()
        if line is None:
            return None
        whole = line
        while match := _LITERAL.search(line):
            if not match.group(2):
                conn.send(b"+ go ahead\r\n")
            whole += conn.read_exact(int(match.group(1)))
            line = conn.readline() or b""
            whole += line
        return whole

    def _answer(self, conn: _Conn, tag: str, verb: str) -> bool:
        if verb == "CAPABILITY":
            conn.send(f"* CAPABILITY {self.capabilities(conn.tls)}\r\n{tag} OK done\r\n")
        elif verb == "STARTTLS":
            if not self.offer_starttls or conn.tls:
                conn.send(f"{tag} BAD STARTTLS not available\r\n")
            elif self.starttls_reply != "OK":
                conn.send(f"{tag} {self.starttls_reply} STARTTLS refused\r\n")
            else:
                # The injected bytes share the packet with the OK: a client that keeps
                # its pre-TLS buffer would read them as if they came over TLS.
                conn.send(f"{tag} OK Begin TLS negotiation now\r\n".encode() + self.injected)
                conn.starttls(self.cert)
        elif verb == "LOGIN":
            conn.send(f"{tag} OK [CAPABILITY {self.capabilities(conn.tls)}] logged in\r\n")
        elif verb == "AUTHENTICATE":
            conn.send("+ \r\n")
            if conn.readline() is None:
                return False
            conn.send(f"{tag} OK logged in\r\n")
        elif verb == "LOGOUT":
            conn.send(f"* BYE fake server logging out\r\n{tag} OK done\r\n")
            return False
        elif verb in ("SELECT", "EXAMINE"):
            conn.send(
                "* 0 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] ok\r\n* OK [UIDNEXT 1] ok\r\n"
                "* FLAGS (\\Seen \\Deleted)\r\n"
                f"{tag} OK [{'READ-ONLY' if verb == 'EXAMINE' else 'READ-WRITE'}] selected\r\n"
            )
        elif verb == "LIST":
            conn.send(f'* LIST (\\HasNoChildren) "/" INBOX\r\n{tag} OK done\r\n')
        elif verb in ("NOOP", "ID", "ENABLE", "CLOSE", "UNSELECT"):
            conn.send(f"{tag} OK done\r\n")
        else:
            conn.send(f"{tag} NO {verb} is not supported by this fake\r\n")
        return True


def imap_without_starttls(cert: ServerCert) -> FakeImapServer:
    """Greets ``* OK``; CAPABILITY lacks STARTTLS (and STARTTLS gets BAD)."""
    return FakeImapServer(cert=cert, offer_starttls=False)


def imap_starttls_refused(cert: ServerCert, reply: Literal["NO", "BAD"] = "NO") -> FakeImapServer:
    """Offers STARTTLS but answers it with ``NO`` or ``BAD``."""
    return FakeImapServer(cert=cert, starttls_reply=reply)


def imap_preauth(cert: ServerCert) -> FakeImapServer:
    """Greets with ``* PREAUTH`` (already authenticated, in clear)."""
    return FakeImapServer(cert=cert, greeting="PREAUTH")


INJECTED_CAPABILITY = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected before TLS\r\n"


def imap_starttls_injection(cert: ServerCert, injected: bytes = INJECTED_CAPABILITY) -> FakeImapServer:
    """Answers STARTTLS with OK plus ``injected`` in the same packet, then does TLS and
    behaves normally enough for CAPABILITY and LOGIN."""
    return FakeImapServer(cert=cert, injected=injected)


class DroppingImapProxy(FakeServer):
    """A proxy in front of a real IMAP server that cuts the connection after N commands.

    The first ``drops`` connections are cut when the client sends command line number
    ``drop_after + 1`` (it is not forwarded); later connections pass everything through,
    so a client can reconnect. With ``cert`` the proxy speaks implicit TLS to the client
    (a localhost cert the test CA signed) and to the upstream (``upstream_ca_file``).
    ``how="bye"`` sends ``* BYE`` before closing; ``"close"`` just closes (an EOF).
    """

    login_verbs = ("LOGIN", "AUTHENTICATE")

    def __init__(
        self,
        upstream_port: int,
        *,
        drop_after: int,
        drops: int = 1,
        how: Literal["close", "bye"] = "close",
        cert: ServerCert | None = None,
        upstream_ca_file: str | None = None,
        upstream_host: str = HOST,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(timeout=timeout)
        self.upstream = (upstream_host, upstream_port)
        self.drop_after = drop_after
        self.drops = drops
        self.how = how
        self.cert = cert
        self.upstream_ca_file = upstream_ca_file
        self.dropped = 0

    def _verb(self, data: bytes) -> str:
        words = data.split()
        return words[1].decode("ascii", "replace").upper() if len(words) > 1 else ""

    def handle(self, conn: _Conn) -> None:
        if self.cert is not None:
            conn.sock = self.cert.server_context().wrap_socket(conn.sock, server_side=True)
            conn.tls = True
        upstream = socket.create_connection(self.upstream, timeout=self.timeout)
        if self.cert is not None:
            context = ssl.create_default_context(cafile=self.upstream_ca_file)
            upstream = context.wrap_socket(upstream, server_hostname="localhost")
        with self._lock:
            cut_this_one = self.dropped < self.drops
            if cut_this_one:
                self.dropped += 1
        try:
            self._pump(conn, upstream, cut_this_one)
        finally:
            upstream.close()

    def _pump(self, conn: _Conn, upstream: socket.socket, cut: bool) -> None:
        pending = b""
        commands = 0
        client = conn.sock
        while True:
            ready: list[socket.socket] = [s for s in (client, upstream) if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _, _ = select.select([client, upstream], [], [], self.timeout)
                if not ready:
                    return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                if sock is upstream:
                    client.sendall(data)
                    continue
                pending += data
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    line += b"\n"
                    commands += 1
                    self._record(ReceivedLine(conn.number, line, conn.tls))
                    if cut and commands > self.drop_after:
                        if self.how == "bye":
                            client.sendall(b"* BYE proxy dropping the connection\r\n")
                        client.shutdown(socket.SHUT_RDWR)
                        return
                    upstream.sendall(line)


# --- SMTP --------------------------------------------------------------------------------


class FakeSmtpServer(FakeServer):
    """An SMTP server without TLS: STARTTLS is either not offered (502) or refused (454).
    It accepts any AUTH and any message, so a client that fails to stop is caught."""

    login_verbs = ("AUTH",)

    def __init__(
        self, *, offer_starttls: bool, offer_8bitmime: bool = True, drop_in_data: bool = False, timeout: float = 10.0
    ) -> None:
        super().__init__(timeout=timeout)
        self.offer_starttls = offer_starttls
        self.offer_8bitmime = offer_8bitmime
        self.drop_in_data = drop_in_data

    def handle(self, conn: _Conn) -> None:
        conn.send(b"220 fake.localhost ESMTP fake\r\n")
        while (line := conn.readline()) is not None:
            words = line.split()
            verb = words[0].decode("ascii", "replace").upper() if words else ""
            if verb == "EHLO":
                extensions = ["fake.localhost", "AUTH PLAIN LOGIN", "8BITMIME", "SIZE 10000000"]
                if not self.offer_8bitmime:
                    extensions.remove("8BITMIME")
                if self.offer_starttls:
                    extensions.insert(1, "STARTTLS")
                replies = [f"250-{e}" for e in extensions[:-1]] + [f"250 {extensions[-1]}"]
                conn.send("\r\n".join(replies) + "\r\n")
            elif verb == "HELO":
                conn.send(b"250 fake.localhost\r\n")
            elif verb == "STARTTLS":
                if self.offer_starttls:
                    conn.send(b"454 4.7.0 TLS not available due to temporary reason\r\n")
                else:
                    conn.send(b"502 5.5.1 STARTTLS not supported\r\n")
            elif verb == "AUTH":
                if not self._auth(conn, words):
                    return
            elif verb == "DATA":
                conn.send(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                if self.drop_in_data:
                    conn.readline()
                    return  # the connection closes in the middle of the message
                while conn.readline() not in (None, b".\r\n", b".\n"):
                    pass
                conn.send(b"250 2.0.0 accepted\r\n")
            elif verb == "QUIT":
                conn.send(b"221 2.0.0 bye\r\n")
                return
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                conn.send(b"250 2.0.0 OK\r\n")
            else:
                conn.send(b"500 5.5.2 unknown command\r\n")

    def _auth(self, conn: _Conn, words: list[bytes]) -> bool:
        mechanism = words[1].upper() if len(words) > 1 else b""
        if mechanism == b"LOGIN":
            for prompt in (b"Username:", b"Password:"):
                if len(words) > 2 and prompt == b"Username:":
                    continue  # initial response carried the user name
                conn.send(b"334 " + base64.b64encode(prompt) + b"\r\n")
                if conn.readline() is None:
                    return False
        elif mechanism == b"PLAIN" and len(words) < 3:
            conn.send(b"334 \r\n")
            if conn.readline() is None:
                return False
        conn.send(b"235 2.7.0 Authentication successful\r\n")
        return True


def smtp_without_starttls() -> FakeSmtpServer:
    """EHLO lists AUTH but not STARTTLS."""
    return FakeSmtpServer(offer_starttls=False)


def smtp_starttls_refused() -> FakeSmtpServer:
    """EHLO lists STARTTLS, which is then answered with 454."""
    return FakeSmtpServer(offer_starttls=True)


def smtp_dropping_in_data() -> FakeSmtpServer:
    """No TLS; accepts MAIL and RCPT, then hangs up in the middle of DATA (the outcome is unknown)."""
    return FakeSmtpServer(offer_starttls=False, drop_in_data=True)


def smtp_without_8bitmime() -> FakeSmtpServer:
    """No TLS, and EHLO does not list 8BITMIME (a 7-bit-only relay); accepts any AUTH and message."""
    return FakeSmtpServer(offer_starttls=False, offer_8bitmime=False)
