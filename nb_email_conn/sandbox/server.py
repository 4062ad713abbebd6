"""A running sandbox: pymap IMAP + aiosmtpd SMTP on loopback, in a daemon thread with its
own event loop (so it works next to a notebook kernel's loop), plus the demo mailbox."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import datetime as dt
import errno
import ipaddress
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from ..config import ConnectionConfig, Encryption
from ..errors import EmailConnError, InvalidInputError
from . import seed as seed_module
from .state import SandboxState, remove_state, write_state

if TYPE_CHECKING:
    from .imap_server import DemoMailstore

DEFAULT_HOST = "127.0.0.1"
_START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Timings:
    """Measured at start: total start time, and the part spent generating + storing the demo mail."""

    start_seconds: float
    seed_seconds: float
    message_count: int


def check_loopback(host: str) -> str:
    """The sandbox accepts any password holder and delivers all mail locally: never expose
    it beyond this machine."""
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise InvalidInputError(
        f"the sandbox only listens on a loopback address (127.0.0.1, ::1 or localhost); got {host!r}.",
        field="host",
    )


def _check_port(port: int, field: str) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidInputError(f"{field} must be 0 (any free port) or 1-65535; got {port!r}.", field=field)
    return port


class Sandbox:
    """A local IMAP + SMTP server with a demo mailbox.

    ``Sandbox().start()`` (or ``with Sandbox() as sandbox:``) runs it in this process;
    :meth:`attach` describes one running in another process. ``config`` is a ready
    :class:`ConnectionConfig`; ``password`` is the random password of this run.
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        imap_port: int = 0,
        smtp_port: int = 0,
        seed: bool | int = True,
        name: str = "sandbox",
        tls: bool = True,
        state_file: Path | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        self.host = check_loopback(host)
        self.name = name
        self.username = seed_module.DEMO_USER
        self.tls = tls
        self.owned = True
        self._requested_ports = (_check_port(imap_port, "imap_port"), _check_port(smtp_port, "smtp_port"))
        self._seed: int | None = None if seed is False else (seed_module.DEFAULT_SEED if seed is True else int(seed))
        self._now = now
        self._password = secrets.token_urlsafe(18)
        self._state_file = state_file
        self._imap_port = 0
        self._smtp_port = 0
        self._ca_file: str | None = None
        self._workdir: Path | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._running = False
        self._pid = os.getpid()
        self.timings: Timings | None = None

    # -- other processes ---------------------------------------------------------------
    @classmethod
    def attach(cls, state: SandboxState, *, name: str = "sandbox") -> Sandbox:
        """A handle on the sandbox another process runs (see ``state.find_running``).
        Its ``stop()`` only forgets the handle; the owning process keeps serving."""
        sandbox = cls(host=state.host, name=name, seed=False, tls=state.encryption != str(Encryption.NONE))
        sandbox.owned = False
        sandbox.username = state.username
        sandbox._password = state.password
        sandbox._imap_port = state.imap_port
        sandbox._smtp_port = state.smtp_port
        sandbox._ca_file = state.ca_file
        sandbox._pid = state.pid
        sandbox._running = True
        return sandbox

    # -- facts ---------------------------------------------------------------------------
    @property
    def password(self) -> str:
        return self._password

    @property
    def imap_port(self) -> int:
        return self._imap_port

    @property
    def smtp_port(self) -> int:
        return self._smtp_port

    @property
    def ca_file(self) -> str | None:
        return self._ca_file

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def running(self) -> bool:
        return self._running

    @property
    def encryption(self) -> Encryption:
        return Encryption.STARTTLS if self.tls else Encryption.NONE

    @property
    def config(self) -> ConnectionConfig:
        if not self._running:
            raise EmailConnError("the sandbox is not running; start it with nb_email_conn.sandbox.start().")
        return ConnectionConfig(
            name=self.name,
            username=self.username,
            imap_host=self.host,
            imap_port=self._imap_port,
            imap_encryption=self.encryption,
            smtp_host=self.host,
            smtp_port=self._smtp_port,
            smtp_encryption=self.encryption,
            ca_file=self._ca_file,
            verify_tls=True,
            timeout=30.0,
        )

    def __repr__(self) -> str:
        where = f"imap={self.host}:{self._imap_port} smtp={self.host}:{self._smtp_port}" if self._running else "stopped"
        owner = "" if self.owned else f" attached to pid {self._pid}"
        return f"<Sandbox {self.name!r} {where} user={self.username!r} {self.encryption}{owner}>"

    def describe(self) -> str:
        """What a person needs to point any mail client at the sandbox (includes the password)."""
        lines = [
            f"IMAP      {self.host}:{self._imap_port}  ({self.encryption})",
            f"SMTP      {self.host}:{self._smtp_port}  ({self.encryption}, AUTH required)",
            f"User      {self.username}",
            f"Password  {self._password}",
        ]
        if self._ca_file:
            lines.append(f"CA file   {self._ca_file}  (trust it, or turn certificate checks off in a test client)")
        return "\n".join(lines)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Start serving; returns once both ports accept connections and the mailbox is seeded."""
        if self._running or not self.owned:
            return self
        began = time.perf_counter()
        self._workdir = Path(tempfile.mkdtemp(prefix="nb-email-conn-sandbox-"))
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, args=(began,), name="nb-email-conn-sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            self.stop()
            raise EmailConnError(f"the sandbox did not start within {_START_TIMEOUT:.0f} s.")
        error = self._startup_error()
        if error is not None:
            self.stop()
            raise _start_error(error) from error
        self._running = True
        if self._state_file is not None:
            write_state(
                self._state_file,
                SandboxState(
                    pid=self._pid,
                    host=self.host,
                    imap_port=self._imap_port,
                    smtp_port=self._smtp_port,
                    username=self.username,
                    password=self._password,
                    encryption=str(self.encryption),
                    ca_file=self._ca_file,
                    started_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                ),
            )
        atexit.register(self.stop)
        return self

    def _startup_error(self) -> BaseException | None:
        return self._error  # set by the server thread

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, close client connections, free the ports, remove the state file.
        Safe to call twice. On an attached handle it only forgets the handle."""
        if not self.owned:
            self._running = False
            return
        loop, stop_event, thread = self._loop, self._stop_event, self._thread
        if loop is not None and stop_event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop already closed in between
                loop.call_soon_threadsafe(stop_event.set)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        self._running = False
        if self._state_file is not None:
            remove_state(self._state_file, pid=self._pid)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- the server thread ---------------------------------------------------------------
    def _run(self, began: float) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(began))
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._error = self._error or exc
        finally:
            self._ready.set()
            with contextlib.suppress(Exception):
                pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self, began: float) -> None:
        # Imported here: pymap and aiosmtpd are only needed when a sandbox really starts.
        from .imap_server import ConnectionTracker, DemoMailstore, start_imap
        from .smtp_server import start_smtp

        self._stop_event = asyncio.Event()
        tls_context = None
        if self.tls:
            from .certs import make_certificates

            assert self._workdir is not None
            certs = make_certificates(self._workdir, hosts=(self.host, "localhost", "127.0.0.1"))
            self._ca_file = str(certs.ca_file)
            tls_context = certs.server_context()

        store = DemoMailstore(username=self.username, password=self._password, tls_context=tls_context)
        tracker = ConnectionTracker()
        try:
            await store.setup(seed_module.FOLDERS)

            async def deliver(data: bytes) -> None:
                await store.append("INBOX", data, recent=True)

            imap_port, smtp_port = self._requested_ports
            try:
                imap = await start_imap(store, host=self.host, port=imap_port, tracker=tracker)
            except OSError as exc:
                raise _bind_error(exc, imap_port, "imap_port") from exc
            try:
                smtp = await start_smtp(
                    host=self.host,
                    port=smtp_port,
                    username=self.username,
                    password=self._password,
                    deliver=deliver,
                    tls_context=tls_context,
                )
            except BaseException as exc:
                imap.close()
                if isinstance(exc, OSError):
                    raise _bind_error(exc, smtp_port, "smtp_port") from exc
                raise
            try:
                # Bound first (a taken port fails fast), seeded next, serving last: no client
                # ever sees a half-filled mailbox.
                count, seed_seconds = await _fill_store(store, self._seed, self._now)
                await imap.start_serving()
                await smtp.server.start_serving()
            except BaseException:
                imap.close()
                smtp.close()
                raise
            self._imap_port = int(imap.sockets[0].getsockname()[1])
            self._smtp_port = smtp.port
            self.timings = Timings(time.perf_counter() - began, seed_seconds, count)
            self._ready.set()
            try:
                await self._stop_event.wait()
            finally:
                imap.close()
                smtp.close()
                tracker.close_all()
                await asyncio.sleep(0.05)  # let the transports' close callbacks run
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(imap.wait_closed(), 2.0)
        finally:
            store.close()


async def _fill_store(store: DemoMailstore, seed: int | None, now: dt.datetime | None) -> tuple[int, float]:
    """Put the demo mailbox into the store; returns (message count, seconds taken)."""
    began = time.perf_counter()
    count = 0
    if seed is not None:
        for message in seed_module.generate(seed=seed, now=now):
            await store.append(message.folder, message.data, flags=message.flags, when=message.received)
            count += 1
    return count, time.perf_counter() - began


def _bind_error(error: OSError, port: int, field: str) -> EmailConnError:
    if error.errno == errno.EADDRINUSE:
        return InvalidInputError(
            f"the sandbox could not listen on {field} {port}: the port is already in use. "
            "Choose another port, or 0 for any free port.",
            field=field,
        )
    return EmailConnError(f"the sandbox could not listen on {field} {port}: {error.strerror or error}.")


def _start_error(error: BaseException) -> EmailConnError:
    if isinstance(error, EmailConnError):
        return error
    return EmailConnError(f"the sandbox could not start: {type(error).__name__}: {error}")
