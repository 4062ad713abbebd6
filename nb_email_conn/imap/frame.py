"""Search results as a pandas DataFrame, built column by column.

Also :class:`HeaderColumns`, the header fields of many messages decoded column by column
(values that repeat are decoded once). The decoding itself is ``message/headers.py``, the
same code ``get_email`` uses, so a search row and ``get_email`` read a header alike; the
date columns are parsed in ``dates.py``.

Column types (the same for an empty result):

====================  ==========================  =========================================
``ref``               string                      RFC 5092 IMAP URL naming the message
``folder``            string
``uid``               int64
``date``              datetime64[us, UTC]         Date header; NaT when missing or invalid
``received``          datetime64[us, UTC]         INTERNALDATE (when the server got it)
``from_name``         string                      "" when absent
``from_addr``         string
``to``, ``cc``        string                      bare addresses joined with ", "
``subject``           string
``flags``             object (tuple of str)       without ``\\Recent`` (it depends on the session)
``seen``              bool
``flagged``           bool
``answered``          bool
``size``              int64                       RFC822.SIZE in bytes
``has_attachments``   bool                        from BODYSTRUCTURE
``message_id``        string
``in_reply_to``       string
``thread_id``         string                      the conversation (``threads.py``); never NA
====================  ==========================  =========================================

Text columns use pandas' ``"string"`` dtype; a missing header is ``""`` (never NA), so
``df[df.subject.str.contains("x")]`` works without ``na=False``. Rows are newest first:
by ``date``, falling back to ``received`` when the Date header is unusable, then UID.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from ..message.headers import (
    BLANK,
    FIELD,
    FIELD_TEXT,
    addresses,
    clean_text,
    decode_text,
    decode_words,
    decode_words_one_by_one,
    field_text,
    first_address,
    parse_address_list,
    split_header_block,
    without_nul,
)
from ..refs import MessageRef
from ..threads import thread_ids
from .dates import DATETIME, header_dates, header_dates_one_by_one, internal_dates, internal_dates_one_by_one

__all__ = [
    "COLUMNS", "DTYPES", "HEADER_FIELDS", "HeaderColumns", "build_frame", "decode_words", "decode_words_one_by_one",
    "empty_frame", "header_dates", "header_dates_one_by_one", "header_values", "internal_dates",
    "internal_dates_one_by_one", "parse_address_list", "sort_newest_first", "split_header_block",
]  # fmt: skip

COLUMNS: tuple[str, ...] = (
    "ref", "folder", "uid", "date", "received", "from_name", "from_addr", "to", "cc", "subject",
    "flags", "seen", "flagged", "answered", "size", "has_attachments", "message_id", "in_reply_to", "thread_id",
)  # fmt: skip
_STRING: Final = "string"
DTYPES: dict[str, Any] = {
    **dict.fromkeys(COLUMNS, _STRING),
    "uid": "int64",
    "size": "int64",
    "date": DATETIME,
    "received": DATETIME,
    "flags": "object",
    "seen": "bool",
    "flagged": "bool",
    "answered": "bool",
    "has_attachments": "bool",
}
# The header fields fetched for a row, in the order HeaderColumns._fields returns them.
HEADER_FIELDS = ("date", "from", "to", "cc", "subject", "message-id", "in-reply-to", "references")

_FIELD_INDEX: dict[bytes, int] = {name.encode(): index for index, name in enumerate(HEADER_FIELDS)}
_NO_FIELDS: list[str | None] = [None] * len(HEADER_FIELDS)
# The usual spelling of each HEADER_FIELDS name (what most mail software writes), in that order.
_USUAL_ORDER = ("Date", "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References")
_USUAL_NAMES = frozenset(_USUAL_ORDER)


class HeaderColumns:
    """The decoded header fields of many messages, one list per column.

    The per-message work of a search, done column by column: values that repeat within a
    folder (senders, recipient lists, encoded subjects) are decoded once per distinct value,
    RFC 2047 decoding runs only where ``=?`` occurs, and dates stay text until
    :func:`header_dates` parses them all at once.
    """

    def __init__(self) -> None:
        self.date: list[str] = []
        self.from_name: list[str] = []
        self.from_addr: list[str] = []
        self.to: list[str] = []
        self.cc: list[str] = []
        self.subject: list[str] = []
        self.message_id: list[str] = []
        self.in_reply_to: list[str] = []
        self.references: list[str] = []  # as written (folded); only threads.py reads it
        self._names: dict[str, int] = {}  # raw field name (any case) -> index in HEADER_FIELDS, -1 if unused

    def columns(self) -> dict[str, list[str]]:
        return {
            "date": self.date, "from_name": self.from_name, "from_addr": self.from_addr, "to": self.to,
            "cc": self.cc, "subject": self.subject, "message_id": self.message_id, "in_reply_to": self.in_reply_to,
        }  # fmt: skip

    def extend(self, blocks: Sequence[bytes | None]) -> None:
        """Append the messages' header blocks (``None`` for a missing one: every field "")."""
        if not blocks:
            return
        rows = [self._fields(block) if block else _NO_FIELDS for block in blocks]
        date, sender, to, cc, subject, message_id, in_reply_to, references = zip(*rows, strict=True)
        # Columns whose values repeat (senders, recipients, replies) are cleaned per distinct value.
        senders = {value: first_address(clean_text(value)) for value in set(sender)}
        recipients = {value: _address_list(clean_text(value)) for value in {*to, *cc}}
        subjects = [clean_text(value) for value in subject]
        encoded = {text: decode_text(text) for text in subjects if "=?" in text or "\r" in text}
        self.date += map(clean_text, date)
        self.from_name += [senders[value][0] for value in sender]
        self.from_addr += [senders[value][1] for value in sender]
        self.to += map(recipients.__getitem__, to)
        self.cc += map(recipients.__getitem__, cc)
        self.subject += [encoded.get(text, text) for text in subjects] if encoded else subjects
        self.message_id += map(clean_text, message_id)
        self.in_reply_to += map({value: clean_text(value) for value in set(in_reply_to)}.__getitem__, in_reply_to)
        self.references += [value or "" for value in references]

    def add(self, block: bytes | None) -> None:
        self.extend([block])

    def _fields(self, block: bytes) -> list[str | None]:
        """The HEADER_FIELDS values of a block as text (None when missing), not yet unfolded.

        NUL bytes go first (``headers.without_nul``). An all-ASCII block (nearly all of
        them), or one that is UTF-8 as a whole, is decoded once; otherwise each value is
        decoded on its own (raw 8-bit bytes as ``headers.field_text`` reads them: the same
        text, as each value of a UTF-8 block is UTF-8 itself).
        """
        if b"\x00" in block:
            block = without_nul(block)
        text: str | None
        try:
            text = block.decode("ascii")
        except UnicodeDecodeError:
            text = _utf8(block)
        if text is None:
            found_raw: list[bytes | None] = [None] * len(HEADER_FIELDS)
            for raw_name, raw_value in FIELD.findall(block):
                position = _FIELD_INDEX.get(raw_name.strip().lower(), -1)
                if position >= 0 and found_raw[position] is None:  # the first occurrence wins
                    found_raw[position] = raw_value
            return [field_text(value) for value in found_raw]
        pairs = FIELD_TEXT.findall(text)
        by_name = dict(pairs)
        if len(by_name) == len(pairs) and by_name.keys() <= _USUAL_NAMES:
            return list(map(by_name.get, _USUAL_ORDER))  # each name once, spelled as usual: no loop needed
        found: list[str | None] = [None] * len(HEADER_FIELDS)
        names = self._names
        for name, value in pairs:
            index: int | None = names.get(name)
            if index is None:
                index = _FIELD_INDEX.get(name.strip(BLANK).lower().encode(), -1)
                if len(names) < 1024:
                    names[name] = index
            if index >= 0 and found[index] is None:
                found[index] = value
        return found


def _utf8(block: bytes) -> str | None:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _address_list(text: str) -> str:
    return ", ".join(addresses(text))  # parse_address_list's addresses, no display name decoded


def header_values(block: bytes | None) -> tuple[str, str, str, str, str, str, str, str]:
    """(date, from_name, from_addr, to, cc, subject, message_id, in_reply_to) from a header block."""
    decoded = HeaderColumns()
    decoded.add(block)
    return (
        decoded.date[0], decoded.from_name[0], decoded.from_addr[0], decoded.to[0],
        decoded.cc[0], decoded.subject[0], decoded.message_id[0], decoded.in_reply_to[0],
    )  # fmt: skip


# -- the frame -----------------------------------------------------------------------------
def empty_frame() -> pd.DataFrame:
    """No rows, every column with its dtype."""
    columns: dict[str, pd.Series] = {name: pd.Series([], dtype=DTYPES[name]) for name in COLUMNS}
    frame: pd.DataFrame = pd.DataFrame(columns)
    return frame


def build_frame(
    columns: dict[str, list[Any]],
    *,
    folder: str,
    uidvalidity: int,
    user: str = "",
    host: str = "",
) -> pd.DataFrame:
    """The search result from raw columns (as produced by ``fetch.fetch_rows``), newest first.

    ``columns`` holds ``uid``, ``flags``, ``size``, ``internaldate``, ``has_attachments`` and
    the ``header_values`` fields (``date`` as the raw header string), and ``references``
    when fetched (the ``thread_id`` links; without it, Message-ID and In-Reply-To only).
    """
    uids = columns["uid"]
    if not uids:
        return empty_frame()
    flags = columns["flags"]
    # Few distinct flag sets per folder: each is looked at once, then every row is mapped in C.
    seen, flagged, answered = (
        np.fromiter(
            map({row: name in {f.lower() for f in row} for row in set(flags)}.__getitem__, flags), bool, len(flags)
        )
        for name in ("\\seen", "\\flagged", "\\answered")
    )
    # Every ref is the same URL up to the UID at its end.
    prefix = str(MessageRef(folder, uidvalidity, 1, user, host))[:-1]
    refs = [prefix + str(uid) for uid in uids]
    data: dict[str, Any] = {
        "ref": pd.array(refs, dtype=_STRING),
        "folder": pd.array([folder] * len(uids), dtype=_STRING),
        "uid": pd.array(uids, dtype="int64"),
        "date": header_dates(columns["date"]).array,
        "received": internal_dates(columns["internaldate"]).array,
        "flags": pd.array(flags, dtype=object),
        "seen": pd.array(seen, dtype=bool),
        "flagged": pd.array(flagged, dtype=bool),
        "answered": pd.array(answered, dtype=bool),
        "size": pd.array(columns["size"], dtype="int64"),
        "has_attachments": pd.array(columns["has_attachments"], dtype=bool),
    }
    for name in ("from_name", "from_addr", "to", "cc", "subject", "message_id", "in_reply_to"):
        data[name] = pd.array(columns[name], dtype=_STRING)
    threads = thread_ids(columns["message_id"], columns["in_reply_to"], columns.get("references"), refs)
    data["thread_id"] = pd.array(threads, dtype=_STRING)
    frame = pd.DataFrame({name: data[name] for name in COLUMNS})
    return sort_newest_first(frame)


def sort_newest_first(frame: pd.DataFrame, keep: np.ndarray[Any, Any] | None = None) -> pd.DataFrame:
    """By date (received when the Date header is unusable), then UID, newest first; only the rows
    where ``keep`` (a boolean array) is true, when given: one copy of the frame's columns, not two."""
    key = frame["date"].fillna(frame["received"])
    order = pd.DataFrame({"key": key, "uid": frame["uid"]})
    if keep is not None:
        order = order[keep]
    order = order.sort_values(["key", "uid"], ascending=False, na_position="last", kind="stable")
    ordered: pd.DataFrame = frame.loc[order.index].reset_index(drop=True)
    return ordered
