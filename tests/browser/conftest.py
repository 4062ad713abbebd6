"""A real JupyterLab on a loopback port and Debian's headless Chromium, driven by Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (CHROMIUM overrides). Without
it the browser tests are skipped, except under CI (env CI set), where that is a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require(condition: bool, why: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {why}")
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lab:
    def __init__(self, url: str, token: str, root: Path, home: Path) -> None:
        self.url = url
        self.token = token
        self.root = root
        self.home = home  # the kernel's NB_EMAIL_CONN_HOME (saved connections)

    def notebook7_url(self, name: str) -> str:
        """The same notebook in Jupyter Notebook 7 (the notebook package's pages on this server)."""
        return f"{self.url}/notebooks/{name}?token={self.token}"

    def notebook_url(self, name: str) -> str:
        # A workspace per notebook: otherwise JupyterLab reopens the previous test's notebook.
        workspace = name.replace(".", "-")
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}"

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        notebook = {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"c{i}",
                    "metadata": {},
                    "outputs": [],
                    "source": src,
                }
                for i, src in enumerate(cells)
            ],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        path = self.root / name
        path.write_text(json.dumps(notebook))
        return path


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    _require(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    _require(shutil.which("jupyter", path=str(Path(sys.executable).parent)) is not None, "jupyter lab not installed")
    _require((REPO / "nb_email_conn" / "static" / "manager.js").exists(), "front end not built (npm run build in js/)")
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    settings = base / "settings" / "@jupyter-widgets" / "jupyterlab-manager"
    root.mkdir()
    settings.mkdir(parents=True)
    # Widget-state saving on: the saved notebook then holds every synced trait (the test
    # proves the password is not among them).
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"saveState": True}))
    news = base / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))  # no popup
    port = _free_port()
    token = secrets.token_hex(16)
    home = base / "nec-home"
    home.mkdir()
    env = {
        **os.environ,
        # tests/ too: the kernel loads the in-memory keyring from tests/servers/memory_keyring.py.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH")])),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "NB_EMAIL_CONN_HOME": str(home),
        # The kernel is another process: the test's in-memory keyring cannot reach it, so each
        # kernel gets its own (never the machine's real keyring).
        "PYTHON_KEYRING_BACKEND": "servers.memory_keyring.MemoryKeyring",
    }
    log = (base / "lab.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",  # CI runs as root; the server only listens on loopback with a token
            "--LabApp.extension_manager=readonly",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",
            "--JupyterNotebookApp.expose_app_in_browser=True",  # Notebook 7 (/notebooks/…) on the same server
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):  # noqa: S310 (http on loopback)
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.terminate()
        pytest.fail(f"JupyterLab did not start; see {base / 'lab.log'}")
    try:
        yield Lab(url, token, root, home)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")  # Playwright's sync API runs an event loop: end it with the module
def browser() -> Iterator[Any]:
    _require(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
