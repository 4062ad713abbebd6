"""A search on a cached connection: sync the folder, let the server match, take the rows from the index.

The server still decides which messages match (one ``UID SEARCH``, or ``UID SORT`` for a
``limit``, exactly as uncached), so every query means what it means uncached (body text
included); only the rows come from the index instead of a FETCH of every match. The
whole folder without a query needs no command beyond the sync, and when nothing changed
its frame is reused. A UID the server names that the index lacks (it arrived after the
sync) is fetched as uncached. Rows go through the same ``build_frame``, so the frame,
``thread_id`` included, is the uncached one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError, StaleReferenceError
from ..imap.completeness import Gaps, find_gaps, report
from ..imap.fetch import fetch_rows, sort_search, uid_search
from ..imap.frame import build_frame, sort_newest_first
from ..imap.query import build_criteria
from ..imap.threads import oldest_first
from ..threads import id_threads, rethread
from .rows import columns_for, rows_from_columns

if TYPE_CHECKING:
    import imaplib

    import pandas as pd
    from imapclient import IMAPClient

    from ..imap.program import SearchCriteria
    from ..refs import MessageRef
    from .db import Row
    from .index import Folder, LocalIndex


def _frame(index: LocalIndex, folder: Folder, rows: Mapping[int, Row], uids: list[int]) -> pd.DataFrame:
    cfg = index.config
    return build_frame(
        columns_for(rows, uids),
        folder=folder.state.name,
        uidvalidity=folder.state.uidvalidity,
        user=cfg.username,
        host=cfg.imap_host.lower(),
    )


def whole_folder(index: LocalIndex, folder: Folder) -> pd.DataFrame:
    """Every message of the folder, newest first: built once, then brought up to date by its changes."""
    if folder.frame is None:
        folder.frame = frame = _frame(index, folder, folder.rows, list(folder.rows))
        references = [folder.rows[uid][12] for uid in frame["uid"].tolist()]  # STORED[12]: References
        folder.links = id_threads(
            frame["message_id"].tolist(), frame["in_reply_to"].tolist(), references, frame["thread_id"].tolist()
        )
    elif folder.touched or folder.gone:
        folder.frame = _updated(index, folder, folder.frame)
    folder.touched, folder.gone, folder.relinked = set(), set(), False
    copy: pd.DataFrame = folder.frame.copy()
    return copy


def _updated(index: LocalIndex, folder: Folder, old: pd.DataFrame) -> pd.DataFrame:
    """``old`` with the rows that changed rebuilt, the vanished ones out, in order; the same frame a
    build of every row gives (when messages came or went, the thread ids of the conversations they
    touched are worked out again: ``threads.rethread``)."""
    import numpy as np
    import pandas as pd

    changed = old["uid"].isin(folder.touched | folder.gone).to_numpy()
    thread_of = dict(zip(old["uid"][changed].tolist(), old["thread_id"][changed].tolist(), strict=True))
    fresh = _frame(index, folder, folder.rows, [uid for uid in folder.touched if uid in folder.rows])
    fresh_names = [thread_of.get(uid) for uid in fresh["uid"].tolist()]  # None: a new message
    fresh["thread_id"] = pd.array(fresh_names, dtype="string")
    keep = np.concatenate([~changed, np.ones(len(fresh), dtype=bool)])  # the old rows rebuilt or gone go
    frame = sort_newest_first(pd.concat([old, fresh], ignore_index=True), keep)
    if folder.relinked:
        uids = frame["uid"].tolist()
        names = frame["thread_id"].tolist()
        found = rethread(
            frame["message_id"].tolist(), frame["in_reply_to"].tolist(),
            [folder.rows[uid][12] for uid in uids], frame["ref"].tolist(),  # STORED[12]: References
            [None if name is pd.NA else name for name in names],
            {thread_of[uid] for uid in folder.gone if uid in thread_of}, folder.links,
        )  # fmt: skip
        frame["thread_id"] = pd.array(found, dtype="string")
    return frame


def _rows_for(imap: imaplib.IMAP4, folder: Folder, uids: list[int]) -> Mapping[int, Row]:
    """The index's rows, plus a fetch of any named UID it lacks (arrived since the sync)."""
    missing = [uid for uid in uids if uid not in folder.rows]
    if not missing:
        return folder.rows
    return {**folder.rows, **rows_from_columns(fetch_rows(imap, missing))}


def _passes(row: Row, wanted: bool | None) -> bool:
    return wanted is None or row[3] == wanted  # STORED[3] is has_attachments


def answer(
    index: LocalIndex,
    client: IMAPClient,
    imap: imaplib.IMAP4,
    folder: Folder,
    program: SearchCriteria,
    limit: int | None,
) -> pd.DataFrame:
    """The search result for ``program`` in the synced ``folder`` (see the module docstring), with
    ``attrs`` as an uncached search sets them (``imap/completeness.py``)."""
    frame, asked, rows = _answer(index, client, imap, folder, program, limit)
    absent = [uid for uid in asked if uid not in rows]  # named by the server, no row: gone meanwhile, or unreadable
    cfg = index.config
    return report(
        frame, find_gaps(imap, absent, ()) if absent else Gaps(), folder=folder.state.name,
        uidvalidity=folder.state.uidvalidity, user=cfg.username, host=cfg.imap_host.lower(),
    )  # fmt: skip


def _answer(
    index: LocalIndex,
    client: IMAPClient,
    imap: imaplib.IMAP4,
    folder: Folder,
    program: SearchCriteria,
    limit: int | None,
) -> tuple[pd.DataFrame, list[int], Mapping[int, Row]]:
    """(the frame, the UIDs the server named, the rows they were looked up in)."""
    caps = index.capabilities()
    everything = not program.tokens
    wanted = program.has_attachment
    if everything and limit is None and wanted is None:
        return whole_folder(index, folder), [], folder.rows
    literal_plus, esearch = "LITERAL+" in caps or "LITERAL-" in caps, "ESEARCH" in caps
    if not everything or (limit is not None and "SORT" in caps):
        index.select(client, imap, folder.state.name)
    if limit is not None and "SORT" in caps:
        ordered = sort_search(imap, program, literal_plus=literal_plus)
        rows = _rows_for(imap, folder, ordered)
        chosen = [uid for uid in ordered if uid in rows and _passes(rows[uid], wanted)][:limit]
        return _frame(index, folder, rows, chosen), ordered, rows
    uids = list(folder.rows) if everything else uid_search(imap, program, esearch=esearch, literal_plus=literal_plus)
    rows = _rows_for(imap, folder, uids)
    present = [uid for uid in uids if uid in rows and _passes(rows[uid], wanted)]
    frame = _frame(index, folder, rows, present)
    if limit is not None:  # no SORT: the newest as the uncached path orders them (Date, else INTERNALDATE, UID)
        frame = _frame(index, folder, rows, [int(uid) for uid in frame["uid"][:limit]])  # build_frame: newest first
    return frame, uids, rows


def _synced(index: LocalIndex, client: IMAPClient, imap: imaplib.IMAP4, name: str, progress: bool) -> Folder:
    index.sync_folder(client, imap, name, progress=progress)
    synced = index.folder(name)
    if synced is None:  # deleted on the server since it was listed
        index.session.forget_folders()
        raise InvalidInputError(f"there is no folder {name!r} on this account (any more).", field="folder")
    return synced


def cached_search(
    index: LocalIndex, query: str | None, *, folder: str, limit: int | None, criteria: Mapping[str, Any], progress: bool
) -> pd.DataFrame:
    """``search_emails`` on a cached connection."""
    program = build_criteria(query, criteria)  # InvalidInputError here: nothing was sent
    target = index.session.resolve_folder(folder)

    def work(client: IMAPClient, imap: imaplib.IMAP4) -> pd.DataFrame:
        return answer(index, client, imap, _synced(index, client, imap, target, progress), program, limit)

    frame: pd.DataFrame = index.run(f"searching {target!r}", work)
    return frame


def cached_thread(index: LocalIndex, ref: MessageRef) -> pd.DataFrame:
    """``thread(ref)`` on a cached connection: the synced folder's rows sharing the ref's thread_id, oldest first."""
    target = index.session.resolve_folder(ref.folder, "ref")

    def work(client: IMAPClient, imap: imaplib.IMAP4) -> pd.DataFrame:
        synced = _synced(index, client, imap, target, False)
        if synced.state.uidvalidity != ref.uidvalidity or ref.uid not in synced.rows:
            raise StaleReferenceError(
                f"the message {str(ref)!r} no longer exists (moved or deleted). Search again.", ref=str(ref)
            )
        return whole_folder(index, synced)

    frame: pd.DataFrame = index.run(f"reading the thread in {target!r}", work)
    mine = frame.loc[frame["uid"] == ref.uid, "thread_id"].iloc[0]
    return oldest_first(frame[frame["thread_id"] == mine])
