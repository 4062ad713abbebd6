"""Find settings and Sign in through the form in a real JupyterLab: discovery against a local DNS
server fills the servers, then a device-code sign-in against the local authorization server shows
the code and link, and the form reports the signed-in connection; nothing secret is saved."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from .notebook import cell, open_notebook, run_cell, save, wait_for_output
from .test_lab import luminance

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

SETUP = """
import nb_email_conn as nec
from servers.dns import DnsServer
from servers.dovecot import DovecotServer
from servers.oauth import OAuthServer
from servers.smtp_oauth import OAuthSmtpServer

auth_server = OAuthServer().start()
imap = DovecotServer(oauth_introspection_url=auth_server.url("/introspect")).start()
smtp = OAuthSmtpServer("implicit", imap.certs, auth_server.url("/introspect")).start()
imap.append("alice@example.org", "INBOX", b"From: bob@example.org\\r\\nSubject: hello\\r\\n\\r\\nHi\\r\\n")
dns = DnsServer().start()
dns.zone = f'''
localhost. 60 A 127.0.0.1
_imaps._tcp.example.org. 60 SRV 0 1 {imap.imaps_port} localhost.
_submissions._tcp.example.org. 60 SRV 0 1 {smtp.port} localhost.
'''
provider = nec.OAuthProvider(
    "local", client_id=auth_server.client_id, scopes=["imap", "offline_access"],
    token_endpoint=auth_server.url("/token"), device_authorization_endpoint=auth_server.url("/device"),
)
cfg = nec.ConnectionConfig(
    name="work", username="alice@example.org", imap_host="127.0.0.1", oauth=provider, ca_file=imap.ca_file
)
manager = nec.ConnectionManager(cfg)
manager._signin.discover = lambda address: nec.discover(
    address, nameservers=[dns.nameserver], ispdb_url=None, timeout=5
)
manager
"""
APPROVE = "auth_server.approve(manager.sign_in['user_code']); print('approved')"
CHECK = (
    "print('state:', manager.sign_in['state'], '| connection:', manager.connection_name,"
    " '| auth:', manager.values['auth'])\n"
    "print('subjects:', list(manager.connection.search_emails().subject))"
)
STOP = "imap.stop(); smtp.stop(); dns.stop(); auth_server.stop()"


def test_find_settings_then_sign_in_with_a_device_code(lab: Any, page: Any) -> None:
    lab.write_notebook("signin.ipynb", [SETUP, APPROVE, CHECK, STOP])
    open_notebook(page, lab.notebook_url("signin.ipynb"))
    run_cell(page, 0)
    form = cell(page, 0).get_by_test_id("nec-manager")
    form.wait_for()
    email = form.get_by_label("Email", exact=True)
    assert email.input_value() == "alice@example.org"
    email.press("Enter")  # Enter runs Find settings
    form.get_by_test_id("discovered").get_by_text("DNS SRV records").wait_for(timeout=30_000)
    assert form.get_by_label("IMAP Host", exact=True).input_value() == "localhost"
    assert form.get_by_test_id("discovered").get_by_text("points outside example.org").count() == 1
    # The SRV result signs in with a password; switch to OAuth 2.0 and the configured provider.
    form.get_by_label("Authentication", exact=True).select_option("oauth2")
    assert form.get_by_label("Password", exact=True).is_hidden()
    assert form.get_by_label("Provider", exact=True).input_value() == "configured"
    form.locator("button[name=sign-in]").click()
    code = form.get_by_test_id("user-code")
    code.wait_for(timeout=30_000)
    user_code = code.inner_text()
    shots = Path(tempfile.mkdtemp(prefix="nec-signin-"))
    for theme, dark in (("JupyterLab Dark", True), ("JupyterLab Light", False)):
        page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
        page.wait_for_function("(theme) => document.body.dataset.jpThemeName === theme", arg=theme, timeout=30_000)
        page.wait_for_timeout(300)
        color = code.evaluate("(el) => getComputedStyle(el).color")
        assert (luminance(color) > 0.5) == dark, f"the code is hard to read in {theme}: {color}"
        form.screenshot(path=str(shots / f"sign-in-{'dark' if dark else 'light'}.png"))
    print(f"\nsign-in screenshots in {shots}")
    link = form.get_by_test_id("sign-in").locator("a")
    assert link.get_attribute("href", timeout=5_000).endswith("/verify")
    run_cell(page, 1)
    wait_for_output(page, 1, "approved")
    form.get_by_test_id("sign-in").get_by_text("Signed in").wait_for(timeout=30_000)
    run_cell(page, 2)
    wait_for_output(page, 2, "state: signed_in | connection: work | auth: oauth2")
    wait_for_output(page, 2, "subjects: ['hello']")  # a real search on Dovecot over OAUTHBEARER
    save(page)
    saved = (lab.root / "signin.ipynb").read_text()
    state = json.loads(saved)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any("sign_in" in m["state"] for m in state.values()), "widget state was not saved"
    assert "at-" not in saved and "rt-" not in saved  # no access or refresh token anywhere
    assert user_code  # the code was shown (it is not a secret: it is what the person types)
    run_cell(page, 3)
