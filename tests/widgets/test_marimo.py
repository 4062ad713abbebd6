"""marimo as a front end, with its kernel's facts faked (the real thing: tests/browser/test_marimo.py).

marimo sees a click only once the running cell has ended, so: a synchronous call in a cell shows
the widget and returns a pending handle; an awaited call there is refused with advice; a call
with no cell to show the widget in is refused; a ``mo.Thread`` may wait; never a console prompt.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import threading
from typing import Any

import pytest

import nb_email_conn as nec
from nb_email_conn import approvers, frontend
from nb_email_conn.approval import Gate
from nb_email_conn.functions import REGISTRY
from nb_email_conn.functions.policies import Policies
from nb_email_conn.functions.spec import FunctionSpec
from nb_email_conn.pending import PendingAction
from nb_email_conn.widgets import kernel, marimo, wiring
from nb_email_conn.widgets.approval import ApprovalWidget

from .conftest import attach_outbox, request


@dataclasses.dataclass
class FakeMarimo:
    """What the marimo layer asks of marimo: a context on this thread, a running cell, mo.Thread."""

    context: bool = True
    cell_running: bool = True
    mo_thread: bool = False
    shown: list[Any] = dataclasses.field(default_factory=list)


@pytest.fixture
def fake_marimo(monkeypatch: pytest.MonkeyPatch) -> FakeMarimo:
    fake = FakeMarimo()

    class Context:
        @property
        def execution_context(self) -> object | None:
            return object() if fake.cell_running else None

    def context() -> Context | None:
        return Context() if fake.context else None

    monkeypatch.setattr(kernel, "_seen_marimo_kernel", True)  # a marimo notebook process
    monkeypatch.setattr(kernel, "marimo_context", context)
    monkeypatch.setattr(marimo, "marimo_context", context)
    monkeypatch.setattr(marimo, "on_marimo_thread", lambda: fake.mo_thread)
    monkeypatch.setattr(marimo, "_append_to_cell", fake.shown.append)
    monkeypatch.setattr(kernel, "in_kernel_with_frontend", lambda: False)
    return fake


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, context: Any, arguments: dict[str, Any]) -> str:
        self.calls.append(arguments)
        return "sent"


def send_spec(run: Recorder) -> FunctionSpec[Any]:
    return dataclasses.replace(
        REGISTRY["send_email"],
        preview=lambda context, arguments: {"summary": f"send {arguments['subject']!r}", "to": ["bob@example.org"]},
        run=run,
        summarize=str,
    )


def default_gate() -> tuple[Gate, Recorder, FunctionSpec[Any]]:
    """A gate whose approver is the package default, as a new connection gets it."""
    table = Policies({"send_email": "confirm"})
    approver = approvers.default_approver()
    run = Recorder()
    return Gate(lambda name: table[name], lambda: approver, "work"), run, send_spec(run)


async def test_a_synchronous_call_in_a_cell_shows_the_widget_and_returns_a_handle_that_shows_it_too(
    fake_marimo: FakeMarimo,
) -> None:
    gate, run, spec = default_gate()
    handle = gate.call(spec, None, {"subject": "Q3"})  # type: ignore[arg-type]  # the cell: a loop runs here
    assert isinstance(handle, PendingAction) and handle.status == "pending"
    [widget] = fake_marimo.shown
    assert isinstance(widget, ApprovalWidget) and widget.request["summary"] == "send 'Q3'"
    # As the cell's last expression the handle replaces what the cell showed: it shows the widget.
    assert handle._display_() is widget
    settled: list[str] = []
    handle.add_done_callback(lambda h: settled.append(h.status))  # e.g. a mo.state setter
    assert run.calls == [] and settled == []

    attach_outbox(widget)
    request(widget, "decide", {"action": "approve"})  # the click, once the cell has ended
    assert handle.status == "done" and run.calls == [{"subject": "Q3"}]
    assert settled == ["done"]
    assert widget.state == "done" and widget.outcome["status"] == "done"
    assert await handle == "sent"
    handle.add_done_callback(lambda h: settled.append("late"))  # already settled: called at once
    assert settled == ["done", "late"]


async def test_a_rejection_in_marimo_reaches_the_handle_and_runs_nothing(fake_marimo: FakeMarimo) -> None:
    gate, run, spec = default_gate()
    handle = gate.call(spec, None, {"subject": "Offsite"})  # type: ignore[arg-type]
    [widget] = fake_marimo.shown
    attach_outbox(widget)
    request(widget, "decide", {"action": "reject", "reason": "not today"})
    assert handle.status == "rejected" and run.calls == []
    with pytest.raises(nec.ActionRejectedError, match="not today"):
        handle.result()
    assert gate.audit.frame().iloc[-1]["outcome"] == "rejected"


async def test_an_awaited_call_in_a_marimo_cell_is_refused_with_advice_not_left_hanging(
    fake_marimo: FakeMarimo,
) -> None:
    gate, run, spec = default_gate()
    with pytest.raises(nec.ActionRejectedError, match="synchronous form") as refused:
        await asyncio.wait_for(gate.call_async(spec, None, {"subject": "Thanks"}), 5)  # type: ignore[arg-type]
    assert "marimo" in str(refused.value) and "mo.Thread" in str(refused.value)
    assert fake_marimo.shown == [] and run.calls == []  # nobody was shown a widget that cannot work
    row = gate.audit.frame().iloc[-1]
    assert (row["decision"], row["outcome"]) == ("not asked", "refused")


async def test_awaiting_a_pending_handle_in_a_marimo_cell_is_refused(fake_marimo: FakeMarimo) -> None:
    gate, _, spec = default_gate()
    handle = gate.call(spec, None, {"subject": "Q3"})  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match=r"still waiting for approval.*marimo"):
        await handle
    fake_marimo.shown[0].decide(nec.Decision.approve())
    assert await handle == "sent"  # once decided there is nothing to wait for


@pytest.mark.parametrize("where", ["a thread marimo does not know", "between cells"])
def test_no_cell_to_show_the_widget_in_means_refused_with_advice(fake_marimo: FakeMarimo, where: str) -> None:
    if where == "between cells":
        fake_marimo.cell_running = False  # a background task or a callback on the kernel's thread
    else:
        fake_marimo.context = False
    gate, run, spec = default_gate()
    with pytest.raises(nec.ActionRejectedError, match="no marimo cell to show the approval widget in"):
        gate.call(spec, None, {"subject": "Q3"})  # type: ignore[arg-type]
    assert fake_marimo.shown == [] and run.calls == []
    assert gate.audit.frame().iloc[-1]["outcome"] == "refused"


async def test_a_mo_thread_may_await_the_click_while_the_kernel_thread_stays_free(fake_marimo: FakeMarimo) -> None:
    fake_marimo.mo_thread = True
    gate, _run, spec = default_gate()
    task = asyncio.ensure_future(gate.call_async(spec, None, {"subject": "Thanks"}))  # type: ignore[arg-type]
    for _ in range(100):
        if fake_marimo.shown:
            break
        await asyncio.sleep(0.02)
    [widget] = fake_marimo.shown
    assert not task.done()
    widget.decide(nec.Decision.approve())
    assert await asyncio.wait_for(task, 5) == "sent"


def test_a_mo_thread_blocks_until_the_click(fake_marimo: FakeMarimo) -> None:
    fake_marimo.mo_thread = True
    gate, _run, spec = default_gate()
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(gate.call(spec, None, {"subject": "Q3"})))  # type: ignore[arg-type]
    worker.start()
    for _ in range(100):
        if fake_marimo.shown:
            break
        worker.join(0.02)
    fake_marimo.shown[0].decide(nec.Decision.approve())
    worker.join(5)
    assert results == ["sent"]


def test_never_a_console_prompt_in_a_marimo_server_even_on_a_terminal(
    fake_marimo: FakeMarimo, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):  # `marimo run` started from a terminal: the server's stdin
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    fake_marimo.context = False  # even asked from a thread marimo does not know
    assert isinstance(approvers.default_approver(), marimo.MarimoApprover)
    # And with no notebook approver at all, the host check alone keeps the console out.
    monkeypatch.setattr(frontend, "_approver_factories", [])
    assert frontend.hosted_by_notebook()
    assert approvers.default_approver() is None


def test_outside_marimo_the_real_checks_say_so() -> None:
    # marimo is installed (a dev dependency) but no marimo kernel runs these tests.
    assert kernel.marimo_context() is None
    assert marimo.awaiting_advice() is None
    assert wiring.awaiting_advice() is None
    seen: list[bool] = []
    import marimo as mo

    thread = mo.Thread(target=lambda: seen.append(kernel.on_marimo_thread()))
    thread.start()
    thread.join(5)
    assert seen == [True] and not kernel.on_marimo_thread()


def test_a_handle_without_a_widget_shows_its_status_line() -> None:
    handle: PendingAction[str] = PendingAction(nec.ActionRequest("send_email", {}, {"summary": "s"}))
    shown = handle._display_()
    assert "pending" in shown._repr_html_() and "send_email" in repr(shown)
