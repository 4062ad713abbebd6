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
    assert widget.request["preview"]["attachments"][0]["filename"] == "q3.pdf"
    assert widget.request["editable"] == {
        "to": "bob@example.org",
        "cc": "",
        "bcc": "",
        "subject": "Q3 report",
        "body": "Hello Bob",
    }


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
    assert displayed[0].decision["reason"] == "wrong recipient"


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


def test_bulk_actions_cannot_be_edited_and_their_preview_is_json_safe() -> None:
    approver, displayed = shown()
    future = approver(delete_request())
    widget = displayed[0]
    outbox = attach_outbox(widget)
    assert widget.request["editable"] is None
    assert widget.request["preview"]["messages"][0]["date"] == "2024-01-01T00:00:00+00:00"
    request(widget, "decide", {"action": "edit", "changes": {"subject": "x"}})
    assert outbox.reply("r1")["ok"] is False
    assert not future.done()


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
