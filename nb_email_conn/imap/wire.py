"""The bulk path's wire: tags, sending, and bounded reads of lines and literals on imaplib's socket.

Lines are read in chunks, so no line-length limit trips on a huge SEARCH answer, while
literal sizes and line lengths are bounded (a hostile server cannot exhaust memory). A
stream that can no longer be trusted is shut down (:meth:`Wire.fail`), so the session
reconnects on its next use.
"""

from __future__ import annotations

import imaplib
import re
from typing import cast

from ..errors import ServerError
from .internals import new_tag, reader, release_tag

MAX_LITERAL = 64 * 1024 * 1024  # no header block or BODYSTRUCTURE string is anywhere near this
MAX_LINE = 256 * 1024 * 1024  # a SEARCH answer for 10M sparse UIDs is ~80 MB
_CHUNK = 1 << 16

LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r?\n$")  # a line that announces a literal


class Wire:
    """Our view of imaplib's IMAP4: tags, sending, and bounded reads of lines and literals."""

    def __init__(self, imap: imaplib.IMAP4) -> None:
        self.imap = imap
        self.file = reader(imap)  # replaced by STARTTLS, so read it now

    def tag(self) -> bytes:
        return new_tag(self.imap)

    def finished(self, tag: bytes) -> None:
        release_tag(self.imap, tag)

    def send(self, data: bytes) -> None:
        self.imap.send(data)

    def line(self) -> bytes:
        line: bytes = self.file.readline(_CHUNK)
        if line.endswith(b"\n"):
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
            if total > MAX_LINE:
                self.fail(f"the IMAP server sent a response line over {MAX_LINE} bytes")
            if chunk.endswith(b"\n"):
                return b"".join(parts)

    def buffered(self) -> bytes:
        """What the reader holds already (one socket read if it holds nothing), without consuming it."""
        peek = getattr(self.file, "peek", None)
        return cast(bytes, peek(1)) if peek is not None else b""

    def consume(self, size: int) -> None:
        self.file.read(size)

    def literal(self, size: int) -> bytes:
        if size > MAX_LITERAL:
            self.fail(f"the IMAP server announced a {size}-byte literal (limit {MAX_LITERAL})")
        data: bytes = self.file.read(size)
        if len(data) < size:
            raise imaplib.IMAP4.abort("the IMAP server closed the connection")
        return data

    def skip_rest(self, line: bytes) -> None:
        """Consume the literals (and continuation lines) of a response we do not use."""
        while match := LITERAL_AT_END.search(line):
            self.literal(int(match[1]))
            line = self.line()

    def fail(self, message: str) -> None:
        """The stream can no longer be trusted: close it so the session reconnects."""
        try:
            self.imap.shutdown()
        except OSError:
            pass
        raise ServerError(message + "; the connection was closed, please retry.")
