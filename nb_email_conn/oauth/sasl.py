"""SASL for bearer tokens: OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's and Microsoft's).

The mechanism is chosen by what the server offers (OAUTHBEARER, the standard, first). On a
refused token both mechanisms send an error challenge (base64 JSON: status, scope) that the
client must answer with a dummy response (``\\x01`` for OAUTHBEARER, an empty one for XOAUTH2)
before the server's final NO / 535. The token is only ever in the initial response.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Literal

Mechanism = Literal["OAUTHBEARER", "XOAUTH2"]
PREFERENCE: tuple[Mechanism, ...] = ("OAUTHBEARER", "XOAUTH2")


def choose(offered: Iterable[str]) -> Mechanism | None:
    """The bearer mechanism to use among the server's SASL mechanisms, or None."""
    names = {m.upper() for m in offered}
    return next((m for m in PREFERENCE if m in names), None)


def initial_response(mechanism: Mechanism, user: str, token: str, *, host: str = "", port: int = 0) -> bytes:
    if mechanism == "XOAUTH2":
        return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    where = (f"host={host}\x01" if host else "") + (f"port={port}\x01" if port else "")
    return f"n,a={authzid},\x01{where}auth=Bearer {token}\x01\x01".encode()


def abort_response(mechanism: Mechanism) -> bytes:
    """The dummy answer to the server's error challenge."""
    return b"\x01" if mechanism == "OAUTHBEARER" else b""


def describe_failure(challenge: bytes) -> str | None:
    """The server's error challenge in words ("invalid_token", scope), or None if it sent none."""
    try:
        data = json.loads(challenge.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    status = str(data.get("status", "")).strip()[:60]
    scope = str(data.get("scope", "")).strip()[:200]
    return f"{status or 'refused'}" + (f" (needs scope {scope})" if scope else "")


class Exchange:
    """A SASL conversation for imapclient's ``sasl_login``: the initial response first, then the
    dummy answer to an error challenge (whose text is kept in ``failure``)."""

    def __init__(self, mechanism: Mechanism, user: str, token: str, *, host: str = "", port: int = 0) -> None:
        self.mechanism = mechanism
        self._initial: bytes | None = initial_response(mechanism, user, token, host=host, port=port)
        self.failure: str | None = None

    def __call__(self, challenge: bytes) -> bytes:
        if self._initial is not None:
            initial, self._initial = self._initial, None
            return initial
        self.failure = describe_failure(challenge) or self.failure
        return abort_response(self.mechanism)

    def __repr__(self) -> str:
        return f"<SASL {self.mechanism}>"
