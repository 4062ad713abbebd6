"""Shared fixtures: real servers started once per session, and per-test isolation.

Session servers: ``dovecot`` (IMAP), ``smtp_implicit`` / ``smtp_starttls`` / ``smtp_plain``
(aiosmtpd; their recordings are cleared before each test that uses them). Every test gets
its own ``NB_EMAIL_CONN_HOME`` and an in-memory keyring (``memory_keyring``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest
from servers.certs import TestCerts, make_test_certs
from servers.dovecot import DOVECOT_BINARY, DovecotServer, DovecotStartError, dovecot_available
from servers.memory_keyring import MemoryKeyring
from servers.smtp import SmtpMode, SmtpServer

_startup_times: dict[str, float] = {}


def pytest_configure(config: pytest.Config) -> None:
    # aiosmtpd warns (in its server thread) about AUTH without TLS, which the "plain" and
    # "implicit" servers allow on purpose, and about its own use of a deprecated attribute.
    config.addinivalue_line("filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning")
    config.addinivalue_line("filterwarnings", "ignore:Session.login_data is deprecated:DeprecationWarning")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _startup_times:
        times = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in _startup_times.items())
        terminalreporter.write_line(f"test servers started in: {times}")


# --- per-test isolation ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def memory_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Per test: a private config folder and an in-memory keyring (never the real one)."""
    home = tmp_path / "nb-email-conn-home"
    home.mkdir()
    monkeypatch.setenv("NB_EMAIL_CONN_HOME", str(home))
    previous: keyring.backend.KeyringBackend = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


# --- TLS material --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def test_certs(tmp_path_factory: pytest.TempPathFactory) -> TestCerts:
    """Trusted CA + localhost cert, an untrusted CA + cert, and a wrong-host cert."""
    return make_test_certs(tmp_path_factory.mktemp("certs"))


# --- Dovecot -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dovecot(test_certs: TestCerts) -> Iterator[DovecotServer]:
    """Dovecot on 127.0.0.1: ``imaps_port``, ``starttls_port``, ``plain_port``, ``users``."""
    if not dovecot_available():
        message = f"Dovecot is not installed ({DOVECOT_BINARY}); install the Debian package dovecot-imapd."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = DovecotServer(certs=test_certs)
    try:
        server.start()
    except DovecotStartError as exc:
        pytest.fail(str(exc))
    _startup_times["dovecot"] = server.startup_seconds
    yield server
    server.stop()


@pytest.fixture
def fresh_mailbox(dovecot: DovecotServer) -> DovecotServer:
    """Dovecot with alice's mailbox emptied (default folders only, no messages)."""
    dovecot.reset_mailbox("alice@example.org")
    return dovecot


# --- SMTP --------------------------------------------------------------------------------


def _start_smtp(mode: SmtpMode, certs: TestCerts) -> Iterator[SmtpServer]:
    server = SmtpServer(mode, certs).start()
    _startup_times[f"smtp_{mode}"] = server.startup_seconds
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _smtp_implicit_server(test_certs: TestCerts) -> Iterator[SmtpServer]:
    yield from _start_smtp("implicit", test_certs)


@pytest.fixture(scope="session")
def _smtp_starttls_server(test_certs: TestCerts) -> Iterator[SmtpServer]:
    yield from _start_smtp("starttls", test_certs)


@pytest.fixture(scope="session")
def _smtp_plain_server(test_certs: TestCerts) -> Iterator[SmtpServer]:
    yield from _start_smtp("plain", test_certs)


@pytest.fixture
def smtp_implicit(_smtp_implicit_server: SmtpServer) -> SmtpServer:
    """aiosmtpd with implicit TLS and required AUTH; ``.messages`` empty at test start."""
    _smtp_implicit_server.reset()
    return _smtp_implicit_server


@pytest.fixture
def smtp_starttls(_smtp_starttls_server: SmtpServer) -> SmtpServer:
    """aiosmtpd requiring STARTTLS before anything, then AUTH; recordings cleared."""
    _smtp_starttls_server.reset()
    return _smtp_starttls_server


@pytest.fixture
def smtp_plain(_smtp_plain_server: SmtpServer) -> SmtpServer:
    """aiosmtpd without TLS (no STARTTLS offered), AUTH in clear; recordings cleared."""
    _smtp_plain_server.reset()
    return _smtp_plain_server


# --- CI: a test that cannot run is a failure, not a silent skip ----------------------------


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI every real-server and browser test must run: any skip fails the run."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        if reporter is not None:
            reporter.write_line(f"CI: {len(skipped)} test(s) were skipped; under CI that is a failure:", red=True)
            for report in skipped[:20]:
                reporter.write_line(f"  {report.nodeid}: {report.longrepr}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
