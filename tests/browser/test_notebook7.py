"""The approve / reject journey in Jupyter Notebook 7 (the ``notebook`` package's pages on the
test server), against the test Dovecot and SMTP server: the same cells as the JupyterLab
scenario — the form, Test connection, a synchronous send approved and one rejected (each
checked on the SMTP server), and an awaited send that waits in its cell for the click.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import _require
from .notebook import cell, open_notebook, output_text, run_cell, wait_for_output
from .test_scenario import CELLS, approval_widget, fill_form, wait_for_state

pytestmark = [pytest.mark.browser, pytest.mark.dovecot, pytest.mark.slow, pytest.mark.timeout(180)]


def test_notebook7_form_test_approve_reject_and_an_awaited_approve(
    lab: Any, page: Any, fresh_mailbox: Any, smtp_starttls: Any
) -> None:
    _require(_notebook7_installed(), "Jupyter Notebook 7 is not installed (pip install 'notebook>=7')")
    dovecot, smtp = fresh_mailbox, smtp_starttls
    lab.write_notebook("scenario7.ipynb", CELLS)
    open_notebook(page, lab.notebook7_url("scenario7.ipynb"))
    assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"  # not JupyterLab
    assert "/lab" not in page.url

    run_cell(page, 0, wait=False)
    form = cell(page, 0).get_by_test_id("nec-manager")
    form.wait_for()
    fill_form(form, dovecot, smtp)
    form.locator("button[name=test]").click()
    assert form.get_by_label("Password", exact=True).input_value() == ""
    report = form.get_by_test_id("report")
    report.get_by_text("Connection test passed.").wait_for(timeout=60_000)
    assert all("✓" in step for step in report.locator("li").all_inner_texts())
    run_cell(page, 1)
    wait_for_output(page, 1, "send_email policy: confirm")

    run_cell(page, 2)
    widget = approval_widget(page, 2)
    assert "Q3 numbers" in widget.inner_text() and "q3.csv (text/csv, 34 B)" in widget.inner_text()
    assert smtp.messages == []
    widget.locator("button[name=approve]").click()
    wait_for_state(widget, "Done: sent <")
    [message] = smtp.wait_for_messages(1)
    assert message.rcpt_tos == ["bob@example.org"] and message.message["Subject"] == "Q3 numbers"
    run_cell(page, 3)
    wait_for_output(page, 3, f"h1: done | sent {message.message['Message-ID']}")

    run_cell(page, 4)
    widget = approval_widget(page, 4)
    widget.locator("button[name=reject]").click()
    widget.locator("input[name=reason]").fill("not today")
    widget.locator("button[name=confirm-reject]").click()
    wait_for_state(widget, "Rejected: not today")
    run_cell(page, 5)
    assert "not today" in wait_for_output(page, 5, "h2: rejected | ActionRejectedError |")
    assert len(smtp.messages) == 1

    run_cell(page, 6, wait=False)  # awaited: the cell waits for the click (ipykernel >= 7.4)
    widget = approval_widget(page, 6)
    assert "awaited:" not in output_text(page, 6)
    widget.locator("button[name=approve]").click()
    wait_for_output(page, 6, "awaited: sent <")
    assert [m.message["Subject"] for m in smtp.wait_for_messages(2)] == ["Q3 numbers", "Thanks"]


def _notebook7_installed() -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return int(version("notebook").split(".")[0]) >= 7
    except (PackageNotFoundError, ValueError):
        return False
