"""The registry is the one description of every function: methods, tools, widgets and README agree with it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import nb_email_conn as nec
from nb_email_conn.functions import DEFAULT_POLICIES, FUNCTIONS, REGISTRY
from nb_email_conn.functions.policies import Policies
from nb_email_conn.imap import query

SEARCH_KEYWORDS = query._KEYWORDS

README = Path(__file__).resolve().parent.parent / "README.md"
# The contract's search keywords (design.md, Part 2), exactly.
CONTRACT_SEARCH_KEYWORDS = {
    "from_", "to", "cc", "bcc", "subject", "text", "body", "since", "after", "before", "seen", "flagged",
    "answered", "draft", "larger", "smaller", "has_attachment",
}  # fmt: skip


def _parameters(name: str) -> dict[str, inspect.Parameter]:
    signature = inspect.signature(getattr(nec.EmailConnection, name))
    return {key: p for key, p in signature.parameters.items() if key != "self"}


def test_the_contract_functions_in_order_with_their_defaults() -> None:
    assert FUNCTIONS == (
        "list_folders", "search_emails", "get_email", "send_email", "create_draft", "delete_emails",
        "update_flags", "move_emails", "copy_emails", "reply_email", "forward_email",
    )  # fmt: skip
    enabled = {name for name, policy in DEFAULT_POLICIES.items() if policy is nec.Policy.ENABLED}
    assert enabled == {"list_folders", "search_emails", "get_email", "create_draft"}
    assert Policies().to_dict() == {name: spec.default_policy.value for name, spec in REGISTRY.items()}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_tool_schema_matches_its_method_signature(name: str) -> None:
    spec = REGISTRY[name]
    parameters = _parameters(name)
    takes_criteria = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    schema = spec.parameters
    for prop in schema["properties"]:
        keyword = spec.renames.get(prop, prop)
        if keyword in parameters and parameters[keyword].kind is not inspect.Parameter.VAR_KEYWORD:
            continue
        assert takes_criteria and keyword in SEARCH_KEYWORDS, (
            f"{name}: the schema offers {prop!r}, the method has no such argument"
        )
    required_by_method = {
        key
        for key, p in parameters.items()
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    required_by_schema = {spec.renames.get(key, key) for key in schema.get("required", [])}
    # The schema may ask an agent for more than the method needs (a draft's subject), never less.
    assert required_by_method <= required_by_schema, (
        f"{name}: required {required_by_method - required_by_schema} missing"
    )
    for position, key in enumerate(spec.positional):
        assert list(parameters)[position] == spec.renames.get(key, key), f"{name}: positional {key!r} out of order"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_awaitable_twin_has_the_same_signature_and_a_docstring(name: str) -> None:
    sync, awaitable = getattr(nec.EmailConnection, name), getattr(nec.EmailConnection, f"{name}_async")
    assert inspect.iscoroutinefunction(awaitable)
    assert _parameters(name) == {k: p for k, p in inspect.signature(awaitable).parameters.items() if k != "self"}
    assert sync.__doc__ and awaitable.__doc__


def test_search_keywords_are_the_contracts_in_the_query_and_the_tool() -> None:
    assert set(SEARCH_KEYWORDS) - {"from"} == CONTRACT_SEARCH_KEYWORDS
    spec = REGISTRY["search_emails"]
    tool_keywords = {spec.renames.get(p, p) for p in spec.parameters["properties"]} - {"query", "folder", "limit"}
    assert tool_keywords == CONTRACT_SEARCH_KEYWORDS


@pytest.mark.parametrize("name", FUNCTIONS)
def test_editable_arguments_are_arguments_of_the_function(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.editable_names <= set(_parameters(name)), name
    assert not spec.editable or spec.writes


def _readme_table() -> list[tuple[str, str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- functions:start -->", 1)[1].split("<!-- functions:end -->", 1)[0]
    rows = []
    for line in section.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append((cells[0].strip("`"), cells[1], cells[2]))
    return rows


def expected_readme_table() -> list[tuple[str, str, str]]:
    return [(spec.signature, spec.returns, spec.default_policy.label) for spec in REGISTRY.values()]


def test_the_readme_function_table_is_the_registry() -> None:
    expected = expected_readme_table()
    if _readme_table() != expected:
        lines = ["| function | returns | default policy |", "| --- | --- | --- |"]
        lines += [f"| `{call}` | {returns} | {policy} |" for call, returns, policy in expected]
        pytest.fail("README's function table differs from the registry; it should read:\n" + "\n".join(lines))


def test_the_manager_lists_every_function_from_the_registry() -> None:
    from nb_email_conn.widgets.manager import ConnectionManager

    manager = ConnectionManager()
    try:
        listed = manager.functions
        assert [row["name"] for row in listed] == list(FUNCTIONS)
        assert all(row["description"] == REGISTRY[row["name"]].label for row in listed)
        assert manager.policies == {name: spec.default_policy.value for name, spec in REGISTRY.items()}
    finally:
        manager.close()


def test_seed_names_are_the_seeds() -> None:
    seeds = {spec.seed_name for spec in REGISTRY.values() if spec.seed_name}
    assert seeds == {
        "SearchEmailsAsync", "GetEmailAsync", "SendEmailAsync", "CreateDraftAsync", "DeleteEmailAsync",
        "MoveEmailAsync",
    }  # fmt: skip
    assert all(re.fullmatch(r"[a-z_]+", name) for name in FUNCTIONS)
