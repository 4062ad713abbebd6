"""The state file that lets another process (a notebook kernel) use a running sandbox.

``<NB_EMAIL_CONN_HOME or the user config dir>/sandbox.json``, mode 0600, exists only while
the sandbox runs. It holds the sandbox's throwaway password: the server listens on loopback
only, the password is random per start, and the file is removed on stop.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

STATE_FILE_NAME = "sandbox.json"
GREETING_MARK = b"nb-email-conn sandbox"
"""Part of the IMAP greeting, so attaching never mistakes another server for the sandbox."""


def home_dir() -> Path:
    """``NB_EMAIL_CONN_HOME`` when set, else the platform's user config directory."""
    override = os.environ.get("NB_EMAIL_CONN_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("nb-email-conn", appauthor=False))


def default_state_file() -> Path:
    return home_dir() / STATE_FILE_NAME


@dataclass(frozen=True)
class SandboxState:
    """What another process needs to connect to a running sandbox."""

    pid: int
    host: str
    imap_port: int
    smtp_port: int
    username: str
    password: str
    encryption: str
    ca_file: str | None
    started_at: str

    def __repr__(self) -> str:  # never show the password
        return (
            f"SandboxState(pid={self.pid}, host={self.host!r}, imap_port={self.imap_port}, "
            f"smtp_port={self.smtp_port}, username={self.username!r}, encryption={self.encryption!r})"
        )


def write_state(path: Path, state: SandboxState) -> None:
    """Write atomically with mode 0600 (created that way, never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".sandbox-", suffix=".json", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(state), handle)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def read_state(path: Path) -> SandboxState | None:
    """The recorded sandbox, or None when the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SandboxState(**data)
    except (OSError, ValueError, TypeError):
        return None


def remove_state(path: Path, *, pid: int) -> None:
    """Remove the file only if it still describes the sandbox of ``pid``."""
    state = read_state(path)
    if state is not None and state.pid == pid:
        with contextlib.suppress(OSError):
            path.unlink()


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def imap_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when an IMAP server answers on host:port with the sandbox's greeting."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            greeting = sock.recv(512)
            with contextlib.suppress(OSError):
                sock.sendall(b"x LOGOUT\r\n")
    except OSError:
        return False
    return greeting.startswith(b"* OK") and GREETING_MARK in greeting


def find_running(path: Path) -> SandboxState | None:
    """The sandbox described by ``path`` if its process is alive and its IMAP port answers.
    A stale file (dead process) is removed."""
    state = read_state(path)
    if state is None:
        return None
    if not pid_alive(state.pid):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    if not imap_answers(state.host, state.imap_port):
        return None
    if state.ca_file and not os.path.isfile(state.ca_file):
        return None
    return state
