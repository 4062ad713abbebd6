"""Autoconfig documents (Thunderbird's config-v1.1.xml) for the discovery tests."""

from __future__ import annotations


def config_xml(
    imap_host: str = "imap.example.test",
    smtp_host: str = "smtp.example.test",
    *,
    imap_socket: str = "SSL",
    imap_port: int = 993,
    smtp_socket: str = "SSL",
    smtp_port: int = 465,
    username: str = "%EMAILADDRESS%",
    auth: tuple[str, ...] = ("password-cleartext",),
    name: str = "Example Mail",
) -> bytes:
    methods = "".join(f"<authentication>{a}</authentication>" for a in auth)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <displayName>{name}</displayName>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname><port>995</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>{imap_host}</hostname><port>{imap_port}</port><socketType>{imap_socket}</socketType>
      <username>{username}</username>{methods}
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>{smtp_host}</hostname><port>{smtp_port}</port><socketType>{smtp_socket}</socketType>
      <username>{username}</username>{methods}
    </outgoingServer>
  </emailProvider>
</clientConfig>
""".encode()
