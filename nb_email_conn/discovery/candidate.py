"""A candidate result before ranking: two servers, a sign-in method, and where it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..config import Encryption
from .model import Auth, OAuthName, Source

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# Host names that identify the two OAuth presets (results from any source).
_OAUTH_HOSTS: dict[OAuthName, tuple[str, ...]] = {
    "microsoft": ("office365.com", "outlook.com", "hotmail.com", "live.com"),
    "google": ("gmail.com", "googlemail.com", "google.com"),
}


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    encryption: Encryption

    @property
    def plain(self) -> bool:
        return self.encryption is Encryption.NONE

    def __str__(self) -> str:
        return f"{self.host}:{self.port} {self.encryption}"


@dataclass(frozen=True)
class Candidate:
    imap: Server
    smtp: Server
    username: str
    auth: Auth
    oauth_provider: OAuthName | None
    source: Source
    provider: str | None = None
    url: str | None = None
    over_http: bool = False
    """Read from a plain-HTTP address (or redirected through one)."""
    trusted: bool = False
    """Built-in data (the provider table, or the MX provider's entry in it): no domain check."""
    notes: tuple[str, ...] = ()
    probe_failed: tuple[str, ...] = field(default=(), compare=False)
    imap_auth_mechanisms: tuple[str, ...] | None = field(default=None, compare=False)
    smtp_auth_mechanisms: tuple[str, ...] | None = field(default=None, compare=False)
    imap_login_disabled: bool = field(default=False, compare=False)
    """The IMAP server announced LOGINDISABLED (probed)."""

    @property
    def key(self) -> tuple[object, ...]:
        """Two candidates with the same key are the same settings (the better-ranked one is kept)."""
        return (self.imap, self.smtp, self.username.lower(), self.auth)


def clean_host(value: str | None) -> str | None:
    """A DNS host name (lower case, no trailing dot) or an IP literal; None when it is neither."""
    if not value:
        return None
    host = value.strip().rstrip(".").lower()
    if not host or len(host) > 253:
        return None
    try:
        import ipaddress

        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return host if all(_LABEL.match(label) for label in host.split(".")) else None


def within(host: str, suffixes: tuple[str, ...] | list[str] | set[str]) -> bool:
    """``host`` is one of ``suffixes`` or below one of them."""
    return any(host == s or host.endswith("." + s) for s in suffixes)


def oauth_for_hosts(*hosts: str) -> OAuthName | None:
    """ "microsoft" / "google" when the servers are that provider's, else None."""
    for name, suffixes in _OAUTH_HOSTS.items():
        if all(within(h, suffixes) for h in hosts):
            return name
    return None


_TWO_LEVEL = {"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "gv"}


def registrable_domain(host: str) -> str:
    """A close approximation of the registrable domain: the last two labels (three under
    ``co.uk``-style suffixes). Used to tell which domain an MX host belongs to."""
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _TWO_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
