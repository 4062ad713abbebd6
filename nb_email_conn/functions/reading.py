"""The read functions: list_folders, search_emails, get_email."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError
from ..policy import Policy
from ..refs import MessageRef, normalize_refs
from ..validation import check_text
from .spec import REF, Arguments, FunctionSpec, flag, object_schema, text

if TYPE_CHECKING:
    import pandas as pd

    from ..cache import SyncReport
    from ..message.parse import Email
    from ..watch import Watch
    from .context import Context

# An agent's search is bounded unless it asks for more.
TOOL_SEARCH_LIMIT = 20
TOOL_MAX_LIMIT = 500
FOLDER_COLUMNS = ["name", "special_use", "messages", "unseen", "flags", "delimiter"]


# -- list_folders ----------------------------------------------------------------------------
def _list_folders(context: Context, arguments: Arguments) -> pd.DataFrame:
    import pandas as pd

    session = context.session
    # INBOX first, then by name: the order people expect from a mail client.
    infos = sorted(session.folders(refresh=True), key=lambda f: (f.name.upper() != "INBOX", f.name.lower()))

    def work(client: Any) -> list[dict[str, Any]]:
        rows = []
        for info in infos:
            # Unknown counts where the server refuses STATUS (a folder deleted since LIST); a
            # dropped connection goes through, so the session reconnects.
            messages, unseen = session.folder_counts(client, info) if info.selectable else (None, None)
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

    rows = session.run("reading folder status", work, idempotent=True)
    frame: pd.DataFrame = pd.DataFrame(rows, columns=FOLDER_COLUMNS)
    for column in ("name", "special_use", "delimiter"):
        frame[column] = frame[column].astype("string")
    frame["messages"] = frame["messages"].astype("Int64")
    frame["unseen"] = frame["unseen"].astype("Int64")
    return frame


LIST_FOLDERS: FunctionSpec[pd.DataFrame] = FunctionSpec(
    name="list_folders",
    seed_name=None,
    label="List the mailbox folders.",
    description="List the mailbox folders with their special use (Inbox, Sent, Drafts, Trash, ...) and message counts.",
    default_policy=Policy.ENABLED,
    writes=False,
    parameters=object_schema({}),
    run=_list_folders,
    signature="list_folders()",
    returns="DataFrame: name, special_use, messages, unseen, flags",
)


# -- search_emails ---------------------------------------------------------------------------
def _prepare_search(arguments: Arguments) -> Arguments:
    query, folder, limit = arguments.pop("query", None), arguments.pop("folder", "INBOX"), arguments.pop("limit", None)
    if query is not None:
        check_text(query, "query")
    check_text(folder, "folder", allow_empty=False, max_length=1000)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInputError("limit must be a positive whole number (or None for all).", field="limit")
    progress = arguments.pop("progress", True)
    return {"query": query, "folder": folder, "limit": limit, "criteria": arguments, "progress": progress}


def _search(context: Context, arguments: Arguments) -> pd.DataFrame:
    if context.cache is not None:  # synced first, then rows from the local index
        from ..cache.answer import cached_search

        return cached_search(
            context.cache,
            arguments.get("query"),
            folder=arguments.get("folder", "INBOX"),
            limit=arguments.get("limit"),
            criteria=arguments.get("criteria", {}),
            progress=arguments.get("progress", True),
        )
    from ..imap.search import search

    return search(
        context.session,
        context.mailbox,
        arguments.get("query"),
        folder=arguments.get("folder", "INBOX"),
        limit=arguments.get("limit"),
        criteria=arguments.get("criteria", {}),
        progress=arguments.get("progress", True),
    )


def _contains(what: str) -> dict[str, Any]:
    return text(f"{what} contains this text.")


SEARCH_EMAILS: FunctionSpec[pd.DataFrame] = FunctionSpec(
    name="search_emails",
    seed_name="SearchEmailsAsync",
    label="Search a folder; returns a DataFrame.",
    description="Search one folder; returns the newest matching messages first, as rows with ref, date, from_name, "
    "from_addr, to, subject, flags, seen, size, has_attachments. Use the 'ref' of a row with get_email "
    "and the other tools. Never marks messages as read.",
    default_policy=Policy.ENABLED,
    writes=False,
    parameters=object_schema(
        {
            "query": text(
                'Gmail-like query, e.g. \'from:alice subject:"Q3 report" after:2024-01-01 is:unread '
                "has:attachment -newsletter'. Supports from: to: cc: bcc: subject: after: before: "
                "is:unread|read|flagged|answered|draft has:attachment larger: smaller: quoted phrases, "
                "bare words, - for NOT and OR."
            ),
            "folder": text("Folder to search (default INBOX).", default="INBOX"),
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": TOOL_MAX_LIMIT,
                "default": TOOL_SEARCH_LIMIT,
                "description": f"Return at most this many of the newest matches (default {TOOL_SEARCH_LIMIT}).",
            },
            "from": _contains("Sender"),
            "to": _contains("A To recipient"),
            "cc": _contains("A Cc recipient"),
            "bcc": _contains("A Bcc recipient (as recorded in your copy)"),
            "subject": _contains("Subject"),
            "text": _contains("Headers or body"),
            "body": _contains("Body"),
            "since": text("On or after this date (YYYY-MM-DD).", format="date"),
            "after": text("On or after this date (YYYY-MM-DD); the same as since.", format="date"),
            "before": text("Before this date (YYYY-MM-DD).", format="date"),
            "seen": flag("true: only read messages; false: only unread."),
            "flagged": flag("true: only flagged; false: only not flagged."),
            "answered": flag("true: only answered; false: only unanswered."),
            "draft": flag("true: only drafts; false: no drafts."),
            "has_attachment": flag("true: only messages with attachments."),
            "larger": {"type": "integer", "minimum": 0, "description": "Larger than this many bytes."},
            "smaller": {"type": "integer", "minimum": 1, "description": "Smaller than this many bytes."},
        }
    ),
    prepare=_prepare_search,
    run=_search,
    signature='search_emails(query=None, *, folder="INBOX", limit=None, **criteria)',
    returns="DataFrame, newest first",
    positional=("query",),
    renames={"from": "from_"},
    tool_defaults={"limit": TOOL_SEARCH_LIMIT},
)


# -- get_email -------------------------------------------------------------------------------
def one_ref(value: Any, function: str) -> str:
    refs = normalize_refs(value)
    if len(refs) != 1:
        raise InvalidInputError(f"{function} works on one message; got {len(refs)} refs.", field="ref")
    return str(refs[0])


def _prepare_get(arguments: Arguments) -> Arguments:
    return {"ref": one_ref(arguments["ref"], "get_email"), "mark_seen": bool(arguments.get("mark_seen"))}


def fetch_email(context: Context, ref: str, *, mark_seen: bool = False) -> Email:
    from ..message.parse import parse_email

    message_ref = MessageRef.parse(ref)
    raw, flags, _size = context.mailbox.fetch_message(message_ref, mark_seen=mark_seen)
    return parse_email(raw, ref=str(message_ref), flags=flags)


def _get_email(context: Context, arguments: Arguments) -> Email:
    return fetch_email(context, arguments["ref"], mark_seen=bool(arguments.get("mark_seen")))


GET_EMAIL: FunctionSpec[Email] = FunctionSpec(
    name="get_email",
    seed_name="GetEmailAsync",
    label="Read one message.",
    description="Read one message: headers, plain text (long texts are cut), attachment names and sizes.",
    default_policy=Policy.ENABLED,
    writes=False,
    parameters=object_schema(
        {"ref": REF, "mark_seen": flag("Also mark it as read.", default=False)},
        ["ref"],
    ),
    prepare=_prepare_get,
    run=_get_email,
    signature="get_email(ref, *, mark_seen=False)",
    returns="`Email` (text, html, attachments, headers; safe rich display)",
    positional=("ref",),
)


# -- thread (governed by search_emails' policy: it is a search) ----------------------------------
def _prepare_thread(arguments: Arguments) -> Arguments:
    return {"ref": one_ref(arguments["ref"], "thread")}


def _thread(context: Context, arguments: Arguments) -> pd.DataFrame:
    from ..imap.internals import raw_imap
    from ..imap.threads import thread_rows

    ref = MessageRef.parse(arguments["ref"])
    context.mailbox.own_ref(ref)
    if context.cache is not None:
        from ..cache.answer import cached_thread

        return cached_thread(context.cache, ref)
    session = context.session
    folder = session.resolve_folder(ref.folder, "ref")
    config = session.config
    ref = MessageRef(folder, ref.uidvalidity, ref.uid, ref.user, ref.host)

    def work(client: Any) -> pd.DataFrame:
        session.select_checked(client, folder, ref.uidvalidity, readonly=True)
        return thread_rows(
            raw_imap(client), ref, esearch=session.has("ESEARCH"), user=config.username, host=config.imap_host.lower()
        )

    return session.run(f"reading the thread in {folder!r}", work, idempotent=True)


THREAD = replace(SEARCH_EMAILS, prepare=_prepare_thread, run=_thread, positional=("ref",))
"""``conn.thread(ref)``: a search, so under ``search_emails``' policy and in the audit log as one."""


# -- sync (the local index; a search of the folders it holds) -------------------------------------
def _prepare_sync(arguments: Arguments) -> Arguments:
    folder = arguments.get("folder")
    if folder is not None:
        check_text(folder, "folder", allow_empty=False, max_length=1000)
    return {"folder": folder, "progress": bool(arguments.get("progress", True))}


def _sync(context: Context, arguments: Arguments) -> SyncReport:
    cache = context.cache
    if cache is None:
        raise InvalidInputError(
            "this connection has no local index: open it with EmailConnection(config, cache=True) "
            "or nec.connect(name, cache=True).",
            field="cache",
        )
    folder = arguments.get("folder")
    folders = None if folder is None else [cache.session.resolve_folder(folder)]
    return cache.sync(folders, progress=arguments.get("progress", True))


SYNC: FunctionSpec[SyncReport] = FunctionSpec(
    name=SEARCH_EMAILS.name,
    seed_name=None,
    label="Bring the local index up to date.",
    description=SEARCH_EMAILS.description,
    default_policy=SEARCH_EMAILS.default_policy,
    writes=False,
    parameters=object_schema({"folder": text("Folder to sync (default: every folder in the index).")}),
    prepare=_prepare_sync,
    run=_sync,
    signature="sync(folder=None)",
    returns="SyncReport(new, changed, vanished, seconds)",
)
"""``conn.sync(folder=None)``: reads the folders like a search, so under ``search_emails``' policy."""


# -- watch (new messages as they arrive; a search of what comes) -----------------------------------
def _prepare_watch(arguments: Arguments) -> Arguments:
    folder = arguments.get("folder", "INBOX")
    check_text(folder, "folder", allow_empty=False, max_length=1000)
    return {
        "folder": folder,
        "callback": arguments.get("callback"),
        "poll_interval": arguments.get("poll_interval", 15),
        "idle_renew": arguments.get("idle_renew", 1500),
    }


def _watch(context: Context, arguments: Arguments) -> Watch:
    from ..watch import Watch

    return Watch(
        context.config,
        context.password,
        context.session.resolve_folder(arguments["folder"]),
        callback=arguments["callback"],
        poll_interval=arguments["poll_interval"],
        idle_renew=arguments["idle_renew"],
    )


WATCH: FunctionSpec[Watch] = FunctionSpec(
    name=SEARCH_EMAILS.name,
    seed_name=None,
    label="Watch a folder for new messages.",
    description=SEARCH_EMAILS.description,
    default_policy=SEARCH_EMAILS.default_policy,
    writes=False,
    parameters=object_schema({"folder": text("Folder to watch (default INBOX).", default="INBOX")}),
    prepare=_prepare_watch,
    run=_watch,
    signature='watch(folder="INBOX", *, callback=None, poll_interval=15, idle_renew=1500)',
    returns="Watch",
)
"""``conn.watch(...)``: reads what arrives like a search, so under ``search_emails``' policy."""
