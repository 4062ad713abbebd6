"""The widgets in a real JupyterLab: the form, the password never saved, and approval clicks.

Also measures (printed with -s): widget render time and click-to-result time.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .notebook import cell, open_notebook, run_cell, save, wait_for_output

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

SECRET = "pw-that-must-never-be-saved-7f3a"

REQUEST_CELL = """
import asyncio, threading, time
from nb_email_conn.policy import ActionRequest
from nb_email_conn.widgets import InlineApprover

def make_request(subject):
    return ActionRequest(
        "send_email",
        {"to": ["bob@example.org"], "subject": subject, "body": "Hello Bob,\\nthe numbers are attached."},
        {"summary": f'send_email: "{subject}" to bob@example.org', "from": "alice@example.org",
         "to": ["bob@example.org"], "subject": subject, "body_excerpt": "Hello Bob,\\nthe numbers are attached.",
         "attachments": [{"filename": "q3.pdf", "content_type": "application/pdf", "size": 48213}]},
        connection="work",
    )
approver = InlineApprover()
"""


def test_the_form_renders_and_the_password_never_reaches_the_saved_notebook(lab: Any, page: Any) -> None:
    lab.write_notebook(
        "form.ipynb",
        [
            "import nb_email_conn.widgets as w\n"
            "manager = w.ConnectionManager(name='work', username='alice@example.org', imap_host='127.0.0.1',"
            " imap_port=1, smtp_port=1, timeout=3)\n"
            "manager",
            "print('password kept:', manager.password_set, '| status:', manager.status['state'])",
        ],
    )
    open_notebook(page, lab.notebook_url("form.ipynb"))
    started = time.perf_counter()
    run_cell(page, 0, wait=False)
    form = cell(page, 0).get_by_test_id("nec-manager")
    form.wait_for()
    render_seconds = time.perf_counter() - started
    assert form.get_by_label("IMAP Port", exact=True).input_value() == "1"
    form.get_by_label("Password", exact=True).fill(SECRET)
    clicked = time.perf_counter()
    form.locator("button[name=test]").click()
    assert form.get_by_label("Password", exact=True).input_value() == ""  # cleared as it was sent
    form.get_by_test_id("report").get_by_text("Connection test failed.").wait_for(timeout=60_000)
    test_seconds = time.perf_counter() - clicked
    run_cell(page, 1)
    wait_for_output(page, 1, "password kept: False")  # a failed test keeps nothing
    save(page)
    saved = (lab.root / "form.ipynb").read_text()
    state = json.loads(saved)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    values = [m["state"] for m in state.values() if "values" in m["state"]]
    assert values, "widget state was not saved, so the check below would prove nothing"
    assert values[0]["values"]["imap_host"] == "127.0.0.1"
    assert SECRET not in saved
    print(f"\nmanager render {render_seconds:.2f} s; test-connection click to report {test_seconds:.2f} s")


def test_an_awaited_decision_and_a_worker_thread_both_receive_the_click(lab: Any, page: Any) -> None:
    lab.write_notebook(
        "approve.ipynb",
        [
            REQUEST_CELL,
            "future = approver(make_request('Q3 report'))",
            "decision = await asyncio.wrap_future(future)\nprint('awaited:', decision.action, round(time.time(), 3))",
            "results = []\n"
            "def agent():\n"
            "    decision = approver(make_request('Q4 plan')).result(120)\n"
            "    results.append((decision.action, decision.reason, time.time()))\n"
            "worker = threading.Thread(target=agent)\nworker.start()",
            "worker.join(120)\nprint('worker:', results)",
        ],
    )
    open_notebook(page, lab.notebook_url("approve.ipynb"))
    run_cell(page, 0)
    started = time.perf_counter()
    run_cell(page, 1)
    widget = cell(page, 1).get_by_test_id("nec-approval")
    widget.wait_for()
    render_seconds = time.perf_counter() - started
    assert "q3.pdf (application/pdf, 47.1 KB)" in widget.inner_text()

    # 1. a cell awaiting the future: the kernel must still receive the click
    run_cell(page, 2, wait=False)
    page.wait_for_timeout(500)
    clicked = time.perf_counter()
    widget.locator("button[name=approve]").click()
    wait_for_output(page, 2, "awaited: approve")
    awaited_seconds = time.perf_counter() - clicked

    # 2. a worker thread blocking on the future while the kernel is idle
    run_cell(page, 3)
    second = cell(page, 3).get_by_test_id("nec-approval")  # shown under the cell that started the thread
    second.wait_for()
    second.locator("button[name=reject]").click()
    second.locator("input[name=reason]").fill("not yet")
    clicked = time.perf_counter()
    second.locator("button[name=confirm-reject]").click()
    run_cell(page, 4)
    wait_for_output(page, 4, "worker: [('reject', 'not yet'")
    worker_seconds = time.perf_counter() - clicked
    print(
        f"\napproval render {render_seconds:.2f} s; click to result: awaited {awaited_seconds:.2f} s,"
        f" worker thread {worker_seconds:.2f} s"
    )
