"""HTTPS and plain-HTTP test web servers for discovery: autoconfig hosts, .well-known files, an ISPDB.

One server answers for any host name (routes are keyed by Host header and path) on a random
loopback address 127.x.y.z, on the real ports 443 and 80 when it may bind them (root), else on
random ports (``standard_ports`` False: the test then points ``discovery.fetch.PORTS`` at them).
The certificate comes from the suite's test CA (``TestCerts.issue``) for the names given.
``requests`` records (scheme, host, path?query) of every request.
"""

from __future__ import annotations

import random
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .certs import TestCerts


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/xml"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a server that hangs)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: WebServer, tls: ssl.SSLContext | None) -> None:
        self.owner = owner
        self.tls = tls
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            request.settimeout(5)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client gave up on the handshake (an untrusted certificate)
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up early (discovery's size cap, its timeout) is expected


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        scheme = "https" if self.server.tls is not None else "http"
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path, _, _query = self.path.partition("?")
        with owner.lock:
            owner.requests.append((scheme, host, self.path))
            response = owner.routes.get((scheme, host, path)) or owner.routes.get(("*", host, path))
        if response is None:
            response = Response(404, b"not found", "text/plain")
        if response.delay:
            time.sleep(response.delay)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(response.body)


def _loopback_address() -> str:
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


class WebServer:
    def __init__(self, certs: TestCerts, names: list[str]) -> None:
        self.lock = threading.Lock()
        self.routes: dict[tuple[str, str, str], Response] = {}
        self.requests: list[tuple[str, str, str]] = []
        cert = certs.issue(*names)
        self._servers: list[_Server] = []
        self.address, self.https_port, self.http_port = self._bind(cert.server_context())
        self.standard_ports = (self.https_port, self.http_port) == (443, 80)

    def _bind(self, context: ssl.SSLContext) -> tuple[str, int, int]:
        for _ in range(20):
            address = _loopback_address()
            try:
                servers = [_Server((address, 443), self, context), _Server((address, 80), self, None)]
            except PermissionError:
                break  # not allowed to bind low ports: random ports on 127.0.0.1
            except OSError:
                continue
            self._servers = servers
            return address, 443, 80
        self._servers = [_Server(("127.0.0.1", 0), self, context), _Server(("127.0.0.1", 0), self, None)]
        return "127.0.0.1", self._servers[0].server_address[1], self._servers[1].server_address[1]

    def start(self) -> WebServer:
        for server in self._servers:
            threading.Thread(target=server.serve_forever, name="test-web", daemon=True).start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def route(self, host: str, path: str, response: Response, *, scheme: str = "*") -> None:
        with self.lock:
            self.routes[(scheme, host.lower(), path)] = response

    def reset(self) -> None:
        with self.lock:
            self.routes.clear()
            self.requests.clear()

    def url(self, host: str, path: str = "/", *, scheme: str = "https") -> str:
        port = self.https_port if scheme == "https" else self.http_port
        default = 443 if scheme == "https" else 80
        netloc = host if port == default else f"{host}:{port}"
        return f"{scheme}://{netloc}{path}"
