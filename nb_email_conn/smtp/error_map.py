"""The one translation of aiosmtplib and socket failures into the package's typed errors.

By exception type and errno only, never by message text. aiosmtplib wraps a failed connect
in ``SMTPConnectError`` raised *from* the ``OSError`` (refused, unresolvable host, TLS
handshake), so the cause decides; everything later arrives as its own type.
"""

from __future__ import annotations

import errno
import socket
import ssl

import aiosmtplib

from ..errors import (
    AuthenticationError,
    ConnectionFailedError,
    EmailConnError,
    OperationTimeoutError,
    ServerError,
)
from ..tls import security_error

# Everything smtp_error() translates (anything else is a bug and propagates unchanged).
MAPPED: tuple[type[BaseException], ...] = (aiosmtplib.SMTPException, OSError)
_UNREACHABLE = frozenset(
    code
    for code in (
        getattr(errno, name, None) for name in ("ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "EHOSTDOWN", "EADDRNOTAVAIL")
    )
    if code is not None
)


def smtp_error(
    exc: BaseException, *, action: str, host: str, port: int, timeout: float, username: str
) -> EmailConnError:
    """The typed, plain-language error for a failure while ``action`` (e.g. ``"connecting"``).

    - the server refused AUTH -> :class:`AuthenticationError`;
    - TLS failures (certificate, host name, handshake) -> :class:`SecurityError`;
    - no answer in time -> :class:`OperationTimeoutError`;
    - unknown host, refused or unreachable port, dropped connection -> :class:`ConnectionFailedError`;
    - a 4xx / 5xx reply -> :class:`ServerError` carrying the code.
    """
    where = f"the SMTP server {host}:{port}"
    if isinstance(exc, EmailConnError):
        return exc
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return AuthenticationError(
            f"{where} refused the login for {username!r}: wrong username or password "
            "(some providers need an app password)."
        )
    if isinstance(exc, TimeoutError):  # aiosmtplib's timeouts are TimeoutErrors too
        return OperationTimeoutError(f"{where} did not answer within {timeout:g} s while {action}.")
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):  # the greeting was not "220"
        return ConnectionFailedError(f"{where} refused the session ({exc.code} {exc.message}).")
    if isinstance(exc, aiosmtplib.SMTPConnectError):
        cause = exc.__cause__
        if isinstance(cause, OSError) and not isinstance(cause, aiosmtplib.SMTPServerDisconnected):
            return _network_error(cause, where, host, port, action, connecting=True)
        return ConnectionFailedError(f"{where} closed the connection before greeting: check the port and encryption.")
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return ConnectionFailedError(f"{where} closed the connection while {action}.")
    if isinstance(exc, OSError):
        return _network_error(exc, where, host, port, action, connecting=False)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return ServerError(f"{where} refused {action}: {exc.code} {exc.message}", response=exc.code)
    return ServerError(f"{where} failed while {action}: {exc}")


def _network_error(exc: OSError, where: str, host: str, port: int, action: str, *, connecting: bool) -> EmailConnError:
    if isinstance(exc, ssl.SSLError):  # an EOF in the handshake too: usually a port without implicit TLS
        return security_error(exc, host=host, port=port, protocol="SMTP")
    if isinstance(exc, socket.gaierror):
        return ConnectionFailedError(f"could not resolve the SMTP host {host!r}: check the host name.")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionFailedError(f"{where} refused the connection: check the host, port and encryption.")
    if isinstance(exc, ConnectionError):  # reset, aborted, broken pipe
        return ConnectionFailedError(f"{where} closed the connection while {action}.")
    if exc.errno in _UNREACHABLE:
        return ConnectionFailedError(f"could not reach {where} ({exc.strerror}): check the host name and your network.")
    if connecting:
        return ConnectionFailedError(
            f"could not connect to {where} ({exc.strerror or exc}): check the host, port and encryption."
        )
    return ConnectionFailedError(f"{where} closed the connection while {action}.")
