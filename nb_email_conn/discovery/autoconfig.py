"""Thunderbird's autoconfig format (``config-v1.1.xml``), as served by a domain's
``autoconfig.<domain>`` host, its ``/.well-known/autoconfig/`` path and the ISPDB.

Format: https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat
(``clientConfig/emailProvider`` with ``incomingServer type="imap"`` and ``outgoingServer
type="smtp"``: ``hostname``, ``port``, ``socketType`` SSL | STARTTLS | plain, ``username`` with
``%EMAILADDRESS%`` / ``%EMAILLOCALPART%`` / ``%EMAILDOMAIN%``, one or more ``authentication``).
Malformed or hostile XML (a DOCTYPE, entities, oversized) gives no result, never an exception.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..config import Encryption
from .candidate import Candidate, Server, clean_host, oauth_for_hosts
from .model import Auth, Source

log = logging.getLogger("nb_email_conn.discovery")

_SOCKET_TYPES = {"ssl": Encryption.SSL_ON_CONNECT, "starttls": Encryption.STARTTLS, "plain": Encryption.NONE}
_AUTH: dict[str, Auth | None] = {
    "password-cleartext": "password",
    "plain": "password",
    "password-encrypted": "password",
    "secure": "password",
    "oauth2": "oauth2",
    "none": None,  # SMTP relays that need no login: fine with either method
    "client-ip-address": None,
}


@dataclass(frozen=True)
class _Entry:
    server: Server
    username: str
    auth: tuple[Auth | None, ...]


def _text(element: ET.Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _substitute(template: str, address: str) -> str:
    local, _, domain = address.rpartition("@")
    return (
        template.replace("%EMAILADDRESS%", address)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
        .replace("%REALNAME%", "")
    )


def _entry(element: ET.Element, address: str) -> _Entry | None:
    host = clean_host(_substitute(_text(element, "hostname"), address))
    encryption = _SOCKET_TYPES.get(_text(element, "socketType").lower())
    try:
        port = int(_text(element, "port"))
    except ValueError:
        return None
    if host is None or encryption is None or not 1 <= port <= 65535:
        return None
    username = _substitute(_text(element, "username"), address) or address
    if any(c in username for c in "\r\n\x00") or len(username) > 320:
        return None
    methods: list[Auth | None] = []
    for node in element.findall("authentication"):
        key = (node.text or "").strip().lower()
        if key in _AUTH and _AUTH[key] not in methods:
            methods.append(_AUTH[key])
    if not element.findall("authentication"):
        methods.append("password")  # the format's default
    if not methods:
        return None  # only methods we cannot do (NTLM, GSSAPI, client certificates)
    return _Entry(Server(host, port, encryption), username, tuple(methods))


def parse(body: bytes, address: str) -> tuple[list[_Entry], list[_Entry], str | None]:
    """The IMAP and SMTP entries of a config file (in its order) and the provider's name."""
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        log.info("discovery: refusing an autoconfig file with a DOCTYPE or entities")
        return [], [], None
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD/entities (refused above), size capped by the fetch
    except ET.ParseError as exc:
        log.info("discovery: malformed autoconfig XML: %s", exc)
        return [], [], None
    if root.tag != "clientConfig":
        return [], [], None
    imap: list[_Entry] = []
    smtp: list[_Entry] = []
    name = None
    for provider in root.findall("emailProvider"):
        name = name or _text(provider, "displayName") or None
        for node in provider.findall("incomingServer"):
            entry = _entry(node, address) if node.get("type", "").lower() == "imap" else None
            if entry is not None:
                imap.append(entry)
        for node in provider.findall("outgoingServer"):
            entry = _entry(node, address) if node.get("type", "").lower() == "smtp" else None
            if entry is not None:
                smtp.append(entry)
    if name and (len(name) > 100 or any(c in name for c in "\r\n\x00")):
        name = None
    return imap, smtp, name


def _common_auth(imap: _Entry, smtp: _Entry) -> list[Auth]:
    result: list[Auth] = []
    for method in imap.auth:
        if method is None:
            continue
        if (method in smtp.auth or None in smtp.auth) and method not in result:
            result.append(method)
    return result


def candidates(body: bytes, address: str, *, source: Source, url: str, https: bool) -> list[Candidate]:
    """Every usable IMAP + SMTP pairing of a config file: the first IMAP server with each SMTP
    server, then the other IMAP servers with the first SMTP server; one result per sign-in method."""
    imap, smtp, name = parse(body, address)
    if not imap or not smtp:
        return []
    pairs = [(imap[0], s) for s in smtp] + [(i, smtp[0]) for i in imap[1:]]
    found = []
    for incoming, outgoing in pairs:
        for method in _common_auth(incoming, outgoing):
            oauth = oauth_for_hosts(incoming.server.host, outgoing.server.host) if method == "oauth2" else None
            found.append(
                Candidate(
                    imap=incoming.server,
                    smtp=outgoing.server,
                    username=incoming.username,
                    auth=method,
                    oauth_provider=oauth,
                    source=source,
                    provider=name,
                    url=url,
                    over_http=not https,
                )
            )
    return found
