"""reply_email, forward_email and create_draft(in_reply_to=...) against real Dovecot +
aiosmtpd: what arrived at the SMTP server is parsed and checked, and the mailbox is read
back with a second client (\\Answered on the original, the copy in Sent, the draft)."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pandas as pd
import pytest
from servers.dovecot import DovecotServer
from servers.smtp import ReceivedMessage, SmtpServer

import nb_email_conn as nec

from .helpers import ALICE, BASE, flags_of

pytestmark = pytest.mark.dovecot

ORIGINAL_ID = "<orig-1@example.org>"


def original_bytes(
    *,
    headers: dict[str, str] | None = None,
    body: str = "hello Alice\n\nsecond paragraph\n",
    attachment: tuple[str, bytes, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Bob Builder <bob@example.org>"
    msg["To"] = ALICE
    msg["Subject"] = "RE: Plan"
    msg["Date"] = BASE.strftime("%a, %d %b %Y %H:%M:%S %z")
    msg["Message-ID"] = ORIGINAL_ID
    for key, value in (headers or {}).items():
        del msg[key]
        msg[key] = value
    msg.set_content(body)
    if attachment:
        maintype, _, subtype = attachment[2].partition("/")
        msg.add_attachment(attachment[1], maintype=maintype, subtype=subtype, filename=attachment[0])
    return msg.as_bytes(policy=policy.SMTP)


def store(server: DovecotServer, raw: bytes, folder: str = "INBOX") -> tuple[int, bytes]:
    """APPEND the message; returns its UID and the server's bytes of it (BODY.PEEK[])."""
    uid = server.append(ALICE, folder, raw, date=BASE)
    with server.client(ALICE) as client:
        client.select_folder(folder, readonly=True)
        fetched: Any = client.fetch([uid], ["BODY.PEEK[]"])
    return uid, bytes(fetched[uid][b"BODY[]"])


def ref_of(conn: nec.EmailConnection, folder: str = "INBOX") -> str:
    rows = conn.search_emails(folder=folder)
    assert isinstance(rows, pd.DataFrame) and len(rows) == 1
    return str(rows.iloc[0]["ref"])


def read(conn: nec.EmailConnection, ref: str) -> nec.Email:
    email = conn.get_email(ref)
    assert isinstance(email, nec.Email), email
    return email


def sent_email(result: Any) -> nec.SentEmail:
    assert isinstance(result, nec.SentEmail), result
    return result


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def rfc822_part(received: ReceivedMessage) -> tuple[EmailMessage, bytes]:
    """The one message/rfc822 part and its body bytes, cut from what arrived at the top
    boundary (the email package re-parses an attached message, so its payload is not the
    bytes that were sent)."""
    message = received.message
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "message/rfc822"]
    assert len(parts) == 1
    boundary = message.get_boundary()
    assert boundary is not None
    sections = re.split(rb"\r?\n--" + re.escape(boundary.encode("ascii")), received.data)
    bodies = [
        re.split(rb"\r?\n\r?\n", section.lstrip(b"\r\n"), maxsplit=1)[1]
        for section in sections[1:-1]
        if b"message/rfc822" in re.split(rb"\r?\n\r?\n", section, maxsplit=1)[0].lower()
    ]
    assert len(bodies) == 1
    assert isinstance(parts[0], EmailMessage)
    return parts[0], bodies[0]


# --------------------------------------------------------------------------- reply_email


def test_reply_goes_to_reply_to_threaded_quoted_answered_and_filed_in_sent(
    conn: nec.EmailConnection,
    fresh_mailbox: DovecotServer,
    smtp_starttls: SmtpServer,
    approvals: list[nec.ActionRequest],
) -> None:
    raw = original_bytes(
        headers={
            "Reply-To": "Bob Home <bob@home.example>",
            "Cc": "carol@example.net",
            "References": "<root@example.org>",
        }
    )
    uid, _server_bytes = store(fresh_mailbox, raw)
    ref = ref_of(conn)
    assert "\\Answered" not in flags_of(fresh_mailbox, "INBOX", uid)

    sent = sent_email(conn.reply_email(ref, "Sounds good.\nAlice"))

    received = smtp_starttls.wait_for_messages(1)[0]
    assert received.rcpt_tos == ["bob@home.example"]  # Reply-To wins over From; no reply-all
    message = received.message
    assert str(message["To"]) == "Bob Home <bob@home.example>"
    assert message["Cc"] is None and message["Bcc"] is None
    assert str(message["Subject"]) == "Re: Plan"
    assert message["In-Reply-To"] == ORIGINAL_ID
    assert message["References"] == f"<root@example.org> {ORIGINAL_ID}"
    assert message["Message-ID"] == sent.message_id
    assert text_of(message) == (
        "Sounds good.\nAlice\n\n"
        "On Fri, 01 Mar 2024 09:00:00 +0000, Bob Builder wrote:\n"
        "> hello Alice\n> \n> second paragraph\n"
    )
    assert "\\Answered" in flags_of(fresh_mailbox, "INBOX", uid)

    assert sent.sent_ref is not None and "/Sent;" in sent.sent_ref
    filed = read(conn, sent.sent_ref)
    assert filed.message_id == sent.message_id
    assert filed.in_reply_to == ORIGINAL_ID

    preview = approvals[-1].preview
    assert approvals[-1].function == "reply_email"
    assert preview["recipients"] == ["bob@home.example"]
    assert "Bob Builder wrote:\n> hello Alice" in preview["body_excerpt"]


def test_reply_all_adds_to_and_cc_minus_own_addresses(
    fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, approvals: list[nec.ActionRequest]
) -> None:
    cfg = fresh_mailbox.config(ALICE, smtp=smtp_starttls, from_address="Alice Work <alice.work@example.org>")

    def approve(request: nec.ActionRequest) -> nec.Decision:
        approvals.append(request)
        return nec.Decision.approve(decided_by="test")

    raw = original_bytes(
        headers={
            "To": "Alice <ALICE@Example.org>, Dave <dave@example.com>",
            "Cc": "Carol@example.net, ALICE.WORK@example.org, dave@EXAMPLE.com, bob@example.org",
        }
    )
    uid, _ = store(fresh_mailbox, raw)
    with nec.EmailConnection(cfg, password=fresh_mailbox.password, approver=approve) as conn:
        sent_email(conn.reply_email(ref_of(conn), "All: agreed.", reply_all=True, quote=False))
    received = smtp_starttls.wait_for_messages(1)[0]
    assert received.mail_from == "alice.work@example.org"
    assert sorted(r.lower() for r in received.rcpt_tos) == ["bob@example.org", "carol@example.net", "dave@example.com"]
    message = received.message
    assert str(message["To"]) == "Bob Builder <bob@example.org>, Dave <dave@example.com>"
    assert str(message["Cc"]) == "Carol@example.net"
    assert b"alice" not in b"".join(line for line in received.data.split(b"\r\n") if line[:3] in (b"To:", b"Cc:"))
    assert text_of(message) == "All: agreed.\n"  # quote=False
    assert "\\Answered" in flags_of(fresh_mailbox, "INBOX", uid)


def test_reply_to_a_message_without_message_id_still_goes_out(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    raw = original_bytes().replace(f"Message-ID: {ORIGINAL_ID}\r\n".encode(), b"")
    assert b"Message-ID" not in raw
    store(fresh_mailbox, raw)
    sent_email(conn.reply_email(ref_of(conn), "ok"))
    message = smtp_starttls.wait_for_messages(1)[0].message
    assert message["In-Reply-To"] is None
    assert str(message["Subject"]) == "Re: Plan"


def test_reply_with_an_unparseable_sender_is_refused_before_anything_is_sent(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    raw = original_bytes().replace(b"From: Bob Builder <bob@example.org>", b"From: bob@example.org)<evil@example.org>")
    uid, _ = store(fresh_mailbox, raw)
    with pytest.raises(nec.InvalidInputError):
        conn.reply_email(ref_of(conn), "x")
    assert smtp_starttls.messages == []
    assert "\\Answered" not in flags_of(fresh_mailbox, "INBOX", uid)


# --------------------------------------------------------------------------- forward_email


def test_forward_inline_carries_the_text_and_the_attachments_byte_exact(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    data = bytes(range(256)) * 8
    raw = original_bytes(headers={"Cc": "carol@example.net"}, attachment=("all bytes.bin", data, "application/x-test"))
    uid, _ = store(fresh_mailbox, raw)
    sent = sent_email(
        conn.forward_email(ref_of(conn), "Dave <dave@example.com>", "FYI, see below.", cc="erin@example.com")
    )
    received = smtp_starttls.wait_for_messages(1)[0]
    assert sorted(received.rcpt_tos) == ["dave@example.com", "erin@example.com"]
    message = received.message
    assert str(message["Subject"]) == "Fwd: RE: Plan"
    assert message["In-Reply-To"] is None
    assert text_of(message) == (
        "FYI, see below.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Bob Builder <bob@example.org>\n"
        "Date: Fri, 01 Mar 2024 09:00:00 +0000\n"
        "Subject: RE: Plan\n"
        "To: alice@example.org\n"
        "Cc: carol@example.net\n"
        "\n"
        "hello Alice\n\nsecond paragraph\n"
    )
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "all bytes.bin"
    assert attachment.get_content_type() == "application/x-test"
    assert attachment.get_payload(decode=True) == data
    assert sent.sent_ref is not None and "/Sent;" in sent.sent_ref
    assert "\\Answered" not in flags_of(fresh_mailbox, "INBOX", uid)  # a forward is not an answer


@pytest.mark.parametrize("eight_bit", [False, True], ids=["ascii", "8bit"])
def test_forward_as_attachment_is_the_servers_bytes_unmodified(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, eight_bit: bool
) -> None:
    raw = original_bytes(attachment=("a.txt", b"attached", "text/plain"))
    # a folded header with odd spacing: re-serialising through the email package would change it
    raw = raw.replace(b"Subject: RE: Plan\r\n", b"Subject: RE: Plan\r\nX-Folded: one\r\n\ttwo   three\r\n")
    if eight_bit:  # raw 8-bit header and body bytes, as some senders write them
        raw = raw.replace(b"Bob Builder", "Björn Builder".encode()).replace(b"hello Alice", "héllo Alice".encode())
        raw = raw.replace(b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: 8bit")
    _uid, server_bytes = store(fresh_mailbox, raw)
    assert server_bytes.isascii() is not eight_bit

    sent = sent_email(conn.forward_email(ref_of(conn), "dave@example.com", "Original attached.", as_attachment=True))

    received = smtp_starttls.wait_for_messages(1)[0]
    assert received.rcpt_tos == ["dave@example.com"]
    assert str(received.message["Subject"]) == "Fwd: RE: Plan"
    assert text_of(received.message) == "Original attached.\n"
    part, body = rfc822_part(received)
    assert body == server_bytes
    assert part["Content-Transfer-Encoding"] == ("8bit" if eight_bit else "7bit")
    assert part.get_filename() == "original message.eml"
    assert [p.get_content_type() for p in received.message.iter_attachments()] == ["message/rfc822"]

    # the copy in Sent carries the same bytes
    assert sent.sent_ref is not None
    filed = read(conn, sent.sent_ref)
    assert filed.message_id == sent.message_id
    filed_message = BytesParser(policy=policy.default).parsebytes(filed.raw)
    assert isinstance(filed_message, EmailMessage)
    _filed_part, filed_body = rfc822_part(
        ReceivedMessage(mail_from="", rcpt_tos=[], data=filed.raw, message=filed_message, login=None, tls=True)
    )
    assert filed_body == server_bytes
    assert read(conn, ref_of(conn)).raw == server_bytes


# --------------------------------------------------------------------------- create_draft


def test_create_draft_in_reply_to_a_ref_threads_like_a_reply(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    store(fresh_mailbox, original_bytes(headers={"References": "<root@example.org>"}))
    ref = ref_of(conn)
    draft_ref = conn.create_draft("bob@example.org", "Re: Plan", "draft answer", in_reply_to=ref)
    assert isinstance(draft_ref, str) and "/Drafts;" in draft_ref
    draft = read(conn, draft_ref)
    assert draft.in_reply_to == ORIGINAL_ID
    assert draft.references == ["<root@example.org>", ORIGINAL_ID]
    assert "\\Draft" in draft.flags
    assert smtp_starttls.messages == []


def test_create_draft_in_reply_to_a_message_id(conn: nec.EmailConnection, smtp_starttls: SmtpServer) -> None:
    draft_ref = conn.create_draft("bob@example.org", "Re: x", "draft", in_reply_to="<parent@example.org>")
    assert isinstance(draft_ref, str)
    draft = read(conn, draft_ref)
    assert draft.in_reply_to == "<parent@example.org>"
    assert draft.references == ["<parent@example.org>"]
    assert smtp_starttls.messages == []
