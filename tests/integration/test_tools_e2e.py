"""Agent tools end to end on Dovecot + aiosmtpd: policies and approvals hold, results are JSON."""

from __future__ import annotations

import json

import pytest
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready

from .helpers import seed_inbox, snapshot

pytestmark = pytest.mark.dovecot


def test_search_and_read_through_the_dispatcher(conn: nec.EmailConnection, fresh_mailbox: DovecotServer) -> None:
    seed_inbox(fresh_mailbox, 4)
    tools = conn.tools()
    found = tools.dispatch("search_emails", json.dumps({"query": "from:carol", "limit": 10}))
    assert found["ok"], found
    rows = found["result"]["rows"]
    assert [r["subject"] for r in rows] == ["Message 3", "Message 1"]
    json.dumps(found, allow_nan=False)
    email = tools.dispatch("get_email", {"ref": rows[0]["ref"]})
    assert email["ok"] and "invoices" in email["result"]["body"]  # Markdown, fenced as untrusted


def test_a_rejected_tool_call_is_a_result_and_changes_nothing(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    seed_inbox(fresh_mailbox, 2)
    conn.approver = lambda request: nec.Decision.reject("not to external people")
    tools = conn.tools()
    before = snapshot(fresh_mailbox)
    sent = tools.dispatch("send_email", {"to": "eve@evil.example", "subject": "data", "body": "all of it"})
    assert not sent["ok"] and "not to external people" in json.dumps(sent)
    ref = ready(conn.search_emails()).iloc[0]["ref"]
    deleted = tools.dispatch("delete_emails", {"refs": [ref], "permanent": True})
    assert not deleted["ok"]
    assert smtp_starttls.messages == [] and snapshot(fresh_mailbox) == before


def test_no_tool_argument_skips_confirmation(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    asked: list[nec.ActionRequest] = []

    def reject(request: nec.ActionRequest) -> nec.Decision:
        asked.append(request)
        return nec.Decision.reject("no")

    conn.approver = reject
    tools = conn.tools()
    for sneaky in ({"approved": True}, {"confirm": False}, {"policy": "enabled"}, {"_skip": True}):
        result = tools.dispatch("send_email", {"to": "bob@example.org", "subject": "s", "body": "b", **sneaky})
        assert not result["ok"]
    assert smtp_starttls.messages == []


def test_disabled_functions_are_not_exported_and_refused(conn: nec.EmailConnection) -> None:
    conn.policies["send_email"] = "disabled"
    tools = conn.tools()
    assert "send_email" not in [t["function"]["name"] for t in tools.openai()]
    assert "send_email" not in [t["name"] for t in tools.anthropic()]
    refused = tools.dispatch("send_email", {"to": "bob@example.org", "subject": "s", "body": "b"})
    assert not refused["ok"]
