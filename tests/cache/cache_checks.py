"""What "a cached search equals an uncached one" means, for the tests of the local index."""

from __future__ import annotations

import pandas as pd


def without_recent(frame: pd.DataFrame) -> pd.DataFrame:
    r"""``\Recent`` says which session saw a message first (each of two connections may or may not get
    it), so it is no fact about the mailbox; the index never keeps it. Everything else must match."""
    frame = frame.copy()
    flags = [tuple(f for f in row if f.lower() != "\\recent") for row in frame["flags"]]
    frame["flags"] = pd.Series(flags, index=frame.index, dtype=object)
    return frame


def assert_same(cached: pd.DataFrame, uncached: pd.DataFrame, what: str = "search") -> None:
    assert not any("\\Recent" in flags for flags in cached["flags"])
    pd.testing.assert_frame_equal(cached, without_recent(uncached), obj=what)
