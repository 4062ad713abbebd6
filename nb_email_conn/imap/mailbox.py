"""Mailbox operations on one IMAP session: the work behind the public functions.

No policy decisions here (that is the gate's job); only the rule that an action
acts on exactly the messages its refs name, or on none at all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imapclient import IMAPClient

from ..errors import ConnectionFailedError, InvalidInputError, OutcomeUnknownError, ServerError, StaleReferenceError
from ..refs import MessageRef, parse_uid_set, uid_sets
from ..validation import check_flag
from . import internals
from .session import ImapSession

_COPYUID = re.compile(rb"(\d+)\s+([\d:,]+)\s+([\d:,]+)")
_APPENDUID = re.compile(rb"(\d+)\s+(\d+)")  # the data imaplib files under the APPENDUID code
_APPENDUID_CODE = re.compile(rb"\[APPENDUID\s+(\d+)\s+(\d+)\]", re.IGNORECASE)
_HEADER_ITEM = b"BODY[HEADER.FIELDS (DATE FROM SUBJECT MESSAGE-ID)]"


@dataclass(frozen=True)
class FolderGroup:
    folder: str
    uidvalidity: int
    uids: tuple[int, ...]


class Mailbox:
    """IMAP work for one account, all through :meth:`ImapSession.run`."""

    def __init__(self, session: ImapSession) -> None:
        self.session = session

    # -- refs ---------------------------------------------------------------------------
    def own_ref(self, ref: MessageRef) -> None:
        cfg = self.session.config
        if ref.host and ref.host.lower() != cfg.imap_host.lower():
            raise InvalidInputError(
                f"the ref {str(ref)!r} belongs to the server {ref.host!r}, not to this connection ({cfg.imap_host!r}).",
                field="refs",
            )
        if ref.user and ref.user.lower() != cfg.username.lower():
            raise InvalidInputError(
                f"the ref {str(ref)!r} belongs to the account {ref.user!r}, not {cfg.username!r}.", field="refs"
            )

    def make_ref(self, folder: str, uidvalidity: int, uid: int) -> str:
        cfg = self.session.config
        return str(MessageRef(folder, uidvalidity, uid, cfg.username, cfg.imap_host.lower()))

    def group(self, refs: Sequence[MessageRef]) -> list[FolderGroup]:
        """Refs by folder; a folder named with two UIDVALIDITY values means a stale ref."""
        by_folder: dict[str, set[int]] = defaultdict(set)
        validity: dict[str, int] = {}
        for ref in refs:
            self.own_ref(ref)
            if validity.setdefault(ref.folder, ref.uidvalidity) != ref.uidvalidity:
                raise StaleReferenceError(
                    f"refs for {ref.folder!r} carry two UIDVALIDITY values; at least one is stale. Search again.",
                    ref=str(ref),
                )
            by_folder[ref.folder].add(ref.uid)
        return [FolderGroup(f, validity[f], tuple(sorted(u))) for f, u in by_folder.items()]

    def _check_present(self, client: IMAPClient, group: FolderGroup) -> None:
        """Every UID must still exist; otherwise act on none of them."""
        found: set[int] = set()
        for uid_set in uid_sets(group.uids):
            found.update(int(u) for u in client.search(["UID", uid_set]))
        missing = sorted(set(group.uids) - found)
        if missing:
            refs = [self.make_ref(group.folder, group.uidvalidity, uid) for uid in missing[:5]]
            raise StaleReferenceError(
                f"{len(missing)} of the selected messages no longer exist in {group.folder!r} (moved or deleted "
                f"elsewhere), so nothing was changed. Search again. Missing: {', '.join(refs)}",
                ref=refs[0],
            )

    def verify(self, refs: Sequence[MessageRef]) -> list[FolderGroup]:
        """Group the refs and check that each one still names its message (read-only)."""
        groups = self.group(refs)
        for group in groups:
            self.session.resolve_folder(group.folder, "refs")

        def work(client: IMAPClient) -> None:
            for group in groups:
                self.session.select_checked(client, group.folder, group.uidvalidity, readonly=True)
                self._check_present(client, group)

        self.session.run("checking the selected messages", work, idempotent=True)
        return groups

    def describe(self, refs: Sequence[MessageRef], limit: int = 50) -> list[dict[str, Any]]:
        """Date, sender and subject of up to ``limit`` messages, for an approval preview."""
        from email.parser import BytesHeaderParser
        from email.policy import default as default_policy

        groups = self.verify(refs)
        rows: list[dict[str, Any]] = []
        parser = BytesHeaderParser(policy=default_policy)

        def work(client: IMAPClient) -> None:
            for group in groups:
                if len(rows) >= limit:
                    return
                self.session.select_checked(client, group.folder, group.uidvalidity, readonly=True)
                wanted = list(group.uids[: limit - len(rows)])
                fetched = client.fetch(wanted, ["BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT MESSAGE-ID)]"])
                for uid in wanted:
                    data = fetched.get(uid, {})
                    raw = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), b"")
                    headers = parser.parsebytes(raw or b"")
                    rows.append(
                        {
                            "ref": self.make_ref(group.folder, group.uidvalidity, uid),
                            "folder": group.folder,
                            "date": _safe_header(headers, "date"),
                            "from": _safe_header(headers, "from"),
                            "subject": _safe_header(headers, "subject"),
                        }
                    )

        self.session.run("reading the selected messages", work, idempotent=True)
        return rows

    # -- reading ------------------------------------------------------------------------
    def fetch_message(self, ref: MessageRef, *, mark_seen: bool) -> tuple[bytes, tuple[str, ...], int]:
        self.own_ref(ref)
        folder = self.session.resolve_folder(ref.folder, "ref")

        def work(client: IMAPClient) -> tuple[bytes, tuple[str, ...], int]:
            self.session.select_checked(client, folder, ref.uidvalidity, readonly=not mark_seen)
            data = client.fetch([ref.uid], ["BODY.PEEK[]", "FLAGS", "RFC822.SIZE"]).get(ref.uid)
            if not data or b"BODY[]" not in data:
                raise StaleReferenceError(
                    f"the message {str(ref)!r} no longer exists (moved or deleted). Search again.", ref=str(ref)
                )
            if mark_seen:
                client.add_flags([ref.uid], [b"\\Seen"], silent=True)
            flags = tuple(_flag_text(f) for f in data.get(b"FLAGS", ()))
            if mark_seen and "\\Seen" not in flags:
                flags = (*flags, "\\Seen")
            return bytes(data[b"BODY[]"]), flags, int(data.get(b"RFC822.SIZE", 0))

        return self.session.run("reading a message", work, idempotent=True)

    # -- changing -----------------------------------------------------------------------
    def _write(self, action: str, work: Any) -> Any:
        try:
            return self.session.run(action, work, idempotent=False)
        except ConnectionFailedError as exc:
            raise OutcomeUnknownError(
                f"the IMAP connection dropped while {action}; it may or may not have happened. "
                "It was not retried: search the folders to see the current state."
            ) from exc

    def store_flags(self, refs: Sequence[MessageRef], add: Sequence[str], remove: Sequence[str]) -> int:
        groups = self.verify(refs)

        def work(client: IMAPClient) -> int:
            for group in groups:
                self.session.select_checked(client, group.folder, group.uidvalidity, readonly=False)
                for uid_set in uid_sets(group.uids):
                    if add:
                        client.add_flags(uid_set, list(add), silent=True)
                    if remove:
                        client.remove_flags(uid_set, list(remove), silent=True)
            return sum(len(g.uids) for g in groups)

        return int(self._write("changing flags", work))

    def transfer(self, refs: Sequence[MessageRef], target: str, *, move: bool) -> list[str | None]:
        """COPY or MOVE; returns the new refs in the order of ``refs`` (None where unknown)."""
        groups = self.verify(refs)
        for group in groups:
            if move and group.folder == target:
                raise InvalidInputError(f"the messages are already in {target!r}.", field="folder")
        can_move = self.session.has("MOVE")
        if move and not can_move and not self.session.has("UIDPLUS"):
            raise ServerError(
                "this server supports neither MOVE nor UIDPLUS, so a move cannot be done without risking other "
                "messages marked \\Deleted. Copy instead, then delete with care."
            )
        new_uid: dict[tuple[str, int], tuple[int, int]] = {}

        def work(client: IMAPClient) -> None:
            for group in groups:
                self.session.select_checked(client, group.folder, group.uidvalidity, readonly=False)
                for uid_set in uid_sets(group.uids):
                    internals.pop_untagged(client, "COPYUID")  # only this command's codes count
                    if move and can_move:
                        client.move(uid_set, target)
                    else:
                        client.copy(uid_set, target)
                        if move:
                            client.add_flags(uid_set, [b"\\Deleted"], silent=True)
                            client.uid_expunge(uid_set)
                    for validity, src, dst in _copyuid_pairs(client):
                        for s, d in zip(src, dst, strict=False):
                            new_uid[(group.folder, s)] = (validity, d)

        self._write("moving messages" if move else "copying messages", work)
        return [
            self.make_ref(target, *new_uid[(r.folder, r.uid)]) if (r.folder, r.uid) in new_uid else None for r in refs
        ]

    def expunge(self, refs: Sequence[MessageRef]) -> int:
        """Set ``\\Deleted`` and UID EXPUNGE exactly these UIDs; never other deleted mail."""
        # verify() logs in first: before that the capabilities are empty and UIDPLUS looked missing.
        groups = self.verify(refs)
        if not self.session.has("UIDPLUS"):
            raise ServerError(
                "this server lacks UIDPLUS, so a permanent delete would also remove other messages marked "
                "\\Deleted. Use delete_emails(refs) to move them to Trash instead."
            )

        def work(client: IMAPClient) -> int:
            for group in groups:
                self.session.select_checked(client, group.folder, group.uidvalidity, readonly=False)
                for uid_set in uid_sets(group.uids):
                    client.add_flags(uid_set, [b"\\Deleted"], silent=True)
                    client.uid_expunge(uid_set)
            return sum(len(g.uids) for g in groups)

        return int(self._write("deleting messages", work))

    def append(self, folder: str, message: bytes, flags: Iterable[str], when: datetime | None = None) -> str | None:
        """APPEND; the new message's ref from APPENDUID (UIDPLUS), else by its Message-ID."""
        target = self.session.resolve_folder(folder)

        def work(client: IMAPClient) -> str | None:
            internals.pop_untagged(client, "APPENDUID")
            response = client.append(target, message, flags=tuple(flags), msg_time=when)
            # Only a real APPENDUID code counts: other numbers in the OK text are not a UID.
            match = _APPENDUID_CODE.search(response) if isinstance(response, bytes) else None
            if match is None:
                for item in internals.pop_untagged(client, "APPENDUID"):
                    match = _APPENDUID.match(item) if isinstance(item, bytes) else None
                    if match:
                        break
            if match:
                return self.make_ref(target, int(match.group(1)), int(match.group(2)))
            return None

        return self._write(f"saving a message to {target!r}", work)  # type: ignore[no-any-return]

    def find_by_message_id(self, folder: str, message_id: str) -> str | None:
        """The newest message in ``folder`` with this Message-ID (fallback without UIDPLUS)."""

        def work(client: IMAPClient) -> str | None:
            selected = self.session.select(client, folder, readonly=True)
            uids = client.search(["HEADER", "Message-ID", message_id])
            return self.make_ref(folder, selected.uidvalidity, max(uids)) if uids else None

        return self.session.run("finding a message", work, idempotent=True)


def _copyuid_pairs(client: IMAPClient) -> list[tuple[int, list[int], list[int]]]:
    pairs = []
    for item in internals.pop_untagged(client, "COPYUID"):
        raw = item if isinstance(item, bytes) else b""
        match = _COPYUID.search(raw)
        if match:
            pairs.append(
                (
                    int(match.group(1)),
                    parse_uid_set(match.group(2)),
                    parse_uid_set(match.group(3)),
                )
            )
    return pairs


def _flag_text(flag: Any) -> str:
    return flag.decode("utf-8", "replace") if isinstance(flag, bytes) else str(flag)


def _safe_header(headers: Any, name: str) -> str:
    try:
        value = headers.get(name)
    except Exception:
        return ""
    return " ".join(str(value or "").split())


def check_flags(flags: str | Iterable[str], field: str) -> list[str]:
    items = [flags] if isinstance(flags, str) else list(flags)
    checked = [check_flag(f, field) for f in items]
    if any(f.lower() == "\\recent" for f in checked):
        raise InvalidInputError("\\Recent is set by the server and cannot be changed.", field=field)
    return checked
