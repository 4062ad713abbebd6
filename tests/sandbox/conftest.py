"""Fixtures for the sandbox tests: one shared sandbox for read-only checks, and an isolated
NB_EMAIL_CONN_HOME for every test so no state file lands in the real config directory."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest

from nb_email_conn import sandbox as sandbox_module
from nb_email_conn.sandbox import Sandbox


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("NB_EMAIL_CONN_HOME", str(home))
    yield home
    sandbox_module.stop()


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[Sandbox]:
    """A sandbox for tests that only read the seeded mailbox."""
    with Sandbox() as running:
        yield running


def imap_login(sb: Sandbox, *, password: str | None = None) -> imapclient.IMAPClient:
    """A plain imapclient session: STARTTLS verified against the sandbox CA, then LOGIN."""
    client = imapclient.IMAPClient(sb.host, port=sb.imap_port, ssl=False, timeout=10)
    try:
        client.starttls(ssl.create_default_context(cafile=sb.ca_file))
        client.login(sb.username, sb.password if password is None else password)
    except BaseException:
        with contextlib.suppress(OSError):
            client.shutdown()
        raise
    return client
