"""The IMAP SEARCH program: search keys, how they combine, and how they go on the wire.

Tokens: a ``str`` token is an IMAP atom sent as is (keys, dates, numbers, parentheses);
a ``bytes`` token is a string value (UTF-8) sent as a quoted string or a literal by
:func:`encode_command`. ``query.py`` builds programs from the search language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

Token = Union[str, bytes]  # noqa: UP007 - a runtime alias, still Python 3.10

# Quoted strings are used for short printable ASCII; anything else becomes a literal.
_QUOTABLE = re.compile(rb"^[\x20-\x7e]{0,500}$")
_LITERAL_MINUS_MAX = 4096  # RFC 7888: LITERAL- servers refuse larger {n+} literals


@dataclass(frozen=True)
class SearchCriteria:
    """An IMAP search program: the tokens after ``UID SEARCH [CHARSET x]``.

    ``has_attachment`` is True/False when the result must be filtered after the fetch
    (IMAP SEARCH cannot express it), None when there is no such filter.
    """

    tokens: tuple[Token, ...]
    charset: str | None = None
    has_attachment: bool | None = None
    description: str = field(default="", compare=False)

    @property
    def needs_attachment_filter(self) -> bool:
        return self.has_attachment is not None

    def keys(self) -> list[Token]:
        """The search keys, ``ALL`` when empty (what goes on the wire)."""
        return list(self.tokens) if self.tokens else ["ALL"]


# -- combining keys ------------------------------------------------------------------------
def group_keys(keys: list[Token]) -> list[Token]:
    """Several keys as one search key (a parenthesised list); one key pair stays as is."""
    if _single_key(keys):
        return keys
    return ["(", *keys, ")"]


_NO_ARGUMENT = frozenset(
    (
        "ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "NEW", "OLD", "RECENT", "SEEN",
        "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN",
    )
)  # fmt: skip


def _key_end(keys: list[Token], start: int) -> int:
    """The index just after the one search key that starts at ``start``."""
    first = keys[start]
    if first == "(":
        depth = 0
        for i in range(start, len(keys)):
            depth += keys[i] == "("
            depth -= keys[i] == ")"
            if depth == 0:
                return i + 1
        raise AssertionError("unbalanced parentheses in built search keys")  # pragma: no cover
    if first == "NOT":
        return _key_end(keys, start + 1)
    if first == "OR":
        return _key_end(keys, _key_end(keys, start + 1))
    return start + (1 if first in _NO_ARGUMENT else 2)


def _single_key(keys: list[Token]) -> bool:
    """True when ``keys`` is exactly one search key (so NOT/OR can take it without parentheses)."""
    return bool(keys) and _key_end(keys, 0) == len(keys)


def or_keys(alternatives: list[list[Token]]) -> list[Token]:
    """IMAP OR is binary: a OR b OR c -> OR a (OR b c)."""
    first = group_keys(alternatives[0])
    if len(alternatives) == 2:
        return ["OR", *first, *group_keys(alternatives[1])]
    return ["OR", *first, *or_keys(alternatives[1:])]


# -- the wire ------------------------------------------------------------------------------
def _quote(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def encode_command(prefix: bytes, tokens: list[Token], *, literal_plus: bool) -> list[bytes]:
    """``prefix`` + tokens as command pieces, ending in CRLF.

    Every piece but the last ends with a synchronizing literal header ``{n}\\r\\n``: the
    caller sends it and waits for the server's ``+`` before sending the next piece. With
    LITERAL+ a literal of at most 4096 bytes is sent as ``{n+}`` inline (the LITERAL- limit).
    """
    pieces: list[bytes] = []
    current = bytearray(prefix)
    for key in tokens:
        if isinstance(key, str):
            if current and not current.endswith(b"(") and key != ")":
                current += b" "
            current += key.encode("ascii")
            continue
        if current and not current.endswith(b"("):
            current += b" "
        if _QUOTABLE.match(key):
            current += _quote(key)
        elif literal_plus and len(key) <= _LITERAL_MINUS_MAX:
            current += b"{%d+}\r\n" % len(key) + key
        else:
            current += b"{%d}\r\n" % len(key)
            pieces.append(bytes(current))
            current = bytearray(key)
    current += b"\r\n"
    pieces.append(bytes(current))
    return pieces


def search_prefix(tag: bytes, criteria: SearchCriteria, *, esearch: bool = False) -> bytes:
    prefix = tag + b" UID SEARCH"
    if esearch:
        prefix += b" RETURN (ALL)"
    if criteria.charset:
        prefix += b" CHARSET " + criteria.charset.encode("ascii")
    return prefix


def encode_search_command(
    tag: bytes, criteria: SearchCriteria, *, literal_plus: bool, esearch: bool = False
) -> list[bytes]:
    """``tag UID SEARCH [RETURN (ALL)] [CHARSET UTF-8] keys`` as pieces (see encode_command)."""
    return encode_command(search_prefix(tag, criteria, esearch=esearch), criteria.keys(), literal_plus=literal_plus)


def encode_sort_command(tag: bytes, criteria: SearchCriteria, *, literal_plus: bool) -> list[bytes]:
    """``tag UID SORT (REVERSE DATE) UTF-8 keys``: search and newest-first order in one command."""
    prefix = tag + b" UID SORT (REVERSE DATE) UTF-8"
    return encode_command(prefix, criteria.keys(), literal_plus=literal_plus)
