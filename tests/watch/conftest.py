from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers.certs import TestCerts
from servers.dovecot import DovecotServer, dovecot_available
from watch.watch_servers import DovecotWithoutIdle

import nb_email_conn as nec


@pytest.fixture
def conn(fresh_mailbox: DovecotServer) -> Iterator[nec.EmailConnection]:
    connection = nec.EmailConnection(fresh_mailbox.config(), password=fresh_mailbox.password)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def dovecot_without_idle(test_certs: TestCerts) -> Iterator[DovecotServer]:
    if not dovecot_available():
        pytest.skip("Dovecot is not installed")
    server = DovecotWithoutIdle(certs=test_certs)
    server.start()
    yield server
    server.stop()
