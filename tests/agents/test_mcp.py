"""``nb-email-conn mcp NAME`` through the MCP SDK's own client over stdio, on Dovecot + SMTP.

Both protocol eras the SDK speaks: the initialize handshake ("legacy": the server sends
``elicitation/create`` while the call waits) and 2026-07-28 (the call answers
``input_required`` and the client retries with the user's answer). With and without an
elicitation callback on the client.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from integration.helpers import message
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

import nb_email_conn as nec
from nb_email_conn.functions import FUNCTIONS

mcp = pytest.importorskip("mcp")
types = pytest.importorskip("mcp_types")

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
MODES = ["legacy", "2026-07-28"]


class Human:
    """The MCP client's user: answers each elicitation from a queue, recording what was asked."""

    def __init__(self, *answers: tuple[str, dict[str, Any] | None]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, context: Any, params: Any) -> Any:
        self.asked.append(params.message)
        assert params.requested_schema["properties"].keys() == {"approve", "reason"}
        action, content = self.answers.pop(0)
        return types.ElicitResult(action=action, content=content)


@pytest.fixture
def server(fresh_mailbox: DovecotServer, smtp_starttls: SmtpServer) -> Any:
    """The saved connection "work" (forward_email Disabled) and how to launch its MCP server."""
    cfg = fresh_mailbox.config("alice@example.org", smtp=smtp_starttls, name="work")
    nec.save_connection(cfg, policies={"forward_email": "disabled"})
    password = fresh_mailbox.users["alice@example.org"]
    fresh_mailbox.append("alice@example.org", "INBOX", message("Lunch on Friday?", body="Can we meet at noon?"))
    env = {
        "NB_EMAIL_CONN_HOME": os.environ["NB_EMAIL_CONN_HOME"],
        "PYTHON_KEYRING_BACKEND": "env_keyring.EnvKeyring",
        "PYTHONPATH": str(HERE),
        "NB_TEST_KEYRING": json.dumps([["nb-email-conn", "work", password]]),
    }
    return mcp.StdioServerParameters(
        command=sys.executable, args=["-m", "nb_email_conn.cli", "mcp", "work"], env=env, cwd=str(HERE)
    )


def payload(result: Any) -> dict[str, Any]:
    data = result.structured_content
    assert json.loads(result.content[0].text) == data
    assert result.is_error == (not data["ok"])
    return dict(data)


async def first_ref(client: Any) -> str:
    found = payload(await client.call_tool("search_emails", {"query": "is:unread"}))
    return str(found["result"]["rows"][0]["ref"])


@pytest.mark.parametrize("mode", MODES)
async def test_tools_and_confirmation_by_elicitation(server: Any, smtp_starttls: SmtpServer, mode: str) -> None:
    human = Human(
        ("accept", {"approve": False, "reason": "not yet, ask about Thursday"}),
        ("decline", None),
        ("accept", {"approve": True, "reason": ""}),
    )
    async with mcp.Client(server, mode=mode, elicitation_callback=human) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert sorted(listed) == sorted(set(FUNCTIONS) - {"forward_email"})  # Disabled is not listed
        hints = {name: tool.annotations for name, tool in listed.items()}
        assert hints["search_emails"].read_only_hint and hints["get_email"].read_only_hint
        assert all(hints[n].destructive_hint for n in ("delete_emails", "move_emails", "update_flags"))
        assert not hints["send_email"].read_only_hint and not hints["send_email"].idempotent_hint
        assert not hints["reply_email"].idempotent_hint and not hints["send_email"].destructive_hint
        assert listed["reply_email"].input_schema["required"] == ["ref", "body"]

        ref = await first_ref(client)
        read = payload(await client.call_tool("get_email", {"ref": ref}))
        assert "Can we meet at noon?" in json.dumps(read)
        assert human.asked == []  # reads ask nobody

        rejected = payload(await client.call_tool("reply_email", {"ref": ref, "body": "Friday works."}))
        assert rejected["error"]["type"] == "ActionRejectedError"
        assert rejected["error"]["reason"] == "not yet, ask about Thursday"
        declined = payload(await client.call_tool("reply_email", {"ref": ref, "body": "Friday works."}))
        assert declined["error"]["reason"] == "declined in the MCP client"
        assert smtp_starttls.messages == []

        sneaky = payload(await client.call_tool("reply_email", {"ref": ref, "body": "x", "approved": True}))
        assert sneaky["error"]["type"] == "InvalidInputError" and len(human.asked) == 2

        sent = payload(await client.call_tool("reply_email", {"ref": ref, "body": "Friday works."}))
        assert sent["ok"], sent
    assert len(human.asked) == 3  # one question per gated call, never two
    assert "reply_email" in human.asked[0] and "Re: Lunch on Friday?" in human.asked[0]
    delivered = smtp_starttls.wait_for_messages(1)
    assert len(delivered) == 1 and delivered[0].rcpt_tos == ["bob@example.org"]


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_that_cannot_elicit_is_refused_and_nothing_runs(
    server: Any, smtp_starttls: SmtpServer, mode: str
) -> None:
    async with mcp.Client(server, mode=mode) as client:
        ref = await first_ref(client)  # reads still work
        refused = payload(await client.call_tool("reply_email", {"ref": ref, "body": "Friday works."}))
        sent = payload(await client.call_tool("send_email", {"to": "bob@example.org", "subject": "s", "body": "b"}))
    for result in (refused, sent):
        assert result["error"]["type"] == "ActionRejectedError"
        assert "approval" in result["error"]["message"] and "elicitation" in result["error"]["message"]
    assert smtp_starttls.messages == []


async def test_an_answer_on_the_input_required_flow_is_bound_to_its_call_and_used_once(
    server: Any, smtp_starttls: SmtpServer
) -> None:
    approve = {"approval": types.ElicitResult(action="accept", content={"approve": True})}
    async with mcp.Client(server, mode="2026-07-28", elicitation_callback=Human()) as client:
        ref = await first_ref(client)
        arguments = {"ref": ref, "body": "Friday works."}
        asked = await client.session.call_tool("reply_email", arguments, allow_input_required=True)
        assert isinstance(asked, types.InputRequiredResult)
        assert asked.input_requests["approval"].params.requested_schema["required"] == ["approve"]
        state = asked.request_state
        # The same answer for other arguments: the SDK's sealed state is bound to the call.
        with pytest.raises(mcp.shared.exceptions.MCPError, match="requestState"):
            await client.session.call_tool(
                "reply_email", {**arguments, "body": "other"}, input_responses=approve, request_state=state
            )
        sent = await client.session.call_tool("reply_email", arguments, input_responses=approve, request_state=state)
        assert payload(sent)["ok"]
        again = await client.session.call_tool("reply_email", arguments, input_responses=approve, request_state=state)
        assert payload(again)["error"]["type"] == "ActionRejectedError"  # the answer was used
        # An answer without its question runs nothing: the user is asked (again).
        forged = await client.session.call_tool(
            "reply_email", arguments, input_responses=approve, allow_input_required=True
        )
        assert isinstance(forged, types.InputRequiredResult)
    assert len(smtp_starttls.wait_for_messages(1)) == 1
