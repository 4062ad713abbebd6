"""The search path's shortcuts must give exactly what the general code gives.

Each shortcut (FETCH rows matched in the read buffer, BODYSTRUCTURE answers cached per
shape, header blocks decoded column by column with per-value caches, dates parsed with
numpy) is compared with the general code it stands in for, on hand-picked and generated
input: encoded words, odd charsets, raw 8-bit, broken headers, odd dates.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imap.test_fetch_parser import TEXT_PLAIN, WITH_PDF, ScriptedImap, done, fetch_response, header_block

from nb_email_conn.imap import fetch
from nb_email_conn.imap.dates import header_dates, header_dates_one_by_one, internal_dates, internal_dates_one_by_one
from nb_email_conn.imap.fetch import fetch_rows, has_attachment
from nb_email_conn.imap.frame import HeaderColumns
from nb_email_conn.message.headers import (
    decode_text,
    decode_words,
    decode_words_one_by_one,
    field_text,
    parse_address_list,
    split_header_block,
)


# -- headers: column-wise decoding against the one-block-at-a-time reference -----------------
def reference_values(block: bytes | None) -> tuple[str, ...]:
    """The straightforward decoding of one block (the code the column-wise one replaced)."""
    fields = split_header_block(block) if block else {}

    def text(name: str) -> str:
        return field_text(fields.get(name))

    sender = parse_address_list(text("from"))
    subject = text("subject")
    return (
        text("date"),
        *(sender[0] if sender else ("", "")),
        ", ".join(addr for _, addr in parse_address_list(text("to")) if addr),
        ", ".join(addr for _, addr in parse_address_list(text("cc")) if addr),
        decode_text(subject),
        text("message-id"),
        text("in-reply-to"),
    )


def decoded_rows(blocks: list[bytes | None]) -> list[tuple[str, ...]]:
    columns = HeaderColumns()
    columns.extend(blocks)
    return list(zip(*columns.columns().values(), strict=True))


_NAMES = [
    "From", "FROM", "from", "To", "TO", "Cc", "CC", "cc", "Subject", "SUBJECT", "Date", "date",
    "Message-ID", "Message-Id", "message-id", "In-Reply-To", "In-reply-to", "X-Other", "Received",
    " From", "From ", "Fröm",
]  # fmt: skip
_VALUES: list[bytes] = [
    b"",
    b"   ",
    b"bob@example.org",
    b"<bob@example.org>",
    b"Bob  Smith <bob@example.org>",
    b'"Smith, Bob" <bob@example.org>, carol@example.org',
    b"=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.org>",
    b"=?iso-8859-1?q?Ren=E9?= <rene@example.org>, =?utf-8?b?5p2O6Zu3?= <li@example.org>",
    b"=?x-unknown-charset?q?Weird?= <weird@example.org>",
    b"=?utf-8?b?!!!?= <broken@example.org>",
    b"undisclosed-recipients:;",
    b"team: a@example.org, b@example.org;",
    b"bob@example.org (Bob the builder)",
    b"J\xc3\xb6rg <j@example.org>",
    b"Ren\xe9 <rene@example.org>",
    b"\xff\xfe broken <<@@>>",
    b"=?utf-8?b?UXVhcnRhbHNiZXJpY2h0IMO8YmVyIMOEcGZlbA==?=",
    b"=?iso-2022-jp?b?GyRCJUYlOSVIGyhC?= and =?windows-1252?q?=93smart=94?=",
    b"=?utf-8?q?a?= =?utf-8?q?b?= tail",
    b'a folded\r\n  subject line with "quotes" and \\backslash',
    b"=?utf-8?q?folded?=\r\n\t=?utf-8?q?_word?=",
    b"Tue, 2 Jan 2024 11:00:00 +0100",
    b"Wed, 03 Jan 2024 09:30:00 +0000 (UTC)",
    b"sometime last week",
    b"<m1@example.org>",
    b"<m1@example.org>\r\n <m2@example.org>",
    b"value with trailing blanks \t\x0b\x0c",
    b"\x1cvalue with a file separator\x1c",
    b"caf\xc3\xa9 \x85 next line char",
]
_LINE = st.one_of(
    st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)).map(
        lambda pair: pair[0].encode("utf-8") + b": " + pair[1] + b"\r\n"
    ),
    st.sampled_from([b"no colon line\r\n", b" continuation first\r\n", b"\r\n", b":empty name\r\n"]),
    st.binary(max_size=40),
)
_BLOCK = st.one_of(st.none(), st.lists(_LINE, max_size=9).map(lambda lines: b"".join(lines) + b"\r\n"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_BLOCK, max_size=12))
def test_column_wise_header_decoding_matches_the_reference(blocks: list[bytes | None]) -> None:
    assert decoded_rows(blocks) == [reference_values(block) for block in blocks]


def test_column_wise_header_decoding_on_a_repetitive_folder() -> None:
    """Caches keyed by value: rows sharing a sender or a subject still get their own values."""
    blocks: list[bytes | None] = []
    for index in range(300):
        blocks.append(
            header_block(
                from_=_VALUES[index % 7 + 2].decode("latin-1"),
                to=_VALUES[index % 5 + 4].decode("latin-1"),
                subject=f"=?utf-8?q?Re=3A_thread_{index % 4}?=",
                date=f"Tue, {index % 28 + 1} Jan 2024 10:00:00 +0000",
                message_id=f"<{index}@example.org>",
            )
        )
    blocks += [None, b"", b"Subject: \xff\r\n\r\n"]
    assert decoded_rows(blocks) == [reference_values(block) for block in blocks]


# -- dates: vectorised against the general parsers ---------------------------------------------
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "mon", "Xyz"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "jan", "FEB", "Foo"]


@st.composite
def _date_parts(draw: Any) -> dict[str, Any]:
    return {
        "weekday": draw(st.sampled_from(_WEEKDAYS)),
        "day": draw(st.integers(0, 32)),
        "pad": draw(st.sampled_from(["", "0", " "])),
        "month": draw(st.sampled_from(_MONTHS)),
        "year": draw(st.sampled_from([1, 99, 1899, 1900, 1970, 2000, 2024, 2100, 2400, 2999, 3000, 9999])),
        "time": draw(st.tuples(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61))),
        "sign": draw(st.sampled_from("+-")),
        "zone": draw(st.tuples(st.integers(0, 25), st.integers(0, 61))),
    }


def _clock(parts: dict[str, Any]) -> str:
    hour, minute, second = parts["time"]
    zone_hours, zone_minutes = parts["zone"]
    return f"{hour:02d}:{minute:02d}:{second:02d} {parts['sign']}{zone_hours:02d}{zone_minutes:02d}"


def _day(parts: dict[str, Any]) -> str:
    day = str(parts["day"])
    return (parts["pad"] + day) if len(day) == 1 else day


@st.composite
def _header_date(draw: Any) -> str:
    parts = draw(_date_parts())
    text = f"{parts['weekday']}, {_day(parts)} {parts['month']} {parts['year']:04d} {_clock(parts)}"
    variant = draw(st.sampled_from(["plain", "comment", "blanks", "no weekday", "GMT", "junk", "any"]))
    if variant == "comment":
        text += draw(st.sampled_from([" (UTC)", "(CET)", " \t(a (nested) one)"]))
    elif variant == "blanks":
        text = draw(st.sampled_from([" ", "\t", "  \t"])) + text + draw(st.sampled_from([" ", "\t", "\r", "\x0b"]))
    elif variant == "no weekday":
        text = text.split(", ", 1)[1]
    elif variant == "GMT":
        text = text.rsplit(" ", 1)[0] + draw(st.sampled_from([" GMT", " EST", " UT", " Z"]))
    elif variant == "junk":
        text = draw(st.text(max_size=30))
    elif variant == "any":
        text = draw(st.sampled_from(["", "yesterday", "1 Jan 2024", "Tue, 2 Jan 24 05:00:00 EST", "٢ Jan 2024"]))
    return text


@st.composite
def _internal_date(draw: Any) -> str:
    parts = draw(_date_parts())
    text = f"{_day(parts)}-{parts['month']}-{parts['year']:04d} {_clock(parts)}"
    if draw(st.booleans()):
        text = draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " ", "x"]))
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_header_date(), max_size=20))
def test_vectorised_header_dates_match_the_general_parser(values: list[str]) -> None:
    fast = header_dates(values)
    assert str(fast.dtype) == "datetime64[us, UTC]"
    pd.testing.assert_series_equal(fast, header_dates_one_by_one(values))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_internal_date(), max_size=20))
def test_vectorised_internal_dates_match_the_general_parser(values: list[str]) -> None:
    pd.testing.assert_series_equal(internal_dates(values), internal_dates_one_by_one(values))


def test_dates_with_line_breaks_and_leap_seconds_take_the_general_path() -> None:
    values = ["Tue, 2 Jan 2024 11:00:00 +0100\nTue, 2 Jan 2024 11:00:00 +0100", "Sat, 31 Dec 2016 23:59:60 +0000"]
    pd.testing.assert_series_equal(header_dates(values), header_dates_one_by_one(values))
    assert header_dates(values)[1] == pd.Timestamp("2017-01-01", tz="UTC")  # what pandas makes of :60


# -- BODYSTRUCTURE: the per-shape cache against a full parse -----------------------------------
_STRINGS = [
    b'"text"', b'"TEXT"', b'"plain"', b'"application"', b'"pdf"', b'"message"', b'"rfc822"', b'"global"',
    b'"image"', b'"name"', b'"NAME"', b'"filename"', b'"attachment"', b'"ATTACHMENT"', b'"inline"',
    b'"attachment; filename=x.pdf"', b'"a name"', b'"12 34"', b'"x (y) z"', b'"attachments"', b'""',
    b'"with \\"escaped\\" quote"', b'"back\\\\slash"',
    # digits: the first cache key makes every digit "0", which must not merge different answers
    b'"rfc823"', b'"RFC822"', b'"rfc8"', b'"name1"', b'"x1.pdf"', b'"x22.pdf"', b'"attachment2"', b'"2attachment"',
]  # fmt: skip
_ATOMS = [b"NIL", b"0", b"12", b"345678", b"7bit"]


def _structure_text(value: Any) -> bytes:
    if isinstance(value, list):
        return b"(" + b" ".join(_structure_text(item) for item in value) + b")"
    return value  # type: ignore[no-any-return]


_STRUCTURE = st.recursive(
    st.sampled_from(_STRINGS + _ATOMS),
    lambda children: st.lists(children, min_size=1, max_size=12),
    max_leaves=40,
).map(lambda value: _structure_text(value if isinstance(value, list) else [value]))

_KNOWN = [
    TEXT_PLAIN,
    WITH_PDF,
    b'(("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "7BIT" 2 1)("IMAGE" "PNG" ("NAME" "x.png") NIL NIL "BASE64" 8)'
    b' "MIXED")',
    b'("text" "plain" ("name" "notes.txt") NIL NIL "7bit" 5 2 NIL NIL NIL NIL)',
    b'(("text" "plain" NIL NIL NIL "7bit" 2 1 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 50'
    b' (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" NIL NIL NIL "7bit" 5 1 NIL NIL NIL NIL)'
    b' 3 NIL NIL NIL NIL) "mixed" NIL NIL NIL)',
    b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 184 8 NIL NIL NIL NIL)("application" "pdf" NIL NIL'
    b' NIL "base64" 1094 NIL "attachment; filename=\\"i.pdf\\"" NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)',
]


def _rows() -> fetch._Rows:
    return fetch._Rows(fetch._Wire(ScriptedImap(b"")), set())  # type: ignore[arg-type]


def _full_parse(text: bytes) -> bool:
    return has_attachment(fetch.parse_response(fetch._Wire(ScriptedImap(b"")), text + b"\r\n")[0])  # type: ignore[arg-type]


@pytest.mark.parametrize("text", _KNOWN)
def test_structure_shape_cache_on_known_structures(text: bytes) -> None:
    rows = _rows()
    for _ in range(2):  # computed, then cached
        assert (fetch._ATTACHMENT_HINT.search(text) is not None and rows._has_attachment(text)) is _full_parse(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_STRUCTURE, min_size=1, max_size=6))
def test_structure_shape_cache_matches_a_full_parse(texts: list[bytes]) -> None:
    rows = _rows()  # one cache for all: a wrong cache key would mix their answers up
    for text in texts + texts:
        fast = fetch._ATTACHMENT_HINT.search(text) is not None and rows._has_attachment(text)
        assert fast is _full_parse(text), text


# -- FETCH rows: read from the buffer vs line by line ------------------------------------------
class LineOnlyFile:
    """A reader without ``peek``: every response goes through the line-by-line parser."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BufferedReader(io.BytesIO(data))

    def readline(self, limit: int = -1) -> bytes:
        return self._inner.readline(limit)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)


def _imaps(output: bytes) -> Iterator[ScriptedImap]:
    yield ScriptedImap(output)  # 8 KB buffer: responses cut at its end go line by line
    small = ScriptedImap(output)
    small.file = io.BufferedReader(io.BytesIO(output), buffer_size=97)
    yield small
    line_only = ScriptedImap(output)
    line_only.file = LineOnlyFile(output)  # type: ignore[assignment]
    yield line_only


_FLAGS = st.lists(st.sampled_from([b"\\Seen", b"\\Flagged", b"\\Answered", b"$Work", b"\\Recent"]), max_size=3)
_RESPONSE = st.fixed_dictionaries(
    {
        "uid": st.integers(1, 60),
        "flags": _FLAGS.map(b" ".join),
        "size": st.integers(0, 10**9),
        "internaldate": st.sampled_from([b"02-Jan-2024 10:00:00 +0000", b" 2-Jan-2024 10:00:00 -0130", b"junk"]),
        "structure": st.sampled_from(_KNOWN),
        "header": _BLOCK.filter(lambda block: block is not None),
        "header_as": st.sampled_from(["literal", "literal", "literal", "quoted", "nil"]),
        "case": st.sampled_from(["upper", "lower"]),
    }
)
_NOISE = st.sampled_from(
    [b"* 3 EXPUNGE\r\n", b"* 12 EXISTS\r\n", b"* 1 FETCH (FLAGS (\\Seen))\r\n", b"* OK [ALERT] {3}\r\nhi!\r\n"]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_RESPONSE, _NOISE), max_size=25), st.sets(st.integers(1, 60), min_size=1, max_size=40))
def test_buffer_and_line_paths_give_the_same_columns(items: list[Any], wanted: set[int]) -> None:
    pieces = []
    for seq, item in enumerate(items, 1):
        if isinstance(item, bytes):
            pieces.append(item)
            continue
        response = fetch_response(
            seq,
            item["uid"],
            flags=item["flags"],
            size=item["size"],
            internaldate=item["internaldate"],
            structure=item["structure"],
            header=item["header"] if item["header_as"] != "quoted" else re.sub(rb"[\r\n]", b" ", item["header"]),
            header_as=item["header_as"],
        )
        if item["case"] == "lower":
            response = response.replace(b"FETCH (UID", b"fetch (uid").replace(b"BODYSTRUCTURE", b"bodystructure")
        pieces.append(response)
    output = b"".join(pieces) + done(1) + b"REST"
    results = []
    for imap in _imaps(output):
        results.append(fetch_rows(imap, sorted(wanted), batch=10_000))  # type: ignore[arg-type]
        assert imap.leftover() == b"REST"
    assert results[0] == results[1] == results[2]


# -- shortcuts added for the 50k-message search ------------------------------------------------
_USUAL_LINE = st.tuples(
    st.sampled_from(["Date", "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "CC", "Message-Id"]),
    st.sampled_from(_VALUES),
).map(lambda pair: pair[0].encode() + b": " + pair[1] + b"\r\n")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_USUAL_LINE, max_size=9).map(lambda lines: b"".join(lines) + b"\r\n"), max_size=12))
def test_blocks_of_usual_names_match_the_reference(blocks: list[bytes | None]) -> None:
    """Blocks that take the no-loop path (each usual name at most once) and the ones next to it."""
    assert decoded_rows(blocks) == [reference_values(block) for block in blocks]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"NAME", b"name", b"Attach", b"ment", b"MESSAGE", b"mess", b"age", b"\xc4", b" ", b'"']),
        max_size=12,
    )
)
def test_attachment_hint_without_regex_matches_the_regex(pieces: list[bytes]) -> None:
    text = b"".join(pieces)
    assert fetch.may_have_attachment(text) is (fetch._ATTACHMENT_HINT.search(text) is not None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 10**6),
    _FLAGS.map(b" ".join),
    st.sampled_from(_KNOWN),
    st.sampled_from([b"DATE FROM", b"date From", b"SUBJECT", b""]),
    st.sampled_from([b"FETCH (UID", b"fetch (uid", b"Fetch (Uid"]),
)
def test_case_sensitive_row_pattern_captures_what_the_general_one_does(
    uid: int, flags: bytes, structure: bytes, fields: bytes, opening: bytes
) -> None:
    line = (
        b"* 7 "
        + opening
        + b" %d FLAGS (" % uid
        + flags
        + b') RFC822.SIZE 12 INTERNALDATE "02-Jan-2024 10:00:00 +0000" '
        b"BODYSTRUCTURE " + structure + b" BODY[HEADER.FIELDS (" + fields + b")] {5}\r\n"
    )
    general = fetch._FAST_ROW.match(line)
    assert general is not None
    upper = fetch._FAST_ROW_UPPER.match(line)
    if upper is not None:
        assert upper.groups() == general.groups() and upper.end() == general.end()
    else:
        assert opening != b"FETCH (UID" or fields != fields.upper()


_WORDS = [
    "=?utf-8?b?SsO2cmcgTcO8bGxlcg==?=", "=?UTF-8?B?5p2O6Zu3?=", "=?iso-8859-1?q?Ren=E9?=", "=?utf-8?q?a_b?=",
    "=?x-unknown?q?Weird?=", "=?utf-8?b?!!!?=", "=?utf-8*en?q?lang?=", "=?utf-8?b?w7w?=", "=?utf-8?q?=C3?=",
    "=?", "?=", "plain", " ", "=?utf-8?b??=",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3).map("".join))
def test_single_encoded_word_shortcut_matches_word_by_word(value: str) -> None:
    assert decode_words(value) == decode_words_one_by_one(value)


def test_overlapping_searches_restore_the_garbage_collector() -> None:
    import gc
    import threading

    from nb_email_conn.imap.fetch import _cyclic_gc_paused

    assert gc.isenabled()
    first_in, second_done = threading.Event(), threading.Event()

    def first() -> None:
        with _cyclic_gc_paused():
            first_in.set()
            second_done.wait(5)

    worker = threading.Thread(target=first)
    worker.start()
    first_in.wait(5)
    with _cyclic_gc_paused():  # starts while the first pause is on, ends before it
        assert not gc.isenabled()
    assert not gc.isenabled()  # the first search is still running
    second_done.set()
    worker.join(5)
    assert gc.isenabled()
