"""Index rows <-> the columns the uncached search path produces (``fetch.fetch_rows``, ``frame.build_frame``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from ..imap.frame import COLUMNS, HEADER_FIELDS
from ..imap.rows import ROW_FIELDS, ROW_ITEMS
from .db import STORED, Row


def fingerprint() -> str:
    """What a row is made of: when the search path fetches or decodes other fields, old rows are not reused."""
    shape = repr((ROW_ITEMS, ROW_FIELDS, HEADER_FIELDS, COLUMNS, STORED)).encode()
    return hashlib.blake2b(shape, digest_size=8).hexdigest()


def session_free(flags: tuple[str, ...]) -> tuple[str, ...]:
    """The flags without ``\\Recent``, which only tells whether this session was the first to see
    the message (RFC 9051 drops it): the local index keeps no ``\\Recent``, as no sync can keep it exact."""
    return tuple(flag for flag in flags if flag.lower() != "\\recent")


def rows_from_columns(columns: Mapping[str, list[Any]]) -> dict[int, Row]:
    """{uid: row} from ``fetch_rows`` columns (``references`` is "" where the fetch did not ask for it)."""
    uids = columns["uid"]
    values = [columns[name] if name in columns else [""] * len(uids) for name in STORED]
    flag_sets = {flags: session_free(tuple(flags)) for flags in set(map(tuple, values[0]))}
    return {uid: (flag_sets[tuple(row[0])], *row[1:]) for uid, row in zip(uids, zip(*values, strict=True), strict=True)}


def columns_for(rows: Mapping[int, Row], uids: Iterable[int]) -> dict[str, list[Any]]:
    """The ``build_frame`` columns of ``uids`` (ascending, as the fetch gives them)."""
    ordered = sorted(uids)
    values = [rows[uid] for uid in ordered]
    columns: dict[str, list[Any]] = {"uid": ordered}
    if values:
        for name, column in zip(STORED, zip(*values, strict=True), strict=True):
            columns[name] = list(column)
    else:
        columns.update({name: [] for name in STORED})
    return columns
