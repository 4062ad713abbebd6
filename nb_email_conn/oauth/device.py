"""The device authorization grant (RFC 8628): show a code, poll the token endpoint.

Polling honours the server's ``interval`` and adds 5 seconds on ``slow_down`` (§3.5);
``authorization_pending`` keeps polling; ``access_denied`` and ``expired_token`` (or the code's
own ``expires_in`` running out) end it with :class:`AuthenticationError`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..config import ConnectionConfig
from ..errors import AuthenticationError, EmailConnError, InvalidInputError, ServerError
from . import client
from .flow import SignInFlow

log = logging.getLogger("nb_email_conn.oauth")
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN = 5.0
"""Seconds added to the polling interval on each ``slow_down`` (RFC 8628 §3.5)."""


def _text(data: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value and not any(c in value for c in "\r\n\x00"):
            return value
    return None


class DeviceFlow(SignInFlow):
    method = "device"

    def __init__(self, config: ConnectionConfig, *, session_only: bool) -> None:
        provider = config.oauth
        assert provider is not None
        endpoint = provider.device_authorization_endpoint
        if endpoint is None:
            raise InvalidInputError(
                f"{provider.name} has no device_authorization_endpoint: use method='browser'.", field="method"
            )
        self._oauth = client.session(config, provider)
        data: dict[str, Any] = {"client_id": provider.client_id, "scope": " ".join(provider.scopes)}
        if provider.client_secret is not None:
            data["client_secret"] = provider.client_secret.reveal()
        with client.talking_to(provider, "the device code request", endpoint, config.timeout):
            response = self._oauth.post(endpoint, data=data, withhold_token=True, timeout=config.timeout)  # type: ignore[call-arg]
            answer = response.json()
            if isinstance(answer, dict) and "error" in answer:
                raise client.protocol_error(str(answer["error"]), answer.get("error_description"), provider)
            response.raise_for_status()
            if not isinstance(answer, dict):
                raise ValueError("not an object")
        device_code = _text(answer, "device_code")
        user_code = _text(answer, "user_code")
        # Google says verification_url; RFC 8628 says verification_uri.
        uri = _text(answer, "verification_uri", "verification_url")
        if not (device_code and user_code and uri and uri.startswith(("https://", "http://"))):
            raise ServerError(f"the {provider.name} device code answer lacks a code or a verification address.")
        try:
            expires_in = float(answer.get("expires_in") or 900)
            interval = float(answer.get("interval") or 5)
        except (TypeError, ValueError):
            expires_in, interval = 900.0, 5.0
        super().__init__(config, session_only=session_only, expires_in=max(1.0, expires_in))
        self._device_code = device_code
        self.user_code = user_code
        self.verification_uri = uri
        self.verification_uri_complete = _text(answer, "verification_uri_complete")
        self.message = _text(answer, "message")
        self.interval = interval if interval > 0 else 5.0
        threading.Thread(target=self._poll, daemon=True, name=f"nec-sign-in-{config.name}").start()

    def _poll(self) -> None:
        provider, url = self.provider, self.provider.token_endpoint
        try:
            while not self._cancel.wait(self.interval):
                if time.monotonic() >= self._deadline:
                    raise client.protocol_error("expired_token", "the code was not used in time", provider)
                try:
                    with client.talking_to(provider, "the sign-in", url, self.config.timeout):
                        token = self._oauth.fetch_token(url, grant_type=GRANT, device_code=self._device_code)
                except client.OAuthProtocolError as exc:
                    if exc.error == "authorization_pending":
                        continue
                    if exc.error == "slow_down":
                        self.interval += SLOW_DOWN
                        continue
                    raise
                self._granted(client.check_token(token, provider))
                return
        except EmailConnError as exc:
            self._fail(exc)
        except Exception as exc:  # never leave a flow pending forever
            log.exception("device sign-in failed")
            self._fail(AuthenticationError(f"the sign-in failed unexpectedly ({type(exc).__name__})."))
        finally:
            self._oauth.close()
