"""The registry: one :class:`FunctionSpec` per function of a connection, in the contract's order."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..errors import InvalidInputError
from ..policy import Policy
from .changing import COPY_EMAILS, DELETE_EMAILS, MOVE_EMAILS, UPDATE_FLAGS
from .reading import GET_EMAIL, LIST_FOLDERS, SEARCH_EMAILS
from .replying import FORWARD_EMAIL, REPLY_EMAIL
from .sending import CREATE_DRAFT, SEND_EMAIL, SentEmail
from .spec import EditableArgument, FunctionSpec

REGISTRY: Mapping[str, FunctionSpec[Any]] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            LIST_FOLDERS,
            SEARCH_EMAILS,
            GET_EMAIL,
            SEND_EMAIL,
            CREATE_DRAFT,
            DELETE_EMAILS,
            UPDATE_FLAGS,
            MOVE_EMAILS,
            COPY_EMAILS,
            REPLY_EMAIL,
            FORWARD_EMAIL,
        )
    }
)
FUNCTIONS: tuple[str, ...] = tuple(REGISTRY)
DEFAULT_POLICIES: Mapping[str, Policy] = MappingProxyType(
    {name: spec.default_policy for name, spec in REGISTRY.items()}
)


def spec_for(name: Any) -> FunctionSpec[Any]:
    """The spec of ``name``; ``InvalidInputError`` naming the choices for anything else."""
    spec = REGISTRY.get(name) if isinstance(name, str) else None
    if spec is None:
        raise InvalidInputError(
            f"{str(name)[:100]!r} is not a function of this connection; choose from {', '.join(FUNCTIONS)}.",
            field="function",
        )
    return spec


__all__ = ["DEFAULT_POLICIES", "FUNCTIONS", "REGISTRY", "EditableArgument", "FunctionSpec", "SentEmail", "spec_for"]
