"""What a watch remembers of its folder, so that a recreated folder's messages are handed over once.

After a UIDVALIDITY change the UIDs start again and say nothing about what the watch has
seen. What is left is the INTERNALDATE (when the server received a message) and the message
itself: the watch hands over the recreated folder's messages received since it last saw the
old folder (less a margin: INTERNALDATE has whole seconds, and the server's clock may differ
a little from ours), except those it already knows by their Message-ID (or, without one, by
sender, subject, date and size): the messages it handed over, and the newest ones that were
there when it began.
"""

from __future__ import annotations

import collections
import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MARGIN", "Memory", "imap_date"]

MARGIN = 120.0  # seconds before "last seen" that still count as new after a recreation
_KEEP = 2000  # messages remembered (received time, fingerprint)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def imap_date(epoch: float) -> str:
    """A search date (``1-Dec-2026``, English month names whatever the locale), in UTC."""
    day = dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc)
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def fingerprint(row: pd.Series) -> str:
    """Who a message is across folders: its Message-ID, else sender, subject, Date header and size."""
    message_id = _text(row.get("message_id")).strip().lower()
    if message_id:
        return "id:" + message_id
    parts = (_text(row.get("from_addr")), _text(row.get("subject")), str(row.get("date")), str(row.get("size")))
    return "row:" + "\x00".join(parts)


def _epoch(value: Any) -> float | None:
    """A ``received`` cell as seconds since the epoch (None for NaT)."""
    import pandas as pd

    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return float(pd.Timestamp(value).timestamp())


class Memory:
    """The messages a watch knows were in its folder (a bounded, ordered record)."""

    def __init__(self, keep: int = _KEEP) -> None:
        self._keep = keep
        self._known: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._horizon = 0.0  # received time of the newest message forgotten or never read

    def remember(self, row: pd.Series) -> None:
        received = _epoch(row.get("received"))
        key = fingerprint(row)
        self._known[key] = received if received is not None else 0.0
        self._known.move_to_end(key)
        while len(self._known) > self._keep:
            _key, forgotten = self._known.popitem(last=False)
            self._horizon = max(self._horizon, forgotten)

    def remember_start(self, frame: pd.DataFrame, complete: bool) -> None:
        """The newest messages present when the watch began; ``complete``: all of the folder's."""
        for _, row in frame.iterrows():
            self.remember(row)
        if not complete and len(frame):
            oldest = [t for t in (_epoch(v) for v in frame["received"]) if t is not None]
            self._horizon = max(self._horizon, min(oldest, default=0.0))

    def cutoff(self, last_seen: float) -> float:
        """Messages received from this moment on may be new to the watch."""
        return max(last_seen - MARGIN, self._horizon)

    def unseen(self, frame: pd.DataFrame, cutoff: float) -> pd.DataFrame:
        """The rows of ``frame`` received at ``cutoff`` or later that the watch does not know."""
        import pandas as pd

        if not len(frame):
            return frame
        since = pd.Timestamp(cutoff, unit="s", tz="UTC").floor("s")  # INTERNALDATE has whole seconds
        fresh = frame["received"].notna() & (frame["received"] >= since)
        known = frame.apply(lambda row: fingerprint(row) in self._known, axis=1).astype(bool)
        selected: pd.DataFrame = frame[fresh & ~known]
        return selected
