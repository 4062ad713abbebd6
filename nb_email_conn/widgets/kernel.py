"""Facts about the notebook kernel we may be running in, Jupyter or marimo (no widget imports here: cheap to call)."""

from __future__ import annotations

import sys
import threading
from typing import Any

# A cell that awaits a future receives widget clicks only from ipykernel 7.4 on (measured in
# JupyterLab: 6.x to 7.3 process no comm message until the cell ends, so it would hang).
AWAIT_IN_CELL_MIN_IPYKERNEL = (7, 4)


def in_kernel_with_frontend() -> bool:
    """True inside a Jupyter kernel (a front end can show widgets), False in IPython in a terminal."""
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return False
    get_ipython = getattr(ipython_module, "get_ipython", None)
    shell = get_ipython() if get_ipython else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def awaiting_a_click_would_hang() -> bool:
    """True when an awaited call on the kernel's main thread could never see a widget click."""
    if threading.current_thread() is not threading.main_thread() or not in_kernel_with_frontend():
        return False
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version_tuple(version("ipykernel"))
    except PackageNotFoundError:
        return False
    return installed < AWAIT_IN_CELL_MIN_IPYKERNEL


# -- marimo ---------------------------------------------------------------------------------
# marimo's kernel handles one request at a time: a widget click waits until the running cell
# ends. Its runtime context is per thread (the kernel's thread, and mo.Thread copies).

_seen_marimo_kernel = False


def marimo_context() -> Any | None:
    """This thread's marimo kernel context (a notebook cell's thread or a ``mo.Thread``), else None."""
    if "marimo" not in sys.modules:
        return None  # never import marimo just to ask
    global _seen_marimo_kernel
    try:
        import marimo
        from marimo._runtime.context import safe_get_context

        if not marimo.running_in_notebook():
            return None
        context = safe_get_context()
    except Exception:  # another marimo version: then we are not in a marimo notebook we know
        return None
    _seen_marimo_kernel = True
    return context


def hosted_by_marimo() -> bool:
    """True in a process where a marimo notebook kernel ran our code, from any thread."""
    return _seen_marimo_kernel or marimo_context() is not None


def on_marimo_thread() -> bool:
    """True in a ``mo.Thread``: it may block or await, the kernel's thread stays free for the click."""
    try:
        import marimo

        return isinstance(threading.current_thread(), marimo.Thread)
    except Exception:
        return False


def marimo_cell_running(context: Any) -> bool:
    """True while a cell's code runs (its output is where a widget shows)."""
    return getattr(context, "execution_context", None) is not None
