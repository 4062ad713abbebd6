"""Named types of the public API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeAlias, TypeVar

if TYPE_CHECKING:
    import pandas as pd

    from .pending import PendingAction
    from .refs import MessageRef

T = TypeVar("T")

Refs: TypeAlias = "str | MessageRef | Iterable[str | MessageRef] | pd.DataFrame | pd.Series"
"""What a ``refs`` argument takes: one ref, an iterable of refs, or a ``search_emails`` frame or row."""

Gated: TypeAlias = "T | PendingAction[T]"
"""A synchronous call's result: the value, or under confirmation on the kernel's main thread a pending handle."""


def ready(value: Gated[T], timeout: float | None = None) -> T:
    """The result of a synchronous call as its plain type: the value itself, or a
    :class:`PendingAction`'s result (which waits for the decision off the kernel's loop, and
    on it raises while the reviewer has not decided). For type-checked scripts and tests."""
    from .pending import PendingAction

    return value.result(timeout) if isinstance(value, PendingAction) else value
