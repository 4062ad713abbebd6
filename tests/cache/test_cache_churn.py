"""Property: after any churn by another client, a cached search equals an uncached one, in every sync mode.

Another IMAP client appends, flags, unflags, expunges, moves and recreates the folder (a new
UIDVALIDITY) between rounds; after each round, cached and uncached searches (whole folder,
queries, limits, flags, attachments) must give equal frames, refs included. The index is
run with QRESYNC, with CONDSTORE only, and with neither (the capabilities its session sees).
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import imapclient
import pytest
from cache.cache_checks import assert_same
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers.dovecot import DovecotServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]
ALICE = "alice@example.org"
FOLDER = "Churn"
FLAGS = [b"\\Seen", b"\\Flagged", b"\\Answered", b"$Work"]
QUERIES: list[tuple[str | None, dict[str, Any]]] = [
    (None, {}),
    (None, {"limit": 3}),
    ("from:s1", {}),
    ("is:unread", {"limit": 2}),
    (None, {"flagged": True}),
    (None, {"has_attachment": True}),
    ("body", {"limit": 4, "has_attachment": False}),
]
MODES = {
    "qresync": None,
    "condstore": {"QRESYNC"},
    "neither": {"QRESYNC", "CONDSTORE"},
}

Op = tuple[Any, ...]  # one of OPS: (kind, *arguments)

_counter = iter(range(10**9))


def mail() -> bytes:
    n = next(_counter)
    msg = EmailMessage()
    msg["From"] = f"Sender {n % 3} <s{n % 3}@example.org>"
    msg["To"] = ALICE
    msg["Subject"] = f"churn {n}"
    msg["Date"] = f"Tue, {1 + n % 27:02d} Feb 2024 {n % 24:02d}:00:00 +0100"
    msg["Message-ID"] = f"<churn{n}@x>"
    if n % 3 == 1:
        msg["In-Reply-To"] = f"<churn{n - 1}@x>"
    msg.set_content(f"body {n}")
    if n % 4 == 0:
        msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="t.csv")
    return msg.as_bytes()


OPS = st.one_of(
    st.tuples(st.just("append"), st.integers(1, 4)),
    st.tuples(st.just("flag"), st.sampled_from(FLAGS), st.lists(st.integers(0, 30), max_size=6)),
    st.tuples(st.just("unflag"), st.sampled_from(FLAGS), st.lists(st.integers(0, 30), max_size=6)),
    st.tuples(st.just("expunge"), st.lists(st.integers(0, 30), max_size=3)),
    st.tuples(st.just("move"), st.lists(st.integers(0, 30), max_size=2)),
    st.tuples(st.just("recreate"), st.integers(0, 3)),
)


def apply(other: imapclient.IMAPClient, op: Op) -> None:
    kind = op[0]
    other.select_folder(FOLDER)
    uids = other.search(["ALL"])

    def pick(picks: list[int]) -> list[int]:
        return sorted({uids[i % len(uids)] for i in picks}) if uids else []

    if kind == "append":
        for _ in range(op[1]):
            other.append(FOLDER, mail())
    elif kind == "flag" and pick(op[2]):
        other.add_flags(pick(op[2]), [op[1]])
    elif kind == "unflag" and pick(op[2]):
        other.remove_flags(pick(op[2]), [op[1]])
    elif kind == "expunge" and pick(op[1]):
        other.delete_messages(pick(op[1]))
        other.expunge()
    elif kind == "move" and pick(op[1]):
        other.move(pick(op[1]), "Archive")
    elif kind == "recreate":
        other.close_folder()
        other.delete_folder(FOLDER)
        other.create_folder(FOLDER)
        for _ in range(op[1]):
            other.append(FOLDER, mail())


@pytest.fixture
def other(fresh_mailbox: DovecotServer) -> Iterator[imapclient.IMAPClient]:
    with fresh_mailbox.client() as client:
        yield client


def compare(cached: nec.EmailConnection, uncached: nec.EmailConnection) -> None:
    for query, kwargs in QUERIES:
        want = ready(uncached.search_emails(query, folder=FOLDER, **kwargs))
        got = ready(cached.search_emails(query, folder=FOLDER, **kwargs))
        assert_same(got, want, f"search {query!r} {kwargs}")


@pytest.mark.parametrize("mode", list(MODES))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(st.lists(OPS, min_size=1, max_size=4), min_size=2, max_size=5))
def test_cached_equals_uncached_after_random_churn(
    mode: str,
    rounds: list[list[Op]],
    fresh_mailbox: DovecotServer,
    other: imapclient.IMAPClient,
) -> None:
    other.select_folder("INBOX")
    if other.folder_exists(FOLDER):
        other.delete_folder(FOLDER)
    other.create_folder(FOLDER)
    for _ in range(5):
        other.append(FOLDER, mail())
    cfg = fresh_mailbox.config()
    with (
        nec.EmailConnection(cfg, password=fresh_mailbox.password, cache=True) as cached,
        nec.EmailConnection(cfg, password=fresh_mailbox.password) as uncached,
    ):
        cached.clear_cache()
        hidden = MODES[mode]
        if hidden:
            session = cached._context.cache.session  # type: ignore[union-attr]
            session.connect()
            session.capabilities = frozenset(session.capabilities - hidden)
        compare(cached, uncached)
        for ops in rounds:
            for op in ops:
                apply(other, op)
            compare(cached, uncached)
