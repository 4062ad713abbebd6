"""``probe=True``: connect to a server, check that it answers and offers TLS, and read the
SASL mechanisms it offers over TLS. Nothing is sent but CAPABILITY / EHLO / STARTTLS / LOGOUT / QUIT."""

from __future__ import annotations

import logging
import socket
import ssl
from dataclasses import dataclass

from ..config import Encryption
from .candidate import Server
from .resolver import Resolver

log = logging.getLogger("nb_email_conn.discovery")
_MAX_LINE = 8192


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    mechanisms: tuple[str, ...] = ()
    problem: str | None = None
    login_disabled: bool = False
    """IMAP only: the server announced LOGINDISABLED over TLS (no LOGIN command)."""


class _Lines:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rb")

    def line(self) -> str:
        raw = self.file.readline(_MAX_LINE)
        if not raw:
            raise ConnectionError("the server closed the connection")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode("ascii") + b"\r\n")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def _imap_tagged(lines: _Lines, tag: str) -> list[str]:
    seen = []
    while True:
        line = lines.line()
        seen.append(line)
        if line.startswith(tag + " "):
            return seen


def _imap(lines: _Lines, server: Server, context: ssl.SSLContext) -> tuple[_Lines, tuple[str, ...], bool]:
    greeting = lines.line()
    if not greeting.upper().startswith("* OK"):
        raise ConnectionError(f"unexpected IMAP greeting {greeting[:60]!r}")
    if server.encryption is Encryption.STARTTLS:
        lines.send("a1 STARTTLS")
        if not _imap_tagged(lines, "a1")[-1].upper().startswith("A1 OK"):
            raise ssl.SSLError("STARTTLS refused")
        lines = _Lines(context.wrap_socket(lines.sock, server_hostname=server.host))
    lines.send("a2 CAPABILITY")
    response = _imap_tagged(lines, "a2")
    words = " ".join(response).upper().split()
    if server.encryption is Encryption.NONE and "STARTTLS" not in words:
        raise ssl.SSLError("the server offers no TLS")
    mechanisms = tuple(w[5:] for w in words if w.startswith("AUTH="))
    lines.send("a3 LOGOUT")
    return lines, mechanisms, "LOGINDISABLED" in words


def _smtp_reply(lines: _Lines) -> tuple[int, list[str]]:
    texts = []
    while True:
        line = lines.line()
        if len(line) < 3 or not line[:3].isdigit():
            raise ConnectionError(f"unexpected SMTP reply {line[:60]!r}")
        texts.append(line[4:])
        if line[3:4] != "-":
            return int(line[:3]), texts


def _smtp(lines: _Lines, server: Server, context: ssl.SSLContext) -> tuple[_Lines, tuple[str, ...], bool]:
    if _smtp_reply(lines)[0] != 220:
        raise ConnectionError("the SMTP server did not greet with 220")
    lines.send("EHLO probe.invalid")
    code, extensions = _smtp_reply(lines)
    if code != 250:
        raise ConnectionError("the SMTP server does not speak ESMTP")
    if server.encryption is Encryption.STARTTLS:
        if not any(e.upper().startswith("STARTTLS") for e in extensions):
            raise ssl.SSLError("STARTTLS not offered")
        lines.send("STARTTLS")
        if _smtp_reply(lines)[0] != 220:
            raise ssl.SSLError("STARTTLS refused")
        lines = _Lines(context.wrap_socket(lines.sock, server_hostname=server.host))
        lines.send("EHLO probe.invalid")
        code, extensions = _smtp_reply(lines)
    elif server.encryption is Encryption.NONE and not any(e.upper().startswith("STARTTLS") for e in extensions):
        raise ssl.SSLError("the server offers no TLS")
    mechanisms: tuple[str, ...] = ()
    for extension in extensions:
        words = extension.upper().split()
        if words and words[0] in ("AUTH", "AUTH="):
            mechanisms = tuple(words[1:])
    lines.send("QUIT")
    return lines, mechanisms, False


def probe(server: Server, protocol: str, resolver: Resolver, context: ssl.SSLContext) -> ProbeResult:
    """Connect to one server the way the settings say; ``ok`` when it answered over TLS."""
    lines: _Lines | None = None
    try:
        sock = resolver.connect(server.host, server.port)
        sock.settimeout(resolver.deadline.step(resolver.step_limit))
        if server.encryption is Encryption.SSL_ON_CONNECT:
            sock = context.wrap_socket(sock, server_hostname=server.host)
        lines = _Lines(sock)
        lines, mechanisms, login_disabled = (_imap if protocol == "imap" else _smtp)(lines, server, context)
        return ProbeResult(True, mechanisms, login_disabled=login_disabled)
    except ssl.SSLCertVerificationError as exc:
        return ProbeResult(
            False, problem=f"{protocol.upper()} {server}: certificate not trusted ({exc.verify_message})"
        )
    except ssl.SSLError as exc:
        return ProbeResult(False, problem=f"{protocol.upper()} {server}: no working TLS ({exc.reason or exc})")
    except (OSError, ValueError, UnicodeError) as exc:
        return ProbeResult(False, problem=f"{protocol.upper()} {server}: did not answer ({type(exc).__name__})")
    finally:
        if lines is not None:
            try:
                lines.close()
            except OSError:
                pass
