"""The SMTP test server (aiosmtpd) also accepting AUTH XOAUTH2 and OAUTHBEARER, checking each
bearer token by RFC 7662 introspection at the local authorization server, like a real provider.

A refused token gets the mechanisms' error challenge (base64 JSON, ``334``), then ``535``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.parse
import urllib.request
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult

from .certs import TestCerts
from .ports import HOST
from .smtp import SmtpMode, SmtpServer, _Controller, _Handler, _RecordingSMTP

_ERROR = json.dumps({"status": "invalid_token", "scope": "smtp"}).encode()


def parse_xoauth2(blob: bytes) -> tuple[str, str] | None:
    """(user, token) of ``user=<u>^Aauth=Bearer <t>^A^A``."""
    fields = dict(part.split("=", 1) for part in blob.decode("utf-8", "replace").split("\x01") if "=" in part)
    auth = fields.get("auth", "")
    if not auth.lower().startswith("bearer ") or "user" not in fields:
        return None
    return fields["user"], auth[7:]


def parse_oauthbearer(blob: bytes) -> tuple[str, str] | None:
    """(authzid, token) of ``n,a=<u>,^Ahost=...^Aport=...^Aauth=Bearer <t>^A^A`` (RFC 7628)."""
    text = blob.decode("utf-8", "replace")
    header, _, rest = text.partition("\x01")
    parts = header.split(",")
    if len(parts) < 2 or parts[0] not in ("n", "y"):
        return None
    user = parts[1][2:].replace("=2C", ",").replace("=3D", "=") if parts[1].startswith("a=") else ""
    fields = dict(part.split("=", 1) for part in rest.split("\x01") if "=" in part)
    auth = fields.get("auth", "")
    if not auth.lower().startswith("bearer "):
        return None
    return user, auth[7:]


class _OAuthSMTP(_RecordingSMTP):
    introspection_url: str = ""
    owner: OAuthSmtpServer

    def _record(self, connection: int, line: bytes) -> None:
        verb = line.split(b" ", 1)[0].strip().upper()
        if verb.isalpha() and len(verb) <= 10:
            super()._record(connection, line)  # SASL responses (base64 tokens) are not recorded

    async def _bearer(self, mechanism: str, args: list[str]) -> AuthResult:
        blob: Any = base64.b64decode(args[1]) if len(args) > 1 else await self.challenge_auth("")
        if not isinstance(blob, bytes):
            return AuthResult(success=False, handled=True)
        parsed = parse_xoauth2(blob) if mechanism == "XOAUTH2" else parse_oauthbearer(blob)
        user = await asyncio.get_running_loop().run_in_executor(None, self.owner.introspect, parsed)
        self.owner.record_attempt(mechanism, user)
        if user is not None:
            return AuthResult(success=True, auth_data=user)
        # The mechanisms' failure: an error challenge, the client's dummy answer, then 535.
        await self.challenge_auth(_ERROR)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid (token)")

    async def auth_XOAUTH2(self, _: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer("XOAUTH2", args)

    async def auth_OAUTHBEARER(self, _: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer("OAUTHBEARER", args)


class _OAuthController(_Controller):
    owner: OAuthSmtpServer

    def factory(self) -> SMTP:
        server = _OAuthSMTP(self.handler, recorder=self._recorder, **self._smtp_kwargs)
        server.owner = self.owner
        return server


class OAuthSmtpServer(SmtpServer):
    """``SmtpServer`` (PLAIN/LOGIN users as before) plus XOAUTH2 / OAUTHBEARER by introspection."""

    def __init__(self, mode: SmtpMode, certs: TestCerts, introspection_url: str) -> None:
        super().__init__(mode, certs)
        self.introspection_url = introspection_url
        self.oauth_attempts: list[tuple[str, str | None]] = []
        """(mechanism, user accepted or None) for every bearer-token AUTH."""

    def introspect(self, parsed: tuple[str, str] | None) -> str | None:
        if parsed is None:
            return None
        user, token = parsed
        data = urllib.parse.urlencode({"token": token}).encode()
        request = urllib.request.Request(self.introspection_url, data=data, method="POST")  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            answer = json.loads(response.read())
        if answer.get("active") is True and answer.get("username") == user:
            return user
        return None

    def record_attempt(self, mechanism: str, user: str | None) -> None:
        with self._recorder.lock:
            self.oauth_attempts.append((mechanism, user))

    def reset(self) -> None:
        super().reset()
        if hasattr(self, "oauth_attempts"):
            self.oauth_attempts.clear()

    def _controller_for(self, smtp_kwargs: dict[str, Any], controller_kwargs: dict[str, Any]) -> _Controller:
        controller = _OAuthController(
            _Handler(self._recorder), hostname=HOST, port=self.port, ready_timeout=10,
            recorder=self._recorder, smtp_kwargs=smtp_kwargs, **controller_kwargs,
        )  # fmt: skip
        controller.owner = self
        return controller

    def start(self) -> OAuthSmtpServer:
        super().start()
        return self
