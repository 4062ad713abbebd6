"""Hostile and malformed arguments: a typed error, nothing sent, the mailbox unchanged.

imapclient passes CR/LF inside arguments straight onto the wire (its issue #657), so a
search text with CRLF could run an injected command; every value is checked first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready

from .helpers import seed_inbox, snapshot

pytestmark = pytest.mark.dovecot

INJECTIONS = ["x\r\nA1 DELETE INBOX", "x\nA1 EXPUNGE", "x\rA1 LOGOUT", "x\x00y", "{5}\r\nhello"]
ODD_BUT_LEGAL = ['say "hi"', "back\\slash", "{5}", "naïve café 日本語", "%*", "x" * 4_000]


@pytest.fixture
def seeded(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> tuple[nec.EmailConnection, Any]:
    seed_inbox(fresh_mailbox, 3)
    return conn, snapshot(fresh_mailbox)


def injection_calls(conn: nec.EmailConnection, ref: str, bad: str) -> list[Callable[[], object]]:
    return [
        lambda: conn.search_emails(bad),
        lambda: conn.search_emails(subject=bad),
        lambda: conn.search_emails(from_=bad),
        lambda: conn.search_emails(folder=bad),
        lambda: conn.update_flags(ref, add=bad),
        lambda: conn.update_flags(ref, remove=[bad]),
        lambda: conn.move_emails(ref, bad),
        lambda: conn.copy_emails(ref, bad),
        lambda: conn.get_email(ref + bad),
        lambda: conn.send_email("bob@example.org", bad, "body"),
        lambda: conn.send_email(f"bob@example.org{bad}", "s", "body"),
        lambda: conn.send_email("bob@example.org", "s", "b", cc=[bad]),
        lambda: conn.send_email("bob@example.org", "s", "b", in_reply_to=f"<a{bad}@b>"),
        lambda: conn.send_email("bob@example.org", "s", "b", attachments=[(f"a{bad}.txt", b"x")]),
        lambda: conn.create_draft("bob@example.org", bad, "body"),
    ]


@pytest.mark.parametrize("bad", INJECTIONS)
def test_control_characters_are_refused_and_nothing_changes(
    seeded: tuple[nec.EmailConnection, Any], fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, bad: str
) -> None:
    conn, before = seeded
    ref = ready(conn.search_emails()).iloc[0]["ref"]
    for call in injection_calls(conn, ref, bad):
        with pytest.raises(nec.InvalidInputError):
            call()
    assert snapshot(fresh_mailbox) == before
    assert smtp_starttls.messages == []
    assert len(ready(conn.search_emails())) == 3  # the session is still in a sane state


@pytest.mark.parametrize("odd", ODD_BUT_LEGAL)
def test_quotes_literals_unicode_and_long_text_are_searched_safely(
    seeded: tuple[nec.EmailConnection, Any], fresh_mailbox: DovecotServer, odd: str
) -> None:
    conn, before = seeded
    assert ready(conn.search_emails(subject=odd)).empty
    assert ready(conn.search_emails(f'"{odd}"' if '"' not in odd else odd.replace('"', ""))).empty
    assert snapshot(fresh_mailbox) == before
    assert len(ready(conn.search_emails())) == 3


def test_unknown_folders_operators_and_keywords_are_named(seeded: tuple[nec.EmailConnection, Any]) -> None:
    conn, _ = seeded
    with pytest.raises(nec.InvalidInputError, match="too long"):
        conn.search_emails(subject="x" * 100_000)
    ref = ready(conn.search_emails()).iloc[0]["ref"]
    with pytest.raises(nec.InvalidInputError, match="no folder 'Nope'"):
        conn.search_emails(folder="Nope")
    with pytest.raises(nec.InvalidInputError, match="no folder 'Nope'"):
        conn.move_emails(ref, "Nope")
    with pytest.raises(nec.InvalidInputError, match="frm"):
        conn.search_emails("frm:bob")
    with pytest.raises(nec.InvalidInputError, match="sender"):
        conn.search_emails(sender="bob")
    with pytest.raises(nec.InvalidInputError, match="limit"):
        conn.search_emails(limit=0)
    with pytest.raises(nec.InvalidInputError):
        conn.update_flags(ref)  # neither add nor remove
    with pytest.raises(nec.InvalidInputError, match="Recent"):
        conn.update_flags(ref, add="\\Recent")


@pytest.mark.parametrize(
    "address",
    ["alice@example.org)<bob@example.org>", "alice@example.org <bob@example.org>", "bob", "a@b@c", "<a@b.com"],
)
def test_ambiguous_addresses_are_refused_not_guessed(
    seeded: tuple[nec.EmailConnection, Any], smtp_starttls: SmtpServer, address: str
) -> None:
    conn, _ = seeded
    with pytest.raises(nec.InvalidInputError):
        conn.send_email(address, "s", "b")
    assert smtp_starttls.messages == []


def test_refs_from_another_account_are_refused(
    seeded: tuple[nec.EmailConnection, Any], fresh_mailbox: DovecotServer
) -> None:
    conn, before = seeded
    ref = ready(conn.search_emails()).iloc[0]["ref"]
    foreign = ref.replace("alice%40example.org", "bob%40example.org")
    with pytest.raises(nec.InvalidInputError, match="belongs to the account"):
        conn.delete_emails(foreign, permanent=True)
    with pytest.raises(nec.InvalidInputError, match="belongs to the server"):
        conn.get_email(ref.replace("@127.0.0.1/", "@mail.example.com/"))
    assert snapshot(fresh_mailbox) == before
