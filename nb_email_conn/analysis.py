"""``EmailConnection``'s methods for analysts: threads, the synced local index, live mail.

A mixin, so that ``connection.py`` stays the list of the registry's functions. ``thread``
and ``sync`` are searches: they run under ``search_emails``' policy (Disabled refuses
them before any traffic) and appear in the audit log as ``search_emails`` calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import InvalidInputError
from .functions.reading import SYNC, THREAD, WATCH

if TYPE_CHECKING:
    import pandas as pd

    from .aliases import Gated, Refs
    from .cache import LocalIndex, SyncReport
    from .config import ConnectionConfig
    from .functions.context import Context
    from .functions.spec import FunctionSpec
    from .pending import PendingAction
    from .watch import AsyncWatch, Watch

R = TypeVar("R")


class AnalysisMethods:
    """Threads, the local index (``cache=True``) and watching a folder; mixed into ``EmailConnection``."""

    _context: Context
    config: ConnectionConfig

    if TYPE_CHECKING:

        def _call(self, spec: FunctionSpec[R], **arguments: Any) -> R | PendingAction[R]: ...

        async def _call_async(self, spec: FunctionSpec[R], **arguments: Any) -> R: ...

    def thread(self, ref: Refs) -> Gated[pd.DataFrame]:
        """The conversation of one message: the rows of its folder sharing its ``thread_id``, oldest first.

        Messages are linked by Message-ID, In-Reply-To and References (also through the ids
        of messages that are not in the folder), never by subject. Same columns as
        :meth:`search_emails`; runs under ``search_emails``' policy.
        """
        return self._call(THREAD, ref=ref)

    async def thread_async(self, ref: Refs) -> pd.DataFrame:
        """Awaitable :meth:`thread`."""
        return await self._call_async(THREAD, ref=ref)

    # -- the synced local index ------------------------------------------------------------------
    @staticmethod
    def _open_cache(config: ConnectionConfig, credential: Callable[[], str], cache: bool) -> LocalIndex | None:
        """The local index of a ``cache=True`` connection (its file opens on first use)."""
        if not isinstance(cache, bool):
            raise InvalidInputError("cache must be True or False.", field="cache")
        if not cache:
            return None
        from .cache import LocalIndex

        return LocalIndex(config, credential)

    def _close_cache(self) -> None:
        if self._context.cache is not None:
            self._context.cache.close()  # its own IMAP session; the index file stays

    @property
    def cached(self) -> bool:
        """Whether searches read their rows from the synced local index (``cache=True``)."""
        return self._context.cache is not None

    def sync(self, folder: str | None = None) -> Gated[SyncReport]:
        """Bring the local index up to date with the server; returns ``SyncReport(new, changed, vanished, seconds)``.

        ``folder=None`` syncs every folder already in the index (INBOX when it is empty). A
        search on a cached connection syncs its folder by itself first, so this is only needed to
        index folders ahead of time or to see what changed. Needs ``cache=True``; runs under
        ``search_emails``' policy.
        """
        return self._call(SYNC, folder=folder)

    async def sync_async(self, folder: str | None = None) -> SyncReport:
        """Awaitable :meth:`sync`."""
        return await self._call_async(SYNC, folder=folder)

    def clear_cache(self) -> None:
        """Delete this connection's local index (``<config folder>/cache/<name>/``); the next cached
        search syncs from scratch. Also removes a leftover index of an uncached connection."""
        cache = self._context.cache
        if cache is not None:
            cache.clear()
        else:
            from .cache import remove_cache

            remove_cache(self.config.name)

    # -- live mail -------------------------------------------------------------------------------
    def watch(
        self,
        folder: str = "INBOX",
        *,
        callback: Callable[[pd.Series], Any] | None = None,
        poll_interval: float = 15,
        idle_renew: float = 1500,
    ) -> Gated[Watch]:
        """The messages that arrive in ``folder`` from now on, each once, as rows (``pandas.Series``
        with the search columns), oldest first.

        Over IMAP IDLE (renewed every ``idle_renew`` seconds, under 29 minutes), on its own
        connection, reconnecting after drops; every ``poll_interval`` seconds where the server has
        no IDLE. Iterate it (``for row in conn.watch(): ...``), or pass ``callback=f`` to have
        ``f(row)`` called in the background (the call returns at once; a notebook stays free).
        ``watch.stop()`` ends it. Runs under ``search_emails``' policy.
        """
        return self._call(WATCH, folder=folder, callback=callback, poll_interval=poll_interval, idle_renew=idle_renew)

    def watch_async(
        self,
        folder: str = "INBOX",
        *,
        callback: Callable[[pd.Series], Any] | None = None,
        poll_interval: float = 15,
        idle_renew: float = 1500,
    ) -> AsyncWatch:
        """:meth:`watch` for async code: ``async for row in conn.watch_async(): ...``, or
        ``watch = await conn.watch_async(callback=f)``. A confirmation, if the policy asks for one, is awaited."""
        from .watch import AsyncWatch

        return AsyncWatch(
            lambda: self._call_async(
                WATCH, folder=folder, callback=callback, poll_interval=poll_interval, idle_renew=idle_renew
            )
        )
