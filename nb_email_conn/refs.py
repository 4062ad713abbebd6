"""Message refs: RFC 5092 IMAP URLs that name one message exactly.

``imap://alice%40example.org@imap.example.org/INBOX;UIDVALIDITY=1700000000/;UID=42``

A ref carries the folder's UIDVALIDITY, so an action on a ref whose folder was
recreated (UIDVALIDITY changed) is refused instead of hitting another message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from .errors import InvalidInputError, ServerError

_REF = re.compile(
    r"^imap://(?:(?P<user>[^@/;]*)@)?(?P<host>[^/]+)/(?P<folder>[^;]*);UIDVALIDITY=(?P<uidvalidity>\d+)"
    r"/;UID=(?P<uid>\d+)$",
    re.IGNORECASE,
)
# RFC 5092 "achar": unreserved, sub-delims except ";" and "/", plus ":" "@" "&" "=".
_SAFE_FOLDER = "!$'()*+,=:@&-._~/"


@dataclass(frozen=True, order=True)
class MessageRef:
    """One message: the folder, its UIDVALIDITY and the message UID."""

    folder: str
    uidvalidity: int
    uid: int
    user: str = ""
    host: str = ""

    def __str__(self) -> str:
        user = quote(self.user, safe="") + "@" if self.user else ""
        folder = quote(self.folder, safe=_SAFE_FOLDER)
        return f"imap://{user}{self.host}/{folder};UIDVALIDITY={self.uidvalidity}/;UID={self.uid}"

    @classmethod
    def parse(cls, ref: str) -> MessageRef:
        if isinstance(ref, MessageRef):
            return ref
        if not isinstance(ref, str):
            raise InvalidInputError(f"a message ref must be a string, not {type(ref).__name__}.", field="ref")
        match = _REF.match(ref.strip())
        if not match or "\r" in ref or "\n" in ref or "\x00" in ref:
            raise InvalidInputError(
                f"{ref[:200]!r} is not a message ref; use the 'ref' column of search_emails().",
                field="ref",
            )
        folder = unquote(match["folder"])
        if not folder or any(c in folder for c in "\r\n\x00"):
            raise InvalidInputError(f"{ref[:200]!r} names no valid folder.", field="ref")
        uid = int(match["uid"])
        uidvalidity = int(match["uidvalidity"])
        if not (0 < uid < 2**32 and 0 < uidvalidity < 2**32):
            raise InvalidInputError(f"{ref[:200]!r} has an out-of-range UID or UIDVALIDITY.", field="ref")
        return cls(folder, uidvalidity, uid, unquote(match["user"] or ""), match["host"].lower())


def _refs_from_frame(value: Any) -> list[Any] | None:
    """The ``ref`` column of a DataFrame, or the ``ref`` of a Series row (no pandas import needed)."""
    columns = getattr(value, "columns", None)
    if columns is not None:
        if "ref" not in columns:
            raise InvalidInputError("the DataFrame has no 'ref' column; pass rows from search_emails().", field="refs")
        return list(value["ref"])
    index = getattr(value, "index", None)
    if index is not None and hasattr(value, "get") and not isinstance(value, dict):
        if "ref" in index:
            return [value["ref"]]
        if all(isinstance(v, str) for v in value):  # a Series of refs (df["ref"])
            return list(value)
        raise InvalidInputError("the row has no 'ref' field; pass rows from search_emails().", field="refs")
    return None


def normalize_refs(refs: Any) -> list[MessageRef]:
    """One ref, an iterable of refs, a DataFrame from ``search_emails`` or one of its rows.

    Duplicates are dropped (order kept); an empty selection is an error, so a
    filter that matched nothing never turns into a silent no-op or a wider action.
    """
    if isinstance(refs, (str, MessageRef)):
        items: list[Any] = [refs]
    else:
        from_frame = _refs_from_frame(refs)
        if from_frame is not None:
            items = from_frame
        elif isinstance(refs, Iterable):
            items = list(refs)
        else:
            raise InvalidInputError(
                f"refs must be a ref string, a list of refs or a DataFrame from search_emails(); "
                f"got {type(refs).__name__}.",
                field="refs",
            )
    parsed: dict[MessageRef, None] = {}
    for item in items:
        parsed.setdefault(MessageRef.parse(item), None)
    if not parsed:
        raise InvalidInputError("no messages selected (the list of refs is empty).", field="refs")
    return list(parsed)


# -- UID sets (RFC 3501 sequence-set syntax): the one place that writes and reads them ------------
MAX_SET_UIDS = 50_000_000  # bound on what a (hostile) server's UID set may expand to


def compress_uids(uids: Iterable[int]) -> list[str]:
    """Sorted UIDs as IMAP sequence-set pieces (``1:5``, ``9``), keeping command lines short."""
    ordered = sorted(set(uids))
    pieces: list[str] = []
    start = prev = None
    for uid in ordered:
        if start is None:
            start = prev = uid
        elif uid == prev + 1:  # type: ignore[operator]
            prev = uid
        else:
            pieces.append(f"{start}:{prev}" if start != prev else f"{start}")
            start = prev = uid
    if start is not None:
        pieces.append(f"{start}:{prev}" if start != prev else f"{start}")
    return pieces


def uid_sets(uids: Iterable[int], max_length: int = 1000) -> list[str]:
    """Comma-joined sequence sets, each at most ``max_length`` characters."""
    chunks: list[str] = []
    current = ""
    for piece in compress_uids(uids):
        if current and len(current) + 1 + len(piece) > max_length:
            chunks.append(current)
            current = piece
        else:
            current = f"{current},{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def _ranges(text: str | bytes) -> Iterator[tuple[int, int]]:
    """The ``(first, last)`` of each piece of a UID set; pieces that are not numbers (``*``, junk) are skipped."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    for piece in raw.split(b","):
        first, colon, last = piece.strip().partition(b":")
        if not first.isdigit() or (colon and not last.isdigit()):
            continue
        yield (int(first), int(last)) if colon else (int(first), int(first))


def uid_set_size(text: str | bytes) -> int:
    """How many UIDs a UID set names (``1:3,7`` -> 4)."""
    return sum(abs(last - first) + 1 for first, last in _ranges(text))


def parse_uid_set(text: str | bytes, *, limit: int = MAX_SET_UIDS) -> list[int]:
    """A UID set as a server wrote it (ESEARCH ``ALL``, COPYUID, APPENDUID): ``1:3,7`` -> [1, 2, 3, 7].

    UIDs come in the order written, a range ``5:3`` as 5, 4, 3 (RFC 4315 pairs the source and
    destination UIDs of COPYUID by position). More than ``limit`` UIDs raise :class:`ServerError`:
    a hostile ``1:4294967295`` must not exhaust memory.
    """
    uids: list[int] = []
    for first, last in _ranges(text):
        if len(uids) + abs(last - first) + 1 > limit:
            raise ServerError(f"the IMAP server sent a UID set of more than {limit} UIDs.")
        uids.extend(range(first, last + 1) if last >= first else range(first, last - 1, -1))
    return uids
