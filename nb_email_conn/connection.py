"""``EmailConnection``: the nine functions, each gated by its policy, sync and ``_async``.

Naming convention: every function ``f`` has an awaitable twin ``f_async`` with the same
arguments (``search_emails`` / ``search_emails_async``). The synchronous form works in
scripts, notebooks and worker threads; the awaitable form is for async code (top-level
``await`` in Jupyter, agent frameworks).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

from imapclient.exceptions import IMAPClientError

from ._async import run_sync
from .approval import Gate, default_approver
from .config import ConnectionConfig
from .errors import InvalidInputError
from .imap.mailbox import Mailbox, check_flags
from .imap.session import ImapSession
from .message.compose import ComposedMessage, build_message, preview_of
from .message.parse import Email, parse_email
from .policy import Approver, Policies, Policy
from .refs import MessageRef, normalize_refs
from .secrets import Secret, get_password
from .smtp.sender import SmtpSubmission
from .validation import check_text

if TYPE_CHECKING:
    import pandas as pd

    from .diagnostics import ConnectionReport
    from .tools import ToolSet

log = logging.getLogger("nb_email_conn")

# Providers that file sent mail in \Sent themselves; appending again would duplicate it.
_SAVES_SENT_ITSELF = re.compile(r"(^|\.)(gmail\.com|googlemail\.com|office365\.com|outlook\.com)$", re.IGNORECASE)


@dataclass
class SentEmail:
    """What ``send_email`` did: the Message-ID, who accepted it, and where a copy was filed."""

    message_id: str
    recipients: list[str]
    refused: dict[str, str] = field(default_factory=dict)
    sent_ref: str | None = None
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"sent {self.message_id} to {len(self.recipients)} recipient(s)"
        if self.refused:
            text += f"; refused: {', '.join(self.refused)}"
        return text


def _summary(result: Any) -> str:
    """A short human line for the approval widget's outcome."""
    if isinstance(result, SentEmail):
        return str(result)
    if isinstance(result, int):
        return f"{result} message(s) changed"
    if isinstance(result, list):
        done = sum(1 for r in result if r)
        return f"{len(result)} message(s) done" + (f", {done} new ref(s)" if done else "")
    if isinstance(result, str):
        return f"saved as {result}"
    return "done"


def _flag_list(value: str | Iterable[str] | None, field: str) -> list[str]:
    return [] if value is None else check_flags(value, field)


class EmailConnection:
    """One mailbox: IMAP for reading and changing mail, SMTP for sending.

    ``password=None`` reads the secret store (keyring, or the session-only store).
    ``approver`` decides calls under "Enabled with confirmation"; in Jupyter the default
    is the inline Approve / Edit / Reject widget.
    """

    def __init__(
        self,
        config: ConnectionConfig,
        password: str | None = None,
        *,
        approver: Approver | None = None,
        policies: Mapping[str, Policy | str] | None = None,
        save_sent: bool | None = None,
    ) -> None:
        if not isinstance(config, ConnectionConfig):
            raise InvalidInputError("config must be a nb_email_conn.ConnectionConfig.", field="config")
        self.config = config
        secret = Secret(password if password is not None else get_password(config.name))
        self._secret = secret
        self.policies = Policies(policies)
        self._approver = approver
        self._default_approver: Approver | None = None
        self.save_sent = save_sent if save_sent is not None else not _SAVES_SENT_ITSELF.search(config.imap_host)
        self._session = ImapSession(config, secret.reveal)
        self._mailbox = Mailbox(self._session)
        self._gate = Gate(lambda name: self.policies[name], self._current_approver, config.name)

    # -- plumbing -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.config.name

    @property
    def approver(self) -> Approver | None:
        return self._approver

    @approver.setter
    def approver(self, value: Approver | None) -> None:
        if value is not None and not callable(value):
            raise InvalidInputError("approver must be a callable taking an ActionRequest.", field="approver")
        self._approver = value

    def _current_approver(self) -> Approver | None:
        if self._approver is not None:
            return self._approver
        if self._default_approver is None:
            self._default_approver = default_approver()
        return self._default_approver

    def __repr__(self) -> str:
        cfg = self.config
        insecure = " INSECURE" if cfg.insecure else ""
        return (
            f"<EmailConnection {cfg.name!r} {cfg.username} imap={cfg.imap_host}:{cfg.imap_port}/{cfg.imap_encryption} "
            f"smtp={cfg.smtp_host}:{cfg.smtp_port}/{cfg.smtp_encryption}{insecure}>"
        )

    def __enter__(self) -> EmailConnection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Log out of IMAP. The connection reconnects by itself if used again."""
        self._session.close()

    @property
    def insecure(self) -> bool:
        return self.config.insecure

    @property
    def capabilities(self) -> frozenset[str]:
        """The IMAP server's capabilities (after login)."""
        self._session.connect()
        return self._session.capabilities

    def audit_log(self) -> pd.DataFrame:
        """Every gated call: time, function, arguments (redacted), policy, decision, outcome, error."""
        return self._gate.audit.frame()

    def tools(self) -> ToolSet:
        """The enabled functions as LLM tool definitions plus a policy-respecting dispatcher."""
        from .tools import build_tools

        return build_tools(self)

    def test_connection(self) -> ConnectionReport:
        """Log in to IMAP and SMTP (no mail is sent) and report each step."""
        from .diagnostics import test_connection

        return test_connection(self.config, self._secret.reveal())

    def _call(
        self,
        function: str,
        arguments: dict[str, Any],
        preview: Callable[[dict[str, Any]], dict[str, Any]],
        run: Callable[[dict[str, Any]], Any],
    ) -> Any:
        return self._gate.call(function, arguments, preview=preview, run=run, summarize=_summary)

    async def _call_async(
        self,
        function: str,
        arguments: dict[str, Any],
        preview: Callable[[dict[str, Any]], dict[str, Any]],
        run: Callable[[dict[str, Any]], Any],
    ) -> Any:
        return await self._gate.call_async(function, arguments, preview=preview, run=run, summarize=_summary)

    @staticmethod
    def _no_preview(arguments: dict[str, Any]) -> dict[str, Any]:
        return {"summary": ", ".join(f"{k}={v!r}" for k, v in arguments.items())[:300]}

    # -- list_folders -------------------------------------------------------------------
    def _list_folders(self, arguments: dict[str, Any]) -> pd.DataFrame:
        import pandas as pd

        # INBOX first, then by name: the order people expect from a mail client.
        infos = sorted(self._session.folders(refresh=True), key=lambda f: (f.name.upper() != "INBOX", f.name.lower()))

        def work(client: Any) -> list[dict[str, Any]]:
            rows = []
            for info in infos:
                messages = unseen = None
                if info.selectable:
                    try:
                        status = client.folder_status(info.name, [b"MESSAGES", b"UNSEEN"])
                    except IMAPClientError:
                        status = None  # deleted by another client since LIST: counts unknown
                    if status is not None:
                        messages, unseen = int(status.get(b"MESSAGES", 0)), int(status.get(b"UNSEEN", 0))
                rows.append(
                    {
                        "name": info.name,
                        "special_use": info.special_use,
                        "messages": messages,
                        "unseen": unseen,
                        "flags": info.flags,
                        "delimiter": info.delimiter,
                    }
                )
            return rows

        rows = self._session.run("reading folder status", work, idempotent=True)
        frame: pd.DataFrame = pd.DataFrame(
            rows, columns=["name", "special_use", "messages", "unseen", "flags", "delimiter"]
        )
        for column in ("name", "special_use", "delimiter"):
            frame[column] = frame[column].astype("string")
        frame["messages"] = frame["messages"].astype("Int64")
        frame["unseen"] = frame["unseen"].astype("Int64")
        return frame

    def list_folders(self) -> pd.DataFrame:
        """The account's folders: name, special use (``\\Sent``, ``\\Trash`` …), message and unseen counts."""
        return self._call("list_folders", {}, self._no_preview, self._list_folders)  # type: ignore[no-any-return]

    async def list_folders_async(self) -> pd.DataFrame:
        return await self._call_async("list_folders", {}, self._no_preview, self._list_folders)  # type: ignore[no-any-return]

    # -- search_emails ------------------------------------------------------------------
    def _search(self, arguments: dict[str, Any]) -> pd.DataFrame:
        from .imap.search import search

        return search(
            self._session,
            self._mailbox,
            arguments.get("query"),
            folder=arguments.get("folder", "INBOX"),
            limit=arguments.get("limit"),
            criteria=arguments.get("criteria", {}),
            progress=arguments.get("progress", True),
        )

    @staticmethod
    def _search_arguments(
        query: str | None, folder: str, limit: int | None, criteria: dict[str, Any]
    ) -> dict[str, Any]:
        if query is not None:
            check_text(query, "query")
        check_text(folder, "folder", allow_empty=False, max_length=1000)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise InvalidInputError("limit must be a positive whole number (or None for all).", field="limit")
        progress = criteria.pop("progress", True)
        return {"query": query, "folder": folder, "limit": limit, "criteria": criteria, "progress": progress}

    def search_emails(
        self, query: str | None = None, *, folder: str = "INBOX", limit: int | None = None, **criteria: Any
    ) -> pd.DataFrame:
        """Search a folder; one row per message, newest first.

        ``query`` is Gmail-like (``from:bob subject:"Q3 report" after:2024-01-01 is:unread
        has:attachment -is:flagged``); keyword criteria (``from_=``, ``subject=``,
        ``since=``, ``seen=``, …) are AND-ed with it. ``limit=N`` keeps the newest N.
        Searching never marks messages as read. Folders of 5,000 messages or more show a
        progress bar; ``progress=False`` hides it.
        """
        arguments = self._search_arguments(query, folder, limit, criteria)
        return self._call("search_emails", arguments, self._no_preview, self._search)  # type: ignore[no-any-return]

    async def search_emails_async(
        self, query: str | None = None, *, folder: str = "INBOX", limit: int | None = None, **criteria: Any
    ) -> pd.DataFrame:
        arguments = self._search_arguments(query, folder, limit, criteria)
        return await self._call_async("search_emails", arguments, self._no_preview, self._search)  # type: ignore[no-any-return]

    # -- get_email ----------------------------------------------------------------------
    def _get_email(self, arguments: dict[str, Any]) -> Email:
        ref = MessageRef.parse(arguments["ref"])
        raw, flags, _size = self._mailbox.fetch_message(ref, mark_seen=bool(arguments.get("mark_seen")))
        return parse_email(raw, ref=str(ref), flags=flags)

    @staticmethod
    def _one_ref(ref: Any) -> str:
        refs = normalize_refs(ref)
        if len(refs) != 1:
            raise InvalidInputError(f"get_email reads one message; got {len(refs)} refs.", field="ref")
        return str(refs[0])

    def get_email(self, ref: Any, *, mark_seen: bool = False) -> Email:
        """Read one message (a ref string or a row of ``search_emails``). Never marks it read
        unless ``mark_seen=True``."""
        arguments = {"ref": self._one_ref(ref), "mark_seen": bool(mark_seen)}
        return self._call("get_email", arguments, self._no_preview, self._get_email)  # type: ignore[no-any-return]

    async def get_email_async(self, ref: Any, *, mark_seen: bool = False) -> Email:
        arguments = {"ref": self._one_ref(ref), "mark_seen": bool(mark_seen)}
        return await self._call_async("get_email", arguments, self._no_preview, self._get_email)  # type: ignore[no-any-return]

    # -- composing ----------------------------------------------------------------------
    def _compose(self, arguments: Mapping[str, Any], *, draft: bool = False) -> ComposedMessage:
        sender = self.config.sender
        if sender is None:
            raise InvalidInputError(
                "this connection has no From address: the username is not an email address. "
                "Set from_address in its ConnectionConfig.",
                field="from_address",
            )
        return build_message(
            sender=sender,
            to=arguments.get("to"),
            subject=arguments.get("subject", ""),
            body=arguments.get("body", ""),
            cc=arguments.get("cc"),
            bcc=arguments.get("bcc"),
            html=arguments.get("html"),
            attachments=arguments.get("attachments"),
            in_reply_to=arguments.get("in_reply_to"),
            allow_no_recipients=draft,
        )

    def _send_preview(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return preview_of(self._compose(arguments))

    def _send(self, arguments: dict[str, Any]) -> SentEmail:
        composed = self._compose(arguments)
        data = composed.as_bytes()

        async def submit() -> Any:
            async with SmtpSubmission(self.config, self._secret.reveal) as smtp:
                await smtp.login()
                return await smtp.submit(composed.envelope_from, composed.recipients, data)

        result = run_sync(submit())
        sent = SentEmail(composed.message_id, result.accepted, result.refused)
        if self.save_sent:
            try:
                sent_folder = self._session.require_special_folder("\\Sent")
                sent.sent_ref = self._mailbox.append(sent_folder, data, ["\\Seen"], datetime.now(timezone.utc))
            except Exception as exc:
                sent.warnings.append(f"sent, but not filed in Sent: {exc}")
                log.warning("message %s sent but not filed in Sent: %s", composed.message_id, type(exc).__name__)
        return sent

    @staticmethod
    def _compose_arguments(**arguments: Any) -> dict[str, Any]:
        return {k: v for k, v in arguments.items() if v is not None}

    def send_email(
        self,
        to: str | Iterable[str],
        subject: str,
        body: str,
        *,
        cc: str | Iterable[str] | None = None,
        bcc: str | Iterable[str] | None = None,
        html: str | None = None,
        attachments: Any = None,
        in_reply_to: str | None = None,
    ) -> SentEmail:
        """Send a message over SMTP (never retried) and file a copy in Sent.

        ``attachments``: paths, ``(filename, bytes[, content_type])`` tuples, dicts, or a
        pandas DataFrame (sent as CSV). ``in_reply_to`` is the Message-ID being answered.
        """
        arguments = self._compose_arguments(
            to=to,
            subject=subject,
            body=body,
            cc=cc,
            bcc=bcc,
            html=html,
            attachments=attachments,
            in_reply_to=in_reply_to,
        )
        return self._call("send_email", arguments, self._send_preview, self._send)  # type: ignore[no-any-return]

    async def send_email_async(
        self,
        to: str | Iterable[str],
        subject: str,
        body: str,
        *,
        cc: str | Iterable[str] | None = None,
        bcc: str | Iterable[str] | None = None,
        html: str | None = None,
        attachments: Any = None,
        in_reply_to: str | None = None,
    ) -> SentEmail:
        arguments = self._compose_arguments(
            to=to,
            subject=subject,
            body=body,
            cc=cc,
            bcc=bcc,
            html=html,
            attachments=attachments,
            in_reply_to=in_reply_to,
        )
        return await self._call_async("send_email", arguments, self._send_preview, self._send)  # type: ignore[no-any-return]

    # -- create_draft -------------------------------------------------------------------
    def _draft_preview(self, arguments: dict[str, Any]) -> dict[str, Any]:
        # Without the action the reviewer read "Send ..." for a message that is only saved.
        return preview_of(self._compose(arguments, draft=True), action="Save draft")

    def _draft(self, arguments: dict[str, Any]) -> str | None:
        composed = self._compose(arguments, draft=True)
        drafts = self._session.require_special_folder("\\Drafts")
        ref = self._mailbox.append(drafts, composed.as_bytes(), ["\\Draft", "\\Seen"], datetime.now(timezone.utc))
        return ref or self._mailbox.find_by_message_id(drafts, composed.message_id)

    def create_draft(
        self,
        to: str | Iterable[str] | None = None,
        subject: str = "",
        body: str = "",
        *,
        cc: str | Iterable[str] | None = None,
        bcc: str | Iterable[str] | None = None,
        html: str | None = None,
        attachments: Any = None,
    ) -> str | None:
        """Save a message in the Drafts folder (flag ``\\Draft``); returns its ref."""
        arguments = self._compose_arguments(
            to=to, subject=subject, body=body, cc=cc, bcc=bcc, html=html, attachments=attachments
        )
        return self._call("create_draft", arguments, self._draft_preview, self._draft)  # type: ignore[no-any-return]

    async def create_draft_async(
        self,
        to: str | Iterable[str] | None = None,
        subject: str = "",
        body: str = "",
        *,
        cc: str | Iterable[str] | None = None,
        bcc: str | Iterable[str] | None = None,
        html: str | None = None,
        attachments: Any = None,
    ) -> str | None:
        arguments = self._compose_arguments(
            to=to, subject=subject, body=body, cc=cc, bcc=bcc, html=html, attachments=attachments
        )
        return await self._call_async("create_draft", arguments, self._draft_preview, self._draft)  # type: ignore[no-any-return]

    # -- bulk actions -------------------------------------------------------------------
    def _bulk_preview(self, action: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def preview(arguments: dict[str, Any]) -> dict[str, Any]:
            refs = [MessageRef.parse(r) for r in arguments["refs"]]
            if "folder" in arguments:
                self._session.resolve_folder(arguments["folder"])
            messages = self._mailbox.describe(refs)
            details: dict[str, Any] = {"summary": f"{action} {len(refs)} message(s)", "count": len(refs)}
            for key in ("folder", "add", "remove", "permanent"):
                if key in arguments:
                    details[key] = arguments[key]
            details["messages"] = messages
            return details

        return preview

    @staticmethod
    def _refs_argument(refs: Any) -> list[str]:
        return [str(r) for r in normalize_refs(refs)]

    def _delete(self, arguments: dict[str, Any]) -> int:
        refs = [MessageRef.parse(r) for r in arguments["refs"]]
        permanent = arguments.get("permanent", False)
        if not isinstance(permanent, bool):
            # An approver's Decision.edit arrives unchecked: "false" is truthy and would expunge.
            raise InvalidInputError("permanent must be True or False.", field="permanent")
        if permanent:
            return self._mailbox.expunge(refs)
        trash = self._session.require_special_folder("\\Trash")
        if any(r.folder == trash for r in refs):
            raise InvalidInputError(
                f"some messages are already in {trash!r}; delete them with permanent=True.", field="refs"
            )
        moved = self._mailbox.transfer(refs, trash, move=True)
        return len(moved)

    def _delete_arguments(self, refs: Any, permanent: bool) -> dict[str, Any]:
        if not isinstance(permanent, bool):
            raise InvalidInputError("permanent must be True or False.", field="permanent")
        return {"refs": self._refs_argument(refs), "permanent": permanent}

    def delete_emails(self, refs: Any, *, permanent: bool = False) -> int:
        """Move the messages to Trash, or with ``permanent=True`` expunge exactly them.
        Returns how many messages were deleted."""
        arguments = self._delete_arguments(refs, permanent)
        return self._call("delete_emails", arguments, self._bulk_preview("delete"), self._delete)  # type: ignore[no-any-return]

    async def delete_emails_async(self, refs: Any, *, permanent: bool = False) -> int:
        arguments = self._delete_arguments(refs, permanent)
        return await self._call_async("delete_emails", arguments, self._bulk_preview("delete"), self._delete)  # type: ignore[no-any-return]

    def _flags(self, arguments: dict[str, Any]) -> int:
        refs = [MessageRef.parse(r) for r in arguments["refs"]]
        add = _flag_list(arguments.get("add"), "add")
        remove = _flag_list(arguments.get("remove"), "remove")
        if not add and not remove:  # a reviewer's edit may have emptied both
            raise InvalidInputError("no flags left to add or remove; nothing was changed.", field="add")
        return self._mailbox.store_flags(refs, add, remove)

    def _flag_arguments(self, refs: Any, add: Any, remove: Any) -> dict[str, Any]:
        added, removed = _flag_list(add, "add"), _flag_list(remove, "remove")
        if not added and not removed:
            raise InvalidInputError("give flags to add=... and/or remove=... (e.g. add='\\\\Flagged').", field="add")
        return {"refs": self._refs_argument(refs), "add": added, "remove": removed}

    def update_flags(self, refs: Any, *, add: str | Iterable[str] = (), remove: str | Iterable[str] = ()) -> int:
        """Add and/or remove flags (``\\Seen``, ``\\Flagged``, ``\\Answered``, keywords)."""
        arguments = self._flag_arguments(refs, add, remove)
        return self._call("update_flags", arguments, self._bulk_preview("change flags of"), self._flags)  # type: ignore[no-any-return]

    async def update_flags_async(
        self, refs: Any, *, add: str | Iterable[str] = (), remove: str | Iterable[str] = ()
    ) -> int:
        arguments = self._flag_arguments(refs, add, remove)
        return await self._call_async("update_flags", arguments, self._bulk_preview("change flags of"), self._flags)  # type: ignore[no-any-return]

    def _transfer_arguments(self, refs: Any, folder: str) -> dict[str, Any]:
        # Only offline checks here: a disabled function must not touch the network.
        check_text(folder, "folder", allow_empty=False, max_length=1000)
        return {"refs": self._refs_argument(refs), "folder": folder}

    def _transfer(self, move: bool) -> Callable[[dict[str, Any]], list[str | None]]:
        def run(arguments: dict[str, Any]) -> list[str | None]:
            target = self._session.resolve_folder(arguments["folder"])
            refs = [MessageRef.parse(r) for r in arguments["refs"]]
            return self._mailbox.transfer(refs, target, move=move)

        return run

    def move_emails(self, refs: Any, folder: str) -> list[str | None]:
        """Move messages to ``folder``; returns their new refs (None where the server does not say)."""
        arguments = self._transfer_arguments(refs, folder)
        return self._call("move_emails", arguments, self._bulk_preview("move"), self._transfer(True))  # type: ignore[no-any-return]

    async def move_emails_async(self, refs: Any, folder: str) -> list[str | None]:
        arguments = self._transfer_arguments(refs, folder)
        return await self._call_async("move_emails", arguments, self._bulk_preview("move"), self._transfer(True))  # type: ignore[no-any-return]

    def copy_emails(self, refs: Any, folder: str) -> list[str | None]:
        """Copy messages to ``folder``; returns the copies' refs (None where the server does not say)."""
        arguments = self._transfer_arguments(refs, folder)
        return self._call("copy_emails", arguments, self._bulk_preview("copy"), self._transfer(False))  # type: ignore[no-any-return]

    async def copy_emails_async(self, refs: Any, folder: str) -> list[str | None]:
        arguments = self._transfer_arguments(refs, folder)
        return await self._call_async("copy_emails", arguments, self._bulk_preview("copy"), self._transfer(False))  # type: ignore[no-any-return]
