"""A small local OAuth 2.0 authorization server for the suite (http on 127.0.0.1, or https with
the test CA). Endpoints:

- ``POST /device``      RFC 8628 device authorization (device_code, user_code, verification_uri, interval)
- ``GET  /authorize``   authorization code with PKCE (RFC 7636): redirects at once, approving as
                        ``browser_user`` (or ``error=access_denied`` when that is None)
- ``POST /token``       grants: device_code, authorization_code, refresh_token (rotating by default)
- ``POST /revoke``      RFC 7009
- ``POST /introspect``  RFC 7662 (what Dovecot's oauth2 passdb and the SMTP test server ask)
- ``GET  /verify``      the page a person would open (a stub)

The "person" is the test: :meth:`approve` / :meth:`deny` a user code. Tokens expire after
``access_lifetime`` seconds. ``token_fault`` makes the token endpoint misbehave: "garbage"
(a 200 HTML page), "500", "hang" (sleeps ``hang_seconds``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .certs import ServerCert
from .ports import HOST

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class Issued:
    user: str
    client_id: str
    scope: str
    expires: float
    revoked: bool = False


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires: float
    state: str = "pending"  # pending | approved | denied | used
    user: str | None = None
    slow_downs: int = 0


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scope: str
    user: str
    used: bool = False


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    access: dict[str, Issued] = field(default_factory=dict)
    refresh: dict[str, Issued] = field(default_factory=dict)
    devices: dict[str, DeviceCode] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


class OAuthServer:
    def __init__(self, *, client_id: str = "test-client", tls: ServerCert | None = None) -> None:
        self.client_id = client_id
        self.client_secret: str | None = None
        """When set, token requests must carry it (client_secret_post or basic)."""
        self.access_lifetime = 3600.0
        self.device_lifetime = 600.0
        self.interval: float = 0.05
        self.rotate_refresh_tokens = True
        self.browser_user: str | None = "alice@example.org"
        self.token_fault: str | None = None
        self.device_fault: str | None = None
        self.hang_seconds = 30.0
        self.slow_down_first = 0
        """Answer ``slow_down`` to the first N polls of each device code."""
        self.state = _State()
        self._tls = tls
        self._server = _Server((HOST, 0), self, tls.server_context() if tls else None)
        self.port: int = self._server.server_address[1]

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> OAuthServer:
        threading.Thread(target=self._server.serve_forever, daemon=True, name="test-oauth").start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.state = _State()
        self.access_lifetime, self.interval, self.rotate_refresh_tokens = 3600.0, 0.05, True
        self.browser_user, self.token_fault, self.device_fault, self.slow_down_first = (
            "alice@example.org", None, None, 0,
        )  # fmt: skip
        self.client_secret = None

    @property
    def base(self) -> str:
        return f"{'https' if self._tls else 'http'}://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    # -- the person at the browser ---------------------------------------------------------------
    def approve(self, user_code: str, user: str = "alice@example.org") -> None:
        with self.state.lock:
            device = next(d for d in self.state.devices.values() if d.user_code == user_code)
            device.state, device.user = "approved", user

    def deny(self, user_code: str) -> None:
        with self.state.lock:
            next(d for d in self.state.devices.values() if d.user_code == user_code).state = "denied"

    # -- facts for tests -------------------------------------------------------------------------
    def revoke_all(self, user: str | None = None) -> None:
        with self.state.lock:
            for issued in [*self.state.access.values(), *self.state.refresh.values()]:
                if user is None or issued.user == user:
                    issued.revoked = True

    def expire_access_tokens(self) -> None:
        with self.state.lock:
            for issued in self.state.access.values():
                issued.expires = time.time() - 1

    def active(self, token: str) -> Issued | None:
        with self.state.lock:
            issued = self.state.access.get(token)
            if issued is None or issued.revoked or issued.expires < time.time():
                return None
            return issued

    def grants(self, grant_type: str) -> int:
        """How many token requests of this grant type arrived."""
        with self.state.lock:
            return sum(
                1 for path, form in self.state.requests if path == "/token" and form.get("grant_type") == grant_type
            )

    def issue(self, user: str = "alice@example.org", *, lifetime: float | None = None) -> str:
        """An access token minted directly (for server tests)."""
        token = "at-" + secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.access[token] = Issued(
                user, self.client_id, "mail", time.time() + (lifetime or self.access_lifetime)
            )
        return token

    # -- endpoints -------------------------------------------------------------------------------
    def _tokens(self, user: str, client_id: str, scope: str) -> dict[str, Any]:
        access = "at-" + secrets.token_urlsafe(24)
        refresh = "rt-" + secrets.token_urlsafe(24)
        now = time.time()
        self.state.access[access] = Issued(user, client_id, scope, now + self.access_lifetime)
        self.state.refresh[refresh] = Issued(user, client_id, scope, now + 86400)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.access_lifetime) if self.access_lifetime >= 1 else self.access_lifetime,
            "refresh_token": refresh,
            "scope": scope,
        }

    def _client_ok(self, form: dict[str, str], auth: str | None) -> bool:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if auth and auth.lower().startswith("basic "):
            decoded = base64.b64decode(auth[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        if client_id != self.client_id:
            return False
        return self.client_secret is None or secret == self.client_secret

    def device(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_client"}
        code = DeviceCode(
            "dc-" + secrets.token_urlsafe(16),
            f"{secrets.randbelow(10000):04d}-{secrets.randbelow(10000):04d}",
            form["client_id"],
            form.get("scope", ""),
            time.time() + self.device_lifetime,
        )
        with self.state.lock:
            self.state.devices[code.device_code] = code
        return 200, {
            "device_code": code.device_code,
            "user_code": code.user_code,
            "verification_uri": self.url("/verify"),
            "verification_uri_complete": self.url("/verify?user_code=" + code.user_code),
            "expires_in": self.device_lifetime,
            "interval": self.interval,
        }

    def token(self, form: dict[str, str], auth: str | None) -> tuple[int, dict[str, Any]]:
        if not self._client_ok(form, auth):
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        with self.state.lock:
            if grant == DEVICE_GRANT:
                return self._device_grant(form)
            if grant == "authorization_code":
                return self._code_grant(form)
            if grant == "refresh_token":
                return self._refresh_grant(form)
        return 400, {"error": "unsupported_grant_type"}

    def _device_grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        device = self.state.devices.get(form.get("device_code", ""))
        if device is None:
            return 400, {"error": "invalid_grant"}
        if device.expires < time.time():
            return 400, {"error": "expired_token"}
        if device.slow_downs < self.slow_down_first:
            device.slow_downs += 1
            return 400, {"error": "slow_down"}
        if device.state == "pending":
            return 400, {"error": "authorization_pending"}
        if device.state == "denied":
            return 400, {"error": "access_denied", "error_description": "The user declined."}
        if device.state == "used":
            return 400, {"error": "invalid_grant"}
        device.state = "used"
        return 200, self._tokens(device.user or "", device.client_id, device.scope)

    def _code_grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        code = self.state.codes.get(form.get("code", ""))
        if code is None or code.used or code.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if code.method != "S256" or digest != code.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        code.used = True
        return 200, self._tokens(code.user, code.client_id, code.scope)

    def _refresh_grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        old = self.state.refresh.get(form.get("refresh_token", ""))
        if old is None or old.revoked or old.expires < time.time():
            return 400, {"error": "invalid_grant", "error_description": "The refresh token is revoked or expired."}
        tokens = self._tokens(old.user, old.client_id, old.scope)
        if self.rotate_refresh_tokens:
            old.revoked = True
        else:
            del self.state.refresh[tokens.pop("refresh_token")]
        return 200, tokens

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        redirect = query.get("redirect_uri", "")
        state = query.get("state", "")
        if query.get("client_id") != self.client_id or not redirect.startswith(
            ("http://127.0.0.1", "http://localhost")
        ):
            return 400, ""
        if self.browser_user is None:
            return 302, redirect + "?" + urlencode({"error": "access_denied", "state": state})
        code = "ac-" + secrets.token_urlsafe(16)
        with self.state.lock:
            self.state.codes[code] = AuthCode(
                query["client_id"], redirect, query.get("code_challenge", ""),
                query.get("code_challenge_method", "plain"), query.get("scope", ""), self.browser_user,
            )  # fmt: skip
        return 302, redirect + "?" + urlencode({"code": code, "state": state})

    def revoke(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        token = form.get("token", "")
        with self.state.lock:
            for table in (self.state.access, self.state.refresh):
                if token in table:
                    table[token].revoked = True
        return 200, {}

    def introspect(self, form: dict[str, str], auth: str | None) -> tuple[int, dict[str, Any]]:
        token = form.get("token", "")
        if not token and auth and auth.lower().startswith("bearer "):
            token = auth[7:]
        issued = self.active(token)
        if issued is None:
            return 200, {"active": False}
        return 200, {
            "active": True,
            "username": issued.user,
            "email": issued.user,
            "sub": issued.user,
            "client_id": issued.client_id,
            "scope": issued.scope,
            "exp": int(issued.expires),
            "token_type": "Bearer",
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: OAuthServer, tls: Any) -> None:
        self.owner = owner
        self.tls = tls
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except OSError:
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        path = urlsplit(self.path).path
        auth = self.headers.get("Authorization")
        with owner.state.lock:
            owner.state.requests.append((path, form))
        if path == "/token" and owner.token_fault:
            self._fault(owner.token_fault)
            return
        if path == "/device" and owner.device_fault:
            self._fault(owner.device_fault)
            return
        handlers = {
            "/device": lambda: owner.device(form),
            "/token": lambda: owner.token(form, auth),
            "/revoke": lambda: owner.revoke(form),
            "/introspect": lambda: owner.introspect(form, auth),
        }
        if path not in handlers:
            self._reply(404, b'{"error": "not_found"}')
            return
        status, data = handlers[path]()
        self._reply(status, json.dumps(data).encode())

    def _fault(self, fault: str) -> None:
        if fault == "hang":
            time.sleep(self.server.owner.hang_seconds)
        if fault == "500":
            self._reply(500, b"<html>Internal Server Error</html>", "text/html")
        else:
            self._reply(200, b"<html>Welcome to our portal!</html>", "text/html")

    def do_GET(self) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with owner.state.lock:
            owner.state.requests.append((parts.path, query))
        if parts.path == "/authorize":
            status, location = owner.authorize(query)
            if status == 302:
                self._reply(302, b"", "text/plain", Location=location)
            else:
                self._reply(400, b"bad request", "text/plain")
        elif parts.path == "/introspect":  # Dovecot's introspection_mode = get / auth
            status, data = owner.introspect(query, self.headers.get("Authorization"))
            self._reply(status, json.dumps(data).encode())
        elif parts.path == "/verify":
            self._reply(200, b"<html>Enter the code</html>", "text/html")
        else:
            self._reply(404, b"not found", "text/plain")
