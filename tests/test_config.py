"""ConnectionConfig and Encryption: strict parsing, defaults, typed errors naming the field."""

from __future__ import annotations

import pytest

import nb_email_conn as nec


def make(**changes: object) -> nec.ConnectionConfig:
    settings: dict[str, object] = {"name": "work", "username": "alice@example.org", "imap_host": "imap.example.org"}
    settings.update(changes)
    return nec.ConnectionConfig(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "member"),
    [
        ("SslOnConnect", nec.Encryption.SSL_ON_CONNECT),
        ("sslonconnect", nec.Encryption.SSL_ON_CONNECT),
        ("StartTls", nec.Encryption.STARTTLS),
        ("STARTTLS", nec.Encryption.STARTTLS),
        ("None", nec.Encryption.NONE),
        ("auto", nec.Encryption.AUTO),
        (nec.Encryption.AUTO, nec.Encryption.AUTO),
    ],
)
def test_encryption_accepts_the_seed_names_case_insensitively(text: str, member: nec.Encryption) -> None:
    assert make(imap_encryption=text).imap_encryption is member


def test_unknown_encryption_names_the_field_and_the_choices() -> None:
    with pytest.raises(nec.InvalidInputError, match="SslOnConnect, StartTls, None, Auto") as info:
        make(smtp_encryption="ssl3")
    assert info.value.field == "smtp_encryption"


def test_ports_follow_the_encryption_choice() -> None:
    cfg = make(imap_encryption="StartTls", smtp_encryption="StartTls")
    assert (cfg.imap_port, cfg.smtp_port) == (143, 587)
    cfg = make()
    assert (cfg.imap_port, cfg.smtp_port) == (993, 465)
    assert cfg.smtp_host == "imap.example.org"  # SMTP host defaults to the IMAP host


def test_auto_is_implicit_tls_on_993_and_465_and_required_starttls_elsewhere() -> None:
    cfg = make(imap_encryption="Auto", imap_port=993, smtp_encryption="Auto", smtp_port=587)
    assert cfg.imap_mode == "implicit_tls"
    assert cfg.smtp_mode == "starttls"
    assert make(imap_encryption="Auto", imap_port=143).imap_mode == "starttls"
    assert not make(imap_encryption="Auto", imap_port=1143).insecure


def test_none_is_allowed_but_reported_insecure() -> None:
    assert make(imap_encryption="None").insecure
    assert make(verify_tls=False).insecure
    assert not make().insecure


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "a\nb"),
        ("username", ""),
        ("username", "alice\r\nA1 DELETE INBOX"),
        ("imap_host", ""),
        ("imap_host", "imap example.org"),
        ("imap_port", 0),
        ("imap_port", 70000),
        ("imap_port", "abc"),
        ("smtp_port", True),
        ("from_address", "not an address"),
        ("ca_file", "/nonexistent/ca.pem"),
        ("timeout", 0),
        ("timeout", "soon"),
        ("verify_tls", "yes"),
    ],
)
def test_invalid_settings_raise_invalid_input_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(nec.InvalidInputError) as info:
        make(**{field: value})
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_sender_defaults_to_the_username_when_it_is_an_address() -> None:
    assert make().sender == "alice@example.org"
    assert make(username="alice").sender is None
    assert make(username="alice", from_address="Alice <alice@example.org>").sender == "Alice <alice@example.org>"


def test_round_trip_through_a_dict() -> None:
    cfg = make(imap_encryption="StartTls", timeout=12)
    data = cfg.to_dict()
    assert data["imap_encryption"] == "StartTls"
    assert nec.ConnectionConfig.from_dict(data) == cfg
    with pytest.raises(nec.InvalidInputError, match="unknown connection settings: password"):
        nec.ConnectionConfig.from_dict({**data, "password": "x"})


# --- sign-in: auth and oauth -----------------------------------------------------------------


def _microsoft() -> nec.OAuthProvider:
    return nec.OAuthProvider.microsoft(client_id="00000000-0000-0000-0000-000000000001", tenant="organizations")


def test_auth_defaults_to_password_and_to_oauth2_when_a_provider_is_given() -> None:
    assert make().auth == "password" and make().oauth is None
    cfg = make(oauth=_microsoft())
    assert cfg.auth == "oauth2" and cfg.oauth == _microsoft()
    assert make(auth="OAuth2", oauth=_microsoft()).auth == "oauth2"
    assert make(auth="Password").auth == "password"
    assert cfg.replace(auth="password").oauth is None  # switching back to a password drops the provider


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"auth": "oauth2"}, "oauth"),  # no provider
        ({"auth": "kerberos"}, "auth"),
        ({"auth": "oauth2", "oauth": "microsoft"}, "oauth"),
        ({"oauth": _microsoft(), "imap_encryption": "None"}, "imap_encryption"),  # a token never in clear
        ({"oauth": _microsoft(), "smtp_encryption": "None"}, "smtp_encryption"),
    ],
)
def test_invalid_sign_in_settings_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(nec.InvalidInputError) as info:
        make(**changes)
    assert info.value.field == field


def test_an_oauth_config_round_trips_through_a_dict_without_the_client_secret() -> None:
    google = nec.OAuthProvider.google("id.apps.googleusercontent.com", "the-client-secret")
    cfg = make(oauth=google)
    data = cfg.to_dict()
    assert data["auth"] == "oauth2" and data["oauth"]["client_id"] == "id.apps.googleusercontent.com"
    assert "the-client-secret" not in repr(data) and "the-client-secret" not in repr(cfg)
    back = nec.ConnectionConfig.from_dict(data)
    assert back.oauth is not None and back.oauth.client_secret is None  # the store keeps it in the secret store
    assert back.replace(oauth=google) == cfg
