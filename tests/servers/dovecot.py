"""A real Dovecot IMAP server for the suite, started from its own config in a temp dir.

Two Dovecot instances share one mail store:
- "tls": implicit TLS (imaps) and a plain port that offers STARTTLS (and, like a real
  server, refuses LOGIN before STARTTLS: ``disable_plaintext_auth = yes``);
- "plain": ``ssl = no``, so STARTTLS is not offered and LOGIN works in clear.
Dovecot 2.3 cannot switch ``ssl`` per listener on one address, hence two processes.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import imapclient

from .certs import TestCerts, make_test_certs
from .ports import HOST, free_port, wait_for_port

if TYPE_CHECKING:
    from nb_email_conn.config import ConnectionConfig

DOVECOT_BINARY = shutil.which("dovecot") or "/usr/sbin/dovecot"

USERS: dict[str, str] = {
    "alice@example.org": "alicepass",
    "bob@example.org": "bobpass",
}

SPECIAL_USE: dict[str, str] = {
    "Drafts": "\\Drafts",
    "Sent": "\\Sent",
    "Trash": "\\Trash",
    "Junk": "\\Junk",
    "Archive": "\\Archive",
}
"""Folders every user has (auto-created and subscribed), with their RFC 6154 flag."""

DEFAULT_FOLDERS = ("INBOX", *SPECIAL_USE)

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)


class SmtpEndpoint(Protocol):
    """What :meth:`DovecotServer.config` needs from an SMTP test server."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def mode(self) -> str: ...


_SMTP_MODE_TO_ENCRYPTION = {"implicit": "SslOnConnect", "starttls": "StartTls", "plain": "None"}


def dovecot_available() -> bool:
    return os.access(DOVECOT_BINARY, os.X_OK)


class DovecotStartError(RuntimeError):
    pass


class DovecotServer:
    """Dovecot on 127.0.0.1 with passwd-file users and special-use folders.

    Use :meth:`start` / :meth:`stop` (or ``with``). Ports are chosen at random.
    """

    host = HOST
    separator = "/"

    def __init__(
        self,
        users: dict[str, str] | None = None,
        certs: TestCerts | None = None,
        *,
        oauth_introspection_url: str | None = None,
    ) -> None:
        self.users: dict[str, str] = dict(users or USERS)
        self.oauth_introspection_url = oauth_introspection_url
        """When set, XOAUTH2 and OAUTHBEARER logins are checked by RFC 7662 introspection there
        (``passdb { driver = oauth2 }``), next to the passwd-file users' PLAIN / LOGIN."""
        # Short path: Dovecot's unix sockets live under base_dir and must stay < ~100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="dv", dir="/tmp"))
        self.root.chmod(0o755)  # the dovecot, dovenull and nobody users must traverse it
        # Share the suite's certs so one ca_file serves IMAP and SMTP in a ConnectionConfig.
        self.certs: TestCerts = certs or make_test_certs(self.root)
        self.imaps_port = free_port()
        self.starttls_port = free_port()
        self.plain_port = free_port()
        self.startup_seconds = 0.0
        self._processes: list[subprocess.Popen[bytes]] = []

    # -- facts for tests -------------------------------------------------------------------
    @property
    def ca_file(self) -> str:
        return str(self.certs.ca_file)

    @property
    def log_files(self) -> list[Path]:
        return sorted(self.root.glob("*.log"))

    def log_tail(self, lines: int = 40) -> str:
        text = []
        for path in self.log_files:
            content = path.read_text(errors="replace").splitlines()[-lines:]
            text.append(f"--- {path.name} ---\n" + "\n".join(content))
        return "\n".join(text)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> DovecotServer:
        if not dovecot_available():
            raise DovecotStartError(f"Dovecot is not installed ({DOVECOT_BINARY}); apt-get install dovecot-imapd")
        began = time.monotonic()
        self._write_users()
        self._write_oauth2()
        mail_uid, mail_gid = self._prepare_mail_root()
        configs = {
            "tls": self._config("tls", mail_uid, mail_gid),
            "plain": self._config("plain", mail_uid, mail_gid),
        }
        for name, text in configs.items():
            path = self.root / f"{name}.conf"
            path.write_text(text)
            log = (self.root / f"{name}-stdout.log").open("wb")
            # -F: stay in the foreground so the Popen handle is the master process.
            self._processes.append(
                subprocess.Popen([DOVECOT_BINARY, "-F", "-c", str(path)], stdout=log, stderr=subprocess.STDOUT)
            )
            log.close()
        for port in (self.imaps_port, self.starttls_port, self.plain_port):
            if not wait_for_port(port, timeout=10):
                self.stop()
                raise DovecotStartError(f"Dovecot did not listen on {port} within 10 s.\n{self.log_tail()}")
        self.startup_seconds = time.monotonic() - began
        atexit.register(self.stop)  # no stray Dovecot if the session ends without teardown
        return self

    def stop(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _write_users(self) -> None:
        lines = [f"{user}:{{PLAIN}}{password}::::::" for user, password in self.users.items()]
        path = self.root / "users"
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o644)

    def _write_oauth2(self) -> None:
        if self.oauth_introspection_url is None:
            return
        path = self.root / "oauth2.conf.ext"
        # Every login asks the authorization server: a revoked or expired token fails at once.
        path.write_text(
            f"introspection_mode = post\nintrospection_url = {self.oauth_introspection_url}\n"
            "force_introspection = yes\nusername_attribute = username\n"
            "active_attribute = active\nactive_value = true\ntimeout_msecs = 5000\n"
        )
        path.chmod(0o644)

    def _passdbs(self) -> str:
        users = f"""passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
{"  mechanisms = plain login" if self.oauth_introspection_url else ""}
}}"""
        if self.oauth_introspection_url is None:
            return "auth_mechanisms = plain login\n" + users
        return f"""auth_mechanisms = plain login xoauth2 oauthbearer
{users}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {self.root}/oauth2.conf.ext
}}
# Tests refuse tokens on purpose, many times from 127.0.0.1: no growing auth penalty (up to 15 s).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}"""

    def _prepare_mail_root(self) -> tuple[int, int]:
        home = self.root / "home"
        home.mkdir()
        if os.geteuid() == 0:
            # Dovecot refuses to run mail as root (uid 0): use nobody.
            nobody = pwd.getpwnam("nobody")
            os.chown(home, nobody.pw_uid, nobody.pw_gid)
            return nobody.pw_uid, nobody.pw_gid
        return os.getuid(), os.getgid()

    def _config(self, instance: str, mail_uid: int, mail_gid: int) -> str:
        root = self.root
        if os.geteuid() == 0:
            internal_user, login_user = "dovecot", "dovenull"
        else:
            internal_user = login_user = pwd.getpwuid(os.getuid()).pw_name
        if instance == "tls":
            tls = f"""
ssl = yes
ssl_cert = <{self.certs.server.cert_file}
ssl_key = <{self.certs.server.key_file}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
"""
            listeners = f"""
  inet_listener imap {{
    address = {HOST}
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.imaps_port}
    ssl = yes
  }}"""
        else:
            tls = "\nssl = no\ndisable_plaintext_auth = no\n"
            listeners = f"""
  inet_listener imap {{
    address = {HOST}
    port = {self.plain_port}
  }}
  inet_listener imaps {{
    port = 0
  }}"""
        mailboxes = "\n".join(
            f"  mailbox {name} {{\n    special_use = {flag}\n    auto = subscribe\n  }}"
            for name, flag in SPECIAL_USE.items()
        )
        return f"""# Generated by tests/servers/dovecot.py
instance_name = nbec-{instance}-{root.name}
base_dir = {root}/run-{instance}
state_dir = {root}/state-{instance}
protocols = imap
listen = {HOST}
log_path = {root}/{instance}.log
default_internal_user = {internal_user}
default_login_user = {login_user}
{tls}
auth_failure_delay = 0
{self._passdbs()}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/home/%u
}}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 200
namespace inbox {{
  inbox = yes
  separator = {self.separator}
{mailboxes}
}}
service imap-login {{{listeners}
}}
"""

    # -- helpers for tests -----------------------------------------------------------------
    def client(self, user: str = "alice@example.org", *, timeout: float = 10.0) -> imapclient.IMAPClient:
        """A logged-in IMAPClient over implicit TLS that trusts ``ca_file``: the "second client"."""
        context = ssl.create_default_context(cafile=self.ca_file)
        client = imapclient.IMAPClient(self.host, port=self.imaps_port, ssl=True, ssl_context=context, timeout=timeout)
        client.login(user, self.users[user])
        return client

    def append(
        self,
        user: str,
        folder: str,
        raw: bytes,
        flags: Sequence[str | bytes] = (),
        date: datetime | None = None,
    ) -> int:
        """Store one message with IMAP APPEND and return its UID (from APPENDUID)."""
        with self.client(user) as client:
            response = client.append(folder, raw, flags=tuple(flags), msg_time=date)
        match = _APPENDUID.search(response if isinstance(response, bytes) else str(response).encode())
        if not match:
            raise AssertionError(f"APPEND to {folder!r} gave no APPENDUID: {response!r}")
        return int(match.group(2))

    def reset_mailbox(self, user: str = "alice@example.org") -> None:
        """Empty every folder of ``user`` and delete the folders that are not defaults.

        Done over IMAP, not by deleting files, so each folder keeps its UIDVALIDITY and UIDs
        keep growing: a ref from an earlier test can never name a new message.
        """
        with self.client(user) as client:
            names = [_decode(name) for _flags, _sep, name in client.list_folders()]
            extra = [name for name in names if name not in DEFAULT_FOLDERS]
            for name in sorted(extra, key=lambda n: n.count(self.separator), reverse=True):
                try:
                    client.unsubscribe_folder(name)
                    client.delete_folder(name)
                except imapclient.exceptions.IMAPClientError:
                    pass  # a \Noselect parent vanishes with its last child
            left = [_decode(n) for _f, _s, n in client.list_folders() if _decode(n) not in DEFAULT_FOLDERS]
            if left:
                raise AssertionError(f"reset_mailbox could not delete {left} for {user}")
            for name in DEFAULT_FOLDERS:
                info = client.select_folder(name)
                if int(info.get(b"EXISTS", 0)):
                    client.delete_messages("1:*", silent=True)
                    client.expunge()
                client.close_folder()
            for name in names:
                if name in DEFAULT_FOLDERS:
                    client.subscribe_folder(name)

    def folder_names(self, user: str = "alice@example.org") -> list[str]:
        with self.client(user) as client:
            return [_decode(name) for _flags, _sep, name in client.list_folders()]

    def config(
        self,
        user: str = "alice@example.org",
        encryption: str = "SslOnConnect",
        smtp: SmtpEndpoint | None = None,
        **overrides: Any,
    ) -> ConnectionConfig:
        """A ConnectionConfig for ``user`` on the port matching ``encryption``.

        ``SslOnConnect`` -> imaps port, ``StartTls`` / ``Auto`` -> STARTTLS port,
        ``None`` -> the plain port. The SMTP part comes from ``smtp`` when given, else a
        dummy that nothing listens on.
        """
        from nb_email_conn.config import ConnectionConfig, Encryption

        mode = Encryption.parse(encryption)
        port = {
            Encryption.SSL_ON_CONNECT: self.imaps_port,
            Encryption.STARTTLS: self.starttls_port,
            Encryption.AUTO: self.starttls_port,
            Encryption.NONE: self.plain_port,
        }[mode]
        settings: dict[str, Any] = {
            "name": "test",
            "username": user,
            "imap_host": self.host,
            "imap_port": port,
            "imap_encryption": mode,
            "ca_file": self.ca_file,
            "timeout": 10.0,
        }
        if smtp is not None:
            settings.update(
                smtp_host=smtp.host, smtp_port=smtp.port, smtp_encryption=_SMTP_MODE_TO_ENCRYPTION[smtp.mode]
            )
        else:
            settings.update(smtp_host=self.host, smtp_port=free_port(), smtp_encryption="SslOnConnect")
        settings.update(overrides)
        return ConnectionConfig(**settings)

    @property
    def password(self) -> str:
        return self.users["alice@example.org"]


def _decode(name: str | bytes) -> str:
    return name.decode() if isinstance(name, bytes) else name


def seed(server: DovecotServer, user: str, folder: str, messages: Iterable[bytes]) -> list[int]:
    """Append several raw messages; returns their UIDs in order."""
    return [server.append(user, folder, raw) for raw in messages]
