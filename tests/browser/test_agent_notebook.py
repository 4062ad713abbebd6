"""notebooks/agent.ipynb in a real JupyterLab: the agent's send shows the inline approval widget
in the cell that runs the agent; Approve delivers it, Reject returns the reason to the agent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .notebook import cell, open_notebook, output_text, run_cell, wait_for_output
from .test_scenario import approval_widget, wait_for_state

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "agent.ipynb"
REASON = "not today, I will call her"
CHECK = 'print("delivered:", sorted(set(conn.search_emails(from_=cfg.username, folder="INBOX")["subject"])))'


def source(cell: dict[str, Any]) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def test_the_agent_asks_in_its_cell_approve_delivers_and_reject_reaches_the_agent(lab: Any, page: Any) -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    notebook["cells"].append(
        {"cell_type": "code", "execution_count": None, "id": "check", "metadata": {}, "outputs": [], "source": CHECK}
    )
    (lab.root / "agent.ipynb").write_text(json.dumps(notebook))
    code = [i for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code"]
    runs = [i for i in code if "await agent.run" in source(notebook["cells"][i])]
    assert len(runs) == 2
    open_notebook(page, lab.notebook_url("agent.ipynb"))

    for index in code[: code.index(runs[0])]:
        run_cell(page, index)
    assert "GuardrailError" in output_text(page, code[2])  # the guardrails cell

    # 1. The agent's reply waits in its own cell for the click; Approve delivers it.
    run_cell(page, runs[0], wait=False)
    widget = approval_widget(page, runs[0])
    shown = widget.inner_text()
    assert "reply_email needs your approval" in shown
    assert "thanks for your message, let's talk today." in shown
    assert "Sent the reply" not in output_text(page, runs[0])  # the agent is still waiting
    widget.locator("button[name=approve]").click()
    wait_for_state(widget, "Done: sent <")
    sent = wait_for_output(page, runs[0], "Sent the reply to", timeout=60)
    assert "Saved 2 draft replies" in sent

    # 2. The next run: Reject with a reason; the agent reads it and nothing is sent.
    run_cell(page, runs[1], wait=False)
    widget = approval_widget(page, runs[1])
    widget.locator("button[name=reject]").click()
    widget.locator("input[name=reason]").fill(REASON)
    widget.locator("button[name=confirm-reject]").click()
    wait_for_state(widget, f"Rejected: {REASON}")
    rejected = wait_for_output(page, runs[1], "Did not send the reply to", timeout=60)
    assert REASON in rejected

    # 3. Exactly the approved reply arrived (the sandbox delivers sent mail to its INBOX).
    last = len(notebook["cells"]) - 1
    run_cell(page, last)
    delivered = wait_for_output(page, last, "delivered:")
    assert delivered.count("Re: ") == 1, delivered
    assert cell(page, runs[1]).get_by_test_id("nec-approval").locator("button[name=approve]").is_disabled()


GUARDRAIL_CELLS = [
    "import nb_email_conn as nec\ncfg = nec.sandbox.start()\nmanager = nec.ConnectionManager(cfg)\nmanager",
    "conn = manager.connection\nprint('rails:', conn.guardrails)",
    'print("sent:", conn.tools().dispatch("send_email", {"to": "eve@evil.example", "subject": "s", "body": "b"}))',
]


def test_guardrails_are_edited_in_the_manager_and_enforced_in_the_kernel(lab: Any, page: Any) -> None:
    lab.write_notebook("guardrails.ipynb", GUARDRAIL_CELLS)
    open_notebook(page, lab.notebook_url("guardrails.ipynb"))
    run_cell(page, 0)
    box = cell(page, 0).get_by_test_id("guardrails")
    box.wait_for()
    assert "No guardrails" in box.inner_text()
    run_cell(page, 1)
    wait_for_output(page, 1, "rails: Guardrails(no limits)")
    box.get_by_label("Allowed recipients", exact=True).fill("*@acme-analytics.example")
    box.get_by_label("Max sends per hour", exact=True).fill("5")
    box.locator("button[name=apply-guardrails]").click()
    box.get_by_text("only to *@acme-analytics.example; at most 5 sends per hour").wait_for()
    run_cell(page, 1)
    wait_for_output(page, 1, "max_sends_per_hour=5")
    run_cell(page, 2)
    refused = wait_for_output(page, 2, "GuardrailError")
    assert "eve@evil.example" in refused
    box.get_by_label("Max recipients per message", exact=True).fill("0")
    box.locator("button[name=apply-guardrails]").click()
    assert "at least 1" in box.get_by_test_id("guardrails-error").inner_text()
