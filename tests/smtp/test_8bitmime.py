"""8-bit messages (a forwarded original that is not ASCII, as message/rfc822) need BODY=8BITMIME.

On aiosmtpd (which offers 8BITMIME) the MAIL command carries ``BODY=8BITMIME`` and the bytes
arrive unchanged; on a fake relay without 8BITMIME nothing is sent and the error says why.
7-bit messages go as before, without a BODY parameter.
"""

from __future__ import annotations

from typing import Any

import pytest
from servers import hostile
from servers.ports import free_port
from servers.smtp import SmtpServer

import nb_email_conn as nec
from nb_email_conn.smtp.sender import SmtpSubmission

ALICE = "alice@example.org"
PASSWORD = "alicepass"
EIGHT_BIT = (
    b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: Fwd: caf\xc3\xa9\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"From: carol@example.net\r\nSubject: x\r\n\r\nd\xc3\xa9j\xc3\xa0 vu\r\n"
)
SEVEN_BIT = b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: plain\r\n\r\nhello\r\n"


def _config(port: int, encryption: str, ca_file: str | None = None) -> nec.ConnectionConfig:
    settings: dict[str, Any] = {
        "name": "eightbit",
        "username": ALICE,
        "imap_host": "127.0.0.1",
        "imap_port": free_port(),
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_encryption": encryption,
        "ca_file": ca_file,
        "timeout": 5.0,
    }
    return nec.ConnectionConfig(**settings)


async def _send(cfg: nec.ConnectionConfig, data: bytes, **kw: Any) -> None:
    async with SmtpSubmission(cfg, lambda: PASSWORD) as smtp:
        await smtp.login()
        await smtp.submit(ALICE, ["bob@example.org"], data, **kw)


def _mail_arguments(server: SmtpServer) -> list[str]:
    return [command.argument for command in server.commands if command.verb == "MAIL"]


async def test_an_8bit_message_goes_with_body_8bitmime_and_arrives_unchanged(smtp_starttls: SmtpServer) -> None:
    await _send(_config(smtp_starttls.port, "StartTls", smtp_starttls.ca_file), EIGHT_BIT)
    [received] = smtp_starttls.wait_for_messages(1)
    assert _mail_arguments(smtp_starttls) == ["FROM:<alice@example.org> BODY=8BITMIME"]
    assert "déjà vu".encode() in received.data


async def test_a_7bit_message_goes_without_a_body_parameter(smtp_starttls: SmtpServer) -> None:
    await _send(_config(smtp_starttls.port, "StartTls", smtp_starttls.ca_file), SEVEN_BIT)
    assert _mail_arguments(smtp_starttls) == ["FROM:<alice@example.org>"]


async def test_the_caller_can_say_the_message_is_8bit(smtp_starttls: SmtpServer) -> None:
    await _send(_config(smtp_starttls.port, "StartTls", smtp_starttls.ca_file), SEVEN_BIT, eight_bit=True)
    assert _mail_arguments(smtp_starttls) == ["FROM:<alice@example.org> BODY=8BITMIME"]


async def test_a_server_without_8bitmime_gets_nothing_and_the_error_says_why() -> None:
    with hostile.smtp_without_8bitmime() as fake:
        with pytest.raises(nec.ServerError, match=r"8BITMIME.*nothing was sent"):
            await _send(_config(fake.port, "None"), EIGHT_BIT)
        verbs = fake.verbs()
    assert "AUTH" in verbs  # it got as far as logging in
    assert not {"MAIL", "RCPT", "DATA"} & set(verbs)


async def test_a_7bit_message_still_goes_to_a_server_without_8bitmime() -> None:
    with hostile.smtp_without_8bitmime() as fake:
        await _send(_config(fake.port, "None"), SEVEN_BIT)
        verbs = fake.verbs()
    assert {"MAIL", "RCPT", "DATA"} <= set(verbs)
