"""The manager's *Find settings* and *Sign in* parts, kernel side.

- ``discover`` (``{address}``): runs :func:`nec.discover`, fills the form with the best result
  and lists every result in the ``discovered`` trait (settings, source, ``secure``, warnings).
- ``sign_in`` (``{values, provider, client_id, tenant?, client_secret?, method?, session_only?}``):
  builds the Microsoft or Google :class:`OAuthProvider`, switches the form to OAuth 2.0 and
  starts :func:`nec.sign_in`; the ``sign_in`` trait follows the flow live (the device code and
  link, or the browser link), and a successful sign-in opens ``manager.connection``.
- ``complete_sign_in`` (``{url}``): the pasted redirected address of a browser sign-in.
- ``cancel_sign_in``.

The synced shapes are in messages_signin.py (their TypeScript twins in js/src/messages.ts).
Nothing secret is synced: the user code and links are what the person must see anyway. A
client secret (Google, or a custom provider set up in Python) arrives in one ``sign_in``,
``test_connection`` or ``save`` request, like the password; the manager keeps it as a
``Secret`` for the provider it was typed for, puts it into the configs it builds (so Save
stores it with the connection's secrets) and syncs only ``client_secret_set``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import traitlets

from ..config import ConnectionConfig
from ..errors import EmailConnError, InvalidInputError
from ..oauth.provider import OAuthProvider
from ..secrets import Secret
from .messages import EmptyState, SyncedDict
from .messages_signin import CancelSignInResult, DiscoveredOption, DiscoverResult, SignInResult, SignInState

if TYPE_CHECKING:
    from ..discovery import DiscoveredSettings
    from ..oauth.flow import SignInFlow
    from .protocol import Call


def option(found: DiscoveredSettings) -> DiscoveredOption:
    values: dict[str, Any] = {
        "username": found.username,
        "imap_host": found.imap_host,
        "imap_port": found.imap_port,
        "imap_encryption": str(found.imap_encryption),
        "smtp_host": found.smtp_host,
        "smtp_port": found.smtp_port,
        "smtp_encryption": str(found.smtp_encryption),
        "auth": found.auth,
    }
    return DiscoveredOption(
        label=found.describe(),
        source=found.source,
        secure=found.secure,
        auth=found.auth,
        oauth_provider=found.oauth_provider,
        warnings=list(found.warnings),
        notes=list(found.notes),
        values=values,
    )


def typed_secret(params: Mapping[str, Any]) -> str | None:
    """The client secret a request carries (``None``: none typed)."""
    secret = params.get("client_secret")
    if secret is None or secret == "":
        return None
    if not isinstance(secret, str) or any(ch in secret for ch in "\r\n\0"):
        raise InvalidInputError("The client secret must be text on one line.", field="client_secret")
    return secret


def provider_from(params: dict[str, Any], values: dict[str, Any]) -> OAuthProvider:
    """The preset the form names: Microsoft (client id, tenant) or Google (client id, secret);
    ``"configured"``: the provider already in the form's values (a custom one, from Python),
    with the client secret typed in the form if any."""
    preset = params.get("provider")
    if preset == "configured":
        if not isinstance(values.get("oauth"), dict):
            raise InvalidInputError("This connection has no OAuth provider yet: choose one.", field="provider")
        return OAuthProvider.from_dict(values["oauth"], client_secret=typed_secret(params))
    client_id = params.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip():
        raise InvalidInputError("Enter the client id of your app registration.", field="client_id")
    if preset == "microsoft":
        tenant = params.get("tenant") or "common"
        if not isinstance(tenant, str):
            raise InvalidInputError("tenant must be text.", field="tenant")
        return OAuthProvider.microsoft(client_id.strip(), tenant=tenant.strip() or "common")
    if preset == "google":
        return OAuthProvider.google(client_id.strip(), typed_secret(params))
    raise InvalidInputError("provider must be 'microsoft', 'google' or 'configured'.", field="provider")


def tenant_of(provider: OAuthProvider) -> str | None:
    """The Microsoft tenant in a provider's endpoints (for showing the form again)."""
    prefix = "https://login.microsoftonline.com/"
    if provider.name != "microsoft" or not provider.token_endpoint.startswith(prefix):
        return None
    return provider.token_endpoint[len(prefix) :].split("/", 1)[0]


def state_of(flow: SignInFlow) -> SignInState:
    messages = {
        "pending": flow.instructions(),
        "signed_in": "Signed in. manager.connection is ready.",
        "denied": "The sign-in was declined. Click Sign in to try again.",
        "expired": "The sign-in code expired. Click Sign in to get a new one.",
        "failed": flow.error or "The sign-in failed.",
        "cancelled": "Sign-in cancelled.",
    }
    expires = flow.expires_at.astimezone(dt.timezone.utc).isoformat() if flow.status == "pending" else None
    return SignInState(
        state=flow.status,
        method=flow.method,
        provider=flow.provider.name,
        message=messages[flow.status] if flow.status != "failed" else (flow.error or "The sign-in failed."),
        verification_uri=flow.verification_uri if flow.status == "pending" else None,
        user_code=flow.user_code if flow.status == "pending" else None,
        expires_at=expires,
        authorization_url=flow.authorization_url if flow.status == "pending" else None,
    )


class SignInPart:
    """The handlers, bound to one manager. ``discover`` and ``start`` can be replaced (tests).

    ``form_values(config)`` and ``config_from_values(values)`` are the manager's own converters."""

    def __init__(
        self,
        manager: Any,
        form_values: Callable[[ConnectionConfig], dict[str, Any]],
        config_from_values: Callable[[Any], ConnectionConfig],
    ) -> None:
        self.manager = manager
        self.form_values = form_values
        self.config_from_values = config_from_values
        self.flow: SignInFlow | None = None
        self._lock = threading.Lock()
        from ..discovery import discover
        from ..oauth.signin import sign_in

        self.discover: Callable[..., list[DiscoveredSettings]] = discover
        self.start: Callable[..., SignInFlow] = sign_in

    def register(self, router: Any) -> None:
        router.register("discover", self.handle_discover, slow=True)
        router.register("sign_in", self.handle_sign_in, slow=True)
        router.register("complete_sign_in", self.handle_complete, slow=True)
        router.register("cancel_sign_in", self.handle_cancel)

    # -- Find settings ---------------------------------------------------------------------
    def handle_discover(self, params: dict[str, Any], call: Call) -> DiscoverResult:
        address = params.get("address")
        if not isinstance(address, str) or not address.strip():
            raise InvalidInputError("Enter your email address first.", field="address")
        manager = self.manager
        manager.status = {"state": "working", "message": f"Looking up the settings of {address.strip()}…"}
        try:
            found = self.discover(address.strip())
        except InvalidInputError as exc:
            manager.status = {"state": "error", "message": str(exc)}
            raise InvalidInputError(str(exc), field="address") from None
        options = [option(item) for item in found]
        manager.discovered = options
        if not options:
            manager.status = {
                "state": "error",
                "message": f"No settings found for {address.strip()}: fill in the servers by hand.",
            }
            return DiscoverResult(count=0)
        best = found[0]
        values = {**manager.values, **options[0]["values"]}
        if not values.get("name"):
            values["name"] = best.provider.split(" ")[0] if best.provider else address.split("@")[-1]
        manager.values = values
        text = f"Filled in from {best.describe()}"
        if not best.secure:
            text += ". Check these settings before you trust them."
        manager.status = {"state": "ok" if best.secure else "error", "message": text}
        return DiscoverResult(count=len(options))

    # -- Sign in -----------------------------------------------------------------------------
    def handle_sign_in(self, params: dict[str, Any], call: Call) -> SignInResult:
        manager = self.manager
        values = dict(params.get("values") or manager.values)
        provider = provider_from(params, values)
        values.update(auth="oauth2", oauth=provider.to_dict())
        config = manager._with_client_secret(self.config_from_values(values).replace(oauth=provider))
        method = params.get("method") or provider.default_method
        session_only = bool(params.get("session_only", manager.session_only)) or not manager.keyring.get("usable")
        self.cancel()
        flow = self.start(config, method, session_only=session_only)
        with self._lock:
            self.flow = flow
            self.config = config
        manager.values = self.form_values(config)
        manager.sign_in = state_of(flow)
        manager.status = {"state": "working", "message": f"Waiting for the sign-in: {flow.instructions()}"}
        flow.on_change(self._changed)
        return SignInResult(state=flow.status, method=flow.method)

    def _changed(self, flow: SignInFlow) -> None:
        with self._lock:
            if flow is not self.flow:
                return
            config = self.config
        manager = self.manager
        manager.sign_in = state_of(flow)
        if flow.status == "signed_in":
            try:
                with manager._lock:
                    manager._open(config)
            except EmailConnError as exc:
                manager.status = {"state": "error", "message": str(exc)}
                return
            manager.status = {"state": "ok", "message": f"Signed in to {flow.provider.name} as {config.username}."}
        else:
            manager.status = {"state": "error", "message": state_of(flow)["message"]}

    def handle_complete(self, params: dict[str, Any], call: Call) -> SignInResult:
        flow = self.flow
        if flow is None or flow.method != "browser":
            raise InvalidInputError("Start a browser sign-in first.", field="url")
        url = params.get("url")
        if not isinstance(url, str):
            raise InvalidInputError("Paste the address the browser ended on.", field="url")
        flow.complete(url)  # a refused address raises (and the flow keeps waiting)
        return SignInResult(state=flow.status, method=flow.method)

    def handle_cancel(self, params: dict[str, Any], call: Call) -> CancelSignInResult:
        flow = self.cancel()
        if flow is None:
            return {}
        self.manager.status = {"state": "idle", "message": state_of(flow)["message"]}
        return SignInResult(state=flow.status, method=flow.method)

    def cancel(self) -> SignInFlow | None:
        with self._lock:
            flow, self.flow = self.flow, None
        if flow is not None and not flow.done:
            flow.cancel()
        if flow is not None:
            self.manager.sign_in = state_of(flow)
        return flow


class SignInMixin(traitlets.HasTraits):
    """The connection manager's traits and setup for Find settings and Sign in."""

    discovered: traitlets.List[DiscoveredOption] = traitlets.List().tag(sync=True)
    sign_in = SyncedDict[SignInState | EmptyState](EmptyState()).tag(sync=True)
    client_secret_set = traitlets.Bool(False).tag(sync=True)
    """A client secret is kept in the kernel for the provider the form names (never the secret)."""

    _client_secret: tuple[str, Secret] | None = None  # (the provider's key, the secret)

    def _setup_sign_in(
        self,
        form_values: Callable[[ConnectionConfig], dict[str, Any]],
        config_from_values: Callable[[Any], ConnectionConfig],
    ) -> None:
        self._signin = SignInPart(self, form_values, config_from_values)
        self._signin.register(self._router)  # type: ignore[attr-defined]

    def _with_client_secret(self, config: ConnectionConfig, typed: str | None = None) -> ConnectionConfig:
        """``config`` with the OAuth client secret: ``typed`` (now kept for its provider), the
        config's own, or the one kept for the same provider (a secret never serves another)."""
        provider = config.oauth
        if provider is None:
            return config
        if typed is not None:
            provider = OAuthProvider.from_dict(provider.to_dict(), client_secret=typed)
            config = config.replace(oauth=provider)
        if provider.client_secret is not None:
            self._client_secret = (provider.key, provider.client_secret)
        elif self._client_secret is not None and self._client_secret[0] == provider.key:
            kept = self._client_secret[1]
            config = config.replace(oauth=OAuthProvider.from_dict(provider.to_dict(), client_secret=kept))
        self._show_client_secret()
        return config

    @traitlets.observe("values")
    def _values_changed(self, change: Any) -> None:
        self._show_client_secret()

    def _show_client_secret(self) -> None:
        oauth = getattr(self, "values", {}).get("oauth")
        try:
            key = OAuthProvider.from_dict(oauth).key if isinstance(oauth, dict) else None
        except InvalidInputError:  # a half-typed provider names none
            key = None
        self.client_secret_set = self._client_secret is not None and self._client_secret[0] == key

    def close(self) -> None:
        signin = getattr(self, "_signin", None)
        if signin is not None:
            signin.cancel()
        super().close()  # type: ignore[misc]
