"""Bytes to text, for headers and bodies alike: one rule for labelled and unlabelled bytes.

- **Unlabelled** bytes (raw 8-bit header values, text parts without a usable charset):
  ASCII as is; else UTF-8 when the bytes are valid UTF-8; else Windows-1252. Valid UTF-8
  rarely happens by accident in Latin-1 text (its multi-byte sequences need specific
  byte pairs), and Windows-1252 is a superset of the printable ISO-8859-1 range (what
  browsers read "iso-8859-1" as, too), so ``Ren\\xe9`` reads "René" and
  ``Ren\\xc3\\xa9`` reads "René". Bytes Windows-1252 leaves undefined become U+FFFD.
- **Labelled** bytes (an RFC 2047 word's charset, a part's ``charset=``): that codec, with
  U+FFFD for bytes it cannot decode; an unknown or non-text charset (``x-unknown``,
  ``unknown-8bit``, ``base64``) is treated as unlabelled.
"""

from __future__ import annotations

import codecs
import functools
import re

_SURROGATE_RUN = re.compile(r"[\udc80-\udcff]+")


def decode_unlabelled(data: bytes) -> str:
    """ASCII, else UTF-8, else Windows-1252 (see the module docstring)."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


@functools.lru_cache(maxsize=256)
def codec_name(charset: str) -> str | None:
    """The Python text codec for a MIME charset name, or None when unknown or not text.

    An RFC 2231 language suffix (``utf-8*en``) and surrounding quotes are ignored.
    """
    name = charset.split("*", 1)[0].strip().strip("\"'")
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_labelled(data: bytes, charset: str | None) -> str:
    """Bytes in their declared charset; unknown charsets as :func:`decode_unlabelled`."""
    codec = codec_name(charset) if charset else None
    if codec is None:
        return decode_unlabelled(data)
    try:
        return data.decode(codec, "replace")
    except Exception:  # a codec that fails even with errors="replace"
        return decode_unlabelled(data)


def fix_surrogates(text: str) -> str:
    """Text from the ``email`` package with raw 8-bit bytes kept as surrogate escapes:
    each run of such bytes decoded as :func:`decode_unlabelled`."""
    if not _SURROGATE_RUN.search(text):
        return text
    return _SURROGATE_RUN.sub(lambda m: decode_unlabelled(m[0].encode("utf-8", "surrogateescape")), text)
