"""What every widget of the package shares: the built front-end files and strict keyword arguments."""

from __future__ import annotations

import pathlib
from typing import Any

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"

_NOT_BUILT = """
export default { render({ el }) {
  el.textContent = "nb-email-conn: the front end is not built. Run `npm ci && npm run build` in js/ "
    + "(or install the package from a wheel), then restart the kernel.";
} };
"""


def static_file(name: str) -> pathlib.Path | str:
    """The built front-end file ``name``; a module that says how to build it when it is missing.

    anywidget reads a ``Path`` itself and watches it for changes only when ``ANYWIDGET_HMR=1``.
    """
    path = STATIC / name
    if path.is_file():
        return path
    return _NOT_BUILT if name.endswith(".js") else ""


def reject_unknown_kwargs(owner: str, kwargs: dict[str, Any], accepted: frozenset[str]) -> None:
    """Refuse keyword arguments a widget does not know: a typo is an error, not a silent no-op."""
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise TypeError(
            f"{owner}() got unexpected keyword argument(s): {', '.join(unknown)}. "
            f"Accepted: {', '.join(sorted(accepted))}."
        )
