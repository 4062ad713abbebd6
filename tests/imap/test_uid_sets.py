"""UID sets: the one writer (compact ``a:b`` ranges, short lines) and the one reader (refs.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nb_email_conn.errors import ServerError
from nb_email_conn.refs import parse_uid_set, uid_set_size, uid_sets


@given(st.sets(st.integers(min_value=1, max_value=2**32 - 1), max_size=300), st.integers(min_value=12, max_value=400))
def test_written_sets_read_back_exactly(uids: set[int], max_length: int) -> None:
    sets = uid_sets(uids, max_length)
    assert all(len(s) <= max_length for s in sets)
    read = [uid for s in sets for uid in parse_uid_set(s)]
    assert read == sorted(uids)
    assert sum(uid_set_size(s) for s in sets) == len(uids)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:3,7", [1, 2, 3, 7]),
        (b"1:3,7,10:8", [1, 2, 3, 7, 10, 9, 8]),  # as written: COPYUID pairs source and target by position
        ("5", [5]),
        ("", []),
        ("4,*,x:2,3:*,6", [4, 6]),  # pieces that are not numbers are skipped, never guessed
        (" 1:2 , 4 ", [1, 2, 4]),
    ],
)
def test_parse(text: str | bytes, expected: list[int]) -> None:
    assert parse_uid_set(text) == expected
    assert uid_set_size(text) == len(expected)


def test_a_set_that_would_exhaust_memory_is_refused() -> None:
    with pytest.raises(ServerError, match="more than 1000 UIDs"):
        parse_uid_set("1:500,600:1200", limit=1000)
    with pytest.raises(ServerError, match="more than"):
        parse_uid_set(b"1:4294967295")
    assert uid_set_size("1:4294967295") == 4294967295  # counting is cheap and unbounded
