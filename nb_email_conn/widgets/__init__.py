"""The notebook front end: the connection manager and the inline approval widget."""

from .approval import ApprovalWidget, InlineApprover
from .manager import ConnectionManager

__all__ = ["ApprovalWidget", "ConnectionManager", "InlineApprover"]
