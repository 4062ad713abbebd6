""":class:`OAuthProvider`: an OAuth 2.0 authorization server and this app's registration there.

Presets carry the providers' real endpoints and the scopes IMAP and SMTP need:
- Microsoft identity platform v2 (``login.microsoftonline.com/<tenant>/oauth2/v2.0/…``), scopes
  ``https://outlook.office.com/IMAP.AccessAsUser.All``, ``https://outlook.office.com/SMTP.Send``,
  ``offline_access`` (learn.microsoft.com: "Authenticate an IMAP, POP or SMTP connection using OAuth").
- Google (``accounts.google.com`` / ``oauth2.googleapis.com``), scope ``https://mail.google.com/``
  (developers.google.com/gmail/imap/xoauth2-protocol). Google's device flow does not allow the mail
  scope, so its default method is ``"browser"``.
Endpoints must be ``https``; only a loopback host (tests, local servers) may use ``http``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from ..errors import InvalidInputError
from ..secrets import Secret
from ..validation import check_text

Method = Literal["device", "browser"]

MICROSOFT_SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
)
GOOGLE_SCOPES = ("https://mail.google.com/",)
_MICROSOFT = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/"
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$")
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 scope-token


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and ``localhost``: the only hosts where plain http is allowed."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: Any, field: str) -> str:
    """An absolute https URL (http only on a loopback host), or InvalidInputError."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError(f"{field} must be an https:// URL.", field=field)
    text: str = check_text(url.strip(), field, max_length=2000)
    url = text
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidInputError(f"{field} {url!r} is not a valid URL.", field=field) from exc
    if not host or parts.scheme not in ("https", "http"):
        raise InvalidInputError(f"{field} must be an https:// URL; got {url!r}.", field=field)
    if parts.scheme == "http" and not is_loopback(host):
        raise InvalidInputError(
            f"{field} must use https (tokens would travel in clear); plain http is allowed only on "
            f"a loopback host such as 127.0.0.1. Got {url!r}.",
            field=field,
        )
    if parts.username or parts.password:
        raise InvalidInputError(f"{field} must not carry a user name or password.", field=field)
    return text


def _optional_endpoint(url: Any, field: str) -> str | None:
    return None if url in (None, "") else check_endpoint(url, field)


def _check_scopes(scopes: Any) -> tuple[str, ...]:
    if isinstance(scopes, str):
        scopes = scopes.split()
    if not isinstance(scopes, Iterable):
        raise InvalidInputError("scopes must be a list of scope strings.", field="scopes")
    result: list[str] = []
    for scope in scopes:
        if not isinstance(scope, str) or not _SCOPE.match(scope):
            raise InvalidInputError(f"scope {scope!r} is not a valid OAuth scope.", field="scopes")
        if scope not in result:
            result.append(scope)
    if not result:
        raise InvalidInputError("scopes must name at least one scope (for example the IMAP scope).", field="scopes")
    return tuple(result)


@dataclass(frozen=True, init=False)
class OAuthProvider:
    """An OAuth 2.0 provider for IMAP/SMTP sign-in (``ConnectionConfig(auth="oauth2", oauth=...)``).

    ``client_secret`` is held as a :class:`Secret` (never in a repr, ``to_dict`` or the saved
    settings; :func:`save_connection` keeps it in the secret store). ``default_method`` is what
    :func:`sign_in` uses without ``method=``.
    """

    name: str
    client_id: str
    scopes: tuple[str, ...]
    token_endpoint: str
    device_authorization_endpoint: str | None
    authorization_endpoint: str | None
    revocation_endpoint: str | None
    client_secret: Secret | None
    redirect_uri: str | None
    default_method: Method
    authorization_params: tuple[tuple[str, str], ...]

    def __init__(
        self,
        name: str,
        *,
        client_id: str,
        scopes: Iterable[str] | str,
        token_endpoint: str,
        device_authorization_endpoint: str | None = None,
        authorization_endpoint: str | None = None,
        client_secret: str | Secret | None = None,
        revocation_endpoint: str | None = None,
        redirect_uri: str | None = None,
        default_method: Method | None = None,
        authorization_params: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        set_ = object.__setattr__
        if not isinstance(name, str) or not _NAME.match(name.strip()):
            raise InvalidInputError(f"the provider name must be 1-64 letters, digits or _ . + -; got {name!r}.")
        set_(self, "name", name.strip())
        if not isinstance(client_id, str) or not client_id.strip():
            raise InvalidInputError(
                "client_id is required: the application (client) id of your app registration.", field="client_id"
            )
        set_(self, "client_id", check_text(client_id.strip(), "client_id", max_length=500))
        set_(self, "scopes", _check_scopes(scopes))
        set_(self, "token_endpoint", check_endpoint(token_endpoint, "token_endpoint"))
        device = _optional_endpoint(device_authorization_endpoint, "device_authorization_endpoint")
        browser = _optional_endpoint(authorization_endpoint, "authorization_endpoint")
        if device is None and browser is None:
            raise InvalidInputError(
                "give device_authorization_endpoint (device code sign-in) and/or authorization_endpoint "
                "(browser sign-in).",
                field="authorization_endpoint",
            )
        set_(self, "device_authorization_endpoint", device)
        set_(self, "authorization_endpoint", browser)
        set_(self, "revocation_endpoint", _optional_endpoint(revocation_endpoint, "revocation_endpoint"))
        if isinstance(client_secret, str):
            client_secret = Secret(check_text(client_secret, "client_secret")) if client_secret else None
        elif client_secret is not None and not isinstance(client_secret, Secret):
            raise InvalidInputError("client_secret must be a string.", field="client_secret")
        set_(self, "client_secret", client_secret)
        if redirect_uri not in (None, ""):
            redirect = check_endpoint(redirect_uri, "redirect_uri")
            if not is_loopback(urlsplit(redirect).hostname or ""):
                raise InvalidInputError(
                    "redirect_uri must be a loopback address (http://127.0.0.1 or http://localhost): "
                    "sign-in listens for the redirect on this machine.",
                    field="redirect_uri",
                )
            set_(self, "redirect_uri", redirect)
        else:
            set_(self, "redirect_uri", None)
        if default_method is None:
            default_method = "device" if device else "browser"
        if default_method not in ("device", "browser"):
            raise InvalidInputError("default_method must be 'device' or 'browser'.", field="default_method")
        set_(self, "default_method", default_method)
        pairs = authorization_params.items() if isinstance(authorization_params, Mapping) else authorization_params
        params = tuple((str(k), str(v)) for k, v in (pairs or ()))
        for key, value in params:
            check_text(key, "authorization_params")
            check_text(value, "authorization_params")
        set_(self, "authorization_params", params)

    # -- presets ----------------------------------------------------------------------------
    @classmethod
    def microsoft(cls, client_id: str, tenant: str = "common", **options: Any) -> OAuthProvider:
        """Microsoft identity platform v2 (Outlook.com, Microsoft 365). ``tenant``: ``common``,
        ``organizations``, ``consumers``, a tenant id or a tenant domain."""
        if not isinstance(tenant, str) or not _TENANT.match(tenant):
            raise InvalidInputError(
                "tenant must be common, organizations, consumers, a tenant id or a domain.", field="tenant"
            )
        base = _MICROSOFT.format(tenant=tenant)
        settings: dict[str, Any] = {
            "client_id": client_id,
            "scopes": MICROSOFT_SCOPES,
            "token_endpoint": base + "token",
            "device_authorization_endpoint": base + "devicecode",
            "authorization_endpoint": base + "authorize",
            "redirect_uri": "http://localhost",
            "default_method": "device",
        }
        settings.update(options)
        return cls("microsoft", **settings)

    @classmethod
    def google(cls, client_id: str, client_secret: str | None = None, **options: Any) -> OAuthProvider:
        """Google (Gmail, Google Workspace) with a "Desktop app" OAuth client."""
        settings: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": client_secret,
            "scopes": GOOGLE_SCOPES,
            "token_endpoint": "https://oauth2.googleapis.com/token",
            "device_authorization_endpoint": "https://oauth2.googleapis.com/device/code",
            "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
            "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
            "redirect_uri": "http://127.0.0.1",
            "default_method": "browser",
            # A refresh token comes only with offline access; consent makes Google send a new one.
            "authorization_params": {"access_type": "offline", "prompt": "consent"},
        }
        settings.update(options)
        return cls("google", **settings)

    # -- plain values -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain values for TOML / JSON; never the client secret (it goes to the secret store)."""
        data: dict[str, Any] = {
            "name": self.name,
            "client_id": self.client_id,
            "scopes": list(self.scopes),
            "token_endpoint": self.token_endpoint,
            "device_authorization_endpoint": self.device_authorization_endpoint,
            "authorization_endpoint": self.authorization_endpoint,
            "revocation_endpoint": self.revocation_endpoint,
            "redirect_uri": self.redirect_uri,
            "default_method": self.default_method,
            "authorization_params": dict(self.authorization_params),
        }
        return {key: value for key, value in data.items() if value not in (None, {})}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, client_secret: str | Secret | None = None) -> OAuthProvider:
        if isinstance(data, OAuthProvider):
            return data
        if not isinstance(data, Mapping):
            raise InvalidInputError("oauth must be an OAuthProvider or a table of its settings.", field="oauth")
        settings = dict(data)
        known = {
            "name", "client_id", "scopes", "token_endpoint", "device_authorization_endpoint",
            "authorization_endpoint", "revocation_endpoint", "redirect_uri", "default_method",
            "authorization_params", "client_secret",
        }  # fmt: skip
        unknown = sorted(set(settings) - known)
        if unknown:
            raise InvalidInputError(f"unknown oauth settings: {', '.join(unknown)}.", field="oauth")
        name = settings.pop("name", None)
        if client_secret is not None:
            settings["client_secret"] = client_secret
        try:
            return cls(name, **settings)
        except TypeError as exc:
            raise InvalidInputError(f"oauth settings are incomplete: {exc}.", field="oauth") from None

    def __repr__(self) -> str:
        secret = ", client_secret='********'" if self.client_secret else ""
        return f"OAuthProvider({self.name!r}, client_id={self.client_id!r}, scopes={list(self.scopes)!r}{secret})"

    @property
    def key(self) -> str:
        """What identifies the grant: tokens from one registration never serve another."""
        return f"{self.token_endpoint} {self.client_id}"
