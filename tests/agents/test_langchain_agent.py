"""LangChain 1.x ``create_agent`` (a LangGraph graph) end to end on Dovecot + SMTP, with a fake chat model."""

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

lc_agents = pytest.importorskip("langchain.agents")
fake_models = pytest.importorskip("langchain_core.language_models.fake_chat_models")
lc_messages = pytest.importorskip("langchain_core.messages")
lc_outputs = pytest.importorskip("langchain_core.outputs")

pytestmark = pytest.mark.dovecot


class ScriptedChatModel(fake_models.GenericFakeChatModel):  # type: ignore[misc,name-defined]
    """LangChain's generic fake chat model, answering from a :class:`Script` instead of a fixed list."""

    script: Any = None
    offered: tuple[str, ...] = ()

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.model_copy(update={"offered": tuple(tool.name for tool in tools)})

    def _generate(self, messages: list[Any], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        results = [m for m in messages if isinstance(m, lc_messages.ToolMessage)]
        step = self.script.next(results[-1].content if results else None, offered=list(self.offered))
        if isinstance(step, str):
            message = lc_messages.AIMessage(content=step)
        else:
            name, arguments = step
            message = lc_messages.AIMessage(
                content="", tool_calls=[{"name": name, "args": arguments, "id": f"call_{len(messages)}"}]
            )
        return lc_outputs.ChatResult(generations=[lc_outputs.ChatGeneration(message=message)])


def build_agent(conn: nec.EmailConnection, script: Script) -> Any:
    conn.policies["forward_email"] = "disabled"
    model = ScriptedChatModel(messages=iter(()), script=script)
    return lc_agents.create_agent(model, tools=conn.tools().langchain(), system_prompt="Triage the unread mail.")


async def test_search_read_reply_approved_once_delivers_once(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    script = Script()
    state = await build_agent(conn, script).ainvoke({"messages": [("user", "Reply to the unread mail.")]})
    check_tools_listed(script)
    check_approved(script, reviewer, smtp_starttls)
    assert state["messages"][-1].content == script.final


def test_the_synchronous_graph_runs_tools_on_a_worker_thread_and_blocks_for_the_decision(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    script = Script()
    build_agent(conn, script).invoke({"messages": [("user", "Reply to the unread mail.")]})
    check_approved(script, reviewer, smtp_starttls)


async def test_a_rejection_reaches_the_model_and_nothing_is_sent(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    reviewer.decisions.append(nec.Decision.reject("wrong tone"))
    script = Script()
    await build_agent(conn, script).ainvoke({"messages": [("user", "Reply to the unread mail.")]})
    check_rejected(script, reviewer, smtp_starttls, "wrong tone")


async def test_an_approved_argument_changes_nothing(
    conn: nec.EmailConnection, fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer, reviewer: Reviewer
) -> None:
    seed(fresh_mailbox)
    script = Script(approved=True)
    await build_agent(conn, script).ainvoke({"messages": [("user", "Reply to the unread mail.")]})
    check_self_approval_refused(script, reviewer, smtp_starttls)
