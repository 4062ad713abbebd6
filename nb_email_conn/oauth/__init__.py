"""OAuth 2.0 sign-in for IMAP and SMTP: providers, the device and browser flows, tokens."""

from __future__ import annotations

from .provider import OAuthProvider

__all__ = ["OAuthProvider"]
