"""IMAP failures -> typed errors: the one mapping (imap/error_map.py), by type and errno only.

First on real faults (a closed port, an unknown host, a silent or hanging-up listener, Dovecot
refusing a login, a folder or a TLS handshake, a proxy that cuts or says BYE), then the whole
table on constructed exceptions, including errno values a loopback test cannot produce.
"""

from __future__ import annotations

import errno
import imaplib
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from imapclient import exceptions as imap_exc
from servers import hostile
from servers.certs import TestCerts
from servers.dovecot import DovecotServer
from servers.ports import free_port

import nb_email_conn as nec
from nb_email_conn.errors import ServerError
from nb_email_conn.imap.error_map import imap_error
from nb_email_conn.imap.session import ImapSession

ALICE = "alice@example.org"


def _config(port: int, encryption: str = "None", **changes: Any) -> nec.ConnectionConfig:
    settings: dict[str, Any] = {
        "name": "errors",
        "username": ALICE,
        "imap_host": "127.0.0.1",
        "imap_port": port,
        "imap_encryption": encryption,
        "smtp_host": "127.0.0.1",
        "smtp_port": free_port(),
        "smtp_encryption": "SslOnConnect",
        "timeout": 2.0,
    }
    settings.update(changes)
    return nec.ConnectionConfig(**settings)


def _connect_error(cfg: nec.ConnectionConfig, password: str = "pw") -> nec.EmailConnError:
    with pytest.raises(nec.EmailConnError) as info:
        ImapSession(cfg, lambda: password).connect()
    return info.value


@pytest.fixture
def hang_up_listener() -> Iterator[int]:
    """Accepts each connection and closes it at once (no greeting, no TLS handshake)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


# -- real faults -------------------------------------------------------------------------------
def test_a_closed_port_is_refused() -> None:
    error = _connect_error(_config(free_port(), "SslOnConnect"))
    assert isinstance(error, nec.ConnectionFailedError) and "refused the connection" in str(error)
    assert isinstance(error.__cause__, ConnectionRefusedError)


def test_an_unknown_host_cannot_be_resolved() -> None:
    error = _connect_error(_config(993, "SslOnConnect", imap_host="nb-email-conn-test.invalid"))
    assert isinstance(error, nec.ConnectionFailedError) and "could not resolve" in str(error)
    assert isinstance(error.__cause__, socket.gaierror)


def test_a_silent_server_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts (backlog), never greets
        error = _connect_error(_config(listener.getsockname()[1], timeout=0.5))
    assert isinstance(error, nec.OperationTimeoutError) and isinstance(error, TimeoutError)
    assert "did not answer within 0.5 s while connecting" in str(error)
    assert isinstance(error.__cause__, TimeoutError)


def test_a_server_that_hangs_up_before_the_greeting_dropped_the_connection(hang_up_listener: int) -> None:
    error = _connect_error(_config(hang_up_listener))
    assert isinstance(error, nec.ConnectionFailedError) and "dropped while connecting" in str(error)
    assert isinstance(error.__cause__, imaplib.IMAP4.abort)


def test_a_server_that_hangs_up_during_the_tls_handshake(hang_up_listener: int) -> None:
    error = _connect_error(_config(hang_up_listener, "SslOnConnect"))
    assert isinstance(error, nec.ConnectionFailedError)
    assert isinstance(error.__cause__, (ssl.SSLEOFError, ConnectionError))


@pytest.mark.dovecot
def test_a_wrong_password_is_an_authentication_error(dovecot: DovecotServer) -> None:
    error = _connect_error(dovecot.config(ALICE), "Wr0ng-Secret!")
    assert isinstance(error, nec.AuthenticationError) and "Wr0ng-Secret!" not in str(error)
    assert isinstance(error.__cause__, imap_exc.LoginError)


@pytest.mark.dovecot
def test_an_untrusted_certificate_and_a_plaintext_port_are_security_errors(dovecot: DovecotServer) -> None:
    error = _connect_error(dovecot.config(ALICE, ca_file=None))
    assert isinstance(error, nec.SecurityError) and "not trusted" in str(error)
    assert isinstance(error.__cause__, ssl.SSLCertVerificationError)
    error = _connect_error(dovecot.config(ALICE, encryption="SslOnConnect", imap_port=dovecot.plain_port))
    assert isinstance(error, nec.SecurityError) and "may not use implicit TLS" in str(error)


@pytest.mark.dovecot
def test_a_no_answer_is_a_server_error_and_keeps_the_connection(dovecot: DovecotServer) -> None:
    session = ImapSession(dovecot.config(ALICE), lambda: dovecot.users[ALICE])
    with pytest.raises(ServerError, match="refused selecting") as info:
        session.run("selecting", lambda client: client.select_folder("No such folder"), idempotent=True)
    assert isinstance(info.value.__cause__, imaplib.IMAP4.error)
    assert session.run("a NOOP", lambda client: client.noop(), idempotent=False)  # same connection, still fine
    session.close()


@pytest.mark.dovecot
@pytest.mark.parametrize("how", ["close", "bye"])
def test_a_cut_or_bye_mid_session_is_a_dropped_connection(
    dovecot: DovecotServer, test_certs: TestCerts, how: Literal["close", "bye"]
) -> None:
    proxy = hostile.DroppingImapProxy(
        dovecot.imaps_port, drop_after=1_000, how=how, cert=test_certs.server, upstream_ca_file=dovecot.ca_file
    )
    with proxy:
        session = ImapSession(dovecot.config(ALICE, imap_port=proxy.port), lambda: dovecot.users[ALICE])
        session.connect()
        proxy.drop_after = len(proxy.lines)  # the next command line is cut
        with pytest.raises(nec.ConnectionFailedError, match="dropped while selecting") as info:
            session.run("selecting", lambda client: client.select_folder("INBOX"), idempotent=False)
        assert isinstance(info.value.__cause__, (imaplib.IMAP4.abort, OSError))
        assert session._client is None  # dropped, so the next call reconnects
        session.close()


# -- the whole table -------------------------------------------------------------------------
def _cert_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_code, exc.verify_message = code, message
    return exc


def _ssl_error(reason: str) -> ssl.SSLError:
    exc = ssl.SSLError(1, "handshake failed")
    exc.reason = reason
    return exc


@pytest.mark.parametrize(
    ("exc", "kind", "text"),
    [
        (imap_exc.LoginError("[AUTHENTICATIONFAILED] no"), nec.AuthenticationError, "refused the login for"),
        (_cert_error(20, "unable to get local issuer certificate"), nec.SecurityError, "not trusted"),
        (_cert_error(62, "Hostname mismatch"), nec.SecurityError, "not valid for 'imap.example.org'"),
        (_cert_error(64, "IP address mismatch"), nec.SecurityError, "not valid for"),
        (_ssl_error("WRONG_VERSION_NUMBER"), nec.SecurityError, "may not use implicit TLS"),
        (_ssl_error("TLSV1_ALERT_PROTOCOL_VERSION"), nec.SecurityError, "failed: TLSV1_ALERT_PROTOCOL_VERSION"),
        (ssl.SSLEOFError(8, "EOF"), nec.ConnectionFailedError, "closed the TLS connection"),
        (TimeoutError("timed out"), nec.OperationTimeoutError, "did not answer within 30 s while testing"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), nec.ConnectionFailedError, "resolve"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), nec.ConnectionFailedError, "refused the connection"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), nec.ConnectionFailedError, "dropped while testing"),
        (BrokenPipeError(errno.EPIPE, "pipe"), nec.ConnectionFailedError, "dropped while testing"),
        (EOFError(), nec.ConnectionFailedError, "dropped while testing"),
        (imaplib.IMAP4.abort("socket error: EOF"), nec.ConnectionFailedError, "dropped while testing"),
        (imap_exc.IMAPClientAbortError("BYE"), nec.ConnectionFailedError, "dropped while testing"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), nec.ConnectionFailedError, "(No route to host)"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), nec.ConnectionFailedError, "your network"),
        (OSError(errno.EACCES, "Permission denied"), nec.ConnectionFailedError, ":993: Permission denied."),
        (imaplib.IMAP4.error("SELECT failed: no such mailbox"), ServerError, "refused testing: SELECT failed"),
        (imap_exc.CapabilityError("needs MOVE"), ServerError, "refused testing: needs MOVE"),
        # Text never decides: a refusal's words in a protocol error or an errno-less OSError.
        (imaplib.IMAP4.error("[Errno 111] Connection refused"), ServerError, "refused testing"),
        (OSError("Connection refused"), nec.ConnectionFailedError, "could not reach"),
    ],
)
def test_each_failure_maps_by_type(exc: BaseException, kind: type[Exception], text: str) -> None:
    error = imap_error(exc, action="testing", host="imap.example.org", port=993, timeout=30.0, username=ALICE)
    assert type(error) is kind, error
    assert text in str(error)


def test_typed_errors_pass_through_unchanged() -> None:
    original = nec.StaleReferenceError("gone")
    assert imap_error(original, action="x", host="h", port=1, timeout=1.0, username="u") is original
