from __future__ import annotations

import threading
from typing import Any

import pytest

from nb_email_conn.errors import InvalidInputError
from nb_email_conn.widgets.protocol import Call, RequestRouter

from .conftest import Outbox


class FakeWidget:
    def __init__(self) -> None:
        self.send = Outbox()
        self.handlers: list[Any] = []

    def on_msg(self, callback: Any) -> None:
        self.handlers.append(callback)


def make_router() -> tuple[FakeWidget, RequestRouter]:
    widget = FakeWidget()
    return widget, RequestRouter(widget)


def test_a_request_gets_its_result_back_with_the_same_id() -> None:
    widget, router = make_router()
    router.register("echo", lambda params, call: {"echo": params["text"]})
    widget.handlers[0](widget, {"kind": "request", "id": "a-1", "method": "echo", "params": {"text": "hi"}}, [])
    assert widget.send.reply("a-1") == {"kind": "reply", "id": "a-1", "ok": True, "result": {"echo": "hi"}}


def test_unknown_methods_and_bad_params_still_get_an_error_reply() -> None:
    widget, router = make_router()
    router.register("echo", lambda params, call: params)
    router.handle({"kind": "request", "id": "x", "method": "nope", "params": {}})
    router.handle({"kind": "request", "id": "y", "method": "echo", "params": [1, 2]})
    assert widget.send.reply("x")["error"]["type"] == "InvalidInputError"
    assert widget.send.reply("y")["error"]["field"] == "params"


def test_messages_without_a_usable_id_are_ignored() -> None:
    widget, router = make_router()
    router.register("echo", lambda params, call: params)
    for content in ("text", {"kind": "request", "method": "echo"}, {"kind": "request", "id": "z" * 500}):
        router.handle(content)
    assert widget.send.messages == []


def test_typed_errors_keep_their_type_message_and_field() -> None:
    widget, router = make_router()

    def fail(params: dict[str, Any], call: Call) -> None:
        raise InvalidInputError("imap_port must be from 1 to 65535; got 0.", field="imap_port")

    router.register("fail", fail)
    router.handle({"kind": "request", "id": "e", "method": "fail", "params": {}})
    error = widget.send.reply("e")["error"]
    assert error == {
        "type": "InvalidInputError",
        "message": "imap_port must be from 1 to 65535; got 0.",
        "field": "imap_port",
    }


@pytest.mark.parametrize("key", ["password", "client_secret"])
def test_an_unexpected_error_never_echoes_a_secret(key: str) -> None:
    widget, router = make_router()

    def leak(params: dict[str, Any], call: Call) -> None:
        raise RuntimeError(f"login failed for secret {params[key]}")

    router.register("leak", leak)
    router.handle({"kind": "request", "id": "p", "method": "leak", "params": {key: "hunter2-very-secret"}})
    reply = widget.send.reply("p")
    assert reply["ok"] is False
    assert reply["error"]["type"] == "InternalError"
    assert "hunter2-very-secret" not in str(reply)


def test_slow_work_runs_off_the_kernel_thread_and_can_be_cancelled() -> None:
    widget, router = make_router()
    started = threading.Event()
    seen: dict[str, Any] = {}

    def slow(params: dict[str, Any], call: Call) -> str:
        seen["thread"] = threading.current_thread()
        started.set()
        seen["cancelled"] = call.cancelled.wait(5)
        return "finished"

    router.register("slow", slow, slow=True)
    router.handle({"kind": "request", "id": "s", "method": "slow", "params": {}})
    assert started.wait(5)  # handle() returned while the work still runs
    router.handle({"kind": "cancel", "id": "s"})
    assert widget.send.reply("s")["ok"] is True
    assert seen["thread"] is not threading.main_thread()
    assert seen["cancelled"] is True
    router.close()


def test_follow_up_work_runs_after_the_reply_was_sent() -> None:
    widget, router = make_router()
    order: list[str] = []

    def decide(params: dict[str, Any], call: Call) -> str:
        call.after_reply.append(lambda: order.append(f"follow-up after {len(widget.send.messages)} message(s)"))
        return "ok"

    router.register("decide", decide)
    router.handle({"kind": "request", "id": "d", "method": "decide", "params": {}})
    assert order == ["follow-up after 1 message(s)"]
