from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

import nb_email_conn as nec


@pytest.fixture
def approvals() -> list[nec.ActionRequest]:
    return []


@pytest.fixture
def conn(
    fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, approvals: list[nec.ActionRequest]
) -> Iterator[nec.EmailConnection]:
    """alice on Dovecot (implicit TLS) + the STARTTLS SMTP server; every request is approved and recorded."""

    def approve(request: nec.ActionRequest) -> nec.Decision:
        approvals.append(request)
        return nec.Decision.approve(decided_by="test")

    cfg = fresh_mailbox.config("alice@example.org", smtp=smtp_starttls)
    connection = nec.EmailConnection(cfg, password=fresh_mailbox.users["alice@example.org"], approver=approve)
    yield connection
    connection.close()
