"""Progress for long work (searching a big folder).

``progress_reporter(total, description)`` gives a bar in a notebook with a front end, one
rewritten stderr line in a terminal, and nothing otherwise. ``update`` is cheap to call for
every message: it redraws at most a few times a second.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Protocol, TextIO

_MIN_INTERVAL = 0.2  # seconds between redraws


class Progress(Protocol):
    def update(self, done: int) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Progress: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class _Base:
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

    def __enter__(self) -> _Base:
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


class SilentProgress(_Base):
    """No output at all (plain scripts whose stderr is not a terminal, tests)."""


class TerminalProgress(_Base):
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


class NotebookProgress(_Base):
    """An ipywidgets bar with a label, displayed when created and hidden when closed."""

    def __init__(self, total: int, description: str, display: Any = None) -> None:
        super().__init__(total, description)
        import ipywidgets

        self._bar = ipywidgets.IntProgress(value=0, min=0, max=max(self.total, 1))
        self._label = ipywidgets.Label(self.text())
        self.widget = ipywidgets.HBox([self._bar, self._label])
        if display is None:
            from IPython.display import display
        display(self.widget)

    def _draw(self) -> None:
        self._bar.value = min(self.done, self._bar.max)
        self._label.value = self.text()

    def _finish(self) -> None:
        self._draw()
        self.widget.close()


def _has_frontend() -> bool:
    """True in a Jupyter kernel (a front end can show widgets), False in IPython in a terminal."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def progress_reporter(total: int, description: str) -> Progress:
    """A progress display suited to where the code runs (see the module docstring)."""
    if _has_frontend():
        try:
            return NotebookProgress(total, description)
        except Exception:  # no ipywidgets or no display: progress is never worth failing for
            return SilentProgress(total, description)
    stream = sys.stderr
    if stream is not None and hasattr(stream, "isatty") and stream.isatty():
        return TerminalProgress(total, description, stream)
    return SilentProgress(total, description)
