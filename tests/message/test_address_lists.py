"""The quick address-list path (quoted names split at commas outside quotes) reads what the full parser reads."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nb_email_conn.message import headers

NAMES = st.sampled_from(
    ["Doe, Jane", "Jörg Müller", "Müller, Jörg", "=?utf-8?q?J=C3=B6rg?= M", "A  B", "", "x", "O'Neil, C", "a.b"]
)
ADDRESSES = st.sampled_from(["j@example.org", "a.b+c@x.co.uk", "x@[127.0.0.1]", "UPPER@Example.ORG", "1@n.io"])


@st.composite
def item(draw: st.DrawFn) -> str:
    name, address = draw(NAMES), draw(ADDRESSES)
    shape = draw(st.sampled_from(["quoted", "bare", "plain", "angle"]))
    gap = draw(st.sampled_from([" ", "", "  ", "\r\n "]))
    if shape == "quoted":
        return f'"{name}"{gap}<{address}>'
    if shape == "bare" and "," not in name:
        return f"{name}{gap}<{address}>"
    return address if shape == "plain" else f"<{address}>"


def both(value: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    quick = headers._parse_address_list_uncached(value)
    assert headers.addresses(value) == [address for _, address in quick if address]  # the to / cc columns
    return quick, headers._parse_addresses_fully(value.replace("\r", " "))


@settings(max_examples=400, deadline=None)
@given(st.lists(item(), min_size=1, max_size=8), st.sampled_from([",", ", ", ",\r\n ", " ,"]))
def test_quick_lists_equal_the_full_parser(items: list[str], separator: str) -> None:
    quick, full = both(separator.join(items))
    assert quick == full


@pytest.mark.parametrize(
    "value",
    [
        '"Doe, Jane" <j@x.org>, "Roe, Rick" <r@x.org>',
        '"Doe, Jane" <j@x.org>,, <k@x.org>,',
        '"unbalanced <j@x.org>, k@x.org',
        '"a \\" b" <j@x.org>',  # an escape: the full parser
        '"Team: all" <t@x.org>, u@x.org',
        "undisclosed-recipients:;",
    ],
)
def test_odd_lists_still_read_as_the_full_parser_reads_them(value: str) -> None:
    quick, full = both(value)
    assert quick == full


def test_an_address_the_full_parser_cannot_read_does_not_spoil_its_neighbours() -> None:
    # The full parser gives up on the whole value (one "address": the raw text); split at commas,
    # every other address still reads, as it always did in a list without quotes.
    assert headers.parse_address_list('"Doe, Jane" <j@x.org>, .1@news.io') == [
        ("Doe, Jane", "j@x.org"),
        ("", ".1@news.io"),
    ]
    assert headers.parse_address_list("j@x.org, .1@news.io") == [("", "j@x.org"), ("", ".1@news.io")]


def test_the_realistic_benchmark_corpus_lists_read_alike() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from corpus import Realistic

    corpus = Realistic(seed=11)
    lists = [corpus._people(1, 12) for _ in range(300)] + [corpus._person() for _ in range(300)]
    random.Random(1).shuffle(lists)
    for value in lists:
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        quick, full = both(value)
        assert quick == full, value
