"""``probe=True``: discovery connects to the servers it found (and to guessed ones) and reports
what answered over TLS and which sign-in mechanisms it offered. Real Dovecot and aiosmtpd."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest
from servers.certs import TestCerts
from servers.dovecot import DovecotServer
from servers.ports import free_port
from servers.smtp import SmtpServer
from servers.tls_front import TlsFront
from servers.web import Response

import nb_email_conn as nec

from .configs import config_xml
from .conftest import Net
from .test_sources import ALICE, AUTOCONFIG, run

pytestmark = pytest.mark.dovecot


def test_probing_reports_the_mechanisms_of_the_servers_found(
    net: Net, dovecot: DovecotServer, smtp_implicit: SmtpServer
) -> None:
    net.zone(
        f"localhost. 60 A 127.0.0.1\n"
        f"_imaps._tcp.example.test. 60 SRV 0 1 {dovecot.imaps_port} localhost.\n"
        f"_submissions._tcp.example.test. 60 SRV 0 1 {smtp_implicit.port} localhost.\n"
        f"_submissions._tcp.example.test. 60 SRV 5 1 {free_port()} localhost.\n"
    )
    found = run(net, probe=True)
    assert [r.source for r in found] == ["srv", "srv"]
    good, dead = found
    assert good.smtp_port == smtp_implicit.port and good.imap_auth_mechanisms is not None
    assert "PLAIN" in good.imap_auth_mechanisms
    assert good.smtp_auth_mechanisms is not None and "PLAIN" in good.smtp_auth_mechanisms
    assert not any("did not answer" in w for w in good.warnings)
    assert any("did not answer" in w for w in dead.warnings) and not dead.secure


def test_without_probe_nothing_connects_to_the_mail_servers(net: Net, smtp_implicit: SmtpServer) -> None:
    net.zone(
        f"localhost. 60 A 127.0.0.1\n"
        f"_imaps._tcp.example.test. 60 SRV 0 1 {smtp_implicit.port} localhost.\n"
        f"_submissions._tcp.example.test. 60 SRV 0 1 {smtp_implicit.port} localhost.\n"
    )
    before = len(smtp_implicit.commands)
    (result,) = run(net)
    assert result.imap_auth_mechanisms is None
    assert len(smtp_implicit.commands) == before


def test_a_result_whose_servers_lack_its_sign_in_mechanism_ranks_lower_and_says_why(
    net: Net, dovecot: DovecotServer, smtp_implicit: SmtpServer
) -> None:
    """The domain's file offers OAuth 2.0 first, then a password; the servers take only passwords."""
    net.zone("localhost. 60 A 127.0.0.1", hosts=("autoconfig.example.test",))
    document = config_xml(
        "localhost", "localhost", imap_port=dovecot.imaps_port, smtp_port=smtp_implicit.port,
        auth=("OAuth2", "password-cleartext"),
    )  # fmt: skip
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=document))
    assert [r.auth for r in run(net)] == ["oauth2", "password"]  # unprobed: the file's order

    password, oauth = run(net, probe=True)
    assert (password.auth, oauth.auth) == ("password", "oauth2")
    assert password.imap_auth_mechanisms is not None and "PLAIN" in password.imap_auth_mechanisms
    assert not any("offers no" in w for w in password.warnings)
    imap_reason = f"IMAP localhost:{dovecot.imaps_port} offers no OAuth 2.0 sign-in (XOAUTH2 or OAUTHBEARER)"
    assert any(w.startswith(imap_reason) and "PLAIN" in w for w in oauth.warnings), oauth.warnings
    assert not oauth.secure and imap_reason in oauth.describe()


@pytest.fixture
def guessed_servers(test_certs: TestCerts, dovecot: DovecotServer, smtp_plain: SmtpServer) -> Iterator[str]:
    """Real Dovecot and aiosmtpd behind TLS on imap.example.test:993 and smtp.example.test:465."""
    if os.geteuid() != 0:
        pytest.skip("guessing uses the standard ports 993/465, which only root may bind")
    address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    cert = test_certs.issue("imap.example.test", "smtp.example.test")
    fronts = [
        TlsFront(address, 993, cert, ("127.0.0.1", dovecot.plain_port)),
        TlsFront(address, 465, cert, ("127.0.0.1", smtp_plain.port)),
    ]
    yield address
    for front in fronts:
        front.close()


def test_a_guess_is_offered_only_with_probe_and_only_where_servers_answer_over_tls(
    net: Net, guessed_servers: str
) -> None:
    net.zone(f"imap.example.test. 60 A {guessed_servers}\nsmtp.example.test. 60 A {guessed_servers}")
    assert run(net) == []
    (guess,) = run(net, probe=True)
    assert guess.source == "guess" and guess.secure
    assert (guess.imap_host, guess.imap_port, guess.imap_encryption) == (
        "imap.example.test", 993, nec.Encryption.SSL_ON_CONNECT,
    )  # fmt: skip
    assert (guess.smtp_host, guess.smtp_port) == ("smtp.example.test", 465)
    assert guess.imap_auth_mechanisms is not None and "PLAIN" in guess.imap_auth_mechanisms
    assert guess.username == ALICE
