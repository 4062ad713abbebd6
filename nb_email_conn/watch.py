"""``conn.watch(folder)``: the messages that arrive in a folder, as they arrive, over IMAP IDLE.

A :class:`Watch` has its own IMAP session and a background thread that

1. opens the folder (EXAMINE) and notes its UIDNEXT: messages from there on are "new";
2. waits in ``IDLE`` (RFC 2177), renewed every ``idle_renew`` seconds (servers drop an IDLE
   after 30 minutes), until the server announces ``EXISTS``; without IDLE it asks every
   ``poll_interval`` seconds instead;
3. fetches the new messages' search rows (the uncached search's own fetch and frame) and
   hands each over once, oldest first, as a ``pandas.Series`` with the search columns;
4. after a dropped connection (a server kick, a network change) reconnects with a growing
   pause, re-opens the folder and carries on from the last UID it handed over, so a
   message that arrived meanwhile comes once, not never and not twice. If the folder was
   recreated (a new UIDVALIDITY), the count starts again from its new UIDNEXT.

Without a callback the watch is consumed by iterating (``for row in watch``, or ``async for``);
with ``callback=f`` the thread calls ``f(row)`` itself and ``watch()`` returns at once, so a
Jupyter kernel stays free. ``watch.stop()`` ends it (the iteration ends too).
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

from .errors import EmailConnError, InvalidInputError

if TYPE_CHECKING:
    import pandas as pd
    from imapclient import IMAPClient

    from .config import ConnectionConfig
    from .imap.session import ImapSession

log = logging.getLogger("nb_email_conn.watch")
__all__ = ["MAX_IDLE", "AsyncWatch", "Watch"]

MAX_IDLE = 29 * 60  # RFC 2177: servers may end an IDLE after 30 minutes
_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # seconds before each reconnection attempt
_END = object()  # the queue's last item


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
        self._queue: queue.Queue[Any] = queue.Queue()
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._uidvalidity = 0
        self._next_uid = 0  # the first UID not handed over yet
        self._thread = threading.Thread(target=self._run, name=f"nb-email-conn watch {folder}", daemon=True)
        self._thread.start()
        self._wait_started(config.timeout + 5)

    def _wait_started(self, timeout: float) -> None:
        """The baseline (the folder's UIDNEXT) is taken before ``watch()`` returns; a first failure is raised."""
        self._started.wait(timeout)
        if self.error is not None and not self._thread.is_alive():
            raise self.error

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Watch {self.folder!r} {state}, {self.delivered} delivered, {self.reconnects} reconnects>"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

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
        """End the watch: leave IDLE, log out, end the iteration. Safe to call twice."""
        self._stopping.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- the thread -------------------------------------------------------------------------
    def _run(self) -> None:
        attempt = 0
        try:
            while not self._stopping.is_set():
                try:
                    self.session.run(f"watching {self.folder!r}", self._watch, idempotent=False)
                    return  # stopped
                except EmailConnError as exc:
                    if not self._started.is_set() or not _retryable(exc):
                        raise
                    pause = _BACKOFF[min(attempt, len(_BACKOFF) - 1)]
                    attempt += 1
                    self.reconnects += 1
                    log.info("watch of %r lost its connection (%s); reconnecting in %.0f s", self.folder, exc, pause)
                    self.session.close()
                    if self._stopping.wait(pause):
                        return
        except BaseException as exc:
            self.error = exc
            log.warning("watch of %r ended: %s", self.folder, exc)
        finally:
            self._started.set()
            self.session.close()
            self._queue.put(_END)

    def _watch(self, client: IMAPClient) -> None:
        """One connection's life: open the folder, hand over what is new, wait, repeat."""
        from .imap.internals import raw_imap

        target = self.session.resolve_folder(self.folder)
        selected = self.session.select(client, target, readonly=True)
        if selected.uidvalidity != self._uidvalidity:  # the first connection, or the folder was recreated
            if self._uidvalidity:
                log.info("the folder %r was recreated; watching its new messages from now on", target)
            self._uidvalidity = selected.uidvalidity
            self._next_uid = selected.uidnext or self._highest_uid(raw_imap(client)) + 1
        self._started.set()
        idle = self.session.has("IDLE")
        while not self._stopping.is_set():
            self._deliver(raw_imap(client), target)
            if idle:
                self._idle(client)
            elif self._stopping.wait(self.poll_interval):
                return

    def _highest_uid(self, imap: imaplib.IMAP4) -> int:
        from .cache.server import uids_from

        found = uids_from(imap, 1, esearch=self.session.has("ESEARCH"))
        return max(found, default=0)

    def _idle(self, client: IMAPClient) -> None:
        """One IDLE: until the server says something changed, ``idle_renew`` passes, or the watch stops."""
        from .imap.internals import raw_imap

        client.idle()
        self.idles += 1
        ends = time.monotonic() + self.idle_renew
        try:
            # EXISTS read while IDLE started (mail that came since the last search) ends it at once.
            if raw_imap(client).untagged_responses.pop("EXISTS", None):
                return
            while not self._stopping.is_set() and time.monotonic() < ends:
                answers = client.idle_check(timeout=min(1.0, max(ends - time.monotonic(), 0.01)))
                if any(isinstance(a, tuple) and len(a) > 1 and a[1] == b"EXISTS" for a in answers):
                    break
                if any(isinstance(a, tuple) and a and a[0] == b"BYE" for a in answers):
                    raise imaplib.IMAP4.abort("the IMAP server ended the connection during IDLE")
        finally:
            client.idle_done()

    def _deliver(self, imap: imaplib.IMAP4, folder: str) -> None:
        from .cache.server import uids_from
        from .imap.fetch import fetch_rows
        from .imap.frame import build_frame

        new = uids_from(imap, self._next_uid, esearch=self.session.has("ESEARCH"))
        if not new:
            return
        cfg = self.session.config
        frame = build_frame(
            fetch_rows(imap, new), folder=folder, uidvalidity=self._uidvalidity, user=cfg.username,
            host=cfg.imap_host.lower(),
        )  # fmt: skip
        for _, row in frame.sort_values("uid", kind="stable").iterrows():
            if self._stopping.is_set():
                return
            self._next_uid = max(self._next_uid, int(row["uid"]) + 1)
            self.delivered += 1
            if self.callback is None:
                self._queue.put(row)
            else:
                try:
                    self.callback(row)
                except Exception:
                    log.exception("the watch callback raised; the watch goes on")
        self._next_uid = max(self._next_uid, max(new) + 1)


def _retryable(exc: EmailConnError) -> bool:
    from .errors import ConnectionFailedError, OperationTimeoutError

    return isinstance(exc, ConnectionFailedError | OperationTimeoutError)


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
