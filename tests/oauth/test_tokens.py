"""Tokens: access tokens in memory, refreshed before expiry (with rotation) and once more after a
rejection; a refused refresh says to sign in again; sign_out revokes and forgets; https with ca_file."""

from __future__ import annotations

import time

import pytest
from servers.memory_keyring import MemoryKeyring
from servers.oauth import OAuthServer

import nb_email_conn as nec
from nb_email_conn import secrets
from nb_email_conn.oauth import tokens

from .conftest import config_for, provider_for


def signed_in(cfg: nec.ConnectionConfig, server: OAuthServer) -> tokens.TokenSource:
    flow = nec.sign_in(cfg, method="device")
    server.approve(flow.user_code or "")
    flow.wait(timeout=5)
    return tokens.TokenSource(cfg)


def test_the_access_token_is_reused_until_shortly_before_it_expires(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer
) -> None:
    oauth_server.access_lifetime = 2
    source = signed_in(cfg, oauth_server)
    first = source()
    assert source() == first and oauth_server.grants("refresh_token") == 0
    time.sleep(1.6)  # past 3/4 of the lifetime: renewed before the server would refuse it
    second = source()
    assert second != first and oauth_server.grants("refresh_token") == 1
    assert oauth_server.active(second) is not None


def test_refresh_tokens_rotate_and_the_new_one_replaces_the_old(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    source = signed_in(cfg, oauth_server)
    old = secrets.get_secret("refresh_token", cfg.name)
    assert source.rejected()  # the server refused the access token: one more try is possible
    source()
    new = secrets.get_secret("refresh_token", cfg.name)
    assert new and new != old and oauth_server.state.refresh[old or ""].revoked
    assert memory_keyring.passwords[("nb-email-conn-oauth2", cfg.name)] == new


def test_without_rotation_the_refresh_token_stays(cfg: nec.ConnectionConfig, oauth_server: OAuthServer) -> None:
    oauth_server.rotate_refresh_tokens = False
    source = signed_in(cfg, oauth_server)
    old = secrets.get_secret("refresh_token", cfg.name)
    source.rejected()
    source()
    assert secrets.get_secret("refresh_token", cfg.name) == old


def test_a_revoked_sign_in_says_sign_in_again_and_forgets_the_refresh_token(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    source = signed_in(cfg, oauth_server)
    oauth_server.revoke_all()
    assert source.rejected()
    with pytest.raises(nec.AuthenticationError, match="sign in again") as info:
        source()
    for secret in [*oauth_server.state.refresh, *oauth_server.state.access]:
        assert secret not in str(info.value)
    assert memory_keyring.passwords == {}
    assert not source.rejected()  # nothing left to try: only signing in helps


def test_an_expired_access_token_is_renewed_without_asking_the_user(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer
) -> None:
    source = signed_in(cfg, oauth_server)
    first = source()
    oauth_server.expire_access_tokens()  # the server now refuses it: IMAP would say NO
    assert oauth_server.active(first) is None
    assert source.rejected()
    assert oauth_server.active(source()) is not None


def test_sign_out_revokes_at_the_provider_and_forgets_everything(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    signed_in(cfg, oauth_server)()
    refresh = secrets.get_secret("refresh_token", cfg.name)
    nec.sign_out(cfg)
    assert ("/revoke", {"token": refresh, "token_type_hint": "refresh_token", "client_id": "test-client"}) in [
        (p, f) for p, f in oauth_server.state.requests if p == "/revoke"
    ]
    assert oauth_server.state.refresh[refresh or ""].revoked
    assert memory_keyring.passwords == {} and tokens._cache == {}
    with pytest.raises(nec.AuthenticationError, match="not signed in"):
        tokens.TokenSource(cfg)()


def test_sign_out_forgets_locally_even_when_revocation_fails(
    oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    cfg = config_for(oauth_server, oauth=provider_for(oauth_server, revocation_endpoint="http://127.0.0.1:9/revoke"))
    signed_in(cfg, oauth_server)
    nec.sign_out(cfg)
    assert memory_keyring.passwords == {}


def test_forget_connection_removes_the_tokens(cfg: nec.ConnectionConfig, oauth_server: OAuthServer) -> None:
    nec.save_connection(cfg)
    signed_in(cfg, oauth_server)
    nec.forget_connection(cfg.name)
    assert secrets.get_secret("refresh_token", cfg.name) is None


def test_https_endpoints_are_verified_with_ca_file(oauth_tls_server: OAuthServer, test_certs: object) -> None:
    trusted = config_for(oauth_tls_server, ca_file=str(test_certs.ca_file))  # type: ignore[attr-defined]
    source = signed_in(trusted, oauth_tls_server)
    assert oauth_tls_server.active(source()) is not None
    untrusted = config_for(oauth_tls_server, name="untrusted")
    with pytest.raises(nec.SecurityError, match="ca_file"):
        nec.sign_in(untrusted, method="device")
