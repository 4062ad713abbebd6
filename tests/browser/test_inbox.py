"""The live inbox in a real JupyterLab: a message appended by another IMAP client appears at the top,
the list reads well in the dark theme, Stop ends the watch, and no secret reaches the saved notebook."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from .notebook import cell, open_notebook, run_cell, save, wait_for_output

pytestmark = [pytest.mark.browser, pytest.mark.dovecot, pytest.mark.slow, pytest.mark.timeout(240)]
USER = "alice@example.org"


def mail(subject: str) -> bytes:
    return f'From: "Bob Example" <bob@example.org>\r\nTo: {USER}\r\nSubject: {subject}\r\n\r\nhi\r\n'.encode()


def luminance(css_color: str) -> float:
    red, green, blue = (int(part) for part in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_an_appended_message_appears_and_stop_works(lab: Any, page: Any, fresh_mailbox: Any) -> None:
    dovecot = fresh_mailbox
    dovecot.append(USER, "INBOX", mail("already there"), flags=[b"\\Seen"])
    # The password reaches the kernel through a file, so the notebook's own text never holds it.
    (lab.root / "inbox-password.txt").write_text(dovecot.password)
    lab.write_notebook(
        "inbox.ipynb",
        [
            "import pathlib\nimport nb_email_conn as nec\nfrom nb_email_conn.widgets import LiveInbox\n"
            f"cfg = nec.ConnectionConfig(name='inbox', username={USER!r}, imap_host={dovecot.host!r},"
            f" imap_port={dovecot.imaps_port}, imap_encryption='SslOnConnect', ca_file={dovecot.ca_file!r},"
            f" smtp_host={dovecot.host!r}, smtp_port=1, timeout=10)\n"
            "conn = nec.EmailConnection(cfg, password=pathlib.Path('inbox-password.txt').read_text())\n"
            "inbox = LiveInbox(conn, limit=5, idle_renew=60)\ninbox",
            "print('state:', inbox.status['state'], '| running:', inbox.watch.running,"
            " '| subjects:', [m['subject'] for m in inbox.messages])",
        ],
    )
    open_notebook(page, lab.notebook_url("inbox.ipynb"))
    run_cell(page, 0)
    widget = cell(page, 0).get_by_test_id("nec-inbox")
    widget.wait_for()
    status = widget.get_by_test_id("inbox-status")
    status.get_by_text("Watching 'INBOX' (IDLE).").wait_for(timeout=30_000)
    rows = widget.get_by_test_id("inbox-message")
    rows.first.get_by_text("already there").wait_for(timeout=30_000)

    appended = time.perf_counter()
    dovecot.append(USER, "INBOX", mail("<b>Fresh</b> from another client"))  # as text, never as HTML
    rows.first.get_by_text("<b>Fresh</b> from another client").wait_for(timeout=30_000)
    shown_after = time.perf_counter() - appended
    assert rows.count() == 2
    assert rows.first.get_attribute("data-arrived") == "true"
    assert rows.first.get_attribute("data-unread") == "true"
    assert rows.nth(1).get_attribute("data-unread") == "false"
    assert widget.locator("b").count() == 0

    shots = Path(tempfile.mkdtemp(prefix="nec-inbox-"))
    for theme, dark in (("JupyterLab Dark", True), ("JupyterLab Light", False)):
        page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
        page.wait_for_function("(theme) => document.body.dataset.jpThemeName === theme", arg=theme, timeout=30_000)
        page.wait_for_timeout(300)
        subject = rows.first.locator(".nec-inbox-subject")
        color = subject.evaluate("(el) => getComputedStyle(el).color")
        assert (luminance(color) > 0.5) == dark, f"the subject is hard to read in {theme}: {color}"
        widget.screenshot(path=str(shots / f"inbox-{'dark' if dark else 'light'}.png"))

    widget.locator("button[name=stop]").click()
    status.get_by_text("Stopped.").wait_for(timeout=30_000)
    assert widget.locator("button[name=stop]").is_disabled()
    run_cell(page, 1)
    wait_for_output(page, 1, "state: stopped | running: False")
    dovecot.append(USER, "INBOX", mail("after the stop"))
    page.wait_for_timeout(1500)
    assert rows.count() == 2  # a stopped inbox takes no more mail

    save(page)
    saved = (lab.root / "inbox.ipynb").read_text()
    state = json.loads(saved)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any("messages" in m["state"] for m in state.values()), "widget state was not saved"
    assert dovecot.password not in saved
    print(f"\nappend to shown in the widget: {shown_after:.2f} s; screenshots in {shots}")
