"""The ``nb-email-conn`` command.

``nb-email-conn sandbox``  runs the local IMAP + SMTP sandbox in the foreground.
``nb-email-conn demo``     runs the sandbox and JupyterLab on the quickstart notebook.
``nb-email-conn mcp NAME`` serves a saved connection's tools to an MCP client on stdio.

The first two print what a person needs to connect any mail client, and stop on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from .errors import EmailConnError

_JUPYTER_START_TIMEOUT = 120.0


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 (any free port) to 65535; got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nb-email-conn",
        description="Connect your own mailbox (IMAP + SMTP) inside Jupyter. "
        "These commands run a local sandbox mail server with a demo mailbox.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--imap-port", type=_port, default=0, metavar="N", help="IMAP port (default: any free port)")
        sub.add_argument("--smtp-port", type=_port, default=0, metavar="N", help="SMTP port (default: any free port)")
        sub.add_argument("--empty", action="store_true", help="start with empty folders instead of the demo mailbox")
        sub.add_argument(
            "--no-tls",
            action="store_true",
            help="plaintext IMAP/SMTP (for clients that cannot trust the sandbox CA); loopback only",
        )

    sandbox = commands.add_parser("sandbox", help="run the local IMAP + SMTP sandbox until Ctrl-C")
    server_options(sandbox)
    demo = commands.add_parser("demo", help="run the sandbox and JupyterLab on the quickstart notebook")
    server_options(demo)
    demo.add_argument("--port", type=_port, default=8888, help="JupyterLab port (default: 8888; 0 = any free port)")
    demo.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    demo.add_argument("--notebook", type=Path, metavar="PATH", help="notebook to open (default: the quickstart)")
    mcp = commands.add_parser(
        "mcp",
        help="serve a saved connection's tools to an MCP client on stdio (its saved policies and guardrails)",
    )
    mcp.add_argument("name", metavar="NAME", help="the saved connection (nec.save_connection) to serve")
    return parser


class _StopRequested(Exception):
    pass


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM (and SIGINT) into an exception in the main thread, so cleanup runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _StopRequested(signal.Signals(signum).name)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _say(text: str = "") -> None:
    print(text, flush=True)


def _start_sandbox(args: argparse.Namespace) -> object:
    from . import sandbox

    sandbox.start(
        imap_port=args.imap_port,
        smtp_port=args.smtp_port,
        seed=not args.empty,
        fresh=True,  # this process owns the sandbox it prints
        tls=not args.no_tls,
    )
    running = sandbox.current()
    assert running is not None
    timings = running.timings
    if timings is not None:
        _say(
            f"nb-email-conn sandbox is running: {timings.message_count} demo messages, "
            f"started in {timings.start_seconds:.2f} s (seeding {timings.seed_seconds:.2f} s)."
        )
    _say(running.describe())
    _say("From Python: import nb_email_conn as nec; cfg = nec.sandbox.start()  (attaches to this sandbox)")
    return running


def _run_sandbox(args: argparse.Namespace) -> int:
    from . import sandbox

    try:
        _start_sandbox(args)
        _say("Press Ctrl-C to stop.")
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, _StopRequested):
        _say("\nStopping the sandbox.")
    finally:
        sandbox.stop()
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _find_notebook(explicit: Path | None) -> Path | None:
    """The notebook to open: --notebook, else the repository's quickstart, else a copy of
    the one shipped in the package (copied, so the user edits their own file)."""
    if explicit is not None:
        return explicit.expanduser().resolve()
    package_dir = Path(__file__).resolve().parent
    repo_copy = package_dir.parent / "notebooks" / "quickstart.ipynb"
    if repo_copy.is_file():
        return repo_copy
    shipped = package_dir / "notebooks" / "quickstart.ipynb"
    if shipped.is_file():
        from .sandbox.state import home_dir

        target = home_dir() / "demo" / "quickstart.ipynb"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shipped, target)
        return target
    return None


def _wait_for_jupyter(process: subprocess.Popen[bytes], port: int, token: str) -> bool:
    url = f"http://127.0.0.1:{port}/api/status"
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    deadline = time.monotonic() + _JUPYTER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _run_demo(args: argparse.Namespace) -> int:
    from . import sandbox
    from .sandbox.state import home_dir

    notebook = _find_notebook(args.notebook)
    if args.notebook is not None and (notebook is None or not notebook.is_file()):
        print(f"nb-email-conn: notebook {args.notebook} does not exist.", file=sys.stderr)
        return 2
    port = args.port
    if port == 0:
        port = _free_port()
    elif not _port_is_free(port):
        chosen = _free_port()
        _say(f"Port {port} is in use; JupyterLab will use port {chosen}.")
        port = chosen
    token = secrets.token_hex(24)
    log_dir = home_dir() / "demo"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "jupyterlab.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        _start_sandbox(args)
        root = notebook.parent if notebook is not None else Path.cwd()
        command = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}",
            f"--ServerApp.open_browser={not args.no_browser}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # containers and CI run as root; Jupyter refuses without it
        if notebook is not None:
            command.append(str(notebook))
        # The token goes by environment, not argv, so other users cannot read it from `ps`.
        env = {**os.environ, "JUPYTER_TOKEN": token, "NB_EMAIL_CONN_HOME": str(home_dir())}
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: S603
        if not _wait_for_jupyter(process, port, token):
            print(f"nb-email-conn: JupyterLab did not start; see {log_path}.", file=sys.stderr)
            return 1
        path = f"lab/tree/{urllib.parse.quote(notebook.name)}" if notebook is not None else "lab"
        _say(f"JupyterLab {f'http://127.0.0.1:{port}/{path}?token={token}'}")
        _say(f"JupyterLab log: {log_path}")
        _say("Press Ctrl-C to stop JupyterLab and the sandbox.")
        while process.poll() is None:
            time.sleep(0.5)
        return 0 if process.returncode in (0, -signal.SIGTERM) else int(process.returncode or 1)
    except (KeyboardInterrupt, _StopRequested):
        _say("\nStopping JupyterLab and the sandbox.")
        return 0
    finally:
        if process is not None:
            with contextlib.suppress(KeyboardInterrupt, _StopRequested):
                _stop_process(process)
        sandbox.stop()


def _run_mcp(args: argparse.Namespace) -> int:
    """stdout is the protocol: everything a person reads goes to stderr."""
    import anyio

    from .agents.mcp_server import serve_stdio
    from .store import connect

    conn = connect(args.name)
    server = conn.tools().mcp_server()
    print(f"nb-email-conn: serving {conn.name!r} over MCP on stdio ({', '.join(conn.tools().names)})", file=sys.stderr)
    try:
        anyio.run(serve_stdio, server)
    except (KeyboardInterrupt, _StopRequested):
        pass
    finally:
        conn.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with _stop_on_signals():
            if args.command == "sandbox":
                return _run_sandbox(args)
            if args.command == "mcp":
                return _run_mcp(args)
            return _run_demo(args)
    except EmailConnError as exc:
        print(f"nb-email-conn: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
