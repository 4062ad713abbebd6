"""Mailbox operations on one IMAP session: the work behind the public functions.

No policy decisions here (that is the gate's job); only the rule that an action
acts on exactly the messages its refs name, or on none at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imapclient import IMAPClient

from ..errors import ConnectionFailedError, InvalidInputError, OutcomeUnknownError, ServerError, StaleReferenceError
from ..refs import MessageRef, parse_uid_set, uid_sets
from ..validation import check_flag
from . import actions, limits
from .internals import raw_imap
from .session import ImapSession

_PREVIEW_ITEMS = b"(UID BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT MESSAGE-ID)])"
_MESSAGE_ITEMS = b"(UID FLAGS RFC822.SIZE BODY.PEEK[])"
_LIMIT = f"the maximum message size, {limits.LIMIT_NAME}"


@dataclass(frozen=True)
class FolderGroup:
    folder: str
    uidvalidity: int
    uids: tuple[int, ...]


@dataclass
class Transferred:
    """A copy or move: the new refs in the order of the refs given (None where the server named
    no new UID), and how many messages the server confirmed it copied or moved."""

    new_refs: list[str | None] = field(default_factory=list)
    confirmed: int = 0


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
        found = actions.uids_present(raw_imap(client), group.uids)
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
            rows.clear()  # a retry after a drop starts over
            for group in groups:
                if len(rows) >= limit:
                    return
                self.session.select_checked(client, group.folder, group.uidvalidity, readonly=True)
                wanted = list(group.uids[: limit - len(rows)])
                fetched = actions.fetch_by_uid(raw_imap(client), wanted, _PREVIEW_ITEMS)
                gone = [uid for uid in wanted if not isinstance(fetched.get(uid, {}).get(b"HEADER"), bytes)]
                if gone:
                    raise self._stale(group, gone)
                for uid in wanted:
                    headers = parser.parsebytes(fetched[uid][b"HEADER"])
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

    def _stale(self, group: FolderGroup, gone: Sequence[int]) -> StaleReferenceError:
        refs = [self.make_ref(group.folder, group.uidvalidity, uid) for uid in gone[:5]]
        return StaleReferenceError(
            f"{len(gone)} of the selected messages no longer exist in {group.folder!r} (moved or deleted "
            f"elsewhere). Search again. Missing: {', '.join(refs)}",
            ref=refs[0],
        )

    # -- reading ------------------------------------------------------------------------
    def fetch_message(self, ref: MessageRef, *, mark_seen: bool) -> tuple[bytes, tuple[str, ...], int]:
        """The raw message, its flags and RFC822.SIZE, all from the response that carries its UID.

        The literal is bounded by ``limits.max_message_size()``: a bigger one (announced, never
        read) is a ServerError naming the limit.
        """
        self.own_ref(ref)
        folder = self.session.resolve_folder(ref.folder, "ref")
        max_size = limits.max_message_size(self.session.config)

        def work(client: IMAPClient) -> tuple[bytes, tuple[str, ...], int]:
            self.session.select_checked(client, folder, ref.uidvalidity, readonly=not mark_seen)
            imap = raw_imap(client)
            fetched = actions.fetch_by_uid(imap, [ref.uid], _MESSAGE_ITEMS, max_literal=max_size, limit_name=_LIMIT)
            data = fetched.get(ref.uid, {})
            if not isinstance(data.get(b"BODY[]"), bytes):
                if ref.uid not in actions.uids_present(imap, [ref.uid]):
                    raise StaleReferenceError(
                        f"the message {str(ref)!r} no longer exists (moved or deleted). Search again.", ref=str(ref)
                    )
                actions.require_message(data, repr(str(ref)))
            if mark_seen:
                actions.store(imap, [ref.uid], b"+", ["\\Seen"])
            flags = actions.flag_names(data.get(b"FLAGS"))
            if mark_seen and "\\Seen" not in flags:
                flags = (*flags, "\\Seen")
            size = data.get(b"RFC822.SIZE")
            return data[b"BODY[]"], flags, int(size) if isinstance(size, bytes) and size.isdigit() else 0

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
        """Add / remove flags; the count is what the server confirmed: messages that exist afterwards
        and carry every added flag and none of the removed (read back by UID after the change)."""
        groups = self.verify(refs)
        wanted_in = {f.lower() for f in add}
        wanted_out = {f.lower() for f in remove}

        def work(client: IMAPClient) -> int:
            imap = raw_imap(client)
            confirmed = 0
            for group in groups:
                self.session.select_checked(client, group.folder, group.uidvalidity, readonly=False)
                if add:
                    actions.store(imap, group.uids, b"+", add)
                if remove:
                    actions.store(imap, group.uids, b"-", remove)
                for flags in actions.flags_by_uid(imap, group.uids).values():
                    have = {f.lower() for f in flags}
                    confirmed += wanted_in <= have and not (wanted_out & have)
            return confirmed

        return int(self._write("changing flags", work))

    def transfer(self, refs: Sequence[MessageRef], target: str, *, move: bool) -> list[str | None]:
        """COPY or MOVE; returns the new refs in the order of ``refs`` (None where unknown)."""
        return self.transfer_counted(refs, target, move=move).new_refs

    def transfer_counted(self, refs: Sequence[MessageRef], target: str, *, move: bool) -> Transferred:
        """COPY or MOVE, with the new refs and the number the server confirmed.

        Confirmed: the source UIDs in the server's COPYUID codes (UIDPLUS); without them, for a
        move the UIDs that were there just before and are gone after, for a copy those that
        were there just before.
        """
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
        raw_target = self.session.wire_name(target)
        literal_plus = self.session.literal_plus
        new_uid: dict[tuple[str, int], tuple[int, int]] = {}

        def copy(imap: Any, uid_set: str, source: str) -> tuple[set[int], list[actions.CopyUid]]:
            """COPY / MOVE one set; if the server refuses because some were expunged meanwhile (so nothing
            happened), once more with those still there. (The UIDs tried, the COPYUID codes.)"""
            uids = set(parse_uid_set(uid_set))
            found = actions.copy_uids(imap, uid_set, raw_target, move=move and can_move, literal_plus=literal_plus)
            if found is not None:
                return uids, found
            uids = actions.uids_present(imap, uids)
            codes: list[actions.CopyUid] = []
            for part in uid_sets(uids):
                found = actions.copy_uids(imap, part, raw_target, move=move and can_move, literal_plus=literal_plus)
                if found is None:
                    raise OutcomeUnknownError(
                        f"messages kept vanishing from {source!r} while they were copied to {target!r}; "
                        "some may have been copied. Search both folders to see the current state."
                    )
                codes += found
            return uids, codes

        def work(client: IMAPClient) -> int:
            imap = raw_imap(client)
            confirmed = 0
            for group in groups:
                self.session.select_checked(client, group.folder, group.uidvalidity, readonly=False)
                for uid_set in uid_sets(group.uids):
                    asked, codes = copy(imap, uid_set, group.folder)
                    if move and not can_move and asked:
                        actions.store(imap, asked, b"+", ["\\Deleted"])
                        actions.uid_expunge(imap, asked)
                    copied: set[int] = set()
                    for validity, sources, targets in codes:
                        for source, new in zip(sources, targets, strict=False):
                            if source in asked:
                                copied.add(source)
                                new_uid[(group.folder, source)] = (validity, new)
                    if codes:
                        confirmed += len(copied)
                    elif move:
                        confirmed += len(asked - actions.uids_present(imap, asked))
                    else:
                        confirmed += len(asked)
            return confirmed

        confirmed = int(self._write("moving messages" if move else "copying messages", work))
        new_refs = [new_uid.get((r.folder, r.uid)) for r in refs]
        return Transferred([self.make_ref(target, *new) if new else None for new in new_refs], confirmed)

    def expunge(self, refs: Sequence[MessageRef]) -> int:
        """Set ``\\Deleted`` and UID EXPUNGE exactly these UIDs; never other deleted mail.

        The count is what the server confirmed: messages that carried ``\\Deleted`` after our STORE
        and are gone after the UID EXPUNGE.
        """
        # verify() logs in first: before that the capabilities are empty and UIDPLUS looked missing.
        groups = self.verify(refs)
        if not self.session.has("UIDPLUS"):
            raise ServerError(
                "this server lacks UIDPLUS, so a permanent delete would also remove other messages marked "
                "\\Deleted. Use delete_emails(refs) to move them to Trash instead."
            )

        def work(client: IMAPClient) -> int:
            imap = raw_imap(client)
            confirmed = 0
            for group in groups:
                self.session.select_checked(client, group.folder, group.uidvalidity, readonly=False)
                actions.store(imap, group.uids, b"+", ["\\Deleted"])
                marked = {
                    uid for uid, flags in actions.flags_by_uid(imap, group.uids).items()
                    if "\\deleted" in {f.lower() for f in flags}
                }  # fmt: skip
                actions.uid_expunge(imap, group.uids)
                confirmed += len(marked - actions.uids_present(imap, marked))
            return confirmed

        return int(self._write("deleting messages", work))

    def append(self, folder: str, message: bytes, flags: Iterable[str], when: datetime | None = None) -> str | None:
        """APPEND; the new message's ref from APPENDUID (UIDPLUS), else None."""
        target = self.session.resolve_folder(folder)
        raw_target = self.session.wire_name(target)
        literal_plus = self.session.literal_plus
        names = list(flags)

        def work(client: IMAPClient) -> str | None:
            found = actions.append(raw_imap(client), raw_target, message, names, when, literal_plus=literal_plus)
            return self.make_ref(target, *found) if found else None

        return self._write(f"saving a message to {target!r}", work)  # type: ignore[no-any-return]

    def find_by_message_id(self, folder: str, message_id: str) -> str | None:
        """The newest message in ``folder`` with this Message-ID (fallback without UIDPLUS)."""
        value = message_id.encode("utf-8")

        def work(client: IMAPClient) -> str | None:
            selected = self.session.select(client, folder, readonly=True)
            uids = actions.search_uids(
                raw_imap(client), ["HEADER", b"Message-ID", value], literal_plus=self.session.literal_plus
            )
            return self.make_ref(folder, selected.uidvalidity, max(uids)) if uids else None

        return self.session.run("finding a message", work, idempotent=True)


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
