"""Rank and mark candidates: what is ``secure``, what goes last, and why.

- A result that would send the password in clear (a server without TLS) is never secure.
- A result read over plain HTTP, or pointing outside the address's domain and its MX
  provider, is not secure and ranks below all others.
- With probing: a result whose server did not answer over TLS, or does not offer the sign-in
  it would need (a password: LOGIN / PLAIN; OAuth 2.0: XOAUTH2 / OAUTHBEARER), ranks below
  those that work, and its warnings say why.
- Otherwise the order is the sources' order (built-in table first), then each source's own.
Duplicates (same servers, username and sign-in) keep the best-ranked one.
"""

from __future__ import annotations

from collections.abc import Iterable

from .candidate import Candidate, within
from .model import SOURCES, DiscoveredSettings

_BEARER = ("OAUTHBEARER", "XOAUTH2")
_PASSWORD = ("PLAIN", "LOGIN")  # what imapclient and aiosmtplib send a password with


def sign_in_problems(candidate: Candidate) -> list[str]:
    """What probing found missing for the candidate's sign-in (nothing when it was not probed)."""
    problems = []
    oauth = candidate.auth == "oauth2"
    wanted, what = (_BEARER, "OAuth 2.0 sign-in (XOAUTH2 or OAUTHBEARER)") if oauth else (_PASSWORD, "password login")
    for protocol, server, offered in (
        ("IMAP", candidate.imap, candidate.imap_auth_mechanisms),
        ("SMTP", candidate.smtp, candidate.smtp_auth_mechanisms),
    ):
        if offered is None or any(m in offered for m in wanted):
            continue
        if protocol == "IMAP" and not oauth and not candidate.imap_login_disabled:
            continue  # the LOGIN command takes the password
        if protocol == "SMTP" and not offered:
            continue  # no AUTH at all: a relay that takes mail without a login
        has = ", ".join(offered) if offered else "no SASL mechanism"
        problems.append(f"{protocol} {server.host}:{server.port} offers no {what} (it offers {has})")
    return problems


def _warnings(candidate: Candidate, scope: set[str], domain: str) -> tuple[list[str], bool]:
    """The reasons a candidate is not secure, and whether it must rank below all others."""
    warnings: list[str] = []
    demoted = False
    for protocol, server in (("IMAP", candidate.imap), ("SMTP", candidate.smtp)):
        if server.plain:
            what = "the password" if candidate.auth == "password" else "the sign-in token"
            warnings.append(f"{protocol} {server.host}:{server.port} has no TLS: {what} would travel in clear")
    if candidate.over_http:
        warnings.append("found over plain HTTP, which anyone on the network path could have changed")
        demoted = True
    if not candidate.trusted:
        outside = sorted({s.host for s in (candidate.imap, candidate.smtp) if not within(s.host, scope)})
        if outside:
            warnings.append(
                f"points outside {domain} and its mail provider ({', '.join(outside)}): "
                "check that you trust this server before you send it your password"
            )
            demoted = True
    warnings.extend(candidate.probe_failed)
    return warnings, demoted


def rank(candidates: Iterable[Candidate], *, domain: str, scope: set[str]) -> list[DiscoveredSettings]:
    scored = []
    for position, candidate in enumerate(candidates):
        warnings, demoted = _warnings(candidate, scope, domain)
        unusable = sign_in_problems(candidate)
        warnings.extend(unusable)
        failed = bool(candidate.probe_failed or unusable)
        key = (demoted, bool(warnings), failed, SOURCES.index(candidate.source), position)
        scored.append((key, candidate, warnings))
    scored.sort(key=lambda item: item[0])
    seen: set[tuple[object, ...]] = set()
    results = []
    for _key, candidate, warnings in scored:
        if candidate.key in seen:
            continue
        seen.add(candidate.key)
        results.append(
            DiscoveredSettings(
                imap_host=candidate.imap.host,
                imap_port=candidate.imap.port,
                imap_encryption=candidate.imap.encryption,
                smtp_host=candidate.smtp.host,
                smtp_port=candidate.smtp.port,
                smtp_encryption=candidate.smtp.encryption,
                username=candidate.username,
                auth=candidate.auth,
                oauth_provider=candidate.oauth_provider,
                source=candidate.source,
                secure=not warnings,
                provider=candidate.provider,
                url=candidate.url,
                warnings=tuple(warnings),
                notes=candidate.notes,
                imap_auth_mechanisms=candidate.imap_auth_mechanisms,
                smtp_auth_mechanisms=candidate.smtp_auth_mechanisms,
            )
        )
    return results
