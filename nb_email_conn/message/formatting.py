"""Values as people read them: ``Name <addr>`` and ``1.5 KB``, in displays and previews."""

from __future__ import annotations

import re

_SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')


def format_address(name: str, addr: str) -> str:
    """``Name <addr>`` for display (quoted when the name has specials), else ``addr``."""
    if not name:
        return addr
    if not addr:
        return name
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{addr}>"


def size_text(size: int) -> str:
    """1536 → '1.5 KB': sizes as people read them, in previews and displays."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
