"""Guardrails: checked in the gate before any reviewer is asked and before any traffic.

Unit tests drive the Gate with a recording runner; the rest run on Dovecot + aiosmtpd and
prove that a violation opens no SMTP connection and that a dry run changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from agent_support.helpers import Reviewer, smtp_connections
from integration.helpers import message, seed_inbox, snapshot
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready
from nb_email_conn.approval import Gate
from nb_email_conn.functions import REGISTRY
from nb_email_conn.functions.policies import Policies
from nb_email_conn.guardrails import SENDING_FUNCTIONS, SendWindow
from nb_email_conn.store import load_guardrails


# -- the settings ----------------------------------------------------------------------------
def test_patterns_are_checked_and_matched_case_insensitively() -> None:
    rails = nec.Guardrails(allowed_recipients=["*@Example.org", "Bob@Partner.com"], max_recipients=2)
    assert rails.allowed_recipients == ("*@example.org", "bob@partner.com")
    assert rails.allows("ANN@example.ORG") and rails.allows("bob@partner.com")
    assert not rails.allows("eve@partner.com") and not rails.allows("ann@sub.example.org")
    assert not rails.allows("ann@example.org.evil.test")
    for bad in (["*"], ["*@*.org"], ["bob"], ["Bob <bob@partner.com>"], [3]):
        with pytest.raises(nec.InvalidInputError):
            nec.Guardrails(allowed_recipients=bad)  # type: ignore[arg-type]
    for bad_limit in (0, -1, True, 2.5, "3"):
        with pytest.raises(nec.InvalidInputError):
            nec.Guardrails(max_recipients=bad_limit)  # type: ignore[arg-type]
    with pytest.raises(nec.InvalidInputError):
        nec.Guardrails(dry_run="yes")  # type: ignore[arg-type]
    assert nec.Guardrails.from_dict(rails.to_dict()) == rails
    with pytest.raises(nec.InvalidInputError, match="unknown guardrail"):
        nec.Guardrails.from_dict({"allow": ["*@example.org"]})


def test_guardrail_error_is_a_permission_error_of_the_package() -> None:
    assert issubclass(nec.GuardrailError, nec.EmailConnError)
    assert issubclass(nec.GuardrailError, PermissionError)


def test_the_sending_functions_are_the_registry_sends() -> None:
    assert {"send_email", "reply_email", "forward_email"} == SENDING_FUNCTIONS
    assert set(REGISTRY) >= SENDING_FUNCTIONS
    assert all(REGISTRY[name].writes and not REGISTRY[name].idempotent for name in SENDING_FUNCTIONS)


# -- the gate, offline ------------------------------------------------------------------------
class Runner:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, context: Any, arguments: dict[str, Any]) -> str:
        self.calls.append(arguments)
        return "ran"


def recipients_preview(context: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    to = arguments.get("to", [])
    return {"summary": "send", "recipients": [to] if isinstance(to, str) else list(to)}


def gate_with(rails: nec.Guardrails, approver: Any, **policies: str) -> tuple[Gate, Policies]:
    table = Policies(policies)
    return Gate(lambda name: table[name], lambda: approver, "test", lambda: rails), table


def recording(asked: list[nec.ActionRequest]) -> Callable[[nec.ActionRequest], bool]:
    """An approver that records each request it is asked and approves it."""

    def approve(request: nec.ActionRequest) -> bool:
        asked.append(request)
        return True

    return approve


def run(gate: Gate, runner: Runner, function: str = "send_email", **arguments: Any) -> Any:
    spec = dataclasses.replace(REGISTRY[function], preview=recipients_preview, run=runner, summarize=str)
    return gate.call(spec, None, arguments)  # type: ignore[arg-type]


def test_violations_are_refused_before_the_reviewer_is_asked() -> None:
    asked: list[nec.ActionRequest] = []
    rails = nec.Guardrails(allowed_recipients=["*@example.org"], max_recipients=2)
    gate, _ = gate_with(rails, recording(asked))
    runner = Runner()
    with pytest.raises(nec.GuardrailError, match="allowed_recipients") as info:
        run(gate, runner, to=["ann@example.org", "eve@evil.test"])
    assert info.value.rule == "allowed_recipients" and info.value.recipients == ["eve@evil.test"]
    with pytest.raises(nec.GuardrailError, match="at most 2"):
        run(gate, runner, to=["a@example.org", "b@example.org", "c@example.org"])
    assert asked == [] and runner.calls == []
    rows = gate.audit.frame()
    assert list(rows["outcome"]) == ["refused", "refused"]
    assert list(rows["decision"]) == ["not asked", "not asked"]
    assert rows["error"].str.startswith("GuardrailError").all()
    assert run(gate, runner, to=["a@example.org", "B@EXAMPLE.ORG"]) == "ran" and len(asked) == 1


def test_guardrails_hold_under_enabled_policy_too() -> None:
    gate, _ = gate_with(nec.Guardrails(allowed_recipients=["bob@partner.com"]), None, send_email="enabled")
    runner = Runner()
    with pytest.raises(nec.GuardrailError):
        run(gate, runner, to="eve@evil.test")
    assert run(gate, runner, to="bob@partner.com") == "ran"
    assert len(runner.calls) == 1


def test_a_reviewer_edit_cannot_lift_a_guardrail() -> None:
    rails = nec.Guardrails(allowed_recipients=["*@example.org"])
    gate, _ = gate_with(rails, lambda r: nec.Decision.edit(to="eve@evil.test"))
    runner = Runner()
    with pytest.raises(nec.GuardrailError):
        run(gate, runner, to="ann@example.org", subject="s", body="b")
    assert runner.calls == []
    assert gate.audit.frame().iloc[-1]["outcome"] == "refused"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sends_per_hour_slide_and_only_sends_count() -> None:
    clock = Clock()
    gate, _ = gate_with(nec.Guardrails(max_sends_per_hour=2), lambda r: True)
    gate.sends = SendWindow(clock=clock)
    runner = Runner()
    run(gate, runner, to="a@example.org")
    clock.now += 1800
    run(gate, runner, "reply_email", ref="x", body="b")
    for _ in range(3):
        run(gate, runner, "create_draft", subject="s", body="b")  # not a send
    with pytest.raises(nec.GuardrailError, match="max_sends_per_hour"):
        run(gate, runner, "forward_email", ref="x", to="a@example.org")
    clock.now += 1801  # the first send left the window
    run(gate, runner, "forward_email", ref="x", to="a@example.org")
    assert len(runner.calls) == 6


def test_a_rejected_or_invalid_send_does_not_use_up_the_hour() -> None:
    answers = [nec.Decision.reject("no"), nec.Decision.reject("no")]
    gate, _ = gate_with(nec.Guardrails(max_sends_per_hour=1), lambda r: answers.pop(0) if answers else True)
    runner = Runner()
    for _ in range(2):
        with pytest.raises(nec.ActionRejectedError):
            run(gate, runner, to="a@example.org")
    assert gate.sends.used() == 0
    run(gate, runner, to="a@example.org")
    assert gate.sends.used() == 1


async def test_a_send_waiting_for_approval_holds_its_place() -> None:
    import concurrent.futures

    pending: concurrent.futures.Future[nec.Decision] = concurrent.futures.Future()
    gate, _ = gate_with(nec.Guardrails(max_sends_per_hour=1), lambda r: pending)
    runner = Runner()
    handle = run(gate, runner, to="a@example.org")  # a Jupyter cell: pending handle
    assert isinstance(handle, nec.PendingAction)
    with pytest.raises(nec.GuardrailError):
        run(gate, runner, to="a@example.org")
    pending.set_result(nec.Decision.reject("later"))
    assert handle.status == "rejected" and gate.sends.used() == 0


def test_dry_run_asks_nobody_and_runs_nothing_but_reads_run() -> None:
    asked: list[nec.ActionRequest] = []
    gate, _ = gate_with(nec.Guardrails(dry_run=True), recording(asked))
    runner = Runner()
    would = run(gate, runner, to="a@example.org", subject="s", body="b")
    assert would == {"dry_run": True, "would": {"summary": "send", "recipients": ["a@example.org"]}}
    spec = dataclasses.replace(REGISTRY["search_emails"], run=runner)
    assert gate.call(spec, None, {"query": "x"}) == "ran"  # type: ignore[arg-type]
    assert asked == [] and runner.calls == [{"query": "x"}]
    row = gate.audit.frame().iloc[0]
    assert (row["decision"], row["outcome"]) == ("not asked (dry run)", "dry run")


def test_disabled_still_wins_over_dry_run() -> None:
    gate, _ = gate_with(nec.Guardrails(dry_run=True), lambda r: True, send_email="disabled")
    with pytest.raises(nec.FunctionDisabledError):
        run(gate, Runner(), to="a@example.org")


# -- on the real servers ----------------------------------------------------------------------
@pytest.mark.dovecot
def test_violations_open_no_smtp_connection(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    fresh_mailbox.append("alice@example.org", "INBOX", message("Plan", sender="Eve <eve@evil.test>"))
    ref = ready(conn.search_emails()).iloc[0]["ref"]
    conn.guardrails = nec.Guardrails(allowed_recipients=["*@example.org"], max_recipients=2)
    connections = smtp_connections(smtp_starttls)
    with pytest.raises(nec.GuardrailError):
        conn.send_email("eve@evil.test", "s", "b")
    with pytest.raises(nec.GuardrailError):
        conn.send_email("bob@example.org", "s", "b", bcc="eve@evil.test")  # Bcc counts
    with pytest.raises(nec.GuardrailError, match="at most 2"):
        conn.send_email(["a@example.org", "b@example.org"], "s", "b", cc="c@example.org")
    with pytest.raises(nec.GuardrailError, match=r"eve@evil\.test"):
        conn.reply_email(ref, "thanks")  # the reply would go to the original's sender
    with pytest.raises(nec.GuardrailError):
        conn.forward_email(ref, "eve@evil.test")
    assert reviewer.asked == []
    assert smtp_connections(smtp_starttls) == connections and smtp_starttls.messages == []
    conn.guardrails = nec.Guardrails(max_sends_per_hour=1)
    conn.send_email("bob@example.org", "one", "b")
    with pytest.raises(nec.GuardrailError, match="max_sends_per_hour"):
        conn.send_email("bob@example.org", "two", "b")
    assert len(smtp_starttls.messages) == 1 and smtp_connections(smtp_starttls) == connections + 1
    log = conn.audit_log()
    assert (log["error"].fillna("").str.startswith("GuardrailError")).sum() == 6


@pytest.mark.dovecot
def test_dry_runs_change_nothing_on_the_server(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed_inbox(fresh_mailbox, 3)
    refs = list(ready(conn.search_emails())["ref"])
    conn.guardrails = nec.Guardrails(dry_run=True)
    before = snapshot(fresh_mailbox)
    connections = smtp_connections(smtp_starttls)
    sent = conn.send_email("bob@example.org", "Q3", "numbers")
    assert sent["dry_run"] is True and sent["would"]["recipients"] == ["bob@example.org"]  # type: ignore[index]
    reply = conn.reply_email(refs[0], "thanks")
    assert reply["would"]["recipients"] == ["bob@example.org"]  # type: ignore[index]
    conn.forward_email(refs[1], "carol@example.net", as_attachment=True)
    conn.create_draft("bob@example.org", "draft", "text")
    deleted = conn.delete_emails(refs, permanent=True)
    assert deleted["would"]["count"] == 3  # type: ignore[index]
    conn.update_flags(refs, add="\\Flagged")
    conn.move_emails(refs[:1], "Archive")
    conn.copy_emails(refs[:1], "Archive")
    tools = conn.tools()
    result = tools.dispatch("send_email", {"to": "bob@example.org", "subject": "s", "body": "b"})
    assert result["ok"] and result["result"]["dry_run"] is True
    json.dumps(result, allow_nan=False)
    assert snapshot(fresh_mailbox) == before
    assert reviewer.asked == [] and smtp_connections(smtp_starttls) == connections
    assert len(ready(conn.search_emails())) == 3  # reads still run


def test_guardrails_are_saved_with_the_connection() -> None:
    cfg = nec.ConnectionConfig(name="work", username="alice@example.org", imap_host="imap.example.org")
    rails = nec.Guardrails(allowed_recipients=["*@example.org"], max_sends_per_hour=5)
    nec.save_connection(cfg, password="pw", guardrails=rails)
    assert load_guardrails("work") == rails
    nec.save_connection(cfg)  # guardrails=None keeps what was saved
    conn = nec.connect("work")
    assert conn.guardrails == rails
    nec.save_connection(cfg, guardrails=nec.Guardrails())
    assert nec.connect("work").guardrails == nec.Guardrails()
    conn.guardrails = {"dry_run": True}
    assert conn.guardrails.dry_run
    conn.guardrails = None
    assert conn.guardrails == nec.Guardrails()
