"""OAuth 2.0 sign-in for IMAP and SMTP: providers, the device and browser flows, tokens.

The provider description is light; the flows (authlib, requests) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .provider import OAuthProvider

if TYPE_CHECKING:
    from .flow import SignInFlow
    from .signin import sign_in, sign_out

__all__ = ["OAuthProvider", "SignInFlow", "sign_in", "sign_out"]


def __getattr__(name: str) -> Any:
    if name in ("sign_in", "sign_out"):
        from . import signin

        return getattr(signin, name)
    if name == "SignInFlow":
        from .flow import SignInFlow

        return SignInFlow
    raise AttributeError(f"module 'nb_email_conn.oauth' has no attribute {name!r}")
