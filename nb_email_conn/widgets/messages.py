"""The shapes of what the approval widget and the connection manager exchange with their
front ends, typed once (the manager's Find settings / Sign in shapes: ``messages_signin.py``).

- **custom messages** of the request/reply protocol (``protocol.py``): a :class:`RequestMessage`
  or :class:`CancelMessage` from the front end, a :class:`ReplyOk` / :class:`ReplyError` back;
- **synced traits**, which JupyterLab may save into the notebook (:class:`ApprovalModel`,
  :class:`ManagerModel`);
- each request method's **params and result** (``decide``; ``test_connection``, ``save``,
  ``load``, ``forget``, ``set_policy``, ``set_guardrails``).

``js/src/messages.ts`` declares the same names; ``tests/widgets/widget_messages.json`` holds
examples that pytest checks against these types and vitest renders. Params arrive unchecked:
the types say what a well-behaved front end sends, and each handler checks every field.
Keys that are not identifiers (``from``) use the functional ``TypedDict`` form; keys that may
be absent sit in a ``total=False`` subclass (Python 3.10 has no ``typing.NotRequired``).
"""

from __future__ import annotations

import copy
from typing import Any, Generic, Literal, TypedDict, TypeVar, cast

import traitlets

from .messages_signin import DiscoveredOption, SignInState


class EmptyState(TypedDict):
    """``{}``: a trait before there is anything to show (no decision yet, no test report yet)."""


# -- the request/reply protocol ------------------------------------------------------------


class RequestMessage(TypedDict):
    """Front end -> kernel: call ``method``; the kernel always answers with the same ``id``."""

    kind: Literal["request"]
    id: str
    method: str
    params: dict[str, Any]


class CancelMessage(TypedDict):
    """Front end -> kernel: the request ``id`` is no longer wanted (a slow handler may stop)."""

    kind: Literal["cancel"]
    id: str


class ErrorInfo(TypedDict):
    """Why a request failed: the error class's name, a message for the user, the form field."""

    type: str
    message: str
    field: str | None


class ReplyOk(TypedDict):
    kind: Literal["reply"]
    id: str
    ok: Literal[True]
    result: Any


class ReplyError(TypedDict):
    kind: Literal["reply"]
    id: str
    ok: Literal[False]
    error: ErrorInfo


ReplyMessage = ReplyOk | ReplyError


# -- the approval widget: previews ---------------------------------------------------------


class AttachmentInfo(TypedDict):
    filename: str
    content_type: str
    size: int


OriginalMessage = TypedDict("OriginalMessage", {"from": str, "subject": str, "date": str | None})
"""The message a reply or forward is about (``replying_to`` / ``forwarding``); date in ISO 8601."""

MessageRow = TypedDict("MessageRow", {"ref": str, "folder": str, "date": str, "from": str, "subject": str})
"""One message a bulk action touches, as its headers say (the Date header's text)."""

_ComposePreview = TypedDict(
    "_ComposePreview",
    {
        "summary": str,
        "from": str,
        "to": list[str],
        "cc": list[str],
        "bcc": list[str],
        "recipients": list[str],
        "subject": str,
        "body_excerpt": str,
        "attachments": list[AttachmentInfo],
        "size": int,
    },
)


class ComposePreview(_ComposePreview, total=False):
    """send_email, create_draft, reply_email, forward_email (``message/compose.py::preview_of``)."""

    replying_to: OriginalMessage
    forwarding: OriginalMessage


class _BulkPreview(TypedDict):
    summary: str
    count: int
    messages: list[MessageRow]


class BulkPreview(_BulkPreview, total=False):
    """delete_emails, update_flags, move_emails, copy_emails (``functions/changing.py::bulk_preview``)."""

    folder: str
    add: list[str]
    remove: list[str]
    permanent: bool


class SummaryPreview(TypedDict):
    """A function without a preview of its own (the reads, when put under confirmation)."""

    summary: str


Preview = ComposePreview | BulkPreview | SummaryPreview


# -- the approval widget: traits and the decide request ------------------------------------

ApprovalState = Literal["pending", "approved", "edited", "rejected", "done", "failed"]
"""The ``state`` trait: pending, then the decision, then how the call ended."""
DecisionAction = Literal["approve", "edit", "reject"]
DecidedState = Literal["approved", "edited", "rejected"]
OutcomeStatus = Literal["done", "failed", "rejected"]


class TextEditField(TypedDict):
    """One text input of "approve with changes" (addresses comma-separated, flags space-separated)."""

    name: str
    kind: Literal["text", "multiline", "addresses", "flags"]
    label: str
    value: str


class BooleanEditField(TypedDict):
    """One checkbox of "approve with changes"."""

    name: str
    kind: Literal["boolean"]
    label: str
    value: bool


EditField = TextEditField | BooleanEditField
"""One input of the edit form, from the function's registry entry, in its order."""


class ApprovalRequest(TypedDict):
    """The ``request`` trait: the call waiting for a decision (``editable`` empty: no Edit)."""

    id: int
    function: str
    connection: str
    summary: str
    preview: Preview
    editable: list[EditField]


class DecisionState(TypedDict):
    """The ``decision`` trait once decided (``{}`` before)."""

    action: DecisionAction
    reason: str | None
    changes: dict[str, Any]


class OutcomeState(TypedDict):
    """The ``outcome`` trait once the call ended (``{}`` before)."""

    status: OutcomeStatus
    detail: str


class _DecideParams(TypedDict):
    action: DecisionAction


class DecideParams(_DecideParams, total=False):
    """``decide``: approve; reject with a reason; or edit with the changed fields only."""

    reason: str
    changes: dict[str, str | bool]


class DecideResult(TypedDict):
    state: DecidedState


class ApprovalModel(TypedDict):
    """The approval widget's synced traits, together (what the front end renders)."""

    request: ApprovalRequest
    state: ApprovalState
    decision: DecisionState | EmptyState
    outcome: OutcomeState | EmptyState


# -- the connection manager: traits ----------------------------------------------------------

PolicyValue = Literal["enabled", "confirm", "disabled"]
StatusKind = Literal["idle", "working", "ok", "error", "warning"]


class FunctionInfo(TypedDict):
    """One row of the Functions list (from the registry)."""

    name: str
    description: str
    default: PolicyValue
    writes: bool


class StatusState(TypedDict):
    state: StatusKind
    message: str


class _Step(TypedDict):
    protocol: Literal["imap", "smtp"]
    name: str
    ok: bool
    detail: str


class Step(_Step, total=False):
    seconds: float


class _ReportState(TypedDict):
    ok: bool
    insecure: bool
    steps: list[Step]


class ReportState(_ReportState, total=False):
    """The ``report`` trait after Test connection (``{}`` before)."""

    imap_capabilities: list[str]
    smtp_extensions: list[str]


class KeyringState(TypedDict):
    usable: bool
    description: str


class SavedConnection(TypedDict):
    name: str
    username: str
    imap_host: str


class GuardrailsState(TypedDict):
    """The ``guardrails`` trait: ``Guardrails.to_dict()`` (``None`` = no such limit; an empty
    ``allowed_recipients`` is ``None`` too: anyone)."""

    allowed_recipients: list[str] | None
    max_recipients: int | None
    max_sends_per_hour: int | None
    dry_run: bool


class ManagerModel(TypedDict):
    """The connection manager's synced traits, together (never the password or a client secret)."""

    values: dict[str, Any]
    password_set: bool
    saved: list[SavedConnection]
    policies: dict[str, PolicyValue]
    functions: list[FunctionInfo]
    status: StatusState
    report: ReportState | EmptyState
    keyring: KeyringState
    session_only: bool
    connection_name: str
    guardrails: GuardrailsState
    discovered: list[DiscoveredOption]
    sign_in: SignInState | EmptyState
    client_secret_set: bool


# -- the connection manager: requests ---------------------------------------------------------


class _ConnectionTestParams(TypedDict):
    values: dict[str, Any]


class ConnectionTestParams(_ConnectionTestParams, total=False):
    """``test_connection``: the form's values; the typed password / OAuth client secret, if any
    (each exists only in this request, never in a trait)."""

    password: str
    client_secret: str


class _ConnectionTestResult(TypedDict):
    ok: bool


class ConnectionTestResult(_ConnectionTestResult, total=False):
    cancelled: bool


class SaveParams(_ConnectionTestParams, total=False):
    """``save``: as ``test_connection``, and whether the password stays in memory only."""

    password: str
    client_secret: str
    session_only: bool


class SaveResult(TypedDict):
    saved: str
    session_only: bool


class LoadParams(TypedDict):
    name: str


class LoadResult(TypedDict):
    name: str


class ForgetParams(TypedDict):
    name: str


class ForgetResult(TypedDict):
    forgotten: str


class SetPolicyParams(TypedDict):
    function: str
    policy: PolicyValue


SetPolicyResult = dict[str, PolicyValue]
"""Every function's policy after the change."""


class SetGuardrailsParams(TypedDict):
    """``set_guardrails``: the new guardrails, all four settings (the kernel checks each)."""

    guardrails: GuardrailsState


SetGuardrailsResult = GuardrailsState
"""The guardrails in force after the change (applied to the live connection, saved with a saved one)."""


# -- a synced trait holding one of these shapes ----------------------------------------------

Shape = TypeVar("Shape")


class SyncedDict(traitlets.TraitType[Shape, Shape], Generic[Shape]):
    """A dict trait typed with one of the shapes above (a dict at runtime; mypy checks the keys).

    Without ``default`` the widget must be given the value when it is built.
    """

    info_text = "a dict"

    def __init__(self, default: Shape | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._initial = default

    def make_dynamic_default(self) -> Shape:
        if self._initial is None:
            raise traitlets.TraitError(f"{self.name} has no default; give it when the widget is built.")
        return copy.deepcopy(self._initial)

    def validate(self, obj: Any, value: Any) -> Shape:
        if not isinstance(value, dict):
            self.error(obj, value)
        return cast(Shape, value)  # a dict; mypy checked its shape where it was written
