"""Helpers of the agent tests (tests/agents). A package of its own, importable by one name in pytest
and mypy alike: tests/agents itself cannot be a package, it would shadow the OpenAI Agents SDK's ``agents``."""
