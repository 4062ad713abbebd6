"""Servers for the watch tests: Dovecot without IDLE, and a server-side kick."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

from servers.dovecot import DovecotServer

# Dovecot's own capabilities, less IDLE (imap_capability replaces the list it announces after login).
NO_IDLE = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS "
    "THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED "
    "I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE "
    "SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE"
)


class DovecotWithoutIdle(DovecotServer):
    def _config(self, instance: str, mail_uid: int, mail_gid: int) -> str:
        return super()._config(instance, mail_uid, mail_gid) + f"imap_capability = {NO_IDLE}\n"


def kick(server: DovecotServer, user: str = "alice@example.org") -> None:
    """The server drops every connection of ``user`` (doveadm kick), as an admin or a restart would."""
    done = subprocess.run(
        ["doveadm", "-c", str(server.root / "tls.conf"), "kick", user], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
