"""The demo mailbox generator, on its own (no server)."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import functools
import io
import re

from nb_email_conn.sandbox import seed

NOW = dt.datetime(2024, 10, 1, 12, 0, tzinfo=dt.timezone.utc)


@functools.cache
def demo() -> list[seed.SeedMessage]:
    return seed.generate(now=NOW)


def _parsed(message: seed.SeedMessage) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_same_seed_and_date_give_the_same_bytes() -> None:
    assert seed.generate(now=NOW) == seed.generate(now=NOW)
    assert seed.generate(now=NOW) != seed.generate(now=NOW, seed=7)


def test_about_150_messages_in_every_folder_kind() -> None:
    messages = demo()
    counts = seed.count_by_folder(messages)
    assert 140 <= len(messages) <= 160
    assert set(counts) == set(seed.FOLDERS)
    assert counts["INBOX"] > 80
    for folder in ("Sent", "Drafts", "Trash", "Archive", "Junk"):
        assert counts[folder] >= 2, folder


def test_dates_spread_over_the_last_90_days() -> None:
    messages = demo()
    received = [m.received for m in messages]
    assert min(received) >= NOW - dt.timedelta(days=91)
    assert max(received) <= NOW
    assert max(received) - min(received) > dt.timedelta(days=60)
    for message in messages:
        header_date = _parsed(message)["Date"].datetime
        assert abs(message.received - header_date) < dt.timedelta(minutes=5)


def test_messages_are_ascii_on_the_wire_with_valid_encoded_words() -> None:
    names: set[str] = set()
    subjects: set[str] = set()
    for message in demo():
        message.data.decode("ascii")  # 7bit: non-ASCII only through encoded words / QP / base64
        assert b"\r\n" in message.data
        assert b"\n" not in message.data.replace(b"\r\n", b"")
        parsed = _parsed(message)
        assert not parsed.defects, parsed.defects
        names.update(addr.display_name for addr in parsed["From"].addresses)
        subjects.add(str(parsed["Subject"]))
    assert {"Jörg Müller", "Zoë Ålund", "José Núñez", "田中 花子"} <= names
    assert "Réunion avec le client à Paris" in subjects
    assert "東京オフィスの件" in subjects
    raw_headers = b"".join(m.data.split(b"\r\n\r\n", 1)[0] for m in demo())
    assert re.search(rb"=\?utf-8\?[bq]\?", raw_headers, re.IGNORECASE)


def test_threads_link_replies_to_their_parents() -> None:
    by_id = {}
    replies = []
    for message in demo():
        parsed = _parsed(message)
        by_id[str(parsed["Message-ID"])] = parsed
        if parsed["In-Reply-To"]:
            replies.append(parsed)
    assert len(replies) >= 15
    for reply in replies:
        parent = by_id[str(reply["In-Reply-To"])]
        assert str(reply["Subject"]) == "Re: " + str(parent["Subject"]).removeprefix("Re: ")
        assert str(reply["References"]).split()[-1] == str(reply["In-Reply-To"])


def test_newsletters_html_only_and_alternative() -> None:
    kinds = set()
    for message in demo():
        parsed = _parsed(message)
        if parsed["List-Id"]:
            kinds.add(parsed.get_content_type())
            if parsed.get_content_type() == "text/html":
                assert "<h1>" in parsed.get_content()
    assert {"text/html", "multipart/alternative", "text/plain"} <= kinds


def test_invoices_carry_a_valid_pdf_and_a_parsable_csv() -> None:
    pdfs = csvs = 0
    rfc2231_names = []
    for message in demo():
        for part in _parsed(message).iter_attachments():
            data = part.get_payload(decode=True)
            if part.get_content_type() == "application/pdf":
                pdfs += 1
                assert isinstance(data, bytes)  # a leaf part's decoded payload
                assert data.startswith(b"%PDF-1.4")
                assert data.rstrip().endswith(b"%%EOF")
                _assert_xref_offsets_point_at_objects(data)
                filename = part.get_filename()
                assert filename is not None
                if not filename.isascii():
                    rfc2231_names.append(filename)
            elif part.get_content_type() == "text/csv":
                csvs += 1
                assert isinstance(data, bytes)
                rows = list(csv.reader(io.StringIO(data.decode())))
                assert len(rows) >= 2
                assert len({len(r) for r in rows}) == 1
    assert pdfs >= 15
    assert csvs >= 10
    assert rfc2231_names
    assert all(name.endswith("März.pdf") for name in rfc2231_names)


def _assert_xref_offsets_point_at_objects(pdf: bytes) -> None:
    startxref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    xref = pdf[startxref:]
    assert xref.startswith(b"xref")
    lines = xref.split(b"\n")
    count = int(lines[1].split()[1])
    for number in range(1, count):
        offset = int(lines[2 + number].split()[0])
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())


def test_flags_seen_flagged_answered_draft_all_occur() -> None:
    messages = demo()
    flags = [m.flags for m in messages]
    inbox = [m for m in messages if m.folder == "INBOX"]
    assert any(seed.SEEN not in m.flags for m in inbox), "some unread mail"
    assert any(seed.SEEN in m.flags for m in inbox)
    assert any(seed.FLAGGED in f for f in flags)
    assert any(seed.ANSWERED in f for f in flags)
    assert all(seed.DRAFT in m.flags for m in messages if m.folder == "Drafts")
    assert all(seed.DEMO_USER in str(_parsed(m)["From"]) for m in messages if m.folder == "Sent")


def test_a_forwarded_message_is_attached_as_message_rfc822() -> None:
    forwarded = [
        part
        for message in demo()
        for part in _parsed(message).iter_attachments()
        if part.get_content_type() == "message/rfc822"
    ]
    assert len(forwarded) == 1
    inner = forwarded[0].get_content()
    assert str(inner["Subject"]) == "Contract renewal terms"
