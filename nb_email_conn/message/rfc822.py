"""Attached messages (``message/rfc822``) carried byte for byte.

RFC 2046 (5.2.1) allows only 7bit, 8bit or binary for a ``message/rfc822`` body, and the
email package would re-serialise an attached message (rewriting its headers and line
ends). So :func:`attach_message` adds a part whose body is a random placeholder token,
and :func:`splice` replaces each token by the message's bytes in the serialised whole.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable, Mapping
from email.message import EmailMessage

MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
ATTACHED_MESSAGE_NAME = "original message.eml"
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


def canonical_message(data: bytes) -> bytes | None:
    """The message with CRLF line ends (the only change: bare LF or CR is not allowed in a
    7bit/8bit body nor on the SMTP wire), or None when no 7bit/8bit body can carry it
    (NUL bytes, lines over 998 bytes)."""
    canonical = _LINE_ENDS.sub(b"\r\n", data)
    if b"\x00" in canonical or any(len(line) > 998 for line in canonical.split(b"\r\n")):
        return None
    return canonical


def _base64_lines(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def attach_message(message: EmailMessage, name: str, content_type: str, data: bytes) -> tuple[str, bytes, int]:
    """Attach ``data`` (a whole message) to ``message`` as a placeholder part; returns
    ``(token, bytes to splice in, size)``. ``Content-Transfer-Encoding`` is ``7bit``, or
    ``8bit`` when the bytes are not ASCII; data no 7bit/8bit body can carry falls back to
    base64 (which RFC 2046 does not foresee, but which is then the one way to deliver it
    intact; the email package would write it with bare LF line ends)."""
    canonical = canonical_message(data)
    if canonical is None:
        wire, cte, size = _base64_lines(data), "base64", len(data)
    else:
        wire, cte, size = canonical, "7bit" if canonical.isascii() else "8bit", len(canonical)
    if message.get_content_type() != "multipart/mixed":
        message.make_mixed()
    token = f"nb-email-conn-attached-message-{secrets.token_hex(16)}"
    part = EmailMessage(policy=message.policy)
    part["Content-Type"] = content_type
    part.add_header("Content-Disposition", "attachment", filename=name)
    part["Content-Transfer-Encoding"] = cte
    part.set_payload(token)
    message.attach(part)
    return token, wire, size


def boundary_outside(contents: Iterable[bytes]) -> str:
    """A multipart boundary that occurs in none of the spliced messages."""
    datas = list(contents)
    while True:
        boundary = f"===============nbec{secrets.token_hex(12)}=="
        if not any(boundary.encode("ascii") in data for data in datas):
            return boundary


def splice(data: bytes, spliced: Mapping[str, bytes]) -> bytes:
    """Replace each placeholder token in ``data`` by its bytes, in one pass."""
    if not spliced:
        return data
    markers = {token.encode("ascii"): raw for token, raw in spliced.items()}
    pattern = re.compile(b"|".join(re.escape(marker) for marker in markers))
    if sorted(pattern.findall(data)) != sorted(markers):  # each token exactly once, or the splice is wrong
        raise RuntimeError("an attached message's placeholder is missing or repeated; message not built.")
    return pattern.sub(lambda match: markers[match.group()], data)
