"""The widgets in a real JupyterLab: the form, the password never saved, and approval clicks.

Also measures (printed with -s): widget render time and click-to-result time.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from nb_email_conn.functions import REGISTRY

from .notebook import cell, kernel_status, open_notebook, prompt, run_cell, save, wait_for_output, wait_kernel

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
    functions = form.get_by_test_id("functions").locator("code").all_inner_texts()
    assert functions == list(REGISTRY)  # every function of the registry, in its order
    assert form.get_by_label("Policy for forward_email", exact=True).input_value() == "confirm"
    run_cell(page, 1)
    wait_for_output(page, 1, "password kept: False")  # a failed test keeps nothing
    save(page)
    saved = (lab.root / "form.ipynb").read_text()
    state = json.loads(saved)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    values = [m["state"] for m in state.values() if "values" in m["state"]]
    assert values, "widget state was not saved, so the check below would prove nothing"
    assert values[0]["values"]["imap_host"] == "127.0.0.1"
    assert len(values[0]["functions"]) == len(REGISTRY)
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


EDIT_CELL = """
import asyncio
from nb_email_conn.policy import ActionRequest
from nb_email_conn.widgets import InlineApprover

REF = "imap://alice@127.0.0.1/INBOX;UIDVALIDITY=1714550400/;UID={}"
rows = [{"ref": REF.format(uid), "folder": "INBOX", "date": "Tue, 30 Apr 2024 07:45:00 +0000",
         "from": "Bob <bob@example.org>", "subject": f"Lunch {uid}?"} for uid in (7, 8)]
flags = ActionRequest(
    "update_flags",
    {"refs": [row["ref"] for row in rows], "add": ["\\\\Seen"], "remove": []},
    {"summary": "change flags of 2 message(s)", "count": 2, "add": ["\\\\Seen"], "remove": [], "messages": rows},
    connection="work",
)
reply = ActionRequest(
    "reply_email",
    {"ref": REF.format(8), "body": "Friday works.", "reply_all": False, "quote": True},
    {"summary": "Reply 'Re: Lunch 8?' to 1 recipient", "from": "alice@example.org",
     "to": ["Bob <bob@example.org>"], "cc": [], "bcc": [], "recipients": ["bob@example.org"],
     "subject": "Re: Lunch 8?", "body_excerpt": "Friday works.\\n\\nOn Tue, 30 Apr 2024, Bob wrote:\\n> Lunch?",
     "attachments": [], "size": 612,
     "replying_to": {"from": "Bob <bob@example.org>", "subject": "Lunch 8?", "date": "2024-04-30T07:45:00+00:00"}},
    connection="work",
)
approver = InlineApprover()
"""


def luminance(css_color: str) -> float:
    red, green, blue = (int(part) for part in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_the_edit_form_comes_from_the_registry_and_reads_well_in_both_themes(lab: Any, page: Any) -> None:
    shots = Path(tempfile.mkdtemp(prefix="nec-themes-"))
    lab.write_notebook(
        "edit.ipynb",
        [
            EDIT_CELL,
            "flags_future = approver(flags)",
            "reply_future = approver(reply)",
            "import nb_email_conn.widgets as w\nw.ConnectionManager(name='work', username='alice@example.org')",
            "decision = await asyncio.wrap_future(flags_future)\n"
            "print('flags:', decision.action, dict(decision.changes))",
        ],
    )
    open_notebook(page, lab.notebook_url("edit.ipynb"))
    run_cell(page, 0)
    run_cell(page, 1)
    run_cell(page, 2)
    run_cell(page, 3)
    manager = cell(page, 3).get_by_test_id("nec-manager")
    flags_widget = cell(page, 1).get_by_test_id("nec-approval")
    reply_widget = cell(page, 2).get_by_test_id("nec-approval")
    reply_widget.wait_for()
    assert "In reply to Bob <bob@example.org>: “Lunch 8?” (2024-04-30 07:45)" in reply_widget.inner_text()
    reply_widget.locator("button[name=edit]").click()
    assert reply_widget.get_by_label("HTML body", exact=True).is_visible()  # html is editable now
    assert reply_widget.locator("textarea[name=edit-body]").input_value() == "Friday works."

    flags_widget.locator("button[name=edit]").click()
    add = flags_widget.get_by_label("flags to add", exact=True)
    assert add.input_value() == "\\Seen"
    assert flags_widget.get_by_text("space-separated, e.g. \\Seen \\Flagged").first.is_visible()
    add.fill("\\Seen \\Flagged")
    page.mouse.move(0, 0)
    for theme, name in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
        page.wait_for_function("(theme) => document.body.dataset.jpThemeName === theme", arg=theme, timeout=30_000)
        page.wait_for_timeout(300)
        text = flags_widget.evaluate("(el) => getComputedStyle(el).color")
        assert (luminance(text) > 0.5) == (name == "dark"), f"{name} theme: widget text {text}"
        flags_widget.screenshot(path=str(shots / f"approval-edit-{name}.png"))
        reply_widget.screenshot(path=str(shots / f"approval-reply-{name}.png"))
        manager.screenshot(path=str(shots / f"manager-{name}.png"))
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")

    run_cell(page, 4, wait=False)
    wait_kernel(page, "busy", timeout=30)  # the cell awaits the decision before the click is made
    flags_widget.locator("button[name=approve-edited]").click()
    try:
        wait_for_output(page, 4, "flags: edit {'add': ['\\\\Seen', '\\\\Flagged']}", timeout=60)
    except AssertionError as missing:  # say where it stopped: the cell, the kernel, the widget
        raise AssertionError(
            f"{missing}; cell 4 prompt {prompt(page, 4)!r}, kernel {kernel_status(page)}, "
            f"widget: {flags_widget.inner_text()!r}"
        ) from None
    assert "Approved with changes" in flags_widget.locator(".nec-state").inner_text()
    print(f"\ntheme screenshots in {shots}")
