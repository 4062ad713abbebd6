"""notebooks/quickstart.ipynb runs top to bottom on the sandbox, in a real kernel."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


@pytest.mark.slow
def test_quickstart_notebook_runs_on_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # A private config folder, so the notebook starts its own sandbox instead of attaching.
    env_home = tmp_path / "home"
    env_home.mkdir()
    monkeypatch.setenv("NB_EMAIL_CONN_HOME", str(env_home))  # the kernel inherits it
    resources = {"metadata": {"path": str(tmp_path)}}
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources=resources)
    client.execute()
    outputs = [cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"]
    errors = [o for cell in outputs for o in cell if o.get("output_type") == "error"]
    assert errors == []
    text = json.dumps(outputs)
    assert "Connection works" in text  # test_connection
    assert "Invoice" in text  # the invoices search found the seeded invoices
    assert "pending" in text  # the send waits for a human
    assert "FunctionDisabledError" in text  # the disabled delete came back as a tool result
    assert "application/vnd.jupyter.widget-view+json" in text  # the form and the approval widget render
