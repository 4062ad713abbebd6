"""The general IMAP response parser: any untagged response as nested lists, tagged lines checked.

Used for every response the fast row patterns (``rows.py``) do not match: items in any
order or case, literals anywhere, escapes in quoted strings, split FETCH responses.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Collection
from typing import Any, Protocol

from .wire import LITERAL_AT_END, Wire

_TOKENS = re.compile(rb'[()]|"(?:[^"\\]|\\.)*"|[^\s()"\[\]]+(?:\[[^\]]*\](?:<\d+>)?)?|\[[^\]]*\]')
_UNESCAPE = re.compile(rb"\\(.)")
_TAGGED = re.compile(rb"^(\S+) (OK|NO|BAD)\b ?(.*?)\r?\n?$", re.IGNORECASE | re.DOTALL)
FETCH_LINE = re.compile(rb"\* \d+ FETCH ", re.IGNORECASE)


class Reader(Protocol):
    """What the parser reads a response's continuation from: a :class:`Wire`, or one replaying what was read."""

    def line(self) -> bytes: ...
    def literal(self, size: int) -> bytes: ...
    def fail(self, message: str) -> None: ...


def parse_response(wire: Reader, line: bytes) -> list[Any]:
    """One untagged response (with its literals) as nested lists.

    Atoms and strings are ``bytes``, ``NIL`` is ``None``, parenthesised lists are lists.
    """
    stack: list[list[Any]] = []
    current: list[Any] = []
    top = current
    while True:
        match = LITERAL_AT_END.search(line)
        text = line[: match.start()] if match else line
        for token in _TOKENS.findall(text):
            first = token[0]
            if first == 40:  # (
                new: list[Any] = []
                current.append(new)
                stack.append(current)
                current = new
            elif first == 41:  # )
                if not stack:
                    wire.fail("the IMAP server sent an unbalanced ')'")
                current = stack.pop()
            elif first == 34:  # "quoted"
                token = token[1:-1]
                current.append(_UNESCAPE.sub(rb"\1", token) if 92 in token else token)
            elif token == b"NIL":
                current.append(None)
            else:
                current.append(token)
        if not match:
            return top
        current.append(wire.literal(int(match[1])))
        line = wire.line()


def fetch_items(response: list[Any]) -> dict[bytes, Any] | None:
    """``* n FETCH (name value ...)`` -> {NAME: value}; ``BODY[]`` is keyed ``BODY[]``, any other
    section (the header fields a search asks for) ``HEADER``."""
    if len(response) < 4 or not isinstance(response[3], list):
        return None
    items = response[3]
    result: dict[bytes, Any] = {}
    for index in range(0, len(items) - 1, 2):
        name = items[index]
        if not isinstance(name, bytes):
            return None
        key = name.upper()
        if key.startswith(b"BODY["):
            key = b"BODY[]" if key == b"BODY[]" else b"HEADER"
        result[key] = items[index + 1]
    return result


def check_tagged(wire: Wire, line: bytes, expected: Collection[bytes]) -> tuple[bytes, bytes, bytes]:
    """``tag OK|NO|BAD text`` for one of the ``expected`` tags; anything else closes the stream."""
    match = _TAGGED.match(line)
    if not match or match[1] not in expected:
        wire.fail(f"the IMAP server sent an unexpected response {line[:80]!r}")
        raise AssertionError  # pragma: no cover - fail() raises
    return match[1], match[2].upper(), match[3]


def check_untagged(line: bytes) -> None:
    """``* BYE`` in the middle of a command is a dropped connection."""
    if line[:6].upper() == b"* BYE ":
        raise imaplib.IMAP4.abort("the IMAP server closed the connection: " + line[6:200].decode("utf-8", "replace"))
