"""Who decides a call under confirmation when ``conn.approver`` is not set."""

from __future__ import annotations

import sys

from .frontend import front_end_approver, hosted_by_notebook
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
    """The front end's approver (the inline widget in a notebook), else a console prompt on a terminal.

    Never the console inside a notebook server: its terminal (``marimo run`` started from one) is
    not where the reviewer looks, and the page would wait for an answer typed there.
    """
    approver = front_end_approver()
    if approver is not None:
        return approver
    if hosted_by_notebook():
        return None
    if sys.stdin is not None and sys.stdin.isatty():
        return console_approver
    return None
