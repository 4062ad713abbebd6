"""Search rows and ``get_email`` read headers alike (design.md Part 2).

"Search rows and get_email decode headers with the same code: subject, from name and
address, and the To/Cc addresses (with their display names where both carry them) read
the same in both." Checked for every message of the test corpora: the golden ``.eml``
corpus, the sandbox's demo mailbox and the nasty header cases below, once without a
server (the search path's column decoder against ``parse_email`` on the same bytes) and
once through Dovecot (``search_emails`` rows against ``get_email`` of each row). The
nasty cases also carry what they must read as.

Only the public reading paths are used here, so the test also runs against older code.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from servers.dovecot import DovecotServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready
from nb_email_conn.imap.frame import HeaderColumns
from nb_email_conn.message import Email, parse_email
from nb_email_conn.sandbox.seed import generate

CORPUS = Path(__file__).parent / "corpus"
USER = "bob@example.org"  # alice's mailbox is reset by other tests


def _b64(text: str, charset: str) -> str:
    return base64.b64encode(text.encode(charset)).decode("ascii")


@dataclass(frozen=True)
class Case:
    """A message with hand-written header lines, and what its headers must read as."""

    label: str
    lines: tuple[bytes, ...]
    from_name: str = ""
    from_addr: str = ""
    subject: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    # The server stores other bytes: Dovecot keeps a NUL in a header as 0x80 and a bare CR as a line
    # break. Search rows and get_email must still agree on what it serves.
    server_rewrites: bool = False

    @property
    def raw(self) -> bytes:
        message_id = f"Message-ID: <{self.label}@consistency.example>".encode()
        return b"\r\n".join([*self.lines, b"Date: Tue, 2 Jan 2024 11:00:00 +0100", message_id]) + b"\r\n\r\nbody\r\n"


def _lines(*lines: str | bytes) -> tuple[bytes, ...]:
    return tuple(line if isinstance(line, bytes) else line.encode("ascii") for line in lines)


NASTY: list[Case] = [
    Case(
        "raw-latin-1",
        _lines(
            b"From: Ren\xe9 Dupont <rene@example.org>",
            b"To: Fran\xe7ois <francois@example.fr>",
            b"Subject: Caf\xe9 cr\xe8me",
        ),
        "René Dupont", "rene@example.org", "Café crème", ("François <francois@example.fr>",),
    ),
    Case(
        "raw-utf-8",
        _lines(
            "From: Jörg Müller <joerg@example.org>".encode(),
            "Subject: Grüße aus Köln — 会議".encode(),
            'Cc: "Zoë, QA" <zoe@example.org>, Åsa <asa@example.se>'.encode(),
        ),
        "Jörg Müller", "joerg@example.org", "Grüße aus Köln — 会議", (),
        ('"Zoë, QA" <zoe@example.org>', "Åsa <asa@example.se>"),
    ),
    Case(
        "raw-windows-1252",
        _lines(b"From: Bob <bob@example.org>", b"Subject: \x93smart\x94 quotes cost \x8020"),
        "Bob", "bob@example.org", "\u201csmart\u201d quotes cost \u20ac20",
    ),
    Case(
        "raw-latin-1-quoted-name",
        _lines(b'From: "Ren\xe9, Dupont" <rene@example.org>', b"To: a@example.org"),
        "René, Dupont", "rene@example.org", "", ("a@example.org",),
    ),
    Case(
        "iso-8859-1",
        _lines("From: =?ISO-8859-1?Q?Andr=E9_Gide?= <andre@example.fr>", "Subject: =?iso-8859-1?q?caf=E9_cr=E8me?="),
        "André Gide", "andre@example.fr", "café crème",
    ),
    Case(
        "iso-8859-2",
        _lines(
            "From: =?iso-8859-2?q?=A3=F3d=BC?= <lodz@example.pl>",
            f"Subject: =?ISO-8859-2?B?{_b64('Žluťoučký kůň', 'iso-8859-2')}?=",
        ),
        "Łódź", "lodz@example.pl", "Žluťoučký kůň",
    ),
    Case(
        "iso-8859-15",
        _lines("From: =?iso-8859-15?q?=A4uro_Office?= <euro@example.de>", "Subject: =?iso-8859-15?q?Preis:_100_=A4?="),
        "€uro Office", "euro@example.de", "Preis: 100 €",
    ),
    Case(
        "windows-1251",
        _lines(
            f"From: =?windows-1251?b?{_b64('Привет', 'cp1251')}?= <privet@example.ru>",
            f"Subject: =?Windows-1251?B?{_b64('Привет, мир', 'cp1251')}?=",
        ),
        "Привет", "privet@example.ru", "Привет, мир",
    ),
    Case(
        "windows-1252",
        _lines("From: x@example.org", "Subject: =?windows-1252?q?=93Hi=94_=96_=80?="),
        "", "x@example.org", "\u201cHi\u201d \u2013 \u20ac",
    ),
    Case(
        "koi8-r",
        _lines(
            "From: =?KOI8-R?Q?=F0=D2=C9=D7=C5=D4?= <koi@example.ru>",
            f"Subject: =?koi8-r?b?{_b64('Привет мир', 'koi8-r')}?=",
        ),
        "Привет", "koi@example.ru", "Привет мир",
    ),
    Case(
        "utf-8-b-and-q",
        _lines(
            "From: =?utf-8?B?Wm/DqyDDhW5nc3Ryw7Zt?= <zoe@example.org>",
            f"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= =?UTF-8?B?{_b64(' aus Köln', 'utf-8')}?=",
            "To: =?utf-8?q?Ren=C3=A9?= <rene@example.org>, =?UTF-8?B?5p2O6Zu3?= <li@example.cn>",
        ),
        "Zoë Ångström", "zoe@example.org", "Grüße aus Köln", ("René <rene@example.org>", "李雷 <li@example.cn>"),
    ),
    Case(
        "split-multibyte",
        _lines(
            "From: =?utf-8?b?4g==?= =?utf-8?b?gqw=?= Euro <euro@example.org>",
            "Subject: =?utf-8?q?price_=E2=82?=\r\n =?utf-8?q?=AC_5?=",
            'To: "=?utf-8?q?=E2?= =?utf-8?b?gqw=?=" <q@example.org>',
        ),
        "€ Euro", "euro@example.org", "price € 5", ("€ <q@example.org>",),
    ),
    Case(
        "unknown-charset",
        _lines("From: =?x-made-up?q?Ren=E9?= <rene@example.org>", "Subject: =?unknown-8bit?q?caf=E9?="),
        "René", "rene@example.org", "café",
    ),
    Case(
        "broken-encodings",
        _lines(
            "From: =?utf-8?b?####?= <b@example.org>",
            "Subject: broken =?utf-8?b?!!!?= and =?utf-8?q?unterminated",
            "Cc: =?utf-8?q?bad=ZZ_hex?= <hex@example.org>",
        ),
        "=?utf-8?b?####?=", "b@example.org", "broken =?utf-8?b?!!!?= and =?utf-8?q?unterminated", (),
        ("bad=ZZ hex <hex@example.org>",),
    ),
    Case(
        "quoted-names-with-commas",
        _lines(
            'From: "Smith, Bob" <bob@example.org>',
            "To: \"Doe, Jane\" <jane@example.org>, \"O'Neil,   Carol\" <carol@example.org>",
        ),
        "Smith, Bob", "bob@example.org", "",
        ('"Doe, Jane" <jane@example.org>', "\"O'Neil, Carol\" <carol@example.org>"),
    ),
    Case(
        "encoded-words-the-fast-patterns-leave-to-the-parser",
        _lines(
            'From: "=?utf-8?q?J=C3=B6rg_M=C3=BCller?=" <joerg@example.org>',
            "Cc: =?utf-8?q?M=C3=BCller,_J=C3=B6rg?= <j@example.org>, x@example.org (a comment)",
        ),
        "Jörg Müller", "joerg@example.org", "", (), ('"Müller, Jörg" <j@example.org>', "x@example.org"),
    ),
    Case(
        "groups",
        _lines('To: team: a@example.org, "B" <b@example.org>;, c@example.org', "Cc: undisclosed-recipients:;"),
        to=("a@example.org", "B <b@example.org>", "c@example.org"),
    ),
    Case("missing-headers", ()),
    Case(
        "folded-lines",
        _lines(
            "From: =?utf-8?q?folded?=\r\n =?utf-8?q?_name?= <f@example.org>",
            "Subject: a long\r\n\tfolded subject",
            "To: a@example.org,\r\n b@example.org,\r\n\t=?utf-8?q?C=C3=A9line?= <celine@example.org>",
        ),
        "folded name", "f@example.org", "a long\tfolded subject",
        ("a@example.org", "b@example.org", "Céline <celine@example.org>"),
    ),
    Case(
        "comments-and-angles",
        _lines("From: bob@example.org (Bob the Builder)", "To: <plain@example.org>", "Subject: Bob    Smith"),
        "", "bob@example.org", "Bob    Smith", ("plain@example.org",),
    ),
    Case(
        "whitespace-in-names",
        _lines("From: Bob    Smith <bob@example.org>", 'To: "Smith,   Bob" <b@example.org>'),
        "Bob Smith", "bob@example.org", "", ('"Smith, Bob" <b@example.org>',),
    ),
    Case(
        "line-break-in-an-encoded-word",
        _lines("From: a@example.org", "Subject: =?utf-8?q?line=0D=0Abreak?= =?utf-8?q?=C2=A0?="),
        "", "a@example.org", "line break",
    ),
    Case(
        "repeated-fields-and-odd-case",
        _lines(
            "SUBJECT: first", "from: Low <low@example.org>", "subject: second", "FROM: High <high@example.org>",
            "TO: one@example.org", "To: two@example.org",
        ),
        "Low", "low@example.org", "first", ("one@example.org",),
    ),
    Case(
        "east-asian-charsets",
        _lines("From: =?gb2312?b?1tDOxA==?= <zh@example.cn>", "Subject: =?iso-2022-jp?b?GyRCRnxLXDhsGyhC?="),
        "中文", "zh@example.cn", "日本語",
    ),
    Case(
        "adjacent-words-in-two-charsets",
        _lines("From: a@example.org", "Subject: =?utf-8?b?4oKs?= =?iso-8859-1?q?=E9?= =?utf-8?q?_?="),
        "", "a@example.org", "€é",
    ),
    Case(
        "bare-cr",
        _lines(b"From: Bare\rCR <bare@example.org>", b"Subject: bare\rCR"),
        "Bare CR", "bare@example.org", "bare CR", server_rewrites=True,
    ),
    Case(
        "nul-byte",
        _lines(b"From: Nul <nul@example.org>", b"Subject: nul\x00byte"),
        "Nul", "nul@example.org", "nulbyte", server_rewrites=True,
    ),
]  # fmt: skip


def _corpus() -> list[tuple[str, bytes]]:
    """(label, raw message) for every message of the test corpora."""
    messages = [(f"corpus/{path.name}", path.read_bytes()) for path in sorted(CORPUS.glob("*.eml"))]
    messages += [(f"seed/{index}", seed.data) for index, seed in enumerate(generate())]
    messages += [(f"nasty/{case.label}", case.raw) for case in NASTY]
    return messages


MESSAGES = _corpus()
EXPECTED = {f"nasty/{case.label}": case for case in NASTY}


def _address(entry: str) -> str:
    """The address of an ``Email.to`` / ``cc`` entry (``Name <addr>`` or ``addr``)."""
    name, bracket, addr = entry.rpartition(" <")
    return addr[:-1] if bracket and name and addr.endswith(">") else entry


def _row_values(row: Mapping[Any, Any]) -> dict[str, str]:  # a to_dict("records") row or a plain dict
    return {key: row[key] for key in ("from_name", "from_addr", "subject", "to", "cc")}


def _email_values(email: Email) -> dict[str, str]:
    return {
        "from_name": email.from_name,
        "from_addr": email.from_addr,
        "subject": email.subject,
        "to": ", ".join(_address(entry) for entry in email.to),
        "cc": ", ".join(_address(entry) for entry in email.cc),
    }


def _unexpected(label: str, email: Email, *, on_server: bool = False) -> tuple[Any, ...] | None:
    """(label, got, wanted) when a nasty case does not read as it must, else None."""
    case = EXPECTED.get(label)
    if case is None or (on_server and case.server_rewrites):
        return None
    got = (email.from_name, email.from_addr, email.subject, tuple(email.to), tuple(email.cc))
    wanted = (case.from_name, case.from_addr, case.subject, case.to, case.cc)
    return None if got == wanted else (label, got, wanted)


def _header_section(raw: bytes) -> bytes:
    """The header lines of a message plus the blank line, as BODY[HEADER.FIELDS] ends."""
    end = re.search(rb"\r?\n\r?\n", raw)
    return (raw[: end.start()] if end else raw) + b"\r\n\r\n"


# -- without a server -----------------------------------------------------------------------
@pytest.mark.parametrize(("label", "raw"), MESSAGES, ids=[label for label, _ in MESSAGES])
def test_search_columns_and_parse_email_agree(label: str, raw: bytes) -> None:
    columns = HeaderColumns()
    columns.add(_header_section(raw))
    row = {name: values[0] for name, values in columns.columns().items()}
    email = parse_email(raw)
    assert _row_values(row) == _email_values(email), label
    assert _unexpected(label, email) is None


def test_the_corpora_hold_the_cases_the_contract_names() -> None:
    labels = [label for label, _ in MESSAGES]
    assert sum(label.startswith("corpus/") for label in labels) >= 14
    assert sum(label.startswith("seed/") for label in labels) >= 100
    assert len(NASTY) == len({case.label for case in NASTY}) >= 25


# -- through Dovecot ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def folder(dovecot: DovecotServer) -> Iterator[tuple[str, dict[int, str]]]:
    """Every corpus message appended to a fresh folder of bob's: (folder, {uid: label})."""
    name = f"Headers-{uuid.uuid4().hex[:8]}"
    labels: dict[int, str] = {}
    with dovecot.client(USER) as client:
        client.create_folder(name)
        for label, raw in MESSAGES:
            response = client.append(name, raw)
            labels[int(response.split(b"]")[0].split()[-1])] = label
    yield name, labels
    with dovecot.client(USER) as client:
        client.delete_folder(name)


@pytest.mark.dovecot
def test_search_rows_and_get_email_agree_on_dovecot(dovecot: DovecotServer, folder: tuple[str, dict[int, str]]) -> None:
    name, labels = folder
    with nec.EmailConnection(dovecot.config(USER), password=dovecot.users[USER]) as conn:
        frame = ready(conn.search_emails(folder=name))
        assert sorted(frame["uid"]) == sorted(labels)
        mismatches, unexpected = [], []
        for row in frame.to_dict("records"):
            label = labels[row["uid"]]
            email = ready(conn.get_email(row["ref"]))
            if _row_values(row) != _email_values(email):
                mismatches.append((label, _row_values(row), _email_values(email)))
            if (problem := _unexpected(label, email, on_server=True)) is not None:
                unexpected.append(problem)
    assert mismatches == [], "\n".join(map(repr, mismatches))
    assert unexpected == [], "\n".join(map(repr, unexpected))
