"""Authorization code + PKCE (RFC 7636) with the loopback redirect listener or a pasted address."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from servers.oauth import OAuthServer

import nb_email_conn as nec
from nb_email_conn.oauth import tokens
from nb_email_conn.oauth.flow import SignInFlow, Status


def status(flow: SignInFlow) -> Status:
    """``flow.status`` read afresh (mypy would keep an ``assert flow.status == ...`` narrowing past ``wait()``)."""
    return flow.status


def _redirected(flow: SignInFlow) -> str:
    """What the browser does: open the sign-in page, get redirected; the address it lands on."""
    answer = requests.get(flow.authorization_url or "", allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return str(answer.headers["Location"])


def test_the_authorization_url_carries_pkce_s256_and_a_state(cfg: nec.ConnectionConfig) -> None:
    flow = nec.sign_in(cfg, method="browser")
    query = parse_qs(urlsplit(flow.authorization_url or "").query)
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 20 and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [flow.redirect_uri]
    assert (flow.redirect_uri or "").startswith("http://127.0.0.1:")
    verifier = flow._verifier  # type: ignore[attr-defined]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [digest]
    flow.cancel()


def test_the_loopback_listener_receives_the_redirect(cfg: nec.ConnectionConfig, oauth_server: OAuthServer) -> None:
    flow = nec.sign_in(cfg, method="browser")
    landing = requests.get(_redirected(flow), timeout=5)  # the browser follows the redirect to the listener
    assert landing.status_code == 200 and "Signed in" in landing.text
    assert "code=" not in landing.text
    flow.wait(timeout=5)
    assert flow.status == "signed_in"
    assert oauth_server.active(tokens.TokenSource(cfg)()) is not None


def test_a_pasted_address_completes_the_sign_in(cfg: nec.ConnectionConfig, oauth_server: OAuthServer) -> None:
    flow = nec.sign_in(cfg, method="browser")
    flow.complete(_redirected(flow))
    assert flow.status == "signed_in"
    flow.wait(timeout=1)


def test_an_address_from_another_sign_in_is_refused_and_the_flow_keeps_waiting(cfg: nec.ConnectionConfig) -> None:
    first = nec.sign_in(cfg, method="browser")
    second = nec.sign_in(cfg, method="browser")
    stolen = _redirected(first)
    with pytest.raises(nec.SecurityError, match="state does not match"):
        second.complete(stolen.replace(first.redirect_uri or "", second.redirect_uri or ""))
    assert status(second) == "pending"
    with pytest.raises(nec.InvalidInputError):
        second.complete("http://127.0.0.1:1234/")  # an incomplete paste: refused, still pending
    second.complete(_redirected(second))
    assert second.status == "signed_in"
    first.cancel()


def test_a_denied_browser_sign_in_raises_authentication_error(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer
) -> None:
    oauth_server.browser_user = None  # the person clicks "No"
    flow = nec.sign_in(cfg, method="browser")
    with pytest.raises(nec.AuthenticationError, match="declined"):
        flow.complete(_redirected(flow))
    assert flow.status == "denied"


def test_a_code_is_redeemed_once(cfg: nec.ConnectionConfig, oauth_server: OAuthServer) -> None:
    flow = nec.sign_in(cfg, method="browser")
    address = _redirected(flow)
    flow.complete(address)
    flow.complete(address)  # a second paste after success changes nothing
    assert oauth_server.grants("authorization_code") == 1


def test_browser_is_the_default_for_a_provider_without_a_device_endpoint(oauth_server: OAuthServer) -> None:
    from .conftest import config_for, provider_for

    cfg = config_for(oauth_server, oauth=provider_for(oauth_server, device_authorization_endpoint=None))
    flow = nec.sign_in(cfg)
    assert flow.method == "browser"
    with pytest.raises(nec.InvalidInputError, match="browser"):
        nec.sign_in(cfg, method="device")
    flow.cancel()
