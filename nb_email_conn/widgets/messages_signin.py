"""The shapes of the connection manager's *Find settings* and *Sign in* messages, typed once.

- synced traits: ``discovered`` (a list of :class:`DiscoveredOption`), ``sign_in``
  (:class:`SignInState`, ``{}`` before any sign-in) and ``client_secret_set``;
- the request methods' params and results: ``discover``, ``sign_in``, ``complete_sign_in``
  and ``cancel_sign_in``.

``js/src/messages.ts`` declares the same names; ``tests/widgets/widget_messages.json`` holds
examples that pytest checks against these types and vitest renders. Nothing here is secret:
the user code and links are what the person must see anyway, and the client secret appears
only in the params of one request (like the password), never in a trait.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

SignInKind = Literal["pending", "signed_in", "denied", "expired", "failed", "cancelled"]
SignInMethod = Literal["device", "browser"]
ProviderChoice = Literal["microsoft", "google", "configured"]
"""The form's provider: a preset, or the provider already in the form's values (set up in Python)."""


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
    method: SignInMethod
    provider: str
    message: str
    verification_uri: str | None
    user_code: str | None
    expires_at: str | None
    authorization_url: str | None


class DiscoverParams(TypedDict):
    """``discover``: the address to look up."""

    address: str


class DiscoverResult(TypedDict):
    """How many results ``discovered`` now lists (0: fill in the servers by hand)."""

    count: int


class _SignInParams(TypedDict):
    values: dict[str, Any]
    provider: ProviderChoice
    client_id: str


class SignInParams(_SignInParams, total=False):
    """``sign_in``: the form's values, the provider and app registration; the typed client
    secret, if any, exists only in this request (kept in the kernel, never a trait)."""

    tenant: str
    client_secret: str
    method: SignInMethod
    session_only: bool


class SignInResult(TypedDict):
    state: SignInKind
    method: SignInMethod


class CompleteSignInParams(TypedDict):
    """``complete_sign_in``: the address the browser ended on after a browser sign-in."""

    url: str


class CancelSignInParams(TypedDict):
    """``cancel_sign_in`` takes nothing."""


class NoSignIn(TypedDict):
    """``{}``: ``cancel_sign_in``'s answer when no sign-in was running."""


CancelSignInResult = SignInResult | NoSignIn
