"""The inline approval widget and ``InlineApprover``, the default approver in a notebook.

``InlineApprover()(request)`` displays an :class:`ApprovalWidget` and returns a
``concurrent.futures.Future`` that resolves with the reviewer's :class:`Decision` when they
click. The future is thread-safe: the policy gate may block on it from a worker thread,
await it with ``asyncio.wrap_future``, or attach a done-callback. After the action ran, the
gate calls ``report_outcome`` and the widget shows it; a second decision is refused.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

import anywidget
import traitlets

from ..errors import InvalidInputError
from ..functions import spec_for
from ..functions.spec import EditableArgument
from ..jsonsafe import json_safe
from ..policy import ActionRequest, Decision
from ..validation import check_flag, check_text
from .base import static_file
from .kernel import awaiting_a_click_would_hang
from .messages import (
    ApprovalRequest,
    BooleanEditField,
    DecidedState,
    DecideResult,
    DecisionState,
    EditField,
    EmptyState,
    OutcomeState,
    OutcomeStatus,
    SyncedDict,
    TextEditField,
)
from .protocol import Call, RequestRouter

DECIDED_BY = "notebook user (inline widget)"
_STATE_AFTER: dict[str, DecidedState] = {"approve": "approved", "edit": "edited", "reject": "rejected"}

_MAX_ROWS = 500
_MAX_TEXT = 20_000


def jsonable(value: Any) -> Any:
    """A JSON-safe copy for widget state (the package's one converter, with the widget's bounds)."""
    return json_safe(value, max_text=_MAX_TEXT, max_items=_MAX_ROWS)


def _as_field_text(value: Any, separator: str = ", ") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return separator.join(str(item) for item in value)
    return str(value)


def _edit_field(argument: EditableArgument, value: Any) -> EditField:
    """An argument as its form input shows it: addresses comma-separated, flags space-separated."""
    kind = argument.kind
    if kind == "boolean":
        return BooleanEditField(name=argument.name, kind=kind, label=argument.title, value=value is True)
    text = _as_field_text(value, " " if kind == "flags" else ", ")
    return TextEditField(name=argument.name, kind=kind, label=argument.title, value=text)


def edit_fields(request: ActionRequest) -> list[EditField]:
    """The edit form of "approve with changes", in the registry's order (empty: no Edit button)."""
    return [
        _edit_field(argument, request.arguments.get(argument.name)) for argument in spec_for(request.function).editable
    ]


def editable_arguments(request: ActionRequest) -> dict[str, str | bool]:
    """The arguments a reviewer may change, as the form shows them (``{}``: none)."""
    return {field["name"]: field["value"] for field in edit_fields(request)}


def _edited_value(argument: EditableArgument, value: Any) -> Any:
    """A form value as the function's argument: a line break in a one-line field is an injection attempt."""
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
        return [check_flag(item, argument.name) for item in value.replace(",", " ").split()]
    return value


def parse_changes(request: ActionRequest, changes: Any) -> dict[str, Any]:
    """Check the reviewer's edits: only editable fields, values of the right kind, no header injection.

    Returns the arguments that really changed (flags as a list); ``{}`` means a plain approval.
    """
    editable = {argument.name: argument for argument in spec_for(request.function).editable}
    if not editable:
        raise InvalidInputError(f"{request.function} cannot be edited; approve or reject it.", field="changes")
    if not isinstance(changes, Mapping) or not changes:
        raise InvalidInputError("changes must name at least one field to change.", field="changes")
    current = editable_arguments(request)
    checked: dict[str, Any] = {}
    for key, value in changes.items():
        argument = editable.get(key) if isinstance(key, str) else None
        if argument is None:
            raise InvalidInputError(f"{str(key)[:100]!r} cannot be edited; only {', '.join(editable)}.", field=str(key))
        edited = _edited_value(argument, value)
        if value != current.get(key):
            checked[key] = edited
    return checked


def approval_request(action: ActionRequest) -> ApprovalRequest:
    """The ``request`` trait: the call, its JSON-safe preview and its edit form."""
    return ApprovalRequest(
        id=action.id,
        function=action.function,
        connection=action.connection,
        summary=action.summary,
        preview=jsonable(action.preview),
        editable=edit_fields(action),
    )


class ApprovalWidget(anywidget.AnyWidget):
    """One pending call: preview, Approve / Edit / Reject, then the outcome."""

    _esm = static_file("approval.js")
    _css = static_file("approval.css")

    # The synced shapes are in messages.py (and js/src/messages.ts).
    request = SyncedDict[ApprovalRequest]().tag(sync=True)
    state = traitlets.Unicode("pending").tag(sync=True)  # an ApprovalState
    decision = SyncedDict[DecisionState | EmptyState](EmptyState()).tag(sync=True)
    outcome = SyncedDict[OutcomeState | EmptyState](EmptyState()).tag(sync=True)

    def __init__(self, action: ActionRequest) -> None:
        super().__init__(request=approval_request(action))
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
            self.decision = DecisionState(
                action=decision.action,
                reason=None if decision.reason is None else jsonable(str(decision.reason)),
                changes=jsonable(dict(decision.changes)),
            )
            self.state = _STATE_AFTER[decision.action]
        self.future.set_result(decision)
        return decision

    def _decide_quietly(self, decision: Decision) -> None:
        self.decide(decision)

    def show_outcome(self, status: OutcomeStatus, detail: str = "") -> None:
        with self._lock:
            if self.state == "pending" and not self.future.done():
                # The gate finished without a click (cancelled, timed out): no decision any more.
                self.future.cancel()
            self.outcome = OutcomeState(status=status, detail=str(detail)[:2000])
            self.state = status

    def _handle_decide(self, params: dict[str, Any], call: Call) -> DecideResult:
        """``decide`` with ``DecideParams`` as the browser sent them (each field checked here)."""
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
        return DecideResult(state=_STATE_AFTER[decision.action])


def _ipython_display(widget: Any) -> None:
    from IPython.display import display

    display(widget)  # type: ignore[no-untyped-call]


OLD_IPYKERNEL_ADVICE = (
    "this ipykernel cannot deliver the Approve click to a cell that is awaiting it (ipykernel 7.4 or newer "
    "can). Call the synchronous form instead (it shows the widget and returns a pending handle), or upgrade "
    "ipykernel."
)
# Every approval widget by request id, while it lives: what a PendingAction shows (marimo).
_shown: weakref.WeakValueDictionary[int, ApprovalWidget] = weakref.WeakValueDictionary()


def ipykernel_awaiting_advice() -> str | None:
    """Why this kernel could not deliver a click to an awaiting cell (None: it can)."""
    return OLD_IPYKERNEL_ADVICE if awaiting_a_click_would_hang() else None


class InlineApprover:
    """The notebook's approver: shows an approval widget per request, returns a Future[Decision]."""

    @staticmethod
    def awaiting_would_hang() -> str | None:
        """The gate asks before an awaited call waits for a click this kernel could not deliver;
        the answer is the advice it gives instead (None: awaiting works).

        Clicks arrive as comm messages, which older kernels handle only once the cell ends.
        """
        return ipykernel_awaiting_advice()

    @staticmethod
    def widget_for(request: ActionRequest) -> ApprovalWidget | None:
        """The widget showing ``request``, if one does."""
        return _shown.get(request.id)

    def __init__(self, *, display: Callable[[Any], None] | None = None) -> None:
        self._display = display or _ipython_display
        self._widgets: dict[int, ApprovalWidget] = {}
        self._lock = threading.Lock()

    def __call__(self, request: ActionRequest) -> Future[Decision]:
        widget = ApprovalWidget(request)
        with self._lock:
            self._widgets[request.id] = widget
        _shown[request.id] = widget
        self._display(widget)
        return widget.future

    def report_outcome(self, request: ActionRequest, status: OutcomeStatus, detail: str = "") -> None:
        """Show what happened after the decision (message id, counts or the error)."""
        with self._lock:
            widget = self._widgets.pop(request.id, None)
        if widget is not None:
            widget.show_outcome(status, detail)

    def __repr__(self) -> str:
        return f"<InlineApprover pending={len(self._widgets)}>"
