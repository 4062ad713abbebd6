"""``discover(address)``: every source of mail settings, consulted at once within one deadline.

Sources, in the order they rank: the built-in provider table; the domain's autoconfig file
(``https://autoconfig.<domain>/mail/config-v1.1.xml``, then the same over plain HTTP as
Thunderbird does, ranked last); its ``.well-known`` autoconfig file; the ISPDB; RFC 6186 /
8314 SRV records; the MX host's provider (the built-in table, else the ISPDB entry of the MX
host's domain); and, with ``probe=True`` only, a guess (``imap.<domain>``, ``smtp.<domain>``,
``mail.<domain>``) kept where a server answered over TLS.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
from collections.abc import Callable
from urllib.parse import quote

from ..config import Encryption
from ..errors import InvalidInputError
from ..validation import parse_address
from . import autoconfig, providers, srv
from .candidate import Candidate, Server, registrable_domain
from .fetch import fetch, tls_context
from .model import DiscoveredSettings, Source
from .probe import ProbeResult
from .probe import probe as probe_server
from .rank import rank
from .resolver import Deadline, Resolver, parse_nameservers

log = logging.getLogger("nb_email_conn.discovery")

DEFAULT_ISPDB = "https://autoconfig.thunderbird.net/v1.1/"
_WORKERS = 8


def _split(address: object) -> tuple[str, str]:
    """The address (domain in lower case, IDN as punycode) and its domain; InvalidInputError if bad."""
    if not isinstance(address, str):
        raise InvalidInputError("address must be an email address such as alice@example.org.", field="address")
    parsed = parse_address(address.strip(), "address")
    if parsed.name:
        raise InvalidInputError("address must be a bare address such as alice@example.org.", field="address")
    local, _, domain = parsed.addr.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidInputError(f"the domain of {address!r} is not a valid host name.", field="address") from None
    if "." not in domain.strip("."):
        raise InvalidInputError(f"{address!r} has no domain to look up (like example.org).", field="address")
    return f"{local}@{domain}", domain


def _ispdb_address(base: str, domain: str) -> str:
    return base.format(domain=domain) if "{domain}" in base else base.rstrip("/") + "/" + domain


class _Discovery:
    def __init__(
        self,
        address: str,
        domain: str,
        resolver: Resolver,
        ispdb_url: str | None,
        ca_file: str | None,
    ) -> None:
        self.address = address
        self.domain = domain
        self.resolver = resolver
        self.ispdb_url = ispdb_url
        self.context = tls_context(ca_file)
        self.mx_hosts: list[str] = []
        self.mx_provider: providers.Provider | None = None

    def _config_file(self, url: str, source: Source) -> list[Candidate]:
        fetched = fetch(url, self.resolver, self.context)
        if fetched is None:
            return []
        found = autoconfig.candidates(fetched.body, self.address, source=source, url=fetched.url, https=fetched.https)
        log.info("discovery: %s gave %d result(s)", fetched.url, len(found))
        return found

    def autoconfig(self) -> list[Candidate]:
        query = "mail/config-v1.1.xml?emailaddress=" + quote(self.address, safe="@")
        found = self._config_file(f"https://autoconfig.{self.domain}/{query}", "autoconfig")
        return found or self._config_file(f"http://autoconfig.{self.domain}/{query}", "autoconfig")

    def well_known(self) -> list[Candidate]:
        query = ".well-known/autoconfig/mail/config-v1.1.xml?emailaddress=" + quote(self.address, safe="@")
        return self._config_file(f"https://{self.domain}/{query}", "well-known")

    def ispdb(self) -> list[Candidate]:
        if not self.ispdb_url:
            return []
        return self._config_file(_ispdb_address(self.ispdb_url, self.domain), "ispdb")

    def srv(self) -> list[Candidate]:
        return srv.candidates(self.resolver, self.domain, self.address)

    def mx(self) -> list[Candidate]:
        self.mx_hosts = self.resolver.mx(self.domain)
        self.mx_provider = providers.by_mx(self.mx_hosts)
        if self.mx_provider is not None:
            return self.mx_provider.candidates(self.address, "mx")
        # Thunderbird's fallback: the ISPDB entry of the MX host's own domain (a hosting company).
        for base in dict.fromkeys(registrable_domain(h) for h in self.mx_hosts):
            if base != self.domain and self.ispdb_url:
                found = self._config_file(_ispdb_address(self.ispdb_url, base), "mx")
                if found:
                    return found
        return []

    def scope(self) -> set[str]:
        """The domains a result may point into and still be secure: the address's domain, its
        MX hosts' domains, and the hosts of the provider the table knows for either."""
        scope = {self.domain, *(registrable_domain(h) for h in self.mx_hosts)}
        for provider in (providers.by_domain(self.domain), self.mx_provider):
            if provider is not None:
                scope.update(provider.hosts)
        return scope

    def guesses(self, pool: concurrent.futures.Executor) -> list[Candidate]:
        """``imap.``/``mail.`` + ``smtp.``/``mail.`` of the domain, kept where they answer over TLS."""
        imap = [
            Server(f"{name}.{self.domain}", port, enc)
            for name in ("imap", "mail")
            for port, enc in ((993, Encryption.SSL_ON_CONNECT), (143, Encryption.STARTTLS))
        ]
        smtp = [
            Server(f"{name}.{self.domain}", port, enc)
            for name in ("smtp", "mail")
            for port, enc in ((465, Encryption.SSL_ON_CONNECT), (587, Encryption.STARTTLS))
        ]
        checks = {(p, s): pool.submit(probe_server, s, p, self.resolver, self.context) for p, group in
                  (("imap", imap), ("smtp", smtp)) for s in group}  # fmt: skip
        concurrent.futures.wait(list(checks.values()), timeout=self.resolver.deadline.remaining())
        answered = {
            key: future.result()
            for key, future in checks.items()
            if future.done() and not future.cancelled() and future.result().ok
        }
        good_imap = [s for s in imap if ("imap", s) in answered]
        good_smtp = [s for s in smtp if ("smtp", s) in answered]
        if not good_imap or not good_smtp:
            return []
        pairs = [(good_imap[0], s) for s in good_smtp] + [(i, good_smtp[0]) for i in good_imap[1:]]
        return [
            Candidate(
                i, s, self.address, "password", None, "guess",
                imap_auth_mechanisms=answered[("imap", i)].mechanisms,
                smtp_auth_mechanisms=answered[("smtp", s)].mechanisms,
                imap_login_disabled=answered[("imap", i)].login_disabled,
            )
            for i, s in pairs
        ]  # fmt: skip

    def check(self, candidates: list[Candidate], pool: concurrent.futures.Executor) -> list[Candidate]:
        """Probe every server the candidates name; attach what each offered, or why it failed."""
        servers = {(p, s) for c in candidates for p, s in (("imap", c.imap), ("smtp", c.smtp))}
        checks = {key: pool.submit(probe_server, key[1], key[0], self.resolver, self.context) for key in servers}
        concurrent.futures.wait(list(checks.values()), timeout=self.resolver.deadline.remaining())

        def outcome(protocol: str, server: Server) -> ProbeResult:
            future = checks[(protocol, server)]
            if not future.done() or future.cancelled():
                return ProbeResult(False, problem=f"{protocol.upper()} {server}: no answer within the timeout")
            return future.result()

        checked = []
        for c in candidates:
            imap, smtp = outcome("imap", c.imap), outcome("smtp", c.smtp)
            checked.append(
                dataclasses.replace(
                    c,
                    probe_failed=tuple(r.problem for r in (imap, smtp) if not r.ok and r.problem),
                    imap_auth_mechanisms=imap.mechanisms if imap.ok else None,
                    smtp_auth_mechanisms=smtp.mechanisms if smtp.ok else None,
                    imap_login_disabled=imap.login_disabled,
                )
            )
        return checked


def discover(
    address: str,
    *,
    nameservers: list[str] | None = None,
    ispdb_url: str | None = DEFAULT_ISPDB,
    ca_file: str | None = None,
    timeout: float = 10.0,
    probe: bool = False,
) -> list[DiscoveredSettings]:
    """Find the IMAP and SMTP settings of ``address``: every distinct result, best first.

    ``nameservers`` (``["127.0.0.1:5353"]``) answer the SRV and MX queries and resolve every
    host discovery connects to. ``ispdb_url`` is Thunderbird's ISPDB (None skips it; ``{domain}``
    in it is replaced, else the domain is appended). ``ca_file`` adds a CA for the HTTPS fetches.
    ``timeout`` bounds the whole call. ``probe=True`` connects to every server found (and to
    guessed ones) to check it answers over TLS and which sign-in mechanisms it offers.
    Nothing found, or offline: ``[]``. A malformed address: :class:`InvalidInputError`.
    """
    address, domain = _split(address)
    try:
        seconds = float(timeout)
    except (TypeError, ValueError):
        raise InvalidInputError("timeout must be a number of seconds.", field="timeout") from None
    if not 0 < seconds <= 300:
        raise InvalidInputError("timeout must be more than 0 and at most 300 seconds.", field="timeout")
    if ispdb_url is not None and not (isinstance(ispdb_url, str) and ispdb_url.startswith(("https://", "http://"))):
        raise InvalidInputError("ispdb_url must be an http(s):// address or None.", field="ispdb_url")
    if ca_file is not None and not isinstance(ca_file, str):
        raise InvalidInputError("ca_file must be a path to a PEM file.", field="ca_file")
    deadline = Deadline(seconds)
    resolver = Resolver(parse_nameservers(nameservers), deadline, step_limit=seconds)
    try:
        job = _Discovery(address, domain, resolver, ispdb_url, ca_file)
    except OSError as exc:
        raise InvalidInputError(f"ca_file {ca_file!r} cannot be loaded: {exc}.", field="ca_file") from None
    builtin = providers.by_domain(domain)
    found: dict[Source, list[Candidate]] = {"builtin": builtin.candidates(address, "builtin") if builtin else []}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="nec-discover")
    try:
        sources: dict[Source, Callable[[], list[Candidate]]] = {
            "autoconfig": job.autoconfig,
            "well-known": job.well_known,
            "ispdb": job.ispdb,
            "srv": job.srv,
            "mx": job.mx,
        }
        futures = {pool.submit(work): source for source, work in sources.items()}
        # With probing, the sources leave time for the probes.
        phase = deadline.remaining() * (0.5 if probe else 1.0)
        done, _pending = concurrent.futures.wait(futures, timeout=phase)
        for future in done:
            try:
                found[futures[future]] = future.result()
            except Exception as exc:  # a source failing is "nothing found there"
                log.warning("discovery: %s failed: %s", futures[future], type(exc).__name__)
        candidates = [c for source in ("builtin", *sources) for c in found.get(source, [])]
        if probe and not deadline.expired:
            candidates = job.check(candidates, pool) + job.guesses(pool)
        return rank(candidates, domain=domain, scope=job.scope())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
