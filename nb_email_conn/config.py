"""Connection settings: :class:`ConnectionConfig` and :class:`Encryption`.

The settings never hold the password; it lives in the secret store (see ``secrets.py``).
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import InvalidInputError
from .oauth.provider import OAuthProvider
from .validation import check_text, looks_like_address, parse_address

TransportMode = Literal["implicit_tls", "starttls", "plain"]
AuthMethod = Literal["password", "oauth2"]

_IMPLICIT_TLS_PORTS = {"imap": 993, "smtp": 465}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.@+-]{0,63}$")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+|[^\s/\\@:\[\]]{1,253})$")


class Encryption(str, enum.Enum):
    """How a connection is secured. Values are the product's names."""

    SSL_ON_CONNECT = "SslOnConnect"
    """Implicit TLS: the TLS handshake starts as soon as the socket connects."""
    STARTTLS = "StartTls"
    """Plain connect, then STARTTLS, which is *required*: no fallback to plaintext."""
    NONE = "None"
    """No encryption at all. Allowed (for local test servers) but reported as insecure."""
    AUTO = "Auto"
    """Implicit TLS on 993/465, required STARTTLS on every other port. Never plaintext."""

    @classmethod
    def parse(cls, value: Encryption | str, field: str = "encryption") -> Encryption:
        if isinstance(value, Encryption):
            return value
        if isinstance(value, str):
            key = re.sub(r"[\s_-]", "", value).lower()
            for member in cls:
                if key in (member.value.lower(), member.name.replace("_", "").lower()):
                    return member
            if key in ("ssl", "tls", "implicittls"):
                return cls.SSL_ON_CONNECT
        choices = ", ".join(m.value for m in cls)
        raise InvalidInputError(f"{field} must be one of {choices}; got {value!r}.", field=field)

    def default_port(self, protocol: Literal["imap", "smtp"]) -> int:
        if self in (Encryption.SSL_ON_CONNECT, Encryption.AUTO):
            return _IMPLICIT_TLS_PORTS[protocol]
        return 143 if protocol == "imap" else 587

    def mode_for(self, protocol: Literal["imap", "smtp"], port: int) -> TransportMode:
        """The transport actually used for this encryption setting on this port."""
        if self is Encryption.SSL_ON_CONNECT:
            return "implicit_tls"
        if self is Encryption.STARTTLS:
            return "starttls"
        if self is Encryption.NONE:
            return "plain"
        return "implicit_tls" if port == _IMPLICIT_TLS_PORTS[protocol] else "starttls"

    def __str__(self) -> str:
        return self.value


def _blank(value: object) -> bool:
    """Form fields arrive as '' when left empty; treat them like None."""
    return value is None or value == ""


def _check_host(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{field} is required (for example imap.example.org).", field=field)
    host = value.strip()
    check_text(host, field)
    if not _HOST.match(host):
        raise InvalidInputError(f"{field} {host!r} is not a valid host name or IP address.", field=field)
    return host


def _check_auth(auth: Any, oauth: Any) -> tuple[AuthMethod, OAuthProvider | None]:
    """``auth`` defaults to "oauth2" when ``oauth`` is given, else "password"."""
    if isinstance(oauth, Mapping):
        oauth = OAuthProvider.from_dict(oauth)
    if oauth is not None and not isinstance(oauth, OAuthProvider):
        raise InvalidInputError("oauth must be an nb_email_conn.OAuthProvider.", field="oauth")
    if _blank(auth):
        return ("oauth2" if oauth is not None else "password"), oauth
    key = re.sub(r"[\s_.-]", "", str(auth)).lower() if isinstance(auth, str) else None
    if key in ("password", "basic", "plain", "login"):
        return "password", None  # a provider given too is not used (cfg.replace(auth="password") works)
    if key not in ("oauth2", "oauth", "oauth20", "xoauth2"):
        raise InvalidInputError(f"auth must be 'password' or 'oauth2'; got {auth!r}.", field="auth")
    if oauth is None:
        raise InvalidInputError(
            "auth='oauth2' needs oauth=: for example nec.OAuthProvider.microsoft(client_id=...) or "
            "nec.OAuthProvider.google(client_id=..., client_secret=...).",
            field="oauth",
        )
    return "oauth2", oauth


def _check_port(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInputError(f"{field} must be a whole number from 1 to 65535.", field=field)
    try:
        port = int(value)
    except ValueError as exc:
        raise InvalidInputError(f"{field} must be a whole number from 1 to 65535; got {value!r}.", field=field) from exc
    if not 1 <= port <= 65535:
        raise InvalidInputError(f"{field} must be from 1 to 65535; got {port}.", field=field)
    return port


@dataclass(frozen=True, init=False)
class ConnectionConfig:
    """Everything needed to reach one mailbox, except the password.

    Ports left as ``None`` follow the encryption choice (993/143 for IMAP, 465/587 for SMTP).
    Invalid values raise :class:`InvalidInputError` naming the field. After construction every
    field holds its normalised value: encryption as an :class:`Encryption`, ports as ints, the
    SMTP host filled in, empty optional fields as ``None``, the timeout as a float.
    """

    name: str
    username: str
    imap_host: str
    imap_port: int
    imap_encryption: Encryption
    smtp_host: str
    smtp_port: int
    smtp_encryption: Encryption
    from_address: str | None
    ca_file: str | None
    verify_tls: bool
    timeout: float
    auth: AuthMethod
    oauth: OAuthProvider | None

    def __init__(
        self,
        name: str,
        username: str,
        imap_host: str,
        imap_port: int | str | None = None,
        imap_encryption: Encryption | str = Encryption.SSL_ON_CONNECT,
        smtp_host: str | None = None,
        smtp_port: int | str | None = None,
        smtp_encryption: Encryption | str = Encryption.SSL_ON_CONNECT,
        from_address: str | None = None,
        ca_file: str | None = None,
        verify_tls: bool = True,
        timeout: float | str = 30.0,
        auth: AuthMethod | str | None = None,
        oauth: OAuthProvider | Mapping[str, Any] | None = None,
    ) -> None:
        set_ = object.__setattr__
        if not isinstance(name, str) or not _NAME.match(name.strip()):
            raise InvalidInputError(
                "name must be 1-64 characters: letters, digits, space and _ . @ + - "
                f"(starting with a letter or digit); got {name!r}.",
                field="name",
            )
        set_(self, "name", name.strip())
        if not isinstance(username, str):
            raise InvalidInputError("username must be a string.", field="username")
        set_(self, "username", check_text(username.strip(), "username", allow_empty=False, max_length=320))
        set_(self, "imap_host", _check_host(imap_host, "imap_host"))
        imap_enc = Encryption.parse(imap_encryption, "imap_encryption")
        smtp_enc = Encryption.parse(smtp_encryption, "smtp_encryption")
        set_(self, "imap_encryption", imap_enc)
        set_(self, "smtp_encryption", smtp_enc)
        set_(
            self,
            "imap_port",
            imap_enc.default_port("imap") if _blank(imap_port) else _check_port(imap_port, "imap_port"),
        )
        set_(self, "smtp_host", _check_host(smtp_host if smtp_host not in (None, "") else self.imap_host, "smtp_host"))
        set_(
            self,
            "smtp_port",
            smtp_enc.default_port("smtp") if _blank(smtp_port) else _check_port(smtp_port, "smtp_port"),
        )
        if from_address not in (None, ""):
            parse_address(str(from_address), "from_address")
            set_(self, "from_address", str(from_address))
        else:
            set_(self, "from_address", None)
        if ca_file not in (None, ""):
            path = os.path.expanduser(str(ca_file))
            if not os.path.isfile(path):
                raise InvalidInputError(f"ca_file {path!r} does not exist or is not a file.", field="ca_file")
            set_(self, "ca_file", path)
        else:
            set_(self, "ca_file", None)
        if not isinstance(verify_tls, bool):
            raise InvalidInputError("verify_tls must be True or False.", field="verify_tls")
        set_(self, "verify_tls", verify_tls)
        try:
            seconds = float(timeout)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError("timeout must be a number of seconds.", field="timeout") from exc
        if not 0 < seconds <= 3600:
            raise InvalidInputError("timeout must be more than 0 and at most 3600 seconds.", field="timeout")
        set_(self, "timeout", seconds)
        method, provider = _check_auth(auth, oauth)
        if method == "oauth2" and "plain" in (self.imap_mode, self.smtp_mode):
            raise InvalidInputError(
                "OAuth 2.0 sign-in sends a bearer token, so it needs TLS on both servers: "
                "use encryption SslOnConnect, StartTls or Auto.",
                field="imap_encryption" if self.imap_mode == "plain" else "smtp_encryption",
            )
        set_(self, "auth", method)
        set_(self, "oauth", provider)

    @property
    def imap_mode(self) -> TransportMode:
        return self.imap_encryption.mode_for("imap", self.imap_port)

    @property
    def smtp_mode(self) -> TransportMode:
        return self.smtp_encryption.mode_for("smtp", self.smtp_port)

    @property
    def insecure(self) -> bool:
        """True when either side sends the password without TLS or without verification."""
        return "plain" in (self.imap_mode, self.smtp_mode) or not self.verify_tls

    @property
    def sender(self) -> str | None:
        """The From address: ``from_address``, else the username when it is an address."""
        if self.from_address:
            return self.from_address
        return self.username if looks_like_address(self.username) else None

    def replace(self, **changes: Any) -> ConnectionConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (encryption as its name), for TOML and JSON. No secret is included."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["imap_encryption"] = str(self.imap_encryption)
        data["smtp_encryption"] = str(self.smtp_encryption)
        data["oauth"] = self.oauth.to_dict() if self.oauth is not None else None  # never its client secret
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConnectionConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"unknown connection settings: {', '.join(unknown)}.", field=unknown[0])
        return cls(**data)
