"""``PendingAction``: what a synchronous call on the kernel's main thread returns under confirmation."""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
from collections.abc import Generator
from typing import Any, Generic, TypeVar

from ._async import loop_running_here
from .policy import ActionRequest

T = TypeVar("T")


class PendingAction(Generic[T]):
    """A call waiting for the reviewer's click; the action runs when they approve.

    Until then ``status`` is ``"pending"`` (then ``"running"``, ``"done"``, ``"rejected"``
    or ``"failed"``). In a later cell: ``handle.status``, ``handle.result()``; in async code:
    ``await handle``.
    """

    def __init__(self, request: ActionRequest) -> None:
        self.request = request
        self.status = "pending"
        self._future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def succeed(self, result: T) -> None:
        self.status = "done"
        self._future.set_result(result)

    def fail(self, status: str, error: BaseException) -> None:
        """``status`` is "rejected" or "failed"."""
        self.status = status
        self._future.set_exception(error)

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> T:
        """The action's result once decided and run; raises its error or ActionRejectedError."""
        if not self._future.done() and loop_running_here():
            raise RuntimeError(
                f"{self.request.function} is still waiting for approval; click Approve or Reject, then ask "
                "again in a later cell (or use `await handle`)."
            )
        return self._future.result(timeout)

    def __await__(self) -> Generator[Any, None, T]:
        return asyncio.wrap_future(self._future).__await__()

    def __repr__(self) -> str:
        return f"<PendingAction #{self.request.id} {self.request.function}: {self.status}>"

    def _repr_html_(self) -> str:
        return (
            f"<code>{html.escape(self.request.function)}</code> #{self.request.id}: <b>{html.escape(self.status)}</b>"
        )
