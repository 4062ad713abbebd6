"""The MCP server's pieces without a client: hints from the specs, answers as decisions, who can be asked."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from nb_email_conn.agents.mcp_server import _Asks, _can_elicit, _decision, tool_annotations
from nb_email_conn.functions import REGISTRY

types = pytest.importorskip("mcp_types")


def test_hints_come_from_the_registry() -> None:
    hints = {name: tool_annotations(spec) for name, spec in REGISTRY.items()}
    for name in ("list_folders", "search_emails", "get_email"):
        assert hints[name]["read_only_hint"] and not hints[name]["destructive_hint"]
    for name in ("delete_emails", "move_emails", "update_flags"):
        assert hints[name]["destructive_hint"] and not hints[name]["read_only_hint"]
    for name in ("send_email", "reply_email", "forward_email"):
        assert not hints[name]["idempotent_hint"] and hints[name]["open_world_hint"]
    assert not hints["copy_emails"]["destructive_hint"] and not hints["copy_emails"]["idempotent_hint"]
    types.ToolAnnotations(**hints["send_email"])  # the SDK's own model accepts them


def test_only_an_accepted_form_with_approve_true_approves() -> None:
    assert _decision({"action": "accept", "content": {"approve": True}}).approved
    for answer in (
        {"action": "accept", "content": {"approve": "true"}},
        {"action": "accept", "content": {}},
        {"action": "accept"},
        {"action": "decline"},
        {"action": "cancel"},
        {"action": "approve"},
        None,
    ):
        assert not _decision(answer).approved, answer
    rejected = _decision(types.ElicitResult(action="accept", content={"approve": False, "reason": " later "}))
    assert rejected.reason == "later" and rejected.decided_by == "mcp client"


def test_who_can_be_asked() -> None:
    def context(elicitation: object) -> SimpleNamespace:
        return SimpleNamespace(session=SimpleNamespace(client_capabilities=SimpleNamespace(elicitation=elicitation)))

    assert _can_elicit(context(types.ElicitationCapability()))  # 2025-06-18: {} means form
    assert _can_elicit(context(types.ElicitationCapability(form=types.FormElicitationCapability())))
    assert not _can_elicit(context(types.ElicitationCapability(url=types.UrlElicitationCapability())))
    assert not _can_elicit(context(None))
    assert not _can_elicit(SimpleNamespace(session=SimpleNamespace(client_capabilities=None)))


def test_a_question_is_answered_once_and_only_for_its_tool() -> None:
    asks = _Asks()
    nonce = asks.new("reply_email")
    assert not asks.take(nonce, "send_email")  # and that used it up
    nonce = asks.new("reply_email")
    assert asks.take(nonce, "reply_email") and not asks.take(nonce, "reply_email")
    assert not asks.take("made-up", "reply_email") and not asks.take(None, "reply_email")
