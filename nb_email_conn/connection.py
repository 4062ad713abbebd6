"""``EmailConnection``: the registry's functions as methods, each gated by its policy, sync and ``_async``.

Naming convention: every function ``f`` has an awaitable twin ``f_async`` with the same arguments (``search_emails`` /
``search_emails_async``). The synchronous form works in scripts, notebooks and worker threads; the awaitable form is for
async code (top-level ``await`` in Jupyter, agent frameworks). What each function does is described once, in
``functions/``; the methods here (and in ``analysis.py``) only carry the signatures and docstrings people read. A
synchronous call under *Enabled with confirmation* made on the kernel's main thread returns a :class:`PendingAction`
(the action runs on the reviewer's click), hence the ``Gated[T]`` return types; awaited forms always return the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from .aliases import Gated, Refs
from .analysis import AnalysisMethods
from .approval import Gate
from .approvers import default_approver
from .config import ConnectionConfig
from .errors import InvalidInputError
from .functions.changing import COPY_EMAILS, DELETE_EMAILS, MOVE_EMAILS, UPDATE_FLAGS
from .functions.context import Context
from .functions.policies import Policies
from .functions.reading import GET_EMAIL, LIST_FOLDERS, SEARCH_EMAILS
from .functions.replying import FORWARD_EMAIL, REPLY_EMAIL
from .functions.sending import CREATE_DRAFT, SAVES_SENT_ITSELF, SEND_EMAIL, SentEmail
from .functions.spec import FunctionSpec
from .guardrails import Guardrails
from .imap.mailbox import Mailbox
from .imap.session import ImapSession
from .oauth.credentials import credential_for
from .pending import PendingAction
from .policy import Approver, Policy

if TYPE_CHECKING:
    import pandas as pd

    from .diagnostics import ConnectionReport
    from .message.compose import AttachmentSpec, Recipients
    from .message.parse import Email
    from .tools import ToolSet

R = TypeVar("R")
Attachments: TypeAlias = "AttachmentSpec | Iterable[AttachmentSpec] | None"


class EmailConnection(AnalysisMethods):
    """One mailbox: IMAP for reading and changing mail, SMTP for sending.

    ``password=None`` reads the secret store (keyring or session-only); OAuth: the sign-in's tokens. ``approver``
    decides calls under "Enabled with confirmation" (in Jupyter: the inline widget). ``cache=True``: a local index.
    """

    def __init__(
        self,
        config: ConnectionConfig,
        password: str | None = None,
        *,
        approver: Approver | None = None,
        policies: Mapping[str, Policy | str] | None = None,
        save_sent: bool | None = None,
        guardrails: Guardrails | Mapping[str, Any] | None = None,
        cache: bool = False,
    ) -> None:
        if not isinstance(config, ConnectionConfig):
            raise InvalidInputError("config must be a nb_email_conn.ConnectionConfig.", field="config")
        self.config = config
        credential = credential_for(config, password)  # a password, or OAuth access tokens
        self._credential = credential
        self.policies = Policies(policies)
        self.approver = approver
        self.guardrails = guardrails  # the setter parses None and dicts
        self._default_approver: Approver | None = None
        session = ImapSession(config, credential)
        self._context = Context(
            config=config,
            session=session,
            mailbox=Mailbox(session),
            password=credential,
            save_sent=save_sent if save_sent is not None else not SAVES_SENT_ITSELF.search(config.imap_host),
            cache=self._open_cache(config, credential, cache),
        )
        self._gate = Gate(
            lambda name: self.policies[name], self._current_approver, config.name, lambda: self._guardrails
        )

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

    @property
    def guardrails(self) -> Guardrails:
        """Limits checked before any approval and any traffic: allowed recipients, recipients per
        message, sends per hour, and ``dry_run``. Set a new :class:`Guardrails` (``None``: no limits)."""
        return self._guardrails

    @guardrails.setter
    def guardrails(self, value: Guardrails | Mapping[str, Any] | None) -> None:
        self._guardrails = Guardrails.parse(value)

    @property
    def save_sent(self) -> bool:
        """File a copy of sent mail in Sent (off where the provider does it itself)."""
        return self._context.save_sent

    @save_sent.setter
    def save_sent(self, value: bool) -> None:
        self._context.save_sent = bool(value)

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
        self._context.session.close()
        self._close_cache()

    @property
    def insecure(self) -> bool:
        return self.config.insecure

    @property
    def capabilities(self) -> frozenset[str]:
        """The IMAP server's capabilities (after login)."""
        self._context.session.connect()
        return self._context.session.capabilities

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

        return test_connection(self.config, credential=self._credential)

    def _call(self, spec: FunctionSpec[R], **arguments: Any) -> R | PendingAction[R]:
        return self._gate.call(spec, self._context, spec.prepare(arguments))

    async def _call_async(self, spec: FunctionSpec[R], **arguments: Any) -> R:
        return await self._gate.call_async(spec, self._context, spec.prepare(arguments))

    # -- reading --------------------------------------------------------------------------
    def list_folders(self) -> Gated[pd.DataFrame]:
        """The account's folders: name, special use (``\\Sent``, ``\\Trash`` …), message and unseen counts."""
        return self._call(LIST_FOLDERS)

    async def list_folders_async(self) -> pd.DataFrame:
        """Awaitable :meth:`list_folders`."""
        return await self._call_async(LIST_FOLDERS)

    def search_emails(
        self, query: str | None = None, *, folder: str = "INBOX", limit: int | None = None, **criteria: Any
    ) -> Gated[pd.DataFrame]:
        """Search a folder; one row per message, newest first.

        ``query`` is Gmail-like (``from:bob subject:"Q3 report" after:2024-01-01 is:unread
        has:attachment -is:flagged``); keyword criteria (``from_=``, ``subject=``,
        ``since=``, ``seen=``, …) are AND-ed with it. ``limit=N`` keeps the newest N.
        Searching never marks messages as read. Folders of 5,000 messages or more show a
        progress bar; ``progress=False`` hides it.
        """
        return self._call(SEARCH_EMAILS, query=query, folder=folder, limit=limit, **criteria)

    async def search_emails_async(
        self, query: str | None = None, *, folder: str = "INBOX", limit: int | None = None, **criteria: Any
    ) -> pd.DataFrame:
        """Awaitable :meth:`search_emails`."""
        return await self._call_async(SEARCH_EMAILS, query=query, folder=folder, limit=limit, **criteria)

    def get_email(self, ref: Refs, *, mark_seen: bool = False) -> Gated[Email]:
        """Read one message (a ref string or a row of ``search_emails``). Never marks it read
        unless ``mark_seen=True``."""
        return self._call(GET_EMAIL, ref=ref, mark_seen=mark_seen)

    async def get_email_async(self, ref: Refs, *, mark_seen: bool = False) -> Email:
        """Awaitable :meth:`get_email`."""
        return await self._call_async(GET_EMAIL, ref=ref, mark_seen=mark_seen)

    # -- writing --------------------------------------------------------------------------
    def send_email(
        self,
        to: Recipients,
        subject: str,
        body: str,
        *,
        cc: Recipients = None,
        bcc: Recipients = None,
        html: str | None = None,
        attachments: Attachments = None,
        in_reply_to: str | None = None,
    ) -> Gated[SentEmail]:
        """Send a message over SMTP (never retried) and file a copy in Sent.

        ``attachments``: paths, ``(filename, bytes[, content_type])`` tuples, dicts, or a
        pandas DataFrame (sent as CSV). ``in_reply_to`` is the Message-ID being answered
        (:meth:`reply_email` does the whole reply from a ref).
        """
        return self._call(
            SEND_EMAIL, to=to, subject=subject, body=body, cc=cc, bcc=bcc, html=html,
            attachments=attachments, in_reply_to=in_reply_to,
        )  # fmt: skip

    async def send_email_async(
        self,
        to: Recipients,
        subject: str,
        body: str,
        *,
        cc: Recipients = None,
        bcc: Recipients = None,
        html: str | None = None,
        attachments: Attachments = None,
        in_reply_to: str | None = None,
    ) -> SentEmail:
        """Awaitable :meth:`send_email`."""
        return await self._call_async(
            SEND_EMAIL, to=to, subject=subject, body=body, cc=cc, bcc=bcc, html=html,
            attachments=attachments, in_reply_to=in_reply_to,
        )  # fmt: skip

    def create_draft(
        self,
        to: Recipients = None,
        subject: str = "",
        body: str = "",
        *,
        cc: Recipients = None,
        bcc: Recipients = None,
        html: str | None = None,
        attachments: Attachments = None,
        in_reply_to: str | None = None,
    ) -> Gated[str | None]:
        """Save a message in the Drafts folder (flag ``\\Draft``); returns its ref.

        ``in_reply_to``: a ref (the draft then threads like :meth:`reply_email`) or a Message-ID.
        """
        return self._call(
            CREATE_DRAFT, to=to, subject=subject, body=body, cc=cc, bcc=bcc, html=html,
            attachments=attachments, in_reply_to=in_reply_to,
        )  # fmt: skip

    async def create_draft_async(
        self,
        to: Recipients = None,
        subject: str = "",
        body: str = "",
        *,
        cc: Recipients = None,
        bcc: Recipients = None,
        html: str | None = None,
        attachments: Attachments = None,
        in_reply_to: str | None = None,
    ) -> str | None:
        """Awaitable :meth:`create_draft`."""
        return await self._call_async(
            CREATE_DRAFT, to=to, subject=subject, body=body, cc=cc, bcc=bcc, html=html,
            attachments=attachments, in_reply_to=in_reply_to,
        )  # fmt: skip

    def reply_email(
        self,
        ref: Refs,
        body: str,
        *,
        reply_all: bool = False,
        html: str | None = None,
        attachments: Attachments = None,
        quote: bool = True,
    ) -> Gated[SentEmail]:
        """Reply to one message: to its Reply-To (else From), threaded, ``Re: `` once, the original quoted.

        ``reply_all=True`` adds its To and Cc recipients, minus your own addresses. After the
        send the original gets ``\\Answered`` and a copy goes to Sent.
        """
        return self._call(
            REPLY_EMAIL, ref=ref, body=body, reply_all=reply_all, html=html, attachments=attachments, quote=quote
        )

    async def reply_email_async(
        self,
        ref: Refs,
        body: str,
        *,
        reply_all: bool = False,
        html: str | None = None,
        attachments: Attachments = None,
        quote: bool = True,
    ) -> SentEmail:
        """Awaitable :meth:`reply_email`."""
        return await self._call_async(
            REPLY_EMAIL, ref=ref, body=body, reply_all=reply_all, html=html, attachments=attachments, quote=quote
        )

    def forward_email(
        self,
        ref: Refs,
        to: Recipients,
        body: str = "",
        *,
        cc: Recipients = None,
        bcc: Recipients = None,
        as_attachment: bool = False,
    ) -> Gated[SentEmail]:
        """Forward one message with ``Fwd: `` once: inline with its attachments byte-exact, or with
        ``as_attachment=True`` as one ``message/rfc822`` part holding the server's bytes unchanged."""
        return self._call(FORWARD_EMAIL, ref=ref, to=to, body=body, cc=cc, bcc=bcc, as_attachment=as_attachment)

    async def forward_email_async(
        self,
        ref: Refs,
        to: Recipients,
        body: str = "",
        *,
        cc: Recipients = None,
        bcc: Recipients = None,
        as_attachment: bool = False,
    ) -> SentEmail:
        """Awaitable :meth:`forward_email`."""
        return await self._call_async(
            FORWARD_EMAIL, ref=ref, to=to, body=body, cc=cc, bcc=bcc, as_attachment=as_attachment
        )

    # -- changing ---------------------------------------------------------------------------
    def delete_emails(self, refs: Refs, *, permanent: bool = False) -> Gated[int]:
        """Move the messages to Trash, or with ``permanent=True`` expunge exactly them.
        Returns how many messages were deleted."""
        return self._call(DELETE_EMAILS, refs=refs, permanent=permanent)

    async def delete_emails_async(self, refs: Refs, *, permanent: bool = False) -> int:
        """Awaitable :meth:`delete_emails`."""
        return await self._call_async(DELETE_EMAILS, refs=refs, permanent=permanent)

    def update_flags(
        self, refs: Refs, *, add: str | Iterable[str] = (), remove: str | Iterable[str] = ()
    ) -> Gated[int]:
        """Add and/or remove flags (``\\Seen``, ``\\Flagged``, ``\\Answered``, keywords)."""
        return self._call(UPDATE_FLAGS, refs=refs, add=add, remove=remove)

    async def update_flags_async(
        self, refs: Refs, *, add: str | Iterable[str] = (), remove: str | Iterable[str] = ()
    ) -> int:
        """Awaitable :meth:`update_flags`."""
        return await self._call_async(UPDATE_FLAGS, refs=refs, add=add, remove=remove)

    def move_emails(self, refs: Refs, folder: str) -> Gated[list[str | None]]:
        """Move messages to ``folder``; returns their new refs (None where the server does not say)."""
        return self._call(MOVE_EMAILS, refs=refs, folder=folder)

    async def move_emails_async(self, refs: Refs, folder: str) -> list[str | None]:
        """Awaitable :meth:`move_emails`."""
        return await self._call_async(MOVE_EMAILS, refs=refs, folder=folder)

    def copy_emails(self, refs: Refs, folder: str) -> Gated[list[str | None]]:
        """Copy messages to ``folder``; returns the copies' refs (None where the server does not say)."""
        return self._call(COPY_EMAILS, refs=refs, folder=folder)

    async def copy_emails_async(self, refs: Refs, folder: str) -> list[str | None]:
        """Awaitable :meth:`copy_emails`."""
        return await self._call_async(COPY_EMAILS, refs=refs, folder=folder)
