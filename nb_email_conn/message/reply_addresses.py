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
from email.errors import HeaderParseError

from ..errors import InvalidInputError
from ..validation import Address, parse_address
from .headers import header_block, header_fields
from .parse import Email

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def address_key(addr: str) -> str:
    """Case-insensitive comparison key; an internationalised domain compares as IDNA."""
    local, _, domain = addr.strip().rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return f"{local}@{domain}".lower()


def header_values(original: Email, name: str) -> list[str]:
    """Every occurrence of header ``name``, unfolded, read by the package's one header decoder
    (``headers.py``, as search rows and ``get_email`` read it); from ``Email.headers`` when the
    Email has no raw bytes (one built by hand)."""
    if original.raw:
        wanted = name.lower()
        return [value for key, value in header_fields(header_block(original.raw)) if key.lower() == wanted]
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
