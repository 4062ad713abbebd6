"""SMTP failures -> typed errors: the one mapping (smtp/error_map.py), by type and errno only.

First on real faults (a closed port, an unknown host, a silent listener, aiosmtpd refusing a
login, a sender or a TLS handshake; hostile fakes that skip or refuse STARTTLS, hang up or
greet with 554), then the whole table on constructed exceptions.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any

import aiosmtplib
import pytest
from servers import hostile
from servers.ports import free_port
from servers.smtp import SmtpServer

import nb_email_conn as nec
from nb_email_conn.errors import ServerError
from nb_email_conn.smtp.error_map import smtp_error
from nb_email_conn.smtp.sender import SmtpSubmission

ALICE = "alice@example.org"
PASSWORD = "alicepass"


def _config(port: int, encryption: str = "None", **changes: Any) -> nec.ConnectionConfig:
    settings: dict[str, Any] = {
        "name": "errors",
        "username": ALICE,
        "imap_host": "127.0.0.1",
        "imap_port": free_port(),
        "imap_encryption": "SslOnConnect",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_encryption": encryption,
        "timeout": 2.0,
    }
    settings.update(changes)
    return nec.ConnectionConfig(**settings)


def _server_config(server: SmtpServer, **changes: Any) -> nec.ConnectionConfig:
    encryption = {"implicit": "SslOnConnect", "starttls": "StartTls", "plain": "None"}[server.mode]
    return _config(server.port, encryption, **{"ca_file": server.ca_file, **changes})


async def _connect_error(cfg: nec.ConnectionConfig, password: str = PASSWORD) -> nec.EmailConnError:
    submission = SmtpSubmission(cfg, lambda: password)
    try:
        await submission.connect()
        await submission.login()
    except nec.EmailConnError as exc:
        return exc
    finally:
        await submission.close()
    raise AssertionError("connecting and logging in worked")


class _Greeter(hostile.FakeServer):
    """Sends ``greeting`` (if any), then hangs up: a server that dies or turns the client away."""

    def __init__(self, greeting: bytes) -> None:
        super().__init__(timeout=5.0)
        self.greeting = greeting

    def handle(self, conn: Any) -> None:
        if self.greeting:
            conn.send(self.greeting)
            conn.readline()  # the client's next line (EHLO), then the connection closes


# -- real faults -------------------------------------------------------------------------------
async def test_a_closed_port_is_refused() -> None:
    error = await _connect_error(_config(free_port(), "SslOnConnect"))
    assert isinstance(error, nec.ConnectionFailedError) and "refused the connection" in str(error)
    assert isinstance(error.__cause__, aiosmtplib.SMTPConnectError)
    assert isinstance(error.__cause__.__cause__, ConnectionRefusedError)


async def test_an_unknown_host_cannot_be_resolved() -> None:
    error = await _connect_error(_config(465, "SslOnConnect", smtp_host="nb-email-conn-test.invalid"))
    assert isinstance(error, nec.ConnectionFailedError) and "could not resolve" in str(error)
    assert isinstance(error.__cause__ and error.__cause__.__cause__, socket.gaierror)


async def test_a_silent_server_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts (backlog), never greets
        error = await _connect_error(_config(listener.getsockname()[1], timeout=0.5))
    assert isinstance(error, nec.OperationTimeoutError) and isinstance(error, TimeoutError)
    assert "did not answer within 0.5 s while connecting" in str(error)


async def test_a_server_that_hangs_up_before_the_greeting() -> None:
    with _Greeter(b"") as fake:
        error = await _connect_error(_config(fake.port))
    assert isinstance(error, nec.ConnectionFailedError) and "closed the connection before greeting" in str(error)


async def test_a_server_that_hangs_up_after_the_greeting() -> None:
    with _Greeter(b"220 fake ESMTP\r\n") as fake:
        error = await _connect_error(_config(fake.port))
    assert isinstance(error, nec.ConnectionFailedError) and "closed the connection while greeting" in str(error)
    assert isinstance(error.__cause__, aiosmtplib.SMTPServerDisconnected)


async def test_a_554_greeting_refuses_the_session() -> None:
    with _Greeter(b"554 5.3.2 no service for you\r\n") as fake:
        error = await _connect_error(_config(fake.port))
    assert isinstance(error, nec.ConnectionFailedError) and "refused the session (554" in str(error)


async def test_implicit_tls_on_a_plaintext_port_explains_what_to_try(smtp_plain: SmtpServer) -> None:
    error = await _connect_error(_server_config(smtp_plain, smtp_encryption="SslOnConnect"))
    assert isinstance(error, nec.SecurityError) and "Try encryption StartTls" in str(error)


async def test_an_untrusted_certificate_is_refused(smtp_implicit: SmtpServer) -> None:
    error = await _connect_error(_server_config(smtp_implicit, ca_file=None))
    assert isinstance(error, nec.SecurityError) and "not trusted" in str(error)
    assert smtp_implicit.auth_attempts == []


async def test_starttls_not_offered_or_refused_is_a_security_error_with_nothing_in_clear() -> None:
    for make, text in (
        (hostile.smtp_without_starttls, "does not offer STARTTLS"),
        (hostile.smtp_starttls_refused, "refused STARTTLS (454"),
    ):
        with make() as fake:
            error = await _connect_error(_config(fake.port, "StartTls"))
        assert isinstance(error, nec.SecurityError) and text in str(error)
        assert not fake.clear_login
        assert "MAIL" not in fake.verbs()


async def test_starttls_that_is_required_and_offered_works(smtp_starttls: SmtpServer) -> None:
    submission = SmtpSubmission(_server_config(smtp_starttls), lambda: PASSWORD)
    info = await submission.connect()
    await submission.login()
    assert info.tls is not None and info.tls.startswith("TLS 1.") and submission.info.authenticated
    await submission.close()
    assert [c.tls for c in smtp_starttls.commands if c.verb == "AUTH"] == [True]


async def test_a_wrong_password_is_an_authentication_error(smtp_starttls: SmtpServer) -> None:
    error = await _connect_error(_server_config(smtp_starttls), "Wr0ng-Secret!")
    assert isinstance(error, nec.AuthenticationError) and "Wr0ng-Secret!" not in str(error)
    assert isinstance(error.__cause__, aiosmtplib.SMTPAuthenticationError)


async def test_a_refused_sender_is_a_server_error_with_its_code(smtp_starttls: SmtpServer) -> None:
    async with SmtpSubmission(_server_config(smtp_starttls), lambda: PASSWORD) as submission:
        with pytest.raises(ServerError, match="refused the sender") as info:
            await submission.submit(ALICE, ["bob@example.org"], b"Subject: x\r\n\r\nbody\r\n")  # no AUTH first
    assert info.value.response == 530
    assert smtp_starttls.messages == []


# -- the whole table -------------------------------------------------------------------------
def _connect_error_from(cause: BaseException | None) -> aiosmtplib.SMTPConnectError:
    exc = aiosmtplib.SMTPConnectError("Error connecting to smtp.example.org on port 465")
    exc.__cause__ = cause
    return exc


def _cert_error(code: int) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_code, exc.verify_message = code, "verify failed"
    return exc


@pytest.mark.parametrize(
    ("exc", "kind", "text"),
    [
        (aiosmtplib.SMTPAuthenticationError(535, "5.7.8 bad"), nec.AuthenticationError, "refused the login for"),
        (aiosmtplib.SMTPConnectTimeoutError("timed out"), nec.OperationTimeoutError, "within 30 s while testing"),
        (aiosmtplib.SMTPReadTimeoutError("timed out"), nec.OperationTimeoutError, "did not answer"),
        (TimeoutError(), nec.OperationTimeoutError, "did not answer"),
        (aiosmtplib.SMTPConnectResponseError(554, "go away"), nec.ConnectionFailedError, "session (554 go away)"),
        (_connect_error_from(ConnectionRefusedError(errno.ECONNREFUSED, "x")), nec.ConnectionFailedError, "refused"),
        (_connect_error_from(socket.gaierror(socket.EAI_NONAME, "x")), nec.ConnectionFailedError, "resolve"),
        (_connect_error_from(_cert_error(20)), nec.SecurityError, "not trusted"),
        (_connect_error_from(_cert_error(62)), nec.SecurityError, "not valid for 'smtp.example.org'"),
        (_connect_error_from(OSError(errno.EHOSTUNREACH, "No route to host")), nec.ConnectionFailedError, "network"),
        (
            _connect_error_from(OSError(errno.EACCES, "Permission denied")),
            nec.ConnectionFailedError,
            "could not connect",
        ),
        (_connect_error_from(aiosmtplib.SMTPServerDisconnected("x")), nec.ConnectionFailedError, "before greeting"),
        (_connect_error_from(None), nec.ConnectionFailedError, "before greeting"),
        (aiosmtplib.SMTPServerDisconnected("lost"), nec.ConnectionFailedError, "closed the connection while testing"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), nec.ConnectionFailedError, "closed the connection while"),
        (OSError(errno.EIO, "I/O error"), nec.ConnectionFailedError, "closed the connection while testing"),
        (ssl.SSLEOFError(8, "EOF"), nec.SecurityError, "TLS"),
        (aiosmtplib.SMTPSenderRefused(553, "5.1.8 bad sender", ALICE), ServerError, "refused testing: 553"),
        (aiosmtplib.SMTPResponseException(451, "try later"), ServerError, "refused testing: 451 try later"),
        (aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported"), ServerError, "failed while testing"),
        # Text never decides: a refusal's words without the ConnectionRefusedError behind them.
        (aiosmtplib.SMTPConnectError("[Errno 111] Connection refused"), nec.ConnectionFailedError, "before greeting"),
        (aiosmtplib.SMTPException("SMTP STARTTLS extension not supported"), ServerError, "failed while testing"),
    ],
)
def test_each_failure_maps_by_type(exc: BaseException, kind: type[Exception], text: str) -> None:
    error = smtp_error(exc, action="testing", host="smtp.example.org", port=465, timeout=30.0, username=ALICE)
    assert type(error) is kind, error
    assert text in str(error)


def test_response_errors_carry_the_code() -> None:
    error = smtp_error(
        aiosmtplib.SMTPResponseException(552, "too big"), action="x", host="h", port=1, timeout=1.0, username="u"
    )
    assert isinstance(error, ServerError) and error.response == 552
