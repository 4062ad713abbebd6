"""The inline approval widget and ``InlineApprover``, the default approver in a notebook.

``InlineApprover()(request)`` displays an :class:`ApprovalWidget` and returns a
``concurrent.futures.Future`` that resolves with the reviewer's :class:`Decision` when they
click. The future is thread-safe: the policy gate may block on it from a worker thread,
await it with ``asyncio.wrap_future``, or attach a done-callback. After the action ran, the
gate calls ``report_outcome`` and the widget shows it; a second decision is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, Literal

import anywidget
import traitlets

from ..errors import InvalidInputError
from ..functions import spec_for
from ..functions.spec import EditableArgument
from ..jsonsafe import json_safe
from ..policy import ActionRequest, Decision
from ..validation import check_text
from .base import static_file
from .kernel import awaiting_a_click_would_hang
from .protocol import Call, RequestRouter

DECIDED_BY = "notebook user (inline widget)"
OutcomeStatus = Literal["done", "failed", "rejected"]

_MAX_ROWS = 500
_MAX_TEXT = 20_000


def jsonable(value: Any) -> Any:
    """A JSON-safe copy for widget state (the package's one converter, with the widget's bounds)."""
    return json_safe(value, max_text=_MAX_TEXT, max_items=_MAX_ROWS)


def _as_field_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


def _editable(request: ActionRequest) -> dict[str, EditableArgument]:
    return {argument.name: argument for argument in spec_for(request.function).editable}


def editable_arguments(request: ActionRequest) -> dict[str, Any] | None:
    """The arguments a reviewer may change (from the function's registry entry), as form values."""
    editable = _editable(request)
    if not editable:
        return None
    return {
        name: bool(request.arguments.get(name))
        if argument.kind == "boolean"
        else _as_field_text(request.arguments.get(name))
        for name, argument in editable.items()
    }


def _edited_value(argument: EditableArgument, value: Any) -> Any:
    """A form value as the function's argument: a line break in a header is an injection attempt."""
    if argument.kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidInputError(f"{argument.name} must be true or false.", field=argument.name)
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"{argument.name} must be text.", field=argument.name)
    if argument.kind == "multiline":
        return value
    check_text(value, argument.name)
    if argument.kind == "flags":
        return [item for item in value.replace(",", " ").split() if item]
    return value


def parse_changes(request: ActionRequest, changes: Any) -> dict[str, Any]:
    """Check the reviewer's edits: only editable fields, values of the right kind, no header injection."""
    editable = _editable(request)
    if not editable:
        raise InvalidInputError(f"{request.function} cannot be edited; approve or reject it.", field="changes")
    if not isinstance(changes, Mapping) or not changes:
        raise InvalidInputError("changes must name at least one field to change.", field="changes")
    current = editable_arguments(request) or {}
    checked: dict[str, Any] = {}
    for key, value in changes.items():
        argument = editable.get(key)
        if argument is None:
            raise InvalidInputError(f"{key!r} cannot be edited; only {', '.join(editable)}.", field=str(key))
        if value != current.get(key):
            checked[key] = _edited_value(argument, value)
    return checked


class ApprovalWidget(anywidget.AnyWidget):
    """One pending call: preview, Approve / Edit / Reject, then the outcome."""

    _esm = static_file("approval.js")
    _css = static_file("approval.css")

    request = traitlets.Dict().tag(sync=True)
    state = traitlets.Unicode("pending").tag(sync=True)
    decision = traitlets.Dict().tag(sync=True)
    outcome = traitlets.Dict().tag(sync=True)

    def __init__(self, action: ActionRequest) -> None:
        super().__init__(
            request={
                "id": action.id,
                "function": action.function,
                "connection": action.connection,
                "summary": action.summary,
                "preview": jsonable(action.preview),
                "editable": editable_arguments(action),
            }
        )
        self.action = action
        self.future: Future[Decision] = Future()
        self._lock = threading.Lock()
        self._router = RequestRouter(self, thread_name="nec-approval")
        self._router.register("decide", self._handle_decide)

    def decide(self, decision: Decision) -> Decision:
        """Record one decision (the front end's click, or code). A second one is refused."""
        with self._lock:
            if self.state != "pending" or self.future.done():
                raise InvalidInputError("This request was already decided.", field="decision")
            state = {"approve": "approved", "edit": "edited", "reject": "rejected"}[decision.action]
            self.decision = jsonable(
                {"action": decision.action, "reason": decision.reason, "changes": decision.changes}
            )
            self.state = state
        self.future.set_result(decision)
        return decision

    def _decide_quietly(self, decision: Decision) -> None:
        self.decide(decision)

    def show_outcome(self, status: OutcomeStatus, detail: str = "") -> None:
        with self._lock:
            if self.state == "pending" and not self.future.done():
                # The gate finished without a click (cancelled, timed out): no decision any more.
                self.future.cancel()
            self.outcome = {"status": status, "detail": str(detail)[:2000]}
            self.state = status

    def _handle_decide(self, params: dict[str, Any], call: Call) -> dict[str, str]:
        action = params.get("action")
        if action == "approve":
            decision = Decision.approve(decided_by=DECIDED_BY)
        elif action == "reject":
            reason = params.get("reason")
            reason = check_text(reason, "reason", max_length=2000).strip() if isinstance(reason, str) else ""
            decision = Decision.reject(reason or "rejected in the notebook", decided_by=DECIDED_BY)
        elif action == "edit":
            changes = parse_changes(self.action, params.get("changes"))
            decision = (
                Decision.edit(decided_by=DECIDED_BY, **changes) if changes else Decision.approve(decided_by=DECIDED_BY)
            )
        else:
            raise InvalidInputError("action must be approve, edit or reject.", field="action")
        with self._lock:
            if self.state != "pending" or self.future.done():
                raise InvalidInputError("This request was already decided.", field="decision")
        # Resolve after the reply: a done-callback may run the action right here, on this thread.
        call.after_reply.append(lambda: self._decide_quietly(decision))
        return {"state": {"approve": "approved", "edit": "edited", "reject": "rejected"}[decision.action]}


def _ipython_display(widget: Any) -> None:
    from IPython.display import display

    display(widget)  # type: ignore[no-untyped-call]


class InlineApprover:
    """The notebook's approver: shows an approval widget per request, returns a Future[Decision]."""

    # Clicks arrive as comm messages, which the kernel handles only while no cell blocks it.
    needs_kernel_idle = True

    @staticmethod
    def awaiting_would_hang() -> bool:
        """The gate asks before an awaited call waits for a click this kernel could not deliver."""
        return awaiting_a_click_would_hang()

    def __init__(self, *, display: Callable[[Any], None] | None = None) -> None:
        self._display = display or _ipython_display
        self._widgets: dict[int, ApprovalWidget] = {}
        self._lock = threading.Lock()

    def __call__(self, request: ActionRequest) -> Future[Decision]:
        widget = ApprovalWidget(request)
        with self._lock:
            self._widgets[request.id] = widget
        self._display(widget)
        return widget.future

    def widget_for(self, request: ActionRequest) -> ApprovalWidget | None:
        with self._lock:
            return self._widgets.get(request.id)

    def report_outcome(self, request: ActionRequest, status: OutcomeStatus, detail: str = "") -> None:
        """Show what happened after the decision (message id, counts or the error)."""
        with self._lock:
            widget = self._widgets.pop(request.id, None)
        if widget is not None:
            widget.show_outcome(status, detail)

    def __repr__(self) -> str:
        return f"<InlineApprover pending={len(self._widgets)}>"
