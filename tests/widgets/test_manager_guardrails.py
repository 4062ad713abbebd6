"""The manager's Guardrails section, kernel side: shown, checked, applied to the live connection, saved."""

from __future__ import annotations

from typing import Any

import nb_email_conn as nec
from nb_email_conn.config import ConnectionConfig
from nb_email_conn.guardrails import Guardrails
from nb_email_conn.store import load_guardrails
from nb_email_conn.widgets.manager import ConnectionManager
from nb_email_conn.widgets.manager_guardrails import guardrails_state

from .conftest import request
from .test_manager import FORM, PASSWORD, StandInBackend, make

NONE = {"allowed_recipients": None, "max_recipients": None, "max_sends_per_hour": None, "dry_run": False}
RAILS = {"allowed_recipients": ["*@example.org"], "max_recipients": 3, "max_sends_per_hour": 10, "dry_run": True}


class GuardedBackend(StandInBackend):
    def __init__(self) -> None:
        super().__init__()
        self.guardrails: dict[str, Guardrails] = {}

    def save_guardrails(self, config: ConnectionConfig, rails: Guardrails) -> None:
        self.guardrails[config.name] = rails

    def load_guardrails(self, name: str) -> Guardrails:
        return self.guardrails.get(name, Guardrails())


def test_no_limits_until_set_and_set_applies_to_the_live_connection_and_the_saved_one() -> None:
    backend = GuardedBackend()
    manager, _, outbox = make(backend)
    assert manager.guardrails == NONE
    request(manager, "save", {"values": FORM, "password": PASSWORD}, request_id="save")
    assert outbox.reply("save")["ok"]
    live: Any = manager.connection
    request(manager, "set_guardrails", {"guardrails": RAILS}, request_id="g")
    reply = outbox.reply("g")
    assert reply["ok"] and reply["result"] == RAILS
    assert manager.guardrails == RAILS
    assert live.guardrails == Guardrails.from_dict(RAILS)  # enforced in the kernel at once
    assert backend.guardrails["work"] == Guardrails.from_dict(RAILS)
    request(manager, "load", {"name": "work"}, request_id="load")
    assert outbox.reply("load")["ok"] and manager.guardrails == RAILS
    again = ConnectionManager("work", backend=backend)
    assert again.guardrails == RAILS


def test_bad_guardrails_are_refused_and_nothing_changes() -> None:
    manager, _, outbox = make()
    request(manager, "set_guardrails", {"guardrails": {**RAILS, "allowed_recipients": ["bob"]}}, request_id="bad")
    reply = outbox.reply("bad")
    assert not reply["ok"] and reply["error"]["field"] == "allowed_recipients"
    request(manager, "set_guardrails", {"guardrails": {"max_recipients": 0}}, request_id="zero")
    assert not outbox.reply("zero")["ok"]
    assert manager.guardrails == NONE


def test_with_the_kernel_backend_they_go_to_connections_toml() -> None:
    cfg = nec.ConnectionConfig(name="work", username="alice@example.org", imap_host="imap.example.org")
    nec.save_connection(cfg, password="pw")
    manager = ConnectionManager("work")
    request(manager, "set_guardrails", {"guardrails": RAILS})
    assert load_guardrails("work") == Guardrails.from_dict(RAILS)
    assert nec.connect("work").guardrails.max_sends_per_hour == 10
    assert ConnectionManager("work").guardrails == guardrails_state(Guardrails.from_dict(RAILS))
    manager.close()
