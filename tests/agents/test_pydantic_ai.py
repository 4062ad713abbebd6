"""pydantic-ai end to end on Dovecot + SMTP, with its own offline ``FunctionModel``."""

from __future__ import annotations

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

pydantic_ai = pytest.importorskip("pydantic_ai")
messages = pytest.importorskip("pydantic_ai.messages")
function_models = pytest.importorskip("pydantic_ai.models.function")

pytestmark = pytest.mark.dovecot


def function_model(script: Script) -> Any:
    calls = 0

    def respond(history: list[Any], info: Any) -> Any:
        nonlocal calls
        returns = [
            part for request in history for part in getattr(request, "parts", []) if part.part_kind == "tool-return"
        ]
        last = returns[-1].content if returns else None
        step = script.next(last, offered=[tool.name for tool in info.function_tools])
        calls += 1
        if isinstance(step, str):
            return messages.ModelResponse(parts=[messages.TextPart(step)])
        name, arguments = step
        return messages.ModelResponse(parts=[messages.ToolCallPart(name, arguments, tool_call_id=f"call_{calls}")])

    return function_models.FunctionModel(respond)


async def run_agent(conn: nec.EmailConnection, script: Script) -> Any:
    conn.policies["forward_email"] = "disabled"
    agent = pydantic_ai.Agent(function_model(script), toolsets=[conn.tools().pydantic_ai()])
    return await agent.run("Reply to the unread mail.")


async def test_search_read_reply_approved_once_delivers_once(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    script = Script()
    result = await run_agent(conn, script)
    check_tools_listed(script)
    check_approved(script, reviewer, smtp_starttls)
    assert result.output == script.final


async def test_a_rejection_reaches_the_model_and_nothing_is_sent(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    reviewer.decisions.append(nec.Decision.reject("not before the budget review"))
    script = Script()
    await run_agent(conn, script)
    check_rejected(script, reviewer, smtp_starttls, "not before the budget review")


async def test_an_approved_argument_changes_nothing(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    script = Script(approved=True)
    await run_agent(conn, script)
    check_self_approval_refused(script, reviewer, smtp_starttls)


async def test_a_function_disabled_between_runs_is_not_offered(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer
) -> None:
    seed(fresh_mailbox)
    toolset = conn.tools().pydantic_ai()
    offered: list[list[str]] = []

    def respond(history: list[Any], info: Any) -> Any:
        offered.append([tool.name for tool in info.function_tools])
        return messages.ModelResponse(parts=[messages.TextPart("ok")])

    agent = pydantic_ai.Agent(function_models.FunctionModel(respond), toolsets=[toolset])
    await agent.run("hi")
    conn.policies["delete_emails"] = "disabled"
    await agent.run("hi")
    assert "delete_emails" in offered[0] and "delete_emails" not in offered[1]
