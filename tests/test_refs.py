"""Refs: RFC 5092 URLs that round-trip, and the forms ``refs`` arguments accept."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nb_email_conn.errors import InvalidInputError
from nb_email_conn.refs import MessageRef, compress_uids, normalize_refs, uid_sets

REF = "imap://alice%40example.org@imap.example.org/INBOX;UIDVALIDITY=1700000000/;UID=42"


def test_parse_the_contract_example() -> None:
    ref = MessageRef.parse(REF)
    assert (ref.folder, ref.uidvalidity, ref.uid, ref.user, ref.host) == (
        "INBOX",
        1700000000,
        42,
        "alice@example.org",
        "imap.example.org",
    )
    assert str(ref) == REF


@given(
    folder=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"), min_size=1),
    uidvalidity=st.integers(1, 2**32 - 1),
    uid=st.integers(1, 2**32 - 1),
)
def test_any_folder_name_round_trips(folder: str, uidvalidity: int, uid: int) -> None:
    ref = MessageRef(folder, uidvalidity, uid, "a@b.c", "host")
    assert MessageRef.parse(str(ref)) == ref


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "INBOX/42",
        "imap://h/INBOX;UID=1",
        "imap://h/INBOX;UIDVALIDITY=0/;UID=1",
        "imap://h/;UIDVALIDITY=1/;UID=1",
        "imap://h/IN%0D%0ABOX;UIDVALIDITY=1/;UID=1",
        REF + "\r\n",
    ],
)
def test_malformed_refs_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        MessageRef.parse(bad)


def test_refs_accept_one_a_list_a_dataframe_or_a_row() -> None:
    other = REF.replace("UID=42", "UID=43")
    frame = pd.DataFrame({"ref": [REF, other], "subject": ["a", "b"]})
    assert [r.uid for r in normalize_refs(REF)] == [42]
    assert [r.uid for r in normalize_refs([REF, other, REF])] == [42, 43]
    assert [r.uid for r in normalize_refs(frame)] == [42, 43]
    assert [r.uid for r in normalize_refs(frame.iloc[1])] == [43]
    assert [r.uid for r in normalize_refs(frame["ref"])] == [42, 43]


def test_an_empty_selection_is_an_error_not_a_no_op() -> None:
    with pytest.raises(InvalidInputError, match="no messages selected"):
        normalize_refs(pd.DataFrame({"ref": []}))
    with pytest.raises(InvalidInputError, match="'ref' column"):
        normalize_refs(pd.DataFrame({"uid": [1]}))
    with pytest.raises(InvalidInputError):
        normalize_refs(42)


def test_uid_sets_are_compact_and_short() -> None:
    assert compress_uids([5, 1, 2, 3, 9, 10]) == ["1:3", "5", "9:10"]
    sets = uid_sets(range(1, 200_000, 2), max_length=1000)
    assert all(len(s) <= 1000 for s in sets)
    assert sum(len(s.split(",")) for s in sets) == 100_000
