"""The fast search path against a real Dovecot, compared with an independent slow parse.

The slow path is imapclient's FETCH of the whole message plus the ``email`` package's
modern policy; both must agree on every column for a corpus with encoded words, odd
charsets, broken headers and all kinds of attachments.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any

import imapclient
import pandas as pd
import pytest
from pandas.api.typing import NaTType
from servers.dovecot import DovecotServer

from nb_email_conn.errors import InvalidInputError
from nb_email_conn.imap.fetch import search_messages
from nb_email_conn.imap.internals import raw_imap
from nb_email_conn.imap.query import build_criteria

pytestmark = pytest.mark.dovecot

USER = "bob@example.org"  # alice's mailbox is reset by other tests; this corpus lives in bob's
BASE = datetime(2024, 1, 10, 12, 0, tzinfo=timezone.utc)


def _mime(subject: str, *, attach: list[tuple[str, str, bytes, str]] | None = None, **headers: str) -> bytes:
    message = EmailMessage()
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Hello,\nthe numbers are attached.\n")
    for maintype_subtype, filename, data, disposition in attach or []:
        maintype, subtype = maintype_subtype.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename, disposition=disposition)
    return bytes(message)


def _raw(*lines: str | bytes, body: bytes = b"body\r\n") -> bytes:
    encoded = [line if isinstance(line, bytes) else line.encode() for line in lines]
    return b"\r\n".join(encoded) + b"\r\n\r\n" + body


CORPUS: list[tuple[bytes, tuple[str, ...]]] = [
    (
        _raw(
            "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.org>",
            'To: alice@example.org, "Smith, Bob" <bob@example.org>',
            "Cc: =?iso-8859-1?q?Ren=E9?= <rene@example.org>",
            "Subject: =?utf-8?b?UXVhcnRhbHNiZXJpY2h0IMO8YmVyIMOEcGZlbA==?=",
            "Date: Tue, 2 Jan 2024 11:00:00 +0100",
            "Message-ID: <m1@example.org>",
        ),
        ("\\Seen",),
    ),
    (
        _raw(
            "From: bob@example.org",
            "To: undisclosed-recipients:;",
            "Subject: a folded",
            '  subject line with "quotes" and \\backslash',
            "Date: Wed, 03 Jan 2024 09:30:00 +0000 (UTC)",
            "In-Reply-To: <m1@example.org>",
            "Message-ID: <m2@example.org>",
        ),
        (),
    ),
    (_raw("From: Carol <carol@example.org>", "Subject: no date at all"), ("\\Flagged",)),
    (_raw("From: Dave <dave@example.org>", "Subject: bad date", "Date: sometime last week"), ()),
    (
        _raw(
            "From: =?x-unknown-charset?q?Weird?= <weird@example.org>",
            "Subject: =?iso-2022-jp?b?GyRCJUYlOSVIGyhC?= and =?windows-1252?q?=93smart=94?=",
            "Date: 4 Jan 2024 10:00:00 GMT",
        ),
        ("\\Answered", "$Work"),
    ),
    (
        _raw(
            "From: Eve <eve@example.org>",
            "Subject: broken =?utf-8?b?!!!?= word and =?utf-8?q?unterminated",
            "Date: Fri, 5 Jan 2024 10:00:00 -0500",
        ),
        (),
    ),
    (_raw("Subject: no from header", "Date: Sat, 6 Jan 2024 10:00:00 +0000"), ()),
    (
        _mime(
            "Invoice January",
            attach=[("application/pdf", "invoice.pdf", b"%PDF-1.4 fake", "attachment")],
            From="Billing <billing@example.org>",
            To="alice@example.org",
            Date="Sun, 7 Jan 2024 10:00:00 +0000",
        ),
        ("\\Seen",),
    ),
    (
        _mime(
            "Data as CSV",
            attach=[("text/csv", "data.csv", b"a,b\n1,2\n", "attachment")],
            From="Analyst <analyst@example.org>",
            To="alice@example.org",
            Date="Mon, 8 Jan 2024 10:00:00 +0000",
        ),
        (),
    ),
    (
        _mime(
            "Rechnung für März",
            attach=[("application/octet-stream", "Übersicht März.xlsx", b"PK\x03\x04 fake", "attachment")],
            From="Büro <buero@example.org>",
            To="alice@example.org",
            Date="Tue, 9 Jan 2024 10:00:00 +0100",
        ),
        (),
    ),
    (
        _mime(
            "Inline logo",
            attach=[("image/png", "logo.png", b"\x89PNG fake", "inline")],
            From="news@example.org",
            Date="Wed, 10 Jan 2024 08:00:00 +0000",
        ),
        (),
    ),
    (
        _raw(
            "From: fwd@example.org",
            "Subject: forwarded message",
            "Date: Wed, 10 Jan 2024 09:00:00 +0000",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="B"',
            body=(
                b"--B\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n"
                b"From: inner@example.org\r\nSubject: inner\r\n\r\ninner body\r\n--B--\r\n"
            ),
        ),
        (),
    ),
    (
        _raw(
            "From: list@example.org",
            "Subject: alternative only",
            "Date: Wed, 10 Jan 2024 10:00:00 +0000",
            "MIME-Version: 1.0",
            'Content-Type: multipart/alternative; boundary="A"',
            body=(
                b"--A\r\nContent-Type: text/plain\r\n\r\nplain\r\n--A\r\nContent-Type: text/html\r\n\r\n"
                b"<p>html</p>\r\n--A--\r\n"
            ),
        ),
        ("\\Seen", "\\Flagged"),
    ),
    (
        _raw(
            'From: "Zoë, the tester" <zoe@example.org>',
            "To: a@example.org, b@example.org,\r\n c@example.org",
            "Subject: " + "long subject " * 20,
            "Date: Thu, 11 Jan 2024 10:00:00 +0000",
        ),
        (),
    ),
]


def _connect(server: DovecotServer) -> imapclient.IMAPClient:
    return server.client(USER)


@pytest.fixture(scope="module")
def corpus(dovecot: DovecotServer) -> Iterator[dict[str, Any]]:
    """The corpus in a fresh folder of bob's: folder name, UIDs, UIDVALIDITY."""
    folder = f"Corpus-{uuid.uuid4().hex[:8]}"
    with _connect(dovecot) as client:
        client.create_folder(folder)
        uids = []
        for index, (raw, flags) in enumerate(CORPUS):
            response = client.append(folder, raw, flags=flags, msg_time=BASE + timedelta(hours=index))
            uids.append(int(response.split(b"]")[0].split()[-1]))
        uidvalidity = int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])
    yield {"folder": folder, "uids": uids, "uidvalidity": uidvalidity}
    with _connect(dovecot) as client:
        client.delete_folder(folder)


def fast(
    server: DovecotServer,
    corpus: dict[str, Any],
    query: str | None = None,
    *,
    caps: Any = None,
    limit: int | None = None,
    **criteria: Any,
) -> pd.DataFrame:
    with _connect(server) as client:
        info = client.select_folder(corpus["folder"], readonly=True)
        capabilities = caps if caps is not None else [c.decode() for c in client.capabilities()]
        frame = search_messages(
            raw_imap(client),
            build_criteria(query, criteria),
            capabilities=capabilities,
            folder=corpus["folder"],
            uidvalidity=int(info[b"UIDVALIDITY"]),
            user=USER,
            host=server.host,
            limit=limit,
            batch=4,  # several pipelined commands even for this small corpus
        )
        assert client.noop()  # imapclient still in step with the server after the fast path
    return frame


# -- the slow, independent parse -----------------------------------------------------------
def _has_attachment(message: email.message.Message) -> bool:
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "message/global"):
            return True
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            return True
        if part.get_content_maintype() != "text" and part.get_filename():
            return True
    return False


def _addresses(message: EmailMessage, name: str) -> list[tuple[str, str]]:
    header = message[name]
    if header is None:
        return []
    return [(a.display_name, a.addr_spec) for a in header.addresses]


def _date(message: EmailMessage) -> pd.Timestamp | NaTType:
    try:
        parsed = email.utils.parsedate_to_datetime(str(message["date"]))
    except (TypeError, ValueError):
        return pd.NaT
    stamp = pd.Timestamp(parsed)
    utc: pd.Timestamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return utc


def slow(server: DovecotServer, corpus: dict[str, Any]) -> dict[int, dict[str, Any]]:
    with _connect(server) as client:
        client.select_folder(corpus["folder"], readonly=True)
        data = client.fetch(client.search("ALL"), ["UID", "FLAGS", "RFC822.SIZE", "BODY.PEEK[]"])
    rows = {}
    for uid, item in data.items():
        raw = item[b"BODY[]"]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        sender = _addresses(message, "from")
        rows[uid] = {
            "from_name": sender[0][0] if sender else "",
            "from_addr": sender[0][1] if sender else "",
            "to": ", ".join(addr for _, addr in _addresses(message, "to") if addr),
            "cc": ", ".join(addr for _, addr in _addresses(message, "cc") if addr),
            "subject": str(message["subject"] or ""),
            "date": _date(message),
            "flags": {f.decode() for f in item[b"FLAGS"]} - {"\\Recent"},  # session-dependent: rows drop it
            "size": item[b"RFC822.SIZE"],
            "has_attachments": _has_attachment(message),
            "message_id": str(message["message-id"] or ""),
            "in_reply_to": str(message["in-reply-to"] or ""),
        }
    return rows


# Where the email package is not the reference: (subject, column) -> what we show instead.
KNOWN_DIFFERENCES: dict[tuple[str, str], Any] = {
    # Raw UTF-8 in a header (not allowed, but common): email keeps surrogate escapes, we decode it.
    ("long subject " * 20, "from_name"): "Zoë, the tester",
    # Surrounding whitespace of a header value is dropped.
    ("long subject " * 20, "subject"): ("long subject " * 20).strip(),
    # An encoded word with invalid base64: email drops it, we keep it as written (nothing is lost).
    ("broken  word and =?utf-8?q?unterminated", "subject"): "broken =?utf-8?b?!!!?= word and =?utf-8?q?unterminated",
}


def test_fast_path_matches_independent_parse(dovecot: DovecotServer, corpus: dict[str, Any]) -> None:
    frame = fast(dovecot, corpus)
    expected = slow(dovecot, corpus)
    assert sorted(frame["uid"]) == sorted(corpus["uids"]) == sorted(expected)
    mismatches = []
    for row in frame.to_dict("records"):
        want = expected[row["uid"]]
        for column, value in want.items():
            got = set(row[column]) if column == "flags" else row[column]
            value = KNOWN_DIFFERENCES.get((want["subject"], column), value)
            same = pd.isna(row["date"]) if column == "date" and pd.isna(value) else got == value
            if not same:
                mismatches.append((want["subject"][:30], column, got, value))
    assert mismatches == [], "\n".join(map(repr, mismatches))


def test_columns_dtypes_refs_and_order(dovecot: DovecotServer, corpus: dict[str, Any]) -> None:
    frame = fast(dovecot, corpus)
    assert str(frame["date"].dtype) == "datetime64[us, UTC]"
    assert str(frame["uid"].dtype) == "int64"
    assert frame["seen"].dtype == bool
    key = frame["date"].fillna(frame["received"])
    assert key.is_monotonic_decreasing
    first = frame.iloc[0]
    assert first["ref"] == (
        f"imap://bob%40example.org@{dovecot.host}/{corpus['folder']};UIDVALIDITY={corpus['uidvalidity']}/;UID={first['uid']}"
    )
    by_subject = frame.set_index("subject")
    assert pd.isna(by_subject.loc["bad date", "date"])
    # no Date header: ordered by INTERNALDATE, and shown as NaT rather than invented
    assert pd.isna(by_subject.loc["no date at all", "date"])
    assert by_subject.loc["no date at all", "received"] == pd.Timestamp(BASE + timedelta(hours=2))


def test_searching_never_sets_seen(dovecot: DovecotServer, corpus: dict[str, Any]) -> None:
    fast(dovecot, corpus)
    fast(dovecot, corpus, limit=3)
    with _connect(dovecot) as client:
        client.select_folder(corpus["folder"], readonly=True)
        seen = {
            uid for uid, item in client.fetch(client.search("ALL"), ["FLAGS"]).items() if b"\\Seen" in item[b"FLAGS"]
        }
    assert len(seen) == 3  # only the three appended with \Seen


@pytest.mark.parametrize(
    ("query", "criteria", "subjects"),
    [
        ("from:carol", {}, {"no date at all"}),
        ("from:jörg", {}, {"Quartalsbericht über Äpfel"}),
        ("Äpfel", {}, {"Quartalsbericht über Äpfel"}),
        ("subject:invoice OR subject:csv", {}, {"Invoice January", "Data as CSV"}),
        ("is:flagged", {}, {"no date at all", "alternative only"}),
        ("is:flagged -is:read", {}, {"no date at all"}),
        (
            "is:answered",
            {},
            {"テスト and “smart”"},
        ),
        (
            "has:attachment",
            {},
            {"Invoice January", "Data as CSV", "Rechnung für März", "Inline logo", "forwarded message"},
        ),
        (
            "has:attachment -subject:invoice",
            {"seen": False},
            {"Data as CSV", "Rechnung für März", "Inline logo", "forwarded message"},
        ),
        (None, {"from_": "billing@example.org", "has_attachment": True}, {"Invoice January"}),
        ('"Smith, Bob"', {}, {"Quartalsbericht über Äpfel"}),
        ("x" * 4096, {}, set()),  # the longest value allowed: a literal
    ],
)
def test_queries_on_dovecot(
    dovecot: DovecotServer, corpus: dict[str, Any], query: str | None, criteria: dict[str, Any], subjects: set[str]
) -> None:
    frame = fast(dovecot, corpus, query, **criteria)
    assert set(frame["subject"].str.strip()) == {s.strip() for s in subjects}


def test_after_before_use_received_days(dovecot: DovecotServer, corpus: dict[str, Any]) -> None:
    """BASE + index hours: messages 0..11 on Jan 10, 12.. on Jan 11 (UTC internal dates)."""
    on_10th = fast(dovecot, corpus, "after:2024-01-10 before:2024-01-11")
    assert set(on_10th["uid"]) == set(corpus["uids"][:12])


def test_non_ascii_search_without_literal_plus(dovecot: DovecotServer, corpus: dict[str, Any]) -> None:
    frame = fast(dovecot, corpus, "März", caps=["IMAP4rev1", "ESEARCH"])
    assert set(frame["subject"]) == {"Rechnung für März"}


@pytest.mark.parametrize("caps", [None, ["IMAP4rev1"], ["IMAP4rev1", "ESEARCH", "LITERAL+"]])
def test_limit_gives_the_newest_with_or_without_sort(
    dovecot: DovecotServer, corpus: dict[str, Any], caps: list[str] | None
) -> None:
    everything = fast(dovecot, corpus)
    for limit in (1, 3, 100):
        newest = fast(dovecot, corpus, caps=caps, limit=limit)
        assert list(newest["uid"]) == list(everything["uid"][:limit])
    with_attachments = fast(dovecot, corpus, "has:attachment", caps=caps, limit=2)
    assert list(with_attachments["uid"]) == list(everything[everything["has_attachments"]]["uid"][:2])


def test_empty_result_keeps_columns(dovecot: DovecotServer, corpus: dict[str, Any]) -> None:
    frame = fast(dovecot, corpus, "subject:nothing-matches-this")
    assert frame.empty
    assert "has_attachments" in frame.columns
    assert str(frame["date"].dtype) == "datetime64[us, UTC]"


def test_injection_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(InvalidInputError):
        build_criteria('subject:"x\r\nA2 DELETE INBOX"', {})
