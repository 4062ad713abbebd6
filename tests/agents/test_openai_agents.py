"""The OpenAI Agents SDK end to end on Dovecot + SMTP, with the SDK's own ``ScriptedModel``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from agent_support.helpers import Reviewer
from agent_support.scenario import (
    Script,
    check_approved,
    check_rejected,
    check_self_approval_refused,
    check_tools_listed,
    seed,
)
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

import nb_email_conn as nec

agents = pytest.importorskip("agents")
testing = pytest.importorskip("agents.testing")

pytestmark = pytest.mark.dovecot


def scripted_model(script: Script) -> Any:
    calls = 0

    def respond(call: Any) -> Any:
        nonlocal calls
        outputs = [item for item in call.input if isinstance(item, dict) and item.get("type") == "function_call_output"]
        last = outputs[-1]["output"] if outputs else None
        step = script.next(last, offered=[tool.name for tool in call.tools])
        calls += 1
        if isinstance(step, str):
            return [testing.assistant_message(step)]
        name, arguments = step
        return [testing.function_call(name, arguments, call_id=f"call_{calls}")]

    return testing.ScriptedModel([testing.ModelStep(responder=respond) for _ in range(4)])


async def run_agent(conn: nec.EmailConnection, script: Script) -> Any:
    conn.policies["forward_email"] = "disabled"
    tools = conn.tools().openai_agents()
    assert "forward_email" not in [tool.name for tool in tools]
    assert all(not tool.needs_approval for tool in tools)  # the gate decides, never the SDK as well
    agent = agents.Agent(
        name="triage", instructions="Triage the unread mail.", model=scripted_model(script), tools=tools
    )
    return await agents.Runner.run(
        agent, "Reply to the unread mail.", run_config=agents.RunConfig(tracing_disabled=True)
    )


async def test_search_read_reply_approved_once_delivers_once(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    script = Script()
    result = await run_agent(conn, script)
    check_tools_listed(script)
    check_approved(script, reviewer, smtp_starttls)
    assert result.final_output == script.final
    assert list(conn.audit_log()["function"]) == ["search_emails", "get_email", "reply_email"]


async def test_a_rejection_reaches_the_model_and_nothing_is_sent(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    reviewer.decisions.append(nec.Decision.reject("ask Bob about Thursday instead"))
    script = Script()
    await run_agent(conn, script)
    check_rejected(script, reviewer, smtp_starttls, "ask Bob about Thursday instead")


async def test_an_approved_argument_changes_nothing(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    script = Script(approved=True)
    await run_agent(conn, script)
    check_self_approval_refused(script, reviewer, smtp_starttls)


async def test_tools_disabled_during_a_run_are_withdrawn(conn: nec.EmailConnection) -> None:
    tools = {tool.name: tool for tool in conn.tools().openai_agents()}
    conn.policies["send_email"] = "disabled"
    agent = agents.Agent(name="a", tools=list(tools.values()))
    context = agents.RunContextWrapper(context=None)
    enabled = [tool.name for tool in await agent.get_all_tools(context)]
    assert "send_email" not in enabled and "search_emails" in enabled
    refused = json.loads(await tools["send_email"].on_invoke_tool(None, '{"to": "a@example.org"}'))
    assert refused["error"]["type"] == "FunctionDisabledError"
