"""The sign-in flow object that :func:`sign_in` returns: status, wait / wait_async, cancel.

The work (polling the token endpoint, or listening for the browser's redirect) runs in a
background thread, so a notebook stays responsive and the form can show a live status; the
result is kept and :meth:`wait` raises the same typed error for every caller.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from ..config import ConnectionConfig
from ..errors import AuthenticationError, EmailConnError, InvalidInputError, OperationTimeoutError
from . import tokens

log = logging.getLogger("nb_email_conn.oauth")

Status = Literal["pending", "signed_in", "denied", "expired", "failed", "cancelled"]


class SignInFlow:
    """One sign-in in progress. ``status``: pending, signed_in, denied, expired, failed, cancelled.

    Device code: show ``verification_uri`` and ``user_code`` (valid until ``expires_at``).
    Browser: open ``authorization_url``; the redirect comes back to a listener on this machine,
    or paste the address the browser ended on into :meth:`complete`.
    """

    method: Literal["device", "browser"]
    verification_uri: str | None = None
    verification_uri_complete: str | None = None
    user_code: str | None = None
    authorization_url: str | None = None
    redirect_uri: str | None = None
    message: str | None = None

    def __init__(self, config: ConnectionConfig, *, session_only: bool, expires_in: float) -> None:
        self.config = config
        self.provider = tokens.provider_of(config)
        self._session_only = session_only
        self.expires_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=expires_in)
        self._deadline = time.monotonic() + expires_in
        self._done = threading.Event()
        self._cancel = threading.Event()
        self._status: Status = "pending"
        self._error: EmailConnError | None = None
        self._listeners: list[Callable[[SignInFlow], None]] = []
        self._lock = threading.Lock()

    # -- state ------------------------------------------------------------------------------------
    @property
    def status(self) -> Status:
        return self._status

    @property
    def error(self) -> str | None:
        """What went wrong, in words (never a token)."""
        return str(self._error) if self._error is not None else None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def on_change(self, callback: Callable[[SignInFlow], None]) -> None:
        """Call ``callback(flow)`` (from the flow's thread) when the status changes."""
        with self._lock:
            self._listeners.append(callback)
            finished = self._done.is_set()
        if finished:
            callback(self)

    def _finish(self, status: Status, error: EmailConnError | None = None) -> None:
        with self._lock:
            if self._done.is_set():
                return
            self._status, self._error = status, error
            self._done.set()
            listeners = list(self._listeners)
        if error is not None:
            log.info("OAuth sign-in of %r ended: %s", self.config.name, status)
        for callback in listeners:
            try:
                callback(self)
            except Exception:  # a display callback must not break the sign-in
                log.exception("sign-in status callback failed")

    def _granted(self, token: dict[str, Any]) -> None:
        """Keep the tokens (the refresh token in the secret store) and finish."""
        try:
            tokens.remember(self.config, token, session_only=self._session_only)
        except EmailConnError as exc:
            self._finish("failed", exc)
            return
        self._finish("signed_in")

    def _fail(self, exc: EmailConnError) -> None:
        error = getattr(exc, "error", None)
        denied = error in ("access_denied", "authorization_declined")  # the RFC's name, then Microsoft's
        status: Status = "denied" if denied else "expired" if error == "expired_token" else "failed"
        self._finish(status, exc)

    # -- waiting ----------------------------------------------------------------------------------
    def _outcome(self) -> None:
        if self._status == "signed_in":
            return
        raise self._error or AuthenticationError("the sign-in was cancelled.")

    def wait(self, timeout: float | None = None) -> None:
        """Block until signed in. Raises :class:`AuthenticationError` when the sign-in is denied,
        expires or fails, :class:`OperationTimeoutError` when ``timeout`` seconds pass first
        (the sign-in goes on; wait again)."""
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
            raise InvalidInputError("timeout must be a number of seconds.", field="timeout")
        if not self._done.wait(timeout):
            raise OperationTimeoutError(self._still_waiting(timeout))
        self._outcome()

    async def wait_async(self, timeout: float | None = None) -> None:
        """Awaitable :meth:`wait` (never blocks the event loop)."""
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
            raise InvalidInputError("timeout must be a number of seconds.", field="timeout")
        end = None if timeout is None else time.monotonic() + timeout
        while not self._done.is_set():
            if end is not None and time.monotonic() >= end:
                raise OperationTimeoutError(self._still_waiting(timeout))
            await asyncio.sleep(0.05)
        self._outcome()

    def _still_waiting(self, timeout: float | None) -> str:
        until = self.expires_at.astimezone().strftime("%H:%M:%S")
        return f"still waiting for the {self.provider.name} sign-in after {timeout:g} s (it stays open until {until})."

    def cancel(self) -> None:
        """Stop waiting for this sign-in; nothing is stored."""
        self._cancel.set()
        self._finish("cancelled", AuthenticationError("the sign-in was cancelled."))

    def complete(self, url: str) -> None:
        """Browser sign-in only: finish with the address the browser was redirected to."""
        raise InvalidInputError("complete(url) is for method='browser' sign-ins.", field="url")

    # -- display ----------------------------------------------------------------------------------
    def instructions(self) -> str:
        if self.method == "device":
            return f"Open {self.verification_uri} and enter the code {self.user_code}."
        return f"Open {self.authorization_url} and sign in."

    def __repr__(self) -> str:
        return f"<SignInFlow {self.method} {self.provider.name} {self.config.name!r} {self._status}>"

    def __str__(self) -> str:
        return self.instructions()

    def _repr_html_(self) -> str:
        if self.method == "device":
            link = html.escape(self.verification_uri or "")
            return (
                f"<div>Sign in to <b>{html.escape(self.provider.name)}</b>: open "
                f'<a href="{link}" target="_blank" rel="noopener">{link}</a> and enter '
                f"<code style='font-size:1.3em'>{html.escape(self.user_code or '')}</code> "
                f"(status: {self._status})</div>"
            )
        link = html.escape(self.authorization_url or "")
        return (
            f"<div>Sign in to <b>{html.escape(self.provider.name)}</b>: "
            f'<a href="{link}" target="_blank" rel="noopener">open the sign-in page</a>. '
            "If the browser is not on this machine, paste the address it ends on into "
            f"<code>flow.complete(url)</code>. (status: {self._status})</div>"
        )
