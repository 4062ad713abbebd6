"""How the Jupyter layer offers itself to the core (called by the package's ``__init__``).

The factories import the widgets only when a kernel with a front end asks for them, so
``import nb_email_conn`` stays cheap outside Jupyter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..frontend import provide_approver, provide_progress
from .kernel import in_kernel_with_frontend

if TYPE_CHECKING:
    from ..progress import Progress
    from .approval import InlineApprover


def inline_approver() -> InlineApprover | None:
    """The inline Approve / Edit / Reject widget, in a kernel with a front end."""
    if not in_kernel_with_frontend():
        return None
    from .approval import InlineApprover

    return InlineApprover()


def progress_bar(total: int, description: str) -> Progress | None:
    if not in_kernel_with_frontend():
        return None
    from .progress import NotebookProgress

    return NotebookProgress(total, description)


def install() -> None:
    provide_approver(inline_approver)
    provide_progress(progress_bar)
