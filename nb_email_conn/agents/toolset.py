"""``conn.tools()``: the enabled functions as LLM tools, and a dispatcher that never raises.

Schemas come from the registry. Policies and approvals are applied by the connection itself
(its gate); this module only exports the functions that are not Disabled and checks the
arguments, so an LLM can never approve its own call. The tool form of ``get_email`` takes
three more arguments than the method (``max_chars``, ``offset``, ``include_attachment_text``:
how much of the Markdown body to return, see ``reading.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import FunctionDisabledError, InvalidInputError
from ..functions import FUNCTIONS, REGISTRY
from ..functions.spec import FunctionSpec
from ..policy import Policy
from .arguments import method_arguments, parse_arguments
from .reading import DESCRIPTION as READING_DESCRIPTION
from .reading import OPTIONS as READING_OPTIONS
from .results import MAX_ROWS, MAX_TEXT, error_result, tool_result

# Tool-only arguments (not the method's), and what the tool's description adds about them.
TOOL_FORMS: Mapping[str, tuple[Mapping[str, Any], str]] = {"get_email": (READING_OPTIONS, READING_DESCRIPTION)}


def _copy(schema: Mapping[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(schema))  # callers may mutate their copy
    return copied


class ToolSet:
    """The connection's enabled functions as tools, and a dispatcher for tool calls.

    What is exported follows ``conn.policies`` at the moment of each call: a function set
    to Disabled disappears from the schemas and its calls are refused.
    """

    def __init__(
        self,
        conn: Any,
        *,
        attachment_root: str | os.PathLike[str] | None = None,
        max_rows: int = MAX_ROWS,
        max_text: int = MAX_TEXT,
    ) -> None:
        self._conn = conn
        self._attachment_root = Path(attachment_root) if attachment_root is not None else None
        self.max_rows = max_rows
        self.max_text = max_text

    # -- what is exported ----------------------------------------------------------------
    def _policy(self, name: str) -> Policy:
        return Policy.parse(self._conn.policies[name])

    @property
    def names(self) -> list[str]:
        """The functions exported now (every function whose policy is not Disabled)."""
        return [name for name in FUNCTIONS if self._policy(name) is not Policy.DISABLED]

    def specs(self) -> list[FunctionSpec[Any]]:
        """The exported functions' specs in their tool form (what every adapter offers)."""
        return [tool_spec(name) for name in self.names]

    def openai(self) -> list[dict[str, Any]]:
        """OpenAI (and compatible) function-calling tool definitions."""
        return [
            {
                "type": "function",
                "function": {"name": s.name, "description": s.description, "parameters": _copy(s.parameters)},
            }
            for s in self.specs()
        ]

    def anthropic(self) -> list[dict[str, Any]]:
        """Anthropic Messages API tool definitions."""
        return [
            {"name": s.name, "description": s.description, "input_schema": _copy(s.parameters)} for s in self.specs()
        ]

    def langchain(self) -> list[Any]:
        """LangChain ``StructuredTool`` objects (needs ``langchain-core``); each returns JSON text.
        Works with LangChain 1.x ``create_agent`` and LangGraph's ``ToolNode``."""
        from .frameworks import langchain_tools

        return langchain_tools(self)

    def openai_agents(self) -> list[Any]:
        """``FunctionTool`` objects for the OpenAI Agents SDK (``Agent(tools=...)``; needs ``openai-agents``)."""
        from .frameworks import openai_agents_tools

        return openai_agents_tools(self)

    def pydantic_ai(self) -> Any:
        """A pydantic-ai toolset (``Agent(model, toolsets=[...])``; needs ``pydantic-ai-slim``)."""
        from .frameworks import pydantic_ai_toolset

        return pydantic_ai_toolset(self)

    def mcp_server(self, *, name: str = "nb-email-conn") -> Any:
        """An MCP server (the official ``mcp`` SDK's low-level ``Server``) offering these tools; confirmation
        asks the MCP client's user by elicitation. ``nb-email-conn mcp NAME`` serves it on stdio."""
        from .mcp_server import build_server

        return build_server(self, name=name)

    # -- running calls -------------------------------------------------------------------
    def _prepare(self, name: Any, arguments: Any) -> tuple[str, list[Any], dict[str, Any], dict[str, Any]]:
        if not isinstance(name, str) or name not in REGISTRY:
            available = ", ".join(self.names) or "none (every function is disabled)"
            raise InvalidInputError(f"unknown tool {str(name)[:100]!r}; available tools: {available}.", field="name")
        if self._policy(name) is Policy.DISABLED:
            raise FunctionDisabledError(name)
        root = self._attachment_root if self._attachment_root is not None else Path.cwd()
        positional, keywords = method_arguments(tool_spec(name), parse_arguments(name, arguments), root)
        options = {key: keywords.pop(key) for key in TOOL_FORMS.get(name, ({}, ""))[0] if key in keywords}
        return name, positional, keywords, options

    def _convert(self, result: Any, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return tool_result(result, max_rows=self.max_rows, max_text=self.max_text, reading=options)

    def dispatch(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one tool call; always returns ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``."""
        try:
            name, positional, keywords, options = self._prepare(name, arguments)
            return self._convert(getattr(self._conn, name)(*positional, **keywords), options)
        except Exception as exc:  # errors are results an agent can read, never a crash
            return error_result(exc)

    async def run_async(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Check and run one tool call with the connection's ``*_async`` method; the result as the model
        reads it, or the call's error raised."""
        name, positional, keywords, options = self._prepare(name, arguments)
        return self._convert(await getattr(self._conn, f"{name}_async")(*positional, **keywords), options)

    async def dispatch_async(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The awaitable form of :meth:`dispatch` (uses the connection's ``*_async`` methods)."""
        try:
            return await self.run_async(name, arguments)
        except Exception as exc:
            return error_result(exc)

    def __repr__(self) -> str:
        return f"<ToolSet {', '.join(self.names)}>"


def tool_spec(name: str) -> FunctionSpec[Any]:
    """The registry's spec of ``name`` as a tool: its schema plus any tool-only arguments."""
    spec = REGISTRY[name]
    extra = TOOL_FORMS.get(name)
    if extra is None:
        return spec
    options, note = extra
    parameters = _copy(spec.parameters)
    parameters["properties"].update(_copy(options))
    return dataclasses.replace(spec, parameters=parameters, description=spec.description + note)


def build_tools(conn: Any, *, attachment_root: str | os.PathLike[str] | None = None) -> ToolSet:
    """The tools of ``conn`` (what ``EmailConnection.tools()`` returns).

    ``attachment_root``: the only folder agents may attach files from (default: the
    current working directory at call time).
    """
    return ToolSet(conn, attachment_root=attachment_root)
