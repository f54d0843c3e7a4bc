"""``[accounts.imap]``, ``[accounts.smtp]``, ``[accounts.oauth]``: the mail servers and how to
sign in."""

from __future__ import annotations

from typing import Literal

import attrs

from mailguard_core.model.errors import ConfigError
from mailguard_core.model.oauth import PRESETS, Endpoints

TlsMode = Literal["implicit", "starttls"]
#: how mailguard signs in to a server: a stored password, or an OAuth2 bearer token
AuthMode = Literal["password", "oauth2"]
ProviderName = Literal["microsoft", "google", "custom"]
#: the Microsoft tenant when ``[accounts.oauth] tenant`` is not set (work, school and
#: personal accounts)
DEFAULT_TENANT = "common"


@attrs.frozen(kw_only=True)
class ImapSettings:
    host: str
    username: str
    port: int = 993
    tls: TlsMode = "implicit"
    #: SHA-256 of the server's leaf certificate; after loading: 64 lowercase hex digits
    #: without separators (the file may use upper case and ':' separators)
    pin_sha256: str | None = None
    #: extra CA file to trust (PEM), for self-hosted servers
    ca_file: str | None = None
    connect_timeout: float = 10.0
    command_timeout: float = 30.0
    auth: AuthMode = "password"


@attrs.frozen(kw_only=True)
class SmtpSettings:
    host: str
    username: str
    port: int = 465
    tls: TlsMode = "implicit"
    #: as ``ImapSettings.pin_sha256``: with it, only that certificate is accepted
    pin_sha256: str | None = None
    ca_file: str | None = None
    timeout: float = 30.0
    auth: AuthMode = "password"


@attrs.frozen(kw_only=True)
class OAuthSettings:
    """``[accounts.oauth]``: the OAuth2 provider and the user's own app registration."""

    provider: ProviderName
    client_id: str
    #: Microsoft only: the directory (tenant) id or "common" / "organizations" / "consumers"
    tenant: str | None = None
    #: custom only (the presets carry their own)
    authorization_url: str | None = None
    token_url: str | None = None
    device_authorization_url: str | None = None
    scopes: tuple[str, ...] = ()


def normalize_pin(pin: str) -> str:
    """``pin`` as 64 lowercase hex digits; ':' separators are dropped.

    Raises:
        ConfigError: not a SHA-256 fingerprint.
    """
    digits = pin.replace(":", "").lower()
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise ConfigError(
            "bad certificate pin", public="must be a SHA-256 fingerprint: 64 hex digits"
        )
    return digits


def oauth_endpoints(oauth: OAuthSettings) -> Endpoints:
    """The endpoints and scopes of ``oauth``: the provider's preset, or the custom keys.

    Raises:
        ConfigError: a custom provider without its URLs or scopes (validation refuses it).
    """
    preset = PRESETS.get(oauth.provider)
    if preset is not None:
        return preset.endpoints(oauth.tenant or DEFAULT_TENANT)
    if not (oauth.authorization_url and oauth.token_url and oauth.scopes):
        raise ConfigError(
            "custom OAuth provider without URLs or scopes",
            public="provider 'custom' needs authorization_url, token_url and scopes",
        )
    return Endpoints(
        authorization_url=oauth.authorization_url,
        token_url=oauth.token_url,
        device_authorization_url=oauth.device_authorization_url,
        scopes=oauth.scopes,
    )
