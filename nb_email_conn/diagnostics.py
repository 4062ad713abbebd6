"""Test connection: log in to IMAP and SMTP without sending mail, and report each step."""

# ruff: noqa: PT028  (test_connection is not a pytest test: its defaults are on purpose)
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ._async import run_sync
from .config import ConnectionConfig
from .errors import EmailConnError
from .imap.session import ImapSession
from .oauth.credentials import credential_for
from .smtp.sender import SmtpSubmission


@dataclass
class Step:
    protocol: Literal["imap", "smtp"]
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


@dataclass
class ConnectionReport:
    """The outcome of :func:`test_connection`: ``ok`` and the steps that led to it."""

    steps: list[Step] = field(default_factory=list)
    insecure: bool = False
    imap_capabilities: list[str] = field(default_factory=list)
    smtp_extensions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "insecure": self.insecure,
            "steps": [asdict(s) for s in self.steps],
            "imap_capabilities": self.imap_capabilities,
            "smtp_extensions": self.smtp_extensions,
        }

    def __str__(self) -> str:
        lines = [
            ("OK" if self.ok else "FAILED") + (" (insecure: no TLS or no certificate check)" if self.insecure else "")
        ]
        for step in self.steps:
            lines.append(f"  {'✓' if step.ok else '✗'} {step.protocol.upper()} {step.name}: {step.detail}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        items = "".join(
            f"<li>{'✅' if s.ok else '❌'} <b>{s.protocol.upper()} {html.escape(s.name)}</b>: "
            f"{html.escape(s.detail)}</li>"
            for s in self.steps
        )
        head = "Connection works" if self.ok else "Connection failed"
        warn = " <b>(insecure)</b>" if self.insecure else ""
        return f"<div><b>{head}</b>{warn}<ul>{items}</ul></div>"


def _signed_in(config: ConnectionConfig, mechanism: object) -> str:
    """'logged in as alice (OAuth 2.0, OAUTHBEARER)' / 'logged in as alice': how the login went."""
    how = [m for m in ("OAuth 2.0" if config.auth == "oauth2" else None, mechanism) if isinstance(m, str) and m]
    return f"logged in as {config.username}" + (f" ({', '.join(how)})" if how else "")


def _imap_steps(config: ConnectionConfig, credential: Callable[[], str], report: ConnectionReport) -> None:
    session = ImapSession(config, credential)
    started = time.perf_counter()
    try:
        session.connect()
    except EmailConnError as exc:
        report.steps.append(Step("imap", "connect and login", False, str(exc), time.perf_counter() - started))
        return
    elapsed = time.perf_counter() - started
    where = f"{config.imap_host}:{config.imap_port}"
    report.steps.append(Step("imap", "connect", True, f"reached {where}", elapsed))
    report.steps.append(Step("imap", "tls", True, session.tls or "no encryption (insecure)"))
    report.steps.append(Step("imap", "login", True, _signed_in(config, getattr(session, "mechanism", None))))
    report.imap_capabilities = sorted(session.capabilities)
    wanted = [c for c in ("UIDPLUS", "MOVE", "SPECIAL-USE", "ESEARCH", "SORT", "IDLE") if session.has(c)]
    report.steps.append(Step("imap", "capabilities", True, ", ".join(wanted) or "basic IMAP4rev1"))
    session.close()


async def _smtp_steps(config: ConnectionConfig, credential: Callable[[], str], report: ConnectionReport) -> None:
    smtp = SmtpSubmission(config, credential)
    started = time.perf_counter()
    try:
        info = await smtp.connect()
    except EmailConnError as exc:
        report.steps.append(Step("smtp", "connect", False, str(exc), time.perf_counter() - started))
        return
    try:
        report.steps.append(
            Step(
                "smtp", "connect", True, f"reached {config.smtp_host}:{config.smtp_port}", time.perf_counter() - started
            )
        )
        report.steps.append(Step("smtp", "tls", True, info.tls or "no encryption (insecure)"))
        report.smtp_extensions = info.extensions
        try:
            await smtp.login()
        except EmailConnError as exc:
            report.steps.append(Step("smtp", "auth", False, str(exc)))
            return
        mechanism = getattr(smtp.info, "mechanism", None)
        detail = _signed_in(config, mechanism) if smtp.info.authenticated else "server asks for no login"
        report.steps.append(Step("smtp", "auth", True, detail))
    finally:
        await smtp.close()


def test_connection(
    config: ConnectionConfig, password: str | None = None, *, credential: Callable[[], str] | None = None
) -> ConnectionReport:
    """Connect and log in to IMAP and SMTP; no mail is sent and nothing is changed.

    ``password=None`` reads the secret store; an OAuth connection (``auth="oauth2"``) uses the
    tokens of its sign-in (:func:`~nb_email_conn.sign_in`). The login steps name the mechanism.
    """
    if credential is None:
        try:
            credential = credential_for(config, password)
        except EmailConnError as exc:  # no password saved: a report that says so, not a crash
            report = ConnectionReport(insecure=config.insecure)
            report.steps.append(Step("imap", "credentials", False, str(exc)))
            return report
    report = ConnectionReport(insecure=config.insecure)
    _imap_steps(config, credential, report)
    run_sync(_smtp_steps(config, credential, report))
    return report


async def test_connection_async(
    config: ConnectionConfig, password: str | None = None, *, credential: Callable[[], str] | None = None
) -> ConnectionReport:
    import asyncio

    return await asyncio.to_thread(lambda: test_connection(config, password, credential=credential))


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
test_connection_async.__test__ = False  # type: ignore[attr-defined]
