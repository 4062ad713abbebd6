"""Finding mail settings from an address: :func:`discover` and :class:`DiscoveredSettings`."""

from __future__ import annotations

from .discover import DEFAULT_ISPDB, discover
from .model import DiscoveredSettings

__all__ = ["DEFAULT_ISPDB", "DiscoveredSettings", "discover"]
