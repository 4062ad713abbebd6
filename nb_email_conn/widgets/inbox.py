"""``LiveInbox(conn)``: a folder's newest messages, with new mail added at the top as it arrives.

The widget returns at once: a thread starts ``conn.watch(folder, callback=...)`` (under
``search_emails``' policy; a confirmation shows in this cell), then asks the watch for the
folder's newest ``limit`` messages (``Watch.recent``, read on the watch's own connection).
Arrivals come from the watch's thread, which sets the traits itself (ipykernel sends comm
messages from any thread); a lock keeps the list whole. Stop (the button, or ``.stop()``)
ends the watch, and so does closing the widget, from Python or from the front end.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..errors import InvalidInputError
from ..validation import check_text
from ..watch import MAX_IDLE, Watch, WatchState
from .base import reject_unknown_kwargs, static_file
from .inbox_messages import InboxMessage, InboxStatus, StopResult
from .messages import SyncedDict
from .protocol import Call, RequestRouter, error_info

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
__all__ = ["MAX_LIMIT", "LiveInbox", "inbox_message"]

MAX_LIMIT = 200
_MAX_TEXT = 300


def _text(value: Any, limit: int = _MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _iso(value: Any) -> str | None:
    import pandas as pd

    if value is None or value is pd.NaT or not isinstance(value, pd.Timestamp):
        return None
    return str(value.isoformat())


def inbox_message(row: pd.Series, *, arrived: bool) -> InboxMessage:
    """A search row as the list shows it (bounded text, no flags but unread)."""
    address = _text(row.get("from_addr"))
    date = _iso(row.get("date")) or _iso(row.get("received"))
    return {
        "ref": _text(row.get("ref"), 2000),
        "from": _text(row.get("from_name")) or address,
        "address": address,
        "subject": _text(row.get("subject")),
        "date": date,
        "unread": not bool(row.get("seen")),
        "arrived": arrived,
    }


def _check_seconds(name: str, value: Any, most: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= most:
        raise InvalidInputError(f"{name} must be a number of seconds above 0 and at most {most:g}.", field=name)
    return float(value)


class LiveInbox(anywidget.AnyWidget):
    """The newest ``limit`` messages of ``folder``, new mail at the top as it arrives, a Stop button.

    ``LiveInbox(conn, folder="INBOX", limit=20)``; ``poll_interval=`` and ``idle_renew=`` go to
    ``conn.watch``. ``.stop()`` ends the watch; ``.watch`` is the :class:`~nb_email_conn.Watch`
    once it started; ``.error`` is why it could not start (also shown in the widget).
    """

    _esm = static_file("inbox.js")
    _css = static_file("inbox.css")

    # The synced shapes are in inbox_messages.py (and js/src/inbox.ts).
    folder = traitlets.Unicode("INBOX").tag(sync=True)
    limit = traitlets.Int(20).tag(sync=True)
    messages: traitlets.List[InboxMessage] = traitlets.List().tag(sync=True)
    status = SyncedDict[InboxStatus](InboxStatus(state="starting", message="Starting…")).tag(sync=True)

    _accepted = frozenset({"poll_interval", "idle_renew"})

    def __init__(self, conn: Any, folder: str = "INBOX", *, limit: int = 20, **kwargs: Any) -> None:
        reject_unknown_kwargs(type(self).__name__, kwargs, self._accepted)
        check_text(folder, "folder", allow_empty=False, max_length=1000)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidInputError(f"limit must be a whole number from 1 to {MAX_LIMIT}.", field="limit")
        watch_args = {
            "poll_interval": _check_seconds("poll_interval", kwargs.get("poll_interval", 15), 24 * 3600),
            "idle_renew": _check_seconds("idle_renew", kwargs.get("idle_renew", 1500), MAX_IDLE),
        }
        super().__init__(
            folder=folder, limit=limit, status=InboxStatus(state="starting", message=f"Opening {folder!r}…")
        )
        self.watch: Watch | None = None
        self.error: BaseException | None = None
        self._lock = threading.RLock()
        self._ended = False  # stopped or closed: a watch that starts later is stopped at once
        self._router = RequestRouter(self, thread_name="nec-inbox")
        self._router.register("stop", self._handle_stop)
        if self.comm is not None:
            self.comm.on_close(lambda _message: self._end())  # the front end closed the widget
        starter = threading.Thread(
            target=self._start, args=(conn, folder, watch_args), name=f"nec-inbox start {folder}", daemon=True
        )
        starter.start()

    def __repr__(self) -> str:
        return f"<LiveInbox {self.folder!r} {self.status['state']}, {len(self.messages)} messages>"

    # -- public -----------------------------------------------------------------------------
    def stop(self, timeout: float = 5.0) -> None:
        """End the watch (waits up to ``timeout`` seconds for it to log out). The list stays."""
        watch = self._end()
        if watch is not None:
            watch.stop(timeout)

    def close(self) -> None:
        """Stop the watch (without waiting) and close the widget."""
        if hasattr(self, "_router"):  # also called by __del__ after a refused __init__
            self._end()
            self._router.close()
        super().close()

    # -- the watch --------------------------------------------------------------------------
    def _start(self, conn: Any, folder: str, watch_args: dict[str, float]) -> None:
        from ..aliases import ready

        try:
            watch = ready(conn.watch(folder, callback=self._arrived, **watch_args))
        except BaseException as exc:
            self.error = exc
            log.info("the live inbox could not start: %s", type(exc).__name__)
            self._show(InboxStatus(state="error", message=error_info(exc)["message"]))
            return
        with self._lock:
            self.watch = watch
            ended = self._ended
        if ended:
            watch.stop(timeout=0)
        watch.on_status(self._watch_status)
        if not ended:
            watch.recent(self.limit).add_done_callback(self._recent_done)

    def _end(self) -> Watch | None:
        """Stop the watch without waiting (or make sure one that starts later stops at once)."""
        with self._lock:
            self._ended = True
            watch = self.watch
        if watch is not None:
            watch.stop(timeout=0)
        else:
            self._show(InboxStatus(state="stopped", message="Stopped."))
        return watch

    def _show(self, status: InboxStatus) -> None:
        with self._lock:
            if self.comm is not None:
                self.status = status

    def _watch_status(self, state: WatchState, detail: str) -> None:
        self._show(InboxStatus(state=state, message=detail))

    def _arrived(self, row: pd.Series) -> None:
        message = inbox_message(row, arrived=True)
        with self._lock:
            rest = [m for m in self.messages if m["ref"] != message["ref"]]
            self._set_messages([message, *rest])

    def _recent_done(self, future: Future[pd.DataFrame]) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # the watch ended; its status says why
        newest = [inbox_message(row, arrived=False) for _, row in future.result().iterrows()]
        with self._lock:
            shown = {m["ref"] for m in self.messages}
            self._set_messages([*self.messages, *(m for m in newest if m["ref"] not in shown)])

    def _set_messages(self, messages: list[InboxMessage]) -> None:
        if self.comm is not None:  # closed: nothing to show any more
            self.messages = messages[: self.limit]

    # -- the front end's Stop button ---------------------------------------------------------
    def _handle_stop(self, _params: dict[str, Any], _call: Call) -> StopResult:
        self._end()
        return StopResult(state=self.status["state"])
