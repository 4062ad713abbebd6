"""``PendingAction``: what a synchronous call on the kernel's main thread returns under confirmation."""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import logging
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from ._async import loop_running_here
from .frontend import pending_view, waiting_advice
from .policy import ActionRequest

T = TypeVar("T")
log = logging.getLogger("nb_email_conn.pending")


class PendingAction(Generic[T]):
    """A call waiting for the reviewer's click; the action runs when they approve.

    Until then ``status`` is ``"pending"`` (then ``"running"``, ``"done"``, ``"rejected"``
    or ``"failed"``). In a later cell: ``handle.status``, ``handle.result()``; in async code:
    ``await handle``; ``handle.add_done_callback(fn)`` calls ``fn(handle)`` once it is settled.
    As a cell's last expression it shows its approval widget (where the front end offers one).
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

    def add_done_callback(self, callback: Callable[[PendingAction[T]], object]) -> None:
        """Call ``callback(handle)`` when the call is settled (at once if it is), e.g. a marimo
        ``mo.state`` setter, so the cells that read that state run again with the outcome."""

        def settled(_future: concurrent.futures.Future[T]) -> None:
            try:
                callback(self)
            except Exception:
                log.exception("a PendingAction done-callback failed")

        self._future.add_done_callback(settled)

    def __await__(self) -> Generator[Any, None, T]:
        if not self._future.done():
            advice = waiting_advice()  # e.g. a marimo cell, which sees no click until it ends
            if advice:
                raise RuntimeError(f"{self.request.function} is still waiting for approval, and {advice}")
        return asyncio.wrap_future(self._future).__await__()

    def _display_(self) -> Any:
        """marimo's display protocol: the approval widget itself, so that the handle as a cell's
        last expression (which replaces what the cell displayed) still shows what to click."""
        view = pending_view(self)
        return view if view is not None else _StatusLine(self)

    def __repr__(self) -> str:
        return f"<PendingAction #{self.request.id} {self.request.function}: {self.status}>"

    def _repr_html_(self) -> str:
        return (
            f"<code>{html.escape(self.request.function)}</code> #{self.request.id}: <b>{html.escape(self.status)}</b>"
        )


class _StatusLine:
    """The handle's one-line HTML, for a front end that has no widget to show for it."""

    def __init__(self, handle: PendingAction[Any]) -> None:
        self._handle = handle

    def _repr_html_(self) -> str:
        return self._handle._repr_html_()

    def __repr__(self) -> str:
        return repr(self._handle)
