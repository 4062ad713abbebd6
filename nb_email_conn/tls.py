"""TLS contexts and the translation of TLS failures into plain-language errors."""

from __future__ import annotations

import ssl

from .config import ConnectionConfig
from .errors import SecurityError


def make_context(config: ConnectionConfig) -> ssl.SSLContext:
    """A client context: system CAs plus ``ca_file``, TLS 1.2 minimum (RFC 8997),
    certificate and host name verified unless ``verify_tls=False``."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if config.ca_file:
        try:
            context.load_verify_locations(cafile=config.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise SecurityError(f"could not load ca_file {config.ca_file!r}: {exc}") from exc
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def describe_tls(sock: object) -> str | None:
    """'TLS 1.3 (TLS_AES_256_GCM_SHA384)' for a TLS socket, None for a plain one."""
    if not isinstance(sock, ssl.SSLSocket | ssl.SSLObject):
        return None
    cipher = sock.cipher()
    version = (sock.version() or "TLS").replace("TLSv", "TLS ")
    return f"{version} ({cipher[0]})" if cipher else version


# OpenSSL verify codes (X509_V_ERR_*) for a certificate issued to another name.
_NAME_MISMATCH = frozenset({62, 63, 64})  # HOSTNAME_MISMATCH, EMAIL_MISMATCH, IP_ADDRESS_MISMATCH
# OpenSSL reason codes of a handshake that met something other than TLS (usually a plaintext port).
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "UNEXPECTED_EOF_WHILE_READING", "RECORD_LAYER_FAILURE"})


def security_error(exc: ssl.SSLError, *, host: str, port: int, protocol: str) -> SecurityError:
    """Explain a TLS failure and what to try next (by OpenSSL's verify and reason codes)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
        if getattr(exc, "verify_code", None) in _NAME_MISMATCH:
            text = (
                f"the {protocol} server's certificate is not valid for {host!r} ({reason}). "
                "Check the host name; use the name on the certificate."
            )
        else:
            text = (
                f"the {protocol} server's certificate is not trusted ({reason}). If the server uses "
                "a private CA, pass ca_file=...; verify_tls=False disables the check (unsafe)."
            )
        return SecurityError(text)
    code = getattr(exc, "reason", None)  # absent on SSLErrors raised from Python code
    reason = code or str(exc)
    if code in _NOT_TLS:
        return SecurityError(
            f"TLS handshake with the {protocol} server {host}:{port} failed ({reason}): the port may not "
            "use implicit TLS. Try encryption StartTls (usually port 143 or 587) or check the port."
        )
    return SecurityError(f"TLS with the {protocol} server {host}:{port} failed: {reason}.")
