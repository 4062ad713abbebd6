"""The policy gate: every function call passes through here, in the kernel.

Disabled → refused before any traffic. Then the :class:`~nb_email_conn.guardrails.Guardrails`,
before anyone is asked and before any SMTP traffic (``dry_run``: a write returns its preview
and changes nothing). Enabled → runs. Enabled with confirmation → only an approval (or an
approved edit) of its :class:`ActionRequest` runs it. Awaited calls await the decision; a
worker thread or a script blocks on it; a synchronous call on a thread whose event loop runs
(a Jupyter cell, which cannot see a click until it ends) returns a :class:`PendingAction`
at once and the action runs when the reviewer decides. The kernel never hangs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._async import loop_running_here
from .audit import AuditLog, error_text, redact
from .errors import ActionRejectedError, EmailConnError, FunctionDisabledError, GuardrailError, InvalidInputError
from .guardrails import Guardrails, SendWindow, Slot, recipients_of
from .pending import PendingAction
from .policy import ActionRequest, Approver, Decision, Policy

if TYPE_CHECKING:
    from .functions.context import Context
    from .functions.spec import Arguments, FunctionSpec

log = logging.getLogger("nb_email_conn.approval")
R = TypeVar("R")
_AWAIT_ADVICE = "the click could never reach this awaiting call here. Call the synchronous form instead."
_scoped: contextvars.ContextVar[Approver | None] = contextvars.ContextVar("nb_email_conn_approver", default=None)


@contextlib.contextmanager
def approver_scope(approver: Approver) -> Iterator[None]:
    """Calls made inside (this task or thread, and what it awaits) are decided by ``approver``
    instead of ``conn.approver``: how the MCP server asks its client, call by call."""
    token = _scoped.set(approver)
    try:
        yield
    finally:
        _scoped.reset(token)


class DecisionDeferred(Exception):  # not an error: the reviewer is asked out of band
    """Raised by an approver whose reviewer answers in a later request (an MCP client on the
    2026 protocol's input-required flow): this call ends now, runs nothing, and comes again
    with the answer. ``payload`` is what the caller returns meanwhile."""

    def __init__(self, payload: Any) -> None:
        super().__init__("the reviewer is asked; the call comes again with the answer")
        self.payload = payload


def _as_decision(value: Any) -> Decision:
    if isinstance(value, Decision):
        return value
    if isinstance(value, bool):
        return Decision.approve() if value else Decision.reject("rejected by the approver")
    raise InvalidInputError(
        f"the approver returned {type(value).__name__}; it must return a Decision (or True/False).",
        field="approver",
    )


def _record_undecided(row: dict[str, Any], error: BaseException) -> None:
    """The approver raised or answered nonsense: without this the row stayed "pending"."""
    if row["outcome"] != "pending":
        return
    if isinstance(error, DecisionDeferred):
        row.update(decision="asked", outcome="waiting for the answer")
    elif isinstance(error, ActionRejectedError):  # the approver could not ask anyone
        row.update(decision=row["decision"] or "not asked", outcome="refused", error=error_text(error))
    else:
        row.update(decision=row["decision"] or "not decided", outcome="failed", error=error_text(error))


def _run(spec: FunctionSpec[R], context: Context, arguments: Arguments, row: dict[str, Any], slot: Slot | None) -> R:
    if slot is not None:
        slot.used()  # it counts towards max_sends_per_hour from here, whatever the outcome
    try:
        result = spec.run(context, arguments)
    except BaseException as exc:
        row.update(outcome="failed", error=error_text(exc))
        raise
    row.update(outcome="done")
    return result


class Gate:
    """Applies one connection's policies, guardrails and approvals to its calls."""

    def __init__(
        self,
        policy_of: Callable[[str], Policy],
        approver_of: Callable[[], Approver | None],
        name: str,
        guardrails_of: Callable[[], Guardrails] | None = None,
    ):
        self._policy_of = policy_of
        self._approver_of = approver_of
        self._guardrails_of = guardrails_of or Guardrails
        self._name = name
        self.audit = AuditLog()
        self.sends = SendWindow()

    def _approver(self) -> Approver | None:
        return _scoped.get() or self._approver_of()

    # -- shared steps -------------------------------------------------------------------
    def _admit(self, spec: FunctionSpec[Any], arguments: Arguments) -> _Admitted:
        policy = self._policy_of(spec.name)
        row = self.audit.start(spec.name, arguments, policy)
        if policy is Policy.DISABLED:
            row.update(outcome="refused", error="FunctionDisabledError")
            raise FunctionDisabledError(spec.name)
        rails = self._guardrails_of()
        dry_run = rails.dry_run and spec.writes
        slot = None
        if spec.sends:  # offline: refused before the preview reads anything
            slot = _refusing(row, self.sends.check, spec.name, rails.max_sends_per_hour, hold=not dry_run)
        return _Admitted(policy, row, rails, slot, dry_run)

    @staticmethod
    def _guard(
        spec: FunctionSpec[Any],
        context: Context,
        arguments: Arguments,
        admitted: _Admitted,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Check the recipients against the guardrails (building the preview if it is needed)."""
        rails = admitted.rails
        if not spec.sends or not rails.limits_recipients:
            return details
        if details is None:
            details = _failing(admitted.row, spec.preview_for, context, arguments)
        _refusing(admitted.row, rails.check_recipients, spec.name, recipients_of(details, arguments))
        return details

    def _dry_run(
        self, spec: FunctionSpec[Any], context: Context, arguments: Arguments, admitted: _Admitted
    ) -> dict[str, Any]:
        details = _failing(admitted.row, spec.preview_for, context, arguments)
        self._guard(spec, context, arguments, admitted, details)
        admitted.row.update(decision="not asked (dry run)", outcome="dry run")
        return {"dry_run": True, "would": details}

    def _confirmation(
        self, spec: FunctionSpec[R], context: Context, arguments: Arguments, admitted: _Admitted
    ) -> _Confirmation[R]:
        row = admitted.row
        # The preview validates the arguments before bothering a human; then the guardrails.
        details = _failing(row, spec.preview_for, context, arguments)
        self._guard(spec, context, arguments, admitted, details)
        request = ActionRequest(spec.name, dict(arguments), details, connection=self._name)
        approver = self._approver()
        if approver is None:
            row.update(decision="no approver", outcome="refused", error="ActionRejectedError")
            raise ActionRejectedError(
                spec.name,
                "no reviewer is available to confirm it. Set conn.approver to a callable that returns "
                "nec.Decision.approve()/reject(), run it in Jupyter for the inline widget, or change the "
                "policy to 'enabled' if it should run without confirmation.",
            )
        return _Confirmation(spec, context, arguments, row, approver, request, admitted)

    # -- synchronous calls --------------------------------------------------------------
    def call(self, spec: FunctionSpec[R], context: Context, arguments: Arguments) -> R | PendingAction[R]:
        admitted = self._admit(spec, arguments)
        handed_off = False
        try:
            if admitted.dry_run:
                return cast(R, self._dry_run(spec, context, arguments, admitted))
            if admitted.policy is Policy.ENABLED:
                self._guard(spec, context, arguments, admitted)
                return _run(spec, context, arguments, admitted.row, admitted.slot)
            confirmation = self._confirmation(spec, context, arguments, admitted)
            try:
                answer = confirmation.approver(confirmation.request)
                if isinstance(answer, Decision | bool):
                    return confirmation.decide(_as_decision(answer))
                if loop_running_here():
                    handle = self._pending(confirmation, answer)
                    handed_off = True  # the decision callback settles the send slot
                    return handle
                return confirmation.decide(self._wait_blocking(answer))
            except BaseException as exc:
                _record_undecided(admitted.row, exc)
                raise
        finally:
            if admitted.slot is not None and not handed_off:
                admitted.slot.release()  # never sent: its place in the hourly count is free again

    @staticmethod
    def _wait_blocking(answer: Any) -> Decision:
        if isinstance(answer, concurrent.futures.Future):
            return _as_decision(answer.result())
        if isinstance(answer, asyncio.Future):
            loop = answer.get_loop()
            done = threading.Event()
            loop.call_soon_threadsafe(lambda: answer.add_done_callback(lambda _f: done.set()))
            done.wait()
            return _as_decision(answer.result())
        if inspect.isawaitable(answer):

            async def wait() -> Any:
                return await answer

            return _as_decision(asyncio.run(wait()))
        return _as_decision(answer)

    @staticmethod
    def _pending(confirmation: _Confirmation[R], answer: Any) -> PendingAction[R]:
        handle: PendingAction[R] = PendingAction(confirmation.request)

        def on_decision(decision_future: Any) -> None:
            try:
                decision = _as_decision(decision_future.result())
                handle.status = "running"
                result = confirmation.decide(decision)
            except ActionRejectedError as exc:
                handle.fail("rejected", exc)
            except BaseException as exc:
                _record_undecided(confirmation.row, exc)
                handle.fail("failed", exc)
            else:
                handle.succeed(result)
            finally:
                confirmation.release()

        if isinstance(answer, concurrent.futures.Future | asyncio.Future):
            answer.add_done_callback(on_decision)
        elif inspect.isawaitable(answer):
            asyncio.ensure_future(answer).add_done_callback(on_decision)
        else:
            _as_decision(answer)  # raises the same clear error as the blocking path
        return handle

    # -- awaitable calls ----------------------------------------------------------------
    async def call_async(self, spec: FunctionSpec[R], context: Context, arguments: Arguments) -> R:
        admitted = self._admit(spec, arguments)
        try:
            return await self._call_async(spec, context, arguments, admitted)
        finally:
            if admitted.slot is not None:
                admitted.slot.release()

    async def _call_async(
        self, spec: FunctionSpec[R], context: Context, arguments: Arguments, admitted: _Admitted
    ) -> R:
        row = admitted.row
        if admitted.dry_run:
            return cast(R, await asyncio.to_thread(self._dry_run, spec, context, arguments, admitted))
        if admitted.policy is Policy.ENABLED:
            await asyncio.to_thread(self._guard, spec, context, arguments, admitted)
            return await asyncio.to_thread(_run, spec, context, arguments, row, admitted.slot)
        would_hang = getattr(self._approver(), "awaiting_would_hang", None)
        advice = would_hang() if callable(would_hang) else None  # the front end's advice (or True)
        if advice:
            row.update(decision="not asked", outcome="refused", error="ActionRejectedError")
            raise ActionRejectedError(spec.name, advice if isinstance(advice, str) else _AWAIT_ADVICE)
        # The preview reads the mailbox: off the event loop, so the kernel stays responsive.
        confirmation = await asyncio.to_thread(self._confirmation, spec, context, arguments, admitted)
        try:
            answer: Any = confirmation.approver(confirmation.request)
            if isinstance(answer, concurrent.futures.Future):
                answer = await asyncio.wrap_future(answer)
            elif inspect.isawaitable(answer):
                answer = await answer
            approved = confirmation.approved_arguments(_as_decision(answer))
        except BaseException as exc:
            _record_undecided(row, exc)
            raise
        return await asyncio.to_thread(confirmation.execute, approved)


@dataclass
class _Admitted:
    """A call past the policy check: its audit row, the guardrails in force and its send slot."""

    policy: Policy
    row: dict[str, Any]
    rails: Guardrails
    slot: Slot | None
    dry_run: bool


def _failing(row: dict[str, Any], step: Callable[..., R], *args: Any) -> R:
    """Run a step before the decision; its error is the row's outcome ("not asked", "failed")."""
    try:
        return step(*args)
    except BaseException as exc:
        row.update(decision=row["decision"] or "not asked", outcome="failed", error=error_text(exc))
        raise


def _refusing(row: dict[str, Any], check: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Run a guardrail check; a violation is recorded as refused."""
    try:
        return check(*args, **kwargs)
    except GuardrailError as exc:
        row.update(decision=row["decision"] or "not asked", outcome="refused", error=error_text(exc))
        raise


@dataclass
class _Confirmation(Generic[R]):
    """One call under "Enabled with confirmation": its request, reviewer and audit row."""

    spec: FunctionSpec[R]
    context: Context
    arguments: Arguments
    row: dict[str, Any]
    approver: Approver
    request: ActionRequest
    admitted: _Admitted

    def release(self) -> None:
        if self.admitted.slot is not None:
            self.admitted.slot.release()

    def report(self, status: str, detail: str) -> None:
        """Tell the reviewer's widget (if it listens) how the call ended."""
        report = getattr(self.approver, "report_outcome", None)
        if callable(report):
            try:
                report(self.request, status, detail)
            except Exception:
                log.exception("the approver could not show the outcome")

    def _apply(self, decision: Decision) -> Arguments:
        row, name = self.row, self.spec.name
        row.update(decision=decision.action, decided_by=decision.decided_by)
        if not decision.approved:
            row.update(outcome="rejected", error="ActionRejectedError")
            raise ActionRejectedError(name, decision.reason, decided_by=decision.decided_by)
        if decision.action != "edit":
            return self.arguments
        allowed = self.spec.editable_names
        bad = sorted(set(decision.changes) - allowed)
        if bad:
            row.update(outcome="refused", error="InvalidInputError")
            raise InvalidInputError(
                f"the reviewer's edit changes {', '.join(bad)}, which cannot be edited for {name} "
                f"(editable: {', '.join(sorted(allowed)) or 'nothing'}).",
                field=bad[0],
            )
        try:
            # The function's own offline checks run again on what the reviewer changed.
            arguments = self.spec.prepare({**self.arguments, **decision.changes})
        except EmailConnError as exc:
            row.update(outcome="refused", error=error_text(exc))
            raise
        row["arguments"] = redact(arguments)
        return arguments

    def approved_arguments(self, decision: Decision) -> Arguments:
        try:
            return self._apply(decision)
        except ActionRejectedError as exc:
            self.report("rejected", exc.reason or "rejected")
            raise
        except EmailConnError as exc:
            self.report("failed", str(exc))
            raise

    def _recheck(self, arguments: Arguments) -> None:
        """A reviewer's edit of the recipients meets the same guardrails (no approval lifts them)."""
        if arguments is self.arguments or not set(arguments).intersection(("to", "cc", "bcc")):
            return
        if any(arguments.get(key) != self.arguments.get(key) for key in ("to", "cc", "bcc")):
            Gate._guard(self.spec, self.context, arguments, self.admitted)

    def execute(self, arguments: Arguments) -> R:
        try:
            self._recheck(arguments)
            result = _run(self.spec, self.context, arguments, self.row, self.admitted.slot)
        except BaseException as exc:
            self.report("failed", f"{type(exc).__name__}: {exc}")
            raise
        self.report("done", self.spec.summarize(result))
        return result

    def decide(self, decision: Decision) -> R:
        return self.execute(self.approved_arguments(decision))


__all__ = ["DecisionDeferred", "Gate", "PendingAction", "approver_scope"]
