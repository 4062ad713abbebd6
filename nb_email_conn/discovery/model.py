"""What :func:`~nb_email_conn.discover` returns: :class:`DiscoveredSettings`, one complete set of
IMAP + SMTP settings, where it came from, and whether it can be trusted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..config import Encryption
from ..errors import InvalidInputError

if TYPE_CHECKING:
    from ..config import ConnectionConfig

Source = Literal["builtin", "autoconfig", "well-known", "ispdb", "srv", "mx", "guess"]
Auth = Literal["password", "oauth2"]
OAuthName = Literal["microsoft", "google"]

SOURCES: tuple[Source, ...] = ("builtin", "autoconfig", "well-known", "ispdb", "srv", "mx", "guess")
"""Every source, in the order discovery consults and ranks them."""


@dataclass(frozen=True)
class DiscoveredSettings:
    """One complete set of settings for an address, best first in :func:`discover`'s list.

    ``secure`` is True only when every hop uses TLS, the settings came over HTTPS (or from the
    built-in table) and every host is inside the address's domain or its MX provider.
    ``warnings`` says why a result is not secure or, with ``probe=True``, why it may not work
    (a server that did not answer over TLS, or offers no mechanism for the sign-in the result
    needs); such a result is not ``secure`` either. ``notes`` carries the provider's advice.
    """

    imap_host: str
    imap_port: int
    imap_encryption: Encryption
    smtp_host: str
    smtp_port: int
    smtp_encryption: Encryption
    username: str
    auth: Auth
    oauth_provider: OAuthName | None
    source: Source
    secure: bool
    provider: str | None = None
    """The provider's name when known ("Gmail / Google Workspace")."""
    url: str | None = None
    """The address the settings were read from (autoconfig, .well-known, ISPDB), else None."""
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    imap_auth_mechanisms: tuple[str, ...] | None = field(default=None, compare=False)
    """With ``probe=True``: the SASL mechanisms the IMAP server offered over TLS."""
    smtp_auth_mechanisms: tuple[str, ...] | None = field(default=None, compare=False)
    """With ``probe=True``: the AUTH mechanisms the SMTP server offered over TLS."""

    def to_config(self, name: str, **overrides: Any) -> ConnectionConfig:
        """A :class:`ConnectionConfig` with these settings; keyword ``overrides`` (``ca_file=``,
        ``oauth=``, ``timeout=``, ``auth=``, …) pass through and win.

        Settings that sign in with OAuth 2.0 need ``oauth=`` (for example
        ``nec.OAuthProvider.microsoft(client_id=...)``), or ``auth="password"`` to use an app password.
        """
        from ..config import ConnectionConfig

        settings: dict[str, Any] = {
            "name": name,
            "username": self.username,
            "imap_host": self.imap_host,
            "imap_port": self.imap_port,
            "imap_encryption": self.imap_encryption,
            "smtp_host": self.smtp_host,
            "smtp_port": self.smtp_port,
            "smtp_encryption": self.smtp_encryption,
            "auth": self.auth,
        }
        settings.update(overrides)
        if overrides.get("oauth") is not None and "auth" not in overrides:
            settings["auth"] = "oauth2"  # giving a provider means signing in with it
        if settings["auth"] == "oauth2" and settings.get("oauth") is None:
            preset = self.oauth_provider or "custom"
            example = {
                "microsoft": 'nec.OAuthProvider.microsoft(client_id="...")',
                "google": 'nec.OAuthProvider.google(client_id="...", client_secret="...")',
            }.get(preset, 'nec.OAuthProvider("name", client_id=..., scopes=[...], token_endpoint=...)')
            raise InvalidInputError(
                f"these settings sign in with OAuth 2.0: pass oauth={example} "
                "(your app registration's client id), or auth='password' for an app password.",
                field="oauth",
            )
        return ConnectionConfig(**settings)

    def describe(self) -> str:
        """One line for people: where the settings came from and what they are."""
        where = {
            "builtin": "the built-in provider table",
            "autoconfig": "the domain's autoconfig file",
            "well-known": "the domain's .well-known autoconfig file",
            "ispdb": "Thunderbird's ISPDB",
            "srv": "the domain's DNS SRV records",
            "mx": "the domain's MX provider",
            "guess": "a guess that was probed",
        }[self.source]
        name = f"{self.provider} from {where}" if self.provider else f"from {where}"
        sign_in = "OAuth 2.0" if self.auth == "oauth2" else "password"
        text = (
            f"{name}: IMAP {self.imap_host}:{self.imap_port} {self.imap_encryption}, "
            f"SMTP {self.smtp_host}:{self.smtp_port} {self.smtp_encryption}, {sign_in}"
        )
        if self.warnings:
            text += " (not secure: " + "; ".join(self.warnings) + ")"
        return text
