"""The local index on Dovecot: cached searches equal uncached ones, sync reports, files, clearing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from cache.cache_checks import assert_same
from servers.dovecot import DovecotServer

import nb_email_conn as nec
from nb_email_conn.aliases import Gated, ready
from nb_email_conn.cache import SyncReport

pytestmark = pytest.mark.dovecot
ALICE = "alice@example.org"


def mail(i: int, **headers: str) -> bytes:
    lines = [
        f"From: Sender {i % 3} <s{i % 3}@example.org>",
        f"To: {ALICE}",
        f"Subject: Message {i}",
        f"Date: Mon, {1 + i % 28:02d} Apr 2024 10:00:00 +0000",
        f"Message-ID: <m{i}@x>",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + f"\r\n\r\nbody {i} {'invoice' if i % 4 == 0 else ''}\r\n").encode()


def same(cached: Gated[pd.DataFrame], uncached: Gated[pd.DataFrame]) -> None:
    assert_same(ready(cached), ready(uncached))


def test_cached_search_equals_uncached_and_sync_reports(
    cached: nec.EmailConnection, uncached: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    for i in range(8):
        fresh_mailbox.append(ALICE, "INBOX", mail(i, In_Reply_To="<m0@x>") if i == 5 else mail(i))
    first = cached.sync()
    assert isinstance(first, SyncReport) and (first.new, first.changed, first.vanished) == (8, 0, 0)
    assert first.seconds > 0
    again = ready(cached.sync())
    assert (again.new, again.changed, again.vanished) == (0, 0, 0)
    same(cached.search_emails(), uncached.search_emails())
    for query in ("from:s1", "invoice", "-from:s2 subject:Message", None):
        for limit in (None, 3):
            same(cached.search_emails(query, limit=limit), uncached.search_emails(query, limit=limit))
    with fresh_mailbox.client() as other:
        other.select_folder("INBOX")
        uids = other.search(["ALL"])
        other.add_flags(uids[:2], [b"\\Seen"])
        other.delete_messages(uids[2:3])
        other.expunge()
    fresh_mailbox.append(ALICE, "INBOX", mail(20))
    report = ready(cached.sync())
    assert (report.new, report.changed, report.vanished) == (1, 2, 1)
    same(cached.search_emails(), uncached.search_emails())
    same(cached.search_emails(seen=True), uncached.search_emails(seen=True))


def test_files_are_private_headers_only_and_cleared(cached: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    fresh_mailbox.append(ALICE, "INBOX", mail(1))
    cached.search_emails()
    home = Path(os.environ["NB_EMAIL_CONN_HOME"])
    folder = home / "cache" / "test"
    assert stat.S_IMODE((home / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files), files
    data = b"".join(f.read_bytes() for f in files)
    assert b"Message 1" in data and b"body 1" not in data
    cached.clear_cache()
    assert not folder.exists() or not any(folder.iterdir())
    assert len(ready(cached.search_emails())) == 1  # the next search syncs afresh


def test_a_recreated_folder_drops_its_index_and_a_deleted_one_leaves_it(
    cached: nec.EmailConnection, uncached: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    with fresh_mailbox.client() as other:
        other.create_folder("Lab")
    for i in range(3):
        fresh_mailbox.append(ALICE, "Lab", mail(i))
    old = ready(cached.search_emails(folder="Lab"))
    with fresh_mailbox.client() as other:
        other.delete_folder("Lab")
        other.create_folder("Lab")
    for i in range(3, 5):
        fresh_mailbox.append(ALICE, "Lab", mail(i))
    report = ready(cached.sync("Lab"))
    assert (report.new, report.vanished) == (2, 3)
    new = ready(cached.search_emails(folder="Lab"))
    same(new, uncached.search_emails(folder="Lab"))
    assert not set(new["ref"]) & set(old["ref"])  # refs carry the new UIDVALIDITY
    assert ready(cached.sync()).vanished == 0  # every indexed folder: Lab only
    with fresh_mailbox.client() as other:
        other.delete_folder("Lab")
    assert ready(cached.sync()).vanished == 2
    with pytest.raises(nec.InvalidInputError):
        cached.search_emails(folder="Lab")


def test_sync_of_every_indexed_folder_sums_the_reports(
    cached: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    empty = ready(cached.sync())  # an empty index syncs INBOX
    assert (empty.new, empty.changed, empty.vanished) == (0, 0, 0)
    fresh_mailbox.append(ALICE, "INBOX", mail(1))
    fresh_mailbox.append(ALICE, "Archive", mail(2))
    fresh_mailbox.append(ALICE, "Archive", mail(3))
    assert ready(cached.sync("Archive")).new == 2
    fresh_mailbox.append(ALICE, "Archive", mail(4))
    report = ready(cached.sync())  # INBOX and Archive
    assert (report.new, report.changed, report.vanished) == (2, 0, 0)


def test_thread_and_limits_and_attachments_match_uncached(
    cached: nec.EmailConnection, uncached: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    from email.message import EmailMessage

    for i in range(6):
        fresh_mailbox.append(ALICE, "INBOX", mail(i, In_Reply_To=f"<m{i - 1}@x>") if i % 2 else mail(i))
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "a@example.org", "with file", "<file@x>"
    msg.set_content("see")
    msg.add_attachment(b"x,y\n1,2\n", maintype="text", subtype="csv", filename="t.csv")
    fresh_mailbox.append(ALICE, "INBOX", msg.as_bytes())
    for kwargs in ({"has_attachment": True}, {"has_attachment": False}, {"limit": 2, "has_attachment": False}):
        same(cached.search_emails(**kwargs), uncached.search_emails(**kwargs))
    ref = ready(uncached.search_emails(subject="Message 3")).iloc[0]["ref"]
    same(cached.thread(ref), uncached.thread(ref))
    assert len(ready(cached.thread(ref))) == 2


def test_sync_needs_the_cache_and_the_search_policy(uncached: nec.EmailConnection, cached: nec.EmailConnection) -> None:
    with pytest.raises(nec.InvalidInputError, match="cache=True"):
        uncached.sync()
    cached.policies["search_emails"] = "disabled"
    with pytest.raises(nec.FunctionDisabledError):
        cached.sync()
    with pytest.raises(nec.InvalidInputError):
        nec.EmailConnection(cached.config, password="x", cache="yes")  # type: ignore[arg-type]


def test_connect_with_cache_and_forget_connection_removes_only_its_folder(fresh_mailbox: DovecotServer) -> None:
    cfg = fresh_mailbox.config(name="work")
    nec.save_connection(cfg, password=fresh_mailbox.password)
    nec.save_connection(fresh_mailbox.config(name="home"), password=fresh_mailbox.password)
    fresh_mailbox.append(ALICE, "INBOX", mail(1))
    for name in ("work", "home"):
        with nec.connect(name, cache=True) as conn:
            assert conn.cached
            assert len(ready(conn.search_emails())) == 1
    root = Path(os.environ["NB_EMAIL_CONN_HOME"]) / "cache"
    assert {p.name for p in root.iterdir()} == {"work", "home"}
    nec.forget_connection("work")
    assert {p.name for p in root.iterdir()} == {"home"}
    with nec.connect("home") as conn:
        assert not conn.cached


def test_the_kept_whole_folder_frame_follows_flags_merges_and_expunges(
    cached: nec.EmailConnection, uncached: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    fresh_mailbox.append(ALICE, "INBOX", mail(1, In_Reply_To="<x@x>"))
    fresh_mailbox.append(ALICE, "INBOX", mail(2, In_Reply_To="<y@x>"))
    fresh_mailbox.append(ALICE, "INBOX", mail(3))
    first = ready(cached.search_emails())
    assert first["thread_id"].nunique() == 3
    with fresh_mailbox.client() as other:  # flags only: thread ids stay
        other.select_folder("INBOX")
        other.add_flags(other.search(["ALL"])[:2], [b"\\Flagged"])
    same(cached.search_emails(), uncached.search_emails())
    fresh_mailbox.append(ALICE, "INBOX", mail(4, References="<x@x> <y@x>"))  # joins the first two threads
    merged = ready(cached.search_emails())
    same(merged, uncached.search_emails())
    assert merged["thread_id"].nunique() == 2
    with fresh_mailbox.client() as other:  # the joining message goes: the threads part again
        other.select_folder("INBOX")
        other.delete_messages(other.search(["SUBJECT", "Message 4"]))
        other.expunge()
    parted = ready(cached.search_emails())
    same(parted, uncached.search_emails())
    assert parted["thread_id"].nunique() == 3


def test_cached_frames_carry_the_completeness_attrs(
    cached: nec.EmailConnection, uncached: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    fresh_mailbox.append(ALICE, "INBOX", mail(1))
    for kwargs in ({}, {"query": "Message"}, {"limit": 1}):
        assert ready(cached.search_emails(**kwargs)).attrs == ready(uncached.search_emails(**kwargs)).attrs
