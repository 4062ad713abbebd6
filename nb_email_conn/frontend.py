"""What the front end hosting the kernel gives the core: a default approver, a progress display,
the view of a pending call, and facts about waiting for a click.

The core never reaches for a front end. The notebook layer (``widgets/``: Jupyter and marimo)
is wired in by the package's ``__init__``; another host (a console app, a test) may provide its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .pending import PendingAction
    from .policy import Approver
    from .progress import Progress

ApproverFactory = Callable[[], "Approver | None"]
ProgressFactory = Callable[[int, str], "Progress | None"]
HostCheck = Callable[[], bool]
WaitAdvice = Callable[[], "str | None"]
PendingView = Callable[["PendingAction[Any]"], Any]

_approver_factories: list[ApproverFactory] = []
_progress_factories: list[ProgressFactory] = []
_host_checks: list[HostCheck] = []
_wait_advisers: list[WaitAdvice] = []
_pending_views: list[PendingView] = []


def _add(hooks: list[Any], hook: Any) -> None:
    if hook not in hooks:
        hooks.append(hook)


def provide_approver(factory: ApproverFactory) -> None:
    """Offer a default approver: ``factory()`` returns one where it applies, else None."""
    _add(_approver_factories, factory)


def provide_progress(factory: ProgressFactory) -> None:
    """Offer a progress display: ``factory(total, description)`` returns one where it applies, else None."""
    _add(_progress_factories, factory)


def provide_host_check(check: HostCheck) -> None:
    """Offer ``check() -> bool``: True when a notebook server hosts this process, whatever the thread.

    There a console prompt would go to the server's terminal (``marimo run`` started from one), not
    to the person looking at the page, so the core never falls back to it.
    """
    _add(_host_checks, check)


def provide_wait_advice(adviser: WaitAdvice) -> None:
    """Offer ``adviser() -> str | None``: why awaiting a click here would never end (None: it would)."""
    _add(_wait_advisers, adviser)


def provide_pending_view(view: PendingView) -> None:
    """Offer ``view(handle)``: what shows a ``PendingAction`` (its approval widget), else None."""
    _add(_pending_views, view)


def front_end_approver() -> Approver | None:
    for factory in list(_approver_factories):
        approver = factory()
        if approver is not None:
            return approver
    return None


def front_end_progress(total: int, description: str) -> Progress | None:
    for factory in list(_progress_factories):
        try:
            progress = factory(total, description)
        except Exception:  # progress is never worth failing a search for
            progress = None
        if progress is not None:
            return progress
    return None


def hosted_by_notebook() -> bool:
    """True when a notebook front end hosts this process (see :func:`provide_host_check`)."""
    return any(check() for check in list(_host_checks))


def waiting_advice() -> str | None:
    """Why a click could never reach code that awaits it on this thread; None when it can."""
    for adviser in list(_wait_advisers):
        advice = adviser()
        if advice:
            return advice
    return None


def pending_view(handle: PendingAction[Any]) -> Any:
    """The front end's view of ``handle`` (its approval widget), or None."""
    for view in list(_pending_views):
        shown = view(handle)
        if shown is not None:
            return shown
    return None
