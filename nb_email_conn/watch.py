"""``conn.watch(folder)``: the messages that arrive in a folder, as they arrive, over IMAP IDLE.

A :class:`Watch` has its own IMAP session and a background thread that

1. opens the folder (EXAMINE) and notes its UIDNEXT: messages from there on are "new";
2. waits in ``IDLE`` (RFC 2177) until the server announces ``EXISTS``, renewed every
   ``idle_renew`` seconds (servers drop an IDLE after 30 minutes); without IDLE it asks every
   ``poll_interval`` seconds. Each renewal or poll opens the folder afresh, as does an untagged
   ``NO`` during IDLE (Dovecot's word for a folder deleted under the session);
3. fetches the new messages' search rows (the uncached search's own fetch and frame) and
   hands each over once, oldest first, as a ``pandas.Series`` with the search columns;
4. after a dropped connection, or a folder it cannot open (deleted), tries again with a
   growing pause and carries on from the last UID it handed over: a message that arrived
   meanwhile comes once, not never and not twice;
5. if the folder was recreated (a new UIDVALIDITY, so UIDs start again), logs a warning and
   hands over the new folder's messages received since it last saw the old one that it does
   not already know (``watch_memory.py``), at most :data:`MAX_CATCHUP`; then goes on from there.

Without a callback the watch is consumed by iterating (``for row in watch``, or ``async for``);
with ``callback=f`` the thread calls ``f(row)`` and ``watch()`` returns at once, so a kernel
stays free. ``watch.stop()`` ends it (and the iteration). ``watch.status`` is one of ``STATES``;
``watch.on_status(f)`` calls ``f(state, detail)`` now and on each change, from the thread.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Literal

from . import watch_folder as on_server
from .errors import EmailConnError, InvalidInputError
from .watch_folder import FolderUnavailable, retryable
from .watch_memory import Memory

if TYPE_CHECKING:
    import pandas as pd
    from imapclient import IMAPClient

    from .config import ConnectionConfig
    from .imap.session import ImapSession

log = logging.getLogger("nb_email_conn.watch")
__all__ = ["MAX_CATCHUP", "MAX_IDLE", "STATES", "AsyncWatch", "Watch", "WatchState"]

MAX_IDLE = 29 * 60  # RFC 2177: servers may end an IDLE after 30 minutes
MAX_CATCHUP = 500  # messages of a recreated folder handed over at most (the newest)
_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # seconds before each reconnection attempt
_REMEMBER_AT_START = 20  # newest messages present at the start, known by fingerprint
_END = object()  # the queue's last item

WatchState = Literal["starting", "watching", "reconnecting", "stopped", "error"]
STATES: tuple[WatchState, ...] = ("starting", "watching", "reconnecting", "stopped", "error")


class Watch:
    """New messages of one folder (see the module docstring). Iterable, async-iterable, awaitable (to itself)."""

    def __init__(
        self,
        config: ConnectionConfig,
        credential: Callable[[], str],
        folder: str,
        *,
        callback: Callable[[pd.Series], Any] | None = None,
        poll_interval: float = 15,
        idle_renew: float = 1500,
    ) -> None:
        for name, value in (("poll_interval", poll_interval), ("idle_renew", idle_renew)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidInputError(f"{name} must be a positive number of seconds.", field=name)
        if idle_renew > MAX_IDLE:
            raise InvalidInputError(
                f"idle_renew must be under 29 minutes ({MAX_IDLE} s): servers end an IDLE after 30.", field="idle_renew"
            )
        if callback is not None and not callable(callback):
            raise InvalidInputError("callback must be a function taking one row (a pandas Series).", field="callback")
        from .imap.session import ImapSession

        self.folder = folder
        self.callback = callback
        self.poll_interval = float(poll_interval)
        self.idle_renew = float(idle_renew)
        self.session: ImapSession = ImapSession(config, credential)
        self.reconnects = 0
        self.delivered = 0
        self.idles = 0  # IDLE commands sent (each renewal is one)
        self.error: BaseException | None = None
        """Why the watch ended on its own (an error it could not recover from), else None."""
        self.status: WatchState = "starting"
        self.status_detail = f"Opening {folder!r}…"
        self._listeners: list[Callable[[WatchState, str], Any]] = []
        self._status_lock = threading.Lock()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._requests: queue.Queue[tuple[int, Future[pd.DataFrame]]] = queue.Queue()
        self._requests_lock = threading.Lock()
        self._ended = False
        self._stopping = threading.Event()
        self._wake = threading.Event()  # ends a wait early: stop() or a request
        self._started = threading.Event()
        self._uidvalidity = 0
        self._next_uid = 0  # the first UID not handed over yet
        self._seen_at = 0.0  # when the watch last saw the folder as it was (time.time())
        self._memory = Memory()
        self._attempt = 0  # reconnection attempts since the last good connection
        self._thread = threading.Thread(target=self._run, name=f"nb-email-conn watch {folder}", daemon=True)
        self._thread.start()
        self._wait_started(config.timeout + 5)

    def _wait_started(self, timeout: float) -> None:
        """The baseline (the folder's UIDNEXT) is taken before ``watch()`` returns; a first failure is raised."""
        self._started.wait(timeout)
        if self.error is not None:  # set only when the thread gave up
            raise self.error

    def __repr__(self) -> str:
        return f"<Watch {self.folder!r} {self.status}, {self.delivered} delivered, {self.reconnects} reconnects>"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def on_status(self, listener: Callable[[WatchState, str], Any]) -> None:
        """Call ``listener(state, detail)`` now and after every change of :attr:`status` (from the
        watch's thread; the detail is a sentence for people, never a secret)."""
        with self._status_lock:
            self._listeners.append(listener)
            _notify(listener, self.status, self.status_detail)

    def _set_status(self, state: WatchState, detail: str) -> None:
        with self._status_lock:
            if (state, detail) == (self.status, self.status_detail):
                return
            self.status, self.status_detail = state, detail
            for listener in self._listeners:
                _notify(listener, state, detail)

    def recent(self, limit: int) -> Future[pd.DataFrame]:
        """The folder's newest ``limit`` messages that are not new to the watch (search rows), read
        by the watch's own thread on its connection: the future resolves within a second or so,
        and the caller never waits for the server."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise InvalidInputError("limit must be a whole number from 1 to 10000.", field="limit")
        future: Future[pd.DataFrame] = Future()
        with self._requests_lock:  # the thread's end fails what was asked before it, not after
            if self._ended:
                future.set_exception(EmailConnError(f"the watch of {self.folder!r} has ended."))
            else:
                self._requests.put((limit, future))
                self._wake.set()
        return future

    # -- consuming --------------------------------------------------------------------------
    def __iter__(self) -> Iterator[pd.Series]:
        if self.callback is not None:
            raise InvalidInputError("this watch hands rows to its callback; it cannot also be iterated.")
        while True:
            item = self._queue.get()
            if item is _END:
                self._queue.put(_END)  # for any other reader
                return
            yield item

    def __aiter__(self) -> AsyncIterator[pd.Series]:
        return self._async_rows()

    async def _async_rows(self) -> AsyncIterator[pd.Series]:
        if self.callback is not None:
            raise InvalidInputError("this watch hands rows to its callback; it cannot also be iterated.")
        loop = asyncio.get_running_loop()
        while True:
            item = await loop.run_in_executor(None, self._queue.get)
            if item is _END:
                self._queue.put(_END)
                return
            yield item

    def stop(self, timeout: float = 10.0) -> None:
        """End the watch: leave IDLE, log out, end the iteration. Safe to call twice.

        Waits up to ``timeout`` seconds for the thread to end (``0``: not at all)."""
        self._stopping.set()
        self._wake.set()
        if threading.current_thread() is not self._thread and timeout > 0:
            self._thread.join(timeout)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- the thread -------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    self.session.run(f"watching {self.folder!r}", self._watch, idempotent=False)
                    return  # stopped
                except EmailConnError as exc:
                    if not self._started.is_set() or not retryable(exc):
                        raise
                    pause = _BACKOFF[min(self._attempt, len(_BACKOFF) - 1)]
                    self._attempt += 1
                    self.reconnects += 1
                    gone = isinstance(exc, FolderUnavailable)
                    log.log(logging.WARNING if gone else logging.INFO, "watch: %s; again in %.0f s", exc, pause)
                    why = f"{self.folder!r} cannot be opened (deleted?)" if gone else "Connection lost"
                    self._set_status("reconnecting", f"{why}; trying again in {pause:.0f} s.")
                    self.session.close()
                    if self._stopping.wait(pause):
                        return
        except BaseException as exc:
            self.error = exc
            log.warning("watch of %r ended: %s", self.folder, exc)
        finally:
            self._started.set()
            self.session.close()
            with self._requests_lock:
                self._ended = True
            self._fail_requests()
            if self.error is None:
                self._set_status("stopped", "Stopped.")
            else:
                self._set_status("error", f"{type(self.error).__name__}: {str(self.error)[:500]}")
            self._queue.put(_END)

    def _watch(self, client: IMAPClient) -> None:
        """One connection's life: open the folder, hand over what is new, wait, repeat."""
        from .imap.internals import raw_imap

        imap = raw_imap(client)
        idle = self.session.has("IDLE")
        target = self._open(client)
        while not self._stopping.is_set():
            self._wake.clear()  # before the requests are read: one made after this wakes the next wait
            self._serve(imap, target)
            self._deliver(imap, target)  # last: nothing between it and the wait
            if self._stopping.is_set():
                return
            if idle:
                self.idles += 1
                if on_server.idle_once(client, self.idle_renew, self._wake, self._quiet_since) == "reopen":
                    target = self._open(client)
            else:
                self._wake.wait(self.poll_interval)
                if not self._stopping.is_set():
                    target = self._open(client)

    def _open(self, client: IMAPClient) -> str:
        """EXAMINE the folder (a fresh look: UIDVALIDITY, UIDNEXT); start, or catch up after a recreation."""
        from .imap.internals import raw_imap

        try:
            target = self.session.resolve_folder(self.folder)
            selected = self.session.select(client, target, readonly=True)
        except EmailConnError as exc:
            if not self._started.is_set() or retryable(exc):
                raise
            raise FolderUnavailable(f"the watched folder {self.folder!r} cannot be opened: {exc}") from exc
        imap = raw_imap(client)
        next_uid = selected.uidnext or on_server.highest_uid(imap, esearch=self._esearch) + 1
        first = not self._uidvalidity
        if first:  # what is there now is not new
            self._uidvalidity, self._next_uid, self._seen_at = selected.uidvalidity, next_uid, time.time()
        elif selected.uidvalidity != self._uidvalidity:
            self._recreated(imap, target, selected.uidvalidity, next_uid)
        self._attempt = 0
        how = "IDLE" if self.session.has("IDLE") else f"checking every {self.poll_interval:g} s"
        if self.status != "watching":
            self._set_status("watching", f"Watching {target!r} ({how}).")
        self._started.set()
        if first:
            self._remember_start(imap, target)
        return target

    def _remember_start(self, imap: imaplib.IMAP4, folder: str) -> None:
        uids = on_server.uids_before(imap, self._next_uid, _REMEMBER_AT_START, esearch=self._esearch)
        frame = on_server.rows(imap, self.session.config, folder, self._uidvalidity, uids)
        self._memory.remember_start(frame, complete=len(uids) < _REMEMBER_AT_START)

    def _recreated(self, imap: imaplib.IMAP4, folder: str, uidvalidity: int, next_uid: int) -> None:
        """The folder was deleted and made again: hand over what it received since the watch last saw it."""
        cutoff = self._memory.cutoff(self._seen_at)
        old, self._uidvalidity, self._next_uid = self._uidvalidity, uidvalidity, next_uid
        candidates = on_server.received_since(imap, cutoff, next_uid, esearch=self._esearch)
        looked_at = candidates[-MAX_CATCHUP:]
        frame = self._memory.unseen(on_server.rows(imap, self.session.config, folder, uidvalidity, looked_at), cutoff)
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(cutoff))
        log.warning(
            "the folder %r was recreated on the server (UIDVALIDITY %d -> %d): handing over the %d message(s) it "
            "received since %s that this watch had not seen%s",
            folder, old, uidvalidity, len(frame), since,
            f" (only the newest {MAX_CATCHUP} were looked at)" if len(candidates) > MAX_CATCHUP else "",
        )  # fmt: skip
        self._set_status("watching", f"{folder!r} was recreated; {len(frame)} message(s) it got meanwhile delivered.")
        self._hand_over(frame)

    @property
    def _esearch(self) -> bool:
        return self.session.has("ESEARCH")

    def _quiet_since(self, moment: float) -> None:  # nothing arrived up to then
        self._seen_at = moment

    def _deliver(self, imap: imaplib.IMAP4, folder: str) -> None:
        """Hand over what is new; the last command before a wait must carry no unheeded news."""
        for _ in range(20):
            began = time.time()
            new, announced = on_server.new_uids(imap, self._next_uid)
            if new:  # the fetch may carry news too: ask again after it
                self._hand_over(on_server.rows(imap, self.session.config, folder, self._uidvalidity, new))
                self._next_uid = max(self._next_uid, max(new) + 1)
                continue
            if not self._stopping.is_set():
                self._seen_at = began
            if not announced:
                return

    def _hand_over(self, frame: pd.DataFrame) -> None:
        for _, row in frame.sort_values("uid", kind="stable").iterrows():
            if self._stopping.is_set():
                return
            self._next_uid = max(self._next_uid, int(row["uid"]) + 1)
            self._memory.remember(row)
            self.delivered += 1
            if self.callback is None:
                self._queue.put(row)
            else:
                try:
                    self.callback(row)
                except Exception:
                    log.exception("the watch callback raised; the watch goes on")

    def _serve(self, imap: imaplib.IMAP4, folder: str) -> None:
        """Answer the ``recent()`` requests made since the last wait."""
        from .imap.frame import sort_newest_first

        while True:
            try:
                limit, future = self._requests.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                uids = on_server.uids_before(imap, self._next_uid, limit, esearch=self._esearch)
                frame = sort_newest_first(on_server.rows(imap, self.session.config, folder, self._uidvalidity, uids))
            except BaseException as exc:
                future.set_exception(exc)
                raise
            future.set_result(frame)

    def _fail_requests(self) -> None:
        while True:
            try:
                _limit, future = self._requests.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                future.set_exception(EmailConnError(f"the watch of {self.folder!r} has ended."))


def _notify(listener: Callable[[WatchState, str], Any], state: WatchState, detail: str) -> None:
    try:
        listener(state, detail)
    except Exception:
        log.exception("a watch status listener raised; the watch goes on")


class AsyncWatch:
    """What ``watch_async`` returns: ``async for row in ...`` starts the watch (after any confirmation)
    and yields its rows; ``await`` gives the :class:`Watch` itself."""

    def __init__(self, start: Callable[[], Awaitable[Watch]]) -> None:
        self._start = start
        self._watch: Watch | None = None

    async def _started(self) -> Watch:
        if self._watch is None:
            self._watch = await self._start()
        return self._watch

    def __await__(self) -> Generator[Any, None, Watch]:
        return self._started().__await__()

    async def __aiter__(self) -> AsyncIterator[pd.Series]:
        watch = await self._started()
        async for row in watch:
            yield row

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()
