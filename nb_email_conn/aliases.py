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
