"""Who decides a call under confirmation when ``conn.approver`` is not set."""

from __future__ import annotations

import sys

from .frontend import front_end_approver
from .policy import ActionRequest, Approver, Decision


def console_approver(request: ActionRequest) -> Decision:
    """Ask on the terminal: the default outside a notebook when stdin is a terminal."""
    print(str(request), file=sys.stderr)
    answer = input("Approve? [y]es / [n]o: ").strip().lower()
    if answer in ("y", "yes"):
        return Decision.approve(decided_by="console")
    reason = input("Reason for rejecting (optional): ").strip() or None
    return Decision.reject(reason, decided_by="console")


def default_approver() -> Approver | None:
    """The front end's approver (the inline widget in a kernel), else a console prompt on a terminal."""
    approver = front_end_approver()
    if approver is not None:
        return approver
    if sys.stdin is not None and sys.stdin.isatty():
        return console_approver
    return None
