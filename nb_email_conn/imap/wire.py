"""Our wire on imaplib's socket: tags, sending, and bounded reads of lines and literals.

Lines are read in chunks, so no line-length limit trips on a huge SEARCH answer, while
literal sizes, line lengths and (optionally) all bytes of one command are bounded, so a
hostile server cannot exhaust memory: each literal's announced size is checked before a
byte of it is read. A stream that can no longer be trusted is shut down (:meth:`Wire.fail`),
so the session reconnects on its next use.
"""

from __future__ import annotations

import imaplib
import re
from typing import cast

from ..errors import ServerError
from .internals import new_tag, reader, release_tag
from .limits import SEARCH_MAX_LINE, SEARCH_MAX_LITERAL

MAX_LITERAL = SEARCH_MAX_LITERAL  # the defaults are the bulk search path's bounds (limits.py)
MAX_LINE = SEARCH_MAX_LINE
_CHUNK = 1 << 16
_LITERAL_CHUNK = 1 << 20  # big literals are read in pieces: a stalled announcement costs no memory

LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r?\n$")  # a line that announces a literal


class Wire:
    """Our view of imaplib's IMAP4: tags, sending, and bounded reads of lines and literals.

    ``max_literal`` and ``max_line`` bound each literal and line; ``budget`` (None: no bound)
    bounds everything read through this wire; ``limit_name`` says in errors which setting
    ``max_literal`` is.
    """

    def __init__(
        self,
        imap: imaplib.IMAP4,
        *,
        max_literal: int = MAX_LITERAL,
        max_line: int = MAX_LINE,
        budget: int | None = None,
        limit_name: str = "",
    ) -> None:
        self.imap = imap
        self.file = reader(imap)  # replaced by STARTTLS, so read it now
        self.max_literal = max_literal
        self.max_line = max_line
        self.budget = budget
        self.limit_name = limit_name
        self.received = 0

    def tag(self) -> bytes:
        return new_tag(self.imap)

    def finished(self, tag: bytes) -> None:
        release_tag(self.imap, tag)

    def send(self, data: bytes) -> None:
        self.imap.send(data)

    def _spend(self, size: int) -> None:
        self.received += size
        if self.budget is not None and self.received > self.budget:
            self.fail(f"the IMAP server sent more than {self.budget} bytes for one command (the response limit)")

    def line(self) -> bytes:
        line: bytes = self.file.readline(_CHUNK)
        if line.endswith(b"\n"):
            if self.budget is not None:
                self._spend(len(line))
            return line
        if not line:
            raise imaplib.IMAP4.abort("the IMAP server closed the connection")
        parts = [line]
        total = len(line)
        while True:
            chunk: bytes = self.file.readline(_CHUNK)
            if not chunk:
                raise imaplib.IMAP4.abort("the IMAP server closed the connection")
            parts.append(chunk)
            total += len(chunk)
            if total > self.max_line:
                self.fail(f"the IMAP server sent a response line over {self.max_line} bytes (the line limit)")
            if chunk.endswith(b"\n"):
                if self.budget is not None:
                    self._spend(total)
                return b"".join(parts)

    def buffered(self) -> bytes:
        """What the reader holds already (one socket read if it holds nothing), without consuming it."""
        peek = getattr(self.file, "peek", None)
        return cast(bytes, peek(1)) if peek is not None else b""

    def consume(self, size: int) -> None:
        self.file.read(size)

    def literal(self, size: int) -> bytes:
        """The ``size`` bytes of a literal; over ``max_literal`` the stream is closed before any is read."""
        if size > self.max_literal:
            what = f" ({self.limit_name})" if self.limit_name else ""
            self.fail(
                f"the IMAP server announced a {size}-byte literal, over the limit of {self.max_literal} bytes{what}",
                advice="Nothing of it was read." + (" Raise the limit to read it." if self.limit_name else ""),
            )
        if self.budget is not None:
            self._spend(size)
        if size <= _LITERAL_CHUNK:
            data: bytes = self.file.read(size)
        else:
            pieces = []
            left = size
            while left:
                piece: bytes = self.file.read(min(left, _LITERAL_CHUNK))
                if not piece:
                    break
                pieces.append(piece)
                left -= len(piece)
            data = b"".join(pieces)
        if len(data) < size:
            raise imaplib.IMAP4.abort("the IMAP server closed the connection")
        return data

    def skip_rest(self, line: bytes) -> None:
        """Consume the literals (and continuation lines) of a response we do not use."""
        while match := LITERAL_AT_END.search(line):
            self.literal(int(match[1]))
            line = self.line()

    def fail(self, message: str, *, advice: str = "Please retry.") -> None:
        """The stream can no longer be trusted: close it so the session reconnects."""
        try:
            self.imap.shutdown()
        except OSError:
            pass
        raise ServerError(f"{message}; the connection was closed. {advice}")
