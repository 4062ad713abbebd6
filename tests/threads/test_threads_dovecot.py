"""``thread_id`` and ``conn.thread(ref)`` on hand-made tricky chains stored in Dovecot."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from servers.dovecot import DovecotServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready
from nb_email_conn.refs import MessageRef

pytestmark = pytest.mark.dovecot
ALICE = "alice@example.org"
BASE = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)


def raw(subject: str, day: int, message_id: str | None, **headers: str) -> bytes:
    lines = [
        "From: Bob <bob@example.org>",
        f"To: {ALICE}",
        f"Subject: {subject}",
        f"Date: {(BASE + timedelta(days=day)).strftime('%a, %d %b %Y %H:%M:%S %z')}",
    ]
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\nbody\r\n").encode()


# key -> (subject, Message-ID, extra headers, thread letter); message i is dated BASE + i days.
CHAINS: dict[str, tuple[str, str | None, dict[str, str], str]] = {
    # A: a full chain, the second reply's References folded over two lines
    "a1": ("A1 hello", "<a1@x>", {}, "A"),
    "a2": ("Re: A1 hello", "<a2@x>", {"In_Reply_To": "<a1@x>", "References": "<a1@x>"}, "A"),
    "a3": ("Re: Re: A1 hello", "<a3@x>", {"In_Reply_To": "<a2@x>", "References": "<a1@x>\r\n <a2@x>"}, "A"),
    # B: the root and the middle message never arrived; two replies share only the absent root id
    "b3": ("B reply one", "<b3@x>", {"In_Reply_To": "<b2@x>", "References": "<b1@x> <b2@x>"}, "B"),
    "b4": ("B reply two", "<b4@x>", {"In_Reply_To": "<b9@x>", "References": "<b1@x> <b9@x>"}, "B"),
    # C: In-Reply-To only, with a comment after the id, no References at all
    "c1": ("C start", "<c1@x>", {}, "C"),
    "c2": ("Re: C start", "<c2@x>", {"In_Reply_To": "<c1@x> (Bob's message of Monday)"}, "C"),
    "c3": ("Re: Re: C start", "<c3@x>", {"In_Reply_To": "<c2@x>"}, "C"),
    # D and E: A's subjects, no common id: never joined by subject
    "d1": ("Re: A1 hello", "<d1@x>", {}, "D"),
    "e1": ("A1 hello", "<e1@x>", {}, "E"),
    # F: no Message-ID at all, no parent: alone; G: no Message-ID, replying to C
    "f": ("F lonely", None, {}, "F"),
    "g": ("Re: Re: Re: C start", None, {"In_Reply_To": "<c3@x>"}, "C"),
}
KEYS = list(CHAINS)


def seed_chains(server: DovecotServer, folder: str = "INBOX") -> None:
    for day, (subject, message_id, headers, _) in enumerate(CHAINS.values()):
        server.append(ALICE, folder, raw(subject, day, message_id, **headers), date=BASE + timedelta(days=day))


def keys_of(frame: pd.DataFrame) -> list[str]:
    return [KEYS[(date - BASE).days] for date in frame["date"]]


def partition(frame: pd.DataFrame) -> dict[str, str]:
    """key -> the expected letter of the first message seen with its thread_id."""
    letters: dict[str, str] = {}
    result = {}
    for key, thread_id in zip(keys_of(frame), frame["thread_id"], strict=True):
        letters.setdefault(thread_id, CHAINS[key][3])
        result[key] = letters[thread_id]
    return result


def test_thread_returns_each_conversation_oldest_first(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    seed_chains(fresh_mailbox)
    everything = ready(conn.search_emails())
    assert everything["thread_id"].notna().all() and everything["thread_id"].dtype == "string"
    ref_of = dict(zip(keys_of(everything), everything["ref"], strict=True))
    names = set()
    for letter in "ABCDEF":
        members = [key for key, value in CHAINS.items() if value[3] == letter]
        for key in members:
            thread = ready(conn.thread(ref_of[key]))
            assert keys_of(thread) == members, (letter, key)  # oldest first: the seeding order
            assert thread["thread_id"].nunique() == 1
            assert list(thread.columns) == list(everything.columns)
        names.add(thread["thread_id"].iloc[0])
    assert len(names) == 6


def test_search_thread_ids_partition_the_folder_exactly(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    seed_chains(fresh_mailbox)
    everything = ready(conn.search_emails())
    found = partition(everything)
    assert found == {key: value[3] for key, value in CHAINS.items()}
    assert everything["thread_id"].nunique() == 6
    # the same ids as thread() gives, for every row; and in a search that holds only part of a thread
    for ref, thread_id in zip(everything["ref"], everything["thread_id"], strict=True):
        assert set(ready(conn.thread(ref))["thread_id"]) == {thread_id}
    part = ready(conn.search_emails(subject="B reply"))
    assert part["thread_id"].nunique() == 1
    assert set(part["thread_id"]) == set(everything.loc[everything["subject"].str.startswith("B reply"), "thread_id"])


def test_thread_of_a_gone_or_stale_message_raises(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    seed_chains(fresh_mailbox)
    ref = ready(conn.search_emails(subject="F lonely")).iloc[0]["ref"]
    with fresh_mailbox.client() as other:
        other.select_folder("INBOX")
        other.delete_messages(other.search(["SUBJECT", "F lonely"]))
        other.expunge()
    with pytest.raises(nec.StaleReferenceError):
        conn.thread(ref)
    parsed = MessageRef.parse(ref)
    stale = str(MessageRef(parsed.folder, parsed.uidvalidity + 1, parsed.uid, parsed.user, parsed.host))
    with pytest.raises(nec.StaleReferenceError):
        conn.thread(stale)


def test_thread_runs_under_search_emails_policy(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    seed_chains(fresh_mailbox)
    ref = ready(conn.search_emails(limit=1)).iloc[0]["ref"]
    conn.policies["search_emails"] = "disabled"
    with pytest.raises(nec.FunctionDisabledError):
        conn.thread(ref)


async def test_thread_async(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    seed_chains(fresh_mailbox)
    ref = (await conn.search_emails_async(subject="B reply two")).iloc[0]["ref"]
    thread = await conn.thread_async(ref)
    assert sorted(thread["subject"]) == ["B reply one", "B reply two"]
