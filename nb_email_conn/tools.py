"""The public face of the agent tools (``conn.tools()``); the work is in ``agents/``."""

from __future__ import annotations

from .agents.results import error_result
from .agents.toolset import ToolSet, build_tools

__all__ = ["ToolSet", "build_tools", "error_result"]
