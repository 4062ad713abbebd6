from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from nb_email_conn.policy import ActionRequest, Decision
from nb_email_conn.widgets.approval import ApprovalWidget, InlineApprover, jsonable

from .conftest import attach_outbox, request


def send_request() -> ActionRequest:
    return ActionRequest(
        function="send_email",
        arguments={"to": ["bob@example.org"], "subject": "Q3 report", "body": "Hello Bob", "cc": None},
        preview={
            "summary": 'send_email: "Q3 report" to bob@example.org',
            "to": ["bob@example.org"],
            "subject": "Q3 report",
            "body_excerpt": "Hello Bob",
            "attachments": [{"filename": "q3.pdf", "content_type": "application/pdf", "size": 12345}],
        },
        connection="work",
    )


def delete_request() -> ActionRequest:
    messages = [
        {
            "ref": f"imap://a@h/INBOX;UIDVALIDITY=1/;UID={i}",
            "date": datetime(2024, 1, i, tzinfo=timezone.utc),
            "from": "x@y",
            "subject": f"<b>{i}</b>",
        }
        for i in range(1, 4)
    ]
    return ActionRequest("delete_emails", {"refs": [m["ref"] for m in messages]}, {"count": 3, "messages": messages})


def shown() -> tuple[InlineApprover, list[ApprovalWidget]]:
    displayed: list[ApprovalWidget] = []
    return InlineApprover(display=displayed.append), displayed


def test_the_approver_shows_a_widget_and_returns_a_pending_future() -> None:
    approver, displayed = shown()
    future = approver(send_request())
    assert len(displayed) == 1
    widget = displayed[0]
    assert not future.done()
    assert widget.state == "pending"
    preview: Any = widget.request["preview"]
    assert preview["attachments"][0]["filename"] == "q3.pdf"
    assert widget.request["editable"] == [
        {"name": "to", "kind": "addresses", "label": "to", "value": "bob@example.org"},
        {"name": "cc", "kind": "addresses", "label": "cc", "value": ""},
        {"name": "bcc", "kind": "addresses", "label": "bcc", "value": ""},
        {"name": "subject", "kind": "text", "label": "subject", "value": "Q3 report"},
        {"name": "body", "kind": "multiline", "label": "body", "value": "Hello Bob"},
        {"name": "html", "kind": "multiline", "label": "HTML body", "value": ""},
    ]


def test_approve_resolves_the_future_after_the_reply_and_refuses_a_second_decision() -> None:
    approver, displayed = shown()
    future = approver(send_request())
    widget = displayed[0]
    outbox = attach_outbox(widget)
    seen_replies: list[int] = []
    future.add_done_callback(lambda _f: seen_replies.append(len(outbox.messages)))
    request(widget, "decide", {"action": "approve"}, request_id="a")
    assert outbox.reply("a")["ok"] is True
    assert future.result(0).action == "approve"
    assert seen_replies == [1]  # the front end heard back before the action started
    assert widget.state == "approved"
    request(widget, "decide", {"action": "reject", "reason": "changed my mind"}, request_id="b")
    assert outbox.reply("b")["error"]["message"] == "This request was already decided."
    assert future.result(0).action == "approve"


def test_reject_carries_the_reason() -> None:
    approver, displayed = shown()
    future = approver(send_request())
    attach_outbox(displayed[0])
    request(displayed[0], "decide", {"action": "reject", "reason": "  wrong recipient "})
    assert future.result(0) == Decision.reject("wrong recipient", decided_by="notebook user (inline widget)")
    assert displayed[0].decision == {"action": "reject", "reason": "wrong recipient", "changes": {}}


def test_edit_sends_only_the_changed_fields() -> None:
    approver, displayed = shown()
    future = approver(send_request())
    attach_outbox(displayed[0])
    request(
        displayed[0],
        "decide",
        {
            "action": "edit",
            "changes": {
                "subject": "Q3 report (final)",
                "body": "Hello Bob",
                "to": "bob@example.org, carol@example.org",
            },
        },
    )
    decision = future.result(0)
    assert decision.action == "edit"
    assert dict(decision.changes) == {"subject": "Q3 report (final)", "to": "bob@example.org, carol@example.org"}


def test_an_injected_header_in_an_edit_is_refused_and_the_request_stays_open() -> None:
    approver, displayed = shown()
    future = approver(send_request())
    outbox = attach_outbox(displayed[0])
    request(displayed[0], "decide", {"action": "edit", "changes": {"subject": "x\r\nBcc: eve@evil.example"}})
    error = outbox.reply("r1")["error"]
    assert (error["type"], error["field"]) == ("InvalidInputError", "subject")
    request(displayed[0], "decide", {"action": "edit", "changes": {"attachments": "/etc/passwd"}}, request_id="r2")
    assert outbox.reply("r2")["error"]["field"] == "attachments"
    assert not future.done()
    assert displayed[0].state == "pending"


def test_bulk_actions_edit_only_their_registry_arguments_and_their_preview_is_json_safe() -> None:
    approver, displayed = shown()
    future = approver(delete_request())
    widget = displayed[0]
    outbox = attach_outbox(widget)
    assert widget.request["editable"] == [
        {"name": "permanent", "kind": "boolean", "label": "delete permanently", "value": False}
    ]
    preview: Any = widget.request["preview"]
    assert preview["messages"][0]["date"] == "2024-01-01T00:00:00+00:00"
    request(widget, "decide", {"action": "edit", "changes": {"subject": "x"}})
    assert outbox.reply("r1")["error"]["field"] == "subject"
    request(widget, "decide", {"action": "edit", "changes": {"permanent": "true"}}, request_id="r2")
    assert outbox.reply("r2")["error"]["field"] == "permanent"  # the string "true" is not a yes
    assert not future.done()
    request(widget, "decide", {"action": "edit", "changes": {"permanent": True}}, request_id="r3")
    assert outbox.reply("r3")["result"] == {"state": "edited"}
    assert dict(future.result(0).changes) == {"permanent": True}


def flags_request() -> ActionRequest:
    refs = ["imap://a@h/INBOX;UIDVALIDITY=1/;UID=7"]
    return ActionRequest(
        "update_flags",
        {"refs": refs, "add": ["\\Seen", "\\Flagged"], "remove": []},
        {"summary": "change flags of 1 message(s)", "count": 1, "add": ["\\Seen", "\\Flagged"], "remove": []},
    )


def test_flags_are_edited_as_space_separated_text_and_checked_flag_by_flag() -> None:
    approver, displayed = shown()
    future = approver(flags_request())
    widget = displayed[0]
    outbox = attach_outbox(widget)
    assert [(f["name"], f["kind"], f["value"]) for f in widget.request["editable"]] == [
        ("add", "flags", "\\Seen \\Flagged"),
        ("remove", "flags", ""),
    ]
    request(widget, "decide", {"action": "edit", "changes": {"add": "\\Seen\r\nA1 EXPUNGE"}})
    assert outbox.reply("r1")["error"]["field"] == "add"
    request(widget, "decide", {"action": "edit", "changes": {"remove": "(Seen)"}}, request_id="r2")
    assert outbox.reply("r2")["error"]["field"] == "remove"
    request(
        widget,
        "decide",
        {"action": "edit", "changes": {"add": "\\Seen", "remove": "$Todo, \\Flagged"}},
        request_id="r3",
    )
    assert outbox.reply("r3")["ok"] is True
    assert dict(future.result(0).changes) == {"add": ["\\Seen"], "remove": ["$Todo", "\\Flagged"]}


def test_a_function_without_editable_arguments_has_no_edit_form() -> None:
    approver, displayed = shown()
    future = approver(ActionRequest("list_folders", {}, {"summary": "list folders"}))
    widget = displayed[0]
    outbox = attach_outbox(widget)
    assert widget.request["editable"] == []
    request(widget, "decide", {"action": "edit", "changes": {"folder": "x"}})
    assert "cannot be edited" in outbox.reply("r1")["error"]["message"]
    assert not future.done()


def test_unchanged_fields_make_an_edit_a_plain_approval() -> None:
    approver, displayed = shown()
    future = approver(send_request())
    attach_outbox(displayed[0])
    request(displayed[0], "decide", {"action": "edit", "changes": {"subject": "Q3 report", "html": ""}})
    assert future.result(0).action == "approve"
    assert displayed[0].state == "approved"


def test_the_outcome_is_shown_and_no_decision_is_taken_after_it() -> None:
    approver, displayed = shown()
    req = send_request()
    future = approver(req)
    widget = displayed[0]
    outbox = attach_outbox(widget)
    request(widget, "decide", {"action": "approve"}, request_id="a")
    approver.report_outcome(req, "done", "sent, Message-ID <abc@example.org>")
    assert widget.state == "done"
    assert widget.outcome == {"status": "done", "detail": "sent, Message-ID <abc@example.org>"}
    request(widget, "decide", {"action": "approve"}, request_id="b")
    assert outbox.reply("b")["ok"] is False
    assert future.result(0).action == "approve"


def test_a_worker_thread_blocking_on_the_decision_gets_the_click() -> None:
    approver, displayed = shown()
    results: list[Decision] = []
    worker = threading.Thread(target=lambda: results.append(approver(send_request()).result(10)))
    worker.start()
    while not displayed:
        threading.Event().wait(0.01)
    attach_outbox(displayed[0])
    request(displayed[0], "decide", {"action": "approve"})
    worker.join(10)
    assert [d.action for d in results] == ["approve"]


def test_the_gate_giving_up_cancels_the_pending_decision() -> None:
    widget = ApprovalWidget(send_request())
    widget.show_outcome("failed", "the connection was closed")
    assert widget.future.cancelled()
    assert widget.state == "failed"


def test_jsonable_turns_values_into_widget_safe_json() -> None:
    data: Any = jsonable(
        {"b": b"\x00" * 10, "when": datetime(2024, 5, 1, tzinfo=timezone.utc), "n": {1, 2}, "x": object()}
    )
    assert data["b"] == "<10 bytes>"
    assert data["when"].startswith("2024-05-01")
    assert sorted(data["n"]) == [1, 2]
    assert isinstance(data["x"], str)
