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


def wait_kernel(page: Any, status: str, timeout: float = 60) -> None:
    """Wait until the notebook's kernel reports ``status`` ("idle"; "busy" while a cell runs or awaits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if kernel_status(page) == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"kernel not {status} after {timeout} s (status {kernel_status(page)})")


def wait_idle(page: Any, timeout: float = 60) -> None:
    wait_kernel(page, "idle", timeout)


def prompt(page: Any, index: int) -> str:
    """The input prompt of cell ``index``: ``[ ]:`` never run, ``[*]:`` queued or running, ``[7]:`` done."""
    # textContent, not innerText: JupyterLab skips rendering cells out of view
    # (content-visibility: auto), and innerText of a skipped cell is empty.
    return str(cell(page, index).locator(".jp-InputPrompt").text_content() or "").strip()


def _send_run(page: Any, index: int) -> None:
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


def run_cell(page: Any, index: int, *, wait: bool = True, timeout: float = 60) -> None:
    """Run cell ``index`` (0-based) and make sure it really started: its prompt leaves what it
    showed before (a run request sent while the page re-renders, a theme switch under load for
    one, can be lost, so it is sent once more). Unless told not to, wait until the cell is done
    and the kernel idle."""
    before = prompt(page, index)
    started = False
    for _attempt in range(2):
        _send_run(page, index)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if prompt(page, index) != before:
                started = True
                break
            time.sleep(0.05)
        if started:
            break
    if not started:
        raise AssertionError(f"cell {index} did not start (prompt still {before!r})")
    if wait:
        deadline = time.monotonic() + timeout
        while prompt(page, index) in ("[*]:", before) and time.monotonic() < deadline:
            time.sleep(0.05)
        wait_idle(page, timeout=max(1.0, deadline - time.monotonic()))


def cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def output_text(page: Any, index: int) -> str:
    # innerText keeps the lines apart; a cell out of view (not rendered) has only textContent.
    return str(cell(page, index).locator(".jp-OutputArea").evaluate("(el) => el.innerText || el.textContent || ''"))


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
