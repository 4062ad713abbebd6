"""A local IMAP + SMTP sandbox with a demo mailbox, for trying nb-email-conn without an account.

>>> import nb_email_conn as nec
>>> cfg = nec.sandbox.start()            # or attach to the one `nb-email-conn demo` runs
>>> conn = nec.EmailConnection(cfg)       # the password is in the session-only secret store

Built from real servers: pymap (IMAP, in-memory) and aiosmtpd (SMTP), on 127.0.0.1 only,
with STARTTLS required on both and a throwaway CA (``cfg.ca_file``). Mail sent through the
sandbox SMTP server is delivered into the demo INBOX, whatever the recipients.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..config import ConnectionConfig
from ..secrets import remember_session_password
from .seed import DEMO_USER, FOLDERS
from .server import Sandbox, Timings
from .state import default_state_file, find_running

_lock = threading.Lock()
_current: Sandbox | None = None


def _remember_session_password(name: str, password: str) -> None:
    """Keep the password in the session-only secret store (memory, this process), so an
    ``EmailConnection(cfg)`` without ``password=`` finds it. Never in the keyring: it
    changes on every start."""
    remember_session_password(name, password)


def start(
    *,
    host: str = "127.0.0.1",
    imap_port: int = 0,
    smtp_port: int = 0,
    seed: bool | int = True,
    name: str = "sandbox",
    fresh: bool = False,
    tls: bool = True,
    state_file: Path | None = None,
) -> ConnectionConfig:
    """Start the sandbox (or reuse the running one) and return a ready :class:`ConnectionConfig`.

    Reuses, unless ``fresh=True``: the sandbox this process already runs, else one another
    process runs (found through ``sandbox.json`` in ``NB_EMAIL_CONN_HOME`` or the user
    config directory: its process is alive and its IMAP port answers). ``seed`` is True
    (the standard demo mailbox), False (empty folders) or an int (another random seed).
    ``imap_port``/``smtp_port`` 0 pick free ports. The password is ``current().password``.
    """
    global _current
    path = state_file if state_file is not None else default_state_file()
    with _lock:
        if not fresh:
            if _current is not None and _current.running and _matches(_current, host, imap_port, smtp_port):
                return _current.config
            state = find_running(path)
            if state is not None:
                attached = Sandbox.attach(state, name=name)
                if _matches(attached, host, imap_port, smtp_port):
                    if _current is not None:
                        _current.stop()
                    _current = attached
                    _remember_session_password(name, attached.password)
                    return attached.config
        if _current is not None:
            _current.stop()
            _current = None
        sandbox = Sandbox(
            host=host, imap_port=imap_port, smtp_port=smtp_port, seed=seed, name=name, tls=tls, state_file=path
        ).start()
        _current = sandbox
        _remember_session_password(name, sandbox.password)
        return sandbox.config


def _matches(sandbox: Sandbox, host: str, imap_port: int, smtp_port: int) -> bool:
    return sandbox.host == host and imap_port in (0, sandbox.imap_port) and smtp_port in (0, sandbox.smtp_port)


def current() -> Sandbox | None:
    """The sandbox this process started or attached to, if any."""
    return _current if _current is not None and _current.running else None


def stop() -> None:
    """Stop the sandbox this process started (an attached one is only forgotten)."""
    global _current
    with _lock:
        if _current is not None:
            _current.stop()
            _current = None


__all__ = ["DEMO_USER", "FOLDERS", "Sandbox", "Timings", "current", "start", "stop"]
