"""The private-internals adapter (imap/internals.py) against the installed imapclient and imaplib.

An imapclient or Python upgrade that renames what the adapter reaches for fails here, in
CI, instead of at a user's: the version must be in the pinned range, and every private
attribute must exist on a real logged-in connection and behave as the adapter expects.
"""

from __future__ import annotations

import imaplib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest
from servers.dovecot import DovecotServer

from nb_email_conn.imap import internals, limits
from nb_email_conn.imap.session import ImapSession

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_installed_imapclient_is_in_the_range_the_adapter_was_written_for() -> None:
    assert internals.supported_version(imapclient.__version__), (
        f"imapclient {imapclient.__version__} is outside {internals.IMAPCLIENT_RANGE}: check every use in "
        "nb_email_conn/imap/internals.py against the new version, then widen the range and the pin together."
    )


def test_the_pin_in_pyproject_is_the_adapter_range() -> None:
    pins = re.findall(r'^\s*"(imapclient\b[^"]*)"', PYPROJECT.read_text(), re.MULTILINE | re.IGNORECASE)
    assert pins == ["imapclient" + internals.IMAPCLIENT_RANGE]


@pytest.mark.parametrize(
    ("version", "supported"),
    [("3.0", True), ("3.0.1", True), ("4.1.0", True), ("4.1.9", True), ("4.2.0", False), ("4.2.0rc1", False),
     ("5.0", False), ("2.3.1", False), ("4.1.0.dev3", True)],
)  # fmt: skip
def test_version_range(version: str, supported: bool) -> None:
    assert internals.supported_version(version) is supported


def test_imaplib_still_has_what_the_adapter_uses() -> None:
    assert callable(getattr(imaplib.IMAP4, "_new_tag", None))
    assert callable(imaplib.IMAP4.send) and callable(imaplib.IMAP4.shutdown)
    assert issubclass(imaplib.IMAP4.abort, imaplib.IMAP4.error)
    assert imapclient.exceptions.IMAPClientError is imaplib.IMAP4.error  # error_map relies on it
    assert imapclient.exceptions.IMAPClientAbortError is imaplib.IMAP4.abort


def test_imapclient_still_builds_its_imaplib_connection_where_the_bounded_client_hooks_in() -> None:
    assert callable(getattr(imapclient.IMAPClient, "_create_IMAP4", None))
    assert issubclass(imapclient.tls.IMAP4_TLS, imaplib.IMAP4)
    assert issubclass(imapclient.imap4.IMAP4WithTimeout, imaplib.IMAP4)
    # imaplib documents read() and readline() as the methods to override; its reader calls them.
    assert callable(imaplib.IMAP4.read) and callable(imaplib.IMAP4.readline)
    assert "self.read(size)" in inspect.getsource(vars(imaplib.IMAP4)["_get_response"])
    assert "self.readline()" in inspect.getsource(vars(imaplib.IMAP4)["_get_line"])


@pytest.fixture
def starttls_client(dovecot: DovecotServer) -> Iterator[imapclient.IMAPClient]:
    """A client our session opened with STARTTLS: state, untagged and capability resets all ran."""
    session = ImapSession(dovecot.config(encryption="StartTls"), lambda: dovecot.users["alice@example.org"])
    client = session.connect()
    yield client
    session.close()


@pytest.mark.dovecot
def test_a_live_client_has_every_private_attribute(starttls_client: imapclient.IMAPClient) -> None:
    assert internals.missing_internals(starttls_client) == []


@pytest.mark.dovecot
def test_each_adapter_function_on_a_live_client(starttls_client: imapclient.IMAPClient) -> None:
    client = starttls_client
    imap = internals.raw_imap(client)
    assert isinstance(imap, imaplib.IMAP4)
    assert isinstance(imap, internals._BoundedReads)  # the bounded reader, through STARTTLS too
    assert imap.max_literal == limits.max_message_size()
    assert internals.connection_state(client) == "AUTH"  # logged in
    assert imap.debug == 0  # quiet_protocol_debug ran (the imapclient.imaplib logger is off)
    assert not internals.is_closed(client)

    tag = internals.new_tag(imap)
    assert isinstance(tag, bytes) and tag in imap.tagged_commands
    internals.release_tag(imap, tag)
    assert tag not in imap.tagged_commands

    reader = internals.reader(imap)
    assert all(callable(getattr(reader, name)) for name in internals.READER_METHODS)

    internals.mark_selected(client, False)
    assert imap.state == "AUTH"
    client.select_folder("INBOX", readonly=True)
    assert internals.pop_untagged(client, "EXISTS")  # imaplib filed the SELECT's "* n EXISTS"
    assert internals.pop_untagged(client, "EXISTS") == []  # taken, so gone
    internals.discard_untagged(client)
    assert imap.untagged_responses == {}

    internals.forget_capabilities(client)
    assert b"IMAP4REV1" in client.capabilities()  # asked again, still answered
    assert client.noop()  # imapclient is in step after all of the above

    client.shutdown()
    assert internals.is_closed(client)
