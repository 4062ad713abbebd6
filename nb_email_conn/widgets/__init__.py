"""The Jupyter layer: the connection manager, the inline approval widget, the live inbox, the progress bar.

Nothing outside this folder imports it, except the package's ``__init__`` (which wires it in
through ``wiring.install``) and the command line. Widgets load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .approval import ApprovalWidget, InlineApprover
    from .inbox import LiveInbox
    from .manager import ConnectionManager

__all__ = ["ApprovalWidget", "ConnectionManager", "InlineApprover", "LiveInbox"]


def __getattr__(name: str) -> Any:
    if name in ("ApprovalWidget", "InlineApprover"):
        from . import approval

        return getattr(approval, name)
    if name == "ConnectionManager":
        from .manager import ConnectionManager

        return ConnectionManager
    if name == "LiveInbox":
        from .inbox import LiveInbox

        return LiveInbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
