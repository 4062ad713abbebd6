"""Agents on real servers: alice on Dovecot + the STARTTLS SMTP server, with a recording approver.

``decisions`` is the queue of answers the approver gives (default: approve); ``asked`` records
every request it saw, so a test proves the gate decided exactly once per call.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agent_support.helpers import Reviewer
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

import nb_email_conn as nec


@pytest.fixture
def reviewer() -> Reviewer:
    return Reviewer()


@pytest.fixture
def conn(fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer) -> Iterator[nec.EmailConnection]:
    cfg = fresh_mailbox.config("alice@example.org", smtp=smtp_starttls)
    connection = nec.EmailConnection(cfg, password=fresh_mailbox.users["alice@example.org"], approver=reviewer)
    yield connection
    connection.close()
