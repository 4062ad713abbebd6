"""``conn.thread(ref)`` without a cache: the ref's conversation from its folder, oldest first.

Two passes over the selected folder: the links of every message (Message-ID, In-Reply-To,
References: a few hundred bytes each), from which ``threads.thread_ids`` finds the ref's
thread; then the search rows of only that thread's messages. The thread is closed under
its links, so its ``thread_id`` is the one a search of the whole folder gives its rows.
"""

from __future__ import annotations

import imaplib
from collections.abc import Collection
from typing import Any

import pandas as pd

from ..errors import StaleReferenceError
from ..refs import MessageRef
from ..threads import thread_ids
from .commands import fetch_commands, pipeline
from .fetch import fetch_rows, uid_search
from .frame import HeaderColumns, build_frame
from .program import SearchCriteria
from .wire import Wire

LINK_ITEMS = b"(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO REFERENCES)])"
_LINK_BATCH = 5000


def folder_links(imap: imaplib.IMAP4, uids: Collection[int]) -> dict[int, tuple[str, str, str]]:
    """{uid: (message_id, in_reply_to, references)} of ``uids`` in the selected folder."""
    wanted = set(uids)
    found: dict[int, bytes | None] = {}

    def on_fetch(items: dict[bytes, Any]) -> None:
        raw_uid = items.get(b"UID")
        if isinstance(raw_uid, bytes) and raw_uid.isdigit() and int(raw_uid) in wanted and b"HEADER" in items:
            header = items[b"HEADER"]
            found[int(raw_uid)] = header if isinstance(header, bytes) else None

    if wanted:
        pipeline(Wire(imap), fetch_commands(sorted(wanted), LINK_ITEMS, _LINK_BATCH), on_fetch, None)
    order = sorted(found)
    columns = HeaderColumns()
    columns.extend([found[uid] for uid in order])
    return {uid: (columns.message_id[i], columns.in_reply_to[i], columns.references[i]) for i, uid in enumerate(order)}


def oldest_first(frame: pd.DataFrame) -> pd.DataFrame:
    """By date (received when the Date header is unusable), then UID, oldest first."""
    key = frame["date"].fillna(frame["received"])
    order = pd.DataFrame({"key": key, "uid": frame["uid"]}).sort_values(
        ["key", "uid"], ascending=True, na_position="first", kind="stable"
    )
    ordered: pd.DataFrame = frame.loc[order.index].reset_index(drop=True)
    return ordered


def thread_members(links: dict[int, tuple[str, str, str]], uid: int, *, prefix: str) -> list[int]:
    """The UIDs sharing ``uid``'s thread, from the links of the whole folder."""
    uids = sorted(links)
    names = thread_ids(
        [links[u][0] for u in uids], [links[u][1] for u in uids], [links[u][2] for u in uids],
        [prefix + str(u) for u in uids],
    )  # fmt: skip
    mine = names[uids.index(uid)]
    return [u for u, name in zip(uids, names, strict=True) if name == mine]


def thread_rows(
    imap: imaplib.IMAP4,
    ref: MessageRef,
    *,
    esearch: bool,
    user: str,
    host: str,
) -> pd.DataFrame:
    """The rows of ``ref``'s thread in its folder (selected, UIDVALIDITY checked), oldest first."""
    everything = uid_search(imap, SearchCriteria(()), esearch=esearch)
    links = folder_links(imap, everything)
    if ref.uid not in links:
        raise StaleReferenceError(
            f"the message {str(ref)!r} no longer exists (moved or deleted). Search again.", ref=str(ref)
        )
    prefix = str(MessageRef(ref.folder, ref.uidvalidity, 1, user, host))[:-1]
    members = thread_members(links, ref.uid, prefix=prefix)
    columns = fetch_rows(imap, members)
    frame = build_frame(columns, folder=ref.folder, uidvalidity=ref.uidvalidity, user=user, host=host)
    return oldest_first(frame)
