"""What a hostile or unlucky server does to reads and bulk actions (issue 8), on real Dovecot.

Where Dovecot produces the situation itself (unsolicited ``* n FETCH`` when another client
changes flags, a message expunged between the check and the action), a second client makes
it happen at the right moment:
the man-in-the-middle proxy (``tests/servers/mitm.py``) runs the second client's change just
before our command reaches Dovecot. Where Dovecot never does it (a 10 GB literal, a broken
FETCH row, folder names that are not modified UTF-7), the proxy rewrites Dovecot's answer.
Search completeness (malformed rows, messages expunged during a search) is in
``test_search_completeness.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import imapclient
import pytest
from servers.dovecot import DovecotServer
from servers.mitm import Cut, ImapMitm, Session

import nb_email_conn as nec
from nb_email_conn.aliases import ready
from nb_email_conn.imap import limits
from nb_email_conn.refs import MessageRef

from .helpers import ALICE, BASE, message, seed_inbox
from .hostile_helpers import enabled, once, proxied

pytestmark = pytest.mark.dovecot


@pytest.fixture
def second(fresh_mailbox: DovecotServer) -> Iterator[imapclient.IMAPClient]:
    """Another client of the same account (a phone, a colleague's mail client)."""
    client = fresh_mailbox.client()
    yield client
    client.logout()


def sequence_folder(dovecot: DovecotServer, second: imapclient.IMAPClient, name: str = "Seq") -> list[int]:
    """A new folder (UIDs from 1) with messages 1..6, of which 1 and 2 are expunged: UID n is at seq n-2."""
    second.create_folder(name)
    for i in range(6):
        dovecot.append(ALICE, name, message(f"Message {i}", when=BASE + timedelta(days=i)))
    second.select_folder(name)
    second.delete_messages([1, 2])
    second.expunge()
    return [3, 4, 5, 6]


# -- 1. flags of another message ----------------------------------------------------------------
def test_get_email_never_shows_the_flags_of_another_message(
    fresh_mailbox: DovecotServer, second: imapclient.IMAPClient
) -> None:
    sequence_folder(fresh_mailbox, second)
    # While we fetch UID 3 (seq 1), the other client flags UID 5 (seq 3): Dovecot then sends us
    # "* 3 FETCH (FLAGS (\Flagged))" - sequence number 3, the same number as the UID we asked for.
    flag_uid_5 = once(
        lambda: second.add_flags([5], [b"\\Flagged"]),
        lambda c: b"UID FETCH" in c.upper() and b"BODY.PEEK[]" in c.upper(),
    )
    seen_unsolicited: list[bytes] = []

    def watch(response: bytes, session: Session) -> bytes:
        if re.match(rb"\* 3 FETCH \(FLAGS", response):
            seen_unsolicited.append(response)
        return response

    with ImapMitm(fresh_mailbox.plain_port, on_command=flag_uid_5, on_response=watch) as proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            ref = ready(conn.search_emails(folder="Seq")).set_index("uid").loc[3, "ref"]
            email = ready(conn.get_email(ref))
        finally:
            conn.close()
    assert seen_unsolicited, "Dovecot did not send the unsolicited FETCH this test is about"
    assert "\\Flagged" not in email.flags
    assert email.subject == "Message 2"


def test_search_rows_keep_their_own_flags_under_unsolicited_fetches(
    fresh_mailbox: DovecotServer, second: imapclient.IMAPClient
) -> None:
    sequence_folder(fresh_mailbox, second)
    flag_uid_5 = once(
        lambda: second.add_flags([5], [b"\\Flagged"]), lambda c: b"UID FETCH" in c.upper() and b"BODYSTRUCTURE" in c
    )
    with ImapMitm(fresh_mailbox.plain_port, on_command=flag_uid_5) as proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            frame = ready(conn.search_emails(folder="Seq")).set_index("uid")
        finally:
            conn.close()
    assert not frame.loc[3, "flagged"]  # seq 3 is UID 5, never UID 3
    assert frame.loc[5, "flagged"]  # the other client's change, keyed by the UID in the response


# -- 2. bounded literals ----------------------------------------------------------------------
def test_a_10_gb_literal_is_refused_at_its_announcement(fresh_mailbox: DovecotServer) -> None:
    seed_inbox(fresh_mailbox, 2)

    def huge(response: bytes, session: Session) -> bytes:
        if b"BODY[] {" in response:
            return re.sub(rb"BODY\[\] \{\d+\}", b"BODY[] {9999999999}", response, count=1)
        return response

    with ImapMitm(fresh_mailbox.plain_port, on_response=huge) as proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            ref = ready(conn.search_emails())["ref"].iloc[0]
            with pytest.raises(nec.ServerError, match=r"9999999999.*limit|limit.*9999999999"):
                conn.get_email(ref)
        finally:
            conn.close()


def test_a_message_over_the_size_limit_fails_naming_it_and_the_connection_recovers(
    fresh_mailbox: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = fresh_mailbox.append(ALICE, "INBOX", message("big", body="x" * 60_000))
    small = fresh_mailbox.append(ALICE, "INBOX", message("small"))
    monkeypatch.setattr(limits, "MAX_MESSAGE_SIZE", 20_000)
    conn = enabled(fresh_mailbox.config(ALICE), fresh_mailbox.password)
    try:
        refs = ready(conn.search_emails()).set_index("uid")["ref"]
        with pytest.raises(nec.ServerError, match="20000") as caught:
            conn.get_email(refs[big])
        assert "MAX_MESSAGE_SIZE" in str(caught.value)
        assert ready(conn.get_email(refs[small])).subject == "small"
    finally:
        conn.close()


# -- 3. odd folder names --------------------------------------------------------------------------
# Dovecot refuses to create names that are not valid modified UTF-7, so the proxy shows real
# folders under such names (in LIST) and maps the names back in our commands.
ODD = {b"Projects": b'"R&D"', b"Reports": b"&ZZZ-", b"Cafe": b"{4}\r\nCaf\xe9"}


def _odd_names_proxy(dovecot: DovecotServer) -> ImapMitm:
    def show(response: bytes, session: Session) -> bytes:
        if response.startswith((b"* LIST ", b"* STATUS ")):
            for real, odd in ODD.items():
                pattern = rb'(\* (?:LIST \([^)]*\) "/"|STATUS)) "?' + real + rb'"?( |\r\n)'
                response = re.sub(pattern, rb"\1 " + odd + rb"\2", response)
        return response

    def back(command: bytes, session: Session) -> bytes:
        for real, odd in ODD.items():
            raw = odd.split(b"\r\n")[-1].strip(b'"')
            for form in (b'"' + raw + b'"', b"{%d+}\r\n" % len(raw) + raw, b" " + raw + b" "):
                command = command.replace(form, form[:1] + real + form[-1:] if form.startswith(b" ") else real)
        return command

    return ImapMitm(dovecot.plain_port, on_response=show, on_command=back)


def test_folder_names_that_are_not_modified_utf7_do_not_lock_the_account(
    fresh_mailbox: DovecotServer, second: imapclient.IMAPClient
) -> None:
    seed_inbox(fresh_mailbox, 2)
    for real in ODD:
        second.create_folder(real.decode())
    fresh_mailbox.append(ALICE, "Projects", message("in projects"))
    fresh_mailbox.append(ALICE, "Cafe", message("in the cafe"))
    with _odd_names_proxy(fresh_mailbox) as proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            names = list(ready(conn.list_folders())["name"])
            assert {"R&D", "&ZZZ-", "Café", "INBOX"} <= set(names)
            assert len(ready(conn.search_emails())) == 2  # resolving INBOX lists every folder first
            found = ready(conn.search_emails(folder="R&D"))
            assert list(found["subject"]) == ["in projects"]
            assert ready(conn.get_email(found["ref"].iloc[0])).subject == "in projects"
            assert list(ready(conn.search_emails(folder="Café"))["subject"]) == ["in the cafe"]
            assert ready(conn.search_emails(folder="&ZZZ-")).empty
            copied = ready(conn.copy_emails(found["ref"].iloc[0], "Café"))
            assert copied[0] is not None and "Caf%C3%A9" in copied[0]
        finally:
            conn.close()
    second.select_folder("Cafe", readonly=True)
    assert len(second.search("ALL")) == 2


# -- 4. bulk actions report what the server confirmed --------------------------------------------
def _expunged_before(dovecot: DovecotServer, second: imapclient.IMAPClient, verb: bytes) -> tuple[ImapMitm, list[int]]:
    uids = seed_inbox(dovecot, 3)
    second.select_folder("INBOX")

    def expunge_middle() -> None:
        second.delete_messages([uids[1]])
        second.uid_expunge([uids[1]])

    return ImapMitm(dovecot.plain_port, on_command=once(expunge_middle, lambda c: verb in c.upper())), uids


def test_update_flags_counts_what_the_server_changed(
    fresh_mailbox: DovecotServer, second: imapclient.IMAPClient
) -> None:
    proxy, _uids = _expunged_before(fresh_mailbox, second, b"UID STORE")
    with proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            refs = ready(conn.search_emails())
            assert conn.update_flags(refs, add="\\Flagged") == 2
        finally:
            conn.close()


def test_a_permanent_delete_counts_what_the_server_removed(
    fresh_mailbox: DovecotServer, second: imapclient.IMAPClient
) -> None:
    proxy, _uids = _expunged_before(fresh_mailbox, second, b"UID STORE")
    with proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            refs = ready(conn.search_emails())
            assert conn.delete_emails(refs, permanent=True) == 2
        finally:
            conn.close()


@pytest.mark.parametrize("move", [True, False])
def test_move_and_copy_confirm_only_what_the_server_copied(
    fresh_mailbox: DovecotServer, second: imapclient.IMAPClient, move: bool
) -> None:
    proxy, _uids = _expunged_before(fresh_mailbox, second, b"UID MOVE" if move else b"UID COPY")
    with proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            refs = ready(conn.search_emails()).sort_values("uid")["ref"].tolist()
            mailbox = conn._context.mailbox
            done = mailbox.transfer_counted([MessageRef.parse(r) for r in refs], "Archive", move=move)
        finally:
            conn.close()
    assert done.confirmed == 2
    assert [ref is not None for ref in done.new_refs] == [True, False, True]


def test_the_proxy_can_cut(fresh_mailbox: DovecotServer) -> None:
    """The proxy itself: a rule that cuts gives the client an EOF (a dropped connection)."""

    def cut(response: bytes, session: Session) -> bytes:
        if session.current == "LIST":
            raise Cut
        return response

    with ImapMitm(fresh_mailbox.plain_port, on_response=cut) as proxy:
        conn = proxied(fresh_mailbox, proxy)
        try:
            with pytest.raises(nec.ConnectionFailedError):
                conn.list_folders()
        finally:
            conn.close()
