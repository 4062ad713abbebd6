from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers.dovecot import DovecotServer

import nb_email_conn as nec


@pytest.fixture
def cached(fresh_mailbox: DovecotServer) -> Iterator[nec.EmailConnection]:
    """alice on Dovecot with the local index (its own file under this test's config folder)."""
    connection = nec.EmailConnection(fresh_mailbox.config(), password=fresh_mailbox.password, cache=True)
    yield connection
    connection.close()


@pytest.fixture
def uncached(fresh_mailbox: DovecotServer) -> Iterator[nec.EmailConnection]:
    connection = nec.EmailConnection(fresh_mailbox.config(), password=fresh_mailbox.password)
    yield connection
    connection.close()
