"""Helpers for driving widgets' custom-message handlers directly, without a front end."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest


class Outbox:
    """Collects what a widget sends to the front end; waits for replies sent from threads."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._changed = threading.Condition()

    def __call__(self, content: dict[str, Any], buffers: Any = None) -> None:
        with self._changed:
            self.messages.append(content)
            self._changed.notify_all()

    def reply(self, request_id: str, timeout: float = 10.0) -> dict[str, Any]:
        with self._changed:
            found = self._changed.wait_for(lambda: self._find(request_id) is not None, timeout)
            assert found, f"no reply to {request_id} within {timeout} s"
            reply = self._find(request_id)
            assert reply is not None
            return reply

    def _find(self, request_id: str) -> dict[str, Any] | None:
        for message in self.messages:
            if message.get("kind") == "reply" and message.get("id") == request_id:
                return message
        return None


def attach_outbox(widget: Any) -> Outbox:
    outbox = Outbox()
    widget.send = outbox
    return outbox


def request(widget: Any, method: str, params: dict[str, Any] | None = None, *, request_id: str = "r1") -> None:
    widget._router.handle({"kind": "request", "id": request_id, "method": method, "params": params or {}})


def widget_state_text(widget: Any) -> str:
    """Everything the widget syncs (what JupyterLab may save into the notebook), as JSON text."""
    return json.dumps(widget.get_state(), default=str)


@pytest.fixture
def outbox_for() -> Any:
    return attach_outbox
