"""Folder names: strict modified UTF-7 both ways, lenient display of names that are not."""

from __future__ import annotations

import imapclient.imap_utf7 as reference
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nb_email_conn.imap.names import decode_mutf7, decode_name, encode_name


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (b"INBOX", "INBOX"),
        (b"R&-D", "R&D"),
        (b"&-", "&"),
        (b"Entw&APw-rfe", "Entwürfe"),
        (b"&ZeVnLIqe-", "日本語"),
        (b"&2D3eAA-", "\U0001f600"),  # a surrogate pair
        (b"&ZZY-", "\u6596"),  # what Dovecot stores for a requested "&ZZZ-"
        (b"a&AOk-b&AOk-", "aébé"),
    ],
)
def test_canonical_names_round_trip(raw: bytes, name: str) -> None:
    assert decode_mutf7(raw) == name
    assert encode_name(name) == raw
    assert decode_name(raw) == (name, True)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"R&D", "R&D"),  # a bare "&"
        (b"&ZZZ-", "&ZZZ-"),  # non-zero padding bits
        (b"&Z-", "&Z-"),  # not a whole UTF-16 unit
        (b"&2D0-", "&2D0-"),  # a lone surrogate
        (b"&AG$-", "&AG$-"),  # not base64
        (b"Caf\xc3\xa9", "Café"),  # raw UTF-8
        (b"Caf\xe9", "Café"),  # raw Latin-1
        (b"\xff\xfe", "ÿþ"),
        (b"tab\there", "tab\there"),
    ],
)
def test_names_that_are_not_modified_utf7_are_shown_as_sent(raw: bytes, shown: str) -> None:
    with pytest.raises(ValueError):
        decode_mutf7(raw)
    assert decode_name(raw) == (shown, False)


def test_a_non_canonical_encoding_is_decoded_but_marked() -> None:
    assert decode_name(b"&AGE-") == ("a", False)  # printable ASCII must not be base64-encoded


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=30))
def test_encode_matches_imapclient_and_decodes_back(name: str) -> None:
    raw = encode_name(name)
    assert raw == reference.encode(name)
    assert decode_name(raw) == (name, True)


@given(st.binary(max_size=40))
def test_decode_name_never_raises(raw: bytes) -> None:
    name, canonical = decode_name(raw)
    assert isinstance(name, str)
    if canonical:
        assert encode_name(name) == raw
