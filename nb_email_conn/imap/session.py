"""One IMAP session over imapclient: secure connect, login, folder selection, reconnect.

Security rules enforced here (see security.md):
- ``StartTls``/``Auto`` never continue in plaintext: STARTTLS missing or refused, or a
  PREAUTH greeting, aborts before LOGIN is sent.
- Anything the server said before TLS is dropped; capabilities are asked again over TLS.
- Socket timeouts are always set; reads use EXAMINE so they never change ``\\Seen``.
- Only idempotent work is retried, once, after a dropped connection.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from imapclient import IMAPClient, SocketTimeout

from ..config import ConnectionConfig
from ..errors import (
    AuthenticationError,
    ConnectionFailedError,
    EmailConnError,
    InvalidInputError,
    SecurityError,
    StaleReferenceError,
)
from ..tls import describe_tls, make_context
from ..validation import check_text
from . import folders as folder_commands
from . import internals, limits
from .error_map import CONNECTION_LOST, MAPPED, imap_error
from .folders import SPECIAL_USE_NAMES, FolderInfo, SelectedFolder
from .names import encode_name

log = logging.getLogger("nb_email_conn.imap")
T = TypeVar("T")
__all__ = ["SPECIAL_USE_NAMES", "FolderInfo", "ImapSession", "SelectedFolder"]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class ImapSession:
    """A lazily connected, lock-protected imapclient connection for one account."""

    def __init__(self, config: ConnectionConfig, password: Callable[[], str]) -> None:
        self.config = config
        self._password = password
        self._client: IMAPClient | None = None
        self._selected: SelectedFolder | None = None
        self._folders: list[FolderInfo] | None = None
        self.capabilities: frozenset[str] = frozenset()
        self.tls: str | None = None
        self.mechanism: str | None = None
        """How the last login went: LOGIN, PLAIN, OAUTHBEARER or XOAUTH2."""
        self.greeting: str = ""
        self.lock = threading.RLock()

    def __repr__(self) -> str:
        state = "connected" if self._client is not None else "not connected"
        return f"<ImapSession {self.config.username}@{self.config.imap_host}:{self.config.imap_port} {state}>"

    # -- connecting ---------------------------------------------------------------------
    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate library and socket errors into the package's typed errors (``error_map``)."""
        try:
            yield
        except EmailConnError:
            # The bulk parser closes a stream it can no longer trust: forget that client, so the
            # next call reconnects instead of reporting a dropped connection for work never sent.
            if self._client is not None and internals.is_closed(self._client):
                self._drop()
            raise
        except MAPPED as exc:
            if isinstance(exc, CONNECTION_LOST):
                self._drop()  # any socket-level failure leaves the connection unusable
            cfg = self.config
            raise imap_error(
                exc,
                action=action,
                host=cfg.imap_host,
                port=int(cfg.imap_port or 0),
                timeout=cfg.timeout,
                username=cfg.username,
            ) from exc

    def _open(self) -> IMAPClient:
        cfg = self.config
        mode = cfg.imap_mode
        timeout = SocketTimeout(connect=cfg.timeout, read=cfg.timeout)
        context = make_context(cfg) if mode != "plain" else None
        client = internals.BoundedIMAPClient(
            cfg.imap_host,
            port=cfg.imap_port,
            ssl=mode == "implicit_tls",
            ssl_context=context,
            timeout=timeout,
        )
        # imapclient sets imaplib's debug level to 5, which formats a repr of every response
        # (a 10 MB message costs ~0.1 s) only for a logger that is usually off: keep it off.
        if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
            internals.quiet_protocol_debug(client)
        internals.set_literal_limit(client, limits.max_message_size(cfg))
        try:
            self.greeting = _text(client.welcome or b"")
            if mode == "starttls":
                self._starttls(client, context)
            elif internals.connection_state(client) != "NONAUTH" and mode == "plain":
                raise SecurityError("the IMAP server sent PREAUTH on a plaintext connection; refusing to use it.")
            self.tls = describe_tls(client.socket())
            caps = client.capabilities()
            if mode == "plain" and b"LOGINDISABLED" in caps:
                raise SecurityError(
                    "the IMAP server does not allow login without encryption: use StartTls or SslOnConnect."
                )
            if cfg.auth == "oauth2":
                self.mechanism = self._token_login(client, caps)
            else:
                self._password_login(client, caps)
            internals.forget_capabilities(client)  # servers may announce more after login
            self.capabilities = frozenset(_text(c).upper() for c in client.capabilities())
        except BaseException:
            self._close_quietly(client)
            raise
        return client

    def _password_login(self, client: IMAPClient, caps: Any) -> None:
        cfg = self.config
        password = self._password()
        if (cfg.username + password).isascii():
            client.login(cfg.username, password)
            self.mechanism = "LOGIN"
        elif b"AUTH=PLAIN" in caps:
            # imaplib sends LOGIN arguments as ASCII only (a non-ASCII password crashed with
            # UnicodeEncodeError); SASL PLAIN carries UTF-8 (RFC 4616).
            client.plain_login(cfg.username, password)
            self.mechanism = "PLAIN"
        else:
            raise AuthenticationError(
                "the username or password contains non-ASCII characters, which this IMAP server "
                "cannot accept (it offers no AUTH=PLAIN). Use an ASCII app password if the provider has one."
            )

    def _token_login(self, client: IMAPClient, caps: Any) -> str:
        """OAUTHBEARER or XOAUTH2 with the connection's access token, over TLS only (oauth/login.py)."""
        from ..oauth.login import imap_login

        cfg = self.config
        tls = isinstance(client.socket(), ssl.SSLSocket)
        return imap_login(client, caps, host=cfg.imap_host, port=int(cfg.imap_port), user=cfg.username,
                          credential=self._password, tls=tls)  # fmt: skip

    def _starttls(self, client: IMAPClient, context: ssl.SSLContext | None) -> None:
        host = self.config.imap_host
        if internals.connection_state(client) != "NONAUTH" or self.greeting.upper().startswith("* PREAUTH"):
            # The PREAUTH attack: an attacker skips STARTTLS by pre-authenticating.
            raise SecurityError(
                f"the IMAP server {host} greeted with PREAUTH on a connection that must use STARTTLS; "
                "refusing to continue without TLS."
            )
        caps = client.capabilities()
        if b"STARTTLS" not in caps:
            raise SecurityError(
                f"the IMAP server {host} does not offer STARTTLS, which StartTls/Auto require; nothing was sent "
                "in plaintext. Use SslOnConnect (port 993) or check the port."
            )
        try:
            client.starttls(context)
        except imaplib.IMAP4.error as exc:  # a NO / BAD answer (imapclient's errors are imaplib's)
            raise SecurityError(
                f"the IMAP server {host} refused STARTTLS ({_text(exc)[:200]}); nothing was sent in plaintext."
            ) from exc
        # Drop anything the server said before TLS (response injection): ask again over TLS.
        internals.discard_untagged(client)
        internals.forget_capabilities(client)
        if not isinstance(client.socket(), ssl.SSLSocket):
            raise SecurityError(f"STARTTLS with the IMAP server {host} did not establish TLS.")

    def connect(self) -> IMAPClient:
        """The live client, connecting (and logging in) when needed."""
        with self.lock:
            if self._client is None:
                with self._errors("connecting"):
                    self._client = self._open()
                log.info(
                    "IMAP connected to %s:%s as %s (%s)",
                    self.config.imap_host,
                    self.config.imap_port,
                    self.config.username,
                    self.tls or "no TLS",
                )
            return self._client

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    @staticmethod
    def _close_quietly(client: IMAPClient) -> None:
        try:
            client.shutdown()
        except Exception as exc:  # shutdown noise on a dead socket is irrelevant
            log.debug("ignored while closing the IMAP socket: %s", type(exc).__name__)

    def _drop(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            self._close_quietly(client)

    def close(self) -> None:
        with self.lock:
            client, self._client, self._selected = self._client, None, None
            if client is not None:
                try:
                    client.logout()
                except Exception:
                    self._close_quietly(client)

    # -- running work -------------------------------------------------------------------
    def run(self, action: str, work: Callable[[IMAPClient], T], *, idempotent: bool) -> T:
        """Run ``work`` with the client under the lock; retry once after a drop if idempotent.

        Non-idempotent work (APPEND, COPY, MOVE, EXPUNGE) is never retried blindly.
        """
        with self.lock:
            for attempt in (1, 2):
                client = self.connect()
                try:
                    with self._errors(action):
                        return work(client)
                except ConnectionFailedError:
                    if not idempotent or attempt == 2:
                        raise
                    log.info("IMAP connection dropped while %s; reconnecting once", action)
            raise AssertionError("unreachable")  # pragma: no cover

    # -- folders ------------------------------------------------------------------------
    def folders(self, *, refresh: bool = False) -> list[FolderInfo]:
        if self._folders is None or refresh:
            self._folders = self.run("listing folders", self._list_folders, idempotent=True)
        return self._folders

    def _list_folders(self, client: IMAPClient) -> list[FolderInfo]:
        return folder_commands.list_folders(internals.raw_imap(client))

    def resolve_folder(self, folder: str, field: str = "folder") -> str:
        """An existing, selectable folder name (INBOX case-insensitively), or InvalidInputError."""
        check_text(folder, field, allow_empty=False, max_length=1000)
        for refresh in (False, True):
            info = self._find(folder, self.folders(refresh=refresh))
            if info is not None:
                return info.name
        names = ", ".join(sorted(i.name for i in self.folders() if i.selectable)[:30])
        raise InvalidInputError(f"there is no folder {folder!r} on this account. Folders: {names}.", field=field)

    @staticmethod
    def _find(folder: str, infos: list[FolderInfo]) -> FolderInfo | None:
        """The selectable folder listed as ``folder``; a canonical name wins over a look-alike odd one."""
        matches = [
            info
            for info in infos
            if info.selectable and (info.name == folder or (info.name.upper() == "INBOX" and folder.upper() == "INBOX"))
        ]
        return next((info for info in matches if info.canonical), matches[0] if matches else None)

    def wire_name(self, folder: str) -> bytes:
        """The bytes to send for ``folder``: as the server listed it, else its modified UTF-7."""
        info = self._find(folder, self._folders or [])
        return info.raw if info is not None and info.raw else encode_name(folder)

    def folder_counts(self, client: IMAPClient, info: FolderInfo) -> tuple[int | None, int | None]:
        """(MESSAGES, UNSEEN) by STATUS with the name as listed; (None, None) if the server refuses."""
        found = folder_commands.status(
            internals.raw_imap(client), info.raw or encode_name(info.name), literal_plus=self.literal_plus
        )
        if found is None:
            return None, None
        return found.get("MESSAGES"), found.get("UNSEEN")

    @property
    def literal_plus(self) -> bool:
        return self.has("LITERAL+") or self.has("LITERAL-")

    def special_folder(self, use: str) -> str | None:
        """The folder for a special use (``\\Trash``): RFC 6154 flag first, then common names."""
        folders = [f for f in self.folders() if f.selectable]
        for info in folders:
            if info.special_use == use:
                return info.name
        by_name = {f.name.lower(): f.name for f in folders}
        for candidate in SPECIAL_USE_NAMES.get(use, ()):
            if candidate.lower() in by_name:
                return by_name[candidate.lower()]
        return None

    def require_special_folder(self, use: str) -> str:
        name = self.special_folder(use)
        if name is None:
            raise InvalidInputError(
                f"this account has no {use[1:]} folder (no folder has the {use} flag or a usual name).",
                field="folder",
            )
        return name

    def forget_folders(self) -> None:
        self._folders = None

    def select(self, client: IMAPClient, folder: str, *, readonly: bool) -> SelectedFolder:
        """SELECT, or EXAMINE for reads. Always sent (a round trip), so UIDVALIDITY is current."""
        self._selected = None
        internals.mark_selected(client, False)  # a failed SELECT leaves no folder selected
        self._selected = folder_commands.select(
            internals.raw_imap(client),
            folder,
            self.wire_name(folder),
            readonly=readonly,
            literal_plus=self.literal_plus,
        )
        internals.mark_selected(client, True)
        return self._selected

    def select_checked(self, client: IMAPClient, folder: str, uidvalidity: int, *, readonly: bool) -> SelectedFolder:
        """Select ``folder`` and refuse to continue if its UIDVALIDITY is not the one a ref carries."""
        selected = self.select(client, folder, readonly=readonly)
        if selected.uidvalidity != uidvalidity:
            raise StaleReferenceError(
                f"the folder {folder!r} was recreated on the server (UIDVALIDITY {uidvalidity} -> "
                f"{selected.uidvalidity}), so these refs may name other messages now. Search again.",
            )
        return selected
