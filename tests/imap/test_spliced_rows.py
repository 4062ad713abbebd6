"""FETCH rows whose BODYSTRUCTURE holds literals (an attached message's envelope with an 8-bit or
long subject or names, as Dovecot sends them) take the fast row path and give exactly what the
general parser gives.

The shapes are those of the realistic benchmark corpus (2.6% of its rows): a forwarded
``message/rfc822`` part whose envelope subject, and sometimes display names, come as literals.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from imap.test_fetch_parser import ScriptedImap, done, fetch_response, header_block, literal

from nb_email_conn.imap import response, rows
from nb_email_conn.imap.fetch import fetch_rows
from nb_email_conn.imap.response import FETCH_LINE, fetch_items, parse_response
from nb_email_conn.imap.rows import Rows
from nb_email_conn.imap.wire import Wire


def forwarded(subject: bytes, name: bytes = b'"Hoffmann, Lena"', *, disposition: bytes = b'("inline" NIL)') -> bytes:
    """Dovecot's BODYSTRUCTURE of a text part and a forwarded message (subject / name as given)."""
    envelope = (
        b"(NIL " + subject + b" ((" + name + b' NIL "lena" "uni100.cn")) ((NIL NIL "lena" "uni100.cn")) '
        b'((NIL NIL "lena" "uni100.cn")) NIL NIL NIL NIL "<fw793e@x>")'
    )
    return (
        b'(("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 4032 32 NIL NIL NIL NIL)'
        b'("message" "rfc822" NIL NIL NIL "7bit" 1301 ' + envelope + b' ("text" "plain" ("charset" "us-ascii") '
        b'NIL NIL "7bit" 1006 9 NIL NIL NIL NIL) 16 NIL ' + disposition + b" NIL NIL)"
        b' "mixed" ("boundary" "b36") NIL NIL NIL)'
    )


SUBJECTS = [
    literal(b"=?windows-1250?q?faktura_=9E=E1dost_smlouva?= =?windows-1250?q?zm=ECna_zpr=E1va?="),
    literal("compte-rendu prévisions échéance été".encode()),  # raw 8-bit
    literal(b'a "quoted" word and a back\\slash (and parens)'),
    literal(b"a brace { in it"),  # cannot be a quoted string: the general parser reads it
    literal(b"line\r\nbreak"),
    b'"plain quoted"',
]
NAMES = [b'"Hoffmann, Lena"', literal("Ännchen Müller".encode()), b"NIL"]


def general_columns(output: bytes, wanted: set[int]) -> dict[str, list[Any]]:
    """The rows as the general parser alone reads them (the reference)."""
    wire = Wire(ScriptedImap(output))  # type: ignore[arg-type]
    found = Rows(wire, wanted)
    while not (line := wire.line()).startswith(b"A1 "):
        assert FETCH_LINE.match(line)
        items = fetch_items(parse_response(wire, line))
        assert items is not None
        found.add_items(items)
    return found.columns()


def responses() -> bytes:
    pieces = []
    uid = 0
    for subject in SUBJECTS:
        for name in NAMES:
            for disposition in (b'("inline" NIL)', b'("attachment" ("filename" ' + literal(b"f\xc3\xa9.eml") + b"))"):
                uid += 1
                header = header_block(subject=f"fwd {uid}", from_="lena@uni100.cn", message_id=f"<f{uid}@x>")
                structure = forwarded(subject, name, disposition=disposition)
                pieces.append(fetch_response(uid, uid, flags=b"\\Seen \\Recent", structure=structure, header=header))
    pieces.append(fetch_response(uid + 1, uid + 1).replace(b"FETCH (UID", b"fetch (uid"))
    return b"".join(pieces)


@pytest.mark.parametrize("buffer_size", [8192, 97, 1 << 20])
def test_literal_structures_match_the_general_parser(buffer_size: int) -> None:
    output = responses() + done(1) + b"REST"
    wanted = set(range(1, 80))
    imap = ScriptedImap(output)
    imap.file = io.BufferedReader(io.BytesIO(output), buffer_size=buffer_size)
    fast = fetch_rows(imap, sorted(wanted), batch=10_000)  # type: ignore[arg-type]
    assert imap.leftover() == b"REST"
    assert fast == general_columns(output, wanted)
    assert len(fast["uid"]) == len(SUBJECTS) * len(NAMES) * 2 + 1
    assert all(fast["has_attachments"][:-1]) and not fast["has_attachments"][-1]  # an attached message is one


def test_quotable_literals_skip_the_general_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the literals that cannot be quoted strings ({, CR, LF) send a row to the general parser."""
    parsed: list[bytes] = []
    real = response.parse_response

    def spy(wire: Any, line: bytes) -> list[Any]:
        parsed.append(line)
        return real(wire, line)

    monkeypatch.setattr(rows, "parse_response", spy)
    header = header_block(subject="x", from_="a@b.c")
    quotable = [fetch_response(i, i, structure=forwarded(s), header=header) for i, s in enumerate(SUBJECTS[:3], 1)]
    output = b"".join(quotable) + done(1)
    imap = ScriptedImap(output)
    imap.file = io.BufferedReader(io.BytesIO(output), buffer_size=64)  # every response read from its first line
    assert fetch_rows(imap, [1, 2, 3])["uid"] == [1, 2, 3]  # type: ignore[arg-type]
    assert not [line for line in parsed if b"FETCH" in line]  # the structure shape cache may parse, rows do not
    brace = fetch_response(4, 4, structure=forwarded(SUBJECTS[3]), header=header) + done(1)
    imap = ScriptedImap(brace)
    assert fetch_rows(imap, [4])["uid"] == [4]  # type: ignore[arg-type]
    assert [line for line in parsed if b"FETCH" in line]
