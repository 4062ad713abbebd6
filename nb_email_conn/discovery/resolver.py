"""DNS for discovery (dnspython): SRV and MX records, and the addresses of every host discovery
connects to. ``nameservers=["127.0.0.1:5353"]`` sends all of it to those servers only, so a test
(or a split-horizon network) decides every name; without it the system's resolver is used (for
host names ``getaddrinfo``, which also reads the hosts file, in a thread of its own: it has no
timeout, so discovery waits for it only as long as the step's timeout)."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from ..errors import InvalidInputError

log = logging.getLogger("nb_email_conn.discovery")


class Deadline:
    """The time left for the whole discovery call; every network step asks it for its timeout."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def step(self, limit: float | None = None) -> float:
        """A timeout for one step: what is left, capped by ``limit``; at least a millisecond."""
        left = self.remaining()
        return max(0.001, min(left, limit) if limit is not None else left)


class SrvRecord(NamedTuple):
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int


def parse_nameservers(values: object) -> list[Nameserver] | None:
    """``["127.0.0.1:5353", "[::1]:53", "192.0.2.1"]`` -> nameservers; IP addresses only."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise InvalidInputError('nameservers must be a list of "host:port" strings.', field="nameservers")
    result = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(
                f"nameserver {value!r} must be a string such as '127.0.0.1:53'.", field="nameservers"
            )
        text = value.strip()
        host, port = text, "53"
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else "53"
        elif text.count(":") == 1:
            host, port = text.split(":")
        try:
            address = str(ipaddress.ip_address(host))
            number = int(port)
            if not 1 <= number <= 65535:
                raise ValueError(port)
        except ValueError:
            raise InvalidInputError(
                f"nameserver {value!r} must be an IP address with an optional port, such as '127.0.0.1:5353'.",
                field="nameservers",
            ) from None
        result.append(Nameserver(address, number))
    return result


def _system_addresses(host: str, timeout: float) -> list[str]:
    """``getaddrinfo(host)`` within ``timeout`` seconds (IPv4 first); ``[]`` when it fails or hangs.

    A hung lookup is left to finish in its daemon thread; nothing waits for it."""
    found: list[str] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            found.extend(sorted({str(info[4][0]) for info in infos}, key=lambda a: ":" in a))
        except (OSError, UnicodeError) as exc:
            log.debug("cannot resolve %s: %s", host, type(exc).__name__)
        finally:
            done.set()

    threading.Thread(target=lookup, name="nec-discover-resolve", daemon=True).start()
    if not done.wait(timeout):
        log.info("resolving %s took more than %.1f s: skipped", host, timeout)
        return []
    return list(found)


class Resolver:
    """SRV / MX / address lookups, each bounded by the call's :class:`Deadline`."""

    def __init__(self, nameservers: list[Nameserver] | None, deadline: Deadline, *, step_limit: float = 5.0) -> None:
        self.deadline = deadline
        self.step_limit = step_limit
        self.custom = nameservers is not None
        self._resolver: dns.resolver.Resolver | None
        if nameservers is not None:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = [dns.nameserver.Do53Nameserver(n.address, n.port) for n in nameservers]
            self._resolver = resolver
        else:
            try:
                self._resolver = dns.resolver.Resolver()
            except (dns.resolver.NoResolverConfiguration, OSError) as exc:
                log.info("no DNS resolver configuration (%s): DNS sources are skipped", type(exc).__name__)
                self._resolver = None
        if self._resolver is not None:
            self._resolver.cache = None  # one call, fresh answers
            self._resolver.retry_servfail = False

    def _query(self, name: str, rdtype: str) -> list[dns.rdata.Rdata]:
        if self._resolver is None or self.deadline.expired:
            return []
        lifetime = self.deadline.step(self.step_limit)
        self._resolver.timeout = lifetime
        try:
            answer = self._resolver.resolve(name, rdtype, lifetime=lifetime, search=False, raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers) as exc:
            log.debug("DNS %s %s: %s", rdtype, name, type(exc).__name__)
            return []
        except (dns.exception.Timeout, dns.exception.DNSException, OSError, ValueError) as exc:
            log.info("DNS %s %s failed: %s", rdtype, name, type(exc).__name__)
            return []
        return list(answer)

    def srv(self, name: str) -> list[SrvRecord]:
        """SRV records ordered by priority, then weight (highest first); "." targets left out."""
        records = []
        for rdata in self._query(name, "SRV"):
            target = str(rdata.target).rstrip(".")  # type: ignore[attr-defined]
            if not target:  # RFC 2782: "." means the service is decidedly not available
                continue
            records.append(SrvRecord(int(rdata.priority), int(rdata.weight), int(rdata.port), target.lower()))  # type: ignore[attr-defined]
        return sorted(records, key=lambda r: (r.priority, -r.weight))

    def mx(self, domain: str) -> list[str]:
        """MX host names, most preferred first."""
        hosts = []
        for rdata in sorted(self._query(domain, "MX"), key=lambda r: int(r.preference)):  # type: ignore[attr-defined]
            host = str(rdata.exchange).rstrip(".").lower()  # type: ignore[attr-defined]
            if host and host not in hosts:
                hosts.append(host)
        return hosts

    def addresses(self, host: str) -> list[str]:
        """The IP addresses to connect to for ``host`` (IPv4 first)."""
        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            pass
        if self.custom:
            found = [str(r) for r in self._query(host, "A")]
            if not found:
                found = [str(r) for r in self._query(host, "AAAA")]
            return found
        return _system_addresses(host, self.deadline.step(self.step_limit))

    def connect(self, host: str, port: int) -> socket.socket:
        """A TCP connection to ``host``:``port`` through this resolver, within the deadline."""
        addresses = self.addresses(host)
        if not addresses:
            raise OSError(f"{host} has no address")
        error: OSError | None = None
        for address in addresses:
            if self.deadline.expired:
                break
            try:
                return socket.create_connection((address, port), timeout=self.deadline.step(self.step_limit))
            except OSError as exc:
                error = exc
        raise error or TimeoutError(f"no time left to connect to {host}")
