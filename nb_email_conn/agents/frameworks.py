"""The tools for agent frameworks: the OpenAI Agents SDK, pydantic-ai and LangChain.

Every adapter is the registry's schema plus a runner that calls the :class:`ToolSet`'s
dispatcher, so the connection's gate (policy, guardrails, approval, audit log) is the only
authority. None of them uses the framework's own approval feature (``needs_approval``,
``requires_approval``, LangGraph interrupts): the gate's approver decides each call exactly
once, and a rejection reaches the model as the tool's result with the reviewer's reason.
A function whose policy is Disabled is not offered, and stops being offered when it is
set to Disabled later (the frameworks ask again at every step).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..functions.spec import FunctionSpec
    from .toolset import ToolSet


def _schema(spec: FunctionSpec[Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(spec.parameters))  # frameworks may mutate their copy
    return copied


def _needs(package: str, method: str, what: str) -> ImportError:
    return ImportError(
        f"ToolSet.{method}() needs {what}: pip install {package} (or pip install 'nb-email-conn[agents]')."
    )


def json_runner(tools: ToolSet, name: str) -> Callable[..., Awaitable[str]]:
    """An awaitable runner returning the dispatcher's result as JSON text."""

    async def run(**arguments: Any) -> str:
        return json.dumps(await tools.dispatch_async(name, arguments), ensure_ascii=False)

    run.__name__ = name
    return run


# -- OpenAI Agents SDK -----------------------------------------------------------------------
def openai_agents_tools(tools: ToolSet) -> list[Any]:
    """``agents.FunctionTool`` objects: ``Agent(tools=conn.tools().openai_agents())``."""
    try:
        from agents import FunctionTool
    except ImportError as exc:
        raise _needs("openai-agents", "openai_agents", "the OpenAI Agents SDK") from exc

    def build(spec: FunctionSpec[Any]) -> Any:
        name = spec.name

        async def invoke(context: Any, arguments: str) -> str:
            # The raw JSON from the model goes to the dispatcher, which checks it against the schema.
            return json.dumps(await tools.dispatch_async(name, arguments or "{}"), ensure_ascii=False)

        def enabled(context: Any, agent: Any) -> bool:
            return name in tools.names

        return FunctionTool(
            name=name,
            description=spec.description,
            params_json_schema=_schema(spec),
            on_invoke_tool=invoke,
            strict_json_schema=False,  # optional arguments stay optional; the dispatcher validates
            is_enabled=enabled,
            needs_approval=False,  # the gate's approver decides, once
        )

    return [build(spec) for spec in tools.specs()]


# -- pydantic-ai -------------------------------------------------------------------------------
def pydantic_ai_toolset(tools: ToolSet) -> Any:
    """A pydantic-ai toolset: ``Agent(model, toolsets=[conn.tools().pydantic_ai()])``."""
    try:
        from pydantic_ai import Tool
        from pydantic_ai.toolsets import FunctionToolset
    except ImportError as exc:
        raise _needs("pydantic-ai-slim", "pydantic_ai", "pydantic-ai") from exc

    def build(spec: FunctionSpec[Any]) -> Any:
        name = spec.name

        async def run(**arguments: Any) -> dict[str, Any]:
            return await tools.dispatch_async(name, arguments)

        run.__name__ = name
        # from_schema: the registry's schema as is; the dispatcher validates the arguments.
        return Tool.from_schema(run, name=name, description=spec.description, json_schema=_schema(spec))

    toolset: Any = FunctionToolset([build(spec) for spec in tools.specs()], id="nb-email-conn")
    return toolset.filtered(lambda context, definition: definition.name in tools.names)


# -- LangChain -------------------------------------------------------------------------------
def langchain_tools(tools: ToolSet) -> list[Any]:
    """LangChain ``StructuredTool`` objects, for ``langchain.agents.create_agent`` and LangGraph."""
    try:
        from langchain_core.tools import StructuredTool
    except ImportError as exc:
        raise _needs("langchain-core", "langchain", "LangChain") from exc

    def build(spec: FunctionSpec[Any]) -> Any:
        name = spec.name

        def run(**arguments: Any) -> str:
            return json.dumps(tools.dispatch(name, arguments), ensure_ascii=False)

        run.__name__ = name
        return StructuredTool.from_function(
            func=run,
            coroutine=json_runner(tools, name),
            name=name,
            description=spec.description,
            args_schema=_schema(spec),
        )

    return [build(spec) for spec in tools.specs()]
