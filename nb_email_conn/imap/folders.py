"""Folder commands on our wire: LIST, SELECT / EXAMINE and STATUS, with folder names as raw bytes.

Every folder name the server lists is kept as the bytes it sent (``FolderInfo.raw``) and
decoded leniently for display (``names.decode_name``), so a name that is not valid modified
UTF-7 neither breaks the listing nor becomes unreachable: commands send ``raw`` back as a
quoted string, or as a literal when it has 8-bit bytes (``{n+}`` with LITERAL+).
Responses are read with the bounds of ``limits.py``.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import ServerError
from .commands import refused, run_command
from .limits import MAX_LINE, MAX_LISTING, RESPONSE_SLACK
from .names import decode_name
from .program import Token, encode_command
from .wire import Wire

# RFC 6154 special-use flags, then the names servers commonly use without them.
SPECIAL_USE_NAMES: dict[str, tuple[str, ...]] = {
    "\\Sent": ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "INBOX.Sent", "[Gmail]/Sent Mail"),
    "\\Drafts": ("Drafts", "Draft", "INBOX.Drafts", "[Gmail]/Drafts"),
    "\\Trash": ("Trash", "Deleted Items", "Deleted Messages", "Bin", "INBOX.Trash", "[Gmail]/Trash"),
    "\\Junk": ("Junk", "Spam", "Junk E-mail", "Junk Email", "INBOX.Junk", "INBOX.Spam", "[Gmail]/Spam"),
    "\\Archive": ("Archive", "Archives", "INBOX.Archive", "[Gmail]/All Mail"),
    "\\All": ("[Gmail]/All Mail", "All Mail"),
    "\\Flagged": ("[Gmail]/Starred", "Starred", "Flagged"),
}
_CODE_NUMBER = re.compile(rb"^\[(UIDVALIDITY|UIDNEXT) (\d+)\]$", re.IGNORECASE)
_READ_ONLY = re.compile(rb"^\[READ-ONLY\]", re.IGNORECASE)


@dataclass(frozen=True)
class FolderInfo:
    """One LIST entry: ``name`` to show and to pass to the functions, ``raw`` as the server sent it."""

    name: str
    delimiter: str
    flags: tuple[str, ...]
    special_use: str | None
    raw: bytes = b""
    canonical: bool = True
    """Whether ``raw`` is valid modified UTF-7 (the name round-trips)."""

    @property
    def selectable(self) -> bool:
        return not any(f.lower() in ("\\noselect", "\\nonexistent") for f in self.flags)


@dataclass(frozen=True)
class SelectedFolder:
    name: str
    uidvalidity: int
    exists: int
    readonly: bool
    uidnext: int | None = None


def _wire(imap: imaplib.IMAP4, budget: int = RESPONSE_SLACK) -> Wire:
    """Folder names and counts are short: every literal and line within MAX_LINE, the whole answer bounded."""
    return Wire(imap, max_literal=MAX_LINE, max_line=MAX_LINE, budget=budget)


def _word(value: Any) -> bytes:
    return value.upper() if isinstance(value, bytes) else b""


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")


def command(tag: bytes, verb: bytes, tokens: Iterable[Token], *, literal_plus: bool) -> list[bytes]:
    """``tag verb tokens`` as pieces: bytes tokens (names) quoted, or literals when they must be."""
    return encode_command(tag + b" " + verb, list(tokens), literal_plus=literal_plus)


def list_folders(imap: imaplib.IMAP4) -> list[FolderInfo]:
    """``LIST "" "*"``: every folder, names decoded leniently (never a decoding error)."""
    wire = _wire(imap, MAX_LISTING)
    tag = wire.tag()
    folders: list[FolderInfo] = []

    def on_response(response: list[Any]) -> None:
        if len(response) < 5 or _word(response[1]) != b"LIST":
            return
        flags, delimiter, raw = response[2], response[3], response[4]
        if not isinstance(raw, bytes) or not isinstance(flags, list):
            return  # a broken entry names no folder we could open
        flag_names = tuple(_text(f) for f in flags if isinstance(f, bytes))
        special = next((f for f in flag_names if f in SPECIAL_USE_NAMES), None)
        name, canonical = decode_name(raw)
        folders.append(FolderInfo(name, _text(delimiter), flag_names, special, raw, canonical))

    status, text = run_command(wire, [tag + b' LIST "" "*"\r\n'], tag, on_response)
    if status != b"OK":
        raise refused("listing folders", text)
    return folders


def select(imap: imaplib.IMAP4, name: str, raw: bytes, *, readonly: bool, literal_plus: bool) -> SelectedFolder:
    """SELECT, or EXAMINE for reads: UIDVALIDITY, EXISTS, UIDNEXT and whether it is read-only."""
    wire = _wire(imap)
    tag = wire.tag()
    numbers: dict[bytes, int] = {}

    def on_response(response: list[Any]) -> None:
        if len(response) >= 3 and response[1] == b"OK" and isinstance(response[2], bytes):
            match = _CODE_NUMBER.match(response[2])
            if match:
                numbers[match[1].upper()] = int(match[2])
        elif len(response) >= 3 and _word(response[2]) == b"EXISTS" and _word(response[1]).isdigit():
            numbers[b"EXISTS"] = int(response[1])

    verb = b"EXAMINE" if readonly else b"SELECT"
    status, text = run_command(wire, command(tag, verb, [raw], literal_plus=literal_plus), tag, on_response)
    if status != b"OK":
        raise refused(f"opening the folder {name!r}", text)
    if b"UIDVALIDITY" not in numbers:
        raise ServerError(f"the IMAP server opened {name!r} without a UIDVALIDITY, so no message can be named safely.")
    return SelectedFolder(
        name,
        numbers[b"UIDVALIDITY"],
        numbers.get(b"EXISTS", 0),
        readonly or bool(_READ_ONLY.match(text)),
        numbers.get(b"UIDNEXT"),
    )


def status(
    imap: imaplib.IMAP4, raw: bytes, items: tuple[str, ...] = ("MESSAGES", "UNSEEN"), *, literal_plus: bool
) -> dict[str, int] | None:
    """``STATUS name (items)`` as {item: number}; None when the server refuses (the folder is gone)."""
    wire = _wire(imap)
    tag = wire.tag()
    found: dict[str, int] = {}

    def on_response(response: list[Any]) -> None:
        if len(response) >= 4 and _word(response[1]) == b"STATUS" and isinstance(response[3], list):
            pairs = response[3]
            for index in range(0, len(pairs) - 1, 2):
                key, value = pairs[index], pairs[index + 1]
                if isinstance(key, bytes) and isinstance(value, bytes) and value.isdigit():
                    found[key.decode("ascii", "replace").upper()] = int(value)

    tokens: list[Token] = [raw, "(", *items, ")"]
    answer, _ = run_command(wire, command(tag, b"STATUS", tokens, literal_plus=literal_plus), tag, on_response)
    return found if answer == b"OK" else None
