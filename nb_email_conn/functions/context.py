"""What a function's preview and runner work with: one connection's servers and settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..cache import LocalIndex
    from ..config import ConnectionConfig
    from ..imap.mailbox import Mailbox
    from ..imap.session import ImapSession


@dataclass
class Context:
    """A connection's IMAP session and mailbox, its settings, and how to reach its secret."""

    config: ConnectionConfig
    session: ImapSession
    mailbox: Mailbox
    password: Callable[[], str]
    save_sent: bool
    cache: LocalIndex | None = None
    """The synced local index (``EmailConnection(cfg, cache=True)``): searches read their rows from it."""

    def own_addresses(self) -> frozenset[str]:
        """The user's own addresses, lower-cased: left out of a reply-all."""
        mine = {self.config.username} if "@" in self.config.username else set()
        if self.config.from_address:
            from ..validation import parse_address

            mine.add(parse_address(self.config.from_address, "from_address").addr)
        return frozenset(address.lower() for address in mine)
