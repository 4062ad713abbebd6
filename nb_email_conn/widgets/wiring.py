"""How the notebook layer offers itself to the core (called by the package's ``__init__``).

Two front ends: a Jupyter kernel (JupyterLab, Notebook 7, VS Code) and a marimo notebook
(``marimo edit`` / ``marimo run``). The factories import the widgets only when one of them asks,
so ``import nb_email_conn`` stays cheap outside a notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..frontend import provide_approver, provide_host_check, provide_pending_view, provide_progress, provide_wait_advice
from .kernel import hosted_by_marimo, in_kernel_with_frontend, marimo_context

if TYPE_CHECKING:
    from ..progress import Progress
    from .approval import ApprovalWidget, InlineApprover


def inline_approver() -> InlineApprover | None:
    """The inline Approve / Edit / Reject widget: in a marimo notebook or a kernel with a front end."""
    if hosted_by_marimo():
        # Also on a thread marimo does not know: the approver then refuses with advice, never
        # a console prompt on the server's terminal.
        from .marimo import MarimoApprover

        return MarimoApprover()
    if not in_kernel_with_frontend():
        return None
    from .approval import InlineApprover

    return InlineApprover()


def progress_bar(total: int, description: str) -> Progress | None:
    if not in_kernel_with_frontend():
        return None
    from .progress import NotebookProgress

    return NotebookProgress(total, description)


def awaiting_advice() -> str | None:
    """Why code awaiting a click on this thread would wait for ever (marimo's cell, an old ipykernel)."""
    if hosted_by_marimo():
        from .marimo import awaiting_advice as marimo_advice

        return marimo_advice()
    if not in_kernel_with_frontend():
        return None
    from .approval import ipykernel_awaiting_advice

    return ipykernel_awaiting_advice()


def pending_widget(handle: Any) -> ApprovalWidget | None:
    if not hosted_by_marimo() and not in_kernel_with_frontend():
        return None
    from .approval import InlineApprover

    return InlineApprover.widget_for(handle.request)


def install() -> None:
    marimo_context()  # imported in a marimo cell: remember this process hosts marimo notebooks
    provide_approver(inline_approver)
    provide_progress(progress_bar)
    provide_host_check(hosted_by_marimo)
    provide_wait_advice(awaiting_advice)
    provide_pending_view(pending_widget)
