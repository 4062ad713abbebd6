"""Each discovery source on its own, against the local DNS server and HTTPS servers."""

from __future__ import annotations

import pytest
from servers.web import Response

import nb_email_conn as nec
from nb_email_conn.discovery import discover

from .configs import config_xml
from .conftest import Net

ALICE = "alice@example.test"
AUTOCONFIG = "/mail/config-v1.1.xml"
WELL_KNOWN = "/.well-known/autoconfig/mail/config-v1.1.xml"


def run(net: Net, address: str = ALICE, **options: object) -> list[nec.DiscoveredSettings]:
    settings: dict[str, object] = {"nameservers": net.nameservers, "ispdb_url": net.ispdb_url, "ca_file": net.ca_file}
    settings.update(options)
    return discover(address, timeout=5, **settings)  # type: ignore[arg-type]


def test_the_builtin_table_knows_gmail_with_oauth_first_and_an_app_password_second(net: Net) -> None:
    found = run(net, "someone@gmail.com")
    assert [(r.source, r.auth, r.oauth_provider) for r in found] == [
        ("builtin", "oauth2", "google"),
        ("builtin", "password", None),
    ]
    best = found[0]
    assert (best.imap_host, best.imap_port, best.imap_encryption) == (
        "imap.gmail.com",
        993,
        nec.Encryption.SSL_ON_CONNECT,
    )
    assert (best.smtp_host, best.smtp_port) == ("smtp.gmail.com", 465)
    assert best.secure and best.username == "someone@gmail.com"
    assert best.provider == "Gmail / Google Workspace"


@pytest.mark.parametrize("address", ["a@outlook.com", "a@hotmail.com", "a@live.com"])
def test_microsoft_consumer_domains_come_back_with_oauth2_only(net: Net, address: str) -> None:
    found = run(net, address)
    assert [(r.auth, r.oauth_provider) for r in found] == [("oauth2", "microsoft")]
    assert found[0].imap_host == "outlook.office365.com"
    assert found[0].smtp_encryption is nec.Encryption.STARTTLS


def test_every_builtin_provider_entry_names_its_sources() -> None:
    from nb_email_conn.discovery.providers import table

    names = {p.id for p in table()}
    assert {"google", "outlook", "microsoft365", "yahoo", "icloud", "fastmail", "gmx", "webde", "zoho"} <= names
    assert {"proton", "mailbox-org"} <= names
    for provider in table():
        assert provider.sources and all(s.startswith("https://") for s in provider.sources), provider.id
        assert (
            provider.imap.encryption is not nec.Encryption.NONE and provider.smtp.encryption is not nec.Encryption.NONE
        )
        assert ("oauth2" in provider.auth) == (provider.oauth is not None)


def test_autoconfig_host_over_https(net: Net) -> None:
    net.zone(hosts=("autoconfig.example.test",))
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=config_xml(username="%EMAILLOCALPART%")))
    found = run(net)
    assert len(found) == 1
    result = found[0]
    assert result.source == "autoconfig" and result.secure and result.warnings == ()
    assert (result.imap_host, result.smtp_host, result.username) == ("imap.example.test", "smtp.example.test", "alice")
    assert result.provider == "Example Mail"
    assert result.url is not None and result.url.startswith("https://autoconfig.example.test")
    # Thunderbird's query: the address is passed along.
    assert ("https", "autoconfig.example.test", AUTOCONFIG + "?emailaddress=alice@example.test") in net.web.requests


def test_well_known_file_on_the_domain_itself(net: Net) -> None:
    net.zone(hosts=("example.test",))
    net.web.route("example.test", WELL_KNOWN, Response(body=config_xml(imap_socket="STARTTLS", imap_port=143)))
    (result,) = run(net)
    assert result.source == "well-known" and result.secure
    assert (result.imap_port, result.imap_encryption) == (143, nec.Encryption.STARTTLS)


def test_ispdb_entry_for_the_domain(net: Net) -> None:
    net.zone()
    net.web.route("ispdb.test", "/v1.1/example.test", Response(body=config_xml(auth=("OAuth2", "password-cleartext"))))
    found = run(net)
    assert [(r.source, r.auth) for r in found] == [("ispdb", "oauth2"), ("ispdb", "password")]
    assert all(r.secure for r in found)
    assert found[0].oauth_provider is None  # not a preset's servers: the user brings an OAuthProvider


def test_ispdb_url_with_a_domain_placeholder_and_none_to_skip_it(net: Net) -> None:
    net.zone()
    net.web.route("ispdb.test", "/db/example.test.xml", Response(body=config_xml()))
    assert [r.source for r in run(net, ispdb_url=net.web.url("ispdb.test", "/db/{domain}.xml"))] == ["ispdb"]
    assert run(net, ispdb_url=None) == []


def test_srv_records_prefer_implicit_tls(net: Net) -> None:
    net.zone(
        """
_imap._tcp.example.test. 60 SRV 0 1 143 imap.example.test.
_imaps._tcp.example.test. 60 SRV 0 1 993 imap.example.test.
_submission._tcp.example.test. 60 SRV 0 1 587 smtp.example.test.
_submissions._tcp.example.test. 60 SRV 5 1 465 smtp2.example.test.
_submissions._tcp.example.test. 60 SRV 0 1 465 smtp.example.test.
"""
    )
    found = run(net)
    assert {r.source for r in found} == {"srv"} and all(r.secure for r in found)
    best = found[0]
    assert (best.imap_host, best.imap_port, best.imap_encryption) == (
        "imap.example.test",
        993,
        nec.Encryption.SSL_ON_CONNECT,
    )
    assert (best.smtp_host, best.smtp_port, best.smtp_encryption) == (
        "smtp.example.test",
        465,
        nec.Encryption.SSL_ON_CONNECT,
    )
    assert ("imap.example.test", 143) in {(r.imap_host, r.imap_port) for r in found}
    assert ("smtp2.example.test", 465) in {(r.smtp_host, r.smtp_port) for r in found}


def test_srv_dot_target_means_no_service(net: Net) -> None:
    net.zone(
        """
_imaps._tcp.example.test. 60 SRV 0 0 0 .
_submissions._tcp.example.test. 60 SRV 0 1 465 smtp.example.test.
"""
    )
    assert run(net) == []


def test_mx_at_google_means_google_workspace(net: Net) -> None:
    net.zone("example.test. 60 MX 1 aspmx.l.google.com.\nexample.test. 60 MX 5 alt1.aspmx.l.google.com.")
    found = run(net)
    assert [(r.source, r.auth, r.oauth_provider) for r in found] == [
        ("mx", "oauth2", "google"),
        ("mx", "password", None),
    ]
    assert found[0].imap_host == "imap.gmail.com" and found[0].secure
    assert found[0].username == ALICE


def test_mx_at_outlook_means_microsoft_365_with_oauth2(net: Net) -> None:
    net.zone("example.test. 60 MX 0 example-test.mail.protection.outlook.com.")
    (result,) = run(net)
    assert (result.source, result.auth, result.oauth_provider) == ("mx", "oauth2", "microsoft")
    assert (result.imap_host, result.smtp_host) == ("outlook.office365.com", "smtp.office365.com")


def test_mx_at_a_hosting_company_uses_its_ispdb_entry_and_its_hosts_are_in_scope(net: Net) -> None:
    net.zone("example.test. 60 MX 10 mx1.hoster.test.")
    body = config_xml("imap.hoster.test", "smtp.hoster.test", name="Hoster")
    net.web.route("ispdb.test", "/v1.1/hoster.test", Response(body=body))
    (result,) = run(net)
    assert (result.source, result.imap_host, result.provider) == ("mx", "imap.hoster.test", "Hoster")
    assert result.secure  # the MX provider's own servers are not "outside the domain"
