"""The credential a connection hands to IMAP and SMTP: ``credential()`` -> the secret to send.

A password connection gets its password (given, else from the secret store) wrapped in a
:class:`~nb_email_conn.secrets.Secret`; an OAuth connection gets a
:class:`~nb_email_conn.oauth.tokens.TokenSource` (access tokens from its sign-in, renewed by
themselves), or, when a ``password`` is given, that string as an access token obtained elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import ConnectionConfig
from ..secrets import Secret, get_password
from .tokens import TokenSource


def credential_for(config: ConnectionConfig, password: str | None = None) -> Callable[[], str]:
    if config.auth == "oauth2":
        if password is not None:
            return Secret(password).reveal  # an access token the caller manages (no renewal)
        return TokenSource(config)
    return Secret(password if password is not None else get_password(config.name)).reveal
