"""``nec.sign_in(cfg)`` and ``nec.sign_out(cfg)``."""

from __future__ import annotations

import logging
from typing import Literal

from .. import secrets
from ..config import ConnectionConfig
from ..errors import EmailConnError, InvalidInputError, SecretStoreError
from . import client, tokens
from .browser import BrowserFlow
from .device import DeviceFlow
from .flow import SignInFlow

log = logging.getLogger("nb_email_conn.oauth")


def sign_in(
    config: ConnectionConfig,
    method: Literal["device", "browser"] | None = None,
    *,
    session_only: bool = False,
) -> SignInFlow:
    """Start signing ``config`` in with its OAuth provider; returns the flow at once.

    ``method="device"`` (RFC 8628): show ``flow.verification_uri`` and ``flow.user_code``.
    ``method="browser"`` (authorization code + PKCE): open ``flow.authorization_url``; the
    redirect reaches a listener on this machine, or paste it into ``flow.complete(url)``.
    Without ``method`` the provider's default is used (Microsoft: device, Google: browser).
    Then ``flow.wait()`` (or ``await flow.wait_async()``). The refresh token goes to the
    keyring, or with ``session_only=True`` to this process's memory only.
    """
    if not isinstance(config, ConnectionConfig):
        raise InvalidInputError("sign_in needs a ConnectionConfig.", field="config")
    provider = tokens.provider_of(config)
    chosen = method or provider.default_method
    if chosen not in ("device", "browser"):
        raise InvalidInputError("method must be 'device' or 'browser'.", field="method")
    if not session_only:
        usable, description = secrets.keyring_status()
        if not usable:  # say so before the person signs in, not after
            raise SecretStoreError(
                f"the sign-in's refresh token could not be kept: {description.replace('password', 'token')} "
                "Use nec.sign_in(cfg, session_only=True) to keep it for this session only."
            )
    flow: SignInFlow = (DeviceFlow if chosen == "device" else BrowserFlow)(config, session_only=session_only)
    log.info("OAuth %s sign-in of %r started with %s", chosen, config.name, provider.name)
    return flow


def sign_out(config: ConnectionConfig) -> None:
    """Forget this connection's tokens (revoking the refresh token where the provider can)."""
    provider = tokens.provider_of(config)
    refresh = secrets.get_secret("refresh_token", config.name)
    tokens.forget(config)
    url = provider.revocation_endpoint
    if refresh and url:
        oauth = client.session(config, provider)
        try:
            with client.talking_to(provider, "the revocation", url, config.timeout):
                hint = "refresh_token"
                response = oauth.revoke_token(url, token=refresh, token_type_hint=hint)  # type: ignore[no-untyped-call]
                response.raise_for_status()
        except EmailConnError as exc:  # the local tokens are gone either way
            log.warning("the %s sign-in was forgotten here, but revoking it failed: %s", provider.name, exc)
        finally:
            oauth.close()
