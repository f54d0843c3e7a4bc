"""``[accounts.imap]``, ``[accounts.smtp]``, ``[accounts.oauth]``: the mail servers and how to
sign in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import attrs

from mailguard_core.model.checks import (
    Problem,
    expand,
    fail,
    host,
    not_empty,
    optional,
    port,
    positive,
    raise_problems,
    token_text,
    url,
)
from mailguard_core.model.errors import ConfigError
from mailguard_core.model.oauth import PRESETS, Endpoints

TlsMode = Literal["implicit", "starttls"]
#: how mailguard signs in to a server: a stored password, or an OAuth2 bearer token
AuthMode = Literal["password", "oauth2"]
ProviderName = Literal["microsoft", "google", "custom"]
#: the Microsoft tenant when ``[accounts.oauth] tenant`` is not set (work, school and
#: personal accounts)
DEFAULT_TENANT = "common"


def _sasl_username(settings: ImapSettings | SmtpSettings) -> None:
    """With OAuth2 the username goes into a SASL message whose fields are separated by
    control characters (XOAUTH2 has no escaping): none may be in it."""
    if settings.auth == "oauth2" and any(not c.isprintable() for c in settings.username):
        raise_problems([("username", "must not contain control characters (OAuth2 sign-in)")])


def _pin(pin: str | None) -> str | None:
    """See :func:`normalize_pin` (defined below, called at run time)."""
    return None if pin is None else normalize_pin(pin)


@attrs.frozen(kw_only=True)
class ImapSettings:
    host: str = attrs.field(validator=host)
    username: str = attrs.field(validator=not_empty)
    port: int = attrs.field(default=993, validator=port)
    tls: TlsMode = "implicit"
    connect_timeout: float = attrs.field(default=10.0, validator=positive)
    command_timeout: float = attrs.field(default=30.0, validator=positive)
    #: SHA-256 of the server's leaf certificate; after loading: 64 lowercase hex digits
    #: without separators (the file may use upper case and ':' separators)
    pin_sha256: str | None = attrs.field(default=None, converter=_pin)
    #: extra CA file to trust (PEM), for self-hosted servers
    ca_file: str | None = attrs.field(default=None, converter=expand)
    auth: AuthMode = "password"

    def __attrs_post_init__(self) -> None:
        _sasl_username(self)


@attrs.frozen(kw_only=True)
class SmtpSettings:
    host: str = attrs.field(validator=host)
    username: str = attrs.field(validator=not_empty)
    port: int = attrs.field(default=465, validator=port)
    tls: TlsMode = "implicit"
    ca_file: str | None = attrs.field(default=None, converter=expand)
    timeout: float = attrs.field(default=30.0, validator=positive)
    #: as ``ImapSettings.pin_sha256``: with it, only that certificate is accepted
    pin_sha256: str | None = attrs.field(default=None, converter=_pin)
    auth: AuthMode = "password"

    def __attrs_post_init__(self) -> None:
        _sasl_username(self)


def _tenant(_instance: object, _attribute: object, tenant: str | None) -> None:
    if tenant is not None and (
        not tenant or any(not (c.isascii() and (c.isalnum() or c in "-.")) for c in tenant)
    ):
        raise fail("must be a tenant id or domain (letters, digits, - .)")


def _scopes(_instance: object, _attribute: object, scopes: tuple[str, ...]) -> None:
    problems = []
    for index, scope in enumerate(scopes):
        try:
            token_text("scope")(None, None, scope)
        except ConfigError as exc:
            problems.append((f"[{index}]", exc.public_message))
    raise_problems(problems)


#: the keys only a custom provider sets (the presets carry their own)
_CUSTOM_KEYS = ("authorization_url", "token_url", "device_authorization_url", "scopes")


@attrs.frozen(kw_only=True)
class OAuthSettings:
    """``[accounts.oauth]``: the OAuth2 provider and the user's own app registration."""

    provider: ProviderName
    client_id: str = attrs.field(validator=token_text("client id"))
    #: Microsoft only: the directory (tenant) id or "common" / "organizations" / "consumers"
    tenant: str | None = attrs.field(default=None, validator=_tenant)
    #: custom only (the presets carry their own)
    authorization_url: str | None = attrs.field(default=None, validator=optional(url))
    token_url: str | None = attrs.field(default=None, validator=optional(url))
    device_authorization_url: str | None = attrs.field(default=None, validator=optional(url))
    scopes: tuple[str, ...] = attrs.field(default=(), validator=_scopes)

    def __attrs_post_init__(self) -> None:
        raise_problems(self._provider_problems())

    def _provider_problems(self) -> Iterator[Problem]:
        preset = PRESETS.get(self.provider)
        if self.tenant is not None and (preset is None or not preset.has_tenant):
            yield "tenant", "only for provider 'microsoft'"
        if preset is not None:
            for key in _CUSTOM_KEYS:
                if getattr(self, key):
                    yield key, "only for provider 'custom' (the preset sets it)"
            return
        for key in ("authorization_url", "token_url"):
            if getattr(self, key) is None:
                yield key, "required with provider 'custom'"
        if not self.scopes:
            yield "scopes", "required with provider 'custom' (at least one scope)"


def normalize_pin(pin: str) -> str:
    """``pin`` as 64 lowercase hex digits; ':' separators and surrounding white space are
    dropped. The one rule for a certificate pin: the configuration, the adapters' pin check and
    ``init --pin`` all use it.

    Raises:
        ConfigError: not a SHA-256 fingerprint.
    """
    digits = pin.replace(":", "").strip().lower()
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
