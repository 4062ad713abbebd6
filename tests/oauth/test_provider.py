"""OAuthProvider: the presets' real endpoints and scopes, https required except on loopback."""

from __future__ import annotations

import pytest

import nb_email_conn as nec

CLIENT = "00000000-0000-0000-0000-0000000000aa"


def test_microsoft_preset_uses_the_identity_platform_v2_with_imap_and_smtp_scopes() -> None:
    ms = nec.OAuthProvider.microsoft(CLIENT, tenant="organizations")
    base = "https://login.microsoftonline.com/organizations/oauth2/v2.0/"
    assert ms.token_endpoint == base + "token"
    assert ms.device_authorization_endpoint == base + "devicecode"
    assert ms.authorization_endpoint == base + "authorize"
    assert ms.scopes == (
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "offline_access",
    )
    assert ms.default_method == "device" and ms.client_secret is None
    assert nec.OAuthProvider.microsoft(CLIENT).token_endpoint.startswith("https://login.microsoftonline.com/common/")


def test_google_preset_uses_the_mail_scope_and_the_browser_by_default() -> None:
    google = nec.OAuthProvider.google("x.apps.googleusercontent.com", "shh")
    assert google.scopes == ("https://mail.google.com/",)
    assert google.token_endpoint == "https://oauth2.googleapis.com/token"
    assert google.authorization_endpoint == "https://accounts.google.com/o/oauth2/v2/auth"
    assert google.revocation_endpoint == "https://oauth2.googleapis.com/revoke"
    assert google.default_method == "browser"  # Google's device flow does not allow the mail scope
    assert dict(google.authorization_params)["access_type"] == "offline"
    assert "shh" not in repr(google) and "shh" not in str(google.to_dict())
    assert google.client_secret is not None and google.client_secret.reveal() == "shh"


@pytest.mark.parametrize(
    "url",
    [
        "http://login.example.org/token",  # tokens in clear
        "ftp://login.example.org/token",
        "login.example.org/token",
        "https://user:pw@login.example.org/token",
        "https://login.example.org/tok\r\nen",
        "",
    ],
)
def test_endpoints_must_be_https(url: str) -> None:
    with pytest.raises(nec.InvalidInputError) as info:
        nec.OAuthProvider("custom", client_id="c", scopes=["mail"], token_endpoint=url, authorization_endpoint=url)
    assert info.value.field == "token_endpoint"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.5.6.7"])
def test_plain_http_is_allowed_on_loopback_only(host: str) -> None:
    provider = nec.OAuthProvider(
        "local", client_id="c", scopes="imap smtp", token_endpoint=f"http://{host}:8080/token",
        device_authorization_endpoint=f"http://{host}:8080/device",
    )  # fmt: skip
    assert provider.scopes == ("imap", "smtp") and provider.default_method == "device"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"client_id": ""}, "client_id"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["a b"]}, "scopes"),
        ({"device_authorization_endpoint": None, "authorization_endpoint": None}, "authorization_endpoint"),
        ({"redirect_uri": "https://app.example.org/callback"}, "redirect_uri"),
        ({"default_method": "password"}, "default_method"),
    ],
)
def test_invalid_provider_settings_name_the_field(options: dict[str, object], field: str) -> None:
    settings: dict[str, object] = {
        "client_id": "c", "scopes": ["mail"], "token_endpoint": "https://id.example.org/token",
        "device_authorization_endpoint": "https://id.example.org/device",
    }  # fmt: skip
    settings.update(options)
    with pytest.raises(nec.InvalidInputError) as info:
        nec.OAuthProvider("custom", **settings)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_bad_tenant_is_refused() -> None:
    with pytest.raises(nec.InvalidInputError) as info:
        nec.OAuthProvider.microsoft(CLIENT, tenant="../evil")
    assert info.value.field == "tenant"


def test_round_trip_through_a_dict() -> None:
    ms = nec.OAuthProvider.microsoft(CLIENT)
    assert nec.OAuthProvider.from_dict(ms.to_dict()) == ms
    with pytest.raises(nec.InvalidInputError, match="unknown oauth settings: colour"):
        nec.OAuthProvider.from_dict({**ms.to_dict(), "colour": "blue"})
