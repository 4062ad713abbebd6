"""The manager's Find settings and Sign in, kernel side: discover fills the form and says where the
settings came from; Sign in runs a real device / browser flow against the local authorization
server, shows the code live, opens the connection; nothing secret becomes widget state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from servers.oauth import OAuthServer

import nb_email_conn as nec
from nb_email_conn.config import Encryption
from nb_email_conn.discovery import DiscoveredSettings
from nb_email_conn.oauth import tokens
from nb_email_conn.widgets.manager_signin import provider_from
from nb_email_conn.widgets.messages_signin import SignInState

from .conftest import attach_outbox, request, widget_state_text
from .test_manager import StandInBackend, make


@pytest.fixture(scope="module")
def oauth_server() -> Iterator[OAuthServer]:
    server = OAuthServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh(oauth_server: OAuthServer) -> None:
    oauth_server.reset()
    tokens._cache.clear()


def _found(secure: bool = True, **changes: Any) -> DiscoveredSettings:
    settings: dict[str, Any] = {
        "imap_host": "imap.example.org", "imap_port": 993, "imap_encryption": Encryption.SSL_ON_CONNECT,
        "smtp_host": "smtp.example.org", "smtp_port": 465, "smtp_encryption": Encryption.SSL_ON_CONNECT,
        "username": "alice@example.org", "auth": "password", "oauth_provider": None, "source": "srv",
        "secure": secure,
        "warnings": () if secure else ("points outside example.org and its mail provider (imap.other.net)",),
    }  # fmt: skip
    settings.update(changes)
    return DiscoveredSettings(**settings)


def _wait(predicate: Any, timeout: float = 5) -> None:
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.02)
    assert predicate()


def test_find_settings_fills_the_form_and_lists_every_result() -> None:
    manager, _, outbox = make()
    manager._signin.discover = lambda address: [_found(), _found(False, imap_host="imap.other.net", source="mx")]
    request(manager, "discover", {"address": "alice@example.org"})
    assert outbox.reply("r1")["result"] == {"count": 2}
    assert manager.values["imap_host"] == "imap.example.org" and manager.values["smtp_port"] == 465
    assert manager.values["username"] == "alice@example.org" and manager.values["name"]
    assert [o["source"] for o in manager.discovered] == ["srv", "mx"]
    assert manager.discovered[1]["secure"] is False and "outside" in manager.discovered[1]["warnings"][0]
    assert "DNS SRV" in manager.status["message"] and manager.status["state"] == "ok"


def test_an_insecure_best_result_is_flagged_and_nothing_found_says_so() -> None:
    manager, _, outbox = make()
    manager._signin.discover = lambda address: [_found(False)]
    request(manager, "discover", {"address": "alice@example.org"})
    outbox.reply("r1")
    assert manager.status["state"] == "error" and "Check these settings" in manager.status["message"]
    manager._signin.discover = lambda address: []
    request(manager, "discover", {"address": "alice@example.org"}, request_id="r2")
    assert outbox.reply("r2")["result"] == {"count": 0}
    assert "fill in the servers by hand" in manager.status["message"]


def test_a_bad_address_names_the_address_field() -> None:
    manager, _, outbox = make()
    request(manager, "discover", {"address": "not an address"})
    reply = outbox.reply("r1")
    assert reply["ok"] is False and reply["error"]["field"] == "address"


def _secret_set(manager: nec.ConnectionManager) -> bool:
    """The trait read afresh (mypy would carry an asserted value past the request that changes it)."""
    return manager.client_secret_set


def _flow(manager: nec.ConnectionManager) -> SignInState:
    """The sign-in under way: the trait is ``{}`` (EmptyState) before one starts."""
    state = manager.sign_in
    assert state, "no sign-in under way"
    return state


def _oauth_manager(server: OAuthServer) -> Any:
    provider = nec.OAuthProvider(
        "local", client_id=server.client_id, scopes=["imap", "offline_access"],
        token_endpoint=server.url("/token"), device_authorization_endpoint=server.url("/device"),
        authorization_endpoint=server.url("/authorize"),
    )  # fmt: skip
    config = nec.ConnectionConfig(name="work", username="alice@example.org", imap_host="127.0.0.1", oauth=provider)
    return make(config=config)


def test_device_sign_in_shows_the_code_live_and_opens_the_connection(oauth_server: OAuthServer) -> None:
    manager, backend, outbox = _oauth_manager(oauth_server)
    assert manager.values["auth"] == "oauth2" and manager.values["oauth"]["name"] == "local"
    request(manager, "sign_in", {"values": manager.values, "provider": "configured", "client_id": "x"})
    assert outbox.reply("r1")["result"] == {"state": "pending", "method": "device"}
    state = manager.sign_in
    assert state["state"] == "pending" and state["verification_uri"] == oauth_server.url("/verify")
    assert state["user_code"] and state["user_code"] in state["message"]
    oauth_server.approve(state["user_code"])
    _wait(lambda: manager.sign_in["state"] == "signed_in")
    _wait(lambda: manager.connection_name == "work")
    assert backend.opened[-1].config.auth == "oauth2"
    assert "Signed in" in manager.status["message"]
    text = widget_state_text(manager)
    for secret in [*oauth_server.state.access, *oauth_server.state.refresh]:
        assert secret not in text


def test_a_denied_sign_in_says_so(oauth_server: OAuthServer) -> None:
    manager, _, outbox = _oauth_manager(oauth_server)
    request(manager, "sign_in", {"values": manager.values, "provider": "configured", "client_id": "x"})
    outbox.reply("r1")
    oauth_server.deny(manager.sign_in["user_code"])
    _wait(lambda: manager.sign_in["state"] == "denied")
    assert "declined" in manager.sign_in["message"] and manager.status["state"] == "error"


def test_browser_sign_in_takes_the_pasted_address(oauth_server: OAuthServer) -> None:
    manager, _, outbox = _oauth_manager(oauth_server)
    request(
        manager, "sign_in", {"values": manager.values, "provider": "configured", "client_id": "x", "method": "browser"}
    )
    assert outbox.reply("r1")["result"]["method"] == "browser"
    url = manager.sign_in["authorization_url"]
    landing = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    request(manager, "complete_sign_in", {"url": "http://127.0.0.1:1/?nothing=1"}, request_id="r2")
    assert outbox.reply("r2")["error"]["field"] == "url"
    request(manager, "complete_sign_in", {"url": landing}, request_id="r3")
    assert outbox.reply("r3")["result"]["state"] == "signed_in"
    _wait(lambda: manager.connection_name == "work")


def test_the_presets_come_from_the_form_and_the_client_secret_never_becomes_state() -> None:
    ms = provider_from({"provider": "microsoft", "client_id": "abc", "tenant": "organizations"}, {})
    assert ms.token_endpoint == "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
    google = provider_from({"provider": "google", "client_id": "g", "client_secret": "shh-secret"}, {})
    assert google.client_secret is not None and google.client_secret.reveal() == "shh-secret"
    with pytest.raises(nec.InvalidInputError) as info:
        provider_from({"provider": "microsoft", "client_id": " "}, {})
    assert info.value.field == "client_id"
    manager, _, outbox = make(backend=StandInBackend())
    manager._signin.start = lambda config, method, session_only: (_ for _ in ()).throw(nec.AuthenticationError("no"))
    values = {**manager.values, "name": "g", "username": "a@gmail.com", "imap_host": "imap.gmail.com"}
    request(
        manager, "sign_in", {"values": values, "provider": "google", "client_id": "g", "client_secret": "shh-secret"}
    )
    outbox.reply("r1")
    assert "shh-secret" not in widget_state_text(manager)
    assert all("shh-secret" not in str(m) for m in outbox.messages)


def test_a_custom_providers_client_secret_is_saved_with_the_connections_secrets_never_as_state(
    oauth_server: OAuthServer, memory_keyring: Any
) -> None:
    from nb_email_conn.paths import config_dir
    from nb_email_conn.store import load_connection
    from nb_email_conn.widgets.backend import KernelBackend

    oauth_server.client_secret = "corp-secret-42"  # the server refuses token requests without it
    manager, _, outbox = _oauth_manager(oauth_server)
    manager._backend = KernelBackend()  # the real store and secret store (an in-memory keyring)
    assert _secret_set(manager) is False
    request(manager, "save", {"values": manager.values, "client_secret": "corp-secret-42"})
    assert outbox.reply("r1")["ok"] is True
    assert _secret_set(manager) is True
    config, _ = load_connection("work")
    assert config.oauth is not None and config.oauth.client_secret is not None
    assert config.oauth.client_secret.reveal() == "corp-secret-42"
    files = "".join(p.read_text(errors="replace") for p in config_dir().rglob("*") if p.is_file())
    assert "corp-secret-42" not in files and "corp-secret-42" not in widget_state_text(manager)
    assert all("corp-secret-42" not in str(m) for m in outbox.messages)

    # A new form for the saved connection has it back (not as state) and signs in with it.
    again = nec.ConnectionManager("work")
    again_outbox = attach_outbox(again)
    assert again.client_secret_set is True and "corp-secret-42" not in widget_state_text(again)
    request(again, "sign_in", {"values": again.values, "provider": "configured", "client_id": "x"})
    assert again_outbox.reply("r1")["ok"] is True
    oauth_server.approve(_flow(again)["user_code"] or "")
    _wait(lambda: _flow(again)["state"] == "signed_in")
    assert "corp-secret-42" in str(oauth_server.state.requests)  # sent to the token endpoint only
    again.close()

    # Another registration never gets it.
    values = {**manager.values, "oauth": {**manager.values["oauth"], "client_id": "another-app"}}
    manager.values = values
    assert _secret_set(manager) is False
    assert manager.config.oauth is not None and manager.config.oauth.client_secret is None
    manager.close()


def test_a_bad_client_secret_names_its_field() -> None:
    manager, _, outbox = make(name="work", username="alice@example.org", imap_host="127.0.0.1")
    request(manager, "save", {"values": manager.values, "client_secret": "two\nlines", "password": "pw"})
    reply = outbox.reply("r1")
    assert reply["ok"] is False and reply["error"]["field"] == "client_secret"
