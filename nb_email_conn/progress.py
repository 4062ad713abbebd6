"""Progress for long work (searching a big folder).

``progress_reporter(total, description)`` gives a bar in a notebook with a front end, one
rewritten stderr line in a terminal, and nothing otherwise. ``update`` is cheap to call for
every message: it redraws at most a few times a second.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Protocol, TextIO

from .frontend import front_end_progress

_MIN_INTERVAL = 0.2  # seconds between redraws


class Progress(Protocol):
    def update(self, done: int) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Progress: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class ProgressBase:
    def __init__(self, total: int, description: str) -> None:
        self.total = max(int(total), 0)
        self.description = description
        self.done = 0
        self._last_draw = 0.0
        self._closed = False

    def update(self, done: int) -> None:
        if self._closed:
            return
        self.done = min(max(int(done), 0), self.total) if self.total else max(int(done), 0)
        now = time.monotonic()
        if now - self._last_draw >= _MIN_INTERVAL or self.done >= self.total:
            self._last_draw = now
            self._draw()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._finish()

    def __enter__(self) -> ProgressBase:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def text(self) -> str:
        if not self.total:
            return f"{self.description}: {self.done}"
        percent = 100 * self.done // self.total
        return f"{self.description}: {self.done}/{self.total} ({percent}%)"

    def _draw(self) -> None:
        pass

    def _finish(self) -> None:
        pass


class SilentProgress(ProgressBase):
    """No output at all (plain scripts whose stderr is not a terminal, tests)."""


class TerminalProgress(ProgressBase):
    """One line on stderr, rewritten in place with a carriage return."""

    def __init__(self, total: int, description: str, stream: TextIO | None = None) -> None:
        super().__init__(total, description)
        self._stream = stream if stream is not None else sys.stderr
        self._width = 0

    def _draw(self) -> None:
        line = self.text()
        padding = " " * max(self._width - len(line), 0)
        self._width = len(line)
        self._stream.write(f"\r{line}{padding}")
        self._stream.flush()

    def _finish(self) -> None:
        self._draw()
        self._stream.write("\n")
        self._stream.flush()


def progress_reporter(total: int, description: str) -> Progress:
    """A progress display suited to where the code runs (see the module docstring)."""
    shown = front_end_progress(total, description)  # a bar, where a notebook front end offered one
    if shown is not None:
        return shown
    stream = sys.stderr
    if stream is not None and hasattr(stream, "isatty") and stream.isatty():
        return TerminalProgress(total, description, stream)
    return SilentProgress(total, description)
