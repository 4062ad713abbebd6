"""The shapes the live inbox (``inbox.py``) syncs with its front end (``js/src/inbox.ts``), typed once.

Traits: ``folder``, ``limit``, ``messages`` (newest first) and ``status``; one request,
``stop`` (no params), answered with the state after it. No secret is ever among them: a
message shows who sent it, its subject, date and whether it is unread; the status is the
watch's sentence for people.
"""

from __future__ import annotations

from typing import Literal, TypedDict

InboxState = Literal["starting", "watching", "reconnecting", "stopped", "error"]
"""The watch's state (``Watch.status``), shown in the widget's status line."""


class InboxStatus(TypedDict):
    state: InboxState
    message: str


InboxMessage = TypedDict(
    "InboxMessage",
    {
        "ref": str,
        "from": str,  # the display name, else the address
        "address": str,
        "subject": str,
        "date": str | None,  # ISO 8601, UTC: the Date header, else when the server received it
        "unread": bool,
        "arrived": bool,  # handed over by the watch (new since the widget began), not one of the first rows
    },
)
"""One row of the list."""


class InboxModel(TypedDict):
    """The live inbox's synced traits, together."""

    folder: str
    limit: int
    messages: list[InboxMessage]
    status: InboxStatus


class StopParams(TypedDict):
    """``stop``: no parameters."""


class StopResult(TypedDict):
    state: InboxState
