"""The whole way, as a notebook would go: given only an address, find the settings (local DNS),
sign in with the device flow (local authorization server), search Dovecot and send through SMTP
over OAuth, survive a token expiry without asking again, and say "sign in again" after a
revocation. Dovecot's oauth2 passdb and the SMTP server check every token by introspection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from servers.dns import DnsServer
from servers.dovecot import DovecotServer
from servers.oauth import OAuthServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready

from .conftest import provider_for

pytestmark = pytest.mark.dovecot
ALICE = "alice@example.org"


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    yield server
    server.stop()


def test_address_to_search_and_send_over_oauth(
    dns: DnsServer, dovecot_oauth: DovecotServer, smtp_oauth: Any, oauth_server: OAuthServer, test_certs: Any
) -> None:
    dns.zone = (
        "localhost. 60 A 127.0.0.1\n"
        f"_imaps._tcp.example.org. 60 SRV 0 1 {dovecot_oauth.imaps_port} localhost.\n"
        f"_submissions._tcp.example.org. 60 SRV 0 1 {smtp_oauth.port} localhost.\n"
    )
    found = nec.discover(ALICE, nameservers=[dns.nameserver], ispdb_url=None, timeout=5)
    assert found and found[0].source == "srv"
    cfg = found[0].to_config(name="work", oauth=provider_for(oauth_server), ca_file=str(test_certs.ca_file), timeout=10)
    flow = nec.sign_in(cfg, method="device")
    oauth_server.approve(flow.user_code or "")
    flow.wait(timeout=10)
    dovecot_oauth.reset_mailbox(ALICE)
    dovecot_oauth.append(ALICE, "INBOX", b"From: bob@example.org\r\nSubject: hello\r\n\r\nHi Alice\r\n")

    conn = nec.EmailConnection(cfg, approver=lambda request: nec.Decision.approve())
    assert list(ready(conn.search_emails("subject:hello")).subject) == ["hello"]
    report = conn.test_connection()
    assert report.ok, str(report)
    login_steps = [s.detail for s in report.steps if s.name in ("login", "auth")]
    assert all("OAuth 2.0" in d for d in login_steps) and any("OAUTHBEARER" in d for d in login_steps)

    oauth_server.expire_access_tokens()  # the token the connection holds is now refused
    conn.close()
    conn.send_email("bob@example.org", "over oauth", "sent with a renewed token")
    assert smtp_oauth.wait_for_messages(1)[0].login == ALICE
    assert list(ready(conn.search_emails("subject:hello")).subject) == ["hello"]  # reconnects, renewed
    assert oauth_server.grants("refresh_token") >= 1

    oauth_server.revoke_all()
    conn.close()
    with pytest.raises(nec.AuthenticationError, match="sign in again"):
        conn.search_emails("subject:hello")
