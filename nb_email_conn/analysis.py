"""``EmailConnection``'s methods for analysts: threads, the synced local index, live mail.

A mixin, so that ``connection.py`` stays the list of the registry's functions. ``thread``
and ``sync`` are searches: they run under ``search_emails``' policy (Disabled refuses
them before any traffic) and appear in the audit log as ``search_emails`` calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from .functions.reading import THREAD

if TYPE_CHECKING:
    import pandas as pd

    from .aliases import Gated, Refs
    from .functions.context import Context
    from .functions.spec import FunctionSpec
    from .pending import PendingAction

R = TypeVar("R")


class AnalysisMethods:
    """Threads, the local index (``cache=True``) and watching a folder; mixed into ``EmailConnection``."""

    _context: Context

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
