"""The sandbox's SMTP side: aiosmtpd with AUTH, delivering every accepted message into the
demo user's INBOX (a catch-all test server: nothing ever leaves the machine)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
import ssl
from collections.abc import Awaitable, Callable
from email.utils import format_datetime
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

Deliver = Callable[[bytes], Awaitable[object]]


class _DropLoginDataWarning(logging.Filter):
    """aiosmtpd 1.4 warns "Session.login_data is deprecated" on every successful AUTH,
    from its own code; that line says nothing useful to a sandbox user."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Session.login_data is deprecated")


logging.getLogger("mail.log").addFilter(_DropLoginDataWarning())


class _DeliveryHandler:
    def __init__(self, deliver: Deliver, hostname: str) -> None:
        self._deliver = deliver
        self._hostname = hostname

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content).encode("utf-8")
        helo = str(session.host_name or "unknown").replace("\r", "").replace("\n", "")
        peer = session.peer[0] if isinstance(session.peer, tuple) else "local"
        protocol = "ESMTPSA" if session.ssl else "ESMTPA"
        received = (
            f"Received: from {helo} ([{peer}])\r\n\tby {self._hostname} (nb-email-conn sandbox) "
            f"with {protocol};\r\n\t{format_datetime(dt.datetime.now(dt.timezone.utc))}\r\n"
        ).encode("ascii", "replace")
        try:
            await self._deliver(received + data)
        except Exception:
            return "451 4.3.0 Delivery into the sandbox mailbox failed; try again"
        return "250 2.0.0 Delivered to the sandbox INBOX"


class _TrackedSMTP(SMTP):
    """aiosmtpd's protocol, remembering live connections so the sandbox can close them."""

    def __init__(self, *args: Any, connections: set[SMTP], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections = connections

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._connections.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._connections.discard(self)
        super().connection_lost(error)


def _authenticator(username: str, password: str) -> Callable[..., AuthResult]:
    expected_user = username.encode("utf-8")
    expected_password = password.encode("utf-8")

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user_ok = hmac.compare_digest(auth_data.login, expected_user)
            password_ok = hmac.compare_digest(auth_data.password, expected_password)
            if user_ok and password_ok:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return authenticate


class SmtpListener:
    """One listening SMTP server and its live connections."""

    def __init__(self, server: asyncio.Server, connections: set[SMTP]) -> None:
        self.server = server
        self.connections = connections

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    def close(self) -> None:
        self.server.close()
        for protocol in list(self.connections):
            transport = protocol.transport
            if transport is not None:
                transport.close()
        self.connections.clear()


async def start_smtp(
    *,
    host: str,
    port: int,
    username: str,
    password: str,
    deliver: Deliver,
    tls_context: ssl.SSLContext | None,
    hostname: str = "localhost",
) -> SmtpListener:
    """Bind host:port (0 = any free port) for SMTP; ``start_serving()`` accepts clients. With a TLS context, STARTTLS is
    required before anything else (and AUTH only after it); without, AUTH is in plaintext."""
    loop = asyncio.get_running_loop()
    connections: set[SMTP] = set()
    handler = _DeliveryHandler(deliver, hostname)
    authenticator = _authenticator(username, password)

    def factory() -> SMTP:
        return _TrackedSMTP(
            handler,
            connections=connections,
            hostname=hostname,  # the default, socket.getfqdn(), can stall without DNS
            enable_SMTPUTF8=True,
            tls_context=tls_context,
            require_starttls=tls_context is not None,
            auth_required=True,
            auth_require_tls=tls_context is not None,
            authenticator=authenticator,
            timeout=120,
            loop=loop,
        )

    server = await loop.create_server(factory, host=host, port=port, start_serving=False)
    return SmtpListener(server, connections)
