"""How much an IMAP server may send us: the bounds on every literal, line and response.

A server announces each literal's size before its bytes (``{n}``); every read checks that
size against a bound *before* reading, and every line is read with a length cap, so a
hostile server cannot make the client read until memory runs out. Over a bound, the
connection is closed (it can no longer be trusted to be in step) and a
:class:`~nb_email_conn.errors.ServerError` names the bound; the next call reconnects.

``MAX_MESSAGE_SIZE`` is the one bound a user may need to change (a mailbox with messages over
100 MiB): set ``nb_email_conn.imap.limits.MAX_MESSAGE_SIZE`` (bytes); it is read at each call.
A ``ConnectionConfig`` attribute ``max_message_size``, when present, takes precedence.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_SIZE = 100 * 1024 * 1024
"""The largest message ``get_email`` reads (its ``BODY[]`` literal), and the largest literal any
imapclient/imaplib command may receive. Default 100 MiB."""

MAX_LINE = 1024 * 1024
"""The longest response line outside the bulk search path (imaplib's own cap is 1,000,000)."""

RESPONSE_SLACK = 16 * 1024 * 1024
"""What one command may receive besides its largest literal (lines, unsolicited responses)."""

MAX_LISTING = 64 * 1024 * 1024
"""A whole LIST answer (a million folders is ~50 MB)."""

SEARCH_MAX_LITERAL = 64 * 1024 * 1024
"""The bulk search path: one header block or BODYSTRUCTURE string."""

SEARCH_MAX_LINE = 256 * 1024 * 1024
"""The bulk search path: a SEARCH answer for 10M sparse UIDs is ~80 MB."""

MAX_UIDS_PER_COMMAND = 20_000
"""UIDs per existence check / flags read, so one SEARCH answer stays far below ``MAX_LINE``."""

LIMIT_NAME = "nb_email_conn.imap.limits.MAX_MESSAGE_SIZE"


def max_message_size(config: Any = None) -> int:
    """The bound for this connection: ``config.max_message_size`` when set, else ``MAX_MESSAGE_SIZE``."""
    configured = getattr(config, "max_message_size", None)
    return int(configured) if isinstance(configured, int) and configured > 0 else int(MAX_MESSAGE_SIZE)
