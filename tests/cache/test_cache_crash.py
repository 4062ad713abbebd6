"""A sync killed halfway (the process dies inside its transaction) leaves a usable index: redone, never served."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from cache.cache_checks import assert_same
from servers.dovecot import DovecotServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready

pytestmark = pytest.mark.dovecot
ALICE = "alice@example.org"

# Runs in a child process: syncs INBOX and dies (os._exit, like kill -9) after writing half the new rows.
CHILD = textwrap.dedent(
    """
    import json, os, sys
    import nb_email_conn as nec
    from nb_email_conn.cache import db

    settings = json.loads(sys.argv[1])
    original = db.IndexDB.put_rows

    def put_half_and_die(self, folder, rows):
        items = list(rows.items())
        original(self, folder, dict(items[: len(items) // 2]))
        self._db.execute("SELECT 1")  # the rows are in the open transaction, not committed
        os._exit(9)

    db.IndexDB.put_rows = put_half_and_die
    password = settings.pop("password")
    conn = nec.EmailConnection(nec.ConnectionConfig(**settings), password=password, cache=True)
    conn.sync()
    print("sync finished: the kill did not happen")
    """
)


def mail(i: int) -> bytes:
    return (
        f"From: s{i % 4}@example.org\r\nTo: {ALICE}\r\nSubject: crash {i}\r\nMessage-ID: <crash{i}@x>\r\n"
        f"Date: Wed, 0{1 + i % 9} Oct 2024 10:00:00 +0000\r\n\r\nbody\r\n"
    ).encode()


def kill_a_sync(server: DovecotServer) -> None:
    cfg = server.config()
    settings = {
        "name": cfg.name, "username": cfg.username, "imap_host": cfg.imap_host, "imap_port": cfg.imap_port,
        "imap_encryption": str(cfg.imap_encryption), "smtp_host": cfg.smtp_host, "smtp_port": cfg.smtp_port,
        "smtp_encryption": str(cfg.smtp_encryption), "ca_file": cfg.ca_file, "password": server.password,
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(settings)], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert done.returncode == 9, done.stdout + done.stderr


@pytest.mark.parametrize("indexed_before", [False, True])
def test_a_sync_killed_halfway_leaves_a_usable_index(fresh_mailbox: DovecotServer, indexed_before: bool) -> None:
    for i in range(40):
        fresh_mailbox.append(ALICE, "INBOX", mail(i))
    cfg = fresh_mailbox.config()
    if indexed_before:  # an index that was whole, then more mail, then a sync that dies
        with nec.EmailConnection(cfg, password=fresh_mailbox.password, cache=True) as conn:
            conn.sync()
        for i in range(40, 70):
            fresh_mailbox.append(ALICE, "INBOX", mail(i))
    kill_a_sync(fresh_mailbox)
    with (
        nec.EmailConnection(cfg, password=fresh_mailbox.password, cache=True) as cached,
        nec.EmailConnection(cfg, password=fresh_mailbox.password) as uncached,
    ):
        report = ready(cached.sync())
        assert report.new == (30 if indexed_before else 40)  # the dead sync's rows were never kept: redone
        assert_same(ready(cached.search_emails()), ready(uncached.search_emails()))
        assert_same(ready(cached.search_emails("crash", limit=5)), ready(uncached.search_emails("crash", limit=5)))
