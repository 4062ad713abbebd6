"""The scenario every framework is driven through, with its offline test model.

The "model" is a script that reads the tool results it is given, as an LLM would: search the
unread mail, read the newest message, reply to it. Each framework's test model (OpenAI Agents'
``ScriptedModel``, pydantic-ai's ``FunctionModel``, a LangChain fake chat model) only
translates between its own message format and :meth:`Script.next`.
"""

from __future__ import annotations

import json
from typing import Any

from integration.helpers import message
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

from agent_support.helpers import Reviewer
from nb_email_conn.functions import FUNCTIONS

SUBJECT = "Lunch on Friday?"
REPLY = "Friday works, see you at noon."


def seed(server: DovecotServer) -> None:
    server.append("alice@example.org", "INBOX", message("Old news", body="nothing to do"), flags=["\\Seen"])
    server.append("alice@example.org", "INBOX", message(SUBJECT, body="Can we meet at noon?"))


class Script:
    """search_emails → get_email → reply_email, then a final answer quoting the last result."""

    def __init__(self, **reply_extra: Any) -> None:
        self.reply_extra = reply_extra
        self.outputs: list[dict[str, Any]] = []
        self.offered: list[list[str]] = []
        self.final: str | None = None

    def next(self, last_output: Any, offered: list[str] | None = None) -> tuple[str, dict[str, Any]] | str:
        """The next tool call ``(name, arguments)``, or the final text."""
        if offered is not None:
            self.offered.append(sorted(offered))
        if last_output is not None:
            self.outputs.append(json.loads(last_output) if isinstance(last_output, str) else dict(last_output))
        step = len(self.outputs)
        if step == 0:
            return "search_emails", {"query": "is:unread", "limit": 5}
        ref = self.outputs[0]["result"]["rows"][0]["ref"]
        if step == 1:
            return "get_email", {"ref": ref}
        if step == 2:
            return "reply_email", {"ref": ref, "body": REPLY, **self.reply_extra}
        self.final = "final: " + json.dumps(self.outputs[-1])
        return self.final

    @property
    def reply_result(self) -> dict[str, Any]:
        return self.outputs[2]


def check_tools_listed(script: Script, disabled: str = "forward_email") -> None:
    """Every model call was offered exactly the functions that are not Disabled."""
    assert script.offered
    for offered in script.offered:
        assert offered == sorted(set(FUNCTIONS) - {disabled})


def check_read(script: Script) -> None:
    found, read = script.outputs[0], script.outputs[1]
    assert found["ok"] and [row["subject"] for row in found["result"]["rows"]] == [SUBJECT]
    assert read["ok"] and "Can we meet at noon?" in json.dumps(read["result"])


def check_approved(script: Script, reviewer: Reviewer, smtp: SmtpServer) -> None:
    check_read(script)
    assert [request.function for request in reviewer.asked] == ["reply_email"]  # one decision
    assert script.reply_result["ok"] is True, script.reply_result
    delivered = smtp.wait_for_messages(1)
    assert len(delivered) == 1
    assert delivered[0].rcpt_tos == ["bob@example.org"]
    assert delivered[0].message["Subject"] == f"Re: {SUBJECT}"
    assert REPLY in delivered[0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert script.final is not None and '"ok": true' in script.final


def check_rejected(script: Script, reviewer: Reviewer, smtp: SmtpServer, reason: str) -> None:
    check_read(script)
    assert [request.function for request in reviewer.asked] == ["reply_email"]
    result = script.reply_result
    assert result["ok"] is False and result["error"]["type"] == "ActionRejectedError"
    assert result["error"]["reason"] == reason
    assert script.final is not None and reason in script.final  # the model read the reason
    assert smtp.messages == []


def check_self_approval_refused(script: Script, reviewer: Reviewer, smtp: SmtpServer) -> None:
    check_read(script)
    result = script.reply_result
    assert result["ok"] is False and "approved" in result["error"]["message"]
    assert reviewer.asked == []
    assert smtp.messages == []
