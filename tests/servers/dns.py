"""A local DNS server (dnslib) on 127.0.0.1 answering from a zone the test sets, over UDP and TCP.

``DnsServer().start()``; ``server.zone = "example.test. 60 MX 10 mx.example.test.\\n..."``
(zone-file lines); ``server.nameserver`` is the ``"127.0.0.1:port"`` string for ``discover``.
Names not in the zone get NXDOMAIN; known names without the asked type get an empty answer.
``queries`` records every (name, type) asked. ``SilentDnsServer`` reads queries and never answers.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import BaseResolver, DNSServer

from .ports import HOST, free_port


class _ZoneResolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, owner: DnsServer) -> None:
        self.owner = owner

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        with self.owner.lock:
            self.owner.queries.append((name.rstrip("."), qtype))
            records = list(self.owner.records)
        matching = [rr for rr in records if str(rr.rname).lower() == name]
        if not matching:
            reply.header.rcode = RCODE.NXDOMAIN
        for rr in matching:
            if rr.rtype == request.q.qtype or (rr.rtype == QTYPE.CNAME and qtype != "CNAME"):
                reply.add_answer(rr)
        return reply


class _QuietLogger:
    def log_recv(self, *args: Any) -> None: ...
    def log_send(self, *args: Any) -> None: ...
    def log_request(self, *args: Any) -> None: ...
    def log_reply(self, *args: Any) -> None: ...
    def log_truncated(self, *args: Any) -> None: ...
    def log_error(self, *args: Any) -> None: ...
    def log_data(self, *args: Any) -> None: ...


class DnsServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.records: list[RR] = []
        self.queries: list[tuple[str, str]] = []
        resolver = _ZoneResolver(self)
        self._servers = [
            DNSServer(resolver, address=HOST, port=self.port, logger=_QuietLogger()),
            DNSServer(resolver, address=HOST, port=self.port, tcp=True, logger=_QuietLogger()),
        ]

    @property
    def nameserver(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def zone(self) -> str:
        with self.lock:
            return "\n".join(rr.toZone() for rr in self.records)

    @zone.setter
    def zone(self, text: str) -> None:
        records = RR.fromZone(text) if text.strip() else []
        with self.lock:
            self.records = records
            self.queries.clear()

    def start(self) -> DnsServer:
        for server in self._servers:
            server.start_thread()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
            server.server.server_close()


class SilentDnsServer:
    """A UDP and TCP "DNS server" that accepts queries and never answers (a black hole)."""

    def __init__(self) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((HOST, 0))
        self.port: int = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((HOST, self.port))
        self.tcp.listen(16)

    @property
    def nameserver(self) -> str:
        return f"{HOST}:{self.port}"

    def stop(self) -> None:
        self.udp.close()
        self.tcp.close()
