"""Test certificates written to PEM files: a trusted CA with a localhost server cert, an
untrusted CA with its own localhost cert, and a cert (from the trusted CA) for the wrong host."""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import trustme


@dataclass(frozen=True)
class ServerCert:
    """A server certificate and its private key, as PEM files."""

    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@dataclass(frozen=True)
class TestCerts:
    """All the TLS material the suite needs, in one directory."""

    __test__ = False  # not a pytest test class, despite the name

    ca_file: Path
    """The CA every "good" server cert is issued by; clients trust it via ca_file."""
    server: ServerCert
    """For "localhost" and 127.0.0.1, issued by ``ca_file``."""
    untrusted_ca_file: Path
    """A CA no client is told about."""
    untrusted: ServerCert
    """For "localhost" and 127.0.0.1, issued by the untrusted CA: "certificate not trusted"."""
    wrong_host: ServerCert
    """For "wrong.example" only, issued by the trusted CA: "host name mismatch"."""
    directory: Path | None = None
    ca: trustme.CA | None = field(default=None, repr=False, compare=False)
    """The trusted CA itself, to issue certificates for more names (:meth:`issue`)."""

    def issue(self, *names: str, stem: str | None = None) -> ServerCert:
        """A certificate from the trusted CA (``ca_file``) for ``names`` (host names, IPs, ``*.x``)."""
        if self.ca is None or self.directory is None:
            raise RuntimeError("these TestCerts were not made by make_test_certs")
        label = stem or "issued-" + "-".join(n.replace("*", "star") for n in names)[:60] + "-" + uuid.uuid4().hex[:8]
        return _write_leaf(self.ca.issue_cert(*names), self.directory, label)

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts ``ca_file`` (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def _write_leaf(leaf: trustme.LeafCert, directory: Path, stem: str) -> ServerCert:
    cert_file = directory / f"{stem}-cert.pem"
    key_file = directory / f"{stem}-key.pem"
    for blob in leaf.cert_chain_pems:
        with cert_file.open("ab") as out:
            out.write(blob.bytes())
    leaf.private_key_pem.write_to_path(str(key_file))
    return ServerCert(cert_file=cert_file, key_file=key_file)


def make_test_certs(directory: Path) -> TestCerts:
    """Create the CAs and certificates as PEM files in ``directory`` (which must exist)."""
    trusted_ca = trustme.CA(organization_name="nb-email-conn test CA")
    untrusted_ca = trustme.CA(organization_name="nb-email-conn untrusted CA")
    ca_file = directory / "ca.pem"
    untrusted_ca_file = directory / "untrusted-ca.pem"
    trusted_ca.cert_pem.write_to_path(str(ca_file))
    untrusted_ca.cert_pem.write_to_path(str(untrusted_ca_file))
    return TestCerts(
        ca_file=ca_file,
        server=_write_leaf(trusted_ca.issue_cert("localhost", "127.0.0.1"), directory, "server"),
        untrusted_ca_file=untrusted_ca_file,
        untrusted=_write_leaf(untrusted_ca.issue_cert("localhost", "127.0.0.1"), directory, "untrusted"),
        wrong_host=_write_leaf(trusted_ca.issue_cert("wrong.example"), directory, "wrong-host"),
        directory=directory,
        ca=trusted_ca,
    )
