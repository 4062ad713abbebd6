"""The fast search path's strategy: UID SEARCH / SORT, then pipelined UID FETCH of only the rows needed.

imapclient's byte-by-byte lexer costs ~90% of a large fetch, so ``search_emails`` talks to
the already logged-in ``imaplib.IMAP4`` (folder selected with EXAMINE) directly, with a
parser for exactly the items it asks for. The layers, bottom up:

- ``internals.py``: the one adapter for imapclient's and imaplib's private attributes;
- ``wire.py``: tags, sending, bounded reads of lines and literals;
- ``response.py``: the general response parser; ``attachments.py``: BODYSTRUCTURE checks;
- ``rows.py``: FETCH responses -> row columns (a buffer, a line and a general path);
- ``commands.py``: a command with literals, pipelined FETCHes;
- this module: which commands, in which order, for a search with or without a limit.

A response the parser cannot trust (oversized literal, unknown tag) shuts the socket down
and raises :class:`ServerError`; the session reconnects on its next use.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd

from ..refs import parse_uid_set
from .attachments import ATTACHMENT_HINT, has_attachment, may_have_attachment
from .commands import Progress, fetch_commands, pipeline, run_simple
from .completeness import Gaps, find_gaps, report, without
from .frame import build_frame, empty_frame, header_dates, header_values, internal_dates
from .gc_pause import cyclic_gc_paused
from .program import SearchCriteria, encode_search_command, encode_sort_command
from .response import parse_response
from .rows import DATE_ITEMS, DATE_KEYS, FAST_ROW, FAST_ROW_UPPER, ROW_FIELDS, ROW_ITEMS, Rows
from .wire import Wire

DEFAULT_BATCH = 2000  # UIDs per FETCH command: progress granularity
_ESEARCH = re.compile(rb'^\* ESEARCH(?: \(TAG "([^"]*)"\))?(?: UID)?(.*?)\r?\n?$', re.IGNORECASE | re.DOTALL)

# Old names, still imported by tests/imap/test_fast_paths.py (owned elsewhere); the code lives
# in the modules named above. Remove once nothing imports them from here.
_Wire = Wire
_Rows = Rows
_ATTACHMENT_HINT = ATTACHMENT_HINT
_FAST_ROW = FAST_ROW
_FAST_ROW_UPPER = FAST_ROW_UPPER
_cyclic_gc_paused = cyclic_gc_paused
__all__ = [
    "DEFAULT_BATCH",
    "ROW_FIELDS",
    "ROW_ITEMS",
    "fetch_rows",
    "has_attachment",
    "may_have_attachment",
    "parse_response",
    "search_messages",
    "sort_search",
    "uid_search",
    "uids_newest_first",
]


def _capability_flags(capabilities: Collection[str]) -> set[str]:
    return {c.upper() for c in capabilities}


def _numbers(text: bytes) -> list[int]:
    words = text.split()
    if b"".join(words).isdigit():  # nearly always only numbers: converted in one pass in C
        return list(map(int, words))
    return [int(word) for word in words if word.isdigit()]


def _literal_plus(capabilities: Collection[str]) -> bool:
    flags = _capability_flags(capabilities)
    return "LITERAL+" in flags or "LITERAL-" in flags


def uid_search(
    imap: imaplib.IMAP4, criteria: SearchCriteria, *, esearch: bool, literal_plus: bool = False
) -> list[int]:
    """``UID SEARCH`` (``RETURN (ALL)`` when ``esearch``): the matching UIDs, ascending."""
    wire = Wire(imap)
    tag = wire.tag()
    found: list[int] = []

    def on_untagged(line: bytes) -> None:
        upper = line[:10].upper()
        if upper.startswith(b"* SEARCH"):
            found.extend(_numbers(line[8:]))
        elif upper.startswith(b"* ESEARCH"):
            match = _ESEARCH.match(line)
            if match and (match[1] is None or match[1] == tag):
                words = match[2].split()
                for index, word in enumerate(words[:-1]):
                    if word.upper() == b"ALL":
                        found.extend(parse_uid_set(words[index + 1]))

    run_simple(wire, tag, encode_search_command(tag, criteria, literal_plus=literal_plus, esearch=esearch), on_untagged)
    return sorted(set(found))


def sort_search(imap: imaplib.IMAP4, criteria: SearchCriteria, *, literal_plus: bool = False) -> list[int]:
    """``UID SORT (REVERSE DATE) UTF-8 <criteria>``: search and order newest first in one command."""
    wire = Wire(imap)
    tag = wire.tag()
    found: list[int] = []

    def on_untagged(line: bytes) -> None:
        if line[:6].upper() == b"* SORT":
            found.extend(_numbers(line[6:]))

    run_simple(wire, tag, encode_sort_command(tag, criteria, literal_plus=literal_plus), on_untagged)
    return list(dict.fromkeys(found))  # the first place of each UID


def fetch_rows(
    imap: imaplib.IMAP4,
    uids: Sequence[int],
    *,
    progress: Progress | None = None,
    batch: int = DEFAULT_BATCH,
) -> dict[str, list[Any]]:
    """The row values of ``uids`` as columns (see ``ROW_FIELDS``); expunged UIDs are absent.

    Columns are in ascending UID order; ``frame.build_frame`` turns them into the result.
    """
    return fetch_rows_and_nils(imap, uids, progress=progress, batch=batch)[0]


def fetch_rows_and_nils(
    imap: imaplib.IMAP4,
    uids: Sequence[int],
    *,
    progress: Progress | None = None,
    batch: int = DEFAULT_BATCH,
) -> tuple[dict[str, list[Any]], set[int]]:
    """:func:`fetch_rows`, and the UIDs whose header section came as NIL (expunged meanwhile, or empty)."""
    wire = Wire(imap)
    rows = Rows(wire, set(uids))
    if uids:
        pipeline(wire, fetch_commands(uids, ROW_ITEMS, batch), rows.add_items, progress, rows)
    return rows.columns(), rows.nil_header


def uids_newest_first(
    imap: imaplib.IMAP4,
    uids: Sequence[int],
    *,
    limit: int | None = None,
    batch: int = 5000,
) -> list[int]:
    """Order UIDs newest first without SORT: fetch Date and INTERNALDATE, then sort locally.

    Same key as the result frame: the Date header, INTERNALDATE when it is unusable, then UID.
    """
    if not uids:
        return []
    wanted = set(uids)
    found: dict[int, tuple[str, str]] = {}

    def on_fetch(items: dict[bytes, Any]) -> None:
        raw_uid = items.get(b"UID")
        if not (isinstance(raw_uid, bytes) and raw_uid.isdigit() and all(k in items for k in DATE_KEYS)):
            return
        uid = int(raw_uid)
        if uid in wanted:
            internaldate = items[b"INTERNALDATE"]
            header = items[b"HEADER"]
            found[uid] = (
                header_values(header if isinstance(header, bytes) else None)[0],
                internaldate.decode("ascii", "replace") if isinstance(internaldate, bytes) else "",
            )

    pipeline(Wire(imap), fetch_commands(uids, DATE_ITEMS, batch), on_fetch, None)
    order = list(found)
    dates = header_dates([found[uid][0] for uid in order])
    received = internal_dates([found[uid][1] for uid in order])
    table = pd.DataFrame({"key": dates.fillna(received).to_numpy(), "uid": order})
    table = table.sort_values(["key", "uid"], ascending=False, na_position="last", kind="stable")
    newest = [int(uid) for uid in table["uid"]]
    return newest if limit is None else newest[:limit]


# -- the whole search ----------------------------------------------------------------------
def _filter_attachments(columns: dict[str, list[Any]], wanted: bool | None) -> dict[str, list[Any]]:
    if wanted is None:
        return columns
    keep = [i for i, value in enumerate(columns["has_attachments"]) if value == wanted]
    return {name: [values[i] for i in keep] for name, values in columns.items()}


def search_messages(
    imap: imaplib.IMAP4,
    criteria: SearchCriteria,
    *,
    capabilities: Collection[str],
    folder: str,
    uidvalidity: int,
    user: str = "",
    host: str = "",
    limit: int | None = None,
    progress: Progress | None = None,
    batch: int = DEFAULT_BATCH,
) -> pd.DataFrame:
    """The search result DataFrame for the folder currently selected on ``imap`` (newest first).

    One UID SEARCH (or UID SORT when ``limit`` is given and the server has SORT), then
    pipelined FETCHes of only the UIDs needed. ``has_attachment`` is applied from
    BODYSTRUCTURE; with a ``limit`` the newest messages are fetched in growing chunks
    until ``limit`` of them pass. A UID the search named that gets no row is reported in
    ``attrs`` (``completeness.py``), never dropped silently.
    """
    if limit is not None and limit <= 0:
        frame = empty_frame()
        return report(frame, Gaps(), folder=folder, uidvalidity=uidvalidity, user=user, host=host)
    with cyclic_gc_paused():
        columns, gaps = _search(imap, criteria, capabilities, limit, progress, batch)
    frame = build_frame(columns, folder=folder, uidvalidity=uidvalidity, user=user, host=host)
    return report(frame, gaps, folder=folder, uidvalidity=uidvalidity, user=user, host=host)


def _search(
    imap: imaplib.IMAP4,
    criteria: SearchCriteria,
    capabilities: Collection[str],
    limit: int | None,
    progress: Progress | None,
    batch: int,
) -> tuple[dict[str, list[Any]], Gaps]:
    flags = _capability_flags(capabilities)
    literal_plus = _literal_plus(flags)
    if limit is None:
        uids = uid_search(imap, criteria, esearch="ESEARCH" in flags, literal_plus=literal_plus)
        columns, nils = fetch_rows_and_nils(imap, uids, progress=progress, batch=batch)
        gaps = find_gaps(imap, uids, columns["uid"], nils)
        return _filter_attachments(without(columns, gaps.vanished), criteria.has_attachment), gaps

    if "SORT" in flags:
        ordered = sort_search(imap, criteria, literal_plus=literal_plus)
        unplaced: set[int] = set()
    else:
        matched = uid_search(imap, criteria, esearch="ESEARCH" in flags, literal_plus=literal_plus)
        ordered = uids_newest_first(imap, matched)
        unplaced = set(matched) - set(ordered)  # no usable date row: reported like any missing row
    return _newest(imap, ordered, unplaced, criteria, limit, progress, batch)


def _newest(
    imap: imaplib.IMAP4,
    ordered: list[int],
    unplaced: set[int],
    criteria: SearchCriteria,
    limit: int,
    progress: Progress | None,
    batch: int,
) -> tuple[dict[str, list[Any]], Gaps]:
    """The newest ``limit`` rows of ``ordered`` that pass the attachment filter, fetched in chunks.

    Without the filter the first chunk is ``limit`` UIDs and later ones only make up for rows
    that did not come; with it, chunks double until ``limit`` rows pass.
    """
    filtering = criteria.needs_attachment_filter
    position = {uid: index for index, uid in enumerate(ordered)}
    kept: list[dict[str, list[Any]]] = []
    asked: list[int] = []
    fetched: set[int] = set()  # UIDs that got a row, before the attachment filter
    nils: set[int] = set()
    count, start = 0, 0
    chunk = max(limit, 100) if filtering else limit
    while start < len(ordered) and count < limit:
        part_uids = ordered[start : start + chunk]
        part, part_nils = fetch_rows_and_nils(
            imap, part_uids, progress=None if filtering or start else progress, batch=batch
        )
        asked += part_uids
        fetched.update(part["uid"])
        vanished = find_gaps(imap, (), (), part_nils).vanished if part_nils else []
        nils |= part_nils
        kept.append(_filter_attachments(without(part, vanished), criteria.has_attachment))
        count += len(kept[-1]["uid"])
        start += chunk
        chunk = chunk * 2 if filtering else limit - count
        if filtering and progress is not None:
            progress(min(start, len(ordered)), len(ordered))
    columns = {name: [v for part in kept for v in part[name]] for name in ROW_FIELDS}
    gaps = find_gaps(imap, [*asked, *unplaced], fetched, nils)
    newest = sorted(range(len(columns["uid"])), key=lambda i: position[columns["uid"][i]])[:limit]
    return {name: [values[i] for i in newest] for name, values in columns.items()}, gaps
