"""One small HTTP(S) GET for discovery: the host resolved through discovery's resolver, the
certificate verified (system CAs plus ``ca_file``), TLS 1.2 at least, a size cap, a few
redirects, every step within the call's deadline. Any failure is "nothing found here"."""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .resolver import Resolver

log = logging.getLogger("nb_email_conn.discovery")

PORTS = {"https": 443, "http": 80}
"""The ports of URLs that name none (tests without the right to bind 443 change these)."""
MAX_BYTES = 256 * 1024
MAX_REDIRECTS = 3
USER_AGENT = "nb-email-conn (mail settings discovery)"


@dataclass(frozen=True)
class Fetched:
    url: str
    """The final address, after redirects."""
    body: bytes
    https: bool
    """True only when the request and every redirect used verified HTTPS."""


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _get_once(url: str, resolver: Resolver, context: ssl.SSLContext) -> tuple[int, str | None, bytes]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or PORTS[parts.scheme]
    sock: socket.socket = resolver.connect(host, port)
    try:
        if parts.scheme == "https":
            sock = context.wrap_socket(sock, server_hostname=host)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: application/xml, text/xml;q=0.9, */*;q=0.1\r\nConnection: close\r\n\r\n"
        )
        sock.settimeout(resolver.deadline.step(resolver.step_limit))
        sock.sendall(request.encode("ascii"))
        response = http.client.HTTPResponse(sock, method="GET")
        response.begin()
        location = response.getheader("Location")
        body = response.read(MAX_BYTES + 1) if response.status == 200 else b""
        if len(body) > MAX_BYTES:
            raise ValueError(f"response larger than {MAX_BYTES} bytes")
        return response.status, location, body
    finally:
        sock.close()


def fetch(url: str, resolver: Resolver, context: ssl.SSLContext) -> Fetched | None:
    """GET ``url`` (following up to three redirects); None when it fails or is not 200."""
    https = url.startswith("https://")
    for _ in range(MAX_REDIRECTS + 1):
        if resolver.deadline.expired:
            return None
        try:
            status, location, body = _get_once(url, resolver, context)
        except (OSError, ssl.SSLError, http.client.HTTPException, ValueError, UnicodeError) as exc:
            log.info("discovery: GET %s failed: %s: %s", url, type(exc).__name__, exc)
            return None
        if status in (301, 302, 303, 307, 308) and location:
            target = urljoin(url, location.strip())
            if urlsplit(target).scheme not in ("http", "https"):
                return None
            https = https and target.startswith("https://")
            url = target
            continue
        if status != 200:
            log.info("discovery: GET %s answered %s", url, status)
            return None
        return Fetched(url, body, https)
    return None
