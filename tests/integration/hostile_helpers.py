"""Helpers for the hostile-server tests: a connection with every policy Enabled, through a proxy."""

from __future__ import annotations

from collections.abc import Callable

from servers.dovecot import DovecotServer
from servers.mitm import ImapMitm, Session

import nb_email_conn as nec

from .helpers import ALICE


def enabled(cfg: nec.ConnectionConfig, password: str) -> nec.EmailConnection:
    conn = nec.EmailConnection(cfg, password=password)
    for name in conn.policies:
        conn.policies[name] = "enabled"
    return conn


def proxied(dovecot: DovecotServer, proxy: ImapMitm) -> nec.EmailConnection:
    cfg = dovecot.config(ALICE, encryption="None", imap_port=proxy.port)
    return enabled(cfg, dovecot.password)


def once(action: Callable[[], None], when: Callable[[bytes], bool]) -> Callable[[bytes, Session], bytes]:
    """An on_command rule: run ``action`` (the other client's change) before the first matching command."""
    done: list[bool] = []

    def rule(command: bytes, session: Session) -> bytes:
        if not done and when(command):
            done.append(True)
            action()
        return command

    return rule
