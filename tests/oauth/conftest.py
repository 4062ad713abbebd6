"""OAuth fixtures: the local authorization server (http on 127.0.0.1; an https one with the
test CA) and configs whose provider points at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from servers.certs import TestCerts
from servers.oauth import OAuthServer

import nb_email_conn as nec
from nb_email_conn.oauth import tokens


@pytest.fixture(scope="session")
def _oauth_server() -> Iterator[OAuthServer]:
    server = OAuthServer().start()
    yield server
    server.stop()


@pytest.fixture
def oauth_server(_oauth_server: OAuthServer) -> Iterator[OAuthServer]:
    _oauth_server.reset()
    tokens._cache.clear()
    yield _oauth_server
    tokens._cache.clear()


def provider_for(server: OAuthServer, **options: Any) -> nec.OAuthProvider:
    settings: dict[str, Any] = {
        "client_id": server.client_id,
        "scopes": ["imap", "smtp", "offline_access"],
        "token_endpoint": server.url("/token"),
        "device_authorization_endpoint": server.url("/device"),
        "authorization_endpoint": server.url("/authorize"),
        "revocation_endpoint": server.url("/revoke"),
    }
    settings.update(options)
    return nec.OAuthProvider("local", **settings)


def config_for(server: OAuthServer, name: str = "oauth", **changes: Any) -> nec.ConnectionConfig:
    provider = changes.pop("oauth", None) or provider_for(server)
    settings: dict[str, Any] = {
        "name": name,
        "username": "alice@example.org",
        "imap_host": "127.0.0.1",
        "oauth": provider,
        "timeout": 5,
    }
    settings.update(changes)
    return nec.ConnectionConfig(**settings)


@pytest.fixture
def cfg(oauth_server: OAuthServer) -> nec.ConnectionConfig:
    return config_for(oauth_server)


@pytest.fixture(scope="session")
def _oauth_tls_server(test_certs: TestCerts) -> Iterator[OAuthServer]:
    server = OAuthServer(tls=test_certs.server).start()
    yield server
    server.stop()


@pytest.fixture
def oauth_tls_server(_oauth_tls_server: OAuthServer) -> OAuthServer:
    _oauth_tls_server.reset()
    tokens._cache.clear()
    return _oauth_tls_server


# --- real servers that take bearer tokens ---------------------------------------------------


@pytest.fixture(scope="session")
def dovecot_oauth(test_certs: TestCerts, _oauth_server: OAuthServer) -> Iterator[Any]:
    """Dovecot with ``passdb { driver = oauth2 }`` introspecting at the local authorization server."""
    from servers.dovecot import DovecotServer, DovecotStartError, dovecot_available

    if not dovecot_available():
        pytest.skip("Dovecot is not installed (Debian package dovecot-imapd)")
    server = DovecotServer(certs=test_certs, oauth_introspection_url=_oauth_server.url("/introspect"))
    try:
        server.start()
    except DovecotStartError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _smtp_oauth(test_certs: TestCerts, _oauth_server: OAuthServer) -> Iterator[Any]:
    from servers.smtp_oauth import OAuthSmtpServer

    server = OAuthSmtpServer("implicit", test_certs, _oauth_server.url("/introspect")).start()
    yield server
    server.stop()


@pytest.fixture
def smtp_oauth(_smtp_oauth: Any) -> Any:
    """aiosmtpd (implicit TLS) taking AUTH XOAUTH2 / OAUTHBEARER by introspection; recordings cleared."""
    _smtp_oauth.reset()
    return _smtp_oauth
