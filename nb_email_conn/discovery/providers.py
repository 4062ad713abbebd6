"""The built-in provider table (``providers.toml``, data with its sources named) as candidates."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any, cast

from ..config import Encryption
from .candidate import Candidate, Server, within
from .model import Auth, OAuthName, Source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    domains: tuple[str, ...]
    mx: tuple[str, ...]
    hosts: tuple[str, ...]
    auth: tuple[Auth, ...]
    oauth: OAuthName | None
    imap: Server
    smtp: Server
    username: str
    note: str | None
    sources: tuple[str, ...]

    def candidates(self, address: str, source: Source) -> list[Candidate]:
        local = address.rpartition("@")[0]
        username = local if self.username == "localpart" else address
        return [
            Candidate(
                imap=self.imap,
                smtp=self.smtp,
                username=username,
                auth=method,
                oauth_provider=self.oauth if method == "oauth2" else None,
                source=source,
                provider=self.name,
                trusted=True,
                notes=(self.note,) if self.note else (),
            )
            for method in self.auth
        ]


def _server(raw: dict[str, Any]) -> Server:
    return Server(str(raw["host"]), int(raw["port"]), Encryption.parse(str(raw["encryption"])))


@functools.lru_cache(maxsize=1)
def table() -> tuple[Provider, ...]:
    """Every provider of ``providers.toml``, in its order."""
    text = resources.files(__package__).joinpath("providers.toml").read_text(encoding="utf-8")
    providers = []
    for raw in tomllib.loads(text)["provider"]:
        providers.append(
            Provider(
                id=str(raw["id"]),
                name=str(raw["name"]),
                domains=tuple(d.lower() for d in raw["domains"]),
                mx=tuple(m.lower() for m in raw.get("mx", ())),
                hosts=tuple(h.lower() for h in raw["hosts"]),
                auth=cast("tuple[Auth, ...]", tuple(raw["auth"])),
                oauth=cast("OAuthName | None", raw.get("oauth")),
                imap=_server(raw["imap"]),
                smtp=_server(raw["smtp"]),
                username=str(raw.get("username", "address")),
                note=raw.get("note"),
                sources=tuple(raw["sources"]),
            )
        )
    return tuple(providers)


def by_domain(domain: str) -> Provider | None:
    return next((p for p in table() if domain in p.domains), None)


def by_mx(mx_hosts: list[str]) -> Provider | None:
    """The provider hosting the domain, from its most preferred MX host that one recognises."""
    for host in mx_hosts:
        for provider in table():
            if provider.mx and within(host, provider.mx):
                return provider
    return None
