"""The bulk fetch path on scripted server output: parser, pipelining, unsolicited responses.

A scripted connection is used here only for what a real server will not produce on demand
(interleaved responses from other sessions, hostile sizes, split FETCH items); the same
code runs against Dovecot in test_fetch_dovecot.py.
"""

from __future__ import annotations

import base64
import imaplib
import io
import re
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nb_email_conn.errors import ServerError
from nb_email_conn.imap.attachments import has_attachment
from nb_email_conn.imap.commands import PIPELINE_WINDOW
from nb_email_conn.imap.fetch import fetch_rows, search_messages, sort_search, uid_search, uids_newest_first
from nb_email_conn.imap.frame import (
    COLUMNS,
    DTYPES,
    build_frame,
    decode_words,
    empty_frame,
    header_dates,
    header_values,
    parse_address_list,
)
from nb_email_conn.imap.query import build_criteria
from nb_email_conn.imap.response import parse_response
from nb_email_conn.imap.rows import ROW_FIELDS, ROW_ITEMS
from nb_email_conn.imap.wire import MAX_LITERAL, Wire


class ScriptedImap:
    """Stands in for imaplib.IMAP4: replays ``output``, records what is sent; tags A1, A2, ..."""

    def __init__(self, output: bytes) -> None:
        self.file = io.BufferedReader(io.BytesIO(output))
        self.sent: list[bytes] = []
        self.tagnum = 0
        self.tagged_commands: dict[bytes, None] = {}
        self.closed = False

    def _new_tag(self) -> bytes:
        self.tagnum += 1
        tag = b"A%d" % self.tagnum
        self.tagged_commands[tag] = None
        return tag

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def shutdown(self) -> None:
        self.closed = True

    def leftover(self) -> bytes:
        return self.file.read()


def quoted(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def literal(value: bytes) -> bytes:
    return b"{%d}\r\n" % len(value) + value


TEXT_PLAIN = b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)'
WITH_PDF = (
    b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 2 1 NIL NIL NIL NIL)'
    b'("application" "pdf" ("name" "a.pdf") NIL NIL "base64" 6 NIL ("attachment" ("filename" "a.pdf")) NIL NIL)'
    b' "mixed" ("boundary" "XX") NIL NIL NIL)'
)


def header_block(**fields: str) -> bytes:
    lines = [f"{name.rstrip('_').replace('_', '-').title()}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def fetch_response(
    seq: int,
    uid: int,
    *,
    flags: bytes = b"\\Seen",
    size: int = 100,
    internaldate: bytes = b"02-Jan-2024 10:00:00 +0000",
    structure: bytes = TEXT_PLAIN,
    header: bytes | None = None,
    header_as: str = "literal",
) -> bytes:
    if header is None:
        header = header_block(subject=f"message {uid}", from_="bob@example.org", date="Tue, 2 Jan 2024 10:00:00 +0000")
    value = literal(header) if header_as == "literal" else quoted(header) if header_as == "quoted" else b"NIL"
    return (
        b"* %d FETCH (UID %d FLAGS (%s) RFC822.SIZE %d INTERNALDATE %s BODYSTRUCTURE %s "
        b"BODY[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO)] %s)\r\n"
        % (seq, uid, flags, size, quoted(internaldate), structure, value)
    )


def done(tag: int) -> bytes:
    return b"A%d OK Fetch completed.\r\n" % tag


# -- FETCH rows ------------------------------------------------------------------------------
def test_one_row_with_every_column() -> None:
    header = header_block(
        date="Tue, 2 Jan 2024 11:00:00 +0100",
        from_='"Doe, Jane" <jane@example.org>',
        to="a@example.org, Bob <b@example.org>",
        cc="=?utf-8?q?J=C3=B6rg?= <j@example.org>",
        subject="=?utf-8?b?w6l0w6k=?= report",
        message_id="<m1@example.org>",
        in_reply_to="<m0@example.org>",
    )
    imap = ScriptedImap(fetch_response(1, 7, flags=b"\\Seen \\Flagged $Work", size=1234, header=header) + done(1))
    columns = fetch_rows(imap, [7])  # type: ignore[arg-type]
    assert imap.sent == [b"A1 UID FETCH 7 " + ROW_ITEMS + b"\r\n"]
    assert columns == {
        "uid": [7],
        "flags": [("\\Seen", "\\Flagged", "$Work")],
        "size": [1234],
        "internaldate": ["02-Jan-2024 10:00:00 +0000"],
        "has_attachments": [False],
        "date": ["Tue, 2 Jan 2024 11:00:00 +0100"],
        "from_name": ["Doe, Jane"],
        "from_addr": ["jane@example.org"],
        "to": ["a@example.org, b@example.org"],
        "cc": ["j@example.org"],
        "subject": ["été report"],
        "message_id": ["<m1@example.org>"],
        "in_reply_to": ["<m0@example.org>"],
        "references": [""],  # fetched for thread_id, not a column of the frame
    }
    assert imap.tagged_commands == {}  # imaplib's bookkeeping is left clean


def test_rows_are_keyed_by_uid_despite_unsolicited_responses() -> None:
    output = b"".join(
        [
            b"* 9 EXISTS\r\n",
            fetch_response(1, 10, flags=b""),
            b"* 3 EXPUNGE\r\n",
            b"* 2 FETCH (FLAGS (\\Deleted))\r\n",  # another session, no UID: ignored
            b"* 7 FETCH (UID 99 FLAGS (\\Seen))\r\n",  # a UID we did not ask for
            b"* OK [ALERT] {12}\r\nhello world!\r\n",  # untagged with a literal: consumed
            fetch_response(2, 11),
            b"* 1 FETCH (UID 10 FLAGS (\\Answered))\r\n",  # a later flag change of a row we have
            b"* 1 RECENT\r\n",
            done(1),
            b"A9 NOOP trailing bytes stay unread\r\n",
        ]
    )
    imap = ScriptedImap(output)
    columns = fetch_rows(imap, [10, 11, 12])  # type: ignore[arg-type]
    assert columns["uid"] == [10, 11]  # 12 was expunged: absent, not misaligned
    assert columns["subject"] == ["message 10", "message 11"]
    assert columns["flags"] == [("\\Answered",), ("\\Seen",)]
    assert imap.leftover() == b"A9 NOOP trailing bytes stay unread\r\n"


def test_items_in_any_order_case_and_forms() -> None:
    header = b"Subject: quoted header"  # servers quote only values without CR/LF
    response = (
        b"* 1 FETCH (body[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO)] %s "
        b'internaldate " 2-Jan-2024 10:00:00 +0000" bodystructure %s uid 5 rfc822.size 9 flags ())\r\n'
        % (quoted(header), TEXT_PLAIN)
    )
    columns = fetch_rows(ScriptedImap(response + done(1)), [5])  # type: ignore[arg-type]
    assert columns["subject"] == ["quoted header"]
    assert columns["size"] == [9]
    assert columns["flags"] == [()]


def test_nil_header_gives_empty_values() -> None:
    columns = fetch_rows(ScriptedImap(fetch_response(1, 5, header_as="nil") + done(1)), [5])  # type: ignore[arg-type]
    assert columns["subject"] == [""]
    assert columns["from_addr"] == [""]
    assert columns["date"] == [""]


def test_items_split_over_two_responses_are_merged() -> None:
    header = header_block(subject="split")
    output = (
        b'* 1 FETCH (UID 5 FLAGS (\\Seen) RFC822.SIZE 10 INTERNALDATE "02-Jan-2024 10:00:00 +0000")\r\n'
        b"* 1 FETCH (UID 5 BODYSTRUCTURE %s "
        b"BODY[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO)] %s)\r\n" % (WITH_PDF, literal(header))
    ) + done(1)
    columns = fetch_rows(ScriptedImap(output), [5])  # type: ignore[arg-type]
    assert columns["subject"] == ["split"]
    assert columns["has_attachments"] == [True]
    assert columns["flags"] == [("\\Seen",)]


def test_literal_inside_bodystructure_and_escapes_in_quoted_strings() -> None:
    name = "Rechnung März.pdf".encode()
    structure = (
        b'(("text" "plain" NIL NIL NIL "7bit" 2 1 NIL NIL NIL NIL)("application" "octet-stream" ("name" '
        + literal(name)
        + b') NIL "say \\"hi\\"" "base64" 6 NIL NIL NIL NIL) "mixed" NIL NIL NIL)'
    )
    output = fetch_response(1, 5, structure=structure) + done(1)
    columns = fetch_rows(ScriptedImap(output), [5])  # type: ignore[arg-type]
    assert columns["has_attachments"] == [True]
    assert columns["subject"] == ["message 5"]


def test_pipelined_commands_are_short_and_progress_is_reported() -> None:
    uids = list(range(1, 10)) + list(range(100, 200, 2))  # 59 UIDs, sparse tail
    output = b"".join(fetch_response(i + 1, uid) for i, uid in enumerate(uids))
    batches = -(-len(uids) // 10)
    output += b"".join(done(tag) for tag in range(1, batches + 1))
    imap = ScriptedImap(output)
    calls: list[tuple[int, int]] = []
    columns = fetch_rows(imap, uids, batch=10, progress=lambda d, t: calls.append((d, t)))  # type: ignore[arg-type]
    assert columns["uid"] == uids
    assert len(imap.sent) == batches
    assert imap.sent[0].startswith(b"A1 UID FETCH 1:9,100 (")
    assert all(len(line) < 1000 for line in imap.sent)
    assert calls[-1] == (len(uids), len(uids))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) == batches


def test_no_more_than_the_window_is_in_flight() -> None:
    """Commands are sent as earlier ones complete, so the server's output cannot deadlock us."""
    uids = list(range(1, 11))
    sent_when: list[int] = []

    class Watching(ScriptedImap):
        def send(self, data: bytes) -> None:
            super().send(data)
            sent_when.append(self.file.tell())

    output = b"".join(fetch_response(uid, uid) + done(uid) for uid in uids)
    imap = Watching(output)
    fetch_rows(imap, uids, batch=1)  # type: ignore[arg-type]
    assert len(imap.sent) == 10
    assert sent_when[:PIPELINE_WINDOW] == [0] * PIPELINE_WINDOW
    assert all(position > 0 for position in sent_when[PIPELINE_WINDOW:])


def test_tagged_no_raises_server_error_after_draining_every_command() -> None:
    output = fetch_response(1, 1) + b"A1 NO [SERVERBUG] broken\r\n" + fetch_response(2, 2) + done(2) + b"NEXT\r\n"
    imap = ScriptedImap(output)
    with pytest.raises(ServerError, match="broken"):
        fetch_rows(imap, [1, 2], batch=1)  # type: ignore[arg-type]
    assert imap.leftover() == b"NEXT\r\n"  # the stream is still aligned
    assert imap.tagged_commands == {}
    assert not imap.closed


def test_oversized_literal_is_refused_and_the_connection_closed() -> None:
    output = b"* 1 FETCH (UID 1 BODY[HEADER.FIELDS (DATE)] {%d}\r\n" % (MAX_LITERAL + 1)
    imap = ScriptedImap(output)
    with pytest.raises(ServerError, match="literal"):
        fetch_rows(imap, [1])  # type: ignore[arg-type]
    assert imap.closed


def test_unknown_tag_is_refused_and_the_connection_closed() -> None:
    imap = ScriptedImap(b"ZZ9 OK what\r\n")
    with pytest.raises(ServerError, match="unexpected response"):
        fetch_rows(imap, [1])  # type: ignore[arg-type]
    assert imap.closed


@pytest.mark.parametrize("output", [b"", b"* 1 FETCH (UID 1 BODY[] {10}\r\nabc", b"* 1 FETCH (UID 1"])
def test_eof_is_a_dropped_connection(output: bytes) -> None:
    with pytest.raises(imaplib.IMAP4.abort):
        fetch_rows(ScriptedImap(output), [1])  # type: ignore[arg-type]


def test_bye_is_a_dropped_connection() -> None:
    with pytest.raises(imaplib.IMAP4.abort, match="shutting down"):
        fetch_rows(ScriptedImap(b"* BYE shutting down\r\n"), [1])  # type: ignore[arg-type]


def test_empty_uid_list_sends_nothing() -> None:
    imap = ScriptedImap(b"")
    assert fetch_rows(imap, [])["uid"] == []  # type: ignore[arg-type]
    assert imap.sent == []


# -- BODYSTRUCTURE -------------------------------------------------------------------------
def structure(text: bytes) -> Any:
    return parse_response(Wire(ScriptedImap(b"")), b"* 1 FETCH (BODYSTRUCTURE " + text + b")\r\n")[3][1]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TEXT_PLAIN, False),
        (WITH_PDF, True),
        # Dovecot, multipart/alternative: no attachment
        (
            b'(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 10 1 NIL NIL NIL NIL)'
            b'("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 20 1 NIL NIL NIL NIL)'
            b' "alternative" ("boundary" "b1") NIL NIL NIL)',
            False,
        ),
        # Gmail style: upper case, no extension data
        (
            b'(("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "7BIT" 2 1)'
            b'("IMAGE" "PNG" ("NAME" "x.png") NIL NIL "BASE64" 8) "MIXED")',
            True,
        ),
        # related: an inline image with a file name counts
        (
            b'(("text" "html" NIL NIL NIL "7bit" 2 1 NIL NIL NIL NIL)'
            b'("image" "png" NIL "<cid1>" NIL "base64" 8 NIL ("inline" ("filename" "logo.png")) NIL NIL)'
            b' "related" NIL NIL NIL)',
            True,
        ),
        # an inline image without any name does not
        (
            b'(("text" "html" NIL NIL NIL "7bit" 2 1 NIL NIL NIL NIL)'
            b'("image" "png" NIL "<cid1>" NIL "base64" 8 NIL ("inline" NIL) NIL NIL) "related" NIL NIL NIL)',
            False,
        ),
        # a text part marked as attachment counts
        (
            b'(("text" "plain" NIL NIL NIL "7bit" 2 1 NIL NIL NIL NIL)'
            b'("text" "csv" ("name" "d.csv") NIL NIL "7bit" 5 2 NIL ("attachment" ("filename" "d.csv")) NIL NIL)'
            b' "mixed" NIL NIL NIL)',
            True,
        ),
        # a text part with only a name parameter does not (rule: text needs the disposition)
        (b'("text" "plain" ("name" "notes.txt") NIL NIL "7bit" 5 2 NIL NIL NIL NIL)', False),
        # an attached message
        (
            b'(("text" "plain" NIL NIL NIL "7bit" 2 1 NIL NIL NIL NIL)'
            b'("message" "rfc822" NIL NIL NIL "7bit" 50 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL)'
            b' ("text" "plain" NIL NIL NIL "7bit" 5 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) "mixed" NIL NIL NIL)',
            True,
        ),
        # nested: mixed(alternative(text, html), pdf by name only)
        (
            b'((("text" "plain" NIL NIL NIL "7bit" 2 1)("text" "html" NIL NIL NIL "7bit" 2 1) "alternative")'
            b'("application" "pdf" ("name" "x.pdf") NIL NIL "base64" 6) "mixed")',
            True,
        ),
        # pymap (the sandbox) sends the raw Content-Disposition value as a string
        (
            b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 184 8 NIL NIL NIL NIL)'
            b'("application" "pdf" NIL NIL NIL "base64" 1094 NIL "attachment; filename=\\"i.pdf\\"" NIL NIL)'
            b' "mixed" ("boundary" "b") NIL NIL NIL)',
            True,
        ),
        (b"NIL", False),
        (b"()", False),
    ],
)
def test_has_attachment_from_bodystructure(text: bytes, expected: bool) -> None:
    assert has_attachment(structure(text)) is expected


# -- SEARCH / SORT -------------------------------------------------------------------------
def test_classic_search_over_several_lines() -> None:
    imap = ScriptedImap(b"* SEARCH 5 3 9\r\n* 4 EXISTS\r\n* SEARCH 11\r\nA1 OK Search completed.\r\n")
    assert uid_search(imap, build_criteria("from:bob", {}), esearch=False) == [3, 5, 9, 11]  # type: ignore[arg-type]
    assert imap.sent == [b'A1 UID SEARCH FROM "bob"\r\n']


def test_esearch_ranges_and_other_tags() -> None:
    output = b'* ESEARCH (TAG "ZZ") UID ALL 100\r\n* ESEARCH (TAG "A1") UID ALL 1:3,7,10:8\r\nA1 OK done\r\n'
    imap = ScriptedImap(output)
    assert uid_search(imap, build_criteria(None, {}), esearch=True) == [1, 2, 3, 7, 8, 9, 10]  # type: ignore[arg-type]
    assert imap.sent == [b"A1 UID SEARCH RETURN (ALL) ALL\r\n"]


def test_esearch_without_matches() -> None:
    imap = ScriptedImap(b'* ESEARCH (TAG "A1") UID\r\nA1 OK done\r\n')
    assert uid_search(imap, build_criteria(None, {}), esearch=True) == []  # type: ignore[arg-type]


def test_esearch_range_that_would_exhaust_memory_is_refused() -> None:
    imap = ScriptedImap(b'* ESEARCH (TAG "A1") UID ALL 1:4294967295\r\nA1 OK done\r\n')
    with pytest.raises(ServerError, match="more than"):
        uid_search(imap, build_criteria(None, {}), esearch=True)  # type: ignore[arg-type]


def test_a_million_uid_search_line_is_read_in_chunks() -> None:
    uids = list(range(1, 2_000_001, 2))  # one line of ~7 MB, beyond imaplib's 1 MB line limit
    line = b"* SEARCH " + b" ".join(str(u).encode() for u in uids) + b"\r\n"
    imap = ScriptedImap(line + b"A1 OK done\r\n")
    assert uid_search(imap, build_criteria(None, {}), esearch=False) == uids  # type: ignore[arg-type]


def test_synchronising_literal_waits_for_continuation() -> None:
    output = b"+ go ahead\r\n* SEARCH 4\r\nA1 OK done\r\n"
    imap = ScriptedImap(output)
    assert uid_search(imap, build_criteria("Jörg", {}), esearch=False, literal_plus=False) == [4]  # type: ignore[arg-type]
    assert imap.sent == [b"A1 UID SEARCH CHARSET UTF-8 TEXT {5}\r\n", b"J\xc3\xb6rg\r\n"]


def test_refused_literal_stops_the_command() -> None:
    imap = ScriptedImap(b"A1 NO [BADCHARSET (US-ASCII)] charset not supported\r\nNEXT\r\n")
    with pytest.raises(ServerError, match="BADCHARSET"):
        uid_search(imap, build_criteria("Jörg", {}), esearch=False, literal_plus=False)  # type: ignore[arg-type]
    assert imap.sent == [b"A1 UID SEARCH CHARSET UTF-8 TEXT {5}\r\n"]  # the literal was never sent
    assert imap.leftover() == b"NEXT\r\n"


def test_sort_keeps_server_order() -> None:
    imap = ScriptedImap(b"* SORT 9 3 5\r\nA1 OK Sort completed.\r\n")
    assert sort_search(imap, build_criteria("is:unread", {})) == [9, 3, 5]  # type: ignore[arg-type]
    assert imap.sent == [b"A1 UID SORT (REVERSE DATE) UTF-8 UNSEEN\r\n"]


def test_newest_first_without_sort_uses_date_then_internaldate() -> None:
    def date_response(uid: int, date: str, internaldate: bytes) -> bytes:
        header = header_block(date=date) if date else b"\r\n"
        return b'* %d FETCH (UID %d INTERNALDATE "%s" BODY[HEADER.FIELDS (DATE)] %s)\r\n' % (
            uid, uid, internaldate, literal(header))  # fmt: skip

    output = b"".join(
        [
            date_response(1, "Mon, 1 Jan 2024 10:00:00 +0000", b"05-Jan-2024 00:00:00 +0000"),
            date_response(2, "", b"03-Jan-2024 00:00:00 +0000"),  # no Date: received is used
            date_response(3, "Tue, 2 Jan 2024 10:00:00 +0000", b"02-Jan-2024 10:00:00 +0000"),
            date_response(4, "not a date", b"01-Dec-2023 00:00:00 +0000"),
            b"A1 OK done\r\n",
        ]
    )
    assert uids_newest_first(ScriptedImap(output), [1, 2, 3, 4]) == [2, 3, 1, 4]  # type: ignore[arg-type]
    assert uids_newest_first(ScriptedImap(output), [1, 2, 3, 4], limit=2) == [2, 3]  # type: ignore[arg-type]


def test_search_messages_with_sort_and_limit() -> None:
    output = b"* SORT 8 6 7\r\nA1 OK\r\n" + fetch_response(1, 6) + fetch_response(2, 8) + done(2)
    imap = ScriptedImap(output)
    frame = search_messages(
        imap,  # type: ignore[arg-type]
        build_criteria(None, {}),
        capabilities={"IMAP4rev1", "SORT"},
        folder="INBOX",
        uidvalidity=42,
        user="alice@example.org",
        host="imap.example.org",
        limit=2,
    )
    assert imap.sent[1].startswith(b"A2 UID FETCH 6,8 ")
    assert list(frame["uid"]) == [8, 6]
    assert frame["ref"][0] == "imap://alice%40example.org@imap.example.org/INBOX;UIDVALIDITY=42/;UID=8"


def test_search_messages_limit_with_attachment_filter_keeps_fetching() -> None:
    output = (
        b"* SORT 5 4 3 2 1\r\nA1 OK\r\n"
        + b"".join(
            fetch_response(i, uid, structure=WITH_PDF if uid in (1, 3) else TEXT_PLAIN)
            for i, uid in enumerate([1, 2, 3, 4, 5])
        )
        + done(2)
    )
    frame = search_messages(
        ScriptedImap(output),  # type: ignore[arg-type]
        build_criteria("has:attachment", {}),
        capabilities=["SORT"],
        folder="INBOX",
        uidvalidity=1,
        limit=1,
    )
    assert list(frame["uid"]) == [3]  # the newest one with an attachment


# -- header decoding -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("=?utf-8?q?caf=C3=A9?=", "café"),
        ("=?UTF-8?B?w6l0w6k=?=", "été"),
        ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),  # whitespace between encoded words is dropped
        ("=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b"),
        ("=?utf-8?b?4oKs?= =?iso-8859-1?q?=E9?=", "€é"),
        ("=?utf-8?q?=E2?= =?utf-8?b?gqw=?=", "€"),  # a character split over two words
        ("=?x-unknown?q?abc?=", "abc"),
        ("=?utf-8*en?q?hi?=", "hi"),
        ("=?utf-8?b?!!!?=", "=?utf-8?b?!!!?="),  # broken base64 stays as written
        ("=?utf-8?q?unterminated", "=?utf-8?q?unterminated"),
        ("=?iso-2022-jp?b?GyRCJUYlOSVIGyhC?=", "テスト"),
    ],
)
def test_decode_words(raw: str, expected: str) -> None:
    assert decode_words(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bob@example.org", [("", "bob@example.org")]),
        ("<bob@example.org>", [("", "bob@example.org")]),
        ("Bob  Smith <bob@example.org>", [("Bob Smith", "bob@example.org")]),
        (
            '"Smith, Bob" <bob@example.org>, carol@example.org',
            [("Smith, Bob", "bob@example.org"), ("", "carol@example.org")],
        ),
        ("=?utf-8?q?J=C3=B6rg?= <j@example.org>", [("Jörg", "j@example.org")]),
        ("bob@example.org (Bob)", [("", "bob@example.org")]),  # comments are not names (email package)
        ("undisclosed-recipients:;", []),
        ("", []),
    ],
)
def test_parse_address_list(raw: str, expected: list[tuple[str, str]]) -> None:
    assert parse_address_list(raw) == expected


def test_header_values_unfold_and_tolerate_8bit_and_garbage() -> None:
    block = (
        b"Subject: a long\r\n\tfolded subject\r\n"
        b"From: J\xc3\xb6rg <j@example.org>\r\n"
        b"To: \xff\xfe broken <<@@>>\r\n"
        b"Subject: second subject is ignored\r\n"
        b"no colon line\r\n\r\n"
    )
    date, from_name, from_addr, to, cc, subject, message_id, in_reply_to = header_values(block)
    assert subject == "a long\tfolded subject"
    assert (from_name, from_addr) == ("Jörg", "j@example.org")
    assert isinstance(to, str)
    assert (date, cc, message_id, in_reply_to) == ("", "", "", "")


def test_header_dates_vectorised_and_fallback() -> None:
    dates = header_dates(
        [
            "Tue, 2 Jan 2024 11:00:00 +0100",
            "Tue, 02 Jan 2024 10:00:00 +0000 (UTC)",
            "2 Jan 2024 10:00:00 GMT",
            "Tue, 2 Jan 24 05:00:00 EST",
            "Tue, 2 Jan 2024 10:00:00 -0000",
            "",
            "yesterday",
            "Tue, 31 Feb 2024 10:00:00 +0000",
        ]
    )
    assert str(dates.dtype) == "datetime64[us, UTC]"
    expected = pd.Timestamp("2024-01-02 10:00:00", tz="UTC")
    assert list(dates[:5]) == [expected] * 5
    assert dates[5:].isna().all()


# -- the frame -----------------------------------------------------------------------------
def test_empty_result_has_every_column_and_dtype() -> None:
    frame = empty_frame()
    assert tuple(frame.columns) == COLUMNS
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        k: str(pd.Series([], dtype=v).dtype) for k, v in DTYPES.items()
    }
    frame_from_nothing = build_frame({name: [] for name in ROW_FIELDS}, folder="INBOX", uidvalidity=1)
    assert frame_from_nothing.dtypes.equals(frame.dtypes)


def test_frame_dtypes_and_newest_first() -> None:
    output = b"".join(
        [
            fetch_response(1, 1, header=header_block(date="Mon, 1 Jan 2024 10:00:00 +0000")),
            fetch_response(2, 2, header=header_block(date="garbage"), internaldate=b"03-Jan-2024 10:00:00 +0000"),
            fetch_response(
                3, 3, header=header_block(date="Tue, 2 Jan 2024 10:00:00 +0000"), flags=b"\\Flagged \\Answered"
            ),
            done(1),
        ]
    )
    columns = fetch_rows(ScriptedImap(output), [1, 2, 3])  # type: ignore[arg-type]
    frame = build_frame(columns, folder="INBOX", uidvalidity=5)
    assert frame.dtypes.equals(empty_frame().dtypes)
    assert list(frame["uid"]) == [2, 3, 1]  # uid 2 has no valid Date: its received time is used
    assert frame["date"].isna()[0]
    assert frame.loc[1, "flagged"]
    assert frame.loc[1, "answered"]
    assert not frame.loc[1, "seen"]
    assert frame.loc[2, "seen"]
    assert frame["subject"].isna().sum() == 0
    assert frame[frame["subject"].str.contains("x")].empty


# -- property: generated FETCH responses parse back to the generated values ----------------
_atom_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
_any_text = st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"]), max_size=40)
_flag = st.sampled_from(["\\Seen", "\\Flagged", "\\Answered", "\\Draft", "$Work", "Junk", "$label-1"])
_message = st.fixed_dictionaries(
    {
        "uid": st.integers(1, 2**32 - 1),
        "flags": st.lists(_flag, unique=True, max_size=4).map(tuple),
        "size": st.integers(0, 2**40),
        "subject": _any_text.map(str.strip),
        "from_addr": st.from_regex(r"[a-z0-9]{1,10}@[a-z]{1,10}\.org", fullmatch=True),
        "from_name": st.from_regex(r"[A-Za-z]{1,10}( [A-Za-z]{1,10})?", fullmatch=True) | st.just(""),
        "message_id": st.from_regex(r"<[a-z0-9.]{1,20}@[a-z]{1,10}>", fullmatch=True),
        "structure": st.sampled_from([(TEXT_PLAIN, False), (WITH_PDF, True)]),
    }
)
_noise = st.sampled_from(
    [
        b"* 3 EXPUNGE\r\n",
        b"* 12 EXISTS\r\n",
        b"* 1 FETCH (FLAGS (\\Seen))\r\n",
        b"* OK [ALERT] {3}\r\nhi!\r\n",
        b"* 2 RECENT\r\n",
    ]
)


def _encode_subject(subject: str) -> str:
    if subject.isascii():
        return subject
    return "=?utf-8?b?" + base64.b64encode(subject.encode()).decode() + "?="


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_message, max_size=8, unique_by=lambda m: m["uid"]), st.lists(_noise, max_size=8), st.randoms())
def test_generated_responses_parse_back(messages: list[dict[str, Any]], noise: list[bytes], rnd: Any) -> None:
    responses = []
    for seq, message in enumerate(messages, 1):
        sender = f"{message['from_name']} <{message['from_addr']}>" if message["from_name"] else message["from_addr"]
        header = header_block(
            subject=_encode_subject(message["subject"]), from_=sender, message_id=message["message_id"]
        )
        responses.append(
            fetch_response(
                seq,
                message["uid"],
                flags=" ".join(message["flags"]).encode(),
                size=message["size"],
                structure=message["structure"][0],
                header=header,
            )
        )
    for item in noise:
        responses.insert(rnd.randint(0, len(responses)), item)
    imap = ScriptedImap(b"".join(responses) + done(1) + b"REST")
    uids = [m["uid"] for m in messages]
    columns = fetch_rows(imap, uids, batch=10_000)  # type: ignore[arg-type]
    if not messages:
        return
    expected = sorted(messages, key=lambda m: m["uid"])
    assert columns["uid"] == [m["uid"] for m in expected]
    assert columns["flags"] == [m["flags"] for m in expected]
    assert columns["size"] == [m["size"] for m in expected]
    assert columns["subject"] == [re.sub(r"[\t ]+$", "", m["subject"]) for m in expected]
    assert columns["from_addr"] == [m["from_addr"] for m in expected]
    assert columns["from_name"] == [m["from_name"] for m in expected]
    assert columns["message_id"] == [m["message_id"] for m in expected]
    assert columns["has_attachments"] == [m["structure"][1] for m in expected]
    assert imap.leftover() == b"REST"
