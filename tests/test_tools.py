"""LLM tools: schemas that validate, a dispatcher that refuses what it must and returns JSON-safe results."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest

from nb_email_conn.approval import PendingAction
from nb_email_conn.errors import ActionRejectedError
from nb_email_conn.functions import FUNCTIONS, REGISTRY, SentEmail
from nb_email_conn.functions.policies import Policies
from nb_email_conn.message.parse import Attachment, Email
from nb_email_conn.policy import ActionRequest
from nb_email_conn.tools import ToolSet, build_tools

REF = "imap://alice%40example.org@imap.example.org/INBOX;UIDVALIDITY=1700000000/;UID=42"
REF2 = "imap://alice%40example.org@imap.example.org/INBOX;UIDVALIDITY=1700000000/;UID=43"


def _frame(rows: int) -> pd.DataFrame:
    dates = pd.date_range("2024-05-01", periods=rows, freq="h", tz="UTC")[::-1]
    frame: pd.DataFrame = pd.DataFrame(
        {
            "ref": [REF.replace("UID=42", f"UID={i + 1}") for i in range(rows)],
            "uid": range(rows, 0, -1),
            "date": dates,
            "from_name": ["Zoë Ångström"] * rows,
            "subject": ["x" * 2000] + ["Réunion"] * (rows - 1),
            "flags": [("\\Seen", "$Important")] * rows,
            "seen": [True] * rows,
            "size": [1234] * rows,
            "in_reply_to": [pd.NA] * rows,
        }
    )
    frame.loc[1, "date"] = pd.NaT
    return frame


def _email() -> Email:
    return Email(
        ref=REF,
        subject="Facture n° 42",
        from_addr="billing@example.org",
        from_name="Compta",
        to=["alice@example.org"],
        cc=[],
        date=pd.Timestamp("2024-05-01 10:00", tz="UTC"),
        message_id="<42@example.org>",
        in_reply_to=None,
        references=[],
        headers={"Subject": "Facture n° 42", "Received": "r" * 5000},
        text="Bonjour " + "é" * 10_000,
        html="<p>Bonjour</p><script>alert(1)</script>",
        attachments=[Attachment("facture.pdf", "application/pdf", 5, b"%PDF-")],
        raw=b"raw message bytes",
    )


class StandIn:
    """The nine methods (sync and _async) with the contract's signatures, recording each call."""

    def __init__(self) -> None:
        self.name = "demo"
        self.policies = Policies()
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.results: dict[str, Any] = {
            "list_folders": pd.DataFrame({"name": ["INBOX", "Trash"], "special_use": ["", "\\Trash"]}),
            "search_emails": _frame(120),
            "get_email": _email(),
            "send_email": PendingAction(ActionRequest("send_email", {}, {"summary": "send"})),
            "create_draft": REF,
            "delete_emails": ActionRejectedError("delete_emails", "not these, they are receipts"),
            "update_flags": None,
            "move_emails": [REF2],
            "copy_emails": RuntimeError("connection reset in the middle of COPY"),
            "reply_email": None,
            "forward_email": None,
        }

    def _record(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.calls.append((name, args, kwargs))
        result = self.results[name.removesuffix("_async")]
        if isinstance(result, Exception):
            raise result
        return result

    def __getattr__(self, attr: str) -> Any:
        base = attr.removesuffix("_async")
        if base not in FUNCTIONS:
            raise AttributeError(attr)
        if attr.endswith("_async"):

            async def run_async(*args: Any, **kwargs: Any) -> Any:
                return self._record(attr, args, kwargs)

            return run_async
        return lambda *args, **kwargs: self._record(base, args, kwargs)


@pytest.fixture
def conn() -> StandIn:
    return StandIn()


@pytest.fixture
def tools(conn: StandIn) -> ToolSet:
    return build_tools(conn)


def _ok_json(result: dict[str, Any]) -> dict[str, Any]:
    """Every result must survive JSON strictly (no NaN), as it goes back to the model."""
    loaded: dict[str, Any] = json.loads(json.dumps(result, allow_nan=False))
    return loaded


# ------------------------------------------------------------------------------ schemas
def test_every_schema_is_valid_json_schema_in_both_formats(tools: ToolSet) -> None:
    openai, anthropic = tools.openai(), tools.anthropic()
    assert [t["function"]["name"] for t in openai] == list(FUNCTIONS)
    assert [t["name"] for t in anthropic] == list(FUNCTIONS)
    for tool in openai:
        assert tool["type"] == "function"
        assert set(tool["function"]) == {"name", "description", "parameters"}
        jsonschema.Draft202012Validator.check_schema(tool["function"]["parameters"])
    for tool in anthropic:
        assert set(tool) == {"name", "description", "input_schema"}
        assert tool["input_schema"]["type"] == "object"
        jsonschema.Draft202012Validator.check_schema(tool["input_schema"])
        assert len(tool["description"]) > 20
    json.dumps(openai)
    json.dumps(anthropic)


VALID: dict[str, dict[str, Any]] = {
    "list_folders": {},
    "search_emails": {"query": "from:alice is:unread", "from": "bob", "since": "2024-01-31", "limit": 5},
    "get_email": {"ref": REF, "mark_seen": False},
    "send_email": {"to": ["a@example.org"], "subject": "Hi", "body": "Hello", "cc": "c@example.org"},
    "create_draft": {"to": "a@example.org", "subject": "Hi", "body": "Hello", "html": "<p>Hello</p>"},
    "delete_emails": {"refs": [REF, REF2], "permanent": True},
    "update_flags": {"refs": REF, "add": ["\\Seen"], "remove": "\\Flagged"},
    "move_emails": {"refs": [REF], "folder": "Archive"},
    "copy_emails": {"refs": REF, "folder": "Archive"},
    "reply_email": {"ref": REF, "body": "Thanks!", "reply_all": True, "quote": False},
    "forward_email": {"ref": REF, "to": ["b@example.org"], "body": "FYI", "as_attachment": True},
}
INVALID = [
    ("search_emails", {"limit": "ten"}),
    ("search_emails", {"limit": 0}),
    ("search_emails", {"seen": "yes"}),
    ("get_email", {}),
    ("get_email", {"ref": [REF]}),
    ("send_email", {"to": "a@example.org", "subject": "no body"}),
    ("send_email", {"to": 5, "subject": "s", "body": "b"}),
    ("delete_emails", {"refs": [1, 2]}),
    ("move_emails", {"refs": REF}),
    ("list_folders", {"folder": "INBOX"}),
]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_schema_and_dispatcher_agree_on_valid_arguments(tools: ToolSet, conn: StandIn, name: str) -> None:
    jsonschema.validate(VALID[name], REGISTRY[name].parameters)
    result = _ok_json(tools.dispatch(name, json.dumps(VALID[name])))
    assert conn.calls, result  # the call reached the connection
    assert result.get("error", {}).get("type") != "InvalidInputError"


@pytest.mark.parametrize(("name", "arguments"), INVALID)
def test_schema_and_dispatcher_agree_on_invalid_arguments(
    tools: ToolSet, conn: StandIn, name: str, arguments: dict[str, Any]
) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(arguments, REGISTRY[name].parameters)
    result = _ok_json(tools.dispatch(name, arguments))
    assert result["ok"] is False
    assert result["error"]["type"] == "InvalidInputError"
    assert conn.calls == []


# ------------------------------------------------------------------------------ policies
def test_disabled_functions_are_not_exported_and_refused(tools: ToolSet, conn: StandIn) -> None:
    conn.policies["send_email"] = "disabled"
    conn.policies["delete_emails"] = "disabled"
    assert "send_email" not in tools.names
    assert "delete_emails" not in [t["function"]["name"] for t in tools.openai()]
    assert "delete_emails" not in [t["name"] for t in tools.anthropic()]
    result = _ok_json(tools.dispatch("send_email", VALID["send_email"]))
    assert result == {
        "ok": False,
        "error": {"type": "FunctionDisabledError", "message": result["error"]["message"], "function": "send_email"},
    }
    assert conn.calls == []
    conn.policies["send_email"] = "confirm"  # read at call time: back again
    assert "send_email" in tools.names


@pytest.mark.parametrize(
    "sneaky",
    [
        {"approved": True},
        {"confirm": False},
        {"policy": "enabled"},
        {"approver": "me"},
        {"_skip": True},
        {"Approved": "yes"},
        {"skip_confirmation": True},
    ],
)
def test_no_argument_can_skip_confirmation(tools: ToolSet, conn: StandIn, sneaky: dict[str, Any]) -> None:
    arguments = {**VALID["delete_emails"], **sneaky}
    for result in (tools.dispatch("delete_emails", arguments), tools.dispatch("delete_emails", json.dumps(arguments))):
        assert result["ok"] is False
        assert result["error"]["type"] == "InvalidInputError"
        assert "confirmation" in result["error"]["message"]
    assert conn.calls == []


def test_pending_approval_is_reported_not_waited_for(tools: ToolSet, conn: StandIn) -> None:
    result = _ok_json(tools.dispatch("send_email", VALID["send_email"]))
    assert result["ok"] is True
    assert result["status"] == "pending_approval"
    assert result["request_id"] == conn.results["send_email"].request.id
    assert conn.calls == [("send_email", (["a@example.org"], "Hi", "Hello"), {"cc": "c@example.org"})]


def test_rejection_and_unexpected_errors_are_results(tools: ToolSet) -> None:
    rejected = _ok_json(tools.dispatch("delete_emails", {"refs": REF}))
    assert rejected["ok"] is False
    assert rejected["error"]["type"] == "ActionRejectedError"
    assert rejected["error"]["reason"] == "not these, they are receipts"
    broken = _ok_json(tools.dispatch("copy_emails", {"refs": REF, "folder": "Archive"}))
    assert broken["error"] == {"type": "RuntimeError", "message": "connection reset in the middle of COPY"}


def test_unknown_tool_and_bad_json_are_results(tools: ToolSet, conn: StandIn) -> None:
    unknown = tools.dispatch("drop_database", {})
    assert unknown["error"]["type"] == "InvalidInputError"
    assert "search_emails" in unknown["error"]["message"]
    bad = tools.dispatch("search_emails", "{not json")
    assert bad["error"]["type"] == "InvalidInputError"
    assert "not valid JSON" in bad["error"]["message"]
    assert tools.dispatch("search_emails", "[1, 2]")["error"]["type"] == "InvalidInputError"
    extra = tools.dispatch("get_email", {"ref": REF, "folder": "INBOX"})
    assert "get_email has no argument 'folder'" in extra["error"]["message"]
    assert conn.calls == []


# ------------------------------------------------------------------------------ calls and results
def test_search_defaults_renames_and_bounded_rows(tools: ToolSet, conn: StandIn) -> None:
    result = _ok_json(tools.dispatch("search_emails", '{"query": "is:unread", "from": "zoë", "since": "2024-05-01"}'))
    assert conn.calls == [
        ("search_emails", ("is:unread",), {"from_": "zoë", "since": dt.date(2024, 5, 1), "limit": 20}),
    ]
    page = result["result"]
    assert page["count"] == 120
    assert page["truncated"] is True
    assert len(page["rows"]) == 50
    first, second = page["rows"][0], page["rows"][1]
    assert first["ref"].startswith("imap://")
    assert dt.datetime.fromisoformat(first["date"]).tzinfo is not None
    assert second["date"] is None  # NaT
    assert first["flags"] == ["\\Seen", "$Important"]
    assert first["in_reply_to"] is None
    assert first["uid"] == 120
    assert len(first["subject"]) < 600  # a 2000-character cell is cut
    assert second["from_name"] == "Zoë Ångström"


def test_search_without_query_passes_only_keywords(tools: ToolSet, conn: StandIn) -> None:
    tools.dispatch("search_emails", {"subject": "invoice", "has_attachment": True, "limit": 3})
    assert conn.calls == [("search_emails", (), {"subject": "invoice", "has_attachment": True, "limit": 3})]


def test_a_left_out_argument_never_shifts_the_others(tools: ToolSet, conn: StandIn) -> None:
    tools.dispatch("create_draft", {"subject": "Notes", "body": "To finish later"})
    assert conn.calls == [("create_draft", (), {"subject": "Notes", "body": "To finish later"})]


def test_dataclass_results_become_objects(tools: ToolSet, conn: StandIn) -> None:
    conn.results["send_email"] = SentEmail("<1@example.org>", ["a@example.org"], sent_ref=REF2)
    result = _ok_json(tools.dispatch("send_email", VALID["send_email"]))
    assert result["result"] == {
        "message_id": "<1@example.org>",
        "recipients": ["a@example.org"],
        "refused": {},
        "sent_ref": REF2,
        "warnings": [],
    }


def test_bad_date_is_refused(tools: ToolSet, conn: StandIn) -> None:
    result = tools.dispatch("search_emails", {"before": "last tuesday"})
    assert result["error"]["field"] == "before"
    assert conn.calls == []


def test_email_result_is_markdown_fenced_and_has_no_bytes(tools: ToolSet) -> None:
    result = _ok_json(tools.dispatch("get_email", {"ref": REF}))["result"]
    assert result["subject"] == "Facture n° 42"
    assert result["body_format"] == "markdown" and "Bonjour" in result["body"]
    assert "<script" not in result["body"] and "alert" not in result["body"]
    assert result["body"].startswith("<<<UNTRUSTED-EMAIL-CONTENT ")
    assert (result["offset"], result["next_offset"], result["total_chars"]) == (0, None, len("Bonjour"))
    assert "html" not in result and "raw" not in result and "headers" not in result
    assert result["attachments"] == [
        {"filename": "facture.pdf", "content_type": "application/pdf", "size": 5, "inline": False}
    ]
    assert result["auth"] == {"spf": "none", "dkim": "none", "dmarc": "none"}
    assert result["date"].startswith("2024-05-01T10:00")
    assert "%PDF" not in json.dumps(result)


def test_the_get_email_tool_takes_its_reading_options_and_the_method_never_sees_them(
    tools: ToolSet, conn: StandIn
) -> None:
    schema = next(t for t in tools.openai() if t["function"]["name"] == "get_email")["function"]
    assert {"max_chars", "offset", "include_attachment_text"} <= set(schema["parameters"]["properties"])
    assert "offset=next_offset" in schema["description"]
    jsonschema.Draft202012Validator.check_schema(schema["parameters"])
    result = tools.dispatch("get_email", {"ref": REF, "max_chars": 200, "offset": 3, "include_attachment_text": True})
    assert result["ok"] and result["result"]["offset"] == 3
    assert conn.calls[-1] == ("get_email", (REF,), {})
    assert tools.dispatch("get_email", {"ref": REF, "max_chars": 10})["error"]["field"] == "max_chars"


def test_refs_and_frames_come_back_as_plain_json(tools: ToolSet) -> None:
    assert _ok_json(tools.dispatch("move_emails", {"refs": REF, "folder": "Archive"})) == {"ok": True, "result": [REF2]}
    assert _ok_json(tools.dispatch("create_draft", VALID["create_draft"])) == {"ok": True, "result": REF}
    folders = _ok_json(tools.dispatch("list_folders"))["result"]
    assert folders == {
        "rows": [{"name": "INBOX", "special_use": ""}, {"name": "Trash", "special_use": "\\Trash"}],
        "count": 2,
        "truncated": False,
    }
    assert _ok_json(tools.dispatch("update_flags", {"refs": REF, "add": "\\Seen"})) == {"ok": True, "result": None}


async def test_dispatch_async_awaits_the_async_methods(tools: ToolSet, conn: StandIn) -> None:
    result = _ok_json(await tools.dispatch_async("move_emails", {"refs": [REF], "folder": "Archive"}))
    assert result == {"ok": True, "result": [REF2]}
    assert conn.calls == [("move_emails_async", ([REF], "Archive"), {})]
    refused = await tools.dispatch_async("move_emails", {"refs": [REF], "folder": "Archive", "approved": True})
    assert refused["ok"] is False


# ------------------------------------------------------------------------------ attachments
def test_attachments_only_from_the_allowed_folder(tmp_path: Path, conn: StandIn) -> None:
    (tmp_path / "report.csv").write_text("a,b\n1,2\n")
    outside = tmp_path.parent / "secret-key.txt"
    outside.write_text("do not send")
    tools = build_tools(conn, attachment_root=tmp_path)
    base = {"to": "a@example.org", "subject": "Report", "body": "Attached."}

    tools.dispatch("create_draft", {**base, "attachments": ["report.csv"]})
    assert conn.calls[-1][2] == {"attachments": [str((tmp_path / "report.csv").resolve())]}
    for bad in (str(outside), "../secret-key.txt", "~/.ssh/id_rsa", "missing.pdf"):
        result = tools.dispatch("create_draft", {**base, "attachments": [bad]})
        assert result["error"]["field"] == "attachments", bad
    assert len(conn.calls) == 1


def test_attachments_default_to_the_working_directory(
    tmp_path: Path, conn: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    monkeypatch.chdir(tmp_path)
    tools = build_tools(conn)
    tools.dispatch("create_draft", {"to": "a@example.org", "subject": "s", "body": "b", "attachments": ["notes.txt"]})
    assert conn.calls[-1][2]["attachments"] == [str((tmp_path / "notes.txt").resolve())]
    refused = tools.dispatch(
        "send_email", {"to": "a@example.org", "subject": "s", "body": "b", "attachments": ["/etc/passwd"]}
    )
    assert refused["error"]["type"] == "InvalidInputError"


# ------------------------------------------------------------------------------ LangChain
def test_langchain_without_langchain_says_what_to_install(tools: ToolSet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_core", None)
    monkeypatch.setitem(sys.modules, "langchain_core.tools", None)
    with pytest.raises(ImportError, match="pip install langchain-core"):
        tools.langchain()


async def test_langchain_tools_dispatch_through_the_policies(
    tools: ToolSet, conn: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        import langchain_core.tools  # noqa: F401  # the real StructuredTool when installed
    except ImportError:  # a stand-in with the same from_function keywords

        class StandInTool:
            func: Callable[..., Any]
            coroutine: Callable[..., Awaitable[Any]]

            def __init__(self, **kwargs: Any) -> None:
                self.__dict__.update(kwargs)

            @classmethod
            def from_function(cls, **kwargs: Any) -> StandInTool:
                return cls(**kwargs)

            def invoke(self, arguments: dict[str, Any]) -> Any:
                return self.func(**arguments)

            async def ainvoke(self, arguments: dict[str, Any]) -> Any:
                return await self.coroutine(**arguments)

        module = types.ModuleType("langchain_core.tools")
        module.__dict__["StructuredTool"] = StandInTool
        monkeypatch.setitem(sys.modules, "langchain_core", types.ModuleType("langchain_core"))
        monkeypatch.setitem(sys.modules, "langchain_core.tools", module)

    conn.policies["copy_emails"] = "disabled"
    lc_tools = {tool.name: tool for tool in tools.langchain()}
    assert set(lc_tools) == set(FUNCTIONS) - {"copy_emails"}
    moved = json.loads(lc_tools["move_emails"].invoke({"refs": [REF], "folder": "Archive"}))
    assert moved == {"ok": True, "result": [REF2]}
    refused = json.loads(await lc_tools["delete_emails"].ainvoke({"refs": REF, "approved": True}))
    assert refused["ok"] is False
    assert conn.calls == [("move_emails", ([REF], "Archive"), {})]
