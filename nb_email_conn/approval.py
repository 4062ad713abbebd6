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
import html
import inspect
import logging
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._async import loop_running_here
from .errors import ActionRejectedError, EmailConnError, FunctionDisabledError, InvalidInputError
from .policy import ActionRequest, Approver, Decision, Policy

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("nb_email_conn.approval")

Preview = Callable[[dict[str, Any]], dict[str, Any]]
Runner = Callable[[dict[str, Any]], Any]
Summarize = Callable[[Any], str]

# Arguments an approver may change with Decision.edit, per function.
EDITABLE: Mapping[str, frozenset[str]] = {
    "send_email": frozenset({"to", "cc", "bcc", "subject", "body", "html"}),
    "create_draft": frozenset({"to", "cc", "bcc", "subject", "body", "html"}),
    "update_flags": frozenset({"add", "remove"}),
    "move_emails": frozenset({"folder"}),
    "copy_emails": frozenset({"folder"}),
    "delete_emails": frozenset({"permanent"}),
}


def in_kernel_with_frontend() -> bool:
    """True inside a Jupyter kernel (where widgets can be shown)."""
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return False
    get_ipython = getattr(ipython_module, "get_ipython", None)
    shell = get_ipython() if get_ipython else None
    return shell is not None and getattr(shell, "kernel", None) is not None


# A cell that awaits a future receives widget clicks only from ipykernel 7.4 on (measured in
# JupyterLab: 6.x to 7.3 process no comm message until the cell ends, so it would hang).
AWAIT_IN_CELL_MIN_IPYKERNEL = (7, 4)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def awaiting_a_click_would_hang(approver: object) -> bool:
    """True when an awaited call on the kernel's main thread could never see the click."""
    if not getattr(approver, "needs_kernel_idle", False):
        return False
    if threading.current_thread() is not threading.main_thread() or not in_kernel_with_frontend():
        return False
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = _version_tuple(version("ipykernel"))
    except PackageNotFoundError:
        return False
    return installed < AWAIT_IN_CELL_MIN_IPYKERNEL


def console_approver(request: ActionRequest) -> Decision:
    """Ask on the terminal: the default outside Jupyter when stdin is a terminal."""
    print(str(request), file=sys.stderr)
    answer = input("Approve? [y]es / [n]o: ").strip().lower()
    if answer in ("y", "yes"):
        return Decision.approve(decided_by="console")
    reason = input("Reason for rejecting (optional): ").strip() or None
    return Decision.reject(reason, decided_by="console")


def default_approver() -> Approver | None:
    """The inline widget in a kernel, a console prompt on a terminal, else none."""
    if in_kernel_with_frontend():
        from .widgets.approval import InlineApprover

        return InlineApprover()
    if sys.stdin is not None and sys.stdin.isatty():
        return console_approver
    return None


def redact(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments as recorded in the audit log: no secrets, no attachment bytes, bounded text."""
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if "password" in key.lower() or "secret" in key.lower() or "token" in key.lower():
            out[key] = "********"
        elif key == "attachments" and value is not None:
            out[key] = [_attachment_label(a) for a in (value if isinstance(value, list | tuple) else [value])]
        elif key == "refs":
            out[key] = _refs_label(value)
        elif isinstance(value, str) and len(value) > 500:
            out[key] = value[:500] + "…"
        else:
            out[key] = value
    return out


def _attachment_label(item: Any) -> str:
    if isinstance(item, tuple | list) and item:
        return str(item[0])
    if isinstance(item, dict):
        return str(item.get("filename", "attachment"))
    return str(getattr(item, "name", item))[:200]


def _refs_label(value: Any) -> Any:
    if isinstance(value, str):
        return value
    columns = getattr(value, "columns", None)
    if columns is not None and "ref" in columns:
        return list(value["ref"])
    try:
        return [str(v) for v in value]
    except TypeError:
        return str(value)


def _error_text(error: BaseException) -> str:
    """How the audit log names an error: its type and a bounded message."""
    return f"{type(error).__name__}: {str(error)[:300]}"


def _as_decision(value: Any) -> Decision:
    if isinstance(value, Decision):
        return value
    if isinstance(value, bool):
        return Decision.approve() if value else Decision.reject("rejected by the approver")
    raise InvalidInputError(
        f"the approver returned {type(value).__name__}; it must return a Decision (or True/False).",
        field="approver",
    )


class AuditLog:
    """Every gated call: time, function, arguments (redacted), policy, decision, outcome."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._rows: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def start(self, function: str, arguments: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
        row: dict[str, Any] = {
            "time": datetime.now(timezone.utc),
            "function": function,
            "arguments": redact(arguments),
            "policy": policy.value,
            "decision": "not needed" if policy is Policy.ENABLED else None,
            "decided_by": None,
            "outcome": "pending",
            "error": None,
        }
        with self._lock:
            self._rows.append(row)
        return row

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        columns = ["time", "function", "arguments", "policy", "decision", "decided_by", "outcome", "error"]
        with self._lock:
            rows = [dict(r) for r in self._rows]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=columns)
        frame["time"] = pd.to_datetime(frame["time"], utc=True)
        return frame


class PendingAction:
    """Returned by a synchronous call made on the kernel's main thread under confirmation.

    The action runs when the reviewer clicks Approve; until then ``status`` is
    ``"pending"``. In a later cell: ``handle.status``, ``handle.result()``; in async code:
    ``await handle``.
    """

    def __init__(self, request: ActionRequest) -> None:
        self.request = request
        self.status = "pending"
        self._future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def _finish(self, status: str, *, result: Any = None, error: BaseException | None = None) -> None:
        self.status = status
        if error is not None:
            self._future.set_exception(error)
        else:
            self._future.set_result(result)

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> Any:
        """The action's result once decided and run; raises its error or ActionRejectedError."""
        if not self._future.done() and loop_running_here():
            raise RuntimeError(
                f"{self.request.function} is still waiting for approval; click Approve or Reject, then ask "
                "again in a later cell (or use `await handle`)."
            )
        return self._future.result(timeout)

    def __await__(self) -> Any:
        return asyncio.wrap_future(self._future).__await__()

    def __repr__(self) -> str:
        return f"<PendingAction #{self.request.id} {self.request.function}: {self.status}>"

    def _repr_html_(self) -> str:
        return (
            f"<code>{html.escape(self.request.function)}</code> #{self.request.id}: <b>{html.escape(self.status)}</b>"
        )


class Gate:
    """Applies one connection's policies and approvals to its calls."""

    def __init__(self, policy_of: Callable[[str], Policy], approver_of: Callable[[], Approver | None], name: str):
        self._policy_of = policy_of
        self._approver_of = approver_of
        self._name = name
        self.audit = AuditLog()

    # -- shared steps -------------------------------------------------------------------
    def _admit(self, function: str, arguments: dict[str, Any]) -> tuple[Policy, dict[str, Any]]:
        policy = self._policy_of(function)
        row = self.audit.start(function, arguments, policy)
        if policy is Policy.DISABLED:
            row.update(outcome="refused", error="FunctionDisabledError")
            raise FunctionDisabledError(function)
        return policy, row

    def _confirmation(
        self,
        function: str,
        arguments: dict[str, Any],
        preview: Preview,
        row: dict[str, Any],
        run: Runner,
        summarize: Summarize,
    ) -> _Confirmation:
        try:
            details = preview(arguments)  # validates arguments before bothering a human
        except BaseException as exc:
            row.update(decision="not asked", outcome="failed", error=_error_text(exc))
            raise
        request = ActionRequest(function, dict(arguments), details, connection=self._name)
        approver = self._approver_of()
        if approver is None:
            row.update(decision="no approver", outcome="refused", error="ActionRejectedError")
            raise ActionRejectedError(
                function,
                "no reviewer is available to confirm it. Set conn.approver to a callable that returns "
                "nec.Decision.approve()/reject(), run it in Jupyter for the inline widget, or change the "
                "policy to 'enabled' if it should run without confirmation.",
            )
        return _Confirmation(self, function, arguments, row, run, summarize, approver, request)

    def _apply(
        self, function: str, arguments: dict[str, Any], decision: Decision, row: dict[str, Any]
    ) -> dict[str, Any]:
        row.update(decision=decision.action, decided_by=decision.decided_by)
        if not decision.approved:
            row.update(outcome="rejected", error="ActionRejectedError")
            raise ActionRejectedError(function, decision.reason, decided_by=decision.decided_by)
        if decision.action == "edit":
            allowed = EDITABLE.get(function, frozenset())
            bad = sorted(set(decision.changes) - allowed)
            if bad:
                row.update(outcome="refused", error="InvalidInputError")
                raise InvalidInputError(
                    f"the reviewer's edit changes {', '.join(bad)}, which cannot be edited for {function} "
                    f"(editable: {', '.join(sorted(allowed)) or 'nothing'}).",
                    field=bad[0],
                )
            arguments = {**arguments, **decision.changes}
            row["arguments"] = redact(arguments)
        return arguments

    @staticmethod
    def _record(row: dict[str, Any], error: BaseException | None) -> None:
        if error is None:
            row.update(outcome="done")
        else:
            row.update(outcome="failed", error=_error_text(error))

    @staticmethod
    def _record_undecided(row: dict[str, Any], error: BaseException) -> None:
        """The approver raised or answered nonsense: without this the row stayed "pending"."""
        if row["outcome"] == "pending":
            row.update(
                decision=row["decision"] or "not decided",
                outcome="failed",
                error=_error_text(error),
            )

    def _run(self, run: Runner, arguments: dict[str, Any], row: dict[str, Any]) -> Any:
        try:
            result = run(arguments)
        except BaseException as exc:
            self._record(row, exc)
            raise
        self._record(row, None)
        return result

    # -- synchronous calls --------------------------------------------------------------
    def call(
        self, function: str, arguments: dict[str, Any], *, preview: Preview, run: Runner, summarize: Summarize
    ) -> Any:
        policy, row = self._admit(function, arguments)
        if policy is Policy.ENABLED:
            return self._run(run, arguments, row)
        confirmation = self._confirmation(function, arguments, preview, row, run, summarize)
        try:
            answer = confirmation.approver(confirmation.request)
            if isinstance(answer, Decision | bool):
                return confirmation.decide(_as_decision(answer))
            if loop_running_here():
                return self._pending(confirmation, answer)
            return confirmation.decide(self._wait_blocking(answer))
        except BaseException as exc:
            self._record_undecided(row, exc)
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
    def _pending(confirmation: _Confirmation, answer: Any) -> PendingAction:
        handle = PendingAction(confirmation.request)

        def on_decision(decision_future: Any) -> None:
            try:
                decision = _as_decision(decision_future.result())
                handle.status = "running"
                result = confirmation.decide(decision)
            except ActionRejectedError as exc:
                handle._finish("rejected", error=exc)
            except BaseException as exc:
                Gate._record_undecided(confirmation.row, exc)
                handle._finish("failed", error=exc)
            else:
                handle._finish("done", result=result)

        if isinstance(answer, concurrent.futures.Future | asyncio.Future):
            answer.add_done_callback(on_decision)
        elif inspect.isawaitable(answer):
            asyncio.ensure_future(answer).add_done_callback(on_decision)
        else:
            _as_decision(answer)  # raises the same clear error as the blocking path
        return handle

    # -- awaitable calls ----------------------------------------------------------------
    async def call_async(
        self, function: str, arguments: dict[str, Any], *, preview: Preview, run: Runner, summarize: Summarize
    ) -> Any:
        policy, row = self._admit(function, arguments)
        if policy is Policy.ENABLED:
            return await asyncio.to_thread(self._run, run, arguments, row)
        if awaiting_a_click_would_hang(self._approver_of()):
            row.update(decision="not asked", outcome="refused", error="ActionRejectedError")
            raise ActionRejectedError(
                function,
                "this ipykernel cannot deliver the Approve click to a cell that is awaiting it (ipykernel 7.4 "
                "or newer can). Call the synchronous form instead (it shows the widget and returns a pending "
                "handle), or upgrade ipykernel.",
            )
        # The preview reads the mailbox: off the event loop, so the kernel stays responsive.
        confirmation = await asyncio.to_thread(self._confirmation, function, arguments, preview, row, run, summarize)
        try:
            answer: Any = confirmation.approver(confirmation.request)
            if isinstance(answer, concurrent.futures.Future):
                answer = await asyncio.wrap_future(answer)
            elif inspect.isawaitable(answer):
                answer = await answer
            approved = confirmation.approved_arguments(_as_decision(answer))
        except BaseException as exc:
            self._record_undecided(row, exc)
            raise
        return await asyncio.to_thread(confirmation.execute, approved)


@dataclass
class _Confirmation:
    """One call under "Enabled with confirmation": its request, reviewer and audit row."""

    gate: Gate
    function: str
    arguments: dict[str, Any]
    row: dict[str, Any]
    run: Runner
    summarize: Summarize
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

    def approved_arguments(self, decision: Decision) -> dict[str, Any]:
        try:
            return self.gate._apply(self.function, self.arguments, decision, self.row)
        except ActionRejectedError as exc:
            self.report("rejected", exc.reason or "rejected")
            raise
        except EmailConnError as exc:
            self.report("failed", str(exc))
            raise

    def execute(self, arguments: dict[str, Any]) -> Any:
        try:
            result = self.gate._run(self.run, arguments, self.row)
        except BaseException as exc:
            self.report("failed", f"{type(exc).__name__}: {exc}")
            raise
        self.report("done", self.summarize(result))
        return result

    def decide(self, decision: Decision) -> Any:
        return self.execute(self.approved_arguments(decision))


__all__ = ["AuditLog", "Gate", "PendingAction", "console_approver", "default_approver"]
