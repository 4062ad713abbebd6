"""Input checks done before anything reaches a server.

imapclient and smtplib pass CR/LF straight onto the wire, so every value we send is
checked here first; a failed check raises :class:`InvalidInputError` and nothing is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email import _header_value_parser as header_parser
from email.errors import HeaderParseError
from typing import NamedTuple

from .errors import InvalidInputError

_CONTROL = re.compile(r"[\r\n\x00]")
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[^\s@()<>\[\]:;\\\",.]{1,63}(?<!-)$")
# IMAP flags and keywords: a backslash system flag or an atom (RFC 3501 flag-keyword).
_FLAG = re.compile(r"^\\?[A-Za-z0-9$_.\-+!#&'^`|~]+$")


class Address(NamedTuple):
    """One mailbox: display name (may be empty) and the bare address."""

    name: str
    addr: str

    def __str__(self) -> str:
        from email.utils import formataddr

        return formataddr((self.name, self.addr)) if self.name else self.addr


def check_text(value: str, field: str, *, allow_empty: bool = True, max_length: int | None = None) -> str:
    """Refuse CR, LF and NUL (the injection characters) in a value sent to a server."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, not {type(value).__name__}.", field=field)
    if _CONTROL.search(value):
        raise InvalidInputError(
            f"{field} contains a line break or NUL character, which is not allowed "
            "(it could inject commands). Remove it and try again.",
            field=field,
        )
    if not allow_empty and not value.strip():
        raise InvalidInputError(f"{field} must not be empty.", field=field)
    if max_length is not None and len(value) > max_length:
        raise InvalidInputError(f"{field} is longer than {max_length} characters.", field=field)
    return value


def check_flag(flag: str, field: str = "flag") -> str:
    """A system flag (``\\Seen``) or a keyword atom (``$Label1``)."""
    check_text(flag, field, allow_empty=False)
    if not _FLAG.match(flag):
        raise InvalidInputError(
            f"{field} {flag!r} is not a valid IMAP flag: use a system flag such as \\Seen "
            "or a keyword made of letters, digits and $_.-",
            field=field,
        )
    return flag


def _check_addr_spec(addr: str, field: str) -> None:
    local, _, domain = addr.rpartition("@")
    if not local or not domain or len(addr) > 254:
        raise InvalidInputError(f"{field}: {addr!r} is not a valid email address.", field=field)
    dot_atom = _ATOM.match(local) and ".." not in local and not local.startswith(".") and not local.endswith(".")
    # Quoted local parts are legal but rare; allow them only without quotes/backslashes inside.
    quoted = local.startswith('"') and local.endswith('"') and '"' not in local[1:-1] and "\\" not in local
    if not (dot_atom or quoted):
        raise InvalidInputError(f"{field}: {addr!r} has an invalid local part.", field=field)
    labels = domain.split(".")
    if not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidInputError(f"{field}: {addr!r} has an invalid domain.", field=field)


def parse_addresses(value: str | Iterable[str], field: str) -> list[Address]:
    """Parse recipients strictly: a comma-separated string or an iterable of strings.

    Anything the RFC 5322 parser reports a defect for, anything left over, and
    ambiguous forms such as ``alice@example.org)<bob@example.org>`` (CVE-2023-27043)
    are refused rather than guessed at.
    """
    items = [value] if isinstance(value, str) else list(value)
    result: list[Address] = []
    for item in items:
        check_text(item, field)
        if not item.strip():
            continue
        try:
            parsed, rest = header_parser.get_address_list(item)
        except (HeaderParseError, IndexError) as exc:
            raise InvalidInputError(f"{field}: {item!r} is not a valid address list.", field=field) from exc
        if rest or parsed.all_defects:
            raise InvalidInputError(
                f"{field}: could not parse {item!r} unambiguously; write addresses as "
                "'Name <user@example.org>' separated by commas.",
                field=field,
            )
        kinds = {a.token_type for a in parsed.addresses} | {a[0].token_type for a in parsed.addresses}
        if "group" in kinds:
            raise InvalidInputError(f"{field}: address groups are not supported.", field=field)
        for mailbox in parsed.all_mailboxes:
            if not mailbox.addr_spec:
                raise InvalidInputError(f"{field}: {item!r} is not a valid address.", field=field)
            addr = mailbox.addr_spec
            _check_addr_spec(addr, field)
            result.append(Address(str(mailbox.display_name or ""), addr))
    return result


def parse_address(value: str, field: str) -> Address:
    """Exactly one address."""
    addresses = parse_addresses(value, field)
    if len(addresses) != 1:
        raise InvalidInputError(f"{field} must be exactly one email address.", field=field)
    return addresses[0]


def looks_like_address(value: str) -> bool:
    try:
        parse_address(value, "address")
    except InvalidInputError:
        return False
    return True
