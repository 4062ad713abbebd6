"""TLS modes, downgrade attacks, certificate checks, timeouts, reconnects and secrets.

Real Dovecot and aiosmtpd for the modes; hostile fakes (tests/servers/hostile.py) only
for what a real server will not do: refuse or skip STARTTLS, PREAUTH, injected bytes,
dropped connections.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator

import pytest
from servers import hostile
from servers.certs import TestCerts
from servers.dovecot import DovecotServer
from servers.ports import free_port
from servers.smtp import SmtpServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready
from nb_email_conn.imap.session import ImapSession

from .helpers import ALICE, seed_inbox, snapshot

pytestmark = pytest.mark.dovecot
PASSWORD = "alicepass"


def fake_config(port: int, encryption: str, ca_file: str | None, **changes: object) -> nec.ConnectionConfig:
    settings: dict[str, object] = {
        "name": "fake",
        "username": ALICE,
        "imap_host": "127.0.0.1",
        "imap_port": port,
        "imap_encryption": encryption,
        "smtp_port": port,
        "smtp_encryption": encryption,
        "ca_file": ca_file,
        "timeout": 5.0,
    }
    settings.update(changes)
    return nec.ConnectionConfig(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("encryption", "smtp_fixture", "tls_expected"),
    [
        ("SslOnConnect", "smtp_implicit", True),
        ("StartTls", "smtp_starttls", True),
        ("Auto", "smtp_starttls", True),
        ("None", "smtp_plain", False),
    ],
)
def test_the_four_encryption_modes_connect_and_report_tls(
    dovecot: DovecotServer, request: pytest.FixtureRequest, encryption: str, smtp_fixture: str, tls_expected: bool
) -> None:
    smtp: SmtpServer = request.getfixturevalue(smtp_fixture)
    cfg = dovecot.config(ALICE, encryption=encryption, smtp=smtp)
    report = nec.test_connection(cfg, PASSWORD)
    assert report.ok, str(report)
    tls_steps = [s.detail for s in report.steps if s.name == "tls"]
    assert len(tls_steps) == 2
    assert all(d.startswith("TLS 1.") for d in tls_steps) == tls_expected
    assert report.insecure == (not tls_expected)
    assert "UIDPLUS" in report.imap_capabilities
    assert smtp.messages == []  # testing never sends mail


def test_starttls_required_but_not_offered_fails_without_sending_login(test_certs: TestCerts) -> None:
    with hostile.imap_without_starttls(test_certs.server) as fake:
        cfg = fake_config(fake.port, "StartTls", str(test_certs.ca_file))
        with pytest.raises(nec.SecurityError, match="does not offer STARTTLS"):
            ImapSession(cfg, lambda: PASSWORD).connect()
    assert not fake.clear_login
    assert "LOGIN" not in fake.verbs()


def test_auto_on_a_non_tls_port_never_falls_back_to_plaintext(test_certs: TestCerts) -> None:
    with hostile.imap_without_starttls(test_certs.server) as fake:
        cfg = fake_config(fake.port, "Auto", str(test_certs.ca_file))
        with pytest.raises(nec.SecurityError):
            ImapSession(cfg, lambda: PASSWORD).connect()
    assert not fake.clear_login


@pytest.mark.parametrize("reply", ["NO", "BAD"])
def test_starttls_refused_fails_without_sending_login(test_certs: TestCerts, reply: str) -> None:
    with hostile.imap_starttls_refused(test_certs.server, reply) as fake:  # type: ignore[arg-type]
        cfg = fake_config(fake.port, "StartTls", str(test_certs.ca_file))
        with pytest.raises(nec.SecurityError, match="refused STARTTLS"):
            ImapSession(cfg, lambda: PASSWORD).connect()
    assert not fake.clear_login


def test_preauth_greeting_on_a_starttls_connection_is_refused(test_certs: TestCerts) -> None:
    with hostile.imap_preauth(test_certs.server) as fake:
        cfg = fake_config(fake.port, "StartTls", str(test_certs.ca_file))
        with pytest.raises(nec.SecurityError, match="PREAUTH"):
            ImapSession(cfg, lambda: PASSWORD).connect()
    assert set(fake.verbs()) <= {"CAPABILITY", "LOGOUT"}  # no LOGIN, no mailbox command


def test_bytes_injected_before_tls_are_dropped_and_capabilities_asked_again(test_certs: TestCerts) -> None:
    with hostile.imap_starttls_injection(test_certs.server) as fake:
        cfg = fake_config(fake.port, "StartTls", str(test_certs.ca_file))
        session = ImapSession(cfg, lambda: PASSWORD)
        session.connect()
        session.close()
    lines = fake.lines
    login = next(i for i, line in enumerate(lines) if fake._verb(line.data) == "LOGIN")
    assert lines[login].tls
    assert any(line.tls and fake._verb(line.data) == "CAPABILITY" for line in lines[:login])
    assert not fake.clear_login


def test_untrusted_certificate_is_refused_with_advice(dovecot: DovecotServer) -> None:
    cfg = dovecot.config(ALICE, ca_file=None)
    with pytest.raises(nec.SecurityError, match=r"not trusted.*ca_file"):
        nec.EmailConnection(cfg, password=PASSWORD).list_folders()
    # verify_tls=False is the explicit, reported escape hatch.
    insecure = nec.EmailConnection(cfg.replace(verify_tls=False), password=PASSWORD)
    assert insecure.insecure and not ready(insecure.list_folders()).empty


def test_wrong_host_name_on_the_certificate_is_refused(test_certs: TestCerts) -> None:
    with hostile.imap_starttls_injection(test_certs.wrong_host, b"") as fake:
        cfg = fake_config(fake.port, "StartTls", str(test_certs.ca_file))
        with pytest.raises(nec.SecurityError, match="not valid for"):
            ImapSession(cfg, lambda: PASSWORD).connect()
    assert not fake.clear_login


def test_implicit_tls_on_a_plaintext_port_explains_what_to_try(dovecot: DovecotServer) -> None:
    cfg = dovecot.config(ALICE, encryption="SslOnConnect", imap_port=dovecot.plain_port)
    with pytest.raises(nec.SecurityError, match="StartTls"):
        ImapSession(cfg, lambda: PASSWORD).connect()


def test_smtp_starttls_required_but_missing_or_refused(
    dovecot: DovecotServer, smtp_plain: SmtpServer, test_certs: TestCerts
) -> None:
    cfg = dovecot.config(ALICE, smtp=smtp_plain).replace(smtp_encryption="StartTls")
    report = nec.test_connection(cfg, PASSWORD)
    assert not report.ok
    assert "STARTTLS" in next(s.detail for s in report.steps if s.protocol == "smtp")
    assert not smtp_plain.auth_attempts
    for make in (hostile.smtp_without_starttls, hostile.smtp_starttls_refused):
        with make() as fake:
            bad = cfg.replace(smtp_port=fake.port)
            report = nec.test_connection(bad, PASSWORD)
            assert not report.ok
            assert not fake.clear_login


def test_send_over_plain_smtp_fails_closed_when_starttls_is_required(
    dovecot: DovecotServer, smtp_plain: SmtpServer
) -> None:
    cfg = dovecot.config(ALICE, smtp=smtp_plain).replace(smtp_encryption="StartTls")
    conn = nec.EmailConnection(cfg, password=PASSWORD, approver=lambda r: nec.Decision.approve())
    with pytest.raises(nec.SecurityError):
        conn.send_email("bob@example.org", "hi", "body")
    assert smtp_plain.messages == [] and not smtp_plain.auth_attempts


def test_wrong_passwords_are_authentication_errors_without_the_password(
    dovecot: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    cfg = dovecot.config(ALICE, smtp=smtp_starttls)
    with pytest.raises(nec.AuthenticationError) as info:
        nec.EmailConnection(cfg, password="Wr0ng-Secret!").list_folders()
    assert "Wr0ng-Secret!" not in str(info.value)
    report = nec.test_connection(cfg, "Wr0ng-Secret!")
    assert not report.ok and "Wr0ng-Secret!" not in str(report.to_dict())


def test_a_non_ascii_password_logs_in_to_imap(test_certs: TestCerts) -> None:
    # imaplib encodes LOGIN arguments as ASCII: "Grüße" used to crash with UnicodeEncodeError.
    user, password = "zoe@example.org", "Grüße-Passwört"
    with DovecotServer(users={user: password}, certs=test_certs) as server:
        conn = nec.EmailConnection(server.config(user), password=password)
        assert "INBOX" in list(ready(conn.list_folders())["name"])
        conn.close()
        with pytest.raises(nec.AuthenticationError) as info:
            nec.EmailConnection(server.config(user), password="Falsch-Grüße").list_folders()
        assert "Falsch-Grüße" not in str(info.value)


def test_unreachable_and_silent_servers_fail_fast_with_typed_errors() -> None:
    cfg = fake_config(free_port(), "SslOnConnect", None, timeout=1.0)
    with pytest.raises(nec.ConnectionFailedError, match="refused the connection"):
        ImapSession(cfg, lambda: PASSWORD).connect()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        silent = cfg.replace(imap_port=listener.getsockname()[1], imap_encryption="None")
        with pytest.raises(nec.OperationTimeoutError, match="did not answer within 1 s") as info:
            ImapSession(silent, lambda: PASSWORD).connect()
        assert isinstance(info.value, TimeoutError)
    finally:
        listener.close()


@pytest.fixture
def dropping_proxy(fresh_mailbox: DovecotServer, test_certs: TestCerts) -> Iterator[hostile.DroppingImapProxy]:
    # LOGIN, CAPABILITY, LIST and the first SELECT pass; the next command is cut once.
    proxy = hostile.DroppingImapProxy(
        fresh_mailbox.imaps_port, drop_after=6, cert=test_certs.server, upstream_ca_file=fresh_mailbox.ca_file
    )
    with proxy:
        yield proxy


def test_idempotent_reads_reconnect_once_after_a_drop(
    fresh_mailbox: DovecotServer, dropping_proxy: hostile.DroppingImapProxy
) -> None:
    seed_inbox(fresh_mailbox, 3)
    cfg = fresh_mailbox.config(ALICE, imap_port=dropping_proxy.port)
    conn = nec.EmailConnection(cfg, password=PASSWORD)
    for _ in range(3):
        assert len(ready(conn.search_emails())) == 3
    assert dropping_proxy.dropped == 1
    assert dropping_proxy.connections == 2


def test_a_move_cut_mid_way_is_reported_unknown_and_not_retried(
    fresh_mailbox: DovecotServer, test_certs: TestCerts
) -> None:
    seed_inbox(fresh_mailbox, 2)
    direct = nec.EmailConnection(fresh_mailbox.config(ALICE), password=PASSWORD)
    refs = list(ready(direct.search_emails())["ref"])
    with hostile.DroppingImapProxy(
        fresh_mailbox.imaps_port, drop_after=1_000, cert=test_certs.server, upstream_ca_file=fresh_mailbox.ca_file
    ) as proxy:
        conn = nec.EmailConnection(
            fresh_mailbox.config(ALICE, imap_port=proxy.port), password=PASSWORD, approver=lambda r: True
        )
        conn.policies["move_emails"] = "enabled"  # no preview: the command sequence below is exact
        conn.list_folders()
        before = snapshot(fresh_mailbox)
        # The move's checks (EXAMINE, UID SEARCH, SELECT) pass; the UID MOVE line itself is cut.
        proxy.drop_after = len(proxy.lines) + 3
        with pytest.raises(nec.OutcomeUnknownError, match="may or may not"):
            conn.move_emails(refs, "Archive")
        moves = [line for line in proxy.lines if b" MOVE " in line.data.upper()]
        assert len(moves) == 1  # tried once, never again
    assert snapshot(fresh_mailbox) == before


def test_disabled_functions_refuse_before_any_network_traffic() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    cfg = fake_config(listener.getsockname()[1], "SslOnConnect", None, timeout=1.0)
    conn = nec.EmailConnection(cfg, password=PASSWORD)
    for name in conn.policies:
        conn.policies[name] = "disabled"
    ref = "imap://alice%40example.org@127.0.0.1/INBOX;UIDVALIDITY=1/;UID=1"
    calls: list[Callable[[], object]] = [
        lambda: conn.list_folders(),
        lambda: conn.search_emails("x"),
        lambda: conn.get_email(ref),
        lambda: conn.send_email("bob@example.org", "s", "b"),
        lambda: conn.create_draft("bob@example.org", "s", "b"),
        lambda: conn.delete_emails(ref),
        lambda: conn.update_flags(ref, add="\\Seen"),
        lambda: conn.move_emails(ref, "Archive"),
        lambda: conn.copy_emails(ref, "Archive"),
    ]
    for call in calls:
        with pytest.raises(nec.FunctionDisabledError):
            call()
    # Any connection attempt would wait in the backlog; a non-blocking accept finds none.
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()


def test_no_secret_in_reprs_logs_errors_or_files(
    dovecot: DovecotServer, smtp_starttls: SmtpServer, caplog: pytest.LogCaptureFixture, tmp_path: object
) -> None:
    import os
    from pathlib import Path

    cfg = dovecot.config(ALICE, smtp=smtp_starttls)
    caplog.set_level(logging.DEBUG)
    nec.save_connection(cfg, password=PASSWORD)
    conn = nec.connect(cfg.name)
    conn.policies["send_email"] = "enabled"
    conn.list_folders()
    conn.send_email("bob@example.org", "hello", "body")
    assert nec.test_connection(cfg, PASSWORD).ok
    texts = [repr(conn), str(conn.config), repr(conn.config), caplog.text, conn.audit_log().to_string()]
    home = Path(os.environ["NB_EMAIL_CONN_HOME"])
    texts += [p.read_text(errors="replace") for p in home.rglob("*") if p.is_file()]
    for text in texts:
        assert PASSWORD not in text


def test_stale_refs_after_the_folder_is_recreated_act_on_nothing(fresh_mailbox: DovecotServer) -> None:
    conn = nec.EmailConnection(fresh_mailbox.config(ALICE), password=PASSWORD, approver=lambda r: True)
    with fresh_mailbox.client() as other:
        other.create_folder("Projects")
    seed_inbox(fresh_mailbox, 2, folder="Projects")
    old = ready(conn.search_emails(folder="Projects"))
    with fresh_mailbox.client() as other:
        other.delete_folder("Projects")
        other.create_folder("Projects")  # new UIDVALIDITY; UIDs start again at 1
    seed_inbox(fresh_mailbox, 2, folder="Projects")
    before = snapshot(fresh_mailbox)
    for action in (
        lambda: conn.get_email(old.iloc[0]),
        lambda: conn.update_flags(old, add="\\Flagged"),
        lambda: conn.delete_emails(old, permanent=True),
        lambda: conn.move_emails(old, "Archive"),
        lambda: conn.copy_emails(old, "Archive"),
    ):
        with pytest.raises(nec.StaleReferenceError):
            action()
    assert snapshot(fresh_mailbox) == before
