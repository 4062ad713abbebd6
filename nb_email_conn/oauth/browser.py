"""The authorization-code grant with PKCE (RFC 7636, S256) for a browser sign-in.

A listener on 127.0.0.1 (a random port) receives the redirect when the browser runs on the
kernel's machine; :meth:`BrowserFlow.complete` takes the pasted redirected address otherwise
(a remote JupyterHub). Either way the ``state`` must match the one this flow sent, the code is
exchanged once with the PKCE verifier, and the listener closes.
"""

from __future__ import annotations

import logging
import secrets as random_tokens
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from authlib.common.security import generate_token

from ..config import ConnectionConfig
from ..errors import EmailConnError, InvalidInputError, SecurityError
from . import client
from .flow import SignInFlow

log = logging.getLogger("nb_email_conn.oauth")
LIFETIME = 900.0
"""How long a browser sign-in waits for the redirect (seconds)."""

_DONE_PAGE = b"""<!doctype html><meta charset="utf-8"><title>Signed in</title>
<body style="font-family:sans-serif;margin:3em">%s You can close this tab and go back to Jupyter.</body>"""


class _Listener(HTTPServer):
    def __init__(self, flow: BrowserFlow) -> None:
        self.flow = flow
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Listener

    def log_message(self, format: str, *args: Any) -> None:  # the query holds the code: never log it
        pass

    def do_GET(self) -> None:
        flow = self.server.flow
        parts = urlsplit(self.path)
        if parts.path != flow.callback_path or not parts.query:
            self.send_error(404)
            return
        flow.complete_quietly(f"{flow.redirect_uri}?{parts.query}")
        text = b"Signed in." if flow.status == "signed_in" else b"The sign-in did not succeed; see the notebook."
        body = _DONE_PAGE % text
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class BrowserFlow(SignInFlow):
    method = "browser"

    def __init__(self, config: ConnectionConfig, *, session_only: bool) -> None:
        provider = config.oauth
        assert provider is not None
        if provider.authorization_endpoint is None:
            raise InvalidInputError(
                f"{provider.name} has no authorization_endpoint: use method='device'.", field="method"
            )
        super().__init__(config, session_only=session_only, expires_in=LIFETIME)
        self._listener = _Listener(self)
        port = self._listener.server_address[1]
        base = urlsplit(provider.redirect_uri or "http://127.0.0.1")
        host = base.hostname or "127.0.0.1"
        self.callback_path = base.path if base.path not in ("", "/") else "/"
        self.redirect_uri = urlunsplit(("http", f"{host}:{port}", self.callback_path, "", ""))
        self._verifier = generate_token(64)
        self._state = random_tokens.token_urlsafe(24)
        self._oauth = client.session(
            config, provider, redirect_uri=self.redirect_uri, code_challenge_method="S256", state=self._state
        )
        url, _ = self._oauth.create_authorization_url(
            provider.authorization_endpoint,
            state=self._state,
            code_verifier=self._verifier,
            **dict(provider.authorization_params),
        )
        self.authorization_url = url
        self._exchange = threading.Lock()
        threading.Thread(target=self._serve, daemon=True, name=f"nec-sign-in-{config.name}").start()
        threading.Thread(target=self._expire, daemon=True).start()

    def _serve(self) -> None:
        try:
            self._listener.serve_forever(poll_interval=0.2)
        finally:
            self._listener.server_close()

    def _expire(self) -> None:
        if not self._done.wait(LIFETIME):
            self._fail(client.protocol_error("expired_token", "no redirect arrived in time", self.provider))
        self._close()

    def _close(self) -> None:
        threading.Thread(target=self._listener.shutdown, daemon=True).start()
        self._oauth.close()

    def cancel(self) -> None:
        super().cancel()
        self._close()

    def complete(self, url: str) -> None:
        """Finish the sign-in with the address the browser ended on (``http://127.0.0.1:…/?code=…&state=…``).

        An incomplete address, or one from another sign-in (its ``state`` does not match), is
        refused and the flow keeps waiting; a denial or a refused code ends it. On success the
        tokens are stored and :meth:`wait` returns."""
        refused = self.complete_quietly(url)
        if refused is not None:
            raise refused
        self._outcome()

    def complete_quietly(self, url: str) -> EmailConnError | None:
        """:meth:`complete` without raising: the refused address's error, else None."""
        with self._exchange:
            if self._done.is_set():
                return None
            try:
                token = self._redeem(url)
            except (InvalidInputError, SecurityError) as exc:
                log.warning("a sign-in redirect was refused: %s", type(exc).__name__)
                return exc
            except EmailConnError as exc:
                self._fail(exc)
                self._close()
                return None
            self._granted(token)
        self._close()
        return None

    def _redeem(self, url: str) -> dict[str, Any]:
        if not isinstance(url, str) or any(c in url for c in "\r\n\x00") or len(url) > 8000:
            raise InvalidInputError("paste the whole address from the browser's address bar.", field="url")
        query = {k: v[0] for k, v in parse_qs(urlsplit(url.strip()).query).items()}
        if "code" not in query and "error" not in query:
            raise InvalidInputError(
                "the address has no authorization code: paste the whole address the browser ended on.", field="url"
            )
        if query.get("state") != self._state:
            raise SecurityError(
                "this address does not belong to the sign-in you started (its state does not match), so it "
                "was not used. Open flow.authorization_url again, or start a new nec.sign_in(cfg)."
            )
        if "error" in query:
            raise client.protocol_error(query["error"], query.get("error_description"), self.provider)
        code = query["code"]
        endpoint = self.provider.token_endpoint
        with client.talking_to(self.provider, "the sign-in", endpoint, self.config.timeout):
            token = self._oauth.fetch_token(
                endpoint,
                grant_type="authorization_code",
                code=code,
                redirect_uri=self.redirect_uri,
                code_verifier=self._verifier,
            )
        return client.check_token(token, self.provider)
