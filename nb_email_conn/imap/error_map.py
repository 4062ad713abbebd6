"""The one translation of IMAP library and socket failures into the package's typed errors.

By exception type and errno only, never by message text. imapclient's exceptions are
imaplib's (``IMAPClientError`` is ``IMAP4.error``, ``IMAPClientAbortError`` is
``IMAP4.abort``), so both libraries are covered by the same checks.
"""

from __future__ import annotations

import errno
import imaplib
import socket
import ssl
from typing import Any

from imapclient import exceptions as imap_exc

from ..errors import (
    AuthenticationError,
    ConnectionFailedError,
    EmailConnError,
    OperationTimeoutError,
    ServerError,
)
from ..tls import security_error

# Failures that leave the connection unusable: the session drops the client on these.
CONNECTION_LOST: tuple[type[BaseException], ...] = (OSError, EOFError, imaplib.IMAP4.abort)
# Everything imap_error() translates (anything else is a bug and propagates unchanged). A decoding
# error can only come from the server's bytes (our own arguments are checked before sending).
MAPPED: tuple[type[BaseException], ...] = (*CONNECTION_LOST, imaplib.IMAP4.error, UnicodeDecodeError)
# errno values that mean "no route to the server" rather than a refusal or a drop.
_UNREACHABLE = frozenset(
    code
    for code in (
        getattr(errno, name, None) for name in ("ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "EHOSTDOWN", "EADDRNOTAVAIL")
    )
    if code is not None
)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def imap_error(
    exc: BaseException, *, action: str, host: str, port: int, timeout: float, username: str
) -> EmailConnError:
    """The typed, plain-language error for a failure while ``action`` (e.g. ``"connecting"``).

    - the server refused LOGIN / AUTHENTICATE -> :class:`AuthenticationError`;
    - TLS failures (certificate, host name, handshake) -> :class:`SecurityError`;
    - no answer in time -> :class:`OperationTimeoutError`;
    - unknown host, refused or unreachable port, dropped connection (EOF, reset, ``* BYE``)
      -> :class:`ConnectionFailedError`;
    - a ``NO`` / ``BAD`` answer, a protocol error or undecodable text -> :class:`ServerError`.
    """
    where = f"the IMAP server {host}:{port}"
    if isinstance(exc, EmailConnError):
        return exc
    if isinstance(exc, imap_exc.LoginError):
        return AuthenticationError(
            f"the IMAP server refused the login for {username!r}: wrong username or password "
            "(some providers need an app password)."
        )
    if isinstance(exc, ssl.SSLEOFError):
        return ConnectionFailedError(f"{where} closed the TLS connection.")
    if isinstance(exc, ssl.SSLError):
        return security_error(exc, host=host, port=port, protocol="IMAP")
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return OperationTimeoutError(f"{where} did not answer within {timeout:g} s while {action}.")
    if isinstance(exc, socket.gaierror):
        return ConnectionFailedError(f"could not resolve the IMAP host {host!r}: check the host name.")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionFailedError(f"{where} refused the connection: check the host, port and encryption.")
    if isinstance(exc, (imaplib.IMAP4.abort, EOFError, ConnectionError)):
        return ConnectionFailedError(f"the IMAP connection to {host}:{port} dropped while {action}.")
    if isinstance(exc, OSError):
        if exc.errno in _UNREACHABLE:
            return ConnectionFailedError(
                f"could not reach {where} ({exc.strerror}): check the host name and your network."
            )
        return ConnectionFailedError(f"could not reach {where}: {exc.strerror or exc}.")
    if isinstance(exc, UnicodeDecodeError):
        return ServerError(f"{where} sent text that is not valid {exc.encoding} while {action}.")
    if isinstance(exc, imaplib.IMAP4.error):
        text = _text(exc)
        return ServerError(f"the IMAP server refused {action}: {text[:300]}", response=text)
    return ServerError(f"{where} failed while {action}: {type(exc).__name__}")
