"""nb_email_conn.sandbox.start()/current()/stop() and sharing a sandbox between processes
through the state file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nb_email_conn import sandbox
from nb_email_conn.config import Encryption
from nb_email_conn.sandbox import state
from nb_email_conn.secrets import get_password

from .conftest import imap_login

REPO = Path(__file__).resolve().parents[2]


def test_start_returns_a_ready_config_and_writes_a_private_state_file(isolated_home: Path) -> None:
    cfg = sandbox.start(seed=False)
    running = sandbox.current()
    assert running is not None
    assert running.owned
    assert (cfg.name, cfg.username) == ("sandbox", sandbox.DEMO_USER)
    assert (cfg.imap_host, cfg.smtp_host) == ("127.0.0.1", "127.0.0.1")
    assert (cfg.imap_port, cfg.smtp_port) == (running.imap_port, running.smtp_port)
    assert cfg.imap_encryption is Encryption.STARTTLS
    assert cfg.smtp_encryption is Encryption.STARTTLS
    assert cfg.verify_tls
    assert cfg.ca_file
    assert Path(cfg.ca_file).is_file()
    assert get_password("sandbox") == running.password  # in the session-only store

    state_file = isolated_home / "sandbox.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    recorded = json.loads(state_file.read_text())
    assert recorded["pid"] == os.getpid()
    assert recorded["imap_port"] == cfg.imap_port
    assert recorded["password"] not in repr(state.read_state(state_file))

    assert sandbox.start() == cfg  # a second start() reuses the running one
    sandbox.stop()
    assert sandbox.current() is None
    assert not state_file.exists()
    assert not Path(cfg.ca_file).exists()


def test_another_process_attaches_to_the_running_sandbox(isolated_home: Path) -> None:
    cfg = sandbox.start(seed=False)
    running = sandbox.current()
    assert running is not None
    code = (
        "import json, nb_email_conn.sandbox as s\n"
        "cfg = s.start()\n"
        "cur = s.current()\n"
        "print(json.dumps([cfg.imap_port, cfg.smtp_port, cfg.ca_file, cur.owned, cur.pid, cur.password]))\n"
        "s.stop()\n"
    )
    env = {**os.environ, "NB_EMAIL_CONN_HOME": str(isolated_home), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    imap_port, smtp_port, ca_file, owned, pid, password = json.loads(out.stdout.strip().splitlines()[-1])
    assert (imap_port, smtp_port, ca_file) == (cfg.imap_port, cfg.smtp_port, cfg.ca_file)
    assert owned is False
    assert pid == os.getpid()
    assert password == running.password
    # The other process's stop() only forgot its handle: ours still serves.
    assert (isolated_home / "sandbox.json").exists()
    imap_login(running).logout()


def test_attach_in_a_fresh_module_view_and_fresh_true(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = sandbox.Sandbox(seed=False, state_file=state.default_state_file()).start()
    try:
        monkeypatch.setattr(sandbox, "_current", None)  # as a kernel that has not started anything sees it
        cfg = sandbox.start()
        attached = sandbox.current()
        assert attached is not None
        assert not attached.owned
        assert cfg.imap_port == owner.imap_port
        imap_login(attached).logout()

        fresh_cfg = sandbox.start(fresh=True, seed=False)
        assert fresh_cfg.imap_port != owner.imap_port
        assert owner.running  # forgetting an attached handle never stops its owner
        sandbox.stop()
    finally:
        owner.stop()


def test_a_stale_state_file_is_ignored_and_removed(isolated_home: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = state.SandboxState(
        pid=int(dead.stdout),
        host="127.0.0.1",
        imap_port=1,
        smtp_port=2,
        username=sandbox.DEMO_USER,
        password="old",
        encryption="StartTls",
        ca_file=None,
        started_at="2024-01-01T00:00:00+00:00",
    )
    path = state.default_state_file()
    state.write_state(path, stale)
    cfg = sandbox.start(seed=False)
    assert cfg.imap_port != 1
    running = sandbox.current()
    assert running is not None
    assert running.owned
    assert json.loads(path.read_text())["pid"] == os.getpid()


def test_a_live_process_without_the_sandbox_port_is_not_attached(isolated_home: Path) -> None:
    path = state.default_state_file()
    state.write_state(
        path,
        state.SandboxState(
            pid=os.getpid(),  # alive, but nothing answers on the port
            host="127.0.0.1",
            imap_port=9,
            smtp_port=9,
            username=sandbox.DEMO_USER,
            password="x",
            encryption="StartTls",
            ca_file=None,
            started_at="2024-01-01T00:00:00+00:00",
        ),
    )
    assert state.find_running(path) is None
    cfg = sandbox.start(seed=False)
    assert cfg.imap_port != 9
