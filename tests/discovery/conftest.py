"""Discovery fixtures: a local DNS server (dnslib) and local HTTPS + HTTP web servers with the
suite's test CA. Every name discovery looks up resolves through that DNS server only, so nothing
leaves the machine: the zone maps the test domains to the web server's loopback address."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from servers.certs import TestCerts
from servers.dns import DnsServer
from servers.web import WebServer

from nb_email_conn.discovery import fetch

NAMES = [
    "example.test", "*.example.test", "ispdb.test", "hoster.test", "*.hoster.test",
    "other.test", "*.other.test",
]  # fmt: skip


@pytest.fixture(scope="session")
def _dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _web(test_certs: TestCerts) -> Iterator[WebServer]:
    server = WebServer(test_certs, NAMES).start()
    yield server
    server.stop()


@dataclass
class Net:
    """The local network of a discovery test: ``dns`` (set ``zone``), ``web`` (add routes)."""

    dns: DnsServer
    web: WebServer
    ca_file: str

    @property
    def nameservers(self) -> list[str]:
        return [self.dns.nameserver]

    @property
    def ispdb_url(self) -> str:
        return self.web.url("ispdb.test", "/v1.1/")

    def zone(self, extra: str = "", *, hosts: tuple[str, ...] = ()) -> None:
        """A zone where ``hosts`` have the web server's address, plus ``extra`` zone lines."""
        lines = [f"{host}. 60 A {self.web.address}" for host in ("ispdb.test", *hosts)]
        self.dns.zone = "\n".join([*lines, extra])


@pytest.fixture
def net(_dns: DnsServer, _web: WebServer, test_certs: TestCerts, monkeypatch: pytest.MonkeyPatch) -> Net:
    _web.reset()
    _dns.zone = ""
    if not _web.standard_ports:  # not allowed to bind 443/80: discovery's default ports follow the server
        monkeypatch.setattr(fetch, "PORTS", {"https": _web.https_port, "http": _web.http_port})
    return Net(_dns, _web, str(test_certs.ca_file))
