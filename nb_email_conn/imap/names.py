"""Folder names: IMAP's modified UTF-7 (RFC 3501 §5.1.3), decoded leniently, raw bytes kept.

A server should send every folder name in modified UTF-7, but some send names that are not
(``R&D`` with a bare ``&``, ``&ZZZ-`` with non-zero padding bits, raw 8-bit UTF-8 or Latin-1).
imapclient's decoder raises ``UnicodeDecodeError`` on those, and resolving any folder lists
them all, so one such name used to make every search fail. Here:

- :func:`decode_name` never raises: a strict modified UTF-7 decode, else the bytes as UTF-8,
  else as Latin-1 (which maps every byte), and says whether the name was canonical;
- the raw bytes are kept (``FolderInfo.raw``) and sent back as they came, so a folder with
  an odd name can still be opened;
- :func:`encode_name` is the strict encoder for names the user typed that the server did not list.
"""

from __future__ import annotations

import base64
import binascii
import re

_PRINTABLE = re.compile(rb"^[\x20-\x7e]*$")
_SHIFTED = re.compile(rb"&([^-]*)-")
_BASE64_CHARS = re.compile(rb"^[A-Za-z0-9+,]*$")


def _decode_shift(chunk: bytes) -> str:
    """The text of one ``&...-`` run (without the delimiters); ValueError if it is not valid."""
    if not chunk:
        return "&"
    if not _BASE64_CHARS.match(chunk) or len(chunk) % 4 == 1:
        raise ValueError("not modified base64")
    padded = chunk.replace(b",", b"/") + b"=" * (-len(chunk) % 4)
    try:
        data = base64.b64decode(padded, validate=True)
    except binascii.Error as exc:
        raise ValueError("not modified base64") from exc
    if len(data) % 2 or not data:
        raise ValueError("not whole UTF-16 units")
    if base64.b64encode(data).rstrip(b"=").replace(b"/", b",") != chunk:
        raise ValueError("non-zero padding bits")  # e.g. "&ZZZ-"
    return data.decode("utf-16-be")  # lone surrogates raise UnicodeDecodeError, a ValueError


def decode_mutf7(raw: bytes) -> str:
    """Strict modified UTF-7; ``ValueError`` for anything that is not (the caller decides what then)."""
    if not _PRINTABLE.match(raw):
        raise ValueError("8-bit or control bytes")
    out: list[str] = []
    position = 0
    for match in _SHIFTED.finditer(raw):
        plain = raw[position : match.start()]
        if b"&" in plain:
            raise ValueError("a bare '&'")
        out.append(plain.decode("ascii"))
        out.append(_decode_shift(match[1]))
        position = match.end()
    rest = raw[position:]
    if b"&" in rest:
        raise ValueError("a bare '&'")  # "R&D"
    out.append(rest.decode("ascii"))
    return "".join(out)


def encode_name(name: str) -> bytes:
    """``name`` in modified UTF-7 (what a compliant server expects for a name it did not list)."""
    out = bytearray()
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be", "surrogatepass")
            out.extend(b"&" + base64.b64encode(data).rstrip(b"=").replace(b"/", b",") + b"-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.extend(b"&-" if char == "&" else char.encode("ascii"))
        else:
            pending.append(char)
    flush()
    return bytes(out)


def decode_name(raw: bytes) -> tuple[str, bool]:
    """(the name to show, whether ``raw`` was canonical modified UTF-7). Never raises."""
    try:
        name = decode_mutf7(raw)
    except ValueError:
        pass
    else:
        return name, encode_name(name) == raw
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("latin-1"), False
