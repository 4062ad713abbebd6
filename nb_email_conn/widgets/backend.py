"""What the connection manager asks of the rest of the package, in one narrow interface.

``KernelBackend`` forwards to the package's diagnostics, store, secrets and connection
modules (imported when first used); tests and embedders may pass another implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..config import ConnectionConfig


class ManagerBackend(Protocol):
    def test_connection(self, config: ConnectionConfig, password: str | None) -> dict[str, Any]:
        """Run the connection test (no mail sent); the report as a JSON-safe dict with
        ``ok``, ``insecure`` and ``steps`` [{protocol, name, ok, detail}]."""

    def open_connection(self, config: ConnectionConfig, password: str | None, policies: Mapping[str, str]) -> Any:
        """A ready EmailConnection (password ``None``: the one in the secret store)."""

    def save(
        self, config: ConnectionConfig, password: str | None, policies: Mapping[str, str], session_only: bool
    ) -> None: ...

    def load(self, name: str) -> tuple[ConnectionConfig, dict[str, str]]: ...

    def list_saved(self) -> list[ConnectionConfig]: ...

    def forget(self, name: str) -> None: ...

    def keyring_status(self) -> tuple[bool, str]: ...


class KernelBackend:
    """The real thing: the package's own modules."""

    def test_connection(self, config: ConnectionConfig, password: str | None) -> dict[str, Any]:
        from ..diagnostics import test_connection

        report = test_connection(config, password)  # None: the stored password, or an OAuth sign-in's tokens
        result: dict[str, Any] = report.to_dict()
        return result

    def open_connection(self, config: ConnectionConfig, password: str | None, policies: Mapping[str, str]) -> Any:
        from ..connection import EmailConnection

        return EmailConnection(config, password, policies=dict(policies))

    def save(
        self, config: ConnectionConfig, password: str | None, policies: Mapping[str, str], session_only: bool
    ) -> None:
        from ..store import save_connection

        save_connection(config, password, policies=dict(policies), session_only=session_only)

    def load(self, name: str) -> tuple[ConnectionConfig, dict[str, str]]:
        from ..store import load_connection

        config, policies = load_connection(name)
        return config, dict(policies)

    def list_saved(self) -> list[ConnectionConfig]:
        from ..store import list_connections

        return list(list_connections())

    def forget(self, name: str) -> None:
        from ..store import forget_connection

        forget_connection(name)

    def keyring_status(self) -> tuple[bool, str]:
        from ..secrets import keyring_status

        usable, description = keyring_status()
        return bool(usable), str(description)
