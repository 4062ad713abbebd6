"""The search language (query.py) and the SEARCH program on the wire (program.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nb_email_conn.errors import InvalidInputError
from nb_email_conn.imap.program import SearchCriteria, encode_command, encode_search_command, encode_sort_command
from nb_email_conn.imap.query import build_criteria

_LITERAL_HEADER = re.compile(rb"\{(\d+)\+?\}\r\n")


def wire(query: str | None = None, **criteria: object) -> bytes:
    """The whole command as one byte string (pieces joined), tag A1, LITERAL+ on."""
    return b"".join(encode_search_command(b"A1", build_criteria(query, criteria), literal_plus=True))


def keys(query: str | None = None, **criteria: object) -> bytes:
    return wire(query, **criteria).removeprefix(b"A1 UID SEARCH ").removesuffix(b"\r\n")


# -- operators -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from:bob", b'FROM "bob"'),
        ("to:alice@example.org", b'TO "alice@example.org"'),
        ("cc:carol", b'CC "carol"'),
        ("bcc:dave", b'BCC "dave"'),
        ("subject:report", b'SUBJECT "report"'),
        ('subject:"quarterly report"', b'SUBJECT "quarterly report"'),
        ("body:invoice", b'BODY "invoice"'),
        ("text:invoice", b'TEXT "invoice"'),
        ("invoice", b'TEXT "invoice"'),
        ('"exact phrase here"', b'TEXT "exact phrase here"'),
        ("after:2024-01-31", b"SINCE 31-Jan-2024"),
        ("after:2024/1/5", b"SINCE 5-Jan-2024"),
        ("before:2024-02-01", b"BEFORE 1-Feb-2024"),
        ("is:unread", b"UNSEEN"),
        ("is:read", b"SEEN"),
        ("is:flagged", b"FLAGGED"),
        ("is:starred", b"FLAGGED"),
        ("is:answered", b"ANSWERED"),
        ("is:draft", b"DRAFT"),
        ("IS:Unread", b"UNSEEN"),
        ("larger:10K", b"LARGER 10240"),
        ("larger:2M", b"LARGER 2097152"),
        ("smaller:500", b"SMALLER 500"),
        ("smaller:1g", b"SMALLER 1073741824"),
        ("", b"ALL"),
        ("   ", b"ALL"),
        (None, b"ALL"),
    ],
)
def test_each_operator_becomes_its_search_key(query: str | None, expected: bytes) -> None:
    assert keys(query) == expected


def test_terms_are_anded_in_order() -> None:
    assert keys("from:bob subject:report is:unread") == b'FROM "bob" SUBJECT "report" UNSEEN'


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("-from:bob", b'NOT FROM "bob"'),
        ("-is:read", b"NOT SEEN"),
        ("-invoice", b'NOT TEXT "invoice"'),
        ("from:a OR from:b", b'OR FROM "a" FROM "b"'),
        ("from:a OR from:b OR from:c", b'OR FROM "a" OR FROM "b" FROM "c"'),
        ("from:a OR -from:b", b'OR FROM "a" NOT FROM "b"'),
        ("(from:a subject:x) OR is:flagged", b'OR (FROM "a" SUBJECT "x") FLAGGED'),
        ("-(from:a OR from:b) is:unread", b'NOT OR FROM "a" FROM "b" UNSEEN'),
        ("-(from:a subject:x)", b'NOT (FROM "a" SUBJECT "x")'),
        ("a OR b c", b'OR TEXT "a" TEXT "b" TEXT "c"'),
        ("(a OR b) c", b'OR TEXT "a" TEXT "b" TEXT "c"'),
        ("a OR (b c)", b'OR TEXT "a" (TEXT "b" TEXT "c")'),
        ("from:a AND from:b", b'FROM "a" FROM "b"'),
        ("or and", b'TEXT "or" TEXT "and"'),  # only uppercase OR is the operator, like Gmail
    ],
)
def test_not_or_and_grouping(query: str, expected: bytes) -> None:
    assert keys(query) == expected


def test_keywords_and_query_are_anded() -> None:
    assert keys("from:bob", subject="report", seen=False) == b'FROM "bob" SUBJECT "report" UNSEEN'


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"from_": "bob"}, b'FROM "bob"'),
        ({"from": "bob"}, b'FROM "bob"'),
        ({"to": "a"}, b'TO "a"'),
        ({"cc": "a"}, b'CC "a"'),
        ({"subject": "a b"}, b'SUBJECT "a b"'),
        ({"text": "a"}, b'TEXT "a"'),
        ({"body": "a"}, b'BODY "a"'),
        ({"since": dt.date(2024, 3, 9)}, b"SINCE 9-Mar-2024"),
        ({"since": dt.datetime(2024, 3, 9, 23, 59)}, b"SINCE 9-Mar-2024"),
        ({"since": "2024-03-09"}, b"SINCE 9-Mar-2024"),
        ({"before": "2024/12/31"}, b"BEFORE 31-Dec-2024"),
        ({"seen": True}, b"SEEN"),
        ({"seen": False}, b"UNSEEN"),
        ({"flagged": True}, b"FLAGGED"),
        ({"flagged": False}, b"UNFLAGGED"),
        ({"answered": True}, b"ANSWERED"),
        ({"answered": False}, b"UNANSWERED"),
        ({"larger": 1000}, b"LARGER 1000"),
        ({"smaller": "10K"}, b"SMALLER 10240"),
        ({"subject": None, "seen": None}, b"ALL"),
    ],
)
def test_keyword_criteria(criteria: dict[str, object], expected: bytes) -> None:
    assert keys(None, **criteria) == expected


# -- has:attachment ------------------------------------------------------------------------
def test_has_attachment_is_a_post_fetch_filter() -> None:
    criteria = build_criteria("has:attachment from:bob", {})
    assert criteria.tokens == ("FROM", b"bob")
    assert criteria.needs_attachment_filter
    assert criteria.has_attachment is True
    assert build_criteria("-has:attachment", {}).has_attachment is False
    assert build_criteria(None, {"has_attachment": False}).has_attachment is False
    assert build_criteria("from:bob", {}).needs_attachment_filter is False
    assert keys("has:attachment") == b"ALL"


@pytest.mark.parametrize("query", ["has:attachment OR from:bob", "has:attachment -has:attachment"])
def test_has_attachment_that_cannot_be_a_filter_is_refused(query: str) -> None:
    with pytest.raises(InvalidInputError):
        build_criteria(query, {})


def test_has_attachment_conflict_between_query_and_keyword() -> None:
    with pytest.raises(InvalidInputError, match="with and without"):
        build_criteria("has:attachment", {"has_attachment": False})


# -- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("foo:bar", "unknown operator 'foo:'"),
        ("http://example.org", "unknown operator 'http:'"),
        ("from:", "from: needs a value"),
        ("is:important", "is:important is not known"),
        ("has:pdf", "has:pdf is not known"),
        ("after:yesterday", "not a date"),
        ("after:2024-02-30", "not a valid date"),
        ("larger:big", "not a size"),
        ("larger:99999999999", "between 0 and"),
        ("(from:a", "unbalanced '\\('"),
        ("from:a)", "unbalanced '\\)'"),
        ("OR from:a", "OR needs a term"),
        ("from:a OR", "OR needs a term"),
    ],
)
def test_bad_queries_name_the_problem(query: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        build_criteria(query, {})


def test_unknown_keyword_is_named() -> None:
    with pytest.raises(InvalidInputError, match="'sender'") as info:
        build_criteria(None, {"sender": "bob"})
    assert info.value.field == "sender"


@pytest.mark.parametrize(
    "criteria",
    [
        {"seen": "yes"},
        {"seen": 1},
        {"larger": True},
        {"larger": -1},
        {"larger": 1.5},
        {"since": 20240101},
        {"since": "01/02/2024"},
        {"subject": 42},
        {"subject": ""},
        {"to": ["a", "b"]},
        {"has_attachment": "true"},
    ],
)
def test_bad_keyword_values(criteria: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError) as info:
        build_criteria(None, criteria)
    assert info.value.field == next(iter(criteria))


@pytest.mark.parametrize("bad", ["\r", "\n", "\x00", "x\r\nA2 DELETE INBOX", "a\nb"])
def test_control_characters_are_refused_everywhere(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="line break or NUL"):
        build_criteria(f"subject:{bad}", {})
    with pytest.raises(InvalidInputError, match="line break or NUL"):
        build_criteria(f'"{bad}"', {})
    for name in ("from_", "to", "cc", "subject", "text", "body", "since", "larger"):
        with pytest.raises(InvalidInputError, match="line break or NUL"):
            build_criteria(None, {name: f"x{bad}"})


# -- the wire ------------------------------------------------------------------------------
def test_quotes_and_backslashes_are_escaped_in_quoted_strings() -> None:
    assert keys(None, subject='say "hi" \\o/') == b'SUBJECT "say \\"hi\\" \\\\o/"'
    assert keys('"a\\b"') == b'TEXT "a\\\\b"'


def test_literal_lookalike_is_quoted_not_interpreted() -> None:
    assert keys(None, subject="{5}") == b'SUBJECT "{5}"'
    assert keys(None, subject="x {5+}") == b'SUBJECT "x {5+}"'


def test_non_ascii_uses_charset_utf8_and_a_literal() -> None:
    criteria = build_criteria("from:Jörg", {})
    assert criteria.charset == "UTF-8"
    pieces = encode_search_command(b"A1", criteria, literal_plus=True)
    assert pieces == [b"A1 UID SEARCH CHARSET UTF-8 FROM {5+}\r\nJ\xc3\xb6rg\r\n"]
    assert build_criteria("from:Jorg", {}).charset is None


def test_synchronising_literal_splits_the_command_without_literal_plus() -> None:
    pieces = encode_search_command(b"A1", build_criteria("Jörg Müller", {}), literal_plus=False)
    assert pieces == [
        b"A1 UID SEARCH CHARSET UTF-8 TEXT {5}\r\n",
        b"J\xc3\xb6rg TEXT {7}\r\n",
        b"M\xc3\xbcller\r\n",
    ]


def test_literal_plus_only_up_to_4096_bytes() -> None:
    small = ("é" * 2048).encode()  # 4096 bytes
    big = ("é" * 2049).encode()  # 4098 bytes
    assert encode_command(b"A1 UID SEARCH", ["TEXT", small], literal_plus=True) == [
        b"A1 UID SEARCH TEXT {4096+}\r\n" + small + b"\r\n"
    ]
    assert encode_command(b"A1 UID SEARCH", ["TEXT", big], literal_plus=True) == [
        b"A1 UID SEARCH TEXT {4098}\r\n",
        big + b"\r\n",
    ]


def test_long_ascii_value_becomes_a_literal_so_lines_stay_short() -> None:
    value = "x" * 4096
    pieces = encode_search_command(b"A1", build_criteria(None, {"subject": value}), literal_plus=False)
    assert pieces == [b"A1 UID SEARCH SUBJECT {4096}\r\n", value.encode() + b"\r\n"]


@pytest.mark.parametrize("value", ["x" * 4097, "é" * 2049, "x" * 100_000])
def test_values_over_4096_bytes_are_refused(value: str) -> None:
    with pytest.raises(InvalidInputError, match="too long"):
        build_criteria(None, {"subject": value})
    with pytest.raises(InvalidInputError, match="too long"):
        build_criteria(f'"{value}"', {})


def test_esearch_and_sort_prefixes() -> None:
    criteria = build_criteria("from:bob", {})
    assert encode_search_command(b"A1", criteria, literal_plus=False, esearch=True) == [
        b'A1 UID SEARCH RETURN (ALL) FROM "bob"\r\n'
    ]
    assert encode_sort_command(b"A2", criteria, literal_plus=False) == [
        b'A2 UID SORT (REVERSE DATE) UTF-8 FROM "bob"\r\n'
    ]


def test_parenthesised_groups_have_no_inner_padding() -> None:
    command = encode_command(b"A1 UID SEARCH", ["(", "FROM", b"a", "SEEN", ")"], literal_plus=False)
    assert command == [b'A1 UID SEARCH (FROM "a" SEEN)\r\n']


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="not valid Unicode"):
        build_criteria(None, {"subject": "\ud800"})


def test_criteria_is_a_value() -> None:
    assert build_criteria("from:bob", {}) == SearchCriteria(("FROM", b"bob"))


# -- fuzz: nothing but the query's own words ever reaches the wire --------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_characters="\r\n\x00", exclude_categories=["Cs"]), max_size=60))
def test_any_value_round_trips_as_one_string(value: str) -> None:
    """Whatever a subject contains, it is sent as one quoted string or literal, never as syntax."""
    if not value:
        return
    pieces = encode_search_command(b"A1", build_criteria(None, {"subject": value}), literal_plus=False)
    data = b"".join(pieces)
    assert data.endswith(b"\r\n")
    body = data.split(b" SUBJECT ", 1)[1][:-2]
    raw = value.encode()
    if body.startswith(b'"'):
        assert re.sub(rb"\\(.)", rb"\1", body[1:-1]) == raw
        assert b"\r" not in body
        assert b"\n" not in body
    else:
        header, _, literal = body.partition(b"\r\n")
        assert header == b"{%d}" % len(raw)
        assert literal == raw
    assert len(pieces) == (1 if body.startswith(b'"') else 2)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_query_string_either_builds_or_is_refused_cleanly(query: str) -> None:
    try:
        criteria = build_criteria(query, {})
    except InvalidInputError:
        return
    data = b"".join(encode_search_command(b"A1", criteria, literal_plus=True))
    # Cut out every literal (header and content): exactly one CRLF, the final one, remains.
    while match := _LITERAL_HEADER.search(data):
        data = data[: match.start()] + b"<lit>" + data[match.end() + int(match[1]) :]
    assert data.count(b"\r\n") == 1
    assert data.endswith(b"\r\n")
    assert b"\x00" not in data
