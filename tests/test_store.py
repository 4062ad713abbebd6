"""Saved connections: TOML settings (never a password), keyring secrets, atomic private files."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
from servers.memory_keyring import MemoryKeyring

import nb_email_conn as nec
from nb_email_conn import secrets, store
from nb_email_conn.config import ConnectionConfig, Encryption
from nb_email_conn.errors import InvalidInputError, SecretStoreError
from nb_email_conn.functions.policies import Policies

PASSWORD = "Tr0ub4dor&3-ÿ"


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    secrets._session.clear()
    yield backend
    secrets._session.clear()
    keyring.set_keyring(previous)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "nec home"  # not created yet: save_connection makes it
    monkeypatch.setenv("NB_EMAIL_CONN_HOME", str(folder))
    return folder


def _config(name: str = "work", **changes: object) -> ConnectionConfig:
    values: dict[str, object] = {
        "name": name,
        "username": "zoë.ångström@example.org",
        "imap_host": "imap.example.org",
        "imap_encryption": "StartTls",
        "imap_port": 143,
        "smtp_host": "smtp.example.org",
        "smtp_encryption": "SslOnConnect",
        "from_address": "Zoë Ångström <zoe@example.org>",
        "timeout": 12.5,
    }
    values.update(changes)
    return ConnectionConfig(**values)  # type: ignore[arg-type]


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_round_trip_keeps_every_setting_including_non_ascii(home: Path, memory: MemoryKeyring, tmp_path: Path) -> None:
    ca_dir = tmp_path / "certificats-é"
    ca_dir.mkdir()
    ca_file = ca_dir / "ça.pem"
    ca_file.write_text("not checked here")
    config = _config(ca_file=str(ca_file), verify_tls=False)
    nec.save_connection(config, password=PASSWORD, policies={"send_email": "disabled"})

    loaded, policies = store.load_connection("work")
    assert loaded == config
    assert loaded.imap_encryption is Encryption.STARTTLS
    assert policies["send_email"] == "disabled"
    assert policies["get_email"] == "enabled"
    assert policies["delete_emails"] == "confirm"
    assert memory.passwords == {("nb-email-conn", "work"): PASSWORD}
    assert "zoë.ångström@example.org" in (home / "connections.toml").read_text(encoding="utf-8")


def test_files_are_private_and_never_hold_the_password(home: Path, memory: MemoryKeyring) -> None:
    nec.save_connection(_config(), password=PASSWORD)
    nec.save_connection(_config("second"), password=PASSWORD + "-2", session_only=True)
    nec.save_connection(_config(), password=PASSWORD)  # rewrite: still atomic, still private
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "connections.toml").stat().st_mode) == 0o600
    assert sorted(p.name for p in home.iterdir()) == [".connections.lock", "connections.toml"]  # no temp file left
    content = _all_bytes(home)
    assert PASSWORD.encode() not in content
    assert b"password" not in content.lower()


def test_saving_again_replaces_settings_and_keeps_secret_and_policies(home: Path, memory: MemoryKeyring) -> None:
    nec.save_connection(_config(), password=PASSWORD, policies={"move_emails": "enabled"})
    nec.save_connection(_config(imap_host="mail.example.net", timeout=60))  # no password, no policies
    config, policies = store.load_connection("work")
    assert config.imap_host == "mail.example.net"
    assert config.timeout == 60.0
    assert policies["move_emails"] == "enabled"
    assert secrets.get_password("work") == PASSWORD

    nec.save_connection(_config(), policies={})  # explicit policies: the defaults again
    assert store.load_connection("work")[1]["move_emails"] == "confirm"


def test_list_connections_sorted_by_name(home: Path, memory: MemoryKeyring) -> None:
    assert nec.list_connections() == []
    for name in ("zeta", "Alpha mail", "beta"):
        nec.save_connection(_config(name))
    assert [c.name for c in nec.list_connections()] == sorted(["zeta", "Alpha mail", "beta"])


def test_unknown_name_lists_the_saved_ones(home: Path, memory: MemoryKeyring) -> None:
    nec.save_connection(_config("work"))
    nec.save_connection(_config("home"))
    with pytest.raises(InvalidInputError, match=r"no saved connection named 'wrok'.*'home', 'work'"):
        store.load_connection("wrok")
    with pytest.raises(InvalidInputError, match="'home', 'work'"):
        nec.connect("wrok")


def test_forget_connection_removes_settings_and_secret(home: Path, memory: MemoryKeyring) -> None:
    nec.save_connection(_config("work"), password=PASSWORD)
    nec.save_connection(_config("home"), password="other")
    nec.forget_connection("work")
    assert [c.name for c in nec.list_connections()] == ["home"]
    assert ("nb-email-conn", "work") not in memory.passwords
    assert ("nb-email-conn", "home") in memory.passwords
    with pytest.raises(InvalidInputError, match="no saved connection named 'work'"):
        nec.forget_connection("work")


def test_corrupt_file_names_file_and_line_and_is_left_alone(home: Path, memory: MemoryKeyring) -> None:
    home.mkdir()
    path = home / "connections.toml"
    broken = '[connections.work]\nusername = "a@example.org"\nimap_host = "imap.example.org\n'
    path.write_text(broken)
    for action in (
        nec.list_connections,
        lambda: store.load_connection("work"),
        lambda: nec.save_connection(_config("new"), password=PASSWORD),
    ):
        with pytest.raises(InvalidInputError) as info:
            action()
        assert str(path) in str(info.value)
        assert "line 3" in str(info.value)
    assert path.read_text() == broken  # a save did not overwrite what the user may want to fix
    assert memory.passwords == {}  # and stored no password for a connection it could not save


def test_bad_values_in_the_file_name_the_connection(home: Path, memory: MemoryKeyring) -> None:
    home.mkdir()
    (home / "connections.toml").write_text(
        '[connections.work]\nusername = "a@example.org"\nimap_host = "imap.example.org"\nimap_port = 99999\n'
        '[connections.work.policies]\nsend_email = "sometimes"\n'
    )
    with pytest.raises(InvalidInputError, match=r"saved connection 'work' in .*imap_port") as info:
        store.load_connection("work")
    assert info.value.field == "imap_port"


def test_without_keyring_a_save_with_password_changes_nothing(home: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        with pytest.raises(SecretStoreError, match="session_only=True") as info:
            nec.save_connection(_config(), password=PASSWORD)
        assert PASSWORD not in str(info.value)
        assert not (home / "connections.toml").exists()
        nec.save_connection(_config(), password=PASSWORD, session_only=True)
        assert stat.S_IMODE((home / ".connections.lock").stat().st_mode) == 0o600
        assert secrets.get_password("work") == PASSWORD
        assert PASSWORD.encode() not in _all_bytes(home)
    finally:
        secrets._session.clear()
        keyring.set_keyring(previous)


def test_save_connection_refuses_what_is_not_a_config(home: Path, memory: MemoryKeyring) -> None:
    with pytest.raises(InvalidInputError, match="ConnectionConfig"):
        nec.save_connection({"name": "work"}, password=PASSWORD)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="policy"):
        nec.save_connection(_config(), password=PASSWORD, policies={"send_email": "sometimes"})
    assert memory.passwords == {}
    assert not home.exists()


def test_concurrent_saves_lose_nothing(home: Path, memory: MemoryKeyring) -> None:
    names = [f"conn-{i}" for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda name: nec.save_connection(_config(name)), names))
    assert [c.name for c in nec.list_connections()] == sorted(names)


def test_connect_builds_the_connection_from_saved_settings(home: Path, memory: MemoryKeyring) -> None:
    config = _config()
    nec.save_connection(config, password=PASSWORD, policies={"send_email": "disabled", "move_emails": "enabled"})

    def approver(request: object) -> bool:
        return True

    conn = nec.connect("work", approver=approver)  # builds only; no network until first use
    assert isinstance(conn, nec.EmailConnection)
    assert conn.config == config
    assert conn.name == "work"
    assert conn.approver is approver
    assert conn.policies["send_email"] is nec.Policy.DISABLED
    assert conn.policies["move_emails"] is nec.Policy.ENABLED
    assert conn._credential() == PASSWORD
    assert PASSWORD not in repr(conn)


def test_connect_passes_an_explicit_password_without_reading_the_keyring(
    home: Path, memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nb_email_conn.connection as connection_module

    seen: dict[str, object] = {}

    class StandIn:
        def __init__(self, config: ConnectionConfig, *, password: str, approver: object, policies: dict[str, str]):
            seen.update(config=config, password=password, approver=approver, policies=policies)

    monkeypatch.setattr(connection_module, "EmailConnection", StandIn)
    nec.save_connection(_config())  # no password saved anywhere
    store.connect("work", password="given")
    assert seen["password"] == "given"
    assert seen["policies"] == Policies().to_dict()
    with pytest.raises(SecretStoreError, match="no password saved for connection 'work'"):
        store.connect("work")


# --- OAuth connections -------------------------------------------------------------------------


def _google_config(secret: str = "google-client-secret-value") -> ConnectionConfig:
    provider = nec.OAuthProvider.google("1234.apps.googleusercontent.com", secret)
    return ConnectionConfig(name="gmail", username="alice@gmail.com", imap_host="imap.gmail.com", oauth=provider)


def test_an_oauth_connection_saves_its_provider_but_keeps_the_client_secret_in_the_keyring(
    memory: MemoryKeyring, home: Path
) -> None:
    cfg = _google_config()
    store.save_connection(cfg)  # no password: it signs in with OAuth
    text = (home / "connections.toml").read_text()
    assert 'auth = "oauth2"' in text and "[connections.gmail.oauth]" in text
    assert "google-client-secret-value" not in text
    assert memory.passwords == {("nb-email-conn-oauth2-client", "gmail"): "google-client-secret-value"}
    loaded, _ = store.load_connection("gmail")
    assert loaded == cfg and loaded.oauth is not None and loaded.oauth.client_secret is not None
    assert [c.name for c in store.list_connections()] == ["gmail"]


def test_forgetting_an_oauth_connection_removes_its_tokens_and_client_secret(memory: MemoryKeyring, home: Path) -> None:
    store.save_connection(_google_config())
    secrets.store_secret("refresh_token", "gmail", "rt-123")
    store.forget_connection("gmail")
    assert memory.passwords == {}
    assert secrets.get_secret("refresh_token", "gmail") is None


def test_connect_to_an_oauth_connection_needs_no_password(memory: MemoryKeyring, home: Path) -> None:
    from nb_email_conn.oauth.tokens import TokenSource

    store.save_connection(_google_config())
    conn = nec.connect("gmail")  # builds only; the tokens come from nec.sign_in when first used
    assert isinstance(conn._credential, TokenSource)
    assert conn.config.oauth is not None and conn.config.oauth.client_secret is not None
    with pytest.raises(nec.AuthenticationError, match="not signed in"):
        conn._credential()
