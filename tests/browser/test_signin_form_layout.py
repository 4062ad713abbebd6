"""The connection form looks and works like JupyterLab's own: IMAP and SMTP side by side in a wide
cell and stacked in a narrow one, Tab goes through the fields in the order they are shown, Enter
in a field runs Test connection and, once these settings passed, Save (against the test Dovecot
and SMTP server), and in 'JupyterLab Dark' the text, fields and the default button read well.
The dark screenshot is docs/images/manager-dark.png (refreshed with UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from .notebook import cell, open_notebook, run_cell, wait_for_output
from .test_lab import luminance
from .test_scenario import fill_form

pytestmark = [pytest.mark.browser, pytest.mark.dovecot, pytest.mark.slow, pytest.mark.timeout(240)]

DOCS_IMAGES = (
    Path(__file__).resolve().parents[2] / "docs" / "images"
    if os.environ.get("UPDATE_SCREENSHOTS")
    else Path(tempfile.mkdtemp(prefix="nec-screens-"))
)
CELLS = [
    "import nb_email_conn as nec\nmanager = nec.ConnectionManager()\nmanager",
    "print('saved:', [c['name'] for c in manager.saved], '| live:', manager.connection_name)",
]
# The fields in the order they are shown: the IMAP group's, then the SMTP group's.
TAB_ORDER = [
    "email", "find-settings", "name", "username", "auth", "password",
    "imap_host", "imap_port", "imap_encryption", "smtp_host", "smtp_port", "smtp_encryption",
]  # fmt: skip


def boxes(form: Any) -> tuple[dict[str, float], dict[str, float]]:
    imap = form.locator("fieldset[data-protocol=imap]").bounding_box()
    smtp = form.locator("fieldset[data-protocol=smtp]").bounding_box()
    assert imap and smtp
    return imap, smtp


def side_by_side(form: Any) -> bool:
    imap, smtp = boxes(form)
    if abs(imap["y"] - smtp["y"]) < 2 and smtp["x"] >= imap["x"] + imap["width"]:
        return True
    assert smtp["y"] >= imap["y"] + imap["height"] - 1, f"neither side by side nor stacked: {imap} {smtp}"
    return False


def focused_name(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.getAttribute('name')"))


def colour(locator: Any, prop: str) -> str:
    return str(locator.evaluate(f"(el) => getComputedStyle(el).{prop}"))


def test_side_by_side_when_wide_tab_order_enter_submits_and_the_dark_theme(
    lab: Any, page: Any, fresh_mailbox: Any, smtp_starttls: Any
) -> None:
    page.set_viewport_size({"width": 1500, "height": 1300})
    lab.write_notebook("layout.ipynb", CELLS)
    open_notebook(page, lab.notebook_url("layout.ipynb"))
    run_cell(page, 0, wait=False)
    form = cell(page, 0).get_by_test_id("nec-manager")
    form.wait_for()

    # Layout: the cell's width decides (a container query), not the window's.
    width = form.evaluate("(el) => el.getBoundingClientRect().width")
    assert width >= 760 and side_by_side(form), f"a {width:.0f}px wide form should put IMAP and SMTP side by side"
    page.set_viewport_size({"width": 760, "height": 1300})
    page.wait_for_function("(el) => el.getBoundingClientRect().width < 760", arg=form.element_handle())
    assert not side_by_side(form), "a narrow form should stack IMAP above SMTP"
    page.set_viewport_size({"width": 1500, "height": 1300})
    page.wait_for_function("(el) => el.getBoundingClientRect().width >= 760", arg=form.element_handle())
    assert side_by_side(form)

    # JupyterLab's own control styles: its input border and height, its accept colour.
    host = form.get_by_label("IMAP Host", exact=True)
    assert host.evaluate("(el) => el.getBoundingClientRect().height") == 28
    jp_border = page.evaluate(
        "() => getComputedStyle(document.body).getPropertyValue('--jp-input-border-color').trim()"
    )
    probe = page.evaluate(
        "(c) => { const d = document.createElement('div'); d.style.color = c; document.body.append(d);"
        " const v = getComputedStyle(d).color; d.remove(); return v; }",
        jp_border,
    )
    assert colour(host, "borderTopColor") == probe

    # Tab follows the fields as shown.
    form.get_by_label("Email", exact=True).focus()
    seen = [focused_name(page)]
    for _ in TAB_ORDER[1:]:
        page.keyboard.press("Tab")
        seen.append(focused_name(page))
    assert seen == TAB_ORDER

    # Enter in a field: Test connection (the primary button), then Save once the test passed.
    fill_form(form, fresh_mailbox, smtp_starttls)
    test_button, save_button = form.locator("button[name=test]"), form.locator("button[name=save]")
    assert "nec-primary" in (test_button.get_attribute("class") or "")
    form.get_by_label("SMTP Port", exact=True).press("Enter")
    form.get_by_test_id("report").get_by_text("Connection test passed.").wait_for(timeout=60_000)
    assert form.get_by_label("Password", exact=True).input_value() == ""  # sent, then cleared
    page.wait_for_function("(el) => el.classList.contains('nec-primary')", arg=save_button.element_handle())
    form.get_by_label("Name", exact=True).press("Enter")
    form.get_by_text("Saved 'work'").wait_for(timeout=60_000)
    run_cell(page, 1)
    wait_for_output(page, 1, "saved: ['work'] | live: work")

    # The dark theme: light text on dark fields and background, white on the accept colour.
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    try:
        page.wait_for_function("() => document.body.dataset.jpThemeName === 'JupyterLab Dark'", timeout=30_000)
        page.wait_for_timeout(500)  # the theme's stylesheet applied
        assert luminance(colour(form, "color")) > 0.5
        assert luminance(colour(host, "color")) > 0.5 and luminance(colour(host, "backgroundColor")) < 0.3
        legend = form.locator("fieldset[data-protocol=smtp] legend")
        assert luminance(colour(legend, "color")) > 0.5
        assert colour(save_button, "color") == "rgb(255, 255, 255)"
        assert luminance(colour(save_button, "backgroundColor")) < 0.5
        page.set_viewport_size({"width": 1500, "height": 1900})  # the whole form below the toolbar
        form.evaluate("(el) => el.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(300)
        form.screenshot(path=str(DOCS_IMAGES / "manager-dark.png"))
    finally:
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
        page.wait_for_function("() => document.body.dataset.jpThemeName === 'JupyterLab Light'", timeout=30_000)
    print(f"\nform {width:.0f}px wide; dark screenshot {DOCS_IMAGES / 'manager-dark.png'}")
