"""notebooks/agent.ipynb runs top to bottom on the sandbox, in a real kernel, with its offline model.

Nobody can click in an unattended kernel, so the test plays the reviewer: one cell, added
after the connection is made, sets ``conn.approver`` to answer Approve and then Reject (the
inline widget's path is tests/browser/test_agent_notebook.py). Everything else is the
notebook as shipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "agent.ipynb"
REVIEWER = """
answers = [nec.Decision.approve(decided_by="test reviewer"),
           nec.Decision.reject("not today, I will call her", decided_by="test reviewer")]
asked = []
conn.approver = lambda request: asked.append(request.function) or answers.pop(0)
"""

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_the_agent_notebook_runs_top_to_bottom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pydantic_ai")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    assert "nec.EmailConnection(cfg)" in notebook.cells[code[0]].source
    notebook.cells.insert(code[0] + 1, nbformat.v4.new_code_cell(REVIEWER))
    notebook.cells.append(nbformat.v4.new_code_cell("print('asked:', asked)"))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("NB_EMAIL_CONN_HOME", str(home))  # its own sandbox, not one another test runs
    client = NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"]
    errors = [o for cell in outputs for o in cell if o.get("output_type") == "error"]
    assert errors == [], errors
    text = json.dumps(outputs, ensure_ascii=False)
    assert "Triaged" in text and "Saved 2 draft replies" in text
    assert "Sent the reply to" in text  # approved: delivered
    assert "Did not send the reply to" in text and "not today, I will call her" in text  # rejected: the reason
    assert "asked: ['reply_email', 'reply_email']" in text  # one decision per send, nothing else asked
    assert "Re: " in text  # the drafts are in Drafts
