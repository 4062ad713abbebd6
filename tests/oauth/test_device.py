"""The device authorization grant (RFC 8628) against the local authorization server."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from servers.memory_keyring import MemoryKeyring
from servers.oauth import DEVICE_GRANT, OAuthServer

import nb_email_conn as nec
from nb_email_conn import secrets
from nb_email_conn.oauth import device, tokens
from nb_email_conn.oauth.flow import SignInFlow, Status

from .conftest import config_for


def status(flow: SignInFlow) -> Status:
    """``flow.status`` read afresh (mypy would keep an ``assert flow.status == ...`` narrowing past ``wait()``)."""
    return flow.status


def test_device_sign_in_shows_a_code_and_keeps_the_refresh_token_in_the_keyring(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    flow = nec.sign_in(cfg, method="device")
    assert flow.method == "device" and status(flow) == "pending"
    assert flow.verification_uri == oauth_server.url("/verify")
    assert flow.user_code and flow.user_code in flow.instructions() and flow.user_code in flow._repr_html_()
    assert flow.expires_at > dt.datetime.now(dt.timezone.utc)
    oauth_server.approve(flow.user_code)
    flow.wait(timeout=5)
    assert flow.status == "signed_in"
    (stored,) = [value for (service, user), value in memory_keyring.passwords.items() if user == "oauth"]
    assert ("nb-email-conn-oauth2", "oauth") in memory_keyring.passwords
    assert oauth_server.state.refresh[stored].user == "alice@example.org"
    access = tokens.TokenSource(cfg)()
    active = oauth_server.active(access)
    assert active is not None and active.user == "alice@example.org"
    assert oauth_server.grants("refresh_token") == 0  # the grant's own access token is used first
    assert stored not in repr(flow) and access not in repr(flow) and access not in str(tokens.TokenSource(cfg))


def test_polling_continues_while_pending_and_slows_down_when_asked(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(device, "SLOW_DOWN", 0.1)
    oauth_server.slow_down_first = 2
    flow = nec.sign_in(cfg, method="device")
    with pytest.raises(nec.OperationTimeoutError, match="still waiting"):
        flow.wait(timeout=0.6)
    assert status(flow) == "pending"
    assert flow.interval == pytest.approx(0.05 + 2 * 0.1)  # type: ignore[attr-defined]
    assert oauth_server.grants(DEVICE_GRANT) >= 3
    oauth_server.approve(flow.user_code or "")
    flow.wait(timeout=5)
    assert flow.status == "signed_in"


def test_a_denied_sign_in_raises_authentication_error_and_stores_nothing(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    flow = nec.sign_in(cfg, method="device")
    oauth_server.deny(flow.user_code or "")
    with pytest.raises(nec.AuthenticationError, match="declined"):
        flow.wait(timeout=5)
    assert flow.status == "denied" and flow.error is not None and "declined" in flow.error
    assert memory_keyring.passwords == {}
    with pytest.raises(nec.AuthenticationError, match="not signed in"):
        tokens.TokenSource(cfg)()


def test_an_expired_code_raises_authentication_error(cfg: nec.ConnectionConfig, oauth_server: OAuthServer) -> None:
    oauth_server.device_lifetime = 0.3
    flow = nec.sign_in(cfg, method="device")
    with pytest.raises(nec.AuthenticationError, match="expired"):
        flow.wait(timeout=5)
    assert flow.status == "expired"


async def test_wait_async_does_not_block_the_loop(cfg: nec.ConnectionConfig, oauth_server: OAuthServer) -> None:
    flow = nec.sign_in(cfg, method="device")
    ticks = 0

    async def approve_later() -> None:
        nonlocal ticks
        for _ in range(4):
            await asyncio.sleep(0.05)
            ticks += 1
        oauth_server.approve(flow.user_code or "")

    await asyncio.gather(flow.wait_async(timeout=5), approve_later())
    assert ticks == 4 and flow.status == "signed_in"
    with pytest.raises(nec.OperationTimeoutError):
        await nec.sign_in(cfg, method="device").wait_async(timeout=0.1)


def test_cancel_stops_the_flow(cfg: nec.ConnectionConfig, oauth_server: OAuthServer) -> None:
    flow = nec.sign_in(cfg, method="device")
    flow.cancel()
    with pytest.raises(nec.AuthenticationError, match="cancelled"):
        flow.wait(timeout=1)
    oauth_server.approve(flow.user_code or "")
    assert flow.status == "cancelled"


@pytest.mark.parametrize(
    ("fault", "error"),
    [("garbage", nec.ServerError), ("500", nec.ServerError), ("hang", nec.OperationTimeoutError)],
)
def test_a_broken_token_endpoint_gives_a_typed_error_within_the_timeout(
    oauth_server: OAuthServer, memory_keyring: MemoryKeyring, fault: str, error: type[Exception]
) -> None:
    cfg = config_for(oauth_server, timeout=1)
    oauth_server.hang_seconds = 3
    flow = nec.sign_in(cfg, method="device")
    oauth_server.token_fault = fault
    oauth_server.approve(flow.user_code or "")
    with pytest.raises(error) as info:
        flow.wait(timeout=5)
    assert "nothing was stored" in str(info.value) or fault == "hang"
    assert flow.status == "failed" and memory_keyring.passwords == {}


@pytest.mark.parametrize("fault", ["garbage", "500", "hang"])
def test_a_broken_device_endpoint_fails_sign_in_itself(oauth_server: OAuthServer, fault: str) -> None:
    cfg = config_for(oauth_server, timeout=1)
    oauth_server.hang_seconds = 3
    oauth_server.device_fault = fault
    with pytest.raises((nec.ServerError, nec.OperationTimeoutError)):
        nec.sign_in(cfg, method="device")


def test_an_unknown_client_id_says_to_check_the_registration(oauth_server: OAuthServer) -> None:
    cfg = config_for(oauth_server, oauth=_other_client(oauth_server))
    with pytest.raises(nec.AuthenticationError, match="client id"):
        nec.sign_in(cfg, method="device")


def _other_client(server: OAuthServer) -> nec.OAuthProvider:
    from .conftest import provider_for

    return provider_for(server, client_id="someone-else")


def test_session_only_keeps_the_refresh_token_out_of_the_keyring(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    flow = nec.sign_in(cfg, method="device", session_only=True)
    oauth_server.approve(flow.user_code or "")
    flow.wait(timeout=5)
    assert memory_keyring.passwords == {}
    assert secrets.secret_location("refresh_token", "oauth") == "session"
    assert tokens.TokenSource(cfg)()
    secrets.forget_secret("refresh_token", "oauth")


def test_without_a_working_keyring_sign_in_says_so_before_anyone_signs_in(cfg: nec.ConnectionConfig) -> None:
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(nec.SecretStoreError, match="session_only=True"):
        nec.sign_in(cfg, method="device")


def test_sign_in_needs_an_oauth_config(oauth_server: OAuthServer) -> None:
    cfg = nec.ConnectionConfig(name="pw", username="alice@example.org", imap_host="127.0.0.1")
    with pytest.raises(nec.InvalidInputError) as info:
        nec.sign_in(cfg)
    assert info.value.field == "auth"
    with pytest.raises(nec.InvalidInputError):
        nec.sign_in(config_for(oauth_server), method="magic")  # type: ignore[arg-type]


def test_microsofts_authorization_declined_counts_as_a_denial(
    cfg: nec.ConnectionConfig, oauth_server: OAuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = nec.sign_in(cfg, method="device")
    original = oauth_server._device_grant

    def declined(form: dict[str, str]) -> tuple[int, dict[str, object]]:
        status, data = original(form)
        return (
            (400, {"error": "authorization_declined"})
            if data.get("error") == "authorization_pending"
            else (status, data)
        )

    monkeypatch.setattr(oauth_server, "_device_grant", declined)
    with pytest.raises(nec.AuthenticationError, match="declined"):
        flow.wait(timeout=5)
    assert flow.status == "denied"
