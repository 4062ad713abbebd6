"""``conn.tools()``: the enabled functions as LLM tools, and a dispatcher that never raises.

Schemas come from the registry. Policies and approvals are applied by the connection itself
(its gate); this module only exports the functions that are not Disabled and checks the
arguments, so an LLM can never approve its own call.
"""

from __future__ import annotations

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
from .results import MAX_ROWS, MAX_TEXT, error_result, tool_result


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
        return [REGISTRY[name] for name in self.names]

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
    def _prepare(self, name: Any, arguments: Any) -> tuple[str, list[Any], dict[str, Any]]:
        if not isinstance(name, str) or name not in REGISTRY:
            available = ", ".join(self.names) or "none (every function is disabled)"
            raise InvalidInputError(f"unknown tool {str(name)[:100]!r}; available tools: {available}.", field="name")
        if self._policy(name) is Policy.DISABLED:
            raise FunctionDisabledError(name)
        root = self._attachment_root if self._attachment_root is not None else Path.cwd()
        positional, keywords = method_arguments(REGISTRY[name], parse_arguments(name, arguments), root)
        return name, positional, keywords

    def _convert(self, result: Any) -> dict[str, Any]:
        return tool_result(result, max_rows=self.max_rows, max_text=self.max_text)

    def dispatch(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one tool call; always returns ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``."""
        try:
            name, positional, keywords = self._prepare(name, arguments)
            return self._convert(getattr(self._conn, name)(*positional, **keywords))
        except Exception as exc:  # errors are results an agent can read, never a crash
            return error_result(exc)

    async def run_async(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> Any:
        """Check and run one tool call with the connection's ``*_async`` method; raises its errors."""
        name, positional, keywords = self._prepare(name, arguments)
        return await getattr(self._conn, f"{name}_async")(*positional, **keywords)

    def result(self, value: Any) -> dict[str, Any]:
        """A method's return value as the tool result the model reads (bounded, JSON-safe)."""
        return self._convert(value)

    async def dispatch_async(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The awaitable form of :meth:`dispatch` (uses the connection's ``*_async`` methods)."""
        try:
            return self._convert(await self.run_async(name, arguments))
        except Exception as exc:
            return error_result(exc)

    def __repr__(self) -> str:
        return f"<ToolSet {', '.join(self.names)}>"


def build_tools(conn: Any, *, attachment_root: str | os.PathLike[str] | None = None) -> ToolSet:
    """The tools of ``conn`` (what ``EmailConnection.tools()`` returns).

    ``attachment_root``: the only folder agents may attach files from (default: the
    current working directory at call time).
    """
    return ToolSet(conn, attachment_root=attachment_root)
