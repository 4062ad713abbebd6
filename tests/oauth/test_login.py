"""Bearer-token SASL on real servers: Dovecot's oauth2 passdb and the SMTP server, both asking the
local authorization server (RFC 7662). Real, expired and revoked tokens; the token never logged."""

from __future__ import annotations

import base64
import logging
import ssl
from typing import Any

import aiosmtplib
import imapclient
import pytest
from servers.dovecot import DovecotServer
from servers.oauth import OAuthServer

import nb_email_conn as nec
from nb_email_conn.oauth import login, sasl, tokens

from .test_tokens import signed_in

pytestmark = pytest.mark.dovecot
ALICE = "alice@example.org"


def _imap(server: DovecotServer) -> imapclient.IMAPClient:
    context = ssl.create_default_context(cafile=server.ca_file)
    return imapclient.IMAPClient(server.host, port=server.imaps_port, ssl=True, ssl_context=context, timeout=10)


def _imap_login(server: DovecotServer, credential: Any, *, only: str | None = None) -> str:
    with _imap(server) as client:
        caps = [c for c in client.capabilities() if only is None or not c.startswith(b"AUTH=") or c == only.encode()]
        mechanism = login.imap_login(
            client, caps, host=server.host, port=server.imaps_port, user=ALICE, credential=credential, tls=True
        )
        assert client.list_folders()  # really logged in
        return mechanism


def test_dovecot_takes_a_real_token_by_oauthbearer_first_and_xoauth2_too(
    dovecot_oauth: DovecotServer, oauth_server: OAuthServer
) -> None:
    token = oauth_server.issue()
    assert _imap_login(dovecot_oauth, lambda: token) == "OAUTHBEARER"
    assert _imap_login(dovecot_oauth, lambda: token, only="AUTH=XOAUTH2") == "XOAUTH2"


def test_an_expired_token_is_renewed_once_and_the_login_succeeds(
    cfg: nec.ConnectionConfig, dovecot_oauth: DovecotServer, oauth_server: OAuthServer
) -> None:
    source = signed_in(cfg, oauth_server)
    source()
    oauth_server.expire_access_tokens()  # the cached token still looks valid to the client
    assert _imap_login(dovecot_oauth, source) == "OAUTHBEARER"
    assert oauth_server.grants("refresh_token") == 1


def test_a_revoked_sign_in_fails_with_sign_in_again_and_no_token_in_the_message(
    cfg: nec.ConnectionConfig, dovecot_oauth: DovecotServer, oauth_server: OAuthServer
) -> None:
    source = signed_in(cfg, oauth_server)
    token = source()
    oauth_server.revoke_all()
    with pytest.raises(nec.AuthenticationError, match="sign in again") as info:
        _imap_login(dovecot_oauth, source)
    assert token not in str(info.value)


def test_a_bad_token_without_a_refresh_is_refused_plainly(dovecot_oauth: DovecotServer) -> None:
    for only in ("AUTH=OAUTHBEARER", "AUTH=XOAUTH2"):
        with pytest.raises(nec.AuthenticationError, match=r"refused the OAuth 2\.0 sign-in"):
            _imap_login(dovecot_oauth, lambda: "not-a-token", only=only)


def test_a_server_without_bearer_mechanisms_says_so(dovecot: DovecotServer) -> None:
    with pytest.raises(nec.AuthenticationError, match=r"offers no OAuth 2\.0 sign-in"):
        _imap_login(dovecot, lambda: "tok")


def test_the_token_never_reaches_a_log(
    dovecot_oauth: DovecotServer, oauth_server: OAuthServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = oauth_server.issue()
    with caplog.at_level(logging.DEBUG):
        _imap_login(dovecot_oauth, lambda: token)
        with pytest.raises(nec.AuthenticationError):
            _imap_login(dovecot_oauth, lambda: "refused-" + token)
    text = caplog.text
    assert caplog.records  # imapclient did log the conversation
    assert token not in text
    mechanisms: tuple[sasl.Mechanism, ...] = ("XOAUTH2", "OAUTHBEARER")
    for mech in mechanisms:
        blob = sasl.initial_response(mech, ALICE, token)
        assert base64.b64encode(blob).decode()[:40] not in text


def test_a_token_is_never_sent_without_tls(dovecot_oauth: DovecotServer) -> None:
    with _imap(dovecot_oauth) as client, pytest.raises(nec.SecurityError):
        login.imap_login(client, client.capabilities(), host="h", port=1, user=ALICE, credential=lambda: "t", tls=False)


# --- SMTP ----------------------------------------------------------------------------------------


async def _smtp_login(server: Any, credential: Any, *, exclude: tuple[str, ...] = ()) -> str:
    context = ssl.create_default_context(cafile=server.ca_file)
    client = aiosmtplib.SMTP(hostname=server.host, port=server.port, use_tls=True, tls_context=context,
                             start_tls=False, timeout=10)  # fmt: skip
    await client.connect()
    await client.ehlo()
    client.server_auth_methods[:] = [m for m in client.server_auth_methods if m.upper() not in exclude]
    try:
        return await login.smtp_login(client, host=server.host, port=server.port, user=ALICE,
                                      credential=credential, tls=True)  # fmt: skip
    finally:
        client.close()


async def test_smtp_takes_real_tokens_by_either_mechanism(smtp_oauth: Any, oauth_server: OAuthServer) -> None:
    token = oauth_server.issue()
    assert await _smtp_login(smtp_oauth, lambda: token) == "OAUTHBEARER"
    assert await _smtp_login(smtp_oauth, lambda: token, exclude=("OAUTHBEARER",)) == "XOAUTH2"
    assert smtp_oauth.oauth_attempts == [("OAUTHBEARER", ALICE), ("XOAUTH2", ALICE)]


async def test_smtp_renews_an_expired_token_once(
    cfg: nec.ConnectionConfig, smtp_oauth: Any, oauth_server: OAuthServer
) -> None:
    source = signed_in(cfg, oauth_server)
    source()
    oauth_server.expire_access_tokens()
    assert await _smtp_login(smtp_oauth, source) == "OAUTHBEARER"
    assert [user for _mech, user in smtp_oauth.oauth_attempts] == [None, ALICE]


async def test_smtp_refuses_a_revoked_sign_in_with_sign_in_again(
    cfg: nec.ConnectionConfig, smtp_oauth: Any, oauth_server: OAuthServer
) -> None:
    source = signed_in(cfg, oauth_server)
    token = source()
    oauth_server.revoke_all()
    with pytest.raises(nec.AuthenticationError, match="sign in again") as info:
        await _smtp_login(smtp_oauth, source, exclude=("OAUTHBEARER",))
    assert token not in str(info.value)
    assert tokens.signed_in(cfg) is None  # the dead refresh token is gone
