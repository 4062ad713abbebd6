"""The test servers themselves behave as the rest of the suite assumes."""

from __future__ import annotations

import socket
import ssl
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import imapclient
import keyring
import pytest

from .certs import TestCerts
from .dovecot import SPECIAL_USE, DovecotServer
from .hostile import (
    INJECTED_CAPABILITY,
    DroppingImapProxy,
    imap_preauth,
    imap_starttls_injection,
    imap_starttls_refused,
    imap_without_starttls,
    smtp_starttls_refused,
    smtp_without_starttls,
)
from .memory_keyring import MemoryKeyring
from .smtp import SmtpServer

ALICE = "alice@example.org"
RAW = b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: seed\r\n\r\nHello\r\n"

# --- Dovecot -------------------------------------------------------------------------------


def test_dovecot_login_over_implicit_tls(dovecot: DovecotServer) -> None:
    with dovecot.client(ALICE) as client:
        caps = set(client.capabilities())
    assert {b"UIDPLUS", b"MOVE", b"ESEARCH", b"SORT", b"SPECIAL-USE"} <= caps


def test_dovecot_starttls_port_offers_starttls(dovecot: DovecotServer) -> None:
    client = imapclient.IMAPClient(dovecot.host, port=dovecot.starttls_port, ssl=False, timeout=5)
    assert b"STARTTLS" in client.capabilities()
    client.starttls(ssl.create_default_context(cafile=dovecot.ca_file))
    client.login(ALICE, dovecot.users[ALICE])
    assert client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"]
    client.logout()


def test_dovecot_plain_port_has_no_starttls_and_allows_login(dovecot: DovecotServer) -> None:
    client = imapclient.IMAPClient(dovecot.host, port=dovecot.plain_port, ssl=False, timeout=5)
    assert b"STARTTLS" not in client.capabilities()
    client.login("bob@example.org", "bobpass")
    client.logout()


def test_dovecot_rejects_a_wrong_password(dovecot: DovecotServer) -> None:
    client = imapclient.IMAPClient(dovecot.host, port=dovecot.plain_port, ssl=False, timeout=5)
    with pytest.raises(imapclient.exceptions.LoginError):
        client.login(ALICE, "wrong")


def test_dovecot_certificate_is_checked_against_ca_file(dovecot: DovecotServer, test_certs: TestCerts) -> None:
    untrusting = ssl.create_default_context(cafile=str(test_certs.untrusted_ca_file))
    with pytest.raises(ssl.SSLCertVerificationError):
        imapclient.IMAPClient(dovecot.host, port=dovecot.imaps_port, ssl_context=untrusting, timeout=5)


def test_special_use_folders_are_listed_and_subscribed(fresh_mailbox: DovecotServer) -> None:
    with fresh_mailbox.client(ALICE) as client:
        listed = {name: flags for flags, _sep, name in client.list_folders()}
        subscribed = {name for _flags, _sep, name in client.list_sub_folders()}
    for name, flag in SPECIAL_USE.items():
        assert flag.encode() in listed[name]
        assert name in subscribed


def test_append_returns_the_uid_and_reset_empties_the_mailbox(fresh_mailbox: DovecotServer) -> None:
    first = fresh_mailbox.append(ALICE, "INBOX", RAW, flags=[imapclient.SEEN])
    second = fresh_mailbox.append(ALICE, "Archive", RAW)
    with fresh_mailbox.client(ALICE) as client:
        client.create_folder("Projects/2024")
        uidvalidity = client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"]
        assert client.search() == [first]
        assert imapclient.SEEN in client.get_flags([first])[first]
    assert second >= 1

    fresh_mailbox.reset_mailbox(ALICE)

    assert sorted(fresh_mailbox.folder_names(ALICE)) == sorted(["INBOX", *SPECIAL_USE])
    with fresh_mailbox.client(ALICE) as client:
        info = client.select_folder("INBOX", readonly=True)
        assert info[b"EXISTS"] == 0
        assert info[b"UIDVALIDITY"] == uidvalidity  # same folder, so old refs stay comparable
    assert fresh_mailbox.append(ALICE, "INBOX", RAW) > first  # UIDs are never reused


def test_config_points_at_the_right_port(dovecot: DovecotServer, smtp_starttls: SmtpServer) -> None:
    config = dovecot.config(ALICE, encryption="StartTls", smtp=smtp_starttls)
    assert (config.imap_port, config.imap_mode) == (dovecot.starttls_port, "starttls")
    assert (config.smtp_port, config.smtp_mode) == (smtp_starttls.port, "starttls")
    assert config.ca_file == dovecot.ca_file == smtp_starttls.ca_file
    assert dovecot.config(ALICE, encryption="None").imap_port == dovecot.plain_port


# --- SMTP ----------------------------------------------------------------------------------


def _message(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = ALICE
    message["To"] = "bob@example.org"
    message["Subject"] = subject
    message.set_content("Hello Bob")
    return message


@pytest.mark.parametrize(
    ("fixture", "options"),
    [
        ("smtp_implicit", {"use_tls": True}),
        ("smtp_starttls", {"start_tls": True}),
        ("smtp_plain", {"start_tls": False}),
    ],
)
async def test_smtp_server_receives_an_authenticated_message(
    request: pytest.FixtureRequest, fixture: str, options: dict[str, Any]
) -> None:
    server: SmtpServer = request.getfixturevalue(fixture)
    context = ssl.create_default_context(cafile=server.ca_file)
    await aiosmtplib.send(
        _message(f"via {server.mode}"),
        hostname=server.host,
        port=server.port,
        username=ALICE,
        password="alicepass",
        tls_context=context,
        timeout=5,
        **options,
    )
    [received] = server.wait_for_messages(1)
    assert received.mail_from == ALICE
    assert received.rcpt_tos == ["bob@example.org"]
    assert received.message["Subject"] == f"via {server.mode}"
    assert received.login == ALICE
    assert received.tls is (server.mode != "plain")
    assert "AUTH" in server.verbs()
    assert server.clear_auth_seen() is (server.mode == "plain")
    if server.mode == "starttls":
        verbs = server.verbs()
        assert verbs.index("STARTTLS") < verbs.index("AUTH")


async def test_smtp_server_refuses_a_wrong_password(smtp_implicit: SmtpServer) -> None:
    context = ssl.create_default_context(cafile=smtp_implicit.ca_file)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await aiosmtplib.send(
            _message("nope"),
            hostname=smtp_implicit.host,
            port=smtp_implicit.port,
            username=ALICE,
            password="wrong",
            use_tls=True,
            tls_context=context,
            timeout=5,
        )
    assert smtp_implicit.messages == []
    attempts = smtp_implicit.auth_attempts  # aiosmtplib tries each offered mechanism
    assert attempts
    assert all(attempt == (ALICE, False) for attempt in attempts)


async def test_smtp_starttls_server_records_auth_sent_before_starttls(smtp_starttls: SmtpServer) -> None:
    client = aiosmtplib.SMTP(hostname=smtp_starttls.host, port=smtp_starttls.port, start_tls=False, timeout=5)
    await client.connect()
    response = await client.execute_command(b"AUTH", b"PLAIN", b"AGFsaWNlQGV4YW1wbGUub3JnAGFsaWNlcGFzcw==")
    await client.quit()
    assert response.code == 530  # refused, and ...
    assert smtp_starttls.clear_auth_seen()  # ... still on record, without the credentials
    assert [c.argument for c in smtp_starttls.commands if c.verb == "AUTH"] == ["PLAIN"]


# --- hostile fakes -------------------------------------------------------------------------


def _imap(port: int) -> imapclient.IMAPClient:
    return imapclient.IMAPClient("127.0.0.1", port=port, ssl=False, timeout=5)


def test_fake_imap_without_starttls(test_certs: TestCerts) -> None:
    with imap_without_starttls(test_certs.server) as fake:
        client = _imap(fake.port)
        assert b"STARTTLS" not in client.capabilities()
        with pytest.raises(imapclient.exceptions.IMAPClientError):
            client.starttls(test_certs.client_context())
        assert not fake.clear_login
        client.login(ALICE, "x")
        assert fake.clear_login


@pytest.mark.parametrize("reply", ["NO", "BAD"])
def test_fake_imap_refusing_starttls(test_certs: TestCerts, reply: str) -> None:
    with imap_starttls_refused(test_certs.server, reply) as fake:  # type: ignore[arg-type]
        client = _imap(fake.port)
        assert b"STARTTLS" in client.capabilities()
        with pytest.raises(imapclient.exceptions.IMAPClientError):
            client.starttls(test_certs.client_context())
        client.noop()  # still talking in clear after the refusal
    assert fake.verbs()[-2:] == ["STARTTLS", "NOOP"]
    assert not fake.clear_login


def test_fake_imap_preauth_greeting(test_certs: TestCerts) -> None:
    with imap_preauth(test_certs.server) as fake:
        client = _imap(fake.port)
        assert client._imap.state == "AUTH"  # imaplib took the PREAUTH at its word
        client.noop()
    assert "LOGIN" not in fake.verbs()
    assert fake.verbs()[-1] == "NOOP"


def test_fake_imap_starttls_injection(test_certs: TestCerts) -> None:
    with imap_starttls_injection(test_certs.server) as fake, socket.create_connection(("127.0.0.1", fake.port)) as raw:
        raw.settimeout(5)
        reader = raw.makefile("rb")
        assert reader.readline().startswith(b"* OK")
        raw.sendall(b"a1 STARTTLS\r\n")
        assert reader.readline() == b"a1 OK Begin TLS negotiation now\r\n"
        # The injected line arrived in the same packet, in clear, before the handshake.
        assert reader.readline() == INJECTED_CAPABILITY
        with test_certs.client_context().wrap_socket(raw, server_hostname="localhost") as tls:
            tls_reader = tls.makefile("rb")
            tls.sendall(b"a2 CAPABILITY\r\n")
            assert b"STARTTLS" not in tls_reader.readline()
            assert tls_reader.readline().startswith(b"a2 OK")
            tls.sendall(b"a3 LOGIN alice secret\r\n")
            assert tls_reader.readline().startswith(b"a3 OK")
    assert [(line.text.split()[1], line.tls) for line in fake.lines] == [
        ("STARTTLS", False),
        ("CAPABILITY", True),
        ("LOGIN", True),
    ]
    assert not fake.clear_login


def test_imapclient_over_injection_fake_asks_capability_again(test_certs: TestCerts) -> None:
    with imap_starttls_injection(test_certs.server) as fake:
        client = _imap(fake.port)
        client.starttls(test_certs.client_context())
        assert b"STARTTLS" not in client.capabilities()
        client.login(ALICE, "x")
    assert not fake.clear_login


def test_dropping_proxy_cuts_after_n_commands_then_lets_reconnects_through(
    dovecot: DovecotServer, test_certs: TestCerts
) -> None:
    with DroppingImapProxy(
        dovecot.imaps_port, drop_after=3, cert=test_certs.server, upstream_ca_file=dovecot.ca_file
    ) as proxy:
        context = test_certs.client_context()
        # imapclient sends CAPABILITY, LOGIN, SELECT, then CAPABILITY + UID SEARCH for search().
        client = imapclient.IMAPClient("127.0.0.1", port=proxy.port, ssl_context=context, timeout=5)
        client.login(ALICE, dovecot.users[ALICE])
        client.select_folder("INBOX")
        with pytest.raises((OSError, imapclient.exceptions.IMAPClientAbortError)):
            client.search()  # its 4th command line: the proxy closes the connection
        assert [line.text.split()[1] for line in proxy.lines] == ["CAPABILITY", "LOGIN", "SELECT", "CAPABILITY"]
        again = imapclient.IMAPClient("127.0.0.1", port=proxy.port, ssl_context=context, timeout=5)
        again.login(ALICE, dovecot.users[ALICE])
        again.select_folder("INBOX")
        assert isinstance(again.search(), list)
        again.logout()
    assert proxy.connections == 2
    assert not proxy.clear_login


def test_fake_smtp_without_starttls() -> None:
    with smtp_without_starttls() as fake:
        client = aiosmtplib_sync_ehlo(fake.port)
        assert "STARTTLS" not in client
    assert fake.verbs()[0] == "EHLO"


async def test_fake_smtp_refusing_starttls(test_certs: TestCerts) -> None:
    with smtp_starttls_refused() as fake:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=fake.port, start_tls=False, timeout=5)
        await client.connect()
        await client.ehlo()
        assert client.supports_extension("starttls")
        with pytest.raises(aiosmtplib.SMTPResponseException) as caught:
            await client.starttls(tls_context=test_certs.client_context())
        assert caught.value.code == 454
        client.close()
    assert "STARTTLS" in fake.verbs()
    assert not fake.clear_login


async def test_fake_smtp_records_auth_in_clear() -> None:
    with smtp_without_starttls() as fake:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=fake.port, start_tls=False, timeout=5)
        await client.connect()
        await client.login(ALICE, "alicepass")
        await client.quit()
    assert fake.clear_login


def aiosmtplib_sync_ehlo(port: int) -> str:
    """The EHLO reply text, read with a plain socket (no client library opinions)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b"EHLO me\r\n")
        lines = []
        while (line := reader.readline().decode()).startswith("250-"):
            lines.append(line)
        lines.append(line)
        sock.sendall(b"QUIT\r\n")
        reader.readline()
        return "".join(lines)


# --- isolation -----------------------------------------------------------------------------


def test_each_test_gets_a_memory_keyring_and_a_private_home(memory_keyring: MemoryKeyring) -> None:
    import os

    assert keyring.get_keyring() is memory_keyring
    keyring.set_password("nb-email-conn", "work", "s3cret")
    assert memory_keyring.passwords == {("nb-email-conn", "work"): "s3cret"}
    assert os.environ["NB_EMAIL_CONN_HOME"].endswith("nb-email-conn-home")
