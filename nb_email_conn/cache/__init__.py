"""The synced local index (``EmailConnection(cfg, cache=True)``): see ``index.py``."""

from __future__ import annotations

from .files import cache_dir, remove_cache
from .index import LocalIndex, SyncReport

__all__ = ["LocalIndex", "SyncReport", "cache_dir", "remove_cache"]
