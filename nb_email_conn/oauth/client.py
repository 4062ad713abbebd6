"""HTTP to the authorization server, through authlib's OAuth 2.0 client (requests integration).

authlib builds and parses every grant (device code, authorization code with PKCE, refresh,
revocation) and the client authentication; we give it a TLS context with the system CAs plus
``ca_file`` and TLS 1.2 at least, a timeout on every request, and translate its errors into
the package's typed errors. Tokens never appear in a message: authlib's errors carry only the
server's error code and description, and requests' carry the endpoint URL (tokens travel in
POST bodies, never in URLs).
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Iterator
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from requests.adapters import HTTPAdapter

from ..config import ConnectionConfig
from ..errors import (
    AuthenticationError,
    ConnectionFailedError,
    EmailConnError,
    OperationTimeoutError,
    SecurityError,
    ServerError,
)
from ..tls import make_context
from .provider import OAuthProvider

log = logging.getLogger("nb_email_conn.oauth")

_ADVICE: dict[str, str] = {
    "access_denied": "the sign-in was declined. Run nec.sign_in(cfg) again to retry.",
    "authorization_declined": "the sign-in was declined. Run nec.sign_in(cfg) again to retry.",
    "expired_token": "the sign-in code expired before it was used. Run nec.sign_in(cfg) again.",
    "invalid_grant": "the provider no longer accepts this sign-in (revoked, expired or already used). "
    "Sign in again with nec.sign_in(cfg).",
    "invalid_client": "the provider does not accept this client id (or client secret). Check the app "
    "registration and the OAuthProvider settings.",
    "unauthorized_client": "this app registration may not use this kind of sign-in. Allow public client "
    "flows (device code) or add the redirect URI in the app registration.",
    "invalid_scope": "the provider refused the requested scopes. Check the OAuthProvider scopes and the "
    "API permissions of the app registration.",
}


class OAuthProtocolError(AuthenticationError):
    """The authorization server answered with an OAuth error code (``.error``)."""

    def __init__(self, message: str, *, error: str) -> None:
        super().__init__(message)
        self.error = error


class _ContextAdapter(HTTPAdapter):
    """requests with our SSLContext: system CAs + ca_file, TLS 1.2 minimum."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def session(config: ConnectionConfig, provider: OAuthProvider, **options: Any) -> OAuth2Session:
    """An authlib session for ``provider`` with the connection's TLS settings and timeout."""
    secret = provider.client_secret.reveal() if provider.client_secret else None
    client = OAuth2Session(
        client_id=provider.client_id,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_post" if secret else "none",
        revocation_endpoint_auth_method="client_secret_post" if secret else "none",
        scope=" ".join(provider.scopes),
        default_timeout=config.timeout,
        **options,
    )
    client.trust_env = False  # no proxy or .netrc credentials picked up from the environment
    client.mount("https://", _ContextAdapter(make_context(config)))
    client.verify = config.verify_tls
    client.headers["User-Agent"] = "nb-email-conn"
    return client


def protocol_error(error: str, description: str | None, provider: OAuthProvider) -> OAuthProtocolError:
    advice = _ADVICE.get(error, "sign in again with nec.sign_in(cfg).")
    detail = f" ({description.strip()[:300]})" if description and description.strip() else ""
    return OAuthProtocolError(f"{provider.name} sign-in: {error}{detail}: {advice}", error=error)


@contextlib.contextmanager
def talking_to(provider: OAuthProvider, what: str, url: str, timeout: float) -> Iterator[None]:
    """Translate what authlib and requests raise into the package's errors."""
    try:
        yield
    except EmailConnError:
        raise
    except OAuthError as exc:
        raise protocol_error(str(exc.error or "error"), exc.description, provider) from None
    except requests.Timeout:
        raise OperationTimeoutError(
            f"the {provider.name} sign-in server did not answer {what} within {timeout:g} s ({url})."
        ) from None
    except requests.exceptions.SSLError as exc:
        raise SecurityError(
            f"TLS with the {provider.name} sign-in server failed ({url}): {_reason(exc)}. If it uses a "
            "private CA, pass ca_file=... in the ConnectionConfig."
        ) from None
    except requests.ConnectionError as exc:
        raise ConnectionFailedError(
            f"cannot reach the {provider.name} sign-in server ({url}): {_reason(exc)}. Check the network."
        ) from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise ServerError(
            f"the {provider.name} sign-in server failed {what} (HTTP {status}, {url}); nothing was stored. "
            "Try again later.",
            response=status,
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        log.debug("unusable answer from %s: %s", url, type(exc).__name__)
        raise ServerError(
            f"the {provider.name} sign-in server gave an answer that is not OAuth 2.0 JSON {what} ({url}); "
            "nothing was stored. Check the endpoint URLs."
        ) from None


def _reason(exc: BaseException) -> str:
    """The innermost cause's class and text, short (no tokens can be in it: they are never in URLs)."""
    inner: BaseException = exc
    while inner.__cause__ is not None or (inner.__context__ is not None and not inner.__suppress_context__):
        inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
    text = str(inner.args[0]) if inner.args else type(inner).__name__
    return text[:200]


def check_token(token: Any, provider: OAuthProvider) -> dict[str, Any]:
    """A token response we can use: an access token string, a bearer type, a lifetime."""
    if not isinstance(token, dict) or not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise ServerError(f"the {provider.name} token response carries no access token; nothing was stored.")
    kind = str(token.get("token_type") or "Bearer")
    if kind.lower() != "bearer":
        raise ServerError(f"the {provider.name} token is of type {kind!r}; IMAP and SMTP need a Bearer token.")
    try:
        lifetime = float(token.get("expires_in") or 3600)
    except (TypeError, ValueError):
        lifetime = 3600.0
    result = dict(token)
    result["expires_in"] = max(1.0, lifetime)
    refresh = token.get("refresh_token")
    if refresh is not None and (not isinstance(refresh, str) or any(c in refresh for c in "\r\n\x00")):
        raise ServerError(f"the {provider.name} refresh token is malformed; nothing was stored.")
    return result
