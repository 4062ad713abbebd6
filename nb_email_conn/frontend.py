"""What the front end hosting the kernel gives the core: a default approver and a progress display.

The core never reaches for a front end. The Jupyter layer (``widgets/``) is wired in by the
package's ``__init__``; another host (a console app, a test) may provide its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .policy import Approver
    from .progress import Progress

ApproverFactory = Callable[[], "Approver | None"]
ProgressFactory = Callable[[int, str], "Progress | None"]

_approver_factories: list[ApproverFactory] = []
_progress_factories: list[ProgressFactory] = []


def provide_approver(factory: ApproverFactory) -> None:
    """Offer a default approver: ``factory()`` returns one where it applies, else None."""
    if factory not in _approver_factories:
        _approver_factories.append(factory)


def provide_progress(factory: ProgressFactory) -> None:
    """Offer a progress display: ``factory(total, description)`` returns one where it applies, else None."""
    if factory not in _progress_factories:
        _progress_factories.append(factory)


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
