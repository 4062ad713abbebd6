"""Building test messages and snapshotting a mailbox through a second client."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any

from servers.dovecot import DovecotServer

ALICE = "alice@example.org"
BASE = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


def message(
    subject: str,
    *,
    sender: str = "Bob Builder <bob@example.org>",
    to: str = ALICE,
    body: str = "hello",
    when: datetime | None = None,
    attachment: tuple[str, bytes] | None = None,
    message_id: str | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = (when or BASE).strftime("%a, %d %b %Y %H:%M:%S %z")
    msg["Message-ID"] = message_id or f"<{abs(hash((subject, when)))}@test.example>"
    for key, value in (extra or {}).items():
        msg[key] = value
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0])
    return msg.as_bytes()


def seed_inbox(server: DovecotServer, count: int = 6, folder: str = "INBOX") -> list[int]:
    """``count`` messages a day apart (subject 'Message i'); message 2 has an attachment."""
    uids = []
    for i in range(count):
        raw = message(
            f"Message {i}",
            when=BASE + timedelta(days=i),
            sender="Bob Builder <bob@example.org>" if i % 2 == 0 else "Carol <carol@example.net>",
            attachment=("report.pdf", b"%PDF-1.4 test") if i == 2 else None,
            body=f"body number {i} about invoices" if i == 3 else f"body number {i}",
        )
        uids.append(server.append(ALICE, folder, raw, date=BASE + timedelta(days=i)))
    return uids


def snapshot(server: DovecotServer, user: str = ALICE) -> dict[str, list[tuple[int, tuple[str, ...]]]]:
    """Every folder's UIDs and flags, read by a second client: proves what changed (or not)."""
    state: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    with server.client(user) as client:
        for _flags, _sep, name in client.list_folders():
            folder = name.decode() if isinstance(name, bytes) else name
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            fetched: dict[int, Any] = client.fetch(uids, ["FLAGS"]) if uids else {}
            state[folder] = sorted(
                (uid, tuple(sorted(f.decode() for f in data[b"FLAGS"] if f != b"\\Recent")))
                for uid, data in fetched.items()
            )
    return state


def flags_of(server: DovecotServer, folder: str, uid: int, user: str = ALICE) -> set[str]:
    with server.client(user) as client:
        client.select_folder(folder, readonly=True)
        data = client.fetch([uid], ["FLAGS"])
    return {f.decode() for f in data[uid][b"FLAGS"]} - {"\\Recent"}
