"""The secret store: keyring when it works, session-only on request, and no secret in any message."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from servers.memory_keyring import MemoryKeyring

from nb_email_conn import secrets
from nb_email_conn.errors import InvalidInputError, SecretStoreError

PASSWORD = "s3cr3t-Pässwörd!"


class LockedKeyring(MemoryKeyring):
    """A keyring that refuses every write, with a careless message that repeats its input."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked(f"collection is locked, could not store {password}")


@pytest.fixture(autouse=True)
def _restore_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    secrets._session.clear()
    yield
    secrets._session.clear()
    keyring.set_keyring(previous)


@pytest.fixture
def memory() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def no_keyring() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())


def test_status_names_a_working_backend(memory: MemoryKeyring) -> None:
    usable, text = secrets.keyring_status()
    assert usable
    assert "MemoryKeyring" in text


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring()])
def test_status_says_plainly_when_no_backend_works(backend: keyring.backend.KeyringBackend) -> None:
    keyring.set_keyring(backend)
    usable, text = secrets.keyring_status()
    assert not usable
    assert "session_only=True" in text
    assert "keyrings.alt" not in text  # that package would store the password in plaintext


def test_password_round_trip_through_the_keyring(memory: MemoryKeyring) -> None:
    assert secrets.store_password("work", PASSWORD) == "keyring"
    assert memory.passwords == {("nb-email-conn", "work"): PASSWORD}
    assert secrets.get_password("work") == PASSWORD
    secrets.forget_password("work")
    assert memory.passwords == {}
    with pytest.raises(SecretStoreError, match=r"no password saved for connection 'work'.*save_connection"):
        secrets.get_password("work")


def test_forgetting_a_missing_password_is_fine(memory: MemoryKeyring) -> None:
    secrets.forget_password("never-saved")
    keyring.set_keyring(keyring.backends.fail.Keyring())
    secrets.forget_password("never-saved")


def test_session_only_never_touches_the_keyring(memory: MemoryKeyring) -> None:
    assert secrets.store_password("demo", PASSWORD, session_only=True) == "session"
    assert memory.passwords == {}
    assert secrets.get_password("demo") == PASSWORD
    secrets.forget_password("demo")
    with pytest.raises(SecretStoreError):
        secrets.get_password("demo")


def test_session_password_wins_until_a_new_keyring_password_is_saved(memory: MemoryKeyring) -> None:
    secrets.store_password("work", "old-password")
    secrets.remember_session_password("work", "session-password")
    assert secrets.get_password("work") == "session-password"
    secrets.store_password("work", "new-password")
    assert secrets.get_password("work") == "new-password"


def test_without_keyring_saving_fails_clearly_and_session_only_works(no_keyring: None) -> None:
    with pytest.raises(SecretStoreError) as info:
        secrets.store_password("work", PASSWORD)
    message = str(info.value)
    assert "session_only=True" in message
    assert "no keyring backend" in message
    assert PASSWORD not in message
    with pytest.raises(SecretStoreError, match="session_only=True"):
        secrets.get_password("work")
    assert secrets.store_password("work", PASSWORD, session_only=True) == "session"
    assert secrets.get_password("work") == PASSWORD


def test_keyring_failure_names_the_backend_but_never_the_password() -> None:
    keyring.set_keyring(LockedKeyring())
    with pytest.raises(SecretStoreError) as info:
        secrets.store_password("work", PASSWORD)
    message = str(info.value)
    assert PASSWORD not in message
    assert "LockedKeyring" in message
    assert "KeyringLocked" in message
    assert "session_only=True" in message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_bad_password_is_refused_without_echoing_it(memory: MemoryKeyring) -> None:
    for bad in ("line\r\nbreak-secret", "", "nul\x00secret"):
        with pytest.raises(InvalidInputError) as info:
            secrets.store_password("work", bad)
        assert info.value.field == "password"
        assert "secret" not in str(info.value)
    assert memory.passwords == {}


def test_no_password_in_logs(memory: MemoryKeyring, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets.store_password("work", PASSWORD)
    secrets.get_password("work")
    secrets.forget_password("work")
    assert PASSWORD not in caplog.text


def test_secret_wrapper_hides_its_value() -> None:
    secret = secrets.Secret(PASSWORD)
    assert secret.reveal() == PASSWORD
    for shown in (str(secret), repr(secret), f"{secret}", repr([secret]), repr({"password": secret})):
        assert PASSWORD not in shown
        assert "********" in shown
    with pytest.raises(TypeError):
        pickle.dumps(secret)


# --- OAuth secrets ---------------------------------------------------------------------------


def test_oauth_secrets_round_trip_through_their_own_keyring_services(memory: MemoryKeyring) -> None:
    assert secrets.store_secret("refresh_token", "work", "rt-value") == "keyring"
    assert secrets.store_secret("client_secret", "work", "cs-value") == "keyring"
    secrets.store_password("work", PASSWORD)
    assert memory.passwords == {
        ("nb-email-conn-oauth2", "work"): "rt-value",
        ("nb-email-conn-oauth2-client", "work"): "cs-value",
        ("nb-email-conn", "work"): PASSWORD,
    }
    assert secrets.get_secret("refresh_token", "work") == "rt-value"
    assert secrets.secret_location("refresh_token", "work") == "keyring"
    secrets.forget_secret("refresh_token", "work")
    assert secrets.get_secret("refresh_token", "work") is None and secrets.get_password("work") == PASSWORD
    secrets.forget_all("work")
    assert memory.passwords == {}


def test_session_only_oauth_secrets_never_reach_the_keyring(memory: MemoryKeyring) -> None:
    assert secrets.store_secret("refresh_token", "s", "rt", session_only=True) == "session"
    assert memory.passwords == {} and secrets.secret_location("refresh_token", "s") == "session"
    secrets.forget_all("s")
    assert secrets.get_secret("refresh_token", "s") is None


def test_without_a_keyring_an_oauth_secret_is_refused_plainly_and_reads_as_absent(no_keyring: None) -> None:
    with pytest.raises(SecretStoreError, match="session_only=True") as info:
        secrets.store_secret("refresh_token", "w", "rt-secret-value")
    assert "rt-secret-value" not in str(info.value)
    assert secrets.get_secret("refresh_token", "w") is None
    secrets.forget_secret("refresh_token", "w")


def test_a_keyring_failure_never_repeats_the_token() -> None:
    keyring.set_keyring(LockedKeyring())
    with pytest.raises(SecretStoreError) as info:
        secrets.store_secret("refresh_token", "w", "rt-secret-value")
    assert "rt-secret-value" not in str(info.value) and "OAuth refresh token" in str(info.value)


@pytest.mark.parametrize("value", ["", "a\r\nb", None])
def test_a_malformed_oauth_secret_is_refused(memory: MemoryKeyring, value: object) -> None:
    with pytest.raises(InvalidInputError):
        secrets.store_secret("refresh_token", "w", value)  # type: ignore[arg-type]
