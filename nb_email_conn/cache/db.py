"""The index file: SQLite (stdlib), one row per message of each synced folder, header columns only.

Every sync of a folder is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): its rows and
the folder's new watermark (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ) are written together or
not at all, so a sync killed halfway leaves the previous state, which the next sync brings
up to date; a torn sync is never read. WAL journal, so a reader in another kernel never
waits for a writer. What a row holds is exactly what the uncached search path produces
(``ROW_FIELDS`` of ``imap/rows.py`` and References); when that changes (``fingerprint``) the
whole index is dropped and rebuilt rather than read in an old shape.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["STORED", "FolderState", "IndexDB", "Row"]

# What a row stores, in order, after its folder and UID (the columns build_frame takes).
STORED = (
    "flags", "size", "internaldate", "has_attachments", "date", "from_name", "from_addr", "to", "cc",
    "subject", "message_id", "in_reply_to", "references",
)  # fmt: skip
Row = tuple[Any, ...]  # STORED values: flags as a tuple of str, has_attachments as bool
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (
    name TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    uidnext INTEGER NOT NULL,
    highestmodseq INTEGER NOT NULL,
    messages INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    folder TEXT NOT NULL, uid INTEGER NOT NULL,
    flags TEXT NOT NULL, size INTEGER NOT NULL, internaldate TEXT NOT NULL, has_attachments INTEGER NOT NULL,
    date TEXT NOT NULL, from_name TEXT NOT NULL, from_addr TEXT NOT NULL, to_ TEXT NOT NULL, cc TEXT NOT NULL,
    subject TEXT NOT NULL, message_id TEXT NOT NULL, in_reply_to TEXT NOT NULL, refs TEXT NOT NULL,
    PRIMARY KEY (folder, uid)
) WITHOUT ROWID;
"""
_COLUMNS = (
    "flags, size, internaldate, has_attachments, date, from_name, from_addr, to_, cc, subject, message_id, "
    "in_reply_to, refs"
)
_INSERT = f"INSERT OR REPLACE INTO messages (folder, uid, {_COLUMNS}) VALUES ({', '.join('?' * 15)})"  # noqa: S608
_LOAD = f"SELECT uid, {_COLUMNS} FROM messages WHERE folder = ? ORDER BY uid"  # noqa: S608 - constants only


@dataclass(frozen=True)
class FolderState:
    """A folder's watermark: what the index holds is the server's state as of these values."""

    name: str
    uidvalidity: int
    uidnext: int
    highestmodseq: int  # 0: the server has no CONDSTORE (flags are refreshed in full)
    messages: int


class IndexDB:
    """One connection's index file."""

    def __init__(self, path: Path, *, account: str, fingerprint: str) -> None:
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        wanted = {"schema": SCHEMA_VERSION, "account": account, "rows": fingerprint}
        found = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if found != wanted:  # another account, an older layout, or other fields: start over
            with self.transaction():
                self._db.execute("DELETE FROM messages")
                self._db.execute("DELETE FROM folders")
                self._db.execute("DELETE FROM meta")
                self._db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(wanted.items()))

    # -- transactions ---------------------------------------------------------------------
    def transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def data_version(self) -> int:
        """Changes when another connection (another kernel) commits to the file."""
        value: int = self._db.execute("PRAGMA data_version").fetchone()[0]
        return value

    def close(self) -> None:
        self._db.close()

    # -- reading --------------------------------------------------------------------------
    def folders(self) -> dict[str, FolderState]:
        rows = self._db.execute("SELECT name, uidvalidity, uidnext, highestmodseq, messages FROM folders").fetchall()
        return {row[0]: FolderState(*row) for row in rows}

    def load(self, folder: str) -> dict[int, Row]:
        """{uid: row} of ``folder``, in ascending UID order."""
        cursor = self._db.execute(_LOAD, (folder,))
        flag_sets: dict[str, tuple[str, ...]] = {}
        rows: dict[int, Row] = {}
        for uid, flags, *rest in cursor:
            flag_tuple = flag_sets.get(flags)
            if flag_tuple is None:
                flag_tuple = flag_sets[flags] = tuple(flags.split(" ")) if flags else ()
            rest[2] = bool(rest[2])
            rows[uid] = (flag_tuple, *rest)
        return rows

    # -- writing (inside a transaction) -----------------------------------------------------
    def drop_folder(self, folder: str) -> None:
        self._db.execute("DELETE FROM messages WHERE folder = ?", (folder,))
        self._db.execute("DELETE FROM folders WHERE name = ?", (folder,))

    def put_rows(self, folder: str, rows: Mapping[int, Row]) -> None:
        self._db.executemany(
            _INSERT, ((folder, uid, " ".join(row[0]), *row[1:3], int(row[3]), *row[4:]) for uid, row in rows.items())
        )

    def delete_rows(self, folder: str, uids: Iterable[int]) -> None:
        self._db.executemany("DELETE FROM messages WHERE folder = ? AND uid = ?", ((folder, uid) for uid in uids))

    def set_flags(self, folder: str, flags: Mapping[int, Sequence[str]]) -> None:
        self._db.executemany(
            "UPDATE messages SET flags = ? WHERE folder = ? AND uid = ?",
            ((" ".join(value), folder, uid) for uid, value in flags.items()),
        )

    def set_state(self, state: FolderState) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO folders (name, uidvalidity, uidnext, highestmodseq, messages) "
            "VALUES (?, ?, ?, ?, ?)",
            (state.name, state.uidvalidity, state.uidnext, state.highestmodseq, state.messages),
        )


class _Transaction:
    """``with db.transaction():`` commits on success, rolls back on any exception (also KeyboardInterrupt)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
