"""Helpers for the agent tests: a scripted reviewer and the SMTP server's connection count."""

from __future__ import annotations

from servers.smtp import SmtpServer

import nb_email_conn as nec


class Reviewer:
    """A scripted human: answers from ``decisions`` in order (approve when empty), records each request."""

    def __init__(self) -> None:
        self.asked: list[nec.ActionRequest] = []
        self.decisions: list[nec.Decision] = []

    def __call__(self, request: nec.ActionRequest) -> nec.Decision:
        self.asked.append(request)
        return self.decisions.pop(0) if self.decisions else nec.Decision.approve(decided_by="test")


def smtp_connections(server: SmtpServer) -> int:
    """How many connections the SMTP server has accepted so far (the recorder counts every one)."""
    return int(server._recorder.connections)
