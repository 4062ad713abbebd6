"""The synced local index of one connection: ``EmailConnection(cfg, cache=True)``.

It holds the search columns of every message of the folders it has synced, in an SQLite
file (``db.py``) and, for speed, in memory. It has its own IMAP session, so enabling
QRESYNC there changes nothing for the connection's other work. A sync of a folder:

1. nothing selected on that session, ``STATUS``: with CONDSTORE, the same UIDVALIDITY,
   UIDNEXT, MESSAGES and HIGHESTMODSEQ as the index's watermark means nothing changed
   (one round trip); a new UIDVALIDITY drops the folder's rows (the folder was recreated);
   a refused STATUS drops the folder (it was deleted);
2. ``EXAMINE`` with QRESYNC (vanished UIDs and changed flags in its answer), or CONDSTORE
   (``CHANGEDSINCE``, and a ``UID SEARCH`` for what is gone), or neither (every known
   message's flags);
3. the messages from the old UIDNEXT on, fetched by the uncached search's own fetch;
4. one transaction: rows removed, flags changed, rows added and the new watermark (the
   HIGHESTMODSEQ the EXAMINE reported, from before anything was read); if another kernel
   synced the folder meanwhile, the sync is done again on top of its result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import EmailConnError
from ..imap.internals import raw_imap
from ..imap.session import ImapSession
from . import server
from .db import FolderState, IndexDB, Row
from .files import index_path, remove_cache
from .rows import fingerprint, rows_from_columns

if TYPE_CHECKING:
    import imaplib

    import pandas as pd
    from imapclient import IMAPClient

    from ..config import ConnectionConfig
    from ..progress import Progress as ProgressDisplay

__all__ = ["LocalIndex", "SyncReport"]

PROGRESS_THRESHOLD = 5_000  # new messages in one sync before a progress bar is shown
_ATTEMPTS = 3


@dataclass(frozen=True)
class SyncReport:
    """What a sync found: messages that appeared (``new``), that are gone (``vanished``), whose flags
    changed (``changed``: present before and after), and how long it took."""

    new: int = 0
    changed: int = 0
    vanished: int = 0
    seconds: float = 0.0

    def __add__(self, other: SyncReport) -> SyncReport:
        return SyncReport(
            self.new + other.new,
            self.changed + other.changed,
            self.vanished + other.vanished,
            self.seconds + other.seconds,
        )


@dataclass
class Folder:
    """One synced folder in memory: its watermark, its rows by ascending UID, and the whole-folder frame
    once built, with what changed since (applied when the frame is next asked for: ``answer.whole_folder``)."""

    state: FolderState
    rows: dict[int, Row]
    frame: pd.DataFrame | None = field(default=None, repr=False)
    touched: set[int] = field(default_factory=set)  # UIDs new or with new flags since the frame was built
    gone: set[int] = field(default_factory=set)  # UIDs vanished since
    relinked: bool = False  # messages came or went: the thread ids are to be worked out again
    links: dict[str, str] = field(default_factory=dict, repr=False)  # the frame's threads.id_threads


class _Conflict(Exception):
    """Another kernel synced the folder while this sync was reading the server."""


class LocalIndex:
    """The index of one connection (see the module docstring). Thread-safe; one lock for everything."""

    def __init__(self, config: ConnectionConfig, credential: Callable[[], str]) -> None:
        self.config = config
        self.session = ImapSession(config, credential)
        self.lock = threading.RLock()
        self._db: IndexDB | None = None
        self._data_version = -1
        self._memory: dict[str, Folder] = {}
        self._qresync_on: object | None = None  # the client on which ENABLE QRESYNC was accepted
        self._selected: tuple[object, str] | None = None  # (client, folder) selected on the session

    def __repr__(self) -> str:
        return f"<LocalIndex {self.config.name!r} folders={sorted(self._memory)}>"

    # -- the file ------------------------------------------------------------------------------
    @property
    def db(self) -> IndexDB:
        if self._db is None:
            cfg = self.config
            account = f"{cfg.username.lower()}@{cfg.imap_host.lower()}:{cfg.imap_port}"
            self._db = IndexDB(index_path(cfg.name), account=account, fingerprint=fingerprint())
        version = self._db.data_version()
        if version != self._data_version:  # another kernel wrote to the file: read it again
            self._memory.clear()
            self._data_version = version
        return self._db

    def folder(self, name: str) -> Folder | None:
        """The folder as the index holds it (None when never synced)."""
        db = self.db
        entry = self._memory.get(name)
        if entry is None:
            state = db.folders().get(name)
            if state is None:
                return None
            entry = self._memory[name] = Folder(state, db.load(name))
        return entry

    def clear(self) -> None:
        """Forget everything: the file is deleted, memory emptied (the next search syncs afresh)."""
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self._memory.clear()
            self._data_version = -1
            remove_cache(self.config.name)

    def close(self) -> None:
        with self.lock:
            self.session.close()
            if self._db is not None:
                self._db.close()
                self._db = None
            self._memory.clear()

    # -- the session ---------------------------------------------------------------------------
    def run(self, action: str, work: Callable[[IMAPClient, imaplib.IMAP4], Any]) -> Any:
        """``work(client, imap)`` on the index's session, under the lock, retried once after a drop."""
        with self.lock:
            return self.session.run(action, lambda client: work(client, raw_imap(client)), idempotent=True)

    def capabilities(self) -> frozenset[str]:
        return self.session.capabilities

    def wire_name(self, folder: str) -> bytes:
        wire_name = getattr(self.session, "wire_name", None)  # the session's listed bytes, where it keeps them
        if wire_name is not None:
            name: bytes = wire_name(folder)
            return name
        from imapclient import imap_utf7

        encoded: bytes = imap_utf7.encode(folder)
        return encoded

    def _condstore(self) -> bool:
        caps = self.capabilities()
        return "CONDSTORE" in caps or "QRESYNC" in caps

    def _qresync(self, client: IMAPClient, imap: imaplib.IMAP4) -> bool:
        if "QRESYNC" not in self.capabilities():
            return False
        if self._qresync_on is not client:
            self._qresync_on = client if server.enable_qresync(imap) else None
        return self._qresync_on is client

    def select(self, client: IMAPClient, imap: imaplib.IMAP4, folder: str) -> None:
        """Open ``folder`` read-only on the session, unless it already is."""
        if self._selected != (client, folder):
            self._selected = None
            server.examine(imap, self.wire_name(folder), condstore=False, qresync=None, literal_plus=self._lp())
            self._selected = (client, folder)

    def _lp(self) -> bool:
        caps = self.capabilities()
        return "LITERAL+" in caps or "LITERAL-" in caps

    # -- syncing -------------------------------------------------------------------------------
    def sync(self, folders: list[str] | None, *, progress: bool = False) -> SyncReport:
        """Sync ``folders`` (resolved names), or every folder in the index (INBOX when it is empty)."""
        started = time.perf_counter()
        with self.lock:
            if folders is None:
                folders = sorted(self.db.folders()) or [self.session.resolve_folder("INBOX")]

            def work(client: IMAPClient, imap: imaplib.IMAP4) -> SyncReport:
                total = SyncReport()
                for name in folders:
                    total += self.sync_folder(client, imap, name, progress=progress)
                return total

            report: SyncReport = self.run("syncing the local index", work)
        return SyncReport(report.new, report.changed, report.vanished, time.perf_counter() - started)

    def sync_folder(self, client: IMAPClient, imap: imaplib.IMAP4, name: str, *, progress: bool = False) -> SyncReport:
        """Bring one folder up to date (see the module docstring)."""
        for _ in range(_ATTEMPTS):
            try:
                return self._sync_folder(client, imap, name, progress)
            except _Conflict:
                self._memory.pop(name, None)  # read what the other kernel wrote, and sync on top of it
        raise EmailConnError(
            f"the local index of {name!r} kept changing under this sync (another kernel syncing it?); try again."
        )

    def _sync_folder(self, client: IMAPClient, imap: imaplib.IMAP4, name: str, progress: bool) -> SyncReport:
        caps = self.capabilities()
        condstore = self._condstore()
        qresync = self._qresync(client, imap)
        raw, lp = self.wire_name(name), self._lp()
        known = self.folder(name)
        based_on = known.state if known is not None else None
        if self._selected is not None:  # a fresh STATUS: the selected view may predate a recreation
            self._selected = None
            server.unselect(imap, has_unselect="UNSELECT" in caps)
        status = server.status(imap, raw, condstore=condstore, literal_plus=lp)
        if status is None:  # the folder is gone
            if known is not None:
                self._commit(name, based_on, None, drop=True)
            return SyncReport(vanished=len(known.rows) if known else 0)
        dropped = 0
        if known is not None and status.uidvalidity != known.state.uidvalidity:
            dropped, known = len(known.rows), None
        if known is not None and condstore and status.highestmodseq and _unchanged(known.state, status):
            return SyncReport()

        use_qresync = qresync and known is not None and known.state.highestmodseq > 0
        examined = server.examine(
            imap, raw, condstore=condstore,
            qresync=(known.state.uidvalidity, known.state.highestmodseq) if use_qresync and known else None,
            literal_plus=lp,
        )  # fmt: skip
        self._selected = (client, name)
        if known is not None and examined.uidvalidity != known.state.uidvalidity:
            dropped, known = len(known.rows), None
        rows: dict[int, Row] = known.rows if known is not None else {}
        vanished, updates = self._changes(imap, known, examined, use_qresync, condstore)

        start = known.state.uidnext if known is not None else 1
        esearch = "ESEARCH" in caps
        new_uids = [uid for uid in server.uids_from(imap, start, esearch=esearch) if uid not in rows]
        new_rows = self._fetch_new(imap, name, new_uids, progress)
        changed = {uid: flags for uid, flags in updates.items() if uid in rows and rows[uid][0] != flags}
        for uid in vanished:
            changed.pop(uid, None)
        uidnext = max(examined.uidnext, start, (max(new_rows) + 1) if new_rows else 0)
        modseq = examined.highestmodseq if condstore else 0
        state = FolderState(name, examined.uidvalidity, uidnext, modseq, examined.exists)
        self._commit(name, based_on, state, drop=known is None, vanished=vanished, changed=changed, new=new_rows)
        return SyncReport(new=len(new_rows), changed=len(changed), vanished=len(vanished) + dropped)

    def _changes(
        self, imap: imaplib.IMAP4, known: Folder | None, examined: server.Examined, use_qresync: bool, condstore: bool
    ) -> tuple[set[int], dict[int, tuple[str, ...]]]:
        """(vanished UIDs, new flags) of the messages the index holds."""
        if known is None or not known.rows:
            return set(), {}
        uids = list(known.rows)
        last = known.state.uidnext - 1
        if use_qresync:
            return server.in_ranges(uids, examined.vanished), examined.flags
        if condstore and known.state.highestmodseq and examined.highestmodseq:
            updates = server.flags_of(imap, last, changed_since=known.state.highestmodseq)
            present = set(server.uids_from(imap, 1, esearch="ESEARCH" in self.capabilities()))
            return set(uids) - present, updates
        updates = server.flags_of(imap, last, changed_since=None)  # every message 1..last answers
        return set(uids) - set(updates), updates

    def _fetch_new(self, imap: imaplib.IMAP4, folder: str, uids: list[int], progress: bool) -> dict[int, Row]:
        if not uids:
            return {}
        from ..imap.fetch import fetch_rows

        reporter: ProgressDisplay | None = None
        if progress and len(uids) >= PROGRESS_THRESHOLD:
            from ..progress import progress_reporter

            reporter = progress_reporter(len(uids), f"Indexing {folder}")
        try:
            columns = fetch_rows(imap, uids, progress=(lambda done, total: reporter.update(done)) if reporter else None)
        finally:
            if reporter is not None:
                reporter.close()
        return rows_from_columns(columns)

    def _commit(
        self,
        name: str,
        based_on: FolderState | None,
        state: FolderState | None,
        *,
        drop: bool,
        vanished: set[int] | None = None,
        changed: dict[int, tuple[str, ...]] | None = None,
        new: dict[int, Row] | None = None,
    ) -> None:
        """Write one folder's sync in one transaction, then apply it to memory."""
        db = self.db
        with db.transaction():
            if db.folders().get(name) != based_on:
                raise _Conflict(name)
            if drop:
                db.drop_folder(name)
            if state is None:
                self._memory.pop(name, None)
                return
            db.delete_rows(name, vanished or ())
            db.set_flags(name, changed or {})
            db.put_rows(name, new or {})
            db.set_state(state)
        entry = None if drop else self._memory.get(name)
        rows = {} if entry is None else entry.rows
        gone, changed, new = vanished or set(), changed or {}, new or {}
        for uid in gone:
            rows.pop(uid, None)
        for uid, flags in changed.items():
            rows[uid] = (flags, *rows[uid][1:])
        rows.update(new)
        if entry is None or entry.frame is None:
            self._memory[name] = Folder(state, rows)
            return
        touched = (entry.touched | changed.keys() | new.keys()) - gone
        relinked = entry.relinked or bool(gone or new)
        self._memory[name] = Folder(state, rows, entry.frame, touched, entry.gone | gone, relinked, entry.links)


def _unchanged(state: FolderState, status: server.Status) -> bool:
    now = (status.uidnext, status.messages, status.highestmodseq)
    return (state.uidnext, state.messages, state.highestmodseq) == now
