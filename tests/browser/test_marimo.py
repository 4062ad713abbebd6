"""The notebook journey in a real marimo (``marimo edit --headless``), on the test Dovecot and SMTP.

The form (no wrapping: marimo shows the anywidget itself), Test connection, Save, then under
confirmation: a synchronous send whose pending handle is the cell's last expression (it shows
its approval widget), approved after the cell ended; one rejected with a reason; an awaited
send refused with advice at once (marimo could never deliver the click to it) and nothing
sent; the controls keep visible borders under marimo's CSS reset.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import _require
from .marimo_page import (
    CONFIG,
    MARIMO,
    cell,
    console_text,
    marimo_edit,
    notebook_source,
    open_notebook,
    run_cell,
    visible,
    wait_for_console,
)
from .test_scenario import USER, fill_form, wait_for_state

pytestmark = [pytest.mark.browser, pytest.mark.dovecot, pytest.mark.slow, pytest.mark.timeout(240)]

CELLS = [
    # 0
    "import marimo as mo\nimport nb_email_conn as nec",
    # 1: the form, as it is
    "manager = nec.ConnectionManager()\nmanager",
    # 2
    'print("send_email policy:", manager.connection.policies["send_email"].value)',
    # 3: a synchronous send; the handle is the last expression (it replaces what the cell showed)
    """h1 = manager.connection.send_email(
    "bob@example.org",
    "Q3 numbers",
    "Hi Bob,\\n\\nthe Q3 numbers are attached.\\n\\nAlice",
    attachments=[("q3.csv", b"region,total\\nnorth,1200\\nsouth,900\\n", "text/csv")],
)
h1""",
    # 4
    'print("h1:", h1.status, "|", h1.result())',
    # 5
    'h2 = manager.connection.send_email("bob@example.org", "Offsite plan", "Let us meet on Friday.")',
    # 6
    """try:
    h2.result()
except nec.ActionRejectedError as exc:
    print("h2:", h2.status, "|", type(exc).__name__, "|", exc)""",
    # 7: awaited in a cell: refused with advice, never a hang
    """try:
    await manager.connection.send_email_async("bob@example.org", "Thanks", "Thanks for the numbers.")
except nec.ActionRejectedError as exc:
    print("awaited:", exc)""",
    # 8
    'print("audit:", list(manager.connection.audit_log()["outcome"]))',
]


def border_of(locator: Any) -> str:
    return str(
        locator.evaluate("e => { const s = getComputedStyle(e); return s.borderTopWidth + ' ' + s.borderTopStyle; }")
    )


def test_marimo_form_test_save_approve_reject_and_an_awaited_call_refused_with_advice(
    page: Any, fresh_mailbox: Any, smtp_starttls: Any, tmp_path: Path
) -> None:
    _require(MARIMO.exists(), "marimo is not installed (pip install marimo)")
    dovecot, smtp = fresh_mailbox, smtp_starttls
    password = dovecot.users[USER]
    page.set_viewport_size({"width": 1280, "height": 1600})
    with marimo_edit(tmp_path, "scenario.py", notebook_source(CELLS)) as server:
        open_notebook(page, server.url)
        run_cell(page, 0)
        run_cell(page, 1)
        started = time.perf_counter()
        form = visible(cell(page, 1).get_by_test_id("nec-manager"))
        render_seconds = time.perf_counter() - started

        # Under marimo's reset the controls keep a border (our CSS sets it, not the browser's).
        assert border_of(form.get_by_label("IMAP Host", exact=True)) == "1px solid"
        assert border_of(form.locator("button[name=test]")) == "1px solid"

        fill_form(form, dovecot, smtp)
        form.locator("button[name=test]").click()
        assert form.get_by_label("Password", exact=True).input_value() == ""  # sent, then cleared
        report = form.get_by_test_id("report")
        report.get_by_text("Connection test passed.").wait_for(timeout=60_000)
        steps = report.locator("li").all_inner_texts()
        assert steps and all("✓" in step for step in steps), steps
        form.locator("button[name=save]").click()
        form.get_by_text("Saved 'work' (password in the keyring).").wait_for()

        policy = form.get_by_label("Policy for send_email", exact=True)
        assert policy.input_value() == "confirm"
        run_cell(page, 2)
        wait_for_console(page, 2, "send_email policy: confirm")

        # A synchronous send: one widget (the handle's own view), nothing sent before the click.
        run_cell(page, 3)
        widget = visible(cell(page, 3).get_by_test_id("nec-approval"))
        shown = widget.inner_text()
        assert "send_email needs your approval" in shown
        assert "bob@example.org" in shown and "Q3 numbers" in shown
        assert "q3.csv (text/csv, 34 B)" in shown
        assert border_of(widget.locator("button[name=approve]")) == "1px solid"
        assert smtp.messages == []
        started = time.perf_counter()
        widget.locator("button[name=approve]").click()
        outcome = wait_for_state(widget, "Done: sent <")
        approve_seconds = time.perf_counter() - started
        assert "to 1 recipient(s)" in outcome
        received = smtp.wait_for_messages(1)
        assert len(received) == 1
        message = received[0]
        assert message.rcpt_tos == ["bob@example.org"]
        assert message.message["Subject"] == "Q3 numbers"
        assert next(message.message.iter_attachments()).get_filename() == "q3.csv"
        assert message.login == USER and message.tls
        assert widget.locator("button[name=approve]").is_disabled()  # no second decision
        run_cell(page, 4)
        wait_for_console(page, 4, f"h1: done | sent {message.message['Message-ID']}")

        # Rejected with a reason: the handle raises ActionRejectedError, no mail.
        run_cell(page, 5)
        widget = visible(cell(page, 5).get_by_test_id("nec-approval"))
        assert "Offsite plan" in widget.inner_text()
        widget.locator("button[name=reject]").click()
        widget.locator("input[name=reason]").fill("not today")
        widget.locator("button[name=confirm-reject]").click()
        wait_for_state(widget, "Rejected: not today")
        run_cell(page, 6)
        rejected = wait_for_console(page, 6, "h2: rejected | ActionRejectedError |")
        assert "not today" in rejected

        # Awaited in a cell: refused at once with the advice, no widget to click, nothing sent.
        run_cell(page, 7)
        refused = wait_for_console(page, 7, "awaited: send_email was rejected by the reviewer:")
        assert "synchronous form" in refused and "marimo" in refused
        assert cell(page, 7).get_by_test_id("nec-approval").count() == 0
        run_cell(page, 8)
        wait_for_console(page, 8, "audit: ['done', 'rejected', 'refused']")
        assert len(smtp.messages) == 1

        for stored in server.home.rglob("*"):
            if stored.is_file():
                assert password not in stored.read_text(errors="replace"), stored
        assert password not in (server.root / "scenario.py").read_text()
        assert "Traceback" not in console_text(page, 7)
    print(f"\nmarimo: form render {render_seconds:.2f} s; approve click to outcome {approve_seconds:.2f} s")


DARK = CONFIG.replace('theme = "light"', 'theme = "dark"')
APPROVAL_CELL = """from nb_email_conn.policy import ActionRequest
from nb_email_conn.widgets.marimo import MarimoApprover
preview = {"summary": "send Hi", "to": ["bob@example.org"], "subject": "Hi", "body_excerpt": "Hello"}
future = MarimoApprover()(ActionRequest("send_email", {"to": ["bob@example.org"], "subject": "Hi"}, preview))"""


def luminance(css_color: str) -> float:
    red, green, blue = (float(part) for part in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_marimo_dark_theme_keeps_the_controls_readable(page: Any, tmp_path: Path) -> None:
    _require(MARIMO.exists(), "marimo is not installed (pip install marimo)")
    cells = [
        "import nb_email_conn as nec\nnec.ConnectionManager(name='work', username='alice@example.org')",
        APPROVAL_CELL,
    ]
    with marimo_edit(tmp_path, "dark.py", notebook_source(cells), config=DARK) as server:
        open_notebook(page, server.url)
        run_cell(page, 0)
        run_cell(page, 1)
        form = visible(cell(page, 0).get_by_test_id("nec-manager"))
        widget = visible(cell(page, 1).get_by_test_id("nec-approval"))
        for control in (
            form.locator("button[name=test]"),
            form.get_by_label("Name", exact=True),
            widget.locator("button[name=approve]"),
        ):
            colors = control.evaluate("e => { const s = getComputedStyle(e); return [s.color, s.backgroundColor]; }")
            text, background = (luminance(color) for color in colors)
            assert text > 0.6 and background < 0.3, f"dark theme: text {colors[0]} on {colors[1]}"
