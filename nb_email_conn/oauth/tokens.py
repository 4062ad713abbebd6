"""Tokens of OAuth connections: the refresh token in the secret store (keyring or session-only),
access tokens in this process's memory only, refreshed before they expire and once more after a
server rejects one. A refused refresh removes the useless refresh token and says to sign in again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from .. import secrets
from ..config import ConnectionConfig
from ..errors import AuthenticationError, InvalidInputError
from ..secrets import Secret
from .provider import OAuthProvider

log = logging.getLogger("nb_email_conn.oauth")

EARLY = 60.0
"""Refresh this many seconds before expiry (a quarter of the lifetime for short-lived tokens)."""


@dataclass(frozen=True)
class _Access:
    token: Secret
    expires_at: float
    refresh_at: float


_cache: dict[tuple[str, str], _Access] = {}
_locks: dict[tuple[str, str], threading.Lock] = {}
_guard = threading.Lock()


def provider_of(config: ConnectionConfig) -> OAuthProvider:
    if config.auth != "oauth2" or config.oauth is None:
        raise InvalidInputError(
            f"connection {config.name!r} signs in with a password; OAuth needs ConnectionConfig(auth='oauth2', "
            "oauth=nec.OAuthProvider...).",
            field="auth",
        )
    return config.oauth


def _key(config: ConnectionConfig) -> tuple[str, str]:
    return (config.name, provider_of(config).key)


def _lock(key: tuple[str, str]) -> threading.Lock:
    with _guard:
        return _locks.setdefault(key, threading.Lock())


def remember(config: ConnectionConfig, token: dict[str, Any], *, session_only: bool | None = None) -> None:
    """Keep what a grant returned: the access token in memory, the refresh token in the store.

    ``session_only=None`` keeps a rotated refresh token where the old one was."""
    key = _key(config)
    lifetime = float(token["expires_in"])
    now = time.time()
    access = _Access(Secret(str(token["access_token"])), now + lifetime, now + lifetime - min(EARLY, lifetime / 4))
    refresh = token.get("refresh_token")
    if refresh:
        if session_only is None:
            session_only = secrets.secret_location("refresh_token", config.name) == "session"
        secrets.store_secret("refresh_token", config.name, str(refresh), session_only=session_only)
    with _guard:
        _cache[key] = access


def _drop_access(name: str) -> None:
    with _guard:
        for key in [k for k in _cache if k[0] == name]:
            del _cache[key]


secrets.forget_hooks.append(_drop_access)  # forget_connection drops the access tokens too


def forget(config: ConnectionConfig) -> None:
    """Drop the access token from memory and the refresh token from the store."""
    _drop_access(config.name)
    secrets.forget_secret("refresh_token", config.name)


def signed_in(config: ConnectionConfig) -> Literal["keyring", "session"] | None:
    """Where this connection's refresh token is kept, or None when it is not signed in."""
    return secrets.secret_location("refresh_token", config.name)


class TokenSource:
    """What IMAP and SMTP call for a credential on an OAuth connection: ``source()`` is a valid
    access token; ``source.rejected()`` after the server refused one (True: try once more)."""

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self.provider = provider_of(config)

    def __call__(self) -> str:
        return self.access_token()

    def __repr__(self) -> str:
        return f"<TokenSource {self.config.name!r} {self.provider.name}>"

    def access_token(self) -> str:
        key = _key(self.config)
        with _lock(key):
            access = _cache.get(key)
            if access is not None and time.time() < access.refresh_at:
                return access.token.reveal()
            return self._refresh(key)

    def rejected(self) -> bool:
        """The server refused the current access token: forget it. True when a refresh token can
        get a new one (the caller tries once more), False when only signing in again helps."""
        key = _key(self.config)
        with _guard:
            _cache.pop(key, None)
        return secrets.get_secret("refresh_token", self.config.name) is not None

    def _refresh(self, key: tuple[str, str]) -> str:
        name = self.config.name
        refresh = secrets.get_secret("refresh_token", name)
        if refresh is None:
            raise AuthenticationError(
                f"connection {name!r} is not signed in to {self.provider.name} (or its sign-in ended): "
                "run flow = nec.sign_in(cfg), then flow.wait()."
            )
        from . import client  # authlib and requests load only when a token must be renewed

        provider = self.provider
        oauth = client.session(self.config, provider)
        url = provider.token_endpoint
        try:
            with client.talking_to(provider, "refreshing the access token", url, self.config.timeout):
                token = client.check_token(oauth.refresh_token(url, refresh_token=refresh), provider)
        except client.OAuthProtocolError as exc:
            if exc.error in ("invalid_grant", "invalid_token", "unauthorized_client"):
                forget(self.config)  # the refresh token is dead: nothing useful is kept
                raise AuthenticationError(
                    f"{provider.name} refused to renew the sign-in of connection {name!r} (it was revoked or "
                    "expired): sign in again with nec.sign_in(cfg)."
                ) from None
            raise
        finally:
            oauth.close()
        if token.get("refresh_token") == refresh:
            token.pop("refresh_token")
        remember(self.config, token)
        log.info("OAuth access token of %r renewed (valid %.0f s)", name, float(token["expires_in"]))
        with _guard:
            return _cache[key].token.reveal()
