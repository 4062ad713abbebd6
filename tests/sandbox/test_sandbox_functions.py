"""The nine functions against the sandbox (pymap + aiosmtpd): special folders by name,
delivery to self, and the contract's behaviour on a server without RFC 6154 flags."""

from __future__ import annotations

import time

import pytest

import nb_email_conn as nec
from nb_email_conn.aliases import ready


@pytest.fixture
def conn() -> nec.EmailConnection:
    cfg = nec.sandbox.start(fresh=True)
    return nec.EmailConnection(cfg, approver=lambda request: nec.Decision.approve())


def wait_for(conn: nec.EmailConnection, query: str, folder: str = "INBOX") -> object:
    for _ in range(50):
        found = ready(conn.search_emails(query, folder=folder))
        if not found.empty:
            return found
        time.sleep(0.1)
    raise AssertionError(f"nothing matched {query!r} in {folder}")


def test_all_nine_functions_on_the_sandbox(conn: nec.EmailConnection) -> None:
    folders = ready(conn.list_folders())
    assert {"INBOX", "Sent", "Drafts", "Trash", "Archive", "Junk"} <= set(folders["name"])
    inbox = ready(conn.search_emails())
    assert len(inbox) > 50
    invoices = ready(conn.search_emails("subject:invoice has:attachment", limit=3))
    assert len(invoices) == 3
    email = ready(conn.get_email(invoices.iloc[0]))
    assert any(a.filename.endswith(".pdf") and a.data.startswith(b"%PDF") for a in email.attachments)

    sent = ready(conn.send_email(conn.config.username, "Note to self", "delivered by the sandbox SMTP"))
    assert sent.sent_ref is not None and "/Sent;" in sent.sent_ref  # Sent found by its name
    arrived = wait_for(conn, 'subject:"Note to self"')
    draft = ready(conn.create_draft("bob@example.org", "Draft by name", "b"))
    assert draft is not None and "/Drafts;" in draft

    ref = arrived.iloc[0]["ref"]  # type: ignore[attr-defined]
    assert conn.update_flags(ref, add="\\Flagged") == 1
    assert list(ready(conn.search_emails('is:flagged subject:"Note to self"'))["ref"]) == [ref]
    copies = ready(conn.copy_emails(ref, "Archive"))
    assert copies[0] is not None and ready(conn.get_email(copies[0])).subject == "Note to self"
    moved = ready(conn.move_emails(ref, "Junk"))
    assert moved[0] is not None
    assert conn.delete_emails(moved[0]) == 1  # to Trash, found by its name
    assert not ready(conn.search_emails('subject:"Note to self"', folder="Trash")).empty
