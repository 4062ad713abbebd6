"""marimo as a front end: the approval widget in the cell's output, and never a call that hangs.

marimo's kernel handles one request at a time, so a click on Approve reaches the kernel only
once the running cell has ended. What that allows, on the kernel's thread (a cell):

- a synchronous call shows the widget and returns a ``PendingAction`` at once; the click, after
  the cell ends, runs the action (``handle.status`` follows; a ``mo.state`` setter given to
  ``handle.add_done_callback`` makes the cells that read it run again with the outcome);
- an awaited call would wait for a click queued behind its own cell: refused with advice;
- a call from a ``mo.Thread`` shows the widget in its cell and blocks that thread (or awaits on
  its loop) until the click: the kernel's thread stays free;
- a call from a thread marimo does not know (``threading.Thread``, ``asyncio.to_thread``), or
  from the kernel's thread between cells, has no cell to show the widget in: refused with advice.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from ..errors import ActionRejectedError
from ..policy import ActionRequest, Decision
from .approval import InlineApprover
from .kernel import marimo_cell_running, marimo_context, on_marimo_thread

SYNC_FORM = (
    "Call the synchronous form instead (e.g. conn.send_email(...) rather than send_email_async): it shows "
    "the approval widget and returns a pending handle that runs the call when you click"
)
AWAIT_ADVICE = (
    "a marimo cell that awaits it never receives the Approve click (marimo handles one request at a time, "
    f"and the click waits until this cell ends). {SYNC_FORM}, or await it in a mo.Thread."
)
NO_CELL_ADVICE = (
    "there is no marimo cell to show the approval widget in: it runs on a thread marimo does not know "
    f"(threading.Thread, asyncio.to_thread) or outside any cell. {SYNC_FORM}, or start the thread with mo.Thread."
)


def awaiting_advice() -> str | None:
    """Why awaiting a click on this thread would never end in marimo (None: it would, or not marimo)."""
    context = marimo_context()
    if context is None or on_marimo_thread():
        return None
    return AWAIT_ADVICE


def _append_to_cell(widget: Any) -> None:
    import marimo

    marimo.output.append(widget)


class MarimoApprover(InlineApprover):
    """The inline approval widget, in the output of the marimo cell that made the call."""

    def __init__(self) -> None:
        super().__init__(display=_append_to_cell)

    @staticmethod
    def awaiting_would_hang() -> str | None:
        return awaiting_advice()

    def __call__(self, request: ActionRequest) -> Future[Decision]:
        context = marimo_context()
        if context is None or not marimo_cell_running(context):
            raise ActionRejectedError(request.function, NO_CELL_ADVICE)
        return super().__call__(request)
