"""A real ``marimo edit --headless`` on a loopback port, and small steps on its page.

The server runs one notebook file with a private marimo config (no cell runs until the test
clicks its run button, and running one cell never runs its dependents), a private
``NB_EMAIL_CONN_HOME`` and the in-memory keyring, like the JupyterLab fixture.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .conftest import REPO, _free_port

MARIMO = Path(sys.executable).parent / "marimo"
# auto_instantiate off: opening the page runs nothing; lazy: a cell runs only when clicked.
CONFIG = """\
[runtime]
auto_instantiate = false
on_cell_change = "lazy"
[display]
theme = "light"
[completion]
activate_on_typing = false
"""


def notebook_source(cells: list[str]) -> str:
    """A marimo notebook file: each cell is a function; marimo reads the names it uses and defines."""
    parts = ["import marimo\n\napp = marimo.App()\n"]
    for source in cells:
        asynchronous = "await " in source
        body = textwrap.indent(source.strip("\n"), "    ")
        parts.append(f"\n@app.cell\n{'async ' if asynchronous else ''}def _():\n{body}\n    return\n")
    parts.append('\n\nif __name__ == "__main__":\n    app.run()\n')
    return "\n".join(parts)


class MarimoServer:
    def __init__(self, url: str, root: Path, home: Path, log: Path) -> None:
        self.url = url
        self.root = root
        self.home = home
        self.log = log


@contextlib.contextmanager
def marimo_edit(
    base: Path, name: str, source: str, config: str = CONFIG, *, command: str = "edit"
) -> Iterator[MarimoServer]:
    """``marimo edit --headless NAME`` (a notebook file with ``source``) until the block ends;
    ``command="run"``: the app view, ``marimo run``, where every cell runs when the page opens."""
    root, home, config_home = base / "root", base / "nec-home", base / "xdg-config"
    config_dir = config_home / "marimo"
    for folder in (root, home, config_dir):
        folder.mkdir(parents=True, exist_ok=True)
    (config_dir / "marimo.toml").write_text(config)
    (root / name).write_text(source)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH")])),
        "NB_EMAIL_CONN_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "servers.memory_keyring.MemoryKeyring",
        "XDG_CONFIG_HOME": str(config_home),
        "XDG_CACHE_HOME": str(base / "xdg-cache"),
        "XDG_STATE_HOME": str(base / "xdg-state"),
        "XDG_DATA_HOME": str(base / "xdg-data"),
    }
    log_path = base / "marimo.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                str(MARIMO),
                command,
                "--headless",
                "--host=127.0.0.1",
                f"--port={port}",
                f"--token-password={token}",
                *(["--skip-update-check"] if command == "edit" else []),
                "--no-sandbox",
                name,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"{url}/health", timeout=2):  # noqa: S310 (http on loopback)
                        break
                except OSError:
                    if process.poll() is not None:
                        break
                    time.sleep(0.3)
            else:
                raise AssertionError(f"marimo did not start; see {log_path}")
            if process.poll() is not None:
                raise AssertionError(f"marimo exited ({process.returncode}); see {log_path}")
            yield MarimoServer(f"{url}/?access_token={token}", root, home, log_path)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def open_notebook(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("[data-cell-id]", timeout=60_000)


def cell(page: Any, index: int) -> Any:
    return page.locator("[data-cell-id]").nth(index)


def run_cell(page: Any, index: int) -> None:
    """Click cell ``index``'s run button (0-based). It returns at once: wait for what the cell shows."""
    # A JS click: marimo's sticky header may cover the button for Playwright's pointer checks.
    cell(page, index).get_by_test_id("run-button").first.evaluate("button => button.click()")


def console_text(page: Any, index: int) -> str:
    area = cell(page, index).locator(".console-output-area")
    return str(area.inner_text()) if area.count() else ""


def wait_for_console(page: Any, index: int, text: str, timeout: float = 60) -> str:
    """Wait until what cell ``index`` printed contains ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = console_text(page, index)
        if text in current:
            return current
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not printed by cell {index}: {console_text(page, index)!r}")


def visible(locator: Any, timeout: float = 60) -> Any:
    """The one visible element of ``locator`` (marimo may keep a hidden copy of an output)."""
    shown = locator.filter(visible=True)
    shown.first.wait_for(timeout=timeout * 1000)
    assert shown.count() == 1, f"{shown.count()} visible elements"
    return shown.first
