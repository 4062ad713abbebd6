"""SMTP submission over aiosmtplib: implicit TLS, *required* STARTTLS, AUTH, one send.

aiosmtplib's ``start_tls=None`` default is opportunistic; we always pass False and send
STARTTLS ourselves when it is required, so a server that does not offer it or refuses it
is told apart by type, not by an error message. A message is never retried: once DATA has
started, a broken connection means the outcome is unknown and is reported as such.
Library and socket failures are translated in one place, ``error_map.smtp_error``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiosmtplib

from ..config import ConnectionConfig
from ..errors import EmailConnError, InvalidInputError, OutcomeUnknownError, SecurityError, ServerError
from ..tls import describe_tls, make_context
from ..validation import check_text
from .error_map import MAPPED, smtp_error

log = logging.getLogger("nb_email_conn.smtp")


@dataclass
class SmtpSessionInfo:
    """What a connection learned: TLS in use, EHLO extensions, AUTH methods."""

    tls: str | None = None
    extensions: list[str] = field(default_factory=list)
    auth_methods: list[str] = field(default_factory=list)
    authenticated: bool = False
    mechanism: str | None = None
    """OAUTHBEARER or XOAUTH2 for an OAuth connection (aiosmtplib picks the password mechanism)."""


@dataclass
class SubmitResult:
    accepted: list[str]
    refused: dict[str, str]
    response: str


def _envelope_address(address: str) -> str:
    """The envelope form: IDN domains as punycode; control characters refused again here."""
    check_text(address, "envelope address", allow_empty=False)
    local, _, domain = address.rpartition("@")
    try:
        domain.encode("ascii")
    except UnicodeEncodeError:
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidInputError(f"the domain of {address!r} is not a valid host name.", field="to") from exc
    return f"{local}@{domain}"


class SmtpSubmission:
    """One SMTP connection: ``async with SmtpSubmission(cfg, pw) as s: await s.submit(...)``."""

    def __init__(self, config: ConnectionConfig, password: Callable[[], str]) -> None:
        self.config = config
        self._password = password
        self.info = SmtpSessionInfo()
        mode = config.smtp_mode
        self._mode = mode
        self._client = aiosmtplib.SMTP(
            hostname=config.smtp_host,
            port=config.smtp_port,
            use_tls=mode == "implicit_tls",
            start_tls=False,  # never opportunistic; required STARTTLS is sent by _starttls()
            tls_context=make_context(config) if mode != "plain" else None,
            timeout=config.timeout,
        )

    def _describe(self, exc: BaseException, action: str) -> EmailConnError:
        cfg = self.config
        return smtp_error(
            exc,
            action=action,
            host=str(cfg.smtp_host),
            port=int(cfg.smtp_port or 0),
            timeout=cfg.timeout,
            username=cfg.username,
        )

    async def __aenter__(self) -> SmtpSubmission:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def connect(self) -> SmtpSessionInfo:
        client = self._client
        try:
            try:
                await client.connect()
            except MAPPED as exc:
                raise self._describe(exc, "connecting") from exc
            if self._mode == "starttls":
                await self._starttls()
            try:
                # After STARTTLS the client forgets the pre-TLS EHLO (RFC 3207): ask again over TLS.
                if client.is_ehlo_or_helo_needed:
                    await client.ehlo()
            except MAPPED as exc:
                raise self._describe(exc, "greeting (EHLO)") from exc
            self.info.tls = describe_tls(client.get_transport_info("ssl_object"))
            if self._mode != "plain" and self.info.tls is None:
                raise SecurityError("the SMTP connection is not encrypted although TLS is required.")
        except BaseException:
            client.close()  # nothing more is sent on a connection that failed to set up
            raise
        ehlo = client.last_ehlo_response
        self.info.extensions = sorted(client.esmtp_extensions) if ehlo else []
        self.info.auth_methods = [m.upper() for m in client.server_auth_methods]
        return self.info

    async def _starttls(self) -> None:
        """Required STARTTLS: not offered or refused is a :class:`SecurityError`; nothing goes in clear."""
        client = self._client
        host = self.config.smtp_host
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError as exc:  # no ESMTP, so no STARTTLS either
            raise SecurityError(
                f"the SMTP server {host} does not speak ESMTP, so it cannot offer STARTTLS, which StartTls/Auto "
                f"require ({exc.code} {exc.message}); nothing was sent in plaintext."
            ) from exc
        except MAPPED as exc:
            raise self._describe(exc, "greeting (EHLO)") from exc
        if not client.supports_extension("starttls"):
            raise SecurityError(
                f"the SMTP server {host} does not offer STARTTLS, which StartTls/Auto require; "
                "nothing was sent in plaintext. Use SslOnConnect (port 465) or check the port."
            )
        try:
            await client.starttls()
        except aiosmtplib.SMTPResponseException as exc:
            raise SecurityError(
                f"the SMTP server {host} refused STARTTLS ({exc.code} {exc.message}); nothing was sent in plaintext."
            ) from exc
        except MAPPED as exc:
            raise self._describe(exc, "starting TLS") from exc

    async def login(self) -> None:
        client = self._client
        if not client.supports_extension("auth"):
            # Servers that take mail without AUTH (local relays) are fine; never send the password blind.
            log.info("SMTP server %s offers no AUTH; sending without login", self.config.smtp_host)
            return
        try:
            if self.config.auth == "oauth2":
                self.info.mechanism = await self._token_login()
            else:
                await client.login(self.config.username, self._password())
        except MAPPED as exc:
            raise self._describe(exc, "logging in") from exc
        self.info.authenticated = True

    async def _token_login(self) -> str:
        """OAUTHBEARER or XOAUTH2 with the connection's access token, over TLS only (oauth/login.py)."""
        from ..oauth.login import smtp_login

        cfg = self.config
        return await smtp_login(self._client, host=str(cfg.smtp_host), port=int(cfg.smtp_port), user=cfg.username,
                                credential=self._password, tls=self.info.tls is not None)  # fmt: skip

    async def submit(
        self, envelope_from: str, recipients: Sequence[str], data: bytes, *, eight_bit: bool | None = None
    ) -> SubmitResult:
        """MAIL, RCPT, DATA. Errors before DATA are definite; a drop during DATA is unknown.

        8-bit data (``eight_bit``, or when None: any byte over 127 in ``data``, such as a
        forwarded 8-bit original) goes with ``MAIL FROM:<..> BODY=8BITMIME`` (RFC 6152); a
        server that does not offer 8BITMIME gets nothing: :class:`ServerError` before MAIL.
        """
        client = self._client
        sender = _envelope_address(envelope_from)
        rcpts = [_envelope_address(r) for r in recipients]
        if not rcpts:
            raise InvalidInputError("no recipients.", field="to")
        needs_8bit = (not data.isascii()) if eight_bit is None else bool(eight_bit)
        options: list[str] = []
        if needs_8bit:
            if not client.supports_extension("8bitmime"):
                raise ServerError(
                    f"the SMTP server {self.config.smtp_host} does not offer 8BITMIME, which this message needs "
                    "(it carries 8-bit text, e.g. a forwarded original that is not ASCII); nothing was sent. "
                    "Forward it inline instead of as an attachment, or use another SMTP server."
                )
            options.append("BODY=8BITMIME")
        try:
            await client.mail(sender, options=options)
        except MAPPED as exc:
            raise self._describe(exc, f"the sender {sender}") from exc
        refused: dict[str, str] = {}
        accepted: list[str] = []
        for rcpt in rcpts:
            try:
                await client.rcpt(rcpt)
                accepted.append(rcpt)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused[rcpt] = f"{exc.code} {exc.message}"
            except MAPPED as exc:
                raise self._describe(exc, f"the recipient {rcpt}") from exc
        if not accepted:
            try:
                await client.rset()
            except (aiosmtplib.SMTPException, OSError):
                pass
            detail = "; ".join(f"{r}: {why}" for r, why in refused.items())
            raise ServerError(f"the SMTP server refused every recipient, nothing was sent ({detail}).")
        try:
            response = await client.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            raise ServerError(
                f"the SMTP server rejected the message ({exc.code} {exc.message}); it was not sent.",
                response=exc.code,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise OutcomeUnknownError(
                "the SMTP connection broke while the message was being transferred, so it may or may not "
                "have been sent. It was not retried; check the recipients' inbox or the Sent folder."
            ) from exc
        return SubmitResult(accepted, refused, str(response.message))

    async def close(self) -> None:
        client = self._client
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
