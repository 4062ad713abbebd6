"""The whole notebook journey in a real JupyterLab, against the test Dovecot and SMTP server.

Fill the connection manager's form, Test connection, Save, switch send_email to
confirmation, approve one send and reject another from the inline widget, approve an
awaited send, then save the notebook (widget state on) and check the password is not in it.
Timings are printed (run with -s).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from .notebook import cell, open_notebook, output_text, run_cell, save, wait_for_output

pytestmark = [pytest.mark.browser, pytest.mark.dovecot, pytest.mark.slow, pytest.mark.timeout(180)]

# Screenshots refresh the docs only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves
# the work tree clean; otherwise they go to a temp folder (still taken, so the step is tested).
DOCS_IMAGES = (
    Path(__file__).resolve().parents[2] / "docs" / "images"
    if os.environ.get("UPDATE_SCREENSHOTS")
    else Path(tempfile.mkdtemp(prefix="nec-screens-"))
)
USER = "alice@example.org"

CELLS = [
    # 0: the form
    "import nb_email_conn as nec\nmanager = nec.ConnectionManager()\nmanager",
    # 1: the live connection's policy, as the kernel enforces it
    'print("send_email policy:", manager.connection.policies["send_email"].value)',
    # 2: a synchronous send on the main thread: the widget shows, the call returns a handle
    """h1 = manager.connection.send_email(
    "bob@example.org",
    "Q3 numbers",
    "Hi Bob,\\n\\nthe Q3 numbers are attached.\\n\\nAlice",
    attachments=[("q3.csv", b"region,total\\nnorth,1200\\nsouth,900\\n", "text/csv")],
)""",
    # 3
    'print("h1:", h1.status, "|", h1.result())',
    # 4
    'h2 = manager.connection.send_email("bob@example.org", "Offsite plan", "Let us meet on Friday.")',
    # 5
    """try:
    h2.result()
except nec.ActionRejectedError as exc:
    print("h2:", h2.status, "|", type(exc).__name__, "|", exc)""",
    # 6: an awaited send waits in the cell for the click
    """sent = await manager.connection.send_email_async("bob@example.org", "Thanks", "Thanks for the numbers.")
print("awaited:", sent)""",
]


class Timer:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}

    def measure(self, name: str, started: float) -> None:
        self.laps[name] = time.perf_counter() - started

    def __str__(self) -> str:
        return "; ".join(f"{name} {seconds:.2f} s" for name, seconds in self.laps.items())


def fill_form(form: Any, dovecot: Any, smtp: Any) -> None:
    form.get_by_label("Name", exact=True).fill("work")
    form.get_by_label("Username", exact=True).fill(USER)
    form.get_by_label("Password", exact=True).fill(dovecot.users[USER])
    form.get_by_label("IMAP Host", exact=True).fill(dovecot.host)
    form.get_by_label("IMAP Encryption", exact=True).select_option("StartTls")
    assert form.get_by_label("IMAP Port", exact=True).input_value() == "143"  # follows until typed
    form.get_by_label("IMAP Port", exact=True).fill(str(dovecot.starttls_port))
    form.get_by_label("SMTP Host", exact=True).fill(smtp.host)
    form.get_by_label("SMTP Encryption", exact=True).select_option("StartTls")
    form.get_by_label("SMTP Port", exact=True).fill(str(smtp.port))
    form.get_by_text("Advanced options").click()
    form.get_by_label("CA file", exact=True).fill(dovecot.ca_file)


def approval_widget(page: Any, index: int) -> Any:
    widget = cell(page, index).get_by_test_id("nec-approval")
    widget.wait_for()
    return widget


def wait_for_state(widget: Any, text: str, timeout: float = 30) -> str:
    line = widget.locator(".nec-state")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = str(line.inner_text())
        if text in current:
            return current
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the approval widget's state line: {line.inner_text()!r}")


def test_connect_test_save_confirm_approve_reject_await_and_save_without_the_password(
    lab: Any, page: Any, fresh_mailbox: Any, smtp_starttls: Any
) -> None:
    dovecot, smtp = fresh_mailbox, smtp_starttls
    password = dovecot.users[USER]
    timer = Timer()
    page.set_viewport_size({"width": 1280, "height": 1500})  # the whole form fits in the screenshot
    lab.write_notebook("scenario.ipynb", CELLS)
    open_notebook(page, lab.notebook_url("scenario.ipynb"))

    # 1. the form: fill, Test connection, Save
    started = time.perf_counter()
    run_cell(page, 0, wait=False)
    form = cell(page, 0).get_by_test_id("nec-manager")
    form.wait_for()
    timer.measure("form render", started)
    fill_form(form, dovecot, smtp)

    started = time.perf_counter()
    form.locator("button[name=test]").click()
    assert form.get_by_label("Password", exact=True).input_value() == ""  # sent, then cleared
    report = form.get_by_test_id("report")
    report.get_by_text("Connection test passed.").wait_for(timeout=60_000)
    timer.measure("test connection click to report", started)
    steps = report.locator("li").all_inner_texts()
    step_text = "\n".join(steps)
    assert all("✓" in step for step in steps), step_text
    assert "IMAP tls: TLS 1." in step_text  # the negotiated version is shown
    assert "IMAP login:" in step_text
    assert "SMTP tls: TLS 1." in step_text
    assert "SMTP auth:" in step_text
    status = form.locator(".nec-status")
    assert "Connection works" in status.inner_text()
    page.mouse.move(0, 0)  # no hover highlight in the screenshot
    form.screenshot(path=str(DOCS_IMAGES / "connection-manager.png"))

    started = time.perf_counter()
    form.locator("button[name=save]").click()
    form.get_by_text("Saved 'work' (password in the keyring).").wait_for()
    timer.measure("save click to status", started)
    assert form.get_by_test_id("saved").get_by_text("work", exact=True).is_visible()

    # 2. the Functions section drives the kernel's live connection. send_email starts under
    # confirmation (the contract's default), so go to Enabled first to see each switch land.
    policy = form.get_by_label("Policy for send_email", exact=True)
    assert policy.input_value() == "confirm"
    policy.select_option(label="Enabled")
    run_cell(page, 1)
    wait_for_output(page, 1, "send_email policy: enabled")
    policy.select_option(label="Enabled with confirmation")
    run_cell(page, 1)
    wait_for_output(page, 1, "send_email policy: confirm")

    # 3a. a synchronous send: the widget previews it; Approve sends exactly that message
    run_cell(page, 2)
    widget = approval_widget(page, 2)
    shown = widget.inner_text()
    assert "send_email needs your approval" in shown
    assert "bob@example.org" in shown and "Q3 numbers" in shown
    assert "the Q3 numbers are attached." in shown
    assert "q3.csv (text/csv, 34 B)" in shown
    assert "Waiting for your decision." in shown
    form_box = widget.bounding_box()
    assert form_box is not None and form_box["height"] > 50
    widget.screenshot(path=str(DOCS_IMAGES / "approval-widget.png"))
    assert smtp.messages == []  # nothing sent before the click

    started = time.perf_counter()
    widget.locator("button[name=approve]").click()
    outcome = wait_for_state(widget, "Done: sent <")
    timer.measure("approve click to outcome", started)
    assert "to 1 recipient(s)" in outcome
    received = smtp.wait_for_messages(1)
    assert len(received) == 1
    message = received[0]
    assert message.rcpt_tos == ["bob@example.org"]
    assert message.message["Subject"] == "Q3 numbers"
    attachment = next(message.message.iter_attachments())
    assert attachment.get_filename() == "q3.csv"
    assert message.message["To"] == "bob@example.org"
    assert message.login == USER and message.tls
    assert widget.locator("button[name=approve]").is_disabled()  # no second decision
    run_cell(page, 3)
    wait_for_output(page, 3, f"h1: done | sent {message.message['Message-ID']}")

    # 3b. another send, rejected with a reason: the caller gets ActionRejectedError, no mail
    run_cell(page, 4)
    widget = approval_widget(page, 4)
    assert "Offsite plan" in widget.inner_text()
    widget.locator("button[name=reject]").click()
    widget.locator("input[name=reason]").fill("not today")
    started = time.perf_counter()
    widget.locator("button[name=confirm-reject]").click()
    wait_for_state(widget, "Rejected: not today")
    timer.measure("reject click to outcome", started)
    run_cell(page, 5)
    rejected = wait_for_output(page, 5, "h2: rejected | ActionRejectedError |")
    assert "not today" in rejected
    assert len(smtp.messages) == 1

    # 4. an awaited send: the cell waits for the click, then completes
    run_cell(page, 6, wait=False)
    widget = approval_widget(page, 6)
    assert "Thanks" in widget.inner_text()
    assert "awaited:" not in output_text(page, 6)  # still waiting
    started = time.perf_counter()
    widget.locator("button[name=approve]").click()
    wait_for_output(page, 6, "awaited: sent <")
    timer.measure("awaited approve click to cell output", started)
    received = smtp.wait_for_messages(2)
    assert [m.message["Subject"] for m in received] == ["Q3 numbers", "Thanks"]

    # 5. the saved notebook keeps the form (widget state) but never the password
    save(page)
    saved = (lab.root / "scenario.ipynb").read_text()
    widget_state = json.loads(saved)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    forms = [m["state"] for m in widget_state.values() if "values" in m["state"]]
    assert forms, "no widget state saved, so the password check below would prove nothing"
    assert forms[0]["values"]["username"] == USER
    assert forms[0]["policies"]["send_email"] == "confirm"
    assert password not in saved
    for stored in lab.home.rglob("*"):
        if stored.is_file():
            assert password not in stored.read_text(errors="replace"), stored

    print(f"\nscenario timings: {timer}")
