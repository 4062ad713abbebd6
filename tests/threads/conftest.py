from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers.dovecot import DovecotServer

import nb_email_conn as nec


@pytest.fixture
def conn(fresh_mailbox: DovecotServer) -> Iterator[nec.EmailConnection]:
    """alice on Dovecot (implicit TLS), uncached."""
    connection = nec.EmailConnection(fresh_mailbox.config(), password=fresh_mailbox.password)
    yield connection
    connection.close()
