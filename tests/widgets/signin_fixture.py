"""The sign-in entries of widget_messages.json, run for real against the local authorization server.

The fixture must not change from run to run, so what the server makes up is written as fixed
stand-ins: its address (``STAND_IN``, turned into the running server's on the way in), the
user codes, the expiry time and the browser flow's query (state, PKCE challenge, redirect
port). An entry's ``oauth_server`` sets the server up (``client_secret``: it then requires
that secret); a ``complete_sign_in`` with ``url: "{redirect}"`` pastes the address the
browser would end on after the person signed in.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import requests
from servers.oauth import OAuthServer

from nb_email_conn.config import Encryption
from nb_email_conn.discovery import DiscoveredSettings
from nb_email_conn.oauth import tokens

STAND_IN = "http://127.0.0.1:40404"
CODE = "WDJB-MJHT"
EXPIRES = "2030-01-01T00:00:00+00:00"
_EXPIRES = re.compile(r'"expires_at": "[^"]+"')
_QUERY = re.compile(re.escape(STAND_IN) + r'/authorize\?[^"]*')


def found_settings(data: dict[str, Any]) -> DiscoveredSettings:
    """A ``discover`` result from its JSON form in the fixture."""
    return DiscoveredSettings(
        **{
            **data,
            "imap_encryption": Encryption(data["imap_encryption"]),
            "smtp_encryption": Encryption(data["smtp_encryption"]),
            "warnings": tuple(data.get("warnings", ())),
            "notes": tuple(data.get("notes", ())),
        }
    )


class SignInFixture:
    def __enter__(self) -> SignInFixture:
        self.server = OAuthServer().start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def inputs(self, item: dict[str, Any]) -> dict[str, Any]:
        """The entry with the running server's address; the server fresh, as the entry sets it up."""
        self.server.reset()
        tokens._cache.clear()
        self.server.client_secret = item.get("oauth_server", {}).get("client_secret")
        result: dict[str, Any] = json.loads(json.dumps(item).replace(STAND_IN, self.server.base))
        return result

    def params(self, manager: Any, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("url") != "{redirect}":
            return params
        # The person signs in; the browser is sent to the loopback redirect, whose address is pasted.
        response = requests.get(manager.sign_in["authorization_url"], allow_redirects=False, timeout=5)
        return {**params, "url": response.headers["Location"]}

    def settle(self, manager: Any, timeout: float = 5.0) -> None:
        """A finished sign-in opens the connection from the flow's thread: wait for it."""
        end = time.monotonic() + timeout
        while manager.sign_in.get("state") == "signed_in" and not manager.connection_name:
            assert time.monotonic() < end, "the signed-in connection did not open"
            time.sleep(0.02)

    def outputs(self, produced: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(produced).replace(self.server.base, STAND_IN)
        for device in self.server.state.devices.values():
            text = text.replace(device.user_code, CODE)
        text = _EXPIRES.sub(f'"expires_at": "{EXPIRES}"', text)
        text = _QUERY.sub(STAND_IN + "/authorize?client_id=test-client&response_type=code", text)
        result: dict[str, Any] = json.loads(text)
        return result
