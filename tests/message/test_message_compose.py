"""Composing messages: recipients, injection refusals, attachments, round trips."""

from __future__ import annotations

import base64
import io
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nb_email_conn.errors import InvalidInputError
from nb_email_conn.message import ComposedMessage, build_message, parse_email, preview_of
from nb_email_conn.validation import Address


def compose(**overrides: Any) -> ComposedMessage:
    arguments: dict[str, Any] = {
        "sender": "Alice <alice@example.org>",
        "to": "bob@example.org",
        "subject": "Hi",
        "body": "Hello Bob",
    }
    arguments.update(overrides)
    return build_message(**arguments)


def _header_block(composed: ComposedMessage) -> bytes:
    return composed.as_bytes().split(b"\r\n\r\n", 1)[0]


# --------------------------------------------------------------------------- recipients


def test_bcc_goes_only_into_the_envelope() -> None:
    composed = compose(
        to="bob@example.org", cc=["Carol <carol@example.org>"], bcc="secret@example.org, BOB@example.org"
    )
    assert b"secret@example.org" not in composed.as_bytes()
    assert b"bcc" not in _header_block(composed).lower()
    assert composed.recipients == ["bob@example.org", "carol@example.org", "secret@example.org"]
    assert composed.envelope_from == "alice@example.org"
    assert [a.addr for a in composed.bcc] == ["secret@example.org", "BOB@example.org"]


def test_recipients_as_string_or_list() -> None:
    as_string = compose(to="a@example.org, B <b@example.org>")
    as_list = compose(to=["a@example.org", "B <b@example.org>"])
    assert as_string.recipients == as_list.recipients == ["a@example.org", "b@example.org"]


def test_at_least_one_recipient() -> None:
    with pytest.raises(InvalidInputError) as caught:
        compose(to=[], cc=None, bcc="")
    assert caught.value.field == "to"
    assert compose(to=None, bcc="only@example.org").recipients == ["only@example.org"]
    draft = compose(to=None, allow_no_recipients=True)
    assert draft.recipients == []
    assert draft.message["To"] is None


@pytest.mark.parametrize("field", ["to", "cc", "bcc"])
@pytest.mark.parametrize(
    "value",
    [
        "bob@example.org\r\nBcc: evil@example.org",
        "bob@example.org\nX-Injected: 1",
        "bob@example.org\x00",
        "not an address",
        "alice@example.org)<bob@example.org>",  # CVE-2023-27043
        "alice@example.org<bob@example.org>",
        "<alice@example.org>bob@example.org",
        "a@b@example.org",
        "alice@example.org;bob@example.org",
        ["fine@example.org", "broken@"],
    ],
)
def test_bad_addresses_are_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        compose(**{field: value})
    assert caught.value.field == field


def test_bad_sender_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        compose(sender="alice@example.org\r\nBcc: x@example.org")
    assert caught.value.field == "sender"


# --------------------------------------------------------------------------- header injection


@pytest.mark.parametrize("subject", ["x\r\nBcc: e@example.org", "x\nBcc: e@example.org", "x\rY", "nul\x00"])
def test_subject_injection_refused(subject: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        compose(subject=subject)
    assert caught.value.field == "subject"


@pytest.mark.parametrize("value", ["<a@example.org>\r\nBcc: e@example.org", "<a b@example.org>", "no-at-sign", "<>"])
def test_in_reply_to_injection_refused(value: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        compose(in_reply_to=value)
    assert caught.value.field == "in_reply_to"
    with pytest.raises(InvalidInputError):
        compose(references=["<ok@example.org>", value])


@pytest.mark.parametrize("name", ["a\r\nContent-Type: text/html.txt", "a\nb.txt", "nul\x00.txt", "", "..", "dir/"])
def test_attachment_name_injection_refused(name: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        compose(attachments=[(name, b"data")])
    assert caught.value.field == "attachments"


def test_nul_in_body_refused_but_newlines_fine() -> None:
    with pytest.raises(InvalidInputError) as caught:
        compose(body="a\x00b")
    assert caught.value.field == "body"
    composed = compose(body="line one\nline two\r\nline three\rend")
    assert parse_email(composed.as_bytes()).text == "line one\nline two\nline three\nend\n"


def test_wire_format_uses_crlf_only() -> None:
    data = compose(body="a\nb\n" + "long " * 400, html="<p>x</p>", attachments=[("f.bin", b"\x00" * 100)]).as_bytes()
    assert re.search(rb"(?<!\r)\n", data) is None
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))


# --------------------------------------------------------------------------- threading headers


def test_in_reply_to_sets_references() -> None:
    composed = compose(in_reply_to="parent@example.org")
    assert composed.message["In-Reply-To"] == "<parent@example.org>"
    assert composed.message["References"] == "<parent@example.org>"
    threaded = compose(in_reply_to="<p@example.org>", references=["<root@example.org>", "mid@example.org"])
    assert threaded.message["References"] == "<root@example.org> <mid@example.org> <p@example.org>"
    parsed = parse_email(threaded.as_bytes())
    assert parsed.in_reply_to == "<p@example.org>"
    assert parsed.references == ["<root@example.org>", "<mid@example.org>", "<p@example.org>"]


def test_message_id_and_date() -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    composed = compose(message_id_domain="mail.example.org", date=when)
    assert re.fullmatch(r"<[^<>\s@]+@mail\.example\.org>", composed.message_id)
    assert composed.message["Message-ID"] == composed.message_id
    assert parse_email(composed.as_bytes()).date == pd.Timestamp(when)
    assert compose().message_id.endswith("@example.org>")  # defaults to the sender's domain


# --------------------------------------------------------------------------- attachments


def test_attachment_forms(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"from disk")
    composed = compose(
        attachments=[
            path,
            str(path),
            ("image.png", b"\x89PNG fake"),
            ("raw.dat", b"\x01\x02", "application/x-custom"),
            {"filename": "d.json", "data": b"{}", "content_type": "application/json"},
            ("../../etc/report.csv", "a,b\n"),
        ]
    )
    assert composed.attachments == [
        ("notes.txt", "text/plain", 9),
        ("notes.txt", "text/plain", 9),
        ("image.png", "image/png", 9),
        ("raw.dat", "application/x-custom", 2),
        ("d.json", "application/json", 2),
        ("report.csv", "text/csv", 4),
    ]
    parsed = parse_email(composed.as_bytes())
    assert [(a.filename, a.data) for a in parsed.attachments] == [
        ("notes.txt", b"from disk"),
        ("notes.txt", b"from disk"),
        ("image.png", b"\x89PNG fake"),
        ("raw.dat", b"\x01\x02"),
        ("d.json", b"{}"),
        ("report.csv", b"a,b\n"),
    ]


def test_missing_attachment_file_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        compose(attachments=[tmp_path / "nope.pdf"])
    assert caught.value.field == "attachments"
    with pytest.raises(InvalidInputError):
        compose(attachments=[tmp_path])  # a folder is not a file
    with pytest.raises(InvalidInputError):
        compose(attachments=[{"name": "x"}])
    with pytest.raises(InvalidInputError):
        compose(attachments=[("x.txt", 123)])


def test_dataframe_attachment_round_trips_as_csv() -> None:
    frame = pd.DataFrame({"name": ["Zoë", "Bob, Jr."], "amount": [1.5, 2.0], "count": [1, 2]})
    composed = compose(attachments=[frame, ("sales.csv", frame)])
    assert [a[:2] for a in composed.attachments] == [("data.csv", "text/csv"), ("sales.csv", "text/csv")]
    for attachment in parse_email(composed.as_bytes()).attachments:
        pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(attachment.data)), frame)


def test_dataframe_with_a_meaningful_index_keeps_it() -> None:
    frame = pd.DataFrame({"v": [1, 2]}, index=pd.Index(["a", "b"], name="key"))
    data = parse_email(compose(attachments=frame).as_bytes()).attachments[0].data
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(data), index_col="key"), frame)


# --------------------------------------------------------------------------- round trip


def test_round_trip_keeps_non_ascii_everything() -> None:
    composed = compose(
        sender="Zoë Ångström <zoe@example.org>",
        to=["Jürgen Müller <juergen@example.de>", "会議 <kaigi@example.jp>"],
        cc="René <rene@example.fr>",
        subject="Grüße — 会議の件 " + "lang " * 30,
        body="Schöne Grüße\n— Zoë",
        html="<p>Schöne Grüße</p>",
        attachments=[("Umsätze €.csv", b"x")],
    )
    assert composed.as_bytes().isascii()
    parsed = parse_email(composed.as_bytes())
    assert parsed.subject == composed.subject.strip()
    assert (parsed.from_name, parsed.from_addr) == ("Zoë Ångström", "zoe@example.org")
    assert parsed.to == ["Jürgen Müller <juergen@example.de>", "会議 <kaigi@example.jp>"]
    assert parsed.cc == ["René <rene@example.fr>"]
    assert parsed.text == "Schöne Grüße\n— Zoë\n"
    assert parsed.html == "<p>Schöne Grüße</p>\n"
    assert [(a.filename, a.data) for a in parsed.attachments] == [("Umsätze €.csv", b"x")]


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=200)


@settings(max_examples=150, deadline=None)
@given(subject=_TEXT, body=st.lists(_TEXT, max_size=5).map("\n".join))
def test_property_subject_and_body_survive_compose_and_parse(subject: str, body: str) -> None:
    parsed = parse_email(compose(subject=subject, body=body).as_bytes())
    assert parsed.subject == subject.strip()
    assert parsed.text.rstrip("\n") == body.rstrip("\n")


# --------------------------------------------------------------------------- preview


def test_preview_lists_every_recipient_and_attachment() -> None:
    composed = compose(
        to="bob@example.org",
        cc="Carol <carol@example.org>",
        bcc="hidden@example.org",
        subject="Q3 numbers",
        body="x" * 600,
        attachments=[("q3.csv", b"1,2,3")],
    )
    preview = preview_of(composed)
    assert preview["to"] == ["bob@example.org"]
    assert preview["cc"] == ["Carol <carol@example.org>"]
    assert preview["bcc"] == ["hidden@example.org"]
    assert preview["from"] == "Alice <alice@example.org>"
    assert preview["subject"] == "Q3 numbers"
    assert preview["body_excerpt"] == "x" * 500 + "…"
    assert preview["attachments"] == [{"filename": "q3.csv", "content_type": "text/csv", "size": 5}]
    assert preview["size"] == len(composed.as_bytes())
    assert preview["summary"] == "Send 'Q3 numbers' to 3 recipients with 1 attachment (5 B)"
    assert preview_of(composed, action="Save draft")["summary"].startswith("Save draft 'Q3 numbers'")


def test_address_tuples_are_accepted_and_checked() -> None:
    composed = compose(to=[Address("Bob", "bob@example.org"), "c@example.org"])
    assert composed.message["To"] == "Bob <bob@example.org>, c@example.org"
    with pytest.raises(InvalidInputError) as caught:
        compose(cc=[Address("Bob\r\nBcc: x@example.org", "bob@example.org")])
    assert caught.value.field == "cc"


# --------------------------------------------------------------------------- attached messages

_INNER = b"From: Bob <bob@example.org>\r\nSubject: inner\r\nX-Fold: a\r\n\tb\r\n\r\nbody\r\n"


def _rfc822_parts(data: bytes) -> list[Any]:
    from email import policy
    from email.parser import BytesParser

    message = BytesParser(policy=policy.default).parsebytes(data)
    return [p for p in message.walk() if p.get_content_type() == "message/rfc822"]


def test_attached_message_is_spliced_in_unchanged() -> None:
    composed = compose(attached_message=_INNER, attached_message_name="Grüße.eml")
    data = composed.as_bytes()
    assert _INNER in data and data.isascii() and not composed.eight_bit
    [part] = _rfc822_parts(data)
    assert part["Content-Transfer-Encoding"] == "7bit"
    assert part.get_filename() == "Grüße.eml"
    assert composed.attachments == [("Grüße.eml", "message/rfc822", len(_INNER))]
    assert b"nb-email-conn-attached-message" not in data
    assert re.search(rb"(?<!\r)\n", data) is None
    assert b"Bcc" not in data


def test_an_eml_file_attachment_is_carried_as_rfc822_too(tmp_path: Path) -> None:
    path = tmp_path / "saved.eml"
    path.write_bytes(_INNER.replace(b"\r\n", b"\n"))
    data = compose(attachments=[path, ("notes.txt", b"x")]).as_bytes()
    [part] = _rfc822_parts(data)
    assert part.get_filename() == "saved.eml" and part["Content-Transfer-Encoding"] == "7bit"
    assert _INNER in data  # line ends made CRLF, nothing else changed


def test_attached_message_that_no_7bit_or_8bit_body_can_carry_falls_back_to_base64() -> None:
    for odd in (_INNER + b"\x00nul", _INNER + b"x" * 1200 + b"\r\n"):
        composed = compose(attached_message=odd)
        data = composed.as_bytes()
        assert data.isascii() and re.search(rb"(?<!\r)\n", data) is None
        assert all(len(line) <= 998 for line in data.split(b"\r\n"))
        assert composed.attachments == [("original message.eml", "message/rfc822", len(odd))]
        [part] = _rfc822_parts(data)
        assert part["Content-Transfer-Encoding"] == "base64"
        section = next(s for s in data.split(b"\r\n--") if b"message/rfc822" in s.split(b"\r\n\r\n")[0])
        assert base64.b64decode(section.split(b"\r\n\r\n", 1)[1]) == odd


def test_attached_message_must_be_bytes() -> None:
    with pytest.raises(InvalidInputError) as caught:
        compose(attached_message="From: x\r\n\r\nbody")
    assert caught.value.field == "attached_message"
    with pytest.raises(InvalidInputError):
        compose(attached_message=_INNER, attached_message_name="a\r\nb.eml")


def test_attached_message_keeps_html_and_other_attachments_in_order() -> None:
    composed = compose(html="<p>hi</p>", attachments=[("a.txt", b"a")], attached_message=_INNER)
    parsed = parse_email(composed.as_bytes())
    assert parsed.html == "<p>hi</p>\n" and parsed.text == "Hello Bob\n"
    assert [a.filename for a in parsed.attachments] == ["a.txt", "original message.eml"]
    assert [a[0] for a in composed.attachments] == ["a.txt", "original message.eml"]
