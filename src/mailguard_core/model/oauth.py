"""OAuth2 sign-in, the pure part: provider presets, endpoints and secret-store entry names.

An account that signs in with OAuth2 (``auth = "oauth2"`` in ``[accounts.imap]`` and/or
``[accounts.smtp]``) has an ``[accounts.oauth]`` table naming a provider. A preset carries what
the provider needs (endpoints, the scopes that grant IMAP/SMTP access *and* a refresh token,
the IMAP and SMTP servers); ``"custom"`` takes them from the configuration.

Secrets of an OAuth account live in the secret store next to passwords:

- the refresh token: entry ``ACCOUNT:oauth`` (environment ``MAILGUARD_<ACCOUNT>_REFRESH_TOKEN``);
- a client secret, for providers that insist on one for installed apps (Google):
  entry ``ACCOUNT:oauth-client`` (environment ``MAILGUARD_<ACCOUNT>_CLIENT_SECRET``).

Account names cannot contain ``:``, so these entries never collide with an account's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

__all__ = [
    "CLIENT_SECRET_SUFFIX",
    "PRESETS",
    "REFRESH_TOKEN_SUFFIX",
    "Endpoints",
    "Preset",
    "client_secret_entry",
    "oauth_mechanism",
    "refresh_token_entry",
    "token_refused",
]

#: suffix of the secret-store entry holding an account's refresh token
REFRESH_TOKEN_SUFFIX = ":oauth"
#: suffix of the secret-store entry holding an account's OAuth client secret
CLIENT_SECRET_SUFFIX = ":oauth-client"


def refresh_token_entry(account: str) -> str:
    """The secret-store entry of ``account``'s refresh token (``ACCOUNT:oauth``)."""
    return account + REFRESH_TOKEN_SUFFIX


def client_secret_entry(account: str) -> str:
    """The secret-store entry of ``account``'s OAuth client secret (``ACCOUNT:oauth-client``)."""
    return account + CLIENT_SECRET_SUFFIX


def oauth_mechanism(offered: Iterable[str]) -> str | None:
    """The SASL mechanism for a bearer token among the mechanisms a server offers (IMAP's
    ``AUTH=`` capabilities, the words of SMTP's ``AUTH`` extension; any case):
    ``OAUTHBEARER`` (RFC 7628) where offered, else ``XOAUTH2``, else None."""
    names = {o.upper() for o in offered}
    for mechanism in ("OAUTHBEARER", "XOAUTH2"):
        if mechanism in names:
            return mechanism
    return None


def token_refused(account: str, server: str) -> str:
    """The public message when a server refuses even a freshly obtained access token."""
    return (
        f"the {server} server refused a fresh OAuth2 token of account {account!r} (wrong "
        "username, missing scope, or the mailbox does not allow OAuth sign-in); check the "
        f"username, then run `mailguard-mcp login {account}`"
    )


@attrs.frozen(kw_only=True)
class Endpoints:
    """Where one account's OAuth flows go, resolved from a preset or the configuration."""

    authorization_url: str
    token_url: str
    #: RFC 8628 device authorization endpoint; None: the provider offers no device grant
    #: for mail scopes
    device_authorization_url: str | None
    scopes: tuple[str, ...]
    #: extra query parameters of the authorization request (Google: offline access)
    authorization_params: Mapping[str, str] = attrs.field(factory=dict)
    #: host of the loopback redirect URI (RFC 8252 7.3) the provider's registration expects
    loopback_host: str = "127.0.0.1"
    #: send ``scope`` with refresh requests (Microsoft requires it; RFC 6749 6 allows it)
    refresh_with_scope: bool = True


@attrs.frozen(kw_only=True)
class ServerPreset:
    host: str
    port: int
    tls: str


@attrs.frozen(kw_only=True)
class Preset:
    """A provider's endpoints (``{tenant}`` is filled in for Microsoft) and mail servers."""

    authorization_url: str
    token_url: str
    device_authorization_url: str | None
    scopes: tuple[str, ...]
    imap: ServerPreset
    smtp: ServerPreset
    authorization_params: Mapping[str, str] = attrs.field(factory=dict)
    loopback_host: str = "127.0.0.1"
    refresh_with_scope: bool = True
    #: whether the ``tenant`` key applies
    has_tenant: bool = False

    def endpoints(self, tenant: str) -> Endpoints:
        return Endpoints(
            authorization_url=self.authorization_url.format(tenant=tenant),
            token_url=self.token_url.format(tenant=tenant),
            device_authorization_url=(
                self.device_authorization_url.format(tenant=tenant)
                if self.device_authorization_url
                else None
            ),
            scopes=self.scopes,
            authorization_params=self.authorization_params,
            loopback_host=self.loopback_host,
            refresh_with_scope=self.refresh_with_scope,
        )


_MS = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0"

#: the built-in providers
PRESETS: Mapping[str, Preset] = {
    # Microsoft identity platform v2 (Entra ID work/school accounts and, with tenant
    # "common" or "consumers", Outlook.com). offline_access is what yields a refresh token.
    "microsoft": Preset(
        authorization_url=f"{_MS}/authorize",
        token_url=f"{_MS}/token",
        device_authorization_url=f"{_MS}/devicecode",
        scopes=(
            "https://outlook.office.com/IMAP.AccessAsUser.All",
            "https://outlook.office.com/SMTP.Send",
            "offline_access",
        ),
        imap=ServerPreset(host="outlook.office365.com", port=993, tls="implicit"),
        smtp=ServerPreset(host="smtp.office365.com", port=587, tls="starttls"),
        # Entra ID registers public-client loopback redirects as http://localhost (any port)
        loopback_host="localhost",
        has_tenant=True,
    ),
    # Google: the full-mail scope is the only one IMAP/SMTP accept; a refresh token comes
    # with access_type=offline (prompt=consent makes Google issue one on every sign-in).
    # Google's device grant does not allow the mail scope, hence no device endpoint.
    "google": Preset(
        authorization_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        device_authorization_url=None,
        scopes=("https://mail.google.com/",),
        imap=ServerPreset(host="imap.gmail.com", port=993, tls="implicit"),
        smtp=ServerPreset(host="smtp.gmail.com", port=465, tls="implicit"),
        authorization_params={"access_type": "offline", "prompt": "consent"},
        # Google's documented refresh request has no scope (the grant's scope applies)
        refresh_with_scope=False,
    ),
}
