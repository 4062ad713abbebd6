"""The manager's *Find settings* and *Sign in* parts, kernel side.

- ``discover`` (``{address}``): runs :func:`nec.discover`, fills the form with the best result
  and lists every result in the ``discovered`` trait (settings, source, ``secure``, warnings).
- ``sign_in`` (``{values, provider, client_id, tenant?, client_secret?, method?, session_only?}``):
  builds the Microsoft or Google :class:`OAuthProvider`, switches the form to OAuth 2.0 and
  starts :func:`nec.sign_in`; the ``sign_in`` trait follows the flow live (the device code and
  link, or the browser link), and a successful sign-in opens ``manager.connection``.
- ``complete_sign_in`` (``{url}``): the pasted redirected address of a browser sign-in.
- ``cancel_sign_in``.

The synced shapes are the TypedDicts below (their TypeScript twins are in js/src/signin.ts).
Nothing secret is synced: the user code and links are what the person must see anyway; the
client secret travels in one request and is kept only in the provider object (a ``Secret``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import traitlets

from ..config import ConnectionConfig
from ..errors import EmailConnError, InvalidInputError
from ..oauth.provider import OAuthProvider
from .messages import EmptyState, SyncedDict

if TYPE_CHECKING:
    from ..discovery import DiscoveredSettings
    from ..oauth.flow import SignInFlow
    from .protocol import Call

SignInKind = Literal["pending", "signed_in", "denied", "expired", "failed", "cancelled"]


class DiscoveredOption(TypedDict):
    """One ``discover`` result as the form shows it: a label, where it came from, the values."""

    label: str
    source: str
    secure: bool
    auth: Literal["password", "oauth2"]
    oauth_provider: str | None
    warnings: list[str]
    notes: list[str]
    values: dict[str, Any]


class SignInState(TypedDict):
    """The ``sign_in`` trait: the flow the person is going through (``{}`` when none)."""

    state: SignInKind
    method: Literal["device", "browser"]
    provider: str
    message: str
    verification_uri: str | None
    user_code: str | None
    expires_at: str | None
    authorization_url: str | None


class DiscoverResult(TypedDict):
    count: int


class SignInResult(TypedDict):
    state: SignInKind
    method: Literal["device", "browser"]


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


def provider_from(params: dict[str, Any], values: dict[str, Any]) -> OAuthProvider:
    """The preset the form names: Microsoft (client id, tenant) or Google (client id, secret);
    ``"configured"``: the provider already in the form's values (a custom one, from Python)."""
    preset = params.get("provider")
    if preset == "configured":
        if not isinstance(values.get("oauth"), dict):
            raise InvalidInputError("This connection has no OAuth provider yet: choose one.", field="provider")
        return OAuthProvider.from_dict(values["oauth"])
    client_id = params.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip():
        raise InvalidInputError("Enter the client id of your app registration.", field="client_id")
    if preset == "microsoft":
        tenant = params.get("tenant") or "common"
        if not isinstance(tenant, str):
            raise InvalidInputError("tenant must be text.", field="tenant")
        return OAuthProvider.microsoft(client_id.strip(), tenant=tenant.strip() or "common")
    if preset == "google":
        secret = params.get("client_secret")
        return OAuthProvider.google(client_id.strip(), secret if isinstance(secret, str) and secret else None)
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
        config = self.config_from_values(values).replace(oauth=provider)  # keeps the client secret
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

    def handle_cancel(self, params: dict[str, Any], call: Call) -> SignInResult | dict[str, Any]:
        flow = self.cancel()
        return SignInResult(state=flow.status, method=flow.method) if flow else {}

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

    def _setup_sign_in(
        self,
        form_values: Callable[[ConnectionConfig], dict[str, Any]],
        config_from_values: Callable[[Any], ConnectionConfig],
    ) -> None:
        self._signin = SignInPart(self, form_values, config_from_values)
        self._signin.register(self._router)  # type: ignore[attr-defined]

    def close(self) -> None:
        signin = getattr(self, "_signin", None)
        if signin is not None:
            signin.cancel()
        super().close()  # type: ignore[misc]
