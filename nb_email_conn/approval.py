"""The policy gate: every function call passes through here, in the kernel.

Disabled → refused before any traffic. Enabled → runs. Enabled with confirmation → an
:class:`ActionRequest` goes to the approver and only an approval (or an approved edit)
runs it. How the call waits for the decision depends on where it runs:

- awaited (``*_async`` forms): awaits the decision;
- a worker thread, or a plain script: blocks on the decision;
- a synchronous call on a thread whose event loop is running (a Jupyter cell): the kernel
  cannot see a click until the cell ends, so the call returns a :class:`PendingAction`
  at once and the action runs when the reviewer decides. The kernel never hangs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._async import loop_running_here
from .audit import AuditLog, error_text, redact
from .errors import ActionRejectedError, EmailConnError, FunctionDisabledError, InvalidInputError
from .pending import PendingAction
from .policy import ActionRequest, Approver, Decision, Policy

if TYPE_CHECKING:
    from .functions.context import Context
    from .functions.spec import Arguments, FunctionSpec

log = logging.getLogger("nb_email_conn.approval")
R = TypeVar("R")


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
    if row["outcome"] == "pending":
        row.update(decision=row["decision"] or "not decided", outcome="failed", error=error_text(error))


def _run(spec: FunctionSpec[R], context: Context, arguments: Arguments, row: dict[str, Any]) -> R:
    try:
        result = spec.run(context, arguments)
    except BaseException as exc:
        row.update(outcome="failed", error=error_text(exc))
        raise
    row.update(outcome="done")
    return result


class Gate:
    """Applies one connection's policies and approvals to its calls."""

    def __init__(self, policy_of: Callable[[str], Policy], approver_of: Callable[[], Approver | None], name: str):
        self._policy_of = policy_of
        self._approver_of = approver_of
        self._name = name
        self.audit = AuditLog()

    # -- shared steps -------------------------------------------------------------------
    def _admit(self, spec: FunctionSpec[Any], arguments: Arguments) -> tuple[Policy, dict[str, Any]]:
        policy = self._policy_of(spec.name)
        row = self.audit.start(spec.name, arguments, policy)
        if policy is Policy.DISABLED:
            row.update(outcome="refused", error="FunctionDisabledError")
            raise FunctionDisabledError(spec.name)
        return policy, row

    def _confirmation(
        self, spec: FunctionSpec[R], context: Context, arguments: Arguments, row: dict[str, Any]
    ) -> _Confirmation[R]:
        try:
            details = spec.preview_for(context, arguments)  # validates arguments before bothering a human
        except BaseException as exc:
            row.update(decision="not asked", outcome="failed", error=error_text(exc))
            raise
        request = ActionRequest(spec.name, dict(arguments), details, connection=self._name)
        approver = self._approver_of()
        if approver is None:
            row.update(decision="no approver", outcome="refused", error="ActionRejectedError")
            raise ActionRejectedError(
                spec.name,
                "no reviewer is available to confirm it. Set conn.approver to a callable that returns "
                "nec.Decision.approve()/reject(), run it in Jupyter for the inline widget, or change the "
                "policy to 'enabled' if it should run without confirmation.",
            )
        return _Confirmation(spec, context, arguments, row, approver, request)

    # -- synchronous calls --------------------------------------------------------------
    def call(self, spec: FunctionSpec[R], context: Context, arguments: Arguments) -> R | PendingAction[R]:
        policy, row = self._admit(spec, arguments)
        if policy is Policy.ENABLED:
            return _run(spec, context, arguments, row)
        confirmation = self._confirmation(spec, context, arguments, row)
        try:
            answer = confirmation.approver(confirmation.request)
            if isinstance(answer, Decision | bool):
                return confirmation.decide(_as_decision(answer))
            if loop_running_here():
                return self._pending(confirmation, answer)
            return confirmation.decide(self._wait_blocking(answer))
        except BaseException as exc:
            _record_undecided(row, exc)
            raise

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

        if isinstance(answer, concurrent.futures.Future | asyncio.Future):
            answer.add_done_callback(on_decision)
        elif inspect.isawaitable(answer):
            asyncio.ensure_future(answer).add_done_callback(on_decision)
        else:
            _as_decision(answer)  # raises the same clear error as the blocking path
        return handle

    # -- awaitable calls ----------------------------------------------------------------
    async def call_async(self, spec: FunctionSpec[R], context: Context, arguments: Arguments) -> R:
        policy, row = self._admit(spec, arguments)
        if policy is Policy.ENABLED:
            return await asyncio.to_thread(_run, spec, context, arguments, row)
        would_hang = getattr(self._approver_of(), "awaiting_would_hang", None)
        if callable(would_hang) and would_hang():
            row.update(decision="not asked", outcome="refused", error="ActionRejectedError")
            raise ActionRejectedError(
                spec.name,
                "this ipykernel cannot deliver the Approve click to a cell that is awaiting it (ipykernel 7.4 "
                "or newer can). Call the synchronous form instead (it shows the widget and returns a pending "
                "handle), or upgrade ipykernel.",
            )
        # The preview reads the mailbox: off the event loop, so the kernel stays responsive.
        confirmation = await asyncio.to_thread(self._confirmation, spec, context, arguments, row)
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
class _Confirmation(Generic[R]):
    """One call under "Enabled with confirmation": its request, reviewer and audit row."""

    spec: FunctionSpec[R]
    context: Context
    arguments: Arguments
    row: dict[str, Any]
    approver: Approver
    request: ActionRequest

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

    def execute(self, arguments: Arguments) -> R:
        try:
            result = _run(self.spec, self.context, arguments, self.row)
        except BaseException as exc:
            self.report("failed", f"{type(exc).__name__}: {exc}")
            raise
        self.report("done", self.spec.summarize(result))
        return result

    def decide(self, decision: Decision) -> R:
        return self.execute(self.approved_arguments(decision))


__all__ = ["Gate", "PendingAction"]
