"""The command line: `nb-email-conn sandbox` and `nb-email-conn demo`, run as real processes."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _close_pipes() -> Iterator[None]:
    yield
    for process in _spawned:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    _spawned.clear()


_spawned: list[subprocess.Popen[str]] = []


def _spawn(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NB_EMAIL_CONN_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
        "JUPYTER_RUNTIME_DIR": str(home / "jupyter-runtime"),  # keep the demo test out of ~/.local
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "nb_email_conn.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    _spawned.append(process)
    return process


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """Stdout up to and including the line containing ``marker``. A reader thread feeds a
    queue, because select() on a buffered text pipe misses lines already in the buffer."""
    assert process.stdout is not None
    stdout = process.stdout
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    process.kill()
    stderr = process.stderr.read() if process.stderr else ""
    raise AssertionError(f"no {marker!r} in the output:\n{''.join(seen)}\n{stderr}")


def _field(output: str, label: str) -> str:
    match = re.search(rf"^{label}\s+(\S+)", output, re.MULTILINE)
    assert match, (label, output)
    return match.group(1)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_sandbox_command_prints_the_details_and_stops_on_a_signal(isolated_home: Path, stop_signal: int) -> None:
    process = _spawn(isolated_home, "sandbox", "--empty")
    try:
        output = _read_until(process, "Press Ctrl-C", timeout=60)
        host, imap_port = _field(output, "IMAP").rsplit(":", 1)
        _, smtp_port = _field(output, "SMTP").rsplit(":", 1)
        user, password, ca_file = _field(output, "User"), _field(output, "Password"), _field(output, "CA file")
        assert host == "127.0.0.1"
        assert user == "demo@sandbox.local"
        assert "StartTls" in output
        assert int(smtp_port) > 0

        client = imapclient.IMAPClient(host, port=int(imap_port), ssl=False, timeout=10)
        client.starttls(ssl.create_default_context(cafile=ca_file))
        client.login(user, password)
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
        client.logout()
        recorded = json.loads((isolated_home / "sandbox.json").read_text())
        assert recorded["pid"] == process.pid

        process.send_signal(stop_signal)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not (isolated_home / "sandbox.json").exists()
    with pytest.raises(OSError):
        socket.create_connection((host, int(imap_port)), timeout=1).close()


def test_sandbox_command_reports_the_seeded_count(isolated_home: Path) -> None:
    process = _spawn(isolated_home, "sandbox")
    try:
        output = _read_until(process, "Press Ctrl-C", timeout=60)
    finally:
        process.terminate()
        process.wait(timeout=20)
    count = int(re.search(r"running: (\d+) demo messages", output).group(1))  # type: ignore[union-attr]
    assert 140 <= count <= 160


def test_bad_arguments_exit_with_usage(isolated_home: Path) -> None:
    process = _spawn(isolated_home, "sandbox", "--imap-port", "99999")
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "a port is 0" in stderr


def test_a_taken_port_is_a_clear_error(isolated_home: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        process = _spawn(isolated_home, "sandbox", "--imap-port", str(holder.getsockname()[1]))
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "already in use" in stderr
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_demo_runs_jupyterlab_on_the_notebook_and_stops_both(isolated_home: Path, tmp_path: Path) -> None:
    notebook = tmp_path / "nb" / "try.ipynb"
    notebook.parent.mkdir()
    notebook.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    process = _spawn(isolated_home, "demo", "--empty", "--no-browser", "--port", "0", "--notebook", str(notebook))
    try:
        output = _read_until(process, "Press Ctrl-C", timeout=150)
        url = _field(output, "JupyterLab")
        assert url.startswith("http://127.0.0.1:")
        assert "/lab/tree/try.ipynb?token=" in url
        base, token = url.split("/lab/")[0], url.split("token=")[1]
        request = urllib.request.Request(  # noqa: S310 (the http://127.0.0.1 URL the command printed)
            f"{base}/api/contents/try.ipynb", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert json.load(response)["name"] == "try.ipynb"
        assert _field(output, "User") == "demo@sandbox.local"
        imap_port = int(_field(output, "IMAP").rsplit(":", 1)[1])
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not (isolated_home / "sandbox.json").exists()
    for port in (imap_port, int(base.rsplit(":", 1)[1])):
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
