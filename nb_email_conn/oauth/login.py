"""Logging in to IMAP (imapclient) and SMTP (aiosmtplib) with a bearer token, over TLS only.

``credential()`` gives the current access token; after the server refuses one, a credential
with a ``rejected()`` method (a :class:`~nb_email_conn.oauth.tokens.TokenSource`) is told so and,
when it can get a fresh token, the login is tried exactly once more on the same connection.
The token is sent only inside the SASL exchange: never logged, never in an error message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable
from typing import Any

import aiosmtplib
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from ..errors import AuthenticationError, SecurityError
from .sasl import Exchange, Mechanism, abort_response, choose, describe_failure, initial_response

log = logging.getLogger("nb_email_conn.oauth")


def _try_again(credential: Callable[[], str]) -> bool:
    rejected = getattr(credential, "rejected", None)
    return bool(rejected()) if callable(rejected) else False


def _refused(protocol: str, host: str, user: str, mechanism: str, failure: str | None, retried: bool) -> Exception:
    why = f" ({failure})" if failure else ""
    again = " even with a freshly renewed token" if retried else ""
    return AuthenticationError(
        f"the {protocol} server {host} refused the OAuth 2.0 sign-in of {user} by {mechanism}{why}{again}. "
        "The sign-in may have been revoked or lack the mail scope: sign in again with nec.sign_in(cfg)."
    )


def _no_mechanism(protocol: str, host: str, offered: list[str]) -> AuthenticationError:
    return AuthenticationError(
        f"the {protocol} server {host} offers no OAuth 2.0 sign-in (neither OAUTHBEARER nor XOAUTH2; it offers "
        f"{', '.join(offered) or 'nothing'}). Use a password (auth='password') or check the server settings."
    )


def imap_login(client: IMAPClient, capabilities: Any, *, host: str, port: int, user: str,
               credential: Callable[[], str], tls: bool) -> Mechanism:  # fmt: skip
    """AUTHENTICATE with OAUTHBEARER or XOAUTH2 (what the server offers); returns the mechanism."""
    if not tls:
        raise SecurityError("an OAuth 2.0 token is sent only over TLS; this IMAP connection has none.")
    offered = [(c.decode() if isinstance(c, bytes) else str(c)).upper() for c in capabilities]
    mechanism = choose(c[5:] for c in offered if c.startswith("AUTH="))
    if mechanism is None:
        raise _no_mechanism("IMAP", host, [c[5:] for c in offered if c.startswith("AUTH=")])
    for attempt in (1, 2):
        exchange = Exchange(mechanism, user, credential(), host=host, port=port)
        try:
            client.sasl_login(mechanism, exchange)
            return mechanism
        except LoginError:
            if attempt == 1 and _try_again(credential):
                log.info("IMAP %s refused the access token; retrying once with a renewed one", host)
                continue
            raise _refused("IMAP", host, user, mechanism, exchange.failure, attempt == 2) from None
    raise AssertionError("unreachable")  # pragma: no cover


async def smtp_login(client: aiosmtplib.SMTP, *, host: str, port: int, user: str,
                     credential: Callable[[], str], tls: bool) -> Mechanism:  # fmt: skip
    """AUTH with OAUTHBEARER or XOAUTH2 (what the server offers); returns the mechanism."""
    if not tls:
        raise SecurityError("an OAuth 2.0 token is sent only over TLS; this SMTP connection has none.")
    offered = [m.upper() for m in client.server_auth_methods]
    mechanism = choose(offered)
    if mechanism is None:
        raise _no_mechanism("SMTP", host, offered)
    for attempt in (1, 2):
        token = await asyncio.to_thread(credential)  # a renewal is a blocking HTTPS call
        failure = None
        response = await client.execute_command(b"AUTH", mechanism.encode("ascii"))
        if response.code == 334:
            blob = base64.b64encode(initial_response(mechanism, user, token, host=host, port=port))
            response = await client.execute_command(blob)
        if response.code == 334:  # the error challenge: answer it, then read the final 5xx
            try:
                failure = describe_failure(base64.b64decode(response.message))
            except (binascii.Error, ValueError):
                failure = None
            response = await client.execute_command(base64.b64encode(abort_response(mechanism)))
        if response.code == 235:
            return mechanism
        if attempt == 1 and response.code in (535, 534, 454) and _try_again(credential):
            log.info("SMTP %s refused the access token; retrying once with a renewed one", host)
            continue
        raise _refused("SMTP", host, user, mechanism, failure or f"{response.code} {response.message[:120]}",
                       attempt == 2)  # fmt: skip
    raise AssertionError("unreachable")  # pragma: no cover
