"""The search language: a Gmail-like query string and keyword criteria -> IMAP SEARCH keys.

Query syntax (terms are AND-ed; ``OR`` binds tighter than the implicit AND, as in Gmail)::

    from:bob to:alice cc:carol bcc:dave subject:report body:word text:word
    "a quoted phrase"        bare words (both: IMAP TEXT, header or body contains)
    after:2024-01-31         SINCE 31-Jan-2024   (received on or after that day)
    before:2024/02/01        BEFORE 1-Feb-2024   (received before that day)
    is:unread|read|flagged|starred|answered|replied|draft
    has:attachment           (checked after the fetch, from BODYSTRUCTURE)
    larger:10K smaller:2M    (K = 1024 bytes, M = 1024**2, G = 1024**3; plain numbers are bytes)
    -term                    NOT
    a OR b OR c              any of them (uppercase OR, like Gmail)
    ( ... )                  grouping; -( ... ) negates a group

Dates follow IMAP SINCE/BEFORE: calendar days of the message's received (internal)
date. ``after:D`` includes day D, ``before:D`` excludes it, so ``after:2024-01-01
before:2024-01-02`` is exactly the first of January. That matches Gmail's documented
example (``after:2004/04/16 before:2004/04/18`` = the 16th and 17th).

Keyword criteria: ``from_`` (or ``from``), ``to``, ``cc``, ``bcc``, ``subject``, ``text``,
``body``, ``since``/``after``, ``before`` (date, datetime or 'YYYY-MM-DD'), ``seen``,
``flagged``, ``answered``, ``draft`` (bool), ``larger``/``smaller`` (int bytes or '10K'),
``has_attachment`` (bool). ``None`` values are ignored.

The result is a :class:`~.program.SearchCriteria` (``program.py`` encodes it for the wire).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidInputError
from ..validation import check_text
from .program import SearchCriteria, Token, group_keys, or_keys

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)b?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_MAX_NUMBER = 2**32 - 1  # RFC 3501 number
MAX_VALUE_BYTES = 4096  # one search value, UTF-8 encoded

_TEXT_OPERATORS = {
    "from": "FROM",
    "to": "TO",
    "cc": "CC",
    "bcc": "BCC",
    "subject": "SUBJECT",
    "body": "BODY",
    "text": "TEXT",
}
_IS_VALUES = {
    "unread": ("UNSEEN",),
    "unseen": ("UNSEEN",),
    "read": ("SEEN",),
    "seen": ("SEEN",),
    "flagged": ("FLAGGED",),
    "starred": ("FLAGGED",),
    "answered": ("ANSWERED",),
    "replied": ("ANSWERED",),
    "draft": ("DRAFT",),
}
_OPERATORS = (*_TEXT_OPERATORS, "after", "before", "is", "has", "larger", "smaller")
_KEYWORDS = (
    "from_", "from", "to", "cc", "bcc", "subject", "text", "body", "since", "after", "before",
    "seen", "flagged", "answered", "draft", "larger", "smaller", "has_attachment",
)  # fmt: skip
_FLAG_KEYWORDS = {
    "seen": ("SEEN", "UNSEEN"),
    "flagged": ("FLAGGED", "UNFLAGGED"),
    "answered": ("ANSWERED", "UNANSWERED"),
    "draft": ("DRAFT", "UNDRAFT"),
}


# -- building blocks -----------------------------------------------------------------------
def _text_value(value: Any, field_name: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidInputError(f"{field_name} must be a string, not {type(value).__name__}.", field=field_name)
    check_text(value, field_name)
    if not value:
        raise InvalidInputError(f"{field_name} must not be empty.", field=field_name)
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates, e.g. from a badly decoded file name
        raise InvalidInputError(f"{field_name} is not valid Unicode text.", field=field_name) from exc
    if len(data) > MAX_VALUE_BYTES:
        # Servers cap command size (Dovecot closes the connection on a 100 KB literal).
        raise InvalidInputError(
            f"{field_name} is too long to search for ({len(data)} bytes; the limit is {MAX_VALUE_BYTES}).",
            field=field_name,
        )
    return data


def _imap_date(value: Any, field_name: str) -> str:
    """A date atom (``5-Jan-2024``) from a date, datetime or 'YYYY-MM-DD' / 'YYYY/MM/DD' string."""
    day: dt.date
    if isinstance(value, dt.datetime):
        day = value.date()  # IMAP dates have no time; the day as written in the value's own zone
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        check_text(value, field_name)
        match = _DATE.match(value.strip())
        if not match:
            raise InvalidInputError(
                f"{field_name}: {value!r} is not a date; write YYYY-MM-DD (for example 2024-01-31).",
                field=field_name,
            )
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError as exc:
            raise InvalidInputError(f"{field_name}: {value!r} is not a valid date ({exc}).", field=field_name) from exc
    else:
        raise InvalidInputError(
            f"{field_name} must be a date, datetime or 'YYYY-MM-DD' string, not {type(value).__name__}.",
            field=field_name,
        )
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year:04d}"


def _size(value: Any, field_name: str) -> str:
    """Bytes as an IMAP number: an int, or a string like '500', '10K', '2M', '1G'."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInputError(f"{field_name} must be a number of bytes or a size like '10K'.", field=field_name)
    if isinstance(value, str):
        check_text(value, field_name)
        match = _SIZE.match(value)
        if not match:
            raise InvalidInputError(
                f"{field_name}: {value!r} is not a size; write bytes or a number with K, M or G (10K, 2M).",
                field=field_name,
            )
        number = int(match[1]) * _SIZE_FACTORS[match[2].lower()]
    else:
        number = value
    if not 0 <= number <= _MAX_NUMBER:
        raise InvalidInputError(f"{field_name} must be between 0 and {_MAX_NUMBER} bytes.", field=field_name)
    return str(number)


def _bool(value: Any, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{field_name} must be True or False, not {value!r}.", field=field_name)
    return value


# -- the query string ----------------------------------------------------------------------
_LEX = re.compile(
    r"""
    \s*(?:
      (?P<lparen>-?\()
    | (?P<rparen>\))
    | (?P<term>-?(?:[A-Za-z_]+:)?(?:"[^"]*"?|[^\s()"]+))
    | (?P<stray>\S)
    )""",
    re.VERBOSE,
)
_TERM = re.compile(r"^(?P<neg>-?)(?:(?P<op>[A-Za-z_]+):)?(?P<value>.*)$", re.DOTALL)


class _Node:
    """A parsed query: the IMAP keys plus the attachment filter it asks for."""

    __slots__ = ("attachment", "keys")

    def __init__(self, keys: list[Token], *, attachment: bool | None = None) -> None:
        self.keys = keys
        self.attachment = attachment


class _QueryParser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(query):
            match = _LEX.match(query, pos)
            if match is None or match.end() == pos:
                break  # only trailing whitespace is left
            pos = match.end()
            kind = match.lastgroup or ""
            if kind == "stray":
                raise InvalidInputError(
                    f"query: unexpected {match[kind]!r} at position {match.start(kind)}.", field="query"
                )
            self.tokens.append((kind, match[kind]))
        self.pos = 0

    def parse(self) -> tuple[list[Token], bool | None]:
        keys, attachment = self._sequence(top=True)
        return keys, attachment

    # sequence := or_group*   (AND); or_group := unary ("OR" unary)*
    def _sequence(self, *, top: bool) -> tuple[list[Token], bool | None]:
        keys: list[Token] = []
        attachment: bool | None = None
        while self.pos < len(self.tokens):
            kind, text = self.tokens[self.pos]
            if kind == "rparen":
                if top:
                    raise InvalidInputError("query: unbalanced ')'.", field="query")
                return keys, attachment
            if kind == "term" and text in ("OR", "AND"):
                if text == "AND":
                    self.pos += 1
                    continue
                raise InvalidInputError("query: OR needs a term on both sides.", field="query")
            alternatives = [self._unary()]
            while self.pos < len(self.tokens) and self.tokens[self.pos] == ("term", "OR"):
                self.pos += 1
                if self.pos >= len(self.tokens) or self.tokens[self.pos][0] == "rparen":
                    raise InvalidInputError("query: OR needs a term on both sides.", field="query")
                alternatives.append(self._unary())
            if len(alternatives) == 1:
                node = alternatives[0]
                if node.attachment is not None:
                    attachment = _merge_attachment(attachment, node.attachment)
                keys.extend(node.keys)
            else:
                if any(not a.keys for a in alternatives):
                    raise InvalidInputError("query: an OR alternative is empty.", field="query")
                if any(a.attachment is not None for a in alternatives):
                    raise InvalidInputError(
                        "query: has:attachment cannot be used inside OR (IMAP cannot search for it); "
                        "use it as a separate term, or filter the DataFrame's has_attachments column.",
                        field="query",
                    )
                keys.extend(or_keys([a.keys for a in alternatives]))
        if not top:
            raise InvalidInputError("query: unbalanced '(' (a ')' is missing).", field="query")
        return keys, attachment

    def _unary(self) -> _Node:
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "lparen":
            keys, attachment = self._sequence(top=False)
            self.pos += 1  # the ')'
            negate = text.startswith("-")
            if negate and attachment is not None:
                if keys:
                    raise InvalidInputError(
                        "query: has:attachment cannot be negated together with other terms; write it separately.",
                        field="query",
                    )
                return _Node([], attachment=not attachment)
            if not keys:
                return _Node([], attachment=attachment)
            group = group_keys(keys)
            return _Node(["NOT", *group] if negate else group, attachment=attachment)
        return self._term(text)

    def _term(self, text: str) -> _Node:
        match = _TERM.match(text)
        assert match is not None  # the pattern matches every string
        negate = bool(match["neg"])
        op = (match["op"] or "").lower()
        value = match["value"]
        if value.startswith('"'):
            value = value[1:-1] if len(value) > 1 and value.endswith('"') else value[1:]
            if not value.strip() and not op and not negate:
                return _Node([])  # an empty phrase "" matches everything: no key
        if op and op not in _OPERATORS:
            raise InvalidInputError(
                f"query: unknown operator {op + ':'!r}. Known operators: "
                + ", ".join(o + ":" for o in _OPERATORS)
                + ". To search for the text itself, put it in quotes.",
                field="query",
            )
        if not value:
            what = f"{op}:" if op else "'-'"
            raise InvalidInputError(f"query: {what} needs a value.", field="query")
        node = self._operator(op, value)
        if negate:
            if node.attachment is not None:
                return _Node([], attachment=not node.attachment)
            return _Node(["NOT", *group_keys(node.keys)])
        return node

    def _operator(self, op: str, value: str) -> _Node:
        field_name = f"query {op}:" if op else "query"
        if not op:
            return _Node(["TEXT", _text_value(value, field_name)])
        if op in _TEXT_OPERATORS:
            return _Node([_TEXT_OPERATORS[op], _text_value(value, field_name)])
        if op == "after":
            return _Node(["SINCE", _imap_date(value, field_name)])
        if op == "before":
            return _Node(["BEFORE", _imap_date(value, field_name)])
        if op in ("larger", "smaller"):
            return _Node([op.upper(), _size(value, field_name)])
        if op == "is":
            keys = _IS_VALUES.get(value.lower())
            if keys is None:
                raise InvalidInputError(
                    f"query: is:{value} is not known; use one of " + ", ".join("is:" + v for v in _IS_VALUES) + ".",
                    field="query",
                )
            return _Node(list(keys))
        # has:
        if value.lower() not in ("attachment", "attachments"):
            raise InvalidInputError(f"query: has:{value} is not known; use has:attachment.", field="query")
        return _Node([], attachment=True)


def _merge_attachment(current: bool | None, new: bool) -> bool:
    if current is not None and current != new:
        raise InvalidInputError(
            "the search asks for messages both with and without attachments; keep one of them.",
            field="has_attachment",
        )
    return new


# -- keyword criteria ----------------------------------------------------------------------
def _keyword_keys(criteria: Mapping[str, Any]) -> tuple[list[Token], bool | None]:
    keys: list[Token] = []
    attachment: bool | None = None
    for name, value in criteria.items():
        if name not in _KEYWORDS:
            raise InvalidInputError(
                f"unknown search criterion {name!r}. Known criteria: {', '.join(_KEYWORDS)}.",
                field=name,
            )
        if value is None:
            continue
        base = "from" if name == "from_" else name
        if base in _TEXT_OPERATORS:
            keys += [_TEXT_OPERATORS[base], _text_value(value, name)]
        elif base in ("since", "after"):
            keys += ["SINCE", _imap_date(value, name)]
        elif base == "before":
            keys += ["BEFORE", _imap_date(value, name)]
        elif base in ("larger", "smaller"):
            keys += [base.upper(), _size(value, name)]
        elif base in _FLAG_KEYWORDS:
            yes, no = _FLAG_KEYWORDS[base]
            keys.append(yes if _bool(value, name) else no)
        else:  # has_attachment
            attachment = _merge_attachment(attachment, _bool(value, name))
    return keys, attachment


def build_criteria(query: str | None = None, criteria: Mapping[str, Any] | None = None) -> SearchCriteria:
    """Turn a query string and keyword criteria (AND-ed) into an IMAP search program.

    Raises :class:`InvalidInputError` (nothing is sent) for unknown operators or keywords,
    bad values, and CR/LF/NUL anywhere.
    """
    keys: list[Token] = []
    attachment: bool | None = None
    if query is not None:
        check_text(query, "query")
        keys, attachment = _QueryParser(query).parse()
    extra_keys, extra_attachment = _keyword_keys(criteria or {})
    keys += extra_keys
    if extra_attachment is not None:
        attachment = _merge_attachment(attachment, extra_attachment)
    non_ascii = any(isinstance(k, bytes) and not k.isascii() for k in keys)
    return SearchCriteria(tuple(keys), "UTF-8" if non_ascii else None, attachment, query or "")
