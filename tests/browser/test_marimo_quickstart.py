"""notebooks/quickstart_marimo.py in a real marimo, as a user opens it (cells run on open, and
re-run reactively), in the editor (``marimo edit``) and as an app (``marimo run``, where kernels
are threads of the server process): every cell runs without an error, the form and the search
results show, the send waits behind its button, and after Approve the outcome cell runs again
with "done"."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO, _require
from .marimo_page import MARIMO, marimo_edit, visible
from .test_scenario import wait_for_state

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

NOTEBOOK = REPO / "notebooks" / "quickstart_marimo.py"
# marimo's defaults for a user: cells run when the notebook opens and when what they read changes.
AUTORUN = """\
[runtime]
auto_instantiate = true
on_cell_change = "autorun"
[display]
theme = "light"
[completion]
activate_on_typing = false
"""


@pytest.mark.parametrize("command", ["edit", "run"])
def test_the_marimo_quickstart_runs_and_sends_after_approval(page: Any, tmp_path: Path, command: str) -> None:
    _require(MARIMO.exists(), "marimo is not installed (pip install marimo)")
    page.set_viewport_size({"width": 1280, "height": 1400})
    source = NOTEBOOK.read_text()
    with marimo_edit(tmp_path, "quickstart_marimo.py", source, config=AUTORUN, command=command) as server:
        page.goto(server.url)
        visible(page.get_by_test_id("nec-manager"), timeout=120)
        page.get_by_text("Connection works").first.wait_for(timeout=60_000)  # test_connection's report
        button = page.get_by_role("button", name="Send the invoice summary")
        button.wait_for(timeout=60_000)
        page.get_by_text("send_email: not sent yet").wait_for()
        page.get_by_text("FunctionDisabledError").first.wait_for(timeout=60_000)  # the last cells ran
        assert page.get_by_test_id("nec-approval").count() == 0  # nothing asked before the click
        assert _errors(page) == []

        button.click()
        widget = visible(page.get_by_test_id("nec-approval"))
        assert "Invoice summary" in widget.inner_text() and "invoices.csv" in widget.inner_text()
        started = time.perf_counter()
        widget.locator("button[name=approve]").click()
        wait_for_state(widget, "Done: sent <")
        # The done-callback set the mo.state: marimo ran the outcome cell again.
        page.get_by_text("send_email: done").wait_for(timeout=30_000)
        print(f"\nmarimo {command} quickstart: approve click to the outcome cell {time.perf_counter() - started:.2f} s")
        assert _errors(page) == []
        shots = Path(tempfile.mkdtemp(prefix="nec-marimo-"))
        widget.screenshot(path=str(shots / f"approval-marimo-{command}.png"))
        visible(page.get_by_test_id("nec-manager")).screenshot(path=str(shots / f"manager-marimo-{command}.png"))


def _errors(page: Any) -> list[str]:
    """What marimo shows for a cell that raised (its error output). The app view (marimo run)
    shows nothing for such a cell, so there the outputs of the last cells are the check."""
    return [str(text) for text in page.locator("[data-cell-role=output] > [role=alert]").all_inner_texts()]
