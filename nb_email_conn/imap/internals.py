"""Every use of imapclient's and imaplib's private internals, in one place.

Written against **imapclient 4.1.0** and the **imaplib 2.58** of CPython 3.10-3.13 (the
version string ``imaplib.__version__`` has stayed 2.58 since Python 3.6). Nothing here is
public API of either library, so:

- ``pyproject.toml`` pins imapclient to :data:`IMAPCLIENT_RANGE` (an upper bound included);
- ``tests/imap/test_internals.py`` asserts that the installed imapclient is in that range and
  that every attribute used below exists on a real logged-in connection (and on
  ``imaplib.IMAP4``), so an upgrade fails in CI, not at a user's.

What we reach for, and why:

- ``IMAPClient._imap``: the logged-in ``imaplib.IMAP4``; the bulk search path talks to it
  directly (imapclient's lexer costs ~90% of a large fetch).
- ``IMAP4._new_tag()`` and ``IMAP4.tagged_commands``: tags for pipelined commands, taken
  from imaplib's own counter so its bookkeeping stays consistent, and released afterwards.
- ``IMAP4.file``: imaplib's buffered reader (``readline``, ``read``, ``peek``); STARTTLS
  replaces it, so read it after the handshake.
- ``IMAP4.untagged_responses``: cleared after STARTTLS (anything said before TLS is
  dropped), and read for the ``COPYUID`` / ``APPENDUID`` codes imapclient does not return.
- ``IMAP4.state``: ``NONAUTH`` versus a PREAUTH greeting.
- ``IMAP4.debug``: imapclient sets 5, which formats a repr of every response.
- ``IMAPClient._cached_capabilities``: forgotten after STARTTLS and after login.
- ``IMAPClient._create_IMAP4`` (with ``_timeout``, ``ssl``, ``ssl_context``, ``host``, ``port``,
  ``stream``) and imapclient's ``tls.IMAP4_TLS`` / ``imap4.IMAP4WithTimeout``: overridden by
  :class:`BoundedIMAPClient` so that imaplib's connection is our subclass, whose ``read`` and
  ``readline`` (documented by imaplib as meant to be overridden) are bounded from the
  greeting on: imaplib itself reads any literal size a server announces (CPython gh-119511).

``IMAP4.send``, ``IMAP4.shutdown``, ``IMAPClient.socket()`` and the imapclient exceptions
are public and used directly where needed.
"""

from __future__ import annotations

import imaplib
import re
from typing import Any, BinaryIO, cast

import imapclient
from imapclient import imap4 as imapclient_imap4
from imapclient import tls as imapclient_tls

from ..errors import ServerError
from . import limits

IMAPCLIENT_TESTED = "4.1.0"
IMAPCLIENT_RANGE = ">=3.0,<4.2"  # the pin in pyproject.toml; the version test checks they agree
_LOWEST = (3, 0)
_BEYOND = (4, 2)

# What the functions below touch, for the version test (instance attributes of a live client).
CLIENT_ATTRIBUTES = ("_imap", "_cached_capabilities", "_create_IMAP4", "_timeout", "ssl", "ssl_context", "host", "port")
IMAP4_ATTRIBUTES = ("_new_tag", "tagged_commands", "file", "untagged_responses", "state", "debug", "sock")
READER_METHODS = ("readline", "read", "peek")


def version_tuple(version: str) -> tuple[int, ...]:
    """``"4.1.0"`` -> (4, 1, 0); pre-release suffixes are ignored (``"4.2.0rc1"`` -> (4, 2, 0))."""
    numbers = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        numbers.append(int(match[0]))
    return tuple(numbers)


def supported_version(version: str = imapclient.__version__) -> bool:
    """Whether ``version`` of imapclient is one this adapter was written for."""
    return _LOWEST <= version_tuple(version) < _BEYOND


def missing_internals(client: imapclient.IMAPClient) -> list[str]:
    """The private attributes this module uses that a live client lacks (empty when all is well)."""
    missing = [f"IMAPClient.{name}" for name in CLIENT_ATTRIBUTES if not hasattr(client, name)]
    imap = getattr(client, "_imap", None)
    if imap is None:
        return missing
    missing += [f"IMAP4.{name}" for name in IMAP4_ATTRIBUTES if not hasattr(imap, name)]
    reader = getattr(imap, "file", None)
    missing += [f"IMAP4.file.{name}" for name in READER_METHODS if not hasattr(reader, name)]
    return missing


# -- the imapclient side ---------------------------------------------------------------------
def raw_imap(client: imapclient.IMAPClient) -> imaplib.IMAP4:
    """The ``imaplib.IMAP4`` under an IMAPClient (logged in, a folder selected or not)."""
    return cast(imaplib.IMAP4, client._imap)


def quiet_protocol_debug(client: imapclient.IMAPClient) -> None:
    """Turn off imaplib's debug formatting that imapclient switches on (level 5)."""
    client._imap.debug = 0


def connection_state(client: imapclient.IMAPClient) -> str:
    """imaplib's state: ``NONAUTH`` after a normal greeting, ``AUTH`` after PREAUTH or login."""
    return str(client._imap.state)


def forget_capabilities(client: imapclient.IMAPClient) -> None:
    """Make imapclient ask CAPABILITY again (after STARTTLS, after login)."""
    client._cached_capabilities = None


def discard_untagged(client: imapclient.IMAPClient) -> None:
    """Drop every untagged response imaplib has collected (after STARTTLS)."""
    client._imap.untagged_responses = {}


def pop_untagged(client: imapclient.IMAPClient, name: str) -> list[Any]:
    """Take imaplib's collected untagged data for ``name`` (``COPYUID``, ``APPENDUID``)."""
    return list(client._imap.untagged_responses.pop(name, []))


def mark_selected(client: imapclient.IMAPClient, selected: bool) -> None:
    """Tell imaplib a folder is (or is no longer) selected after our own SELECT / EXAMINE on the wire,
    so its state check lets imapclient's commands for a selected folder through."""
    client._imap.state = "SELECTED" if selected else "AUTH"


def is_closed(client: imapclient.IMAPClient) -> bool:
    """True when the client's socket is gone or closed (the bulk parser shut a stream it distrusted)."""
    sock = getattr(getattr(client, "_imap", None), "sock", None)
    return sock is None or sock.fileno() == -1


# -- the imaplib side (the bulk path's wire) ---------------------------------------------------
def new_tag(imap: imaplib.IMAP4) -> bytes:
    """The next tag from imaplib's counter (it records the tag as a command in flight)."""
    return cast(bytes, imap._new_tag())


def release_tag(imap: imaplib.IMAP4, tag: bytes) -> None:
    """Forget a tag :func:`new_tag` gave once its command completed."""
    imap.tagged_commands.pop(tag, None)


def reader(imap: imaplib.IMAP4) -> BinaryIO:
    """imaplib's buffered reader of the server's bytes."""
    return cast(BinaryIO, imap.file)


# -- bounded reads for every command imaplib runs ---------------------------------------------
class _BoundedReads(imaplib.IMAP4):
    """imaplib's ``read`` / ``readline`` with the bounds of ``limits.py``; used as a mixin.

    A literal over ``max_literal`` (``limits.max_message_size()`` unless set) is refused at its
    announcement, a line over ``limits.MAX_LINE`` is refused, and all bytes received between two
    sends (one command's answer) are bounded by that literal bound plus ``limits.RESPONSE_SLACK``. Each refusal closes
    the socket (imaplib's state is no longer trustworthy) and raises :class:`ServerError`.
    """

    max_literal: int | None = None
    _received = 0

    def send(self, data: Any) -> None:
        self._received = 0
        super().send(data)

    def _refuse(self, what: str, advice: str = "Please retry.") -> None:
        try:
            self.shutdown()
        except OSError:
            pass
        raise ServerError(f"the IMAP server {what}; the connection was closed. {advice}")

    def _count(self, size: int) -> None:
        self._received += size
        budget = (self.max_literal or limits.max_message_size()) + limits.RESPONSE_SLACK
        if self._received > budget:
            self._refuse(f"sent more than {budget} bytes for one command (the response limit)")

    def readline(self) -> bytes:
        line = cast(bytes, self.file.readline(limits.MAX_LINE + 1))
        if len(line) > limits.MAX_LINE:
            self._refuse(f"sent a response line over {limits.MAX_LINE} bytes (the line limit)")
        self._count(len(line))
        return line

    def read(self, size: int) -> bytes:
        limit = self.max_literal or limits.max_message_size()
        if size > limit:
            self._refuse(
                f"announced a {size}-byte literal, over the limit of {limit} bytes ({limits.LIMIT_NAME})",
                "Nothing of it was read. Raise the limit to read it.",
            )
        self._count(size)
        pieces = []
        left = size
        while left:
            piece = cast(bytes, self.file.read(min(left, 1 << 20)))
            if not piece:
                break
            pieces.append(piece)
            left -= len(piece)
        return b"".join(pieces)


class _BoundedTLS(_BoundedReads, imapclient_tls.IMAP4_TLS):  # type: ignore[misc]
    pass


class _BoundedPlain(_BoundedReads, imapclient_imap4.IMAP4WithTimeout):  # type: ignore[misc]
    pass


class BoundedIMAPClient(imapclient.IMAPClient):  # type: ignore[misc]
    """An IMAPClient whose imaplib connection reads with bounds (see :class:`_BoundedReads`)."""

    def _create_IMAP4(self) -> imaplib.IMAP4:
        connect_timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            return _BoundedTLS(self.host, self.port, self.ssl_context, connect_timeout)  # type: ignore[call-arg]
        return _BoundedPlain(self.host, self.port, connect_timeout)


def set_literal_limit(client: imapclient.IMAPClient, size: int) -> None:
    """The literal bound of this connection (a ``ConnectionConfig.max_message_size``)."""
    imap = client._imap
    if isinstance(imap, _BoundedReads):
        imap.max_literal = size
