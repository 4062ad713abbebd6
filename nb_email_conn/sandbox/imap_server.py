"""The sandbox's IMAP side: pymap's in-memory ("dict") backend with one demo user.

Built the way ``pymap dict`` builds it (a ``Config``, a ``Login`` holding the user, an
``IMAPServer`` behind the PROXY-protocol reader), but we open the listening socket
ourselves: on the loopback address we are given (pymap's CLI defaults to all interfaces on
143) and on port 0 when asked, so the OS picks a free port.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from argparse import Namespace
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from proxyprotocol.reader import ProxyProtocolReader
from proxyprotocol.version import ProxyProtocolVersion
from pymap.backend.dict import Config, Login
from pymap.concurrent import Subsystem
from pymap.imap import IMAPServer
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials.flag import Flag
from pymap.user import Passwords, UserMetadata
from pysasl.hashing import BuiltinHash

from .state import GREETING_MARK


class _SandboxConfig(Config):
    @property
    def greeting(self) -> bytes:
        # pymap's default greeting calls socket.getfqdn(), which can stall without DNS; ours
        # also carries the mark that lets another process recognise the sandbox.
        return GREETING_MARK + b" ready"


class DemoMailstore:
    """The in-memory mail store of the demo user, shared by IMAP sessions and SMTP delivery.

    Only used from the sandbox's event loop thread.
    """

    def __init__(self, *, username: str, password: str, tls_context: ssl.SSLContext | None) -> None:
        self.username = username
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nb-email-conn-sandbox-hash")
        args = Namespace(passlib_cfg=None, proxy_protocol=None, inherited_sockets=None, debug=False)
        self.config = _SandboxConfig(
            args,
            host=None,
            port=0,
            demo_data=False,
            demo_user=username,
            demo_password=password,
            ssl_context=tls_context,
            tls_enabled=tls_context is not None,
            reject_dnsbl=False,
            invalid_user_sleep=0.2,
            # The password is random and the store lives in memory; pysasl's default of
            # 500,000 PBKDF2 rounds would only add a delay to every login.
            hash_context=BuiltinHash(rounds=1000),
            cpu_subsystem=Subsystem.for_threading(self._executor),
            proxy_protocol=ProxyProtocolVersion.get(None),
        )
        self.login = Login(self.config)

    async def setup(self, folders: Iterable[str]) -> None:
        """Create the user (with its hashed password) and its folders."""
        self.config.apply_context()
        hashed = await Passwords(self.config).hash_password(self.config.demo_password)
        await self.login.demo_user_identity.set(UserMetadata(self.config, self.username, password=hashed))
        mailbox_set = await self._mailbox_set()
        existing = {entry.name.upper() for entry in (await mailbox_set.list_mailboxes()).list()}
        for folder in folders:
            if folder.upper() != "INBOX" and folder.upper() not in existing:
                await mailbox_set.add_mailbox(folder)

    async def _mailbox_set(self) -> Any:
        # new_session() fills pymap's per-user cache; later sessions (IMAP logins) share it.
        async with self.login.demo_user_identity.new_session() as session:
            return session.mailbox_set

    async def append(
        self,
        folder: str,
        data: bytes,
        *,
        flags: Iterable[str] = (),
        when: dt.datetime | None = None,
        recent: bool = False,
    ) -> int:
        """Store one message; returns its UID. Sessions with the folder selected see it on
        their next NOOP/IDLE, like mail delivered by a real MTA."""
        mailbox_set = await self._mailbox_set()
        mailbox = await mailbox_set.get_mailbox(folder)
        flag_set = frozenset(Flag(flag.encode("ascii")) for flag in flags)
        received = when or dt.datetime.now(dt.timezone.utc)
        message = await mailbox.append(AppendMessage(data, received, flag_set), recent=recent)
        return int(message.uid)

    async def folder_names(self) -> list[str]:
        mailbox_set = await self._mailbox_set()
        names = [entry.name for entry in (await mailbox_set.list_mailboxes()).list()]
        return ["INBOX", *sorted(n for n in names if n.upper() != "INBOX")]

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class ConnectionTracker:
    """Remembers open client connections so that stopping the sandbox closes them."""

    def __init__(self) -> None:
        self.writers: dict[asyncio.StreamWriter, asyncio.BaseTransport] = {}

    def add(self, writer: asyncio.StreamWriter) -> None:
        # Keep the plain socket transport too: after STARTTLS the writer holds the TLS one,
        # and closing only that leaves the socket open until garbage collection.
        self.writers[writer] = writer.transport

    def discard(self, writer: asyncio.StreamWriter) -> None:
        self.writers.pop(writer, None)

    def close_all(self) -> None:
        for writer, raw_transport in list(self.writers.items()):
            writer.close()
            raw_transport.close()
        self.writers.clear()


async def start_imap(store: DemoMailstore, *, host: str, port: int, tracker: ConnectionTracker) -> asyncio.Server:
    """Bind host:port (0 = any free port) for IMAP; call ``start_serving()`` to accept clients."""
    imap_server = IMAPServer(store.login, store.config)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sock_info: Any) -> None:
        # Tracked here, inside the task that serves the connection (the PROXY-protocol
        # reader starts this as a separate task and returns at once).
        tracker.add(writer)
        try:
            await imap_server(reader, writer, sock_info)
        finally:
            tracker.discard(writer)

    on_connect = ProxyProtocolReader(store.config.proxy_protocol).get_callback(serve)
    return await asyncio.start_server(on_connect, host=host, port=port, start_serving=False)
