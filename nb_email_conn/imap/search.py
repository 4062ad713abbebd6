"""``search_emails``: criteria checked offline, then one read-only search on the session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fetch import search_messages
from .internals import raw_imap
from .query import build_criteria

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd
    from imapclient import IMAPClient

    from .mailbox import Mailbox
    from .session import ImapSession

# Below this many messages in the folder a search is quick; no progress bar flickers by.
PROGRESS_THRESHOLD = 5_000


def search(
    session: ImapSession,
    mailbox: Mailbox,
    query: str | None,
    *,
    folder: str,
    limit: int | None,
    criteria: Mapping[str, Any],
    progress: bool = True,
) -> pd.DataFrame:
    program = build_criteria(query, criteria)  # InvalidInputError here: nothing was sent
    target = session.resolve_folder(folder)
    config = session.config

    def work(client: IMAPClient) -> pd.DataFrame:
        selected = session.select(client, target, readonly=True)  # EXAMINE: never sets \Seen
        reporter = None
        if progress and selected.exists >= PROGRESS_THRESHOLD:
            from ..progress import progress_reporter

            reporter = progress_reporter(selected.exists, f"Searching {target}")
        try:
            return search_messages(
                raw_imap(client),
                program,
                capabilities=session.capabilities,
                folder=target,
                uidvalidity=selected.uidvalidity,
                user=config.username,
                host=config.imap_host.lower(),
                limit=limit,
                progress=(lambda done, total: reporter.update(done)) if reporter else None,
            )
        finally:
            if reporter is not None:
                reporter.close()

    return session.run(f"searching {target!r}", work, idempotent=True)
