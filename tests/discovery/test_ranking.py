"""Ranking and ``secure``: every source at once, plain HTTP and out-of-domain results last,
never secure when a password would travel in clear; duplicates merged; ``to_config``."""

from __future__ import annotations

import pytest
from servers.web import Response

import nb_email_conn as nec

from .configs import config_xml
from .conftest import Net
from .test_sources import ALICE, AUTOCONFIG, WELL_KNOWN, run

SRV_ZONE = """
_imaps._tcp.example.test. 60 SRV 0 1 993 mail.example.test.
_submissions._tcp.example.test. 60 SRV 0 1 465 mail.example.test.
"""


def test_every_source_is_consulted_and_results_come_in_source_order(net: Net) -> None:
    net.zone(SRV_ZONE + "example.test. 60 MX 10 mx1.hoster.test.", hosts=("autoconfig.example.test", "example.test"))
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=config_xml("a.example.test", "a.example.test")))
    net.web.route("example.test", WELL_KNOWN, Response(body=config_xml("w.example.test", "w.example.test")))
    net.web.route("ispdb.test", "/v1.1/example.test", Response(body=config_xml("i.example.test", "i.example.test")))
    net.web.route("ispdb.test", "/v1.1/hoster.test", Response(body=config_xml("imap.hoster.test", "smtp.hoster.test")))
    found = run(net)
    assert [(r.source, r.imap_host) for r in found] == [
        ("autoconfig", "a.example.test"),
        ("well-known", "w.example.test"),
        ("ispdb", "i.example.test"),
        ("srv", "mail.example.test"),
        ("mx", "imap.hoster.test"),
    ]
    assert all(r.secure for r in found)


def test_the_same_settings_from_two_sources_come_back_once_from_the_better_source(net: Net) -> None:
    net.zone(SRV_ZONE, hosts=("autoconfig.example.test",))
    net.web.route(
        "autoconfig.example.test", AUTOCONFIG, Response(body=config_xml("mail.example.test", "mail.example.test"))
    )
    (result,) = run(net)
    assert result.source == "autoconfig"


def test_a_plain_http_autoconfig_is_not_secure_and_ranks_below_everything_else(net: Net) -> None:
    net.zone(SRV_ZONE, hosts=("autoconfig.example.test",))
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=config_xml()), scheme="http")
    found = run(net)
    assert [r.source for r in found] == ["srv", "autoconfig"]
    http = found[-1]
    assert not http.secure and http.url is not None and http.url.startswith("http://")
    assert any("plain HTTP" in w for w in http.warnings)


def test_a_plain_http_ispdb_is_not_secure(net: Net) -> None:
    net.zone()
    net.web.route("ispdb.test", "/v1.1/example.test", Response(body=config_xml()), scheme="http")
    (result,) = run(net, ispdb_url=net.web.url("ispdb.test", "/v1.1/", scheme="http"))
    assert result.source == "ispdb" and not result.secure


def test_an_https_to_http_redirect_counts_as_plain_http(net: Net) -> None:
    net.zone(hosts=("autoconfig.example.test",))
    target = net.web.url("autoconfig.example.test", "/moved.xml", scheme="http")
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(302, headers={"Location": target}), scheme="https")
    net.web.route("autoconfig.example.test", "/moved.xml", Response(body=config_xml()), scheme="http")
    (result,) = run(net)
    assert not result.secure and result.url == target


def test_results_pointing_outside_the_domain_are_not_secure_and_rank_last(net: Net) -> None:
    net.zone(SRV_ZONE, hosts=("autoconfig.example.test",))
    outside = config_xml("imap.other.test", "smtp.example.test")
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=outside))
    found = run(net)
    assert [(r.source, r.secure) for r in found] == [("srv", True), ("autoconfig", False)]
    assert "imap.other.test" in found[-1].warnings[0] and "outside example.test" in found[-1].warnings[0]
    assert "not secure" in found[-1].describe()


@pytest.mark.parametrize(("imap_socket", "smtp_socket"), [("plain", "SSL"), ("SSL", "plain")])
def test_settings_that_send_the_password_in_clear_are_never_secure(
    net: Net, imap_socket: str, smtp_socket: str
) -> None:
    net.zone(SRV_ZONE, hosts=("autoconfig.example.test",))
    body = config_xml("imap.example.test", "smtp.example.test", imap_socket=imap_socket, smtp_socket=smtp_socket)
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=body))
    found = run(net)
    assert [(r.source, r.secure) for r in found] == [("srv", True), ("autoconfig", False)]
    assert any("in clear" in w for w in found[-1].warnings)


def test_to_config_gives_a_connection_config_and_passes_overrides_through(net: Net, tmp_path: object) -> None:
    net.zone(SRV_ZONE)
    (result,) = run(net)
    cfg = result.to_config(name="work", timeout=12, from_address="Alice <alice@example.test>")
    assert isinstance(cfg, nec.ConnectionConfig)
    assert (cfg.name, cfg.username, cfg.imap_host, cfg.imap_port, cfg.smtp_port) == (
        "work", ALICE, "mail.example.test", 993, 465,
    )  # fmt: skip
    assert cfg.timeout == 12 and cfg.auth == "password"
    assert result.to_config(name="w", ca_file=net.ca_file).ca_file == net.ca_file


def test_to_config_of_oauth_settings_needs_a_provider_or_a_password(net: Net) -> None:
    (oauth, password) = run(net, "a@gmail.com")
    with pytest.raises(nec.InvalidInputError, match=r"OAuthProvider\.google") as info:
        oauth.to_config(name="g")
    assert info.value.field == "oauth"
    cfg = oauth.to_config(name="g", oauth=nec.OAuthProvider.google("id.apps.googleusercontent.com", "s"))
    assert cfg.auth == "oauth2" and cfg.oauth is not None and cfg.oauth.name == "google"
    assert oauth.to_config(name="g", auth="password").auth == "password"
    assert password.to_config(name="g").auth == "password"
