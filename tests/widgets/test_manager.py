from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from nb_email_conn.config import ConnectionConfig
from nb_email_conn.errors import SecretStoreError
from nb_email_conn.functions.policies import Policies
from nb_email_conn.policy import Policy
from nb_email_conn.widgets.manager import ConnectionManager

from .conftest import attach_outbox, request, widget_state_text

PASSWORD = "correct horse battery staple 42"
FORM = {
    "name": "work",
    "username": "alice@example.org",
    "imap_host": "127.0.0.1",
    "imap_port": 10993,
    "imap_encryption": "SslOnConnect",
    "smtp_host": "127.0.0.1",
    "smtp_port": 10587,
    "smtp_encryption": "StartTls",
    "from_address": "",
    "ca_file": "",
    "verify_tls": True,
    "timeout": 5,
}


class StandInConnection:
    def __init__(self, config: ConnectionConfig, policies: Mapping[str, str]) -> None:
        self.config = config
        self.policies = Policies(policies)
        self.closed = False

    def close(self) -> None:
        self.closed = True


class StandInBackend:
    """Records what the manager asks of the package; the report is set per test."""

    def __init__(self, *, report_ok: bool = True, keyring_usable: bool = True) -> None:
        self.report_ok = report_ok
        self.keyring_usable = keyring_usable
        self.tested: list[tuple[ConnectionConfig, str | None]] = []
        self.saved: dict[str, tuple[ConnectionConfig, str | None, dict[str, str], bool]] = {}
        self.opened: list[StandInConnection] = []
        self.fail_save = False
        self.test_threads: list[threading.Thread] = []

    def test_connection(self, config: ConnectionConfig, password: str | None) -> dict[str, Any]:
        self.tested.append((config, password))
        self.test_threads.append(threading.current_thread())
        steps = [
            {"protocol": "imap", "name": "connect", "ok": True, "detail": "reached 127.0.0.1:10993"},
            {"protocol": "imap", "name": "tls", "ok": True, "detail": "TLS 1.3 (TLS_AES_256_GCM_SHA384)"},
            {
                "protocol": "imap",
                "name": "login",
                "ok": self.report_ok,
                "detail": f"logged in as {config.username}" if self.report_ok else "wrong username or password",
            },
        ]
        return {"ok": self.report_ok, "insecure": False, "steps": steps}

    def open_connection(self, config: ConnectionConfig, password: str | None, policies: Mapping[str, str]) -> Any:
        connection = StandInConnection(config, policies)
        self.opened.append(connection)
        return connection

    def save(
        self, config: ConnectionConfig, password: str | None, policies: Mapping[str, str], session_only: bool
    ) -> None:
        if self.fail_save:
            raise SecretStoreError("could not store the password in the keyring.")
        previous = self.saved.get(config.name)
        kept = password if password is not None else (previous[1] if previous else None)
        self.saved[config.name] = (config, kept, dict(policies), session_only)

    def load(self, name: str) -> tuple[ConnectionConfig, dict[str, str]]:
        config, _password, policies, _session = self.saved[name]
        return config, policies

    def list_saved(self) -> list[ConnectionConfig]:
        return [entry[0] for entry in self.saved.values()]

    def forget(self, name: str) -> None:
        self.saved.pop(name, None)

    def keyring_status(self) -> tuple[bool, str]:
        return self.keyring_usable, "test keyring" if self.keyring_usable else "no keyring backend"


def make(backend: StandInBackend | None = None, **kwargs: Any) -> tuple[ConnectionManager, StandInBackend, Any]:
    backend = backend or StandInBackend()
    manager = ConnectionManager(backend=backend, **kwargs)
    return manager, backend, attach_outbox(manager)


def test_unknown_keyword_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="imap_hots"):
        ConnectionManager(imap_hots="imap.example.org", backend=StandInBackend())


def test_keywords_and_a_config_fill_the_form_and_start_from_the_default_policies() -> None:
    config = ConnectionConfig(name="work", username="alice@example.org", imap_host="imap.example.org")
    manager, _, _ = make(config=config, smtp_host="smtp.example.org")
    assert manager.values["imap_host"] == "imap.example.org"
    assert manager.values["imap_port"] == 993
    assert manager.values["smtp_host"] == "smtp.example.org"
    assert manager.policies["send_email"] == "confirm"
    assert manager.policies["search_emails"] == "enabled"
    assert [f["name"] for f in manager.functions][:3] == ["list_folders", "search_emails", "get_email"]


def test_the_password_goes_in_by_message_and_never_becomes_widget_state() -> None:
    manager, backend, outbox = make()
    request(manager, "test_connection", {"values": FORM, "password": PASSWORD})
    reply = outbox.reply("r1")
    assert reply == {"kind": "reply", "id": "r1", "ok": True, "result": {"ok": True}}
    assert backend.tested[0][1] == PASSWORD
    assert backend.test_threads[0] is not threading.main_thread()  # the kernel stays free
    assert PASSWORD not in widget_state_text(manager)
    assert PASSWORD not in repr(manager)
    assert PASSWORD not in repr(vars(manager))
    assert all(PASSWORD not in str(message) for message in outbox.messages)
    assert manager.password_set is True


def test_a_passing_test_shows_the_steps_and_gives_a_ready_connection() -> None:
    manager, backend, outbox = make()
    request(manager, "test_connection", {"values": FORM, "password": PASSWORD})
    outbox.reply("r1")
    report: Any = manager.report
    assert report["ok"] is True
    assert report["steps"][1]["detail"] == "TLS 1.3 (TLS_AES_256_GCM_SHA384)"
    assert manager.status["state"] == "ok"
    assert manager.connection is backend.opened[-1]
    assert manager.connection.config.imap_port == 10993
    assert manager.connection_name == "work"


def test_a_failing_test_says_where_and_gives_no_connection() -> None:
    manager, backend, outbox = make(StandInBackend(report_ok=False))
    request(manager, "test_connection", {"values": FORM, "password": "wrong"})
    assert outbox.reply("r1")["result"] == {"ok": False}
    assert manager.status == {"state": "error", "message": "Connection test failed at IMAP login."}
    assert backend.opened == []
    with pytest.raises(Exception, match="click Test connection or Save"):
        _ = ConnectionManager(backend=StandInBackend()).connection


def test_a_bad_field_is_refused_before_anything_is_contacted() -> None:
    manager, backend, outbox = make()
    request(manager, "test_connection", {"values": {**FORM, "imap_port": 70000}, "password": PASSWORD})
    error = outbox.reply("r1")["error"]
    assert error["type"] == "InvalidInputError"
    assert error["field"] == "imap_port"
    assert backend.tested == []


def test_testing_without_a_password_asks_for_it() -> None:
    manager, backend, outbox = make()
    request(manager, "test_connection", {"values": FORM})
    assert outbox.reply("r1")["error"]["field"] == "password"
    assert backend.tested == []


def test_save_stores_settings_policies_and_password_and_lists_the_connection() -> None:
    manager, backend, outbox = make()
    request(manager, "set_policy", {"function": "send_email", "policy": "disabled"}, request_id="p")
    request(manager, "save", {"values": FORM, "password": PASSWORD, "session_only": False}, request_id="s")
    assert outbox.reply("s")["ok"] is True
    _config, password, policies, session_only = backend.saved["work"]
    assert (password, session_only, policies["send_email"]) == (PASSWORD, False, "disabled")
    assert manager.saved == [{"name": "work", "username": "alice@example.org", "imap_host": "127.0.0.1"}]
    assert "keyring" in manager.status["message"]
    assert PASSWORD not in widget_state_text(manager)


def test_without_a_keyring_save_keeps_the_password_for_the_session_and_says_so() -> None:
    manager, backend, outbox = make(StandInBackend(keyring_usable=False))
    assert manager.keyring == {"usable": False, "description": "no keyring backend"}
    request(manager, "save", {"values": FORM, "password": PASSWORD, "session_only": False})
    assert outbox.reply("r1")["ok"] is True
    assert backend.saved["work"][3] is True
    assert manager.session_only is True
    assert "session only" in manager.status["message"]


def test_a_keyring_failure_is_reported_with_the_way_out() -> None:
    backend = StandInBackend()
    backend.fail_save = True
    manager, _, outbox = make(backend)
    request(manager, "save", {"values": FORM, "password": PASSWORD})
    reply = outbox.reply("r1")
    assert reply["error"]["type"] == "SecretStoreError"
    assert "session only" in manager.status["message"]


def test_policy_changes_apply_to_the_live_connection_at_once_both_ways() -> None:
    manager, _, outbox = make()
    request(manager, "test_connection", {"values": FORM, "password": PASSWORD})
    outbox.reply("r1")
    request(manager, "set_policy", {"function": "delete_emails", "policy": "disabled"}, request_id="p")
    assert outbox.reply("p")["ok"] is True
    assert manager.connection.policies["delete_emails"] is Policy.DISABLED
    manager.connection.policies["send_email"] = "enabled"  # changed in Python: the form follows
    assert manager.policies["send_email"] == "enabled"
    request(manager, "set_policy", {"function": "format_disk", "policy": "enabled"}, request_id="bad")
    assert outbox.reply("bad")["error"]["field"] == "function"


def test_policy_changes_of_a_saved_connection_are_saved_without_touching_the_password() -> None:
    manager, backend, outbox = make()
    request(manager, "save", {"values": FORM, "password": PASSWORD}, request_id="s")
    outbox.reply("s")
    request(manager, "set_policy", {"function": "copy_emails", "policy": "enabled"}, request_id="p")
    outbox.reply("p")
    assert backend.saved["work"][2]["copy_emails"] == "enabled"
    assert backend.saved["work"][1] == PASSWORD


def test_load_and_forget_a_saved_connection() -> None:
    manager, backend, outbox = make()
    request(manager, "save", {"values": FORM, "password": PASSWORD}, request_id="s")
    outbox.reply("s")
    other, _, other_outbox = make(backend)
    request(other, "load", {"name": "work"}, request_id="l")
    assert other_outbox.reply("l")["ok"] is True
    assert other.values["imap_port"] == 10993
    assert other.password_set is True
    request(other, "forget", {"name": "work"}, request_id="f")
    assert other_outbox.reply("f")["ok"] is True
    assert other.saved == []
    assert "work" not in backend.saved


def test_a_cancelled_test_leaves_no_connection() -> None:
    release = threading.Event()
    backend = StandInBackend()
    original = backend.test_connection

    def slow_test(config: ConnectionConfig, password: str | None) -> dict[str, Any]:
        release.wait(5)
        return original(config, password)

    backend.test_connection = slow_test  # type: ignore[method-assign]
    manager, _, outbox = make(backend)
    request(manager, "test_connection", {"values": FORM, "password": PASSWORD})
    manager._router.handle({"kind": "cancel", "id": "r1"})
    release.set()
    assert outbox.reply("r1")["result"] == {"ok": False, "cancelled": True}
    assert backend.opened == []


def test_the_real_store_saves_session_only_and_writes_no_password(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("NB_EMAIL_CONN_HOME", str(tmp_path))
    manager = ConnectionManager()
    outbox = attach_outbox(manager)
    request(manager, "save", {"values": FORM, "password": PASSWORD, "session_only": True})
    assert outbox.reply("r1")["ok"] is True, outbox.reply("r1")
    assert [entry["name"] for entry in manager.saved] == ["work"]
    written = "".join(path.read_text() for path in tmp_path.rglob("*") if path.is_file())
    assert "10993" in written
    assert PASSWORD not in written
    request(manager, "forget", {"name": "work"}, request_id="f")
    assert outbox.reply("f")["ok"] is True
