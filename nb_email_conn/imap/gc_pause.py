"""Pausing the cyclic garbage collector while a search builds its rows, shared by overlapping searches."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_pausers = 0
_was_enabled = False


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees everything).

    A search allocates a few container objects per row that all stay alive until the frame is
    built; the collector would re-scan them (and every other live object) again and again,
    about a fifth of a 50k-row search. Cycles made meanwhile (if any) are collected once it runs again.
    Searches in several threads share one pause (a counter), so the last one to finish restores
    the collector exactly as it found it.
    """
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled:
                gc.enable()
