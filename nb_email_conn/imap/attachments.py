"""Whether a message has attachments, from its BODYSTRUCTURE: the rule, a cheap pre-check, a cache.

:func:`has_attachment` is the rule on a parsed BODYSTRUCTURE. A search row's structure
arrives as text; most texts have no word that could make the rule true
(:func:`may_have_attachment`), and the rest repeat a handful of shapes, so
:class:`StructureShapes` parses each shape once.
"""

from __future__ import annotations

import re
from typing import Any

from .response import parse_response
from .wire import Wire

# has_attachment() can only be True when one of these words appears in the BODYSTRUCTURE
# (quoted or not, alone or as a prefix: pymap sends a raw 'attachment; filename=...').
ATTACHMENT_HINT = re.compile(rb"attachment|name|message", re.IGNORECASE)
# has_attachment() depends on a BODYSTRUCTURE's shape and on the strings it compares, never on
# numbers or other strings: those are blanked out so that the answer is computed once per shape.
_COMPARED_STRINGS = frozenset({b"text", b"message", b"rfc822", b"global", b"name", b"filename", b"attachment"})
_STRUCTURE_NUMBER = re.compile(rb"(?<=[ (])\d+(?=[ )])")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_CACHE_LIMIT = 10_000  # shapes remembered per search


def parse_structure(wire: Wire, text: bytes) -> Any:
    """A BODYSTRUCTURE's text (one line, no literals) as nested lists."""
    return parse_response(wire, text + b"\r\n")[0]


def may_have_attachment(structure: bytes) -> bool:
    """``ATTACHMENT_HINT.search(structure) is not None``, several times faster (no IGNORECASE regex)."""
    lowered = structure.lower()
    return b"name" in lowered or b"attachment" in lowered or b"message" in lowered


def _lower(value: Any) -> bytes:
    return value.lower() if isinstance(value, bytes) else b""


def _params_have_name(params: Any, names: tuple[bytes, ...]) -> bool:
    if not isinstance(params, list):
        return False
    return any(_lower(params[i]) in names for i in range(0, len(params) - 1, 2))


def has_attachment(structure: Any) -> bool:
    """Whether a BODYSTRUCTURE has an attachment.

    True for any part with ``Content-Disposition: attachment``, any leaf that is neither
    text nor multipart and has a file name (disposition ``filename`` or type ``name``),
    and any attached message (``message/rfc822``, ``message/global``).
    """
    if not isinstance(structure, list) or not structure:
        return False
    if isinstance(structure[0], list):  # multipart: parts..., subtype, [params, disposition, ...]
        index = 0
        while index < len(structure) and isinstance(structure[index], list):
            if has_attachment(structure[index]):
                return True
            index += 1
        disposition = structure[index + 2] if len(structure) > index + 2 else None
        return isinstance(disposition, list) and bool(disposition) and _lower(disposition[0]) == b"attachment"
    kind = _lower(structure[0])
    subtype = _lower(structure[1]) if len(structure) > 1 else b""
    if kind == b"message" and subtype in (b"rfc822", b"global"):
        return True
    # Single part: type subtype params id description encoding size [lines] md5 disposition ...
    disposition_index = 9 if kind == b"text" else 8
    disposition = structure[disposition_index] if len(structure) > disposition_index else None
    if isinstance(disposition, bytes) and disposition.lower().startswith(b"attachment"):
        return True  # pymap sends the raw header value instead of ("attachment" (params))
    if isinstance(disposition, list) and disposition:
        if _lower(disposition[0]) == b"attachment":
            return True
        if kind != b"text" and len(disposition) > 1 and _params_have_name(disposition[1], (b"filename",)):
            return True
    return kind != b"text" and len(structure) > 2 and _params_have_name(structure[2], (b"name",))


class StructureShapes:
    """:func:`has_attachment` of BODYSTRUCTURE texts, computed once per shape (one search's cache)."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire  # parse_response reports an unbalanced structure through it
        self._structures: dict[bytes, bool] = {}
        self._by_digits: dict[bytes, bool] = {}

    def has_attachment(self, text: bytes) -> bool:
        """has_attachment() of a BODYSTRUCTURE's text (with an attachment hint).

        First by the text with every digit made "0" (sizes, line counts, numbered file names):
        has_attachment() compares no string with a digit in it but "rfc822", so that key is
        only used when "rfc" does not occur.
        """
        key = text.translate(_DIGITS_TO_ZERO)
        if b"rfc" in key.lower():
            return self._by_shape(text)
        known = self._by_digits.get(key)
        if known is None:
            known = self._by_shape(text)
            if len(self._by_digits) < _CACHE_LIMIT:
                self._by_digits[key] = known
        return known

    def _by_shape(self, text: bytes) -> bool:
        if b"\\" in text:  # escaped quotes: splitting at '"' would not find the strings
            return has_attachment(parse_structure(self.wire, text))
        pieces = text.split(b'"')  # outside, "inside", outside, ...
        pieces[1::2] = [
            piece if piece.lower() in _COMPARED_STRINGS or piece[:10].lower() == b"attachment" else b""
            for piece in pieces[1::2]
        ]
        shape = _STRUCTURE_NUMBER.sub(b"0", b'"'.join(pieces))
        known = self._structures.get(shape)
        if known is None:
            known = has_attachment(parse_structure(self.wire, shape))
            if len(self._structures) < _CACHE_LIMIT:
                self._structures[shape] = known
        return known
