"""The running sandbox, seen by ordinary clients: imapclient for IMAP, aiosmtplib for SMTP."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import re
import socket
import ssl
import time
from email.message import EmailMessage

import aiosmtplib
import imapclient
import pytest

from nb_email_conn.errors import InvalidInputError
from nb_email_conn.sandbox import FOLDERS, Sandbox, seed

from .conftest import imap_login


def test_login_over_verified_starttls_and_the_folders_exist(shared_sandbox: Sandbox) -> None:
    client = imap_login(shared_sandbox)
    try:
        assert client._imap.sock.version() in ("TLSv1.2", "TLSv1.3")  # the session really is encrypted
        names = {name for _, _, name in client.list_folders()}
        assert set(FOLDERS) <= names
    finally:
        client.logout()


def test_the_seeded_mailbox_holds_about_150_messages(shared_sandbox: Sandbox) -> None:
    client = imap_login(shared_sandbox)
    try:
        counts = {folder: client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"] for folder in FOLDERS}
    finally:
        client.logout()
    assert shared_sandbox.timings is not None
    assert sum(counts.values()) == shared_sandbox.timings.message_count
    assert 140 <= sum(counts.values()) <= 160
    assert counts["INBOX"] > 80
    assert counts["Sent"] > 0
    assert counts["Archive"] > 0


def test_attachments_and_encoded_word_headers_arrive_intact(shared_sandbox: Sandbox) -> None:
    client = imap_login(shared_sandbox)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        fetched = client.fetch(uids, ["BODY.PEEK[HEADER]", "BODYSTRUCTURE", "FLAGS"])
        with_pdf = client.search(["HEADER", "Content-Type", "multipart/mixed"])
    finally:
        client.logout()
    raw_headers = [data[b"BODY[HEADER]"] for data in fetched.values()]
    for raw in raw_headers:
        raw.decode("ascii")
    encoded = [raw for raw in raw_headers if re.search(rb"=\?utf-8\?[bq]\?", raw, re.IGNORECASE)]
    assert len(encoded) >= 10
    names: set[str] = set()
    for raw in encoded:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        names.update(a.display_name for a in parsed["From"].addresses)
    assert {"Jörg Müller", "田中 花子"} & names
    assert len(with_pdf) >= 10
    assert any(b"pdf" in repr(fetched[uid][b"BODYSTRUCTURE"]).lower().encode() for uid in with_pdf)
    flags = [set(data[b"FLAGS"]) for data in fetched.values()]
    assert any(b"\\Seen" not in f for f in flags)
    assert any(b"\\Flagged" in f for f in flags)


def test_a_wrong_password_is_refused(shared_sandbox: Sandbox) -> None:
    with pytest.raises(imapclient.exceptions.LoginError):
        imap_login(shared_sandbox, password="not-the-password")


def test_the_certificate_is_only_trusted_with_the_ca_file(shared_sandbox: Sandbox) -> None:
    client = imapclient.IMAPClient(shared_sandbox.host, port=shared_sandbox.imap_port, ssl=False, timeout=10)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(ssl.create_default_context())
    finally:
        with contextlib.suppress(OSError):
            client.shutdown()


def test_servers_listen_on_loopback_only(shared_sandbox: Sandbox) -> None:
    assert shared_sandbox.host == "127.0.0.1"
    other = _non_loopback_address()
    if other is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    for port in (shared_sandbox.imap_port, shared_sandbox.smtp_port):
        with pytest.raises(OSError), socket.create_connection((other, port), timeout=2):
            pass


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: no packet is sent for UDP connect
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_a_non_loopback_host_is_refused() -> None:
    with pytest.raises(InvalidInputError) as info:
        Sandbox(host="0.0.0.0")
    assert info.value.field == "host"


def _message(sb: Sandbox, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sb.username
    message["To"] = f"{seed.DEMO_NAME} <{sb.username}>"
    message["Subject"] = subject
    message.set_content("Sent to myself through the sandbox. Grüße ✓\n")
    return message


async def test_mail_sent_through_smtp_arrives_in_the_inbox(shared_sandbox: Sandbox) -> None:
    subject = f"Note to self {time.time_ns()}"
    client = imap_login(shared_sandbox)
    try:
        client.select_folder("INBOX")
        before = set(client.search("ALL"))
        await aiosmtplib.send(
            _message(shared_sandbox, subject),
            hostname=shared_sandbox.host,
            port=shared_sandbox.smtp_port,
            start_tls=True,
            tls_context=ssl.create_default_context(cafile=shared_sandbox.ca_file),
            username=shared_sandbox.username,
            password=shared_sandbox.password,
            timeout=10,
        )
        new: set[int] = set()
        deadline = time.monotonic() + 5
        while not new and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            client.noop()
            new = set(client.search("ALL")) - before
        assert len(new) == 1
        uid = new.pop()
        data = client.fetch([uid], ["BODY.PEEK[]", "FLAGS"])[uid]
    finally:
        client.logout()
    delivered = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
    assert str(delivered["Subject"]) == subject
    assert "Grüße ✓" in delivered.get_content()
    assert delivered["Received"] is not None
    assert b"\\Seen" not in data[b"FLAGS"]


async def test_smtp_requires_starttls_and_the_right_password(shared_sandbox: Sandbox) -> None:
    context = ssl.create_default_context(cafile=shared_sandbox.ca_file)
    with pytest.raises(aiosmtplib.SMTPException):
        await aiosmtplib.send(
            _message(shared_sandbox, "plaintext"),
            hostname=shared_sandbox.host,
            port=shared_sandbox.smtp_port,
            start_tls=False,
            username=shared_sandbox.username,
            password=shared_sandbox.password,
            timeout=10,
        )
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await aiosmtplib.send(
            _message(shared_sandbox, "wrong password"),
            hostname=shared_sandbox.host,
            port=shared_sandbox.smtp_port,
            start_tls=True,
            tls_context=context,
            username=shared_sandbox.username,
            password="wrong",
            timeout=10,
        )
    with pytest.raises(aiosmtplib.SMTPSenderRefused):  # no AUTH at all: nothing is relayed
        await aiosmtplib.send(
            _message(shared_sandbox, "anonymous"),
            hostname=shared_sandbox.host,
            port=shared_sandbox.smtp_port,
            start_tls=True,
            tls_context=context,
            timeout=10,
        )


def test_the_password_never_shows_in_repr(shared_sandbox: Sandbox) -> None:
    assert shared_sandbox.password not in repr(shared_sandbox)
    assert shared_sandbox.password not in repr(shared_sandbox.config)


def test_stop_closes_connections_and_frees_the_ports() -> None:
    sb = Sandbox(seed=False).start()
    ports = (sb.imap_port, sb.smtp_port)
    client = imap_login(sb)
    client.select_folder("INBOX")
    sb.stop()
    with pytest.raises((imapclient.exceptions.IMAPClientError, OSError)):
        client.noop()
    with contextlib.suppress(OSError):
        client.shutdown()
    for port in ports:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    sb.stop()  # twice is fine
    # The same ports can serve again at once (a restart of `nb-email-conn sandbox --imap-port N`).
    with Sandbox(seed=False, imap_port=ports[0], smtp_port=ports[1]) as again:
        client = imap_login(again)
        client.logout()


def test_fixed_ports_and_a_port_in_use() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(InvalidInputError) as info:
            Sandbox(seed=False, imap_port=taken).start()
        assert info.value.field == "imap_port"
        assert "in use" in str(info.value)


def test_plaintext_mode_for_clients_without_the_ca() -> None:
    with Sandbox(seed=False, tls=False) as sb:
        assert sb.ca_file is None
        assert sb.config.insecure
        client = imapclient.IMAPClient(sb.host, port=sb.imap_port, ssl=False, timeout=10)
        client.login(sb.username, sb.password)
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
        client.logout()
