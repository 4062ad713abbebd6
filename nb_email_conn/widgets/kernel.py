"""Facts about the Jupyter kernel we may be running in (no widget imports here: cheap to call)."""

from __future__ import annotations

import sys
import threading

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
