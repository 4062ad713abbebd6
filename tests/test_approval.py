"""The policy gate: disabled, enabled and confirm, approvers of every kind, the audit log.

These drive the Gate directly with a recording runner; the same gate on real servers is
covered in tests/integration.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import threading
from typing import Any

import pytest

import nb_email_conn as nec
from nb_email_conn import approvers
from nb_email_conn.approval import Gate
from nb_email_conn.functions import REGISTRY
from nb_email_conn.functions.policies import Policies
from nb_email_conn.functions.spec import FunctionSpec
from nb_email_conn.pending import PendingAction


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, context: Any, arguments: dict[str, Any]) -> str:
        self.calls.append(arguments)
        return "ran"


def make_gate(approver: Any = None, **policies: str) -> tuple[Gate, Recorder, Policies]:
    table = Policies(policies)
    return Gate(lambda name: table[name], lambda: approver, "test"), Recorder(), table


def preview(context: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    if arguments.get("subject") == "bad":
        raise nec.InvalidInputError("bad subject", field="subject")
    return {"summary": f"send {arguments.get('subject')!r}", "to": arguments.get("to")}


def spec(run: Recorder, function: str = "send_email") -> FunctionSpec[Any]:
    """The registry's spec of ``function`` with a recording runner and a preview that can refuse."""
    return dataclasses.replace(REGISTRY[function], preview=preview, run=run, summarize=str)


def call(gate: Gate, run: Recorder, function: str = "send_email", **arguments: Any) -> Any:
    return gate.call(spec(run, function), None, dict(arguments))  # type: ignore[arg-type]  # no mailbox needed


def test_defaults_follow_the_contract() -> None:
    table = Policies()
    assert {k for k, v in table.items() if v is nec.Policy.ENABLED} == {
        "list_folders",
        "search_emails",
        "get_email",
        "create_draft",
    }
    assert table["send_email"] is nec.Policy.CONFIRM
    table["send_email"] = "Enabled with confirmation"
    table["delete_emails"] = "disabled"
    assert table["delete_emails"] is nec.Policy.DISABLED
    with pytest.raises(nec.InvalidInputError):
        table["send_mail"] = "enabled"
    with pytest.raises(nec.InvalidInputError):
        table["send_email"] = "sometimes"


def test_disabled_raises_before_running_and_is_a_permission_error() -> None:
    gate, run, _ = make_gate(send_email="disabled")
    with pytest.raises(PermissionError, match="send_email is disabled"):
        call(gate, run, subject="hi")
    assert run.calls == []
    assert gate.audit.frame().iloc[-1]["outcome"] == "refused"


def test_enabled_runs_without_asking() -> None:
    asked: list[Any] = []
    gate, run, _ = make_gate(lambda r: asked.append(r), send_email="enabled")
    assert call(gate, run, subject="hi") == "ran"
    assert asked == []


def test_confirm_runs_only_after_approval_and_shows_a_preview() -> None:
    seen: list[nec.ActionRequest] = []

    def approver(request: nec.ActionRequest) -> nec.Decision:
        seen.append(request)
        return nec.Decision.approve(decided_by="tester")

    gate, run, _ = make_gate(approver)
    assert call(gate, run, subject="hi", to="bob@example.org") == "ran"
    assert seen[0].preview["to"] == "bob@example.org"
    row = gate.audit.frame().iloc[-1]
    assert (row["decision"], row["decided_by"], row["outcome"]) == ("approve", "tester", "done")


def test_rejection_carries_the_reason_and_nothing_runs() -> None:
    gate, run, _ = make_gate(lambda r: nec.Decision.reject("wrong recipient", decided_by="ann"))
    with pytest.raises(nec.ActionRejectedError) as info:
        call(gate, run, subject="hi")
    assert info.value.reason == "wrong recipient"
    assert info.value.decided_by == "ann"
    assert run.calls == []


def test_invalid_arguments_fail_before_a_human_is_asked() -> None:
    asked: list[Any] = []

    def approve(request: nec.ActionRequest) -> bool:
        asked.append(request)
        return True

    gate, run, _ = make_gate(approve)
    with pytest.raises(nec.InvalidInputError):
        call(gate, run, subject="bad")
    assert asked == [] and run.calls == []


def test_edit_changes_only_editable_arguments() -> None:
    gate, run, _ = make_gate(lambda r: nec.Decision.edit(subject="Fixed"))
    call(gate, run, subject="Tpyo", to="bob@example.org")
    assert run.calls == [{"subject": "Fixed", "to": "bob@example.org"}]
    gate, run, _ = make_gate(lambda r: nec.Decision.edit(refs=["other"]))
    with pytest.raises(nec.InvalidInputError, match="cannot be edited"):
        call(gate, run, "delete_emails", refs=["x"])
    assert run.calls == []


def test_no_approver_is_a_clear_refusal() -> None:
    gate, run, _ = make_gate(None)
    with pytest.raises(nec.ActionRejectedError, match=r"conn\.approver"):
        call(gate, run, subject="hi")
    assert run.calls == []


def test_an_approver_returning_nonsense_is_refused() -> None:
    gate, run, _ = make_gate(lambda r: "yes")
    with pytest.raises(nec.InvalidInputError, match="must return a Decision"):
        call(gate, run, subject="hi")
    assert run.calls == []


def test_an_approver_that_fails_leaves_no_pending_audit_row() -> None:
    # A console approver with no input raises EOFError; the row used to stay "pending" forever.
    def no_input(request: nec.ActionRequest) -> nec.Decision:
        raise EOFError("no input")

    for approver, error in ((lambda r: "yes", nec.InvalidInputError), (no_input, EOFError)):
        gate, run, _ = make_gate(approver)
        with pytest.raises(error):
            call(gate, run, subject="hi")
        row = gate.audit.frame().iloc[-1]
        assert row["outcome"] == "failed" and error.__name__ in row["error"]
        assert run.calls == []


async def test_a_failed_awaited_or_pending_decision_leaves_no_pending_audit_row() -> None:
    gate, run, _ = make_gate(lambda r: "yes")
    with pytest.raises(nec.InvalidInputError):
        await gate.call_async(spec(run), None, {"subject": "hi"})  # type: ignore[arg-type]
    assert gate.audit.frame().iloc[-1]["outcome"] == "failed"
    pending: concurrent.futures.Future[nec.Decision] = concurrent.futures.Future()
    gate, run, _ = make_gate(lambda r: pending)
    handle = call(gate, run, subject="hi")  # the loop runs here: a pending handle
    pending.cancel()  # the widget went away without a decision
    assert handle.status == "failed"
    assert gate.audit.frame().iloc[-1]["outcome"] == "failed"
    assert run.calls == []


def test_worker_thread_blocks_on_a_future_until_the_click() -> None:
    pending: concurrent.futures.Future[nec.Decision] = concurrent.futures.Future()
    gate, run, _ = make_gate(lambda r: pending)
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(call(gate, run, subject="hi")))
    worker.start()
    worker.join(0.2)
    assert worker.is_alive() and run.calls == []  # waiting for the reviewer
    pending.set_result(nec.Decision.approve())
    worker.join(5)
    assert results == ["ran"]


async def test_sync_call_with_a_running_loop_returns_a_pending_handle() -> None:
    pending: concurrent.futures.Future[nec.Decision] = concurrent.futures.Future()

    class Widget:
        def __init__(self) -> None:
            self.outcomes: list[tuple[str, str]] = []

        def __call__(self, request: nec.ActionRequest) -> concurrent.futures.Future[nec.Decision]:
            return pending

        def report_outcome(self, request: nec.ActionRequest, status: str, detail: str) -> None:
            self.outcomes.append((status, detail))

    widget = Widget()
    gate, run, _ = make_gate(widget)
    handle = call(gate, run, subject="hi")  # a Jupyter cell: the loop is running on this thread
    assert isinstance(handle, PendingAction)
    assert handle.status == "pending" and run.calls == []
    with pytest.raises(RuntimeError, match="waiting for approval"):
        handle.result()
    pending.set_result(nec.Decision.approve())
    assert handle.status == "done"
    assert await handle == "ran"
    assert widget.outcomes == [("done", "ran")]


async def test_pending_rejection_is_kept_on_the_handle() -> None:
    pending: concurrent.futures.Future[nec.Decision] = concurrent.futures.Future()
    gate, run, _ = make_gate(lambda r: pending)
    handle = call(gate, run, subject="hi")
    pending.set_result(nec.Decision.reject("no"))
    assert handle.status == "rejected"
    with pytest.raises(nec.ActionRejectedError, match="no"):
        await handle
    assert run.calls == []


async def test_awaited_call_waits_for_an_async_approver() -> None:
    async def approver(request: nec.ActionRequest) -> nec.Decision:
        await asyncio.sleep(0.01)
        return nec.Decision.approve()

    gate, run, _ = make_gate(approver)
    result = await gate.call_async(spec(run), None, {"subject": "hi"})  # type: ignore[arg-type]
    assert result == "ran"


async def test_awaited_call_waits_for_a_thread_future() -> None:
    pending: concurrent.futures.Future[nec.Decision] = concurrent.futures.Future()
    gate, run, _ = make_gate(lambda r: pending)
    task = asyncio.ensure_future(
        gate.call_async(spec(run), None, {"subject": "hi"})  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.05)
    assert not task.done()
    pending.set_result(nec.Decision.reject("later"))
    with pytest.raises(nec.ActionRejectedError):
        await task


def test_audit_log_redacts_secrets_and_attachment_bytes() -> None:
    gate, run, _ = make_gate(lambda r: True, send_email="confirm")
    call(gate, run, subject="hi", password="hunter2", attachments=[("a.pdf", b"%PDF-secret-bytes")])
    frame = gate.audit.frame()
    text = frame.to_string()
    assert "hunter2" not in text and "secret-bytes" not in text
    assert frame.iloc[-1]["arguments"]["attachments"] == ["a.pdf"]
    assert str(frame["time"].dtype).startswith("datetime64") and frame["time"].dt.tz is not None


def test_console_prompt_is_the_default_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    assert approvers.default_approver() is approvers.console_approver
    answers = iter(["n", "wrong address"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    gate, run, _ = make_gate(approvers.default_approver())
    with pytest.raises(nec.ActionRejectedError, match="wrong address"):
        call(gate, run, subject="hi")
    monkeypatch.setattr("builtins.input", lambda prompt="": "y")
    assert call(gate, run, subject="hi") == "ran"


def test_no_terminal_and_no_kernel_means_no_default_approver(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO())
    assert approvers.default_approver() is None


@pytest.mark.parametrize(("installed", "refused"), [("7.3.2", True), ("6.29.5", True), ("7.4.0", False)])
async def test_an_awaited_click_is_refused_where_the_kernel_could_never_deliver_it(
    monkeypatch: pytest.MonkeyPatch, installed: str, refused: bool
) -> None:
    from importlib import metadata

    from nb_email_conn.widgets import kernel
    from nb_email_conn.widgets.approval import InlineApprover

    class Widget:
        awaiting_would_hang = staticmethod(InlineApprover.awaiting_would_hang)

        def __call__(self, request: nec.ActionRequest) -> concurrent.futures.Future[nec.Decision]:
            future: concurrent.futures.Future[nec.Decision] = concurrent.futures.Future()
            future.set_result(nec.Decision.approve())
            return future

    monkeypatch.setattr(kernel, "in_kernel_with_frontend", lambda: True)
    monkeypatch.setattr(metadata, "version", lambda name: installed)
    gate, run, _ = make_gate(Widget())
    awaited = gate.call_async(spec(run), None, {"subject": "hi"})  # type: ignore[arg-type]
    if refused:
        with pytest.raises(nec.ActionRejectedError, match=r"ipykernel 7\.4"):
            await awaited
        assert run.calls == []
    else:
        assert await awaited == "ran"


def test_an_edit_that_empties_the_flags_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = nec.ConnectionConfig(name="t", username="alice@example.org", imap_host="127.0.0.1", imap_port=1)
    conn = nec.EmailConnection(cfg, password="x", approver=lambda r: nec.Decision.edit(add=[], remove=[]))
    stored: list[object] = []
    monkeypatch.setattr(conn._context.mailbox, "describe", lambda refs: [])

    def store_flags(*arguments: object) -> int:
        stored.append(arguments)
        return 1

    monkeypatch.setattr(conn._context.mailbox, "store_flags", store_flags)
    ref = "imap://alice%40example.org@127.0.0.1/INBOX;UIDVALIDITY=1/;UID=1"
    with pytest.raises(nec.InvalidInputError, match="no flags to add or remove"):
        conn.update_flags(ref, add="\\Flagged")
    assert stored == []


async def test_a_scoped_approver_decides_instead_of_the_connections_and_may_defer() -> None:
    from nb_email_conn.approval import DecisionDeferred, approver_scope

    gate, run, _ = make_gate(lambda r: nec.Decision.reject("the notebook's reviewer"))

    async def mcp_client(request: nec.ActionRequest) -> nec.Decision:
        return nec.Decision.approve(decided_by="mcp client")

    with approver_scope(mcp_client):
        assert await gate.call_async(spec(run), None, {"subject": "hi"}) == "ran"  # type: ignore[arg-type]
    assert gate.audit.frame().iloc[-1]["decided_by"] == "mcp client"
    with pytest.raises(nec.ActionRejectedError, match="notebook's reviewer"):
        await gate.call_async(spec(run), None, {"subject": "hi"})  # type: ignore[arg-type]

    def ask_later(request: nec.ActionRequest) -> nec.Decision:
        raise DecisionDeferred({"asked": request.function})

    with approver_scope(ask_later), pytest.raises(DecisionDeferred) as deferred:
        await gate.call_async(spec(run), None, {"subject": "later"})  # type: ignore[arg-type]
    assert deferred.value.payload == {"asked": "send_email"}
    row = gate.audit.frame().iloc[-1]
    assert (row["decision"], row["outcome"]) == ("asked", "waiting for the answer")
    assert run.calls == [{"subject": "hi"}]
