"""``threads.thread_ids`` on hand-made chains, without a server."""

from __future__ import annotations

import pytest

from nb_email_conn.threads import message_ids, thread_ids


def ids(*rows: tuple[str, str, str]) -> list[str]:
    """Thread ids of rows given as (Message-ID, In-Reply-To, References)."""
    return thread_ids(
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [f"ref{i}" for i in range(len(rows))]
    )


def groups(*rows: tuple[str, str, str]) -> list[int]:
    """Each row's thread as the index of the first row in it (easy to compare)."""
    found = ids(*rows)
    return [found.index(value) for value in found]


def test_message_ids_read_brackets_folding_and_junk() -> None:
    assert message_ids("<a@x> (Bob's message of Monday)") == ["a@x"]
    assert message_ids("<a@x>\r\n\t<b@x>  <c@x>") == ["a@x", "b@x", "c@x"]
    assert message_ids("<long-\r\n id@x>") == ["long-id@x"]
    assert message_ids("a@x b@x") == ["a@x", "b@x"]
    assert message_ids("12345", bare=True) == ["12345"]
    assert message_ids("not an id") == []
    assert message_ids("") == []


def test_a_full_chain_is_one_thread_and_ids_are_short_hex() -> None:
    found = ids(("<a@x>", "", ""), ("<b@x>", "<a@x>", "<a@x>"), ("<c@x>", "<b@x>", "<a@x> <b@x>"))
    assert len(set(found)) == 1
    assert len(found[0]) == 16 and int(found[0], 16) >= 0


def test_missing_middle_and_absent_root_still_link() -> None:
    # b is not in the folder; c and d name it; e and f share only an absent root r.
    assert groups(
        ("<a@x>", "", ""),
        ("<c@x>", "<b@x>", "<a@x> <b@x>"),
        ("<d@x>", "<b@x>", ""),
        ("<e@x>", "<q@x>", "<r@x> <q@x>"),
        ("<f@x>", "<r@x>", "<r@x>"),
    ) == [0, 0, 0, 3, 3]


def test_in_reply_to_only_chains_link_through_present_messages() -> None:
    assert groups(("<c@x>", "<b@x>", ""), ("<b@x>", "<a@x>", ""), ("<a@x>", "", "")) == [0, 0, 0]


def test_subject_never_links_and_no_ids_is_a_thread_of_its_own() -> None:
    found = ids(("<a@x>", "", ""), ("<b@x>", "", ""), ("", "", ""), ("", "", ""))
    assert len(set(found)) == 4


def test_a_message_without_message_id_replying_joins_the_thread() -> None:
    assert groups(("<a@x>", "", ""), ("", "<a@x>", ""), ("", "", "<a@x>")) == [0, 0, 0]


def test_cycles_and_duplicates_end() -> None:
    assert groups(("<x@x>", "<y@x>", "<y@x>"), ("<y@x>", "<x@x>", "<x@x>"), ("<x@x>", "", "")) == [0, 0, 0]


def test_a_later_message_merges_two_threads_and_truncated_references_keep_in_reply_to() -> None:
    assert groups(
        ("<a@x>", "", ""),
        ("<b@x>", "", ""),
        ("<m@x>", "<b@x>", "<a@x> <b@x>"),
        # References cut to its first id; In-Reply-To still names the parent
        ("<n@x>", "<k@x>", "<z@x>"),
        ("<k@x>", "", "<b@x>"),
    ) == [0, 0, 0, 0, 0]


@pytest.mark.parametrize("subset", [[0, 1, 2, 3], [1, 2, 3], [0, 3], [2], [3, 0, 2]])
def test_a_threads_id_does_not_depend_on_which_of_its_full_chain_messages_are_present(subset: list[int]) -> None:
    chain = [
        ("<a@x>", "", ""),
        ("<b@x>", "<a@x>", "<a@x>"),
        ("<c@x>", "<b@x>", "<a@x> <b@x>"),
        ("<d@x>", "<c@x>", "<a@x> <b@x> <c@x>"),
    ]
    whole = ids(*chain)[0]
    assert set(ids(*(chain[i] for i in subset))) == {whole}


def test_without_references_column_in_reply_to_still_links() -> None:
    found = thread_ids(["<a@x>", "<b@x>"], ["", "<a@x>"], None, ["r1", "r2"])
    assert found[0] == found[1]
