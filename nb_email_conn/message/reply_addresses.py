"""The original's address headers, read strictly for a reply.

Addresses are read from the raw header lines (not from the leniently parsed
``Email.to``/``cc``), parsed with the RFC 5322 parser and refused when it reports a real
defect (CVE-2023-27043 shapes such as ``a@example.org)<b@example.org>``), so a reply never
goes to an address that was guessed. Obsolete but unambiguous syntax that real mail uses
(``John Q. Public <jqp@example.org>``, an empty ``undisclosed-recipients:;`` group, a stray
comma) and defects confined to a display name (a broken encoded word, an unknown charset)
are accepted; each address is then checked by the package's strict
:func:`~nb_email_conn.validation.parse_address`.
"""

from __future__ import annotations

import re
from email import _header_value_parser as header_parser
from email import errors as email_errors
from email import policy as email_policy
from email.errors import HeaderParseError
from email.parser import BytesHeaderParser

from ..errors import InvalidInputError
from ..validation import Address, parse_address
from .parse import Email

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATES = re.compile(r"[\udc80-\udcff]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def address_key(addr: str) -> str:
    """Case-insensitive comparison key; an internationalised domain compares as IDNA."""
    local, _, domain = addr.strip().rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return f"{local}@{domain}".lower()


def _fix_surrogates(value: str) -> str:
    """Raw 8-bit header bytes (surrogate-escaped by the parser): UTF-8, else cp1252."""
    if not _SURROGATES.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def header_values(original: Email, name: str) -> list[str]:
    """Every occurrence of header ``name``, unfolded: from the raw bytes when the Email
    has them, else from ``Email.headers`` (an Email built by hand)."""
    if original.raw:
        end = _HEADER_END.search(original.raw)
        block = original.raw[: end.end()] if end else original.raw
        parsed = BytesHeaderParser(policy=email_policy.compat32).parsebytes(block)
        return [
            _fix_surrogates(_FOLD.sub("", str(v))).strip() for k, v in parsed.raw_items() if k.lower() == name.lower()
        ]
    return [v for k, v in original.headers.items() if k.lower() == name.lower()]


def _display_name_defects(token: header_parser.TokenList) -> set[int]:
    found: set[int] = set()
    stack: list[object] = [token]
    while stack:
        item = stack.pop()
        if isinstance(item, header_parser.TokenList):
            if item.token_type == "display-name":  # noqa: S105 (a token kind, not a password)
                found.update(id(d) for d in item.all_defects)
            else:
                stack.extend(item)
    return found


def mailboxes(value: str, what: str) -> list[Address]:
    """The mailboxes of one address header value; InvalidInputError when it is ambiguous."""
    problem = InvalidInputError(
        f"the original's {what} header {value[:200]!r} cannot be parsed unambiguously, so it is not "
        "used as a recipient (nothing is guessed). Use send_email with the addresses you mean.",
        field="ref",
    )
    if "\x00" in value or "\r" in value or "\n" in value:
        raise problem
    try:
        parsed, rest = header_parser.get_address_list(value)
    except (HeaderParseError, IndexError) as exc:
        raise problem from exc
    # Defects inside a display name (a broken encoded word, an unknown charset) only
    # spoil the name; any other defect could mean the address itself was misread.
    harmless = _display_name_defects(parsed)
    if rest or any(
        not isinstance(d, email_errors.ObsoleteHeaderDefect) and id(d) not in harmless for d in parsed.all_defects
    ):
        raise problem
    result: list[Address] = []
    for mailbox in parsed.all_mailboxes:
        if not mailbox.addr_spec:
            raise problem
        try:
            addr = parse_address(mailbox.addr_spec, "ref").addr
        except InvalidInputError as exc:
            raise problem from exc
        name = CONTROL.sub("", str(mailbox.display_name or "")).strip()
        result.append(Address(name, addr))
    return result


def header_addresses(original: Email, name: str) -> list[Address]:
    """Every address of every ``name`` header of the original (InvalidInputError when one is ambiguous)."""
    return [a for value in header_values(original, name) if value.strip() for a in mailboxes(value, name)]
