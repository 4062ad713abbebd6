"""Replies and forwards composed without a server: prefixes, recipients, threading,
quoting, inline attachments and the byte-exact message/rfc822 part."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nb_email_conn.errors import InvalidInputError
from nb_email_conn.message import ComposedMessage, Email, build_message, parse_email, preview_of
from nb_email_conn.message.reply import (
    FORWARD_SEPARATOR,
    attribution,
    forward_subject,
    own_addresses,
    plan_forward,
    plan_reply,
    reply_subject,
    threading_for,
)
from nb_email_conn.validation import Address

CORPUS = Path(__file__).parent / "corpus"
ALICE = "Alice <alice@example.org>"


def raw_message(
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: str = "line one\n\nline three\n",
    *,
    eol: bytes = b"\r\n",
) -> bytes:
    """A message from header lines as given (nothing re-encoded), so odd headers stay odd."""
    fields: dict[str, str] = {
        "From": "Bob Builder <bob@example.org>",
        "To": "alice@example.org",
        "Subject": "plan",
        "Date": "Fri, 1 Mar 2024 10:00:00 +0100",
        "Message-ID": "<m1@example.org>",
    }
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {name.lower() for name, _ in items}
    lines = [f"{k}: {v}" for k, v in fields.items() if k.lower() not in names]
    lines += [f"{k}: {v}" for k, v in items if v is not None]
    text = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")
    return text.encode("utf-8", "surrogateescape").replace(b"\r\n", eol)


def original(
    headers: dict[str, str] | list[tuple[str, str]] | None = None, body: str = "line one\n\nline three\n"
) -> Email:
    return parse_email(raw_message(headers, body), ref="imap://alice@h/INBOX;UIDVALIDITY=1/;UID=7")


def build_reply(email: Email, body: str = "Thanks!", **kwargs: Any) -> ComposedMessage:
    plan = plan_reply(email, body, **kwargs)
    return build_message(
        sender=ALICE,
        to=plan.to,
        cc=plan.cc,
        subject=plan.subject,
        body=plan.body,
        html=plan.html,
        in_reply_to=plan.in_reply_to,
        references=plan.references,
    )


def build_forward(email: Email, body: str = "FYI", *, as_attachment: bool = False) -> ComposedMessage:
    plan = plan_forward(email, body, as_attachment=as_attachment)
    return build_message(
        sender=ALICE,
        to="dave@example.com",
        subject=plan.subject,
        body=plan.body,
        attachments=plan.attachments,
        attached_message=plan.attached_message,
    )


def addrs(addresses: list[Address]) -> list[str]:
    return [a.addr for a in addresses]


# --------------------------------------------------------------------------- subjects


@pytest.mark.parametrize(
    "subject",
    [
        "plan",
        "Re: plan",
        "RE: plan",
        "re: plan",
        "rE:plan",
        "Re:  plan",
        "Re : plan",
        "Re[2]: plan",
        "RE[12]: plan",
        "Re(3): plan",
        "Re: Re: plan",
        "Re: RE: re: plan",
        "RE: Re[2]: AW: plan",
        "AW: plan",
        "Aw: Re: plan",
        "SV: plan",
        "sv: plan",
        "Antw: plan",
        "Re：plan",
        "回复：plan",
        "  Re: plan",
    ],
)
def test_reply_subject_has_exactly_one_re(subject: str) -> None:
    assert reply_subject(subject) == "Re: plan"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Fwd: plan", "Re: Fwd: plan"),  # only the leading reply prefixes go, as clients do
        ("Re: Fwd: Re: plan", "Re: Fwd: Re: plan"),
        ("Regarding: plan", "Re: Regarding: plan"),
        ("Really good news", "Re: Really good news"),
        ("Résumé", "Re: Résumé"),
        ("", "Re:"),
    ],
)
def test_reply_subject_keeps_what_is_not_a_reply_prefix(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


@pytest.mark.parametrize(
    "subject",
    ["plan", "Fwd: plan", "FWD: plan", "fwd:plan", "Fw: plan", "FW: plan", "fW: Fwd: plan", "WG: plan", "Fwd : plan"],
)
def test_forward_subject_has_exactly_one_fwd(subject: str) -> None:
    assert forward_subject(subject) == "Fwd: plan"


def test_forward_subject_keeps_a_reply_prefix() -> None:
    assert forward_subject("Re: plan") == "Fwd: Re: plan"
    assert forward_subject("Forward planning") == "Fwd: Forward planning"


def test_reply_and_forward_plans_use_the_subject_rules() -> None:
    email = original({"Subject": "RE: Re[2]: plan"})
    assert plan_reply(email, "x").subject == "Re: plan"
    assert plan_forward(email).subject == "Fwd: RE: Re[2]: plan"
    assert plan_forward(original({"Subject": "FW: plan"}), as_attachment=True).subject == "Fwd: plan"


# --------------------------------------------------------------------------- recipients


def test_reply_goes_to_from_without_reply_to() -> None:
    plan = plan_reply(original({"Cc": "carol@example.net"}), "x")
    assert plan.to == [Address("Bob Builder", "bob@example.org")]
    assert plan.cc == []


def test_reply_to_is_preferred_over_from() -> None:
    email = original({"Reply-To": "List <list@example.org>, Bob Home <bob@home.example>"})
    plan = plan_reply(email, "x")
    assert plan.to == [Address("List", "list@example.org"), Address("Bob Home", "bob@home.example")]
    assert "bob@example.org" not in addrs(plan.to)


def test_reply_to_with_an_encoded_name_holding_a_comma() -> None:
    plan = plan_reply(original({"Reply-To": "=?utf-8?q?Builder=2C_Bob?= <bob@example.org>"}), "x")
    assert plan.to == [Address("Builder, Bob", "bob@example.org")]
    composed = build_reply(original({"Reply-To": "=?utf-8?q?Builder=2C_Bob?= <bob@example.org>"}))
    assert parse_email(composed.as_bytes()).to == ['"Builder, Bob" <bob@example.org>']


def test_reply_all_adds_to_and_cc_minus_own_addresses_without_repeats() -> None:
    email = original(
        {
            "To": "Alice <ALICE@Example.ORG>, Carol <carol@example.net>, BOB@example.org",
            "Cc": "carol@EXAMPLE.net, Dave <dave@example.com>, alice.work@example.org, Alice <alice@example.org>",
        }
    )
    plan = plan_reply(
        email, "x", reply_all=True, own_addresses=own_addresses("Alice <alice@example.org>", "alice.work@example.org")
    )
    assert plan.to == [Address("Bob Builder", "bob@example.org"), Address("Carol", "carol@example.net")]
    assert plan.cc == [Address("Dave", "dave@example.com")]
    composed = build_reply(email, reply_all=True, own_addresses={"alice@example.org", "alice.work@example.org"})
    assert composed.recipients == ["bob@example.org", "carol@example.net", "dave@example.com"]


def test_own_addresses_compare_case_insensitively_given_in_any_case() -> None:
    email = original({"Cc": "alice@example.org, carol@example.net"})
    plan = plan_reply(email, "x", reply_all=True, own_addresses=["ALICE@EXAMPLE.ORG"])
    assert addrs(plan.to) == ["bob@example.org"]  # the original To (alice) was the user
    assert addrs(plan.cc) == ["carol@example.net"]


def test_without_reply_all_only_the_sender_is_answered() -> None:
    email = original({"To": "alice@example.org, carol@example.net", "Cc": "dave@example.com"})
    plan = plan_reply(email, "x", own_addresses={"alice@example.org"})
    assert addrs(plan.to) == ["bob@example.org"] and plan.cc == []


def test_reply_all_with_a_reply_to_and_an_undisclosed_group() -> None:
    email = original(
        {"Reply-To": "list@example.org", "To": "undisclosed-recipients:;", "Cc": "Team: carol@example.net;"}
    )
    plan = plan_reply(email, "x", reply_all=True)
    assert addrs(plan.to) == ["list@example.org"]
    assert addrs(plan.cc) == ["carol@example.net"]


def test_obsolete_but_unambiguous_names_are_accepted() -> None:
    email = original({"From": "John Q. Public <jqp@example.org>", "Cc": "Dr. Who <who@example.org>,"})
    plan = plan_reply(email, "x", reply_all=True)
    assert plan.to[0] == Address("John Q. Public", "jqp@example.org")
    assert plan.cc == [Address("Dr. Who", "who@example.org")]


def test_raw_8bit_and_broken_encoded_names_keep_the_address() -> None:
    email = original(
        [
            ("From", "Ren\udce9 Dupont <rene@example.fr>"),  # a raw Latin-1 byte
            ("Cc", "=?x-unknown?q?Carol?= <carol@example.net>, =?utf-8?b?RGF2?= <dave@example.com>"),
        ]
    )
    plan = plan_reply(email, "x", reply_all=True, own_addresses={"alice@example.org"})
    assert plan.to == [Address("René Dupont", "rene@example.fr")]
    assert addrs(plan.cc) == ["carol@example.net", "dave@example.com"]


def test_several_cc_headers_and_folded_lines() -> None:
    email = original([("Cc", "carol@example.net,\r\n Dave\r\n <dave@example.com>"), ("Cc", "erin@example.com")])
    assert addrs(plan_reply(email, "x", reply_all=True).cc) == [
        "carol@example.net",
        "dave@example.com",
        "erin@example.com",
    ]


@pytest.mark.parametrize(
    "sender",
    [
        "alice@example.org)<bob@example.org>",  # CVE-2023-27043
        "alice@example.org<bob@example.org>",
        "Bob <bob@exa mple.org>",
        "not an address",
        "bob@",
        "",
    ],
)
def test_an_unparseable_from_without_reply_to_is_refused(sender: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan_reply(original({"From": sender}), "x")
    assert caught.value.field == "ref"
    assert "nothing is guessed" in str(caught.value)


def test_a_missing_from_without_reply_to_is_refused() -> None:
    raw = raw_message().replace(b"From: Bob Builder <bob@example.org>\r\n", b"")
    with pytest.raises(InvalidInputError):
        plan_reply(parse_email(raw), "x")


def test_an_unparseable_from_is_fine_with_a_reply_to() -> None:
    plan = plan_reply(original({"From": "garbage", "Reply-To": "bob@example.org"}), "x")
    assert addrs(plan.to) == ["bob@example.org"]


def test_an_unparseable_reply_to_is_refused_not_replaced_by_from() -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan_reply(original({"Reply-To": "alice@example.org)<evil@example.org>"}), "x")
    assert caught.value.field == "ref" and "Reply-To" in str(caught.value)


def test_reply_all_refuses_an_unparseable_cc_but_a_plain_reply_ignores_it() -> None:
    email = original({"Cc": "carol@example.net)<evil@example.org>"})
    with pytest.raises(InvalidInputError) as caught:
        plan_reply(email, "x", reply_all=True)
    assert "Cc" in str(caught.value)
    assert addrs(plan_reply(email, "x").to) == ["bob@example.org"]


def test_an_email_built_by_hand_without_raw_bytes() -> None:
    email = Email(
        ref="",
        subject="Hand made",
        from_addr="bob@example.org",
        from_name="Bob",
        to=["alice@example.org", "Carol <carol@example.net>"],
        cc=[],
        date=pd.NaT,
        message_id=None,
        in_reply_to=None,
        references=[],
        headers={"To": "alice@example.org, Carol <carol@example.net>"},
        text="hi",
        html=None,
        attachments=[],
    )
    plan = plan_reply(email, "x", reply_all=True, own_addresses={"alice@example.org"})
    assert plan.to == [Address("Bob", "bob@example.org"), Address("Carol", "carol@example.net")]
    assert plan.body == "x\n\nBob wrote:\n> hi\n"


def test_own_addresses_helper() -> None:
    assert own_addresses("Alice <Alice@Example.org>", "alice", None, "", "a2@example.org") == {
        "alice@example.org",
        "a2@example.org",
    }


# --------------------------------------------------------------------------- threading


def test_references_are_the_originals_references_plus_its_message_id() -> None:
    email = original({"References": "<r0@example.org>\r\n <r1@example.org>", "In-Reply-To": "<r1@example.org>"})
    assert threading_for(email) == ("<m1@example.org>", ["<r0@example.org>", "<r1@example.org>", "<m1@example.org>"])
    composed = build_reply(email)
    assert composed.message["In-Reply-To"] == "<m1@example.org>"
    assert composed.message["References"] == "<r0@example.org> <r1@example.org> <m1@example.org>"
    parsed = parse_email(composed.as_bytes())
    assert parsed.in_reply_to == "<m1@example.org>"
    assert parsed.references == ["<r0@example.org>", "<r1@example.org>", "<m1@example.org>"]


def test_without_references_the_in_reply_to_starts_the_chain() -> None:
    email = original({"In-Reply-To": "<p@example.org> (the parent)"})
    assert threading_for(email) == ("<m1@example.org>", ["<p@example.org>", "<m1@example.org>"])


def test_without_references_or_in_reply_to_only_the_message_id() -> None:
    assert threading_for(original()) == ("<m1@example.org>", ["<m1@example.org>"])


def test_without_a_message_id_the_reply_still_works_without_in_reply_to() -> None:
    email = original({"Message-ID": None, "References": "<r0@example.org>"})  # type: ignore[dict-item]
    assert email.message_id is None
    assert threading_for(email) == (None, ["<r0@example.org>"])
    composed = build_reply(email)
    assert composed.message["In-Reply-To"] is None
    assert composed.message["References"] == "<r0@example.org>"
    bare = original({"Message-ID": None})  # type: ignore[dict-item]
    assert threading_for(bare) == (None, [])
    reply = build_reply(bare)
    assert reply.message["In-Reply-To"] is None and reply.message["References"] is None
    assert reply.recipients == ["bob@example.org"]


def test_invalid_ids_are_left_out_and_repeats_dropped() -> None:
    email = original(
        {
            "Message-ID": "<m1@example.org>",
            "References": "<r0@example.org> <no-at-sign> <r0@example.org> <m1@example.org>",
        }
    )
    assert threading_for(email) == ("<m1@example.org>", ["<r0@example.org>", "<m1@example.org>"])
    broken = original({"Message-ID": "not an id", "In-Reply-To": "<also broken>"})
    assert threading_for(broken) == (None, [])


def test_a_very_long_chain_keeps_the_root_and_the_newest() -> None:
    ids = [f"<r{i}@example.org>" for i in range(150)]
    _parent, references = threading_for(original({"References": " ".join(ids)}))
    assert len(references) == 100
    assert references[0] == "<r0@example.org>"
    assert references[-2:] == ["<r149@example.org>", "<m1@example.org>"]


# --------------------------------------------------------------------------- quoting


def test_quote_follows_the_new_text_under_an_attribution_line() -> None:
    plan = plan_reply(original(), "Thanks!\n")
    assert plan.body == (
        "Thanks!\n\nOn Fri, 01 Mar 2024 10:00:00 +0100, Bob Builder wrote:\n> line one\n> \n> line three\n"
    )
    parsed = parse_email(build_reply(original(), "Thanks!").as_bytes())
    assert parsed.text == plan.body


def test_attribution_uses_the_address_without_a_display_name() -> None:
    email = original({"From": "bob@example.org", "Date": "Sat, 02 Mar 2024 08:05:09 -0000"})
    assert attribution(email) == "On Sat, 02 Mar 2024 08:05:09 -0000, bob@example.org wrote:"


def test_attribution_is_an_rfc5322_date() -> None:
    line = attribution(original({"Date": "1 Mar 2024 09:00 GMT"}))
    assert line == "On Fri, 01 Mar 2024 09:00:00 +0000, Bob Builder wrote:"
    date = re.match(r"On (.*), Bob Builder wrote:$", line)
    assert date is not None
    assert parse_email(raw_message({"Date": date.group(1)})).date == pd.Timestamp("2024-03-01T09:00Z")


def test_attribution_without_a_readable_date() -> None:
    assert attribution(original({"Date": "yesterday-ish"})) == "Bob Builder wrote:"
    assert attribution(original({"Date": None})) == "Bob Builder wrote:"  # type: ignore[dict-item]


def test_quote_false_is_the_body_alone() -> None:
    assert plan_reply(original(), "Thanks!", quote=False).body == "Thanks!"


def test_every_original_line_is_quoted_even_already_quoted_ones() -> None:
    email = original(body="> earlier\nnew\r\nlast")
    assert plan_reply(email, "").body == (
        "On Fri, 01 Mar 2024 10:00:00 +0100, Bob Builder wrote:\n> > earlier\n> new\n> last\n"
    )


def test_an_original_without_text_adds_no_quote() -> None:
    assert plan_reply(original(body=""), "Thanks!").body == "Thanks!\n"


def test_html_gets_the_quote_as_a_blockquote_with_escaped_text() -> None:
    email = original(body="a <b> & c\nline two\n")
    plan = plan_reply(email, "Thanks", html="<html><body><p>Thanks</p></body></html>")
    assert plan.html is not None
    assert plan.html.startswith("<html><body><p>Thanks</p><div")
    assert plan.html.endswith("</blockquote></div></body></html>")
    assert "a &lt;b&gt; &amp; c<br>\nline two" in plan.html
    assert "On Fri, 01 Mar 2024 10:00:00 +0100, Bob Builder wrote:" in plan.html
    assert plan_reply(email, "Thanks", html="<p>x</p>", quote=False).html == "<p>x</p>"
    parsed = parse_email(build_reply(email, "Thanks", html="<p>Thanks</p>").as_bytes())
    assert parsed.html is not None and "<blockquote" in parsed.html
    assert "> a <b> & c" in parsed.text


def test_reply_preview_shows_recipients_and_the_quoted_text() -> None:
    email = original({"Cc": "carol@example.net"})
    preview = preview_of(build_reply(email, "Thanks!", reply_all=True, own_addresses={"alice@example.org"}))
    assert preview["to"] == ["Bob Builder <bob@example.org>"]
    assert preview["cc"] == ["carol@example.net"]
    assert preview["subject"] == "Re: plan"
    assert "Bob Builder wrote:\n> line one" in preview["body_excerpt"]


def test_a_reply_keeps_the_compose_checks() -> None:
    with pytest.raises(InvalidInputError) as caught:
        build_reply(original(), "nul\x00")
    assert caught.value.field == "body"
    with pytest.raises(InvalidInputError):
        plan_reply(original(), 42)  # type: ignore[arg-type]
    composed = build_reply(original({"Subject": "Re: x"}))
    header_block = composed.as_bytes().split(b"\r\n\r\n", 1)[0]
    assert b"bcc" not in header_block.lower()
    assert re.search(rb"(?<!\r)\n", composed.as_bytes()) is None


# --------------------------------------------------------------------------- forward inline


def with_attachments() -> Email:
    msg = EmailMessage()
    msg["From"] = "Bob Builder <bob@example.org>"
    msg["To"] = "Alice <alice@example.org>, carol@example.net"
    msg["Cc"] = "dave@example.com"
    msg["Subject"] = "Q3"
    msg["Date"] = "Fri, 01 Mar 2024 10:00:00 +0100"
    msg["Message-ID"] = "<q3@example.org>"
    msg.set_content("Numbers attached.\nBob")
    msg.add_attachment(bytes(range(256)) * 4, maintype="application", subtype="octet-stream", filename="all.bin")
    msg.add_attachment("a,b\nZoë,1\n".encode("latin-1"), maintype="text", subtype="csv", filename="Umsätze.csv")
    msg.add_attachment(b"\x89PNG\r\n\x1a\nfake", maintype="image", subtype="png", filename="chart.png")
    return parse_email(msg.as_bytes())


def test_inline_forward_carries_the_text_under_a_forwarded_block() -> None:
    email = with_attachments()
    plan = plan_forward(email, "FYI, see below.")
    assert plan.subject == "Fwd: Q3"
    assert plan.attached_message is None
    assert plan.body == (
        "FYI, see below.\n\n"
        f"{FORWARD_SEPARATOR}\n"
        "From: Bob Builder <bob@example.org>\n"
        "Date: Fri, 01 Mar 2024 10:00:00 +0100\n"
        "Subject: Q3\n"
        "To: Alice <alice@example.org>, carol@example.net\n"
        "Cc: dave@example.com\n"
        "\n"
        "Numbers attached.\nBob\n"
    )
    assert FORWARD_SEPARATOR == "---------- Forwarded message ---------"


def test_inline_forward_without_a_note_or_cc() -> None:
    body = plan_forward(original()).body
    assert body.startswith(FORWARD_SEPARATOR + "\nFrom: Bob Builder <bob@example.org>\n")
    assert "\nCc:" not in body
    assert body.endswith("\n\nline one\n\nline three\n")


def test_inline_forward_attachments_are_byte_exact() -> None:
    email = with_attachments()
    plan = plan_forward(email)
    assert plan.attachments == [(a.filename, a.data, a.content_type) for a in email.attachments]
    composed = build_forward(email)
    forwarded = parse_email(composed.as_bytes())
    assert [(a.filename, a.content_type, a.data) for a in forwarded.attachments] == [
        (a.filename, a.content_type, a.data) for a in email.attachments
    ]
    assert forwarded.attachments[0].data == bytes(range(256)) * 4
    assert forwarded.subject == "Fwd: Q3"
    assert FORWARD_SEPARATOR in forwarded.text and "Numbers attached." in forwarded.text
    assert composed.as_bytes().isascii()  # inline forwards stay 7bit


def test_inline_forward_of_an_attached_message_keeps_it_rfc822_not_base64() -> None:
    email = parse_email((CORPUS / "04_attached_message.eml").read_bytes())
    inner = [a for a in email.attachments if a.content_type == "message/rfc822"]
    assert inner, "corpus file 04 has an attached message"
    data = build_forward(email).as_bytes()
    part = next(p for p in parsed(data).iter_attachments() if p.get_content_type() == "message/rfc822")
    assert part["Content-Transfer-Encoding"] in ("7bit", "8bit")


def test_awkward_attachment_names_do_not_stop_a_forward() -> None:
    email = with_attachments()
    email.attachments[0].filename = ".."
    email.attachments[1].content_type = "not a type"
    composed = build_forward(email)
    names = [a[0] for a in composed.attachments]
    assert names[0] not in ("..", "") and composed.attachments[1][1] == "application/octet-stream"
    assert parse_email(composed.as_bytes()).attachments[0].data == bytes(range(256)) * 4


# --------------------------------------------------------------------------- forward as attachment


def parsed(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def attached_part(data: bytes) -> tuple[EmailMessage, bytes]:
    """The message/rfc822 part (parsed by the email package) and its body bytes, cut
    from the wire form at the top-level boundary (the email package re-parses the inner
    message, so its own payload is not the bytes that were sent)."""
    message = parsed(data)
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "message/rfc822"]
    assert len(parts) == 1
    boundary = message.get_boundary()
    assert boundary is not None
    sections = data.split(b"\r\n--" + boundary.encode("ascii"))
    bodies = []
    for section in sections[1:-1]:
        head, _, body = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if b"message/rfc822" in head.lower():
            bodies.append(body)
    assert len(bodies) == 1
    assert sections[-1].startswith(b"--")
    return parts[0], bodies[0]


def rfc822_original(*, eight_bit: bool = False, eol: bytes = b"\r\n") -> bytes:
    body = "Grüße, René\nline two\n" if eight_bit else "plain text\nline two\n"
    headers = [
        ("From", "Ren\udce9 Dupont <rene@example.fr>" if eight_bit else "Bob <bob@example.org>"),
        ("X-Odd", "value\r\n\twith an   odd fold"),
        ("Subject", "Quartal"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit" if eight_bit else "7bit"),
    ]
    return raw_message(headers, body, eol=eol)


@pytest.mark.parametrize("eight_bit", [False, True])
def test_attached_original_is_the_servers_bytes_exactly(eight_bit: bool) -> None:
    raw = rfc822_original(eight_bit=eight_bit)
    assert raw.isascii() is not eight_bit
    email = parse_email(raw)
    plan = plan_forward(email, "See the attached original.", as_attachment=True)
    assert plan.attached_message == raw and plan.attachments == []
    assert FORWARD_SEPARATOR not in plan.body
    composed = build_forward(email, "See the attached original.", as_attachment=True)
    data = composed.as_bytes()
    part, body = attached_part(data)
    assert body == raw
    assert part["Content-Transfer-Encoding"] == ("8bit" if eight_bit else "7bit")
    assert part.get_filename() == "original message.eml"
    inner: Any = part.get_payload(0)
    assert str(inner["Subject"]) == "Quartal"
    assert composed.eight_bit is eight_bit
    assert data.isascii() is not eight_bit
    assert re.search(rb"(?<!\r)\n", data) is None
    assert parse_email(data).text == "See the attached original.\n"


def test_an_lf_only_original_is_carried_with_crlf_line_ends_only() -> None:
    crlf = rfc822_original(eight_bit=True)
    lf = rfc822_original(eight_bit=True, eol=b"\n")
    assert b"\r" not in lf
    data = build_forward(parse_email(lf), as_attachment=True).as_bytes()
    _part, body = attached_part(data)
    assert body == crlf  # every byte the same; only the line ends are now CRLF, as SMTP requires
    assert re.search(rb"(?<!\r)\n", data) is None


def test_the_boundary_never_occurs_in_the_attached_message() -> None:
    raw = rfc822_original()
    composed = build_forward(parse_email(raw), as_attachment=True)
    boundary = parsed(composed.as_bytes()).get_boundary()
    assert boundary is not None and boundary.encode() not in raw
    # every serialisation is the same message
    assert composed.as_bytes() == composed.as_bytes()


def test_forward_as_attachment_preview_lists_the_message() -> None:
    raw = rfc822_original()
    composed = build_forward(parse_email(raw), "note", as_attachment=True)
    preview = preview_of(composed, action="Forward")
    assert preview["attachments"] == [
        {"filename": "original message.eml", "content_type": "message/rfc822", "size": len(raw)}
    ]
    assert preview["body_excerpt"] == "note\n"
    assert preview["size"] == len(composed.as_bytes())
    assert preview["summary"].startswith("Forward 'Fwd: Quartal' to 1 recipient with 1 attachment")


def test_forward_as_attachment_needs_the_raw_bytes() -> None:
    email = original()
    email.raw = b""
    with pytest.raises(InvalidInputError) as caught:
        plan_forward(email, as_attachment=True)
    assert caught.value.field == "ref"


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.eml")))
def test_every_corpus_message_forwards_both_ways(name: str) -> None:
    raw = (CORPUS / name).read_bytes()
    email = parse_email(raw)
    _part, body = attached_part(build_forward(email, as_attachment=True).as_bytes())
    assert body == re.sub(rb"\r\n|\r|\n", b"\r\n", raw)
    inline = parse_email(build_forward(email).as_bytes())
    assert inline.subject.startswith("Fwd:")
    assert len(inline.attachments) == len(email.attachments)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.eml")))
def test_every_corpus_message_replies_or_says_why_not(name: str) -> None:
    email = parse_email((CORPUS / name).read_bytes())
    outcome: ComposedMessage | InvalidInputError
    try:
        outcome = build_reply(email, reply_all=True, own_addresses={"alice@example.org"})
    except InvalidInputError as exc:
        outcome = exc
    if isinstance(outcome, InvalidInputError):
        assert outcome.field == "ref"
    else:
        assert outcome.subject.startswith("Re: ")
        assert outcome.recipients
