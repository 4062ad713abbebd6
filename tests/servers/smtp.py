"""A real SMTP server (aiosmtpd) that requires AUTH and records what it received.

Modes: "implicit" (TLS from the first byte), "starttls" (STARTTLS required before
anything else, AUTH offered only after it) and "plain" (no TLS, no STARTTLS offered,
AUTH in clear allowed). Each server runs in its own thread with its own event loop.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .certs import TestCerts
from .ports import HOST, free_port

SmtpMode = Literal["implicit", "starttls", "plain"]

SMTP_USERS: dict[str, str] = {"alice@example.org": "alicepass", "bob@example.org": "bobpass"}


@dataclass(frozen=True)
class SmtpCommand:
    """One command line as the server read it. AUTH arguments are cut to the mechanism."""

    connection: int
    verb: str
    argument: str
    tls: bool
    """Whether the line arrived over TLS (implicit or after STARTTLS)."""


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage
    login: str | None
    """The AUTH user that sent it (None if unauthenticated, which the server refuses)."""
    tls: bool


@dataclass
class _Recorder:
    lock: threading.Lock = field(default_factory=threading.Lock)
    commands: list[SmtpCommand] = field(default_factory=list)
    messages: list[ReceivedMessage] = field(default_factory=list)
    auth_attempts: list[tuple[str, bool]] = field(default_factory=list)
    connections: int = 0

    def next_connection(self) -> int:
        with self.lock:
            self.connections += 1
            return self.connections


def _is_tls(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class _RecordingSMTP(SMTP):
    """aiosmtpd's SMTP, recording each command line before aiosmtpd acts on it (so a
    command it refuses, such as AUTH before STARTTLS, is still on record)."""

    def __init__(self, handler: Any, *, recorder: _Recorder, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._recorder = recorder

    async def _handle_client(self) -> None:
        connection = self._recorder.next_connection()
        read_line = self._reader.readuntil

        async def recording_readuntil(separator: bytes = b"\n") -> bytes:
            line: bytes = await read_line(separator)
            # Only command lines use the default separator; DATA uses b"\r\n".
            if separator == b"\n":
                self._record(connection, line)
            return line

        self._reader.readuntil = recording_readuntil  # type: ignore[method-assign,assignment]
        await super()._handle_client()

    def _record(self, connection: int, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        verb, _, argument = text.partition(" ")
        verb = verb.upper()
        if verb == "AUTH":
            argument = argument.split(" ", 1)[0]  # keep the mechanism, drop credentials
        with self._recorder.lock:
            self._recorder.commands.append(SmtpCommand(connection, verb, argument, _is_tls(self)))


class _Handler:
    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        received = ReceivedMessage(
            mail_from=str(envelope.mail_from),
            rcpt_tos=list(envelope.rcpt_tos),
            data=data,
            message=message,
            login=session.auth_data if isinstance(session.auth_data, str) else None,
            tls=_is_tls(server),
        )
        with self.recorder.lock:
            self.recorder.messages.append(received)
        return "250 OK message accepted"


class _Controller(Controller):
    def __init__(self, *args: Any, recorder: _Recorder, smtp_kwargs: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recorder = recorder
        self._smtp_kwargs = smtp_kwargs

    def factory(self) -> SMTP:
        return _RecordingSMTP(self.handler, recorder=self._recorder, **self._smtp_kwargs)


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 requiring AUTH (PLAIN, LOGIN) in the given mode."""

    host = HOST

    def __init__(self, mode: SmtpMode, certs: TestCerts, users: dict[str, str] | None = None) -> None:
        if mode not in ("implicit", "starttls", "plain"):
            raise ValueError(f"unknown SMTP mode {mode!r}")
        self.mode: SmtpMode = mode
        self.certs = certs
        self.users = dict(users or SMTP_USERS)
        self.port = free_port()
        self.startup_seconds = 0.0
        self._recorder = _Recorder()
        self._controller: _Controller | None = None

    @property
    def ca_file(self) -> str:
        return str(self.certs.ca_file)

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._recorder.lock:
            return list(self._recorder.messages)

    @property
    def commands(self) -> list[SmtpCommand]:
        with self._recorder.lock:
            return list(self._recorder.commands)

    @property
    def auth_attempts(self) -> list[tuple[str, bool]]:
        """(login, succeeded) for every AUTH the server checked."""
        with self._recorder.lock:
            return list(self._recorder.auth_attempts)

    def verbs(self) -> list[str]:
        return [command.verb for command in self.commands]

    def clear_auth_seen(self) -> bool:
        """True if any AUTH line ever arrived without TLS."""
        return any(c.verb == "AUTH" and not c.tls for c in self.commands)

    def reset(self) -> None:
        with self._recorder.lock:
            self._recorder.messages.clear()
            self._recorder.commands.clear()
            self._recorder.auth_attempts.clear()

    def wait_for_messages(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = self.users.get(login) == password
        with self._recorder.lock:
            self._recorder.auth_attempts.append((login, ok))
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

    def _controller_for(self, smtp_kwargs: dict[str, Any], controller_kwargs: dict[str, Any]) -> _Controller:
        """The aiosmtpd controller; the OAuth server gives its own (it speaks XOAUTH2 / OAUTHBEARER)."""
        return _Controller(
            _Handler(self._recorder), hostname=HOST, port=self.port, ready_timeout=10,
            recorder=self._recorder, smtp_kwargs=smtp_kwargs, **controller_kwargs,
        )  # fmt: skip

    def start(self) -> SmtpServer:
        began = time.monotonic()
        server_context = self.certs.server.server_context()
        server_context.minimum_version = ssl.TLSVersion.TLSv1_2
        smtp_kwargs: dict[str, Any] = {
            "hostname": "localhost",
            "authenticator": self._authenticate,
            "auth_required": True,
            # aiosmtpd only counts STARTTLS as TLS; with implicit TLS AUTH would be hidden.
            "auth_require_tls": self.mode == "starttls",
            "enable_SMTPUTF8": True,
            "timeout": 30,
        }
        controller_kwargs: dict[str, Any] = {}
        if self.mode == "implicit":
            controller_kwargs["ssl_context"] = server_context
        elif self.mode == "starttls":
            smtp_kwargs.update(tls_context=server_context, require_starttls=True)
        self._controller = self._controller_for(smtp_kwargs, controller_kwargs)
        self._controller.start()
        self.startup_seconds = time.monotonic() - began
        # The controller's own readiness probe is a connection too; forget it.
        self.reset()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SmtpServer(mode={self.mode!r}, host={self.host!r}, port={self.port})"
