"""RFC 6186 SRV records, preferring implicit TLS as RFC 8314 asks: ``_imaps._tcp`` before
``_imap._tcp`` (STARTTLS), ``_submissions._tcp`` before ``_submission._tcp`` (STARTTLS)."""

from __future__ import annotations

from ..config import Encryption
from .candidate import Candidate, Server, clean_host
from .resolver import Resolver

IMAP_SERVICES = (("_imaps._tcp", Encryption.SSL_ON_CONNECT), ("_imap._tcp", Encryption.STARTTLS))
SMTP_SERVICES = (("_submissions._tcp", Encryption.SSL_ON_CONNECT), ("_submission._tcp", Encryption.STARTTLS))


def _servers(resolver: Resolver, domain: str, services: tuple[tuple[str, Encryption], ...]) -> list[Server]:
    found: list[Server] = []
    for prefix, encryption in services:
        for record in resolver.srv(f"{prefix}.{domain}"):
            host = clean_host(record.target)
            if host is not None and 1 <= record.port <= 65535:
                server = Server(host, record.port, encryption)
                if server not in found:
                    found.append(server)
    return found


def candidates(resolver: Resolver, domain: str, address: str) -> list[Candidate]:
    """The best IMAP server with each SMTP server, then the other IMAP servers with the best SMTP."""
    imap = _servers(resolver, domain, IMAP_SERVICES)
    smtp = _servers(resolver, domain, SMTP_SERVICES)
    if not imap or not smtp:
        return []
    pairs = [(imap[0], s) for s in smtp] + [(i, smtp[0]) for i in imap[1:]]
    return [Candidate(i, s, address, "password", None, "srv") for i, s in pairs]
