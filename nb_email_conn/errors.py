"""The exception hierarchy: one base, typed subclasses that also inherit the built-in
they correspond to, so ``except ConnectionError`` or ``except ValueError`` keep working.

Messages say what to do next and never contain a secret.
"""

from __future__ import annotations

from typing import Any


class EmailConnError(Exception):
    """Base class of every error raised by nb-email-conn."""


class AuthenticationError(EmailConnError):
    """The server refused the username or password."""


class SecurityError(EmailConnError):
    """TLS could not be established as configured (STARTTLS missing or refused,
    certificate not trusted, host name mismatch, PREAUTH on a connection that needs TLS)."""


class ConnectionFailedError(EmailConnError, ConnectionError):
    """The server could not be reached, or dropped the connection."""


class OperationTimeoutError(EmailConnError, TimeoutError):
    """The server did not answer within the configured timeout."""


class InvalidInputError(EmailConnError, ValueError):
    """An argument is not acceptable (control characters, bad address, unknown folder,
    invalid setting). Nothing was sent to the server."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StaleReferenceError(EmailConnError):
    """A message ref no longer names the same message (the folder's UIDVALIDITY changed,
    or the message is gone). Search again to get fresh refs."""

    def __init__(self, message: str, *, ref: str | None = None) -> None:
        super().__init__(message)
        self.ref = ref


class FunctionDisabledError(EmailConnError, PermissionError):
    """The function's policy is Disabled; nothing was sent to the server."""

    def __init__(self, function: str) -> None:
        super().__init__(
            f"{function} is disabled for this connection. Change its policy "
            f"(conn.policies[{function!r}] = 'enabled' or 'confirm') to use it."
        )
        self.function = function


class ActionRejectedError(EmailConnError):
    """A reviewer rejected a call that needed confirmation."""

    def __init__(self, function: str, reason: str | None = None, *, decided_by: str | None = None) -> None:
        text = f"{function} was rejected by the reviewer"
        text += f": {reason}" if reason else "."
        super().__init__(text)
        self.function = function
        self.reason = reason
        self.decided_by = decided_by


class GuardrailError(EmailConnError, PermissionError):
    """A call breaks the connection's guardrails (recipients, recipients per message, sends
    per hour). Checked before any reviewer is asked and before any traffic; no approval lifts it."""

    def __init__(self, function: str, rule: str, detail: str, *, recipients: list[str] | None = None) -> None:
        super().__init__(
            f"{function} was refused by the guardrails ({rule}): {detail}. Nothing was sent. "
            "Guardrails are set in conn.guardrails; no approval or tool argument lifts them."
        )
        self.function = function
        self.rule = rule
        self.recipients = list(recipients or [])


class SecretStoreError(EmailConnError):
    """The password could not be read from or written to the secret store (keyring)."""


class ServerError(EmailConnError):
    """The server answered a command with an error (IMAP NO/BAD, SMTP 4xx/5xx)."""

    def __init__(self, message: str, *, response: Any = None) -> None:
        super().__init__(message)
        self.response = response


class OutcomeUnknownError(EmailConnError):
    """The connection broke while a non-idempotent action (send, append, move) was in
    flight: it may or may not have happened. It is never retried automatically."""


__all__ = [
    "ActionRejectedError",
    "AuthenticationError",
    "ConnectionFailedError",
    "EmailConnError",
    "FunctionDisabledError",
    "GuardrailError",
    "InvalidInputError",
    "OperationTimeoutError",
    "OutcomeUnknownError",
    "SecretStoreError",
    "SecurityError",
    "ServerError",
    "StaleReferenceError",
]
