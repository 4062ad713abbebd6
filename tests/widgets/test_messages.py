"""The widget messages, Python side: the shared fixture, the TypedDicts and their TypeScript twins.

``widget_messages.json`` holds approval and manager states; ``js/tests/messages.test.ts``
renders each one as a reviewer sees it. Here each state is produced by the real widgets from
the entry's inputs (the call's arguments and preview, the clicks, the requests) and must equal
the fixture exactly, and every trait, request and reply must have its ``messages.py`` /
``messages_signin.py`` shape. Sign-in entries run against the suite's local authorization
server: its address, the user code and the expiry are written as fixed stand-ins
(``signin_fixture.py``). An entry's ``found`` are the results ``discover`` gives (discovery
itself is tested against real DNS and HTTPS servers in tests/discovery).
After an intended change, rewrite the fixture with ``UPDATE_WIDGET_FIXTURE=1`` and read the diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nb_email_conn.functions import REGISTRY
from nb_email_conn.policy import ActionRequest
from nb_email_conn.widgets import messages, messages_signin
from nb_email_conn.widgets.approval import ApprovalWidget
from nb_email_conn.widgets.manager import ConnectionManager

from .conftest import attach_outbox, request
from .shapes import check_shape, typeddicts
from .signin_fixture import SignInFixture, found_settings
from .test_manager import StandInBackend

FIXTURE = Path(__file__).with_name("widget_messages.json")
MESSAGES_TS = Path(__file__).resolve().parents[2] / "js" / "src" / "messages.ts"
UPDATE = bool(os.environ.get("UPDATE_WIDGET_FIXTURE"))

COMPOSING = {"send_email", "create_draft", "reply_email", "forward_email"}
BULK = {"delete_emails", "update_flags", "move_emails", "copy_emails"}
MANAGER_TRAITS = tuple(messages.ManagerModel.__annotations__)  # in their declared order
PARAMS: dict[str, Any] = {
    "test_connection": messages.ConnectionTestParams,
    "save": messages.SaveParams,
    "load": messages.LoadParams,
    "forget": messages.ForgetParams,
    "set_policy": messages.SetPolicyParams,
    "set_guardrails": messages.SetGuardrailsParams,
    "discover": messages_signin.DiscoverParams,
    "sign_in": messages_signin.SignInParams,
    "complete_sign_in": messages_signin.CompleteSignInParams,
    "cancel_sign_in": messages_signin.CancelSignInParams,
}
RESULTS: dict[str, Any] = {
    "test_connection": messages.ConnectionTestResult,
    "save": messages.SaveResult,
    "load": messages.LoadResult,
    "forget": messages.ForgetResult,
    "set_policy": messages.SetPolicyResult,
    "set_guardrails": messages.SetGuardrailsResult,
    "discover": messages_signin.DiscoverResult,
    "sign_in": messages_signin.SignInResult,
    "complete_sign_in": messages_signin.SignInResult,
    "cancel_sign_in": messages_signin.CancelSignInResult,
}
SECRETS = ("password", "client_secret")


def fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def entry_names(section: str) -> list[str]:
    return [entry["name"] for entry in fixture()[section]]


def entry(section: str, name: str) -> dict[str, Any]:
    return next(item for item in fixture()[section] if item["name"] == name)


def compare_or_update(section: str, name: str, produced: dict[str, Any]) -> None:
    """The produced state must be the fixture's; with UPDATE_WIDGET_FIXTURE=1 it becomes the fixture."""
    if UPDATE:
        data = fixture()
        for item in data[section]:
            if item["name"] == name:
                item.update(produced)
        FIXTURE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    expected = entry(section, name)
    for key, value in produced.items():
        assert value == expected[key], f"{section} {name!r}: {key} differs from widget_messages.json"


# -- the approval widget --------------------------------------------------------------------
def produce_approval(item: dict[str, Any]) -> dict[str, Any]:
    shown = item["model"]["request"]
    action = ActionRequest(
        function=shown["function"],
        arguments=item["arguments"],
        preview=shown["preview"],
        connection=shown["connection"],
        id=shown["id"],
    )
    widget = ApprovalWidget(action)
    outbox = attach_outbox(widget)
    replies = []
    for index, step in enumerate(item.get("steps", [])):
        if "decide" in step:
            check_shape(step["decide"], messages.DecideParams, "decide params")
            request(widget, "decide", step["decide"], request_id=f"decide-{index}")
            reply = outbox.reply(f"decide-{index}")
            check_shape(reply, messages.ReplyOk, "decide reply")
            check_shape(reply["result"], messages.DecideResult, "decide result")
            replies.append(reply)
        if "outcome" in step:
            widget.show_outcome(step["outcome"]["status"], step["outcome"]["detail"])
    model = {"request": widget.request, "state": widget.state, "decision": widget.decision, "outcome": widget.outcome}
    return {"model": json.loads(json.dumps(model)), "replies": replies}


@pytest.mark.parametrize("name", entry_names("approval"))
def test_the_approval_widget_syncs_exactly_the_fixture_state(name: str) -> None:
    item = entry("approval", name)
    produced = produce_approval(item)
    model = produced["model"]
    check_shape(model, messages.ApprovalModel, name)
    function = model["request"]["function"]
    preview_type = (
        messages.ComposePreview
        if function in COMPOSING
        else messages.BulkPreview
        if function in BULK
        else messages.SummaryPreview
    )
    check_shape(model["request"]["preview"], preview_type, f"{name} preview")
    spec = REGISTRY[function]
    assert [field["name"] for field in model["request"]["editable"]] == [a.name for a in spec.editable]
    assert [field["kind"] for field in model["request"]["editable"]] == [a.kind for a in spec.editable]
    compare_or_update("approval", name, produced)


def test_the_fixture_covers_every_edit_kind_and_every_state() -> None:
    approvals = [item["model"] for item in fixture()["approval"]]
    kinds = {field["kind"] for model in approvals for field in model["request"]["editable"]}
    assert kinds == {"text", "multiline", "addresses", "flags", "boolean"}
    states = {model["state"] for model in approvals}
    assert states >= {"pending", "edited", "rejected", "done", "failed"}
    previews = {key for model in approvals for key in model["request"]["preview"]}
    assert {"replying_to", "forwarding", "messages", "attachments", "add", "remove", "permanent"} <= previews


def test_the_real_previews_have_the_shapes_the_widget_renders() -> None:
    """The fixture's previews are written out; these come from the functions' own preview code."""
    from types import SimpleNamespace

    from nb_email_conn.functions.changing import bulk_preview
    from nb_email_conn.message.compose import build_message, preview_of

    composed = build_message(
        sender="Alice <alice@example.org>",
        to="bob@example.org",
        cc=["carol@example.org"],
        subject="Q3",
        body="Hello",
        attachments=[("q3.csv", b"a,b\n1,2\n", "text/csv")],
    )
    check_shape(json.loads(json.dumps(preview_of(composed))), messages.ComposePreview, "preview_of")

    ref = "imap://alice@imap.example.org/INBOX;UIDVALIDITY=7/;UID=1"
    row = {"ref": ref, "folder": "INBOX", "date": "Mon, 1 Apr 2024 10:00:00 +0000", "from": "x@y", "subject": "hi"}
    context: Any = SimpleNamespace(
        mailbox=SimpleNamespace(describe=lambda refs: [row for _ in refs]),
        session=SimpleNamespace(resolve_folder=lambda folder: folder),
    )
    for arguments in (
        {"refs": [ref], "permanent": False},
        {"refs": [ref], "add": ["\\Seen"], "remove": []},
        {"refs": [ref], "folder": "Archive"},
    ):
        preview = bulk_preview("change")(context, arguments)
        check_shape(json.loads(json.dumps(preview)), messages.BulkPreview, f"bulk_preview {sorted(arguments)}")


# -- the connection manager -----------------------------------------------------------------
def produce_manager(item: dict[str, Any], oauth: SignInFixture) -> dict[str, Any]:
    item = oauth.inputs(item)  # the stand-in server address -> the running server's
    manager = ConnectionManager(backend=StandInBackend(**item["backend"]), **item["form"])
    if "found" in item:
        manager._signin.discover = lambda address: [found_settings(found) for found in item["found"]]
    outbox = attach_outbox(manager)
    replies = []
    for index, call in enumerate(item["requests"]):
        check_shape(call["params"], PARAMS[call["method"]], f"{call['method']} params")
        request(manager, call["method"], oauth.params(manager, call["params"]), request_id=f"{call['method']}-{index}")
        reply = outbox.reply(f"{call['method']}-{index}")
        check_shape(reply, messages.ReplyMessage, f"{call['method']} reply")
        if reply["ok"]:
            check_shape(reply["result"], RESULTS[call["method"]], f"{call['method']} result")
        replies.append(reply)
    oauth.settle(manager)
    model = json.loads(json.dumps({trait: getattr(manager, trait) for trait in MANAGER_TRAITS}))
    manager.close()
    return oauth.outputs({"model": model, "replies": replies})


@pytest.fixture(scope="module")
def oauth() -> Iterator[SignInFixture]:
    with SignInFixture() as server:
        yield server


@pytest.mark.parametrize("name", entry_names("manager"))
def test_the_manager_syncs_exactly_the_fixture_state(name: str, oauth: SignInFixture) -> None:
    item = entry("manager", name)
    produced = produce_manager(item, oauth)
    model = produced["model"]
    check_shape(model, messages.ManagerModel, name)
    assert [f["name"] for f in model["functions"]] == list(REGISTRY)
    for call in item["requests"]:
        for key in SECRETS:
            secret = call["params"].get(key)
            if secret:
                assert secret not in json.dumps(produced)
    if not UPDATE:
        # The form's fields belong to ConnectionConfig; compare the ones the fixture names.
        expected_values = item["model"]["values"]
        model["values"] = {key: model["values"].get(key) for key in expected_values}
    compare_or_update("manager", name, produced)


# -- the TypeScript twins ----------------------------------------------------------------------
_INTERFACE = re.compile(r"^export interface (\w+)(?:<[^>]*>)?(?: extends (\w+))? \{\n(.*?)^\}", re.M | re.S)
_MEMBER = re.compile(r"^  (\w+)(\??):", re.M)
_ALIAS = re.compile(r"^export type (\w+)\b", re.M)


def typescript_interfaces() -> tuple[dict[str, tuple[set[str], set[str]]], set[str]]:
    """messages.ts's interfaces as name -> (required keys, optional keys), and its type aliases."""
    text = MESSAGES_TS.read_text(encoding="utf-8")
    raw = {m[1]: (m[2], _MEMBER.findall(m[3])) for m in _INTERFACE.finditer(text)}
    interfaces: dict[str, tuple[set[str], set[str]]] = {}

    def keys(name: str) -> tuple[set[str], set[str]]:
        if name not in interfaces:
            parent, members = raw[name]
            required, optional = keys(parent) if parent else (set(), set())
            interfaces[name] = (
                required | {key for key, mark in members if not mark},
                optional | {key for key, mark in members if mark},
            )
        return interfaces[name]

    for name in raw:
        keys(name)
    return interfaces, set(_ALIAS.findall(text))


def test_every_typeddict_has_a_typescript_twin_with_the_same_keys() -> None:
    interfaces, aliases = typescript_interfaces()
    python = {**typeddicts(messages), **typeddicts(messages_signin)}
    assert python, "no TypedDicts found in messages.py"
    for name, shape in python.items():
        if name in interfaces:
            required, optional = interfaces[name]
            assert required == set(shape.__required_keys__), f"{name}: required keys differ from messages.ts"
            assert optional == set(shape.__optional_keys__), f"{name}: optional keys differ from messages.ts"
        else:
            assert name in aliases, f"{name} is in messages(_signin).py but not in js/src/messages.ts"
    missing = sorted(set(interfaces) - set(python))
    assert not missing, f"messages.ts declares {missing}, which messages(_signin).py does not"
