"""Bad input and bad networks: malformed or hostile XML, a DNS server that never answers, a web
server that hangs, an untrusted certificate, nothing to find, a bad address. Discovery never
raises for "not found" and always returns within its timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from servers.dns import SilentDnsServer
from servers.web import Response

import nb_email_conn as nec
from nb_email_conn.discovery import discover

from .configs import config_xml
from .conftest import Net
from .test_sources import ALICE, AUTOCONFIG, run

GOOD_SRV = """
_imaps._tcp.example.test. 60 SRV 0 1 993 mail.example.test.
_submissions._tcp.example.test. 60 SRV 0 1 465 mail.example.test.
"""


@pytest.fixture
def silent_dns() -> Iterator[SilentDnsServer]:
    server = SilentDnsServer()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "body",
    [
        b"<clientConfig><emailProvider><incomingServer type='imap'>",  # truncated
        b"not xml at all",
        b"",
        b"<html><body>Parked domain</body></html>",
        config_xml().replace(b"<port>993</port>", b"<port>99999</port>"),
        config_xml().replace(b"<socketType>SSL</socketType>", b"<socketType>TLS1.0</socketType>", 2),
        config_xml(imap_host="bad host name"),
        config_xml(auth=("NTLM",)),
        # Billion laughs and external entities: refused before parsing.
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<clientConfig>&lol2;</clientConfig>",
        b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><clientConfig>&x;</clientConfig>',
    ],
    ids=["truncated", "text", "empty", "html", "bad-port", "bad-socket", "bad-host", "ntlm-only", "laughs", "xxe"],
)
def test_malformed_or_hostile_autoconfig_gives_no_result_and_no_exception(net: Net, body: bytes) -> None:
    net.zone(GOOD_SRV, hosts=("autoconfig.example.test",))
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=body))
    found = run(net)
    assert [r.source for r in found] == ["srv"]  # the other sources still count


def test_an_oversized_autoconfig_file_is_ignored(net: Net) -> None:
    net.zone(hosts=("autoconfig.example.test",))
    body = config_xml().replace(b"</clientConfig>", b"<!--" + b"x" * 400_000 + b"--></clientConfig>")
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=body))
    assert run(net) == []


def test_an_untrusted_certificate_gives_no_https_result(net: Net) -> None:
    net.zone(hosts=("autoconfig.example.test",))
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=config_xml()), scheme="https")
    assert run(net, ca_file=None) == []  # the test CA is not trusted without ca_file


def test_nothing_found_is_an_empty_list_and_fast(net: Net) -> None:
    net.zone()
    started = time.monotonic()
    assert run(net, "alice@nowhere.test") == []
    assert time.monotonic() - started < 2.0


def test_a_dns_server_that_never_answers_bounds_the_call_by_the_timeout(silent_dns: SilentDnsServer) -> None:
    started = time.monotonic()
    assert discover(ALICE, nameservers=[silent_dns.nameserver], timeout=1.5) == []
    assert time.monotonic() - started < 2.5


def test_known_providers_are_still_found_when_dns_never_answers(silent_dns: SilentDnsServer) -> None:
    started = time.monotonic()
    found = discover("bob@fastmail.com", nameservers=[silent_dns.nameserver], timeout=1.0)
    assert [r.source for r in found] == ["builtin"] and found[0].imap_host == "imap.fastmail.com"
    assert time.monotonic() - started < 2.0


def test_a_web_server_that_hangs_bounds_the_call_and_the_other_sources_still_count(net: Net) -> None:
    net.zone(GOOD_SRV, hosts=("autoconfig.example.test", "example.test"))
    net.web.route("autoconfig.example.test", AUTOCONFIG, Response(body=config_xml(), delay=5))
    started = time.monotonic()
    found = discover(ALICE, nameservers=net.nameservers, ispdb_url=net.ispdb_url, ca_file=net.ca_file, timeout=1.5)
    assert time.monotonic() - started < 2.5
    assert [r.source for r in found] == ["srv"]


@pytest.mark.parametrize(
    "address", ["", "alice", "alice@", "@example.test", "a@b@example.test", "alice@localhost", "al ice@example.test",
                "alice@example.test\r\nRCPT TO:<x@y>", "Alice <alice@example.test>", 42]
)  # fmt: skip
def test_a_bad_address_raises_invalid_input(address: object) -> None:
    with pytest.raises(nec.InvalidInputError) as info:
        discover(address, nameservers=["127.0.0.1:9"], timeout=1)  # type: ignore[arg-type]
    assert info.value.field == "address"


@pytest.mark.parametrize("nameservers", [["dns.example:53"], ["127.0.0.1:99999"], [""], [], [53]])
def test_bad_nameservers_raise_invalid_input(nameservers: list[object]) -> None:
    with pytest.raises(nec.InvalidInputError) as info:
        discover(ALICE, nameservers=nameservers, timeout=1)  # type: ignore[arg-type]
    assert info.value.field == "nameservers"


def test_nameservers_accept_ipv6_and_a_default_port() -> None:
    from nb_email_conn.discovery.resolver import Nameserver, parse_nameservers

    assert parse_nameservers(["[::1]:5353", "::1", "127.0.0.1", "127.0.0.1:53"]) == [
        Nameserver("::1", 5353), Nameserver("::1", 53), Nameserver("127.0.0.1", 53), Nameserver("127.0.0.1", 53),
    ]  # fmt: skip


@pytest.mark.parametrize(("option", "value"), [("timeout", 0), ("timeout", "soon"), ("ispdb_url", "ftp://x/")])
def test_bad_options_raise_invalid_input(option: str, value: object) -> None:
    with pytest.raises(nec.InvalidInputError) as info:
        discover(ALICE, nameservers=["127.0.0.1:9"], **{option: value})  # type: ignore[arg-type]
    assert info.value.field == option


def test_an_internationalised_domain_is_looked_up_as_punycode(net: Net) -> None:
    net.zone(
        "_imaps._tcp.xn--bcher-kva.test. 60 SRV 0 1 993 mail.xn--bcher-kva.test.\n"
        "_submissions._tcp.xn--bcher-kva.test. 60 SRV 0 1 465 mail.xn--bcher-kva.test."
    )
    (result,) = run(net, "anna@bücher.test")
    assert result.imap_host == "mail.xn--bcher-kva.test" and result.secure


@pytest.fixture
def hanging_getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The system resolver hangs on every name but localhost (a fault no local server can make:
    getaddrinfo has no timeout of its own). Yields the names it was asked for."""
    import socket

    asked: list[str] = []
    release = threading.Event()
    real = socket.getaddrinfo

    def hang(host: str, *args: object, **kwargs: object) -> object:
        if host == "localhost":
            return real(host, *args, **kwargs)  # type: ignore[arg-type]
        asked.append(host)
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "timed out")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    yield asked
    release.set()


def test_a_hanging_system_resolver_is_waited_for_only_the_steps_timeout(hanging_getaddrinfo: list[str]) -> None:
    from nb_email_conn.discovery.resolver import Deadline, Resolver

    resolver = Resolver(None, Deadline(5.0), step_limit=0.5)
    started = time.monotonic()
    assert resolver.addresses("autoconfig.example.test") == []
    assert time.monotonic() - started < 1.5
    assert hanging_getaddrinfo == ["autoconfig.example.test"]
    assert "127.0.0.1" in resolver.addresses("localhost")  # the hosts file still counts


def test_without_nameservers_the_whole_call_stays_bounded_when_resolving_hangs(
    hanging_getaddrinfo: list[str],
) -> None:
    started = time.monotonic()
    assert discover(ALICE, ispdb_url=None, timeout=2) == []
    assert time.monotonic() - started < 3.0
    assert "autoconfig.example.test" in hanging_getaddrinfo  # the sources did try to connect
