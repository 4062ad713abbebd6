"""The nine functions against real Dovecot + aiosmtpd, checked with a second client."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

import nb_email_conn as nec
from nb_email_conn.aliases import Gated, ready

from .helpers import ALICE, BASE, flags_of, message, seed_inbox, snapshot

pytestmark = pytest.mark.dovecot


def test_list_folders_shows_special_use_and_counts(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    seed_inbox(fresh_mailbox, 3)
    folders = ready(conn.list_folders())
    assert folders.iloc[0]["name"] == "INBOX"
    by_name = folders.set_index("name")
    assert by_name.loc["Trash", "special_use"] == "\\Trash"
    assert by_name.loc["Sent", "special_use"] == "\\Sent"
    assert by_name.loc["INBOX", "messages"] == 3 and by_name.loc["INBOX", "unseen"] == 3


def test_search_returns_newest_first_with_the_contract_columns(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    seed_inbox(fresh_mailbox, 6)
    df = ready(conn.search_emails())
    required = {
        "ref",
        "folder",
        "uid",
        "date",
        "from_name",
        "from_addr",
        "to",
        "cc",
        "subject",
        "flags",
        "seen",
        "size",
        "has_attachments",
        "message_id",
        "in_reply_to",
    }
    assert required <= set(df.columns)
    assert list(df["subject"]) == [f"Message {i}" for i in range(5, -1, -1)]
    assert df["date"].dt.tz is not None
    assert df.loc[df.subject == "Message 2", "has_attachments"].item()
    assert df.loc[df.subject == "Message 1", "from_addr"].item() == "carol@example.net"
    assert df.loc[df.subject == "Message 0", "from_name"].item() == "Bob Builder"


def test_search_query_language_and_keywords(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    seed_inbox(fresh_mailbox, 6)

    def subjects(df: Gated[pd.DataFrame]) -> list[str]:
        return sorted(ready(df)["subject"])

    assert subjects(conn.search_emails("from:carol")) == ["Message 1", "Message 3", "Message 5"]
    assert subjects(conn.search_emails("-from:carol")) == ["Message 0", "Message 2", "Message 4"]
    assert subjects(conn.search_emails('from:carol OR subject:"Message 0"')) == [
        "Message 0",
        "Message 1",
        "Message 3",
        "Message 5",
    ]
    assert subjects(conn.search_emails("has:attachment")) == ["Message 2"]
    assert subjects(conn.search_emails("invoices")) == ["Message 3"]
    day3 = (BASE + timedelta(days=3)).strftime("%Y-%m-%d")
    assert subjects(conn.search_emails(f"after:{day3}")) == ["Message 3", "Message 4", "Message 5"]  # inclusive
    assert subjects(conn.search_emails(f"before:{day3}")) == ["Message 0", "Message 1", "Message 2"]
    assert subjects(conn.search_emails("from:bob", has_attachment=False)) == ["Message 0", "Message 4"]
    assert subjects(conn.search_emails(from_="carol", before=BASE + timedelta(days=2))) == ["Message 1"]
    assert subjects(conn.search_emails(limit=2)) == ["Message 4", "Message 5"]
    assert subjects(conn.search_emails("is:unread", limit=1)) == ["Message 5"]
    empty = ready(conn.search_emails("from:nobody-here"))
    assert empty.empty and "ref" in empty.columns


def test_search_finds_non_ascii_text(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    fresh_mailbox.append(ALICE, "INBOX", message("Grüße aus Köln", sender="Jörg Müller <joerg@example.de>"))
    fresh_mailbox.append(ALICE, "INBOX", message("plain ascii"))
    df = ready(conn.search_emails("subject:Grüße"))
    assert list(df["subject"]) == ["Grüße aus Köln"]
    assert list(df["from_name"]) == ["Jörg Müller"]


def test_search_and_read_never_mark_messages_seen(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    uids = seed_inbox(fresh_mailbox, 2)
    df = ready(conn.search_emails())
    email = ready(conn.get_email(df.iloc[0]))
    assert email.subject == "Message 1"
    assert "\\Seen" not in flags_of(fresh_mailbox, "INBOX", uids[1])
    conn.get_email(df.iloc[0], mark_seen=True)
    assert "\\Seen" in flags_of(fresh_mailbox, "INBOX", uids[1])
    assert "\\Seen" not in flags_of(fresh_mailbox, "INBOX", uids[0])


def test_get_email_gives_text_attachments_and_headers(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    seed_inbox(fresh_mailbox, 3)
    ref = ready(conn.search_emails("has:attachment")).iloc[0]["ref"]
    email = ready(conn.get_email(ref))
    assert email.ref == ref
    assert email.text.strip() == "body number 2"
    assert [(a.filename, a.data) for a in email.attachments] == [("report.pdf", b"%PDF-1.4 test")]
    assert email.from_addr == "bob@example.org"
    assert email.headers["Subject"] == "Message 2"


def test_send_email_reaches_the_server_bcc_only_in_the_envelope_and_is_filed_in_sent(
    conn: nec.EmailConnection,
    fresh_mailbox: DovecotServer,
    smtp_starttls: SmtpServer,
    approvals: list[nec.ActionRequest],
) -> None:
    frame = pd.DataFrame({"region": ["north", "süd"], "revenue": [10, 20]})
    sent = ready(
        conn.send_email(
            "Bob <bob@example.org>",
            "Q3 numbers – ünïcode",
            "See attached.\nRegards",
            cc="carol@example.net",
            bcc="audit@example.org",
            attachments=[("q3.csv", frame)],
        )
    )
    assert sorted(sent.recipients) == ["audit@example.org", "bob@example.org", "carol@example.net"]
    preview = approvals[0].preview
    assert preview["subject"] == "Q3 numbers – ünïcode"
    assert [a["filename"] for a in preview["attachments"]] == ["q3.csv"]
    received = smtp_starttls.wait_for_messages(1)[0]
    assert received.tls and received.login == ALICE
    assert sorted(received.rcpt_tos) == ["audit@example.org", "bob@example.org", "carol@example.net"]
    assert "Bcc" not in received.message and b"audit@example.org" not in received.data
    assert str(received.message["Subject"]) == "Q3 numbers – ünïcode"
    attachment = next(received.message.iter_attachments())
    assert attachment.get_filename() == "q3.csv"
    assert "süd" in attachment.get_content()
    assert sent.sent_ref is not None and "/Sent;" in sent.sent_ref
    filed = ready(conn.get_email(sent.sent_ref))
    assert filed.message_id == sent.message_id
    assert "\\Seen" in filed.flags


def test_reply_sets_in_reply_to_and_references(conn: nec.EmailConnection, smtp_starttls: SmtpServer) -> None:
    conn.send_email("bob@example.org", "Re: hello", "answer", in_reply_to="<orig@example.org>")
    received = smtp_starttls.wait_for_messages(1)[0].message
    assert received["In-Reply-To"] == "<orig@example.org>"
    assert "<orig@example.org>" in received["References"]


def test_create_draft_files_it_in_drafts_with_the_draft_flag(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    ref = ready(conn.create_draft("bob@example.org", "Draft subject", "unfinished"))
    assert ref is not None and "/Drafts;" in ref
    draft = ready(conn.get_email(ref))
    assert draft.subject == "Draft subject"
    assert "\\Draft" in draft.flags
    assert smtp_starttls.messages == []  # a draft is never sent


def test_a_confirmed_draft_is_previewed_as_a_draft_not_a_send(
    conn: nec.EmailConnection, approvals: list[nec.ActionRequest]
) -> None:
    # The reviewer used to read "Send 'Plan' to 1 recipient" for a draft that is never sent.
    conn.policies["create_draft"] = "confirm"
    conn.create_draft("bob@example.org", "Plan", "unfinished")
    summary = approvals[-1].preview["summary"]
    assert summary.startswith("Save draft") and not summary.startswith("Send")


def test_delete_moves_to_trash_and_permanent_expunges_exactly_those(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    uids = seed_inbox(fresh_mailbox, 4)
    df = ready(conn.search_emails())
    assert conn.delete_emails(df[df.subject == "Message 0"]) == 1
    state = snapshot(fresh_mailbox)
    assert [u for u, _ in state["INBOX"]] == uids[1:]
    assert len(state["Trash"]) == 1
    # Another message already marked \Deleted (by another client) must survive a permanent delete.
    with fresh_mailbox.client() as other:
        other.select_folder("INBOX")
        other.add_flags([uids[1]], [b"\\Deleted"])
    assert conn.delete_emails(df[df.subject == "Message 2"], permanent=True) == 1
    remaining = [u for u, _ in snapshot(fresh_mailbox)["INBOX"]]
    assert remaining == [uids[1], uids[3]]
    with pytest.raises(nec.InvalidInputError, match="permanent=True"):
        conn.delete_emails(ready(conn.search_emails(folder="Trash")))


def test_an_approver_edit_that_is_not_a_bool_never_deletes_for_good(
    fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    # Decision.edit(permanent="false") used to expunge: the string is truthy.
    seed_inbox(fresh_mailbox, 2)
    cfg = fresh_mailbox.config(ALICE, smtp=smtp_starttls)
    edit = nec.Decision.edit(permanent="false")
    conn = nec.EmailConnection(cfg, password=fresh_mailbox.password, approver=lambda r: edit)
    before = snapshot(fresh_mailbox)
    with pytest.raises(nec.InvalidInputError, match="permanent"):
        conn.delete_emails(ready(conn.search_emails()).iloc[0])
    assert snapshot(fresh_mailbox) == before
    conn.close()


def test_a_permanent_delete_as_the_first_call_of_a_connection(
    fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    # Refs outlive a session; UIDPLUS used to be checked before logging in, so this failed
    # with "this server lacks UIDPLUS" on a server that has it.
    uids = seed_inbox(fresh_mailbox, 2)
    cfg = fresh_mailbox.config(ALICE, smtp=smtp_starttls)
    with nec.EmailConnection(cfg, password=fresh_mailbox.password) as reader:
        ref = ready(reader.search_emails())["ref"].iloc[0]
    conn = nec.EmailConnection(cfg, password=fresh_mailbox.password, policies={"delete_emails": "enabled"})
    assert conn.delete_emails(ref, permanent=True) == 1
    assert [u for u, _ in snapshot(fresh_mailbox)["INBOX"]] == uids[:1]
    conn.close()


def test_update_flags_adds_and_removes(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    uids = seed_inbox(fresh_mailbox, 3)
    df = ready(conn.search_emails())
    assert conn.update_flags(df.iloc[:2], add=["\\Flagged", "$Important"]) == 2
    assert flags_of(fresh_mailbox, "INBOX", uids[2]) == {"\\Flagged", "$Important"}
    conn.update_flags(df.iloc[0], remove="\\Flagged", add="\\Seen")
    assert flags_of(fresh_mailbox, "INBOX", uids[2]) == {"$Important", "\\Seen"}
    assert flags_of(fresh_mailbox, "INBOX", uids[0]) == set()
    flagged = ready(conn.search_emails("is:flagged"))
    assert list(flagged["subject"]) == ["Message 1"]


def test_move_and_copy_return_new_refs_that_work(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    seed_inbox(fresh_mailbox, 3)
    df = ready(conn.search_emails())
    copies = ready(conn.copy_emails(df.iloc[:2], "Archive"))
    assert all(r and "/Archive;" in r for r in copies)
    assert [ready(conn.get_email(r)).subject for r in copies if r] == ["Message 2", "Message 1"]
    moved = ready(conn.move_emails(df.iloc[2], "Junk"))
    assert moved[0] and ready(conn.get_email(moved[0])).subject == "Message 0"
    state = snapshot(fresh_mailbox)
    assert (len(state["INBOX"]), len(state["Archive"]), len(state["Junk"])) == (2, 2, 1)
    with pytest.raises(nec.StaleReferenceError):
        conn.get_email(df.iloc[2])  # moved away: the old ref names nothing now


def test_bulk_previews_show_count_and_messages(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, approvals: list[nec.ActionRequest]
) -> None:
    seed_inbox(fresh_mailbox, 3)
    conn.move_emails(ready(conn.search_emails()), "Archive")
    preview = approvals[-1].preview
    assert preview["count"] == 3 and preview["folder"] == "Archive"
    assert sorted(m["subject"] for m in preview["messages"]) == ["Message 0", "Message 1", "Message 2"]


def test_awaitable_forms(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    import asyncio

    seed_inbox(fresh_mailbox, 2)

    async def flow() -> tuple[pd.DataFrame, nec.Email, int]:
        df = await conn.search_emails_async(limit=1)
        email = await conn.get_email_async(df.iloc[0])
        count = await conn.update_flags_async(df, add="\\Flagged")
        return df, email, count

    _df, email, count = asyncio.run(flow())
    assert email.subject == "Message 1" and count == 1


def test_list_folders_survives_a_folder_deleted_between_list_and_status(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nb_email_conn.imap.session import FolderInfo, ImapSession

    with fresh_mailbox.client() as other:
        other.create_folder("Doomed")
    original = ImapSession.folder_counts

    def counts_after_delete(self: ImapSession, client: object, info: FolderInfo) -> tuple[int | None, int | None]:
        if info.name == "Doomed":
            with fresh_mailbox.client() as other:
                other.delete_folder("Doomed")  # another client deletes it right after LIST
        return original(self, client, info)

    monkeypatch.setattr(ImapSession, "folder_counts", counts_after_delete)
    folders = ready(conn.list_folders()).set_index("name")
    assert folders.loc["Doomed", "messages"] is pd.NA
    assert folders.loc["INBOX", "messages"] == 0
