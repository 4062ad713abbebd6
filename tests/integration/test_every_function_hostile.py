"""Every public function of the registry, against every hostile server: only typed errors escape.

Each scenario is a real Dovecot behind a proxy that lies in one way after login
(``tests/servers/faults.py``: 10 GB literals, unsolicited responses, malformed FETCH rows,
unbalanced parentheses, odd folder names, BYE, a cut inside a literal, garbage, unknown tags,
no UIDVALIDITY, a 3 MB line, huge UID sets, a stall), a fake IMAP server that attacks TLS
(``hostile.py``), or a fake SMTP server (no STARTTLS, STARTTLS refused, no 8BITMIME, a drop
during DATA). Every function runs with its policy "enabled" and valid arguments; each call
may succeed or raise an ``nec.EmailConnError`` subclass, and nothing else.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from servers import hostile
from servers.certs import TestCerts
from servers.dovecot import DovecotServer
from servers.faults import IMAP_FAULTS, hostile_proxy
from servers.smtp import SmtpServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready
from nb_email_conn.functions import FUNCTIONS

from .helpers import ALICE, seed_inbox

pytestmark = pytest.mark.dovecot

EIGHT_BIT_ORIGINAL = (
    b"From: Carol <carol@example.net>\r\nTo: alice@example.org\r\nSubject: caf\xc3\xa9\r\n"
    b"Date: Fri, 01 Mar 2024 09:00:00 +0000\r\nMessage-ID: <8bit@example.net>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nd\xc3\xa9j\xc3\xa0 vu\r\n"
)

Call = tuple[str, Callable[[nec.EmailConnection], Any]]


def every_call(refs: list[str]) -> list[Call]:
    """Valid calls of every registry function (some twice, with other arguments)."""
    calls: list[Call] = [
        ("list_folders", lambda c: c.list_folders()),
        ("search_emails", lambda c: c.search_emails("from:bob")),
        ("search_emails", lambda c: c.search_emails(limit=2, has_attachment=True)),
        ("get_email", lambda c: c.get_email(refs[0])),
        ("get_email", lambda c: c.get_email(refs[1], mark_seen=True)),
        ("send_email", lambda c: c.send_email("bob@example.org", "Hello", "Hi Bob")),
        ("create_draft", lambda c: c.create_draft("bob@example.org", "Draft", "later")),
        ("delete_emails", lambda c: c.delete_emails(refs[2])),
        ("delete_emails", lambda c: c.delete_emails(refs[3], permanent=True)),
        ("update_flags", lambda c: c.update_flags(refs[4], add="\\Flagged", remove="\\Seen")),
        ("move_emails", lambda c: c.move_emails(refs[5], "Archive")),
        ("copy_emails", lambda c: c.copy_emails(refs[0], "Archive")),
        ("reply_email", lambda c: c.reply_email(refs[1], "Thanks")),
        ("forward_email", lambda c: c.forward_email(refs[6], "carol@example.net", "FYI", as_attachment=True)),
    ]
    assert {name for name, _ in calls} == set(FUNCTIONS), "a registry function is not exercised"
    return calls


def run_all(cfg: nec.ConnectionConfig, password: str, refs: list[str]) -> list[str]:
    """Each call once on one connection; the untyped exceptions that escaped, as text."""
    conn = nec.EmailConnection(cfg, password=password)
    for name in FUNCTIONS:
        conn.policies[name] = "enabled"
    escaped: list[str] = []
    try:
        for name, call in every_call(refs):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    call(conn)
            except nec.EmailConnError:
                pass
            except Exception as exc:  # the thing this test is about
                escaped.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        try:
            conn.close()
        except nec.EmailConnError:
            pass
    return escaped


@pytest.fixture
def refs(fresh_mailbox: DovecotServer) -> list[str]:
    """Refs of seven messages (one with an attachment, one an 8-bit original), read on a clean connection."""
    seed_inbox(fresh_mailbox, 6)
    fresh_mailbox.append(ALICE, "INBOX", EIGHT_BIT_ORIGINAL)
    conn = nec.EmailConnection(fresh_mailbox.config(ALICE), password=fresh_mailbox.password)
    try:
        frame = ready(conn.search_emails())
    finally:
        conn.close()
    ordered = frame.sort_values("uid")["ref"].tolist()
    return [*ordered[:6], ordered[6]]


@pytest.mark.parametrize("fault", sorted(IMAP_FAULTS))
def test_every_function_against_a_lying_imap_server(
    fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, refs: list[str], fault: str
) -> None:
    proxy, rule = hostile_proxy(fresh_mailbox.plain_port, fault, timeout=5.0)
    with proxy:
        timeout = 0.5 if fault == "stall" else 2.0  # the stall scenario waits this long per call
        cfg = fresh_mailbox.config(ALICE, encryption="None", smtp=smtp_starttls, imap_port=proxy.port, timeout=timeout)
        escaped = run_all(cfg, fresh_mailbox.password, refs)
    assert rule.hits, f"the fault {fault!r} never happened"
    assert escaped == []


@contextmanager
def _imap_fake(kind: str, certs: TestCerts) -> Iterator[hostile.FakeServer]:
    factories = {
        "no STARTTLS": hostile.imap_without_starttls,
        "STARTTLS refused": hostile.imap_starttls_refused,
        "PREAUTH": hostile.imap_preauth,
        "STARTTLS injection": hostile.imap_starttls_injection,
    }
    with factories[kind](certs.server) as fake:
        yield fake


@pytest.mark.parametrize("kind", ["no STARTTLS", "STARTTLS refused", "PREAUTH", "STARTTLS injection"])
def test_every_function_against_a_tls_attacking_imap_server(
    test_certs: TestCerts, smtp_starttls: SmtpServer, refs: list[str], kind: str
) -> None:
    with _imap_fake(kind, test_certs) as fake:
        cfg = nec.ConnectionConfig(
            name="fake", username=ALICE, imap_host="127.0.0.1", imap_port=fake.port, imap_encryption="StartTls",
            smtp_host=smtp_starttls.host, smtp_port=smtp_starttls.port, smtp_encryption="StartTls",
            ca_file=str(test_certs.ca_file), timeout=2.0,
        )  # fmt: skip
        escaped = run_all(cfg, "alicepass", refs)
    assert escaped == []
    assert not fake.clear_login


@pytest.mark.parametrize("kind", ["no STARTTLS", "STARTTLS refused", "no 8BITMIME", "drop in DATA"])
def test_every_function_against_a_hostile_smtp_server(fresh_mailbox: DovecotServer, refs: list[str], kind: str) -> None:
    factories = {
        "no STARTTLS": (hostile.smtp_without_starttls, "StartTls"),
        "STARTTLS refused": (hostile.smtp_starttls_refused, "StartTls"),
        "no 8BITMIME": (hostile.smtp_without_8bitmime, "None"),
        "drop in DATA": (hostile.smtp_dropping_in_data, "None"),
    }
    factory, encryption = factories[kind]
    with ExitStack() as stack:
        fake = stack.enter_context(factory())
        cfg = fresh_mailbox.config(
            ALICE, smtp_host=fake.host, smtp_port=fake.port, smtp_encryption=encryption, timeout=2.0
        )
        escaped = run_all(cfg, fresh_mailbox.password, refs)
    assert escaped == []
    if encryption != "None":
        assert not fake.clear_login  # required STARTTLS: the password never went in clear
