"""A keyring backend for subprocesses under test: passwords from ``NB_TEST_KEYRING`` (JSON), in memory only.

``nb-email-conn mcp NAME`` reads its password from the secret store; a test's in-memory
keyring lives in the test process, so the child gets this one through
``PYTHON_KEYRING_BACKEND=env_keyring.EnvKeyring`` and never touches a real keyring.
"""

from __future__ import annotations

import json
import os

import keyring.backend
import keyring.errors


class EnvKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        raw = json.loads(os.environ.get("NB_TEST_KEYRING", "{}"))
        self.passwords: dict[tuple[str, str], str] = {(s, u): p for s, u, p in raw}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)
