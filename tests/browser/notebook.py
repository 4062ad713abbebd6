"""Small steps on a JupyterLab notebook page (open, run a cell, read outputs, save)."""

from __future__ import annotations

import time
from typing import Any

RUN_CELL = "notebook:run-cell"


def open_notebook(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_idle(page, timeout=90)


def kernel_status(page: Any) -> str:
    return str(
        page.evaluate(
            """() => {
              const panel = window.jupyterapp.shell.currentWidget;
              const kernel = panel && panel.sessionContext && panel.sessionContext.session
                && panel.sessionContext.session.kernel;
              return kernel ? kernel.status : "none";
            }"""
        )
    )


def wait_idle(page: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if kernel_status(page) == "idle":
            return
        time.sleep(0.1)
    raise AssertionError(f"kernel not idle after {timeout} s (status {kernel_status(page)})")


def run_cell(page: Any, index: int, *, wait: bool = True) -> None:
    """Run cell ``index`` (0-based); wait for the kernel to be idle unless told not to."""
    page.evaluate(
        """(index) => {
          const panel = window.jupyterapp.shell.currentWidget;
          panel.content.activeCellIndex = index;
          // Not awaited: the command resolves only when the cell finishes, and a cell may
          // be waiting for a click this test has yet to make.
          window.jupyterapp.commands.execute("notebook:run-cell");
        }""",
        index,
    )
    if wait:
        time.sleep(0.2)
        wait_idle(page)


def cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def output_text(page: Any, index: int) -> str:
    return str(cell(page, index).locator(".jp-OutputArea").inner_text())


def wait_for_output(page: Any, index: int, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = output_text(page, index)
        if text in current:
            return current
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the output of cell {index}: {output_text(page, index)!r}")


def save(page: Any) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
