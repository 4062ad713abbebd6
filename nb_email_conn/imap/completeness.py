"""Every UID a search named is in the result, or the result says why not.

A SEARCH names the matching UIDs; the FETCH that follows may not give a row for each: the
server's answer for one message is malformed (no closing parenthesis, a non-numeric UID, no
header section), or the message was expunged by another client while the search ran (Dovecot
then answers with a ``NIL`` header section, which used to become a row of blank headers).
Neither may vanish silently. After the fetch, the UIDs without a row are checked with
``UID SEARCH UID <set>``:

- still there: their rows could not be read -> ``df.attrs["unreadable_refs"]``;
- gone: expunged during the search -> ``df.attrs["vanished_refs"]``;

and an :class:`IncompleteSearchWarning` says how many of each. Partial results are kept
(a folder with one broken message stays searchable); both lists are always present, empty
for a complete result.
"""

from __future__ import annotations

import imaplib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..refs import MessageRef
from .actions import uids_present

UNREADABLE = "unreadable_refs"
VANISHED = "vanished_refs"


class IncompleteSearchWarning(UserWarning):
    """``search_emails`` could not give a row for every message the server's SEARCH named."""


@dataclass
class Gaps:
    """The UIDs a search named that got no row, sorted into the two kinds."""

    unreadable: list[int] = field(default_factory=list)
    vanished: list[int] = field(default_factory=list)


def find_gaps(imap: imaplib.IMAP4, asked: Iterable[int], got: Iterable[int], nil: Iterable[int] = ()) -> Gaps:
    """Of ``asked`` without a row in ``got``: those still there (unreadable) and those gone (vanished).

    ``nil`` are rows whose header section came as NIL: gone ones are vanished too (drop their
    rows with :func:`without`); those still there keep their row (a message with none of the
    header fields asked for).
    """
    absent = set(asked) - set(got)
    suspects = absent | set(nil)
    if not suspects:
        return Gaps()
    present = uids_present(imap, suspects)
    return Gaps(sorted(absent & present), sorted(suspects - present))


def without(columns: dict[str, list[Any]], uids: Iterable[int]) -> dict[str, list[Any]]:
    """``columns`` without the rows of ``uids``."""
    drop = set(uids)
    if not drop:
        return columns
    keep = [i for i, uid in enumerate(columns["uid"]) if uid not in drop]
    return {name: [values[i] for i in keep] for name, values in columns.items()}


def report(frame: pd.DataFrame, gaps: Gaps, *, folder: str, uidvalidity: int, user: str, host: str) -> pd.DataFrame:
    """Put the gaps in ``frame.attrs`` (as refs) and warn when there are any."""

    def refs(uids: list[int]) -> list[str]:
        return [str(MessageRef(folder, uidvalidity, uid, user, host)) for uid in uids]

    frame.attrs[UNREADABLE] = refs(gaps.unreadable)
    frame.attrs[VANISHED] = refs(gaps.vanished)
    parts = []
    if gaps.unreadable:
        parts.append(
            f"{len(gaps.unreadable)} matching message(s) could not be read (the server's answer for them was "
            f"malformed) and are not in the result: df.attrs[{UNREADABLE!r}] lists their refs (try get_email)"
        )
    if gaps.vanished:
        parts.append(
            f"{len(gaps.vanished)} matching message(s) were deleted by another client while the search ran: "
            f"df.attrs[{VANISHED!r}]"
        )
    if parts:
        warnings.warn(f"search_emails in {folder!r}: " + "; ".join(parts) + ".", IncompleteSearchWarning, stacklevel=2)
    return frame
